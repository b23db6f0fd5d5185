//! Push webhooks from GitHub, GitLab and Gitea at `/hooks/{provider}`. They carry no API
//! token: a request is authenticated by its service's webhook secret (an HMAC-SHA256 of the raw
//! body, or GitLab's token), compared in constant time before anything is acted on. The
//! service is the one named by `?service=`, else the one named after the payload's repository.
//! Every failure to authenticate (no such service, no secret, an unset secret, a bad
//! signature) gets the same 401 and body; only the server's log says which it was.
//!
//! A body already received for the service is a duplicate, whatever its delivery-id header
//! (which no signature covers); a commit already announced or built is not built again, so one
//! commit makes one run however many forges announce it. The engine builds a pushed commit only
//! when the service's branch, read in its repository, is at it or already holds it.

use crate::AppState;
use crate::error::{ApiError, ApiResult, QueryParams};
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use hmac::{Hmac, Mac};
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use tandem_core::platform::{Platform, Service};
use tandem_engine::triggers::PushOutcome;
use tandem_store::{Claim, NewDelivery};

/// The webhook routes: push hooks take no credential (their signature is checked); the
/// Alertmanager hook takes a bearer token.
pub fn router() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/hooks/github", post(github))
        .route("/hooks/gitlab", post(gitlab))
        .route("/hooks/gitea", post(gitea))
        .route("/hooks/alertmanager", post(crate::alertmanager::receive))
}

/// Where a push webhook comes from: each signs and labels its deliveries its own way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    /// GitHub: `X-Hub-Signature-256`, an HMAC-SHA256 of the body.
    GitHub,
    /// GitLab: `X-Gitlab-Token`, the secret itself.
    GitLab,
    /// Gitea: `X-Gitea-Signature`, an HMAC-SHA256 of the body.
    Gitea,
}

impl Provider {
    /// Its name in paths, logs and delivery records: `github`, `gitlab` or `gitea`.
    pub fn name(self) -> &'static str {
        match self {
            Provider::GitHub => "github",
            Provider::GitLab => "gitlab",
            Provider::Gitea => "gitea",
        }
    }

    fn signature_header(self) -> &'static str {
        match self {
            Provider::GitHub => "X-Hub-Signature-256",
            Provider::GitLab => "X-Gitlab-Token",
            Provider::Gitea => "X-Gitea-Signature",
        }
    }

    fn event_header(self) -> &'static str {
        match self {
            Provider::GitHub => "X-GitHub-Event",
            Provider::GitLab => "X-Gitlab-Event",
            Provider::Gitea => "X-Gitea-Event",
        }
    }

    fn delivery_header(self) -> &'static str {
        match self {
            Provider::GitHub => "X-GitHub-Delivery",
            Provider::GitLab => "X-Gitlab-Event-UUID",
            Provider::Gitea => "X-Gitea-Delivery",
        }
    }

    fn is_push(self, event: &str) -> bool {
        match self {
            Provider::GitLab => event == "Push Hook",
            Provider::GitHub | Provider::Gitea => event == "push",
        }
    }

    /// Checks the signature header's value against `secret` and the raw `body`, in constant
    /// time; the error says what is wrong with the header.
    pub fn verify(self, secret: &[u8], signature: &str, body: &[u8]) -> Result<(), String> {
        let header = self.signature_header();
        let hex_mac = match self {
            Provider::GitLab => {
                // Hashing both sides first keeps the comparison's time independent of lengths.
                let same = Sha256::digest(signature.as_bytes()).ct_eq(&Sha256::digest(secret));
                return if same.into() {
                    Ok(())
                } else {
                    Err(format!("`{header}` is not the service's webhook secret"))
                };
            }
            Provider::GitHub => signature
                .strip_prefix("sha256=")
                .ok_or_else(|| format!("`{header}` must be `sha256=` then the hex HMAC-SHA256 of the body"))?,
            Provider::Gitea => signature,
        };
        let expected = hex::decode(hex_mac.trim())
            .map_err(|_| format!("`{header}` is not hex: expected the HMAC-SHA256 of the body"))?;
        let mut mac = Hmac::<Sha256>::new_from_slice(secret).map_err(|e| format!("cannot key HMAC-SHA256: {e}"))?;
        mac.update(body);
        mac.verify_slice(&expected).map_err(|_| {
            format!("`{header}` does not match: the body was not signed with the service's webhook secret")
        })
    }
}

