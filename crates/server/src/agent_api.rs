//! What agents say to the server (`tandem agent`; see docs/agents.md). Two credentials, each a
//! kind of its own, neither of which opens any other route:
//!
//! - the **agent token** (`tagent_…`), to ask for a job (`POST /api/v1/agent/claim`, held open
//!   up to 25 s until one comes);
//! - the **job token** (`tjob_…`), handed with a job to the agent that took it, for the reports
//!   on that job alone: its source, lease beats, live log, steps, cache, artifacts and end. It
//!   dies with the job's claim: an agent whose job was given to another (its lease ran out)
//!   is answered 409 and gives up.
//!
//! Uploads (log, artifacts, cache) are streamed to a file, bounded by the server's limits, and
//! their sha256 must be the one the agent announces in `x-tandem-sha256`.

use crate::AppState;
use crate::error::{ApiError, ApiResult, JsonBody, PathParam, QueryParams};
use axum::Json;
use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use futures_util::StreamExt;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::path::PathBuf;
use std::time::Duration;
use tandem_engine::dispatch::{BeatAnswer, ClaimAnswer, ClaimRequest, EndReport, StepReport};
use tandem_store::agents::{AgentRow, ClaimedJob};
use tokio::io::AsyncWriteExt;

/// The longest a claim is held open waiting for a job.
const LONGEST_WAIT: Duration = Duration::from_secs(25);
/// How often a waiting claim looks again without being woken.
const LOOK_EVERY: Duration = Duration::from_secs(1);
/// The most labels an agent may announce.
const MAX_LABELS: usize = 64;
/// The largest piece of live log taken at once.
const MAX_LOG_PIECE: u64 = 4 << 20;
/// The header carrying an upload's sha256 (hex).
pub const SHA256_HEADER: &str = "x-tandem-sha256";

/// The agents' routes. Uploads (log pieces, cache, artifacts, ends) bound their bodies
/// themselves, by the server's limits; the others keep axum's default limit (2 MiB).
pub fn router() -> Router<AppState> {
    let own_limit = DefaultBodyLimit::disable;
    Router::new()
        .route("/api/v1/agent/claim", post(claim))
        .route("/api/v1/agent/jobs/{id}/source", get(source))
        .route("/api/v1/agent/jobs/{id}/beat", post(beat))
        .route("/api/v1/agent/jobs/{id}/log", post(log_piece).layer(own_limit()))
        .route("/api/v1/agent/jobs/{id}/steps/{step}", post(step))
        .route(
            "/api/v1/agent/jobs/{id}/cache/{key}",
            get(cache_get).put(cache_put).layer(own_limit()),
        )
        .route("/api/v1/agent/jobs/{id}/artifacts", put(artifact).layer(own_limit()))
        .route("/api/v1/agent/jobs/{id}/end", post(end).layer(own_limit()))
        .route("/api/v1/agent/tasks/{id}/artifacts/{name}", get(task_artifact))
        .route("/api/v1/agent/tasks/{id}/beat", post(task_beat))
        .route("/api/v1/agent/tasks/{id}/end", post(task_end).layer(own_limit()))
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
}

/// The agent whose token the request presents (401 otherwise).
async fn agent_caller(state: &AppState, headers: &HeaderMap) -> ApiResult<AgentRow> {
    let token = bearer(headers).ok_or_else(ApiError::unauthorized)?;
    let agent = state
        .engine
        .find_agent(token)
        .await?
        .ok_or_else(ApiError::unauthorized)?;
    tandem_store::audit::identify_as(&format!("agent {}", agent.name), &format!("agent/{}", agent.name));
    Ok(agent)
}