/// The query a push webhook's URL may carry.
#[derive(Debug, Deserialize)]
pub struct HookQuery {
    /// The service to build, when it is not named after the repository.
    pub service: Option<String>,
}

/// `POST /hooks/github`: a GitHub push, authenticated by its service's webhook secret (no
/// token); every authentication failure answers the same 401.
pub async fn github(
    State(state): State<AppState>,
    QueryParams(q): QueryParams<HookQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    receive(Provider::GitHub, &state, q, &headers, &body).await
}

/// `POST /hooks/gitlab`: a GitLab push, authenticated by its service's webhook secret (no
/// token); every authentication failure answers the same 401.
pub async fn gitlab(
    State(state): State<AppState>,
    QueryParams(q): QueryParams<HookQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    receive(Provider::GitLab, &state, q, &headers, &body).await
}

/// `POST /hooks/gitea`: a Gitea push, authenticated by its service's webhook secret (no
/// token); every authentication failure answers the same 401.
pub async fn gitea(
    State(state): State<AppState>,
    QueryParams(q): QueryParams<HookQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    receive(Provider::Gitea, &state, q, &headers, &body).await
}

/// What every caller that fails authentication is told, whatever the reason (no such service,
/// no webhook secret, the secret's variable unset, a wrong signature): the answer must not tell
/// an unauthenticated caller which services exist or how they are set up. The server's log
/// names the real reason for the operator.
const NOT_AUTHENTICATED: &str = "the delivery is not authenticated: its signature does not match the webhook secret \
     of the service it names; check the hook's URL (`?service=`) and secret, and the service's `webhook_secret` \
     (the server's log says which)";

async fn receive(
    provider: Provider,
    state: &AppState,
    q: HookQuery,
    headers: &HeaderMap,
    body: &[u8],
) -> ApiResult<Response> {
    let sig_header = provider.signature_header();
    let signature = header(headers, sig_header)
        .ok_or_else(|| unauthorized(format!("missing `{sig_header}` header: the delivery is not signed")))?;
    let payload: Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("the {} webhook body is not valid JSON: {e}", provider.name())))?;
    let platform = state.engine.load_platform().await?;
    let service = match authenticate(
        &state.engine,
        provider,
        &platform,
        q.service.as_deref(),
        &payload,
        signature,
        body,
    )
    .await?
    {
        Ok(service) => service,
        Err(reason) => {
            tracing::warn!(provider = provider.name(), reason = %reason, "webhook refused: not authenticated");
            return Err(unauthorized(NOT_AUTHENTICATED.to_string()));
        }
    };

    let event_header = provider.event_header();
    let event = header(headers, event_header)
        .ok_or_else(|| ApiError::bad_request(format!("missing `{event_header}` header: which event is this?")))?;
    if !provider.is_push(event) {
        return Ok(ignored(format!(
            "`{event_header}` is `{event}`, not a push: nothing to build"
        )));
    }
    let push = match parse_push(&payload, &service.branch)? {
        PushTarget::Build(push) => push,
        PushTarget::Ignore(reason) => return Ok(ignored(reason)),
    };

    // Known by what was signed (the body), never by the unsigned delivery-id header.
    let digest = hex::encode(Sha256::digest(body));
    let delivery_id = header(headers, provider.delivery_header()).filter(|id| !id.is_empty() && id.len() <= 200);
    let engine = &state.engine;
    let claim = engine
        .claim_delivery(NewDelivery {
            provider: provider.name(),
            delivery_id,
            service: &service.name,
            digest: &digest,
            branch: &push.branch,
            commit_sha: &push.commit,
        })
        .await?;
    let delivery = match claim {
        Claim::Claimed { id } => id,
        Claim::Replay(row) => {
            let what = match (row.outcome.as_str(), row.run_id, row.reason) {
                ("queued", Some(run), _) => format!("it queued run {run}"),
                (_, _, Some(reason)) => reason,
                _ => "it is being processed".to_string(),
            };
            return Ok(ignored_run(
                format!("this delivery is a duplicate: the same body was already received ({what})"),
                row.run_id,
            ));
        }
        Claim::AlreadyAnnounced { reason, run_id } => return Ok(ignored_run(reason, run_id)),
    };
    let outcome = match state.engine.trigger_push(&service.name, &push.commit).await {
        Ok(outcome) => outcome,
        Err(e) => {
            // The delivery keeps what its sender is told, and tells it again to a redelivery:
            // a refusal's own message, or for our own fault the generic one with the log's
            // reference. The whole error goes to the log (an internal one as it is answered).
            if !e.is_internal() {
                tracing::warn!(provider = provider.name(), service = %service.name, error = %format!("{e:#}"), "webhook push refused");
            }
            let answer = ApiError::from(e);
            engine.refuse_delivery(delivery, &answer.message).await?;
            return Err(answer);
        }
    };
    match outcome {
        PushOutcome::Queued(run) => {
            engine.set_delivery_run(delivery, run.id).await?;
            tracing::info!(provider = provider.name(), service = %service.name, run = run.id, "webhook queued a run");
            Ok((StatusCode::ACCEPTED, Json(json!({ "run": run.id }))).into_response())
        }
        PushOutcome::NotOnBranch(reason) => {
            engine.refuse_delivery(delivery, &reason).await?;
            tracing::warn!(provider = provider.name(), service = %service.name, reason = %reason, "webhook refused a push");
            Err(ApiError::new(StatusCode::CONFLICT, "not_on_branch", reason))
        }
        PushOutcome::CannotFetch(reason) => {
            engine.refuse_delivery(delivery, &reason).await?;
            tracing::warn!(provider = provider.name(), service = %service.name, reason = %reason, "webhook push not judged");
            Err(ApiError::new(StatusCode::CONFLICT, "cannot_fetch", reason))
        }
        PushOutcome::Unknown(reason) => {
            engine.refuse_delivery(delivery, &reason).await?;
            Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "unknown_commit",
                reason,
            ))
        }
    }
}