/// The job whose token the request presents, if its claim still holds (401 without a token,
/// 409 when the claim is gone).
async fn job_caller(state: &AppState, headers: &HeaderMap, id: i64) -> ApiResult<(ClaimedJob, String)> {
    let token = bearer(headers).ok_or_else(ApiError::unauthorized)?.to_string();
    let job = state.engine.find_claimed_job(id, &token).await?.ok_or_else(|| {
        claim_gone(format!(
            "job {id} is not yours to report on (it ended, or was given to another agent): drop it"
        ))
    })?;
    tandem_store::audit::identify_as(
        &format!("agent {}", job.agent.as_deref().unwrap_or("?")),
        &format!("job/{id}"),
    );
    Ok((job, token))
}

/// `POST /api/v1/agent/claim`: a job the agent's labels match, or none within `wait_ms`.
async fn claim(
    State(state): State<AppState>,
    headers: HeaderMap,
    JsonBody(request): JsonBody<ClaimRequest>,
) -> ApiResult<Json<ClaimAnswer>> {
    let agent = agent_caller(&state, &headers).await?;
    if request.labels.len() > MAX_LABELS {
        return Err(ApiError::bad_request(format!(
            "`labels`: {} labels, at most {MAX_LABELS}",
            request.labels.len()
        )));
    }
    if let Some(bad) = request.labels.iter().find(|l| !tandem_core::pipeline::is_label(l)) {
        return Err(ApiError::bad_request(format!(
            "`labels`: `{bad}` is not valid: expected 1 to 64 letters, digits or `-_.=/:`"
        )));
    }
    if request.capacity == 0 || request.capacity > 1024 || request.version.len() > 64 || request.host.len() > 255 {
        return Err(ApiError::bad_request(
            "`capacity` must be 1 to 1024, `version` at most 64 characters, `host` at most 255",
        ));
    }
    let engine = &state.engine;
    engine.agent_seen(&agent, &request).await?;
    let deadline = tokio::time::Instant::now() + Duration::from_millis(request.wait_ms).min(LONGEST_WAIT);
    // Woken by what may bring work or change the agent, not by each market a rollout deploys.
    let mut changes = engine.subscribe_wide();
    let token = bearer(&headers).unwrap_or_default().to_string();
    loop {
        // Read again each time: an operator may have paused, drained or revoked it meanwhile.
        let Some(agent) = engine.find_agent(&token).await? else {
            return Err(ApiError::unauthorized());
        };
        // A job of its was lost meanwhile (it stopped answering): this request may be one it
        // left waiting when it froze, so it gets no job; its next request counts again.
        if agent.seen_at.is_none() {
            return Ok(Json(ClaimAnswer {
                job: None,
                task: None,
                mode: agent.mode,
            }));
        }
        if agent.mode != "active" {
            return Ok(Json(ClaimAnswer {
                job: None,
                task: None,
                mode: agent.mode,
            }));
        }
        // A market waiting for its deploy goes before any job.
        if let Some(task) = engine.claim_task_for_agent(&agent, &request).await? {
            return Ok(Json(ClaimAnswer {
                job: None,
                task: Some(task),
                mode: agent.mode,
            }));
        }
        if let Some(job) = engine.claim_for_agent(&agent, &request).await? {
            return Ok(Json(ClaimAnswer {
                job: Some(job),
                task: None,
                mode: agent.mode,
            }));
        }
        if tokio::time::Instant::now() >= deadline {
            return Ok(Json(ClaimAnswer {
                job: None,
                task: None,
                mode: agent.mode,
            }));
        }
        tokio::select! {
            _ = changes.changed() => {}
            _ = tokio::time::sleep(LOOK_EVERY) => {}
            _ = tokio::time::sleep_until(deadline) => {}
            _ = state.shutdown.cancelled() => return Ok(Json(ClaimAnswer { job: None, task: None, mode: agent.mode })),
        }
    }
}

/// `GET …/source`: a tar archive of the tree of the job's commit.
async fn source(
    State(state): State<AppState>,
    headers: HeaderMap,
    PathParam(id): PathParam<i64>,
) -> ApiResult<Response> {
    let (job, _) = job_caller(&state, &headers, id).await?;
    tar_file(&state.engine.agent_source(&job).await?).await
}