/// The service a delivery is for, once its signature is checked with that service's secret.
/// `Err` is a fault of ours (the platform cannot be read); `Ok(Err(reason))` is a caller who is
/// not authenticated, with the reason for the log only.
async fn authenticate<'p>(
    engine: &tandem_engine::Engine,
    provider: Provider,
    platform: &'p Platform,
    explicit: Option<&str>,
    payload: &Value,
    signature: &str,
    body: &[u8],
) -> ApiResult<Result<&'p Service, String>> {
    let service = match find_service(platform, provider, explicit, payload)? {
        Ok(service) => service,
        Err(reason) => {
            // The same work as a real check, so that the time of the answer tells nothing either.
            let _ = provider.verify(b"no such service", signature, body);
            return Ok(Err(reason));
        }
    };
    let Some(secret_name) = service.triggers.webhook_secret.as_deref() else {
        return Ok(Err(format!(
            "service `{}` takes no webhooks: give it `triggers: {{ webhook_secret: NAME }}` in the platform file",
            service.name
        )));
    };
    let used_by = tandem_engine::secrets::SecretUse::Webhook { service: &service.name };
    let secret = match engine.secret(secret_name, used_by).await {
        Ok(secret) => secret,
        Err(e) => return Ok(Err(format!("service `{}`: {e:#}", service.name))),
    };
    Ok(provider
        .verify(secret.as_bytes(), signature, body)
        .map(|()| service)
        .map_err(|e| format!("service `{}`: {e}", service.name)))
}

/// The service a delivery names: `?service=`, else the one named after the repository.
/// `Ok(Err(reason))` when no service is so named (told to the log, not to the caller).
fn find_service<'p>(
    platform: &'p Platform,
    provider: Provider,
    explicit: Option<&str>,
    payload: &Value,
) -> ApiResult<Result<&'p Service, String>> {
    if let Some(name) = explicit {
        return Ok(platform
            .service(name)
            .ok_or_else(|| format!("service `{name}` (from `?service=`) is not in the platform")));
    }
    let names = repository_names(provider, payload);
    let Some(first) = names.first() else {
        return Err(ApiError::bad_request(
            "the payload names no repository (`repository.name` is missing): add `?service=NAME` to the hook's URL",
        ));
    };
    Ok(names
        .iter()
        .find_map(|n| platform.service(n).or_else(|| platform.service(&n.to_lowercase())))
        .ok_or_else(|| {
            format!(
                "no service is named after repository `{first}`: name the service so, or add `?service=NAME` to the hook's URL"
            )
        }))
}

/// The repository's names in a payload, most specific first.
fn repository_names(provider: Provider, payload: &Value) -> Vec<&str> {
    let paths: &[&[&str]] = match provider {
        Provider::GitLab => &[&["project", "path"], &["repository", "name"], &["project", "name"]],
        Provider::GitHub | Provider::Gitea => &[&["repository", "name"]],
    };
    paths
        .iter()
        .filter_map(|path| {
            path.iter()
                .try_fold(payload, |v, key| v.get(key))
                .and_then(Value::as_str)
        })
        .collect()
}

/// A push to build: the branch and the commit it moved to.
#[derive(Debug, PartialEq, Eq)]
struct Push {
    branch: String,
    commit: String,
}

#[derive(Debug, PartialEq, Eq)]
enum PushTarget {
    Build(Push),
    Ignore(String),
}

/// Reads `ref` and `after` from a push payload, deciding whether `branch` has a commit to build.
fn parse_push(payload: &Value, branch: &str) -> ApiResult<PushTarget> {
    let field = |name: &str| {
        payload.get(name).and_then(Value::as_str).ok_or_else(|| {
            ApiError::bad_request(format!(
                "the push payload has no `{name}`: expected a string field `{name}`"
            ))
        })
    };
    let (reference, after) = (field("ref")?, field("after")?);
    let Some(pushed) = reference.strip_prefix("refs/heads/") else {
        return Ok(PushTarget::Ignore(format!(
            "`{reference}` is not a branch: only branch pushes are built"
        )));
    };
    if pushed != branch {
        return Ok(PushTarget::Ignore(format!(
            "push to branch `{pushed}`; this service builds `{branch}`"
        )));
    }
    if after.bytes().all(|b| b == b'0') {
        return Ok(PushTarget::Ignore(format!(
            "branch `{pushed}` was deleted: nothing to build"
        )));
    }
    // The commit goes to git's revision parser: only a plain object id may reach it.
    if !matches!(after.len(), 40 | 64) || !after.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ApiError::bad_request(format!(
            "`after` is `{after}`: expected a commit id (40 or 64 hex digits)"
        )));
    }
    Ok(PushTarget::Build(Push {
        branch: pushed.to_string(),
        commit: after.to_ascii_lowercase(),
    }))
}

fn header<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim)
}

fn unauthorized(message: String) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
}

fn ignored(reason: String) -> Response {
    (StatusCode::OK, Json(json!({ "ignored": reason }))).into_response()
}