/// `POST …/beat`: the agent still runs the job; the answer says whether to stop it.
async fn beat(
    State(state): State<AppState>,
    headers: HeaderMap,
    PathParam(id): PathParam<i64>,
) -> ApiResult<Json<BeatAnswer>> {
    let (_, token) = job_caller(&state, &headers, id).await?;
    match state.engine.renew_job_lease(id, &token).await? {
        Some(cancel) => Ok(Json(BeatAnswer { cancel })),
        None => Err(claim_gone(format!("job {id} moved on"))),
    }
}

#[derive(Debug, Deserialize)]
struct LogQuery {
    offset: u64,
}

/// `POST …/log?offset=N`: a piece of the live log (its body), at offset N.
async fn log_piece(
    State(state): State<AppState>,
    headers: HeaderMap,
    PathParam(id): PathParam<i64>,
    QueryParams(query): QueryParams<LogQuery>,
    body: Body,
) -> ApiResult<StatusCode> {
    job_caller(&state, &headers, id).await?;
    let bytes = read_bounded(body, MAX_LOG_PIECE).await?;
    let limit = state.engine.settings.max_log_bytes + MAX_LOG_PIECE;
    if query.offset.saturating_add(bytes.len() as u64) > limit {
        return Err(too_large(format!("the log passes its limit of {limit} bytes")));
    }
    state.engine.agent_log_piece(id, query.offset, &bytes).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST …/steps/{step}`: a step's new state (by the step's id).
async fn step(
    State(state): State<AppState>,
    headers: HeaderMap,
    PathParam((id, step)): PathParam<(i64, i64)>,
    JsonBody(report): JsonBody<StepReport>,
) -> ApiResult<Json<BeatAnswer>> {
    let (_, token) = job_caller(&state, &headers, id).await?;
    state.engine.agent_step(id, step, &report).await?;
    let cancel = state.engine.renew_job_lease(id, &token).await?.unwrap_or(false);
    Ok(Json(BeatAnswer { cancel }))
}

/// `GET …/cache/{key}`: the job's cache archive for `key`, or 404.
async fn cache_get(
    State(state): State<AppState>,
    headers: HeaderMap,
    PathParam((id, key)): PathParam<(i64, String)>,
) -> ApiResult<Response> {
    let (job, _) = job_caller(&state, &headers, id).await?;
    check_key(&key)?;
    let Some(path) = state.engine.agent_cache(&job, &key).await? else {
        return Err(ApiError::not_found(format!("no cache for key {key}")));
    };
    tar_file(&path).await
}

/// A tar archive on disk as a response, streamed.
async fn tar_file(path: &std::path::Path) -> ApiResult<Response> {
    file_body(path, "application/x-tar").await
}

/// A file on disk as a response of `content_type`, streamed.
async fn file_body(path: &std::path::Path, content_type: &'static str) -> ApiResult<Response> {
    let file = tokio::fs::File::open(path).await.map_err(ApiError::internal)?;
    let body = Body::from_stream(tokio_util::io::ReaderStream::new(file));
    Ok(([(header::CONTENT_TYPE, content_type)], body).into_response())
}

/// `PUT …/cache/{key}`: keeps the body (a tar archive) as the job's cache for `key`.
async fn cache_put(
    State(state): State<AppState>,
    headers: HeaderMap,
    PathParam((id, key)): PathParam<(i64, String)>,
    body: Body,
) -> ApiResult<StatusCode> {
    let (job, _) = job_caller(&state, &headers, id).await?;
    check_key(&key)?;
    let upload = Upload::receive(&state, &headers, body, state.engine.settings.max_artifact_bytes).await?;
    let kept = state.engine.agent_keep_cache(&job, &key, &upload.path).await;
    upload.discard().await;
    kept?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize)]
struct ArtifactQuery {
    path: String,
}

/// `PUT …/artifacts?path=REL`: keeps the body as the job's artifact `REL`.
async fn artifact(
    State(state): State<AppState>,
    headers: HeaderMap,
    PathParam(id): PathParam<i64>,
    QueryParams(query): QueryParams<ArtifactQuery>,
    body: Body,
) -> ApiResult<(StatusCode, Json<serde_json::Value>)> {
    let (job, _) = job_caller(&state, &headers, id).await?;
    let rel = query.path;
    let safe = !rel.is_empty()
        && rel.len() <= 1024
        && !rel.starts_with('/')
        && !rel.contains('\0')
        && std::path::Path::new(&rel)
            .components()
            .all(|c| matches!(c, std::path::Component::Normal(_)));
    if !safe {
        return Err(ApiError::bad_request(format!(
            "`path` `{rel}` is not a relative path inside the workspace"
        )));
    }
    let upload = Upload::receive(&state, &headers, body, state.engine.settings.max_artifact_bytes).await?;
    let kept = state.engine.agent_artifact(&job, &rel, &upload.path).await;
    upload.discard().await;
    let (digest, size) = kept?;
    Ok((
        StatusCode::CREATED,
        Json(serde_json::json!({ "path": rel, "sha256": digest, "size": size })),
    ))
}

#[derive(Debug, Deserialize)]
struct EndQuery {
    passed: bool,
    exit_code: Option<i64>,
    #[serde(default)]
    cancelled: bool,
}

/// `POST …/end?passed=…&exit_code=…`: the job ended; the body is its whole log.
async fn end(
    State(state): State<AppState>,
    headers: HeaderMap,
    PathParam(id): PathParam<i64>,
    QueryParams(query): QueryParams<EndQuery>,
    body: Body,
) -> ApiResult<StatusCode> {
    let (job, token) = job_caller(&state, &headers, id).await?;
    let limit = state.engine.settings.max_log_bytes + MAX_LOG_PIECE;
    let upload = Upload::receive(&state, &headers, body, limit).await?;
    let report = EndReport {
        passed: query.passed,
        exit_code: query.exit_code,
        cancelled: query.cancelled,
    };
    let ended = state.engine.agent_end(&job, &token, &report, &upload.path).await;
    upload.discard().await;
    match ended? {
        true => Ok(StatusCode::NO_CONTENT),
        false => Err(claim_gone(format!("job {id} moved on"))),
    }
}

/// The task whose token the request presents, if its claim still holds.
async fn task_caller(
    state: &AppState,
    headers: &HeaderMap,
    id: i64,
) -> ApiResult<(tandem_store::agents::TaskRow, String)> {
    let token = bearer(headers).ok_or_else(ApiError::unauthorized)?.to_string();
    let task = state.engine.find_claimed_task(id, &token).await?.ok_or_else(|| {
        claim_gone(format!(
            "task {id} is not yours to report on (it ended, or its lease ran out): drop it"
        ))
    })?;
    tandem_store::audit::identify_as("agent", &format!("task/{id}"));
    Ok((task, token))
}

/// `GET /api/v1/agent/tasks/{id}/artifacts/{name}`: an artifact of the release being deployed.
async fn task_artifact(
    State(state): State<AppState>,
    headers: HeaderMap,
    PathParam((id, name)): PathParam<(i64, String)>,
) -> ApiResult<Response> {
    let (task, _) = task_caller(&state, &headers, id).await?;
    file_body(
        &state.engine.task_artifact(&task, &name).await?,
        "application/octet-stream",
    )
    .await
}

/// `POST /api/v1/agent/tasks/{id}/beat`: the agent still runs the deploy.
async fn task_beat(
    State(state): State<AppState>,
    headers: HeaderMap,
    PathParam(id): PathParam<i64>,
) -> ApiResult<Json<BeatAnswer>> {
    let (_, token) = task_caller(&state, &headers, id).await?;
    match state.engine.renew_task_lease(id, &token).await? {
        true => Ok(Json(BeatAnswer { cancel: false })),
        false => Err(claim_gone(format!("task {id} moved on"))),
    }
}

/// `POST /api/v1/agent/tasks/{id}/end?passed=…&exit_code=…`: the deploy ended; the body is its log.
async fn task_end(
    State(state): State<AppState>,
    headers: HeaderMap,
    PathParam(id): PathParam<i64>,
    QueryParams(query): QueryParams<EndQuery>,
    body: Body,
) -> ApiResult<StatusCode> {
    let (_, token) = task_caller(&state, &headers, id).await?;
    let bytes = read_bounded(body, MAX_LOG_PIECE).await?;
    let report = EndReport {
        passed: query.passed,
        exit_code: query.exit_code,
        cancelled: query.cancelled,
    };
    match state
        .engine
        .task_end(id, &token, &report, &String::from_utf8_lossy(&bytes))
        .await?
    {
        true => Ok(StatusCode::NO_CONTENT),
        false => Err(claim_gone(format!("task {id} moved on"))),
    }
}

/// A cache key: 64 hex digits.
fn check_key(key: &str) -> ApiResult<()> {
    match key.len() == 64 && key.bytes().all(|b| b.is_ascii_hexdigit()) {
        true => Ok(()),
        false => Err(ApiError::bad_request("the cache key is not 64 hex digits")),
    }
}

/// 409 `claim_gone`: the job or task is no longer the caller's to report on.
fn claim_gone(message: String) -> ApiError {
    ApiError::new(StatusCode::CONFLICT, "claim_gone", message)
}

fn too_large(message: String) -> ApiError {
    ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "too_large", message)
}

/// Reads a small body whole, refusing it past `limit` bytes.
async fn read_bounded(body: Body, limit: u64) -> ApiResult<Vec<u8>> {
    let mut out = Vec::new();
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| ApiError::bad_request(format!("the body could not be read: {e}")))?;
        if out.len() as u64 + chunk.len() as u64 > limit {
            return Err(too_large(format!("the body is over {limit} bytes")));
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

/// A body streamed to a file of the server's work folder, its sha256 checked.
struct Upload {
    path: PathBuf,
}

impl Upload {
    async fn receive(state: &AppState, headers: &HeaderMap, body: Body, limit: u64) -> ApiResult<Self> {
        let announced = headers
            .get(SHA256_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_ascii_lowercase)
            .ok_or_else(|| {
                ApiError::bad_request(format!("the `{SHA256_HEADER}` header (the body's sha256) is missing"))
            })?;
        let path = state
            .engine
            .settings
            .work_dir
            .join(format!("upload-{}", tandem_engine::secrets::random_token("u")));
        let upload = Upload { path };
        match upload.write(body, limit, &announced).await {
            Ok(()) => Ok(upload),
            Err(e) => {
                upload.discard().await;
                Err(e)
            }
        }
    }

    async fn write(&self, body: Body, limit: u64, announced: &str) -> ApiResult<()> {
        let mut file = tokio::fs::File::create(&self.path).await.map_err(ApiError::internal)?;
        let mut hasher = Sha256::new();
        let mut size = 0u64;
        let mut stream = body.into_data_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| ApiError::bad_request(format!("the body could not be read: {e}")))?;
            size += chunk.len() as u64;
            if size > limit {
                return Err(too_large(format!("the upload is over the limit of {limit} bytes")));
            }
            hasher.update(&chunk);
            file.write_all(&chunk).await.map_err(ApiError::internal)?;
        }
        file.flush().await.map_err(ApiError::internal)?;
        let digest = hex::encode(hasher.finalize());
        if digest != announced {
            return Err(ApiError::bad_request(format!(
                "the upload's sha256 is {digest}, not the {announced} announced in `{SHA256_HEADER}`: it was damaged on the way"
            )));
        }
        Ok(())
    }

    async fn discard(self) {
        let _ = tokio::fs::remove_file(&self.path).await;
    }
}