/// An ignored delivery whose commit already has a run: the answer names it.
fn ignored_run(reason: String, run: Option<i64>) -> Response {
    match run {
        Some(run) => (StatusCode::OK, Json(json!({ "ignored": reason, "run": run }))).into_response(),
        None => ignored(reason),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const GITHUB: &str = include_str!("../tests/data/webhook/github_push.json");
    const GITLAB: &str = include_str!("../tests/data/webhook/gitlab_push.json");
    const GITEA: &str = include_str!("../tests/data/webhook/gitea_push.json");
    const SHA: &str = "9e4c2a7b1d5f8e3a6c0b4d7f2e5a8c1b3d6f9e0a";

    fn hmac_hex(secret: &str, body: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(body);
        hex::encode(mac.finalize().into_bytes())
    }

    fn platform() -> Platform {
        let text =
            "markets: [{ id: fr, name: France, region: west, currency: EUR, locale: fr-FR, timezone: Europe/Paris }]
services:
  - { name: shop, repo: ./shop }
  - { name: blog, repo: ./blog, branch: live }
";
        tandem_core::platform::parse_platform("p.yml", text).unwrap()
    }

    #[test]
    fn github_signatures_are_checked() {
        let body = GITHUB.as_bytes();
        let good = format!("sha256={}", hmac_hex("s3cret", body));
        assert_eq!(Provider::GitHub.verify(b"s3cret", &good, body), Ok(()));
        let err = Provider::GitHub.verify(b"other", &good, body).unwrap_err();
        assert!(err.contains("`X-Hub-Signature-256` does not match"), "{err}");
        let tampered = GITHUB.replace("refs/heads/main", "refs/heads/evil");
        assert!(Provider::GitHub.verify(b"s3cret", &good, tampered.as_bytes()).is_err());
        let err = Provider::GitHub
            .verify(b"s3cret", &hmac_hex("s3cret", body), body)
            .unwrap_err();
        assert!(err.contains("must be `sha256=`"), "{err}");
        let err = Provider::GitHub.verify(b"s3cret", "sha256=zz", body).unwrap_err();
        assert!(err.contains("is not hex"), "{err}");
    }

    #[test]
    fn gitea_signatures_are_bare_hex_and_gitlab_sends_the_token() {
        let body = GITEA.as_bytes();
        assert_eq!(Provider::Gitea.verify(b"k", &hmac_hex("k", body), body), Ok(()));
        let err = Provider::Gitea.verify(b"k", &hmac_hex("j", body), body).unwrap_err();
        assert!(err.contains("`X-Gitea-Signature` does not match"), "{err}");

        assert_eq!(Provider::GitLab.verify(b"tok", "tok", b"{}"), Ok(()));
        for wrong in ["tok2", "to", ""] {
            let err = Provider::GitLab.verify(b"tok", wrong, b"{}").unwrap_err();
            assert!(
                err.contains("`X-Gitlab-Token` is not the service's webhook secret"),
                "{err}"
            );
        }
    }

    #[test]
    fn recorded_payloads_name_their_service_and_commit() {
        let p = platform();
        for (provider, text) in [
            (Provider::GitHub, GITHUB),
            (Provider::GitLab, GITLAB),
            (Provider::Gitea, GITEA),
        ] {
            let payload: Value = serde_json::from_str(text).unwrap();
            assert_eq!(
                find_service(&p, provider, None, &payload).unwrap().unwrap().name,
                "shop",
                "{provider:?}"
            );
            assert_eq!(
                find_service(&p, provider, Some("blog"), &payload)
                    .unwrap()
                    .unwrap()
                    .name,
                "blog"
            );
            let push = parse_push(&payload, "main").unwrap();
            let expected = Push {
                branch: "main".into(),
                commit: SHA.into(),
            };
            assert_eq!(push, PushTarget::Build(expected), "{provider:?}");
        }
    }

    #[test]
    fn unknown_repositories_and_services_are_named_for_the_log_and_a_nameless_payload_is_400() {
        let p = platform();
        let payload = json!({ "repository": { "name": "warehouse" } });
        let reason = find_service(&p, Provider::GitHub, None, &payload).unwrap().unwrap_err();
        assert!(reason.contains("repository `warehouse`"), "{reason}");
        let reason = find_service(&p, Provider::GitHub, Some("nope"), &payload)
            .unwrap()
            .unwrap_err();
        assert!(reason.contains("service `nope`"), "{reason}");
        let err = find_service(&p, Provider::Gitea, None, &json!({ "ref": "x" })).unwrap_err();
        assert_eq!(err.status, StatusCode::BAD_REQUEST);
        assert!(err.message.contains("`repository.name` is missing"), "{}", err.message);
    }

    #[test]
    fn other_branches_tags_and_deletions_are_ignored() {
        let push = |r: &str, after: &str| parse_push(&json!({ "ref": r, "after": after }), "main");
        let ignored = |t: ApiResult<PushTarget>| match t.unwrap() {
            PushTarget::Ignore(reason) => reason,
            other => panic!("expected an ignored push, got {other:?}"),
        };
        assert!(ignored(push("refs/heads/feature", SHA)).contains("push to branch `feature`"));
        assert!(ignored(push("refs/tags/v1", SHA)).contains("is not a branch"));
        assert!(ignored(push("refs/heads/main", &"0".repeat(40))).contains("was deleted"));
    }

    #[test]
    fn malformed_pushes_name_what_is_missing() {
        let err = parse_push(&json!({ "after": SHA }), "main").unwrap_err();
        assert_eq!(err.status, StatusCode::BAD_REQUEST);
        assert!(err.message.contains("no `ref`"), "{}", err.message);
        let err = parse_push(&json!({ "ref": "refs/heads/main" }), "main").unwrap_err();
        assert!(err.message.contains("no `after`"), "{}", err.message);
        for after in ["HEAD~1", "main", "9e4c2a7b", "9e4c2a7b1d5f8e3a6c0b4d7f2e5a8c1b3d6f9e--"] {
            let err = parse_push(&json!({ "ref": "refs/heads/main", "after": after }), "main").unwrap_err();
            assert!(err.message.contains("expected a commit id"), "{after}: {}", err.message);
        }
    }
}
