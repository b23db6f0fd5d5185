//! Agents, as people manage them: list them (viewers), register, rotate and revoke them
//! (admins: their tokens are credentials), pause, drain or resume them (operators).

use crate::AppState;
use crate::auth::{Admin, Auth, Operator, Viewer};
use crate::error::{ApiResult, ErrorBody, JsonBody, PathParam};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use tandem_store::agents::AgentRow;
use tandem_wire::agents::{Agent, AgentMode, AgentToken, NewAgent};

/// An agent counts as connected this long after it last asked for work.
const CONNECTED: i64 = 60_000;

fn to_wire((row, running): (AgentRow, i64)) -> Agent {
    let now = tandem_store::now_ms();
    Agent {
        labels: row.labels(),
        connected: row.revoked_at.is_none() && row.seen_at.is_some_and(|s| now - s < CONNECTED),
        name: row.name,
        capacity: row.capacity,
        running,
        version: row.version,
        host: row.host,
        seen_at: row.seen_at,
        mode: row.mode,
        created_at: row.created_at,
        created_by: row.created_by,
        rotated_at: row.rotated_at,
        revoked_at: row.revoked_at,
    }
}

/// Every agent: its labels, capacity, running jobs, version, when it was last seen, its mode.
#[utoipa::path(get, path = "/api/v1/agents", tag = "agents",
    responses((status = 200, body = [Agent]), (status = 401, body = ErrorBody)))]
pub async fn list_agents(_: Auth<Viewer>, State(state): State<AppState>) -> ApiResult<Json<Vec<Agent>>> {
    Ok(Json(
        state.engine.list_agents().await?.into_iter().map(to_wire).collect(),
    ))
}

/// Registers an agent; its token is in this answer and nowhere else.
#[utoipa::path(post, path = "/api/v1/agents", tag = "agents", request_body = NewAgent,
    responses((status = 201, body = AgentToken), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn register_agent(
    auth: Auth<Admin>,
    State(state): State<AppState>,
    JsonBody(new): JsonBody<NewAgent>,
) -> ApiResult<(StatusCode, Json<AgentToken>)> {
    let (row, token) = state.engine.register_agent(new.name.trim(), &auth.0.name).await?;
    Ok((
        StatusCode::CREATED,
        Json(AgentToken {
            agent: to_wire((row, 0)),
            token,
        }),
    ))
}

/// Gives an agent a new token (in this answer only); the old one stops working at once.
#[utoipa::path(post, path = "/api/v1/agents/{name}/rotate", tag = "agents",
    params(("name" = String, Path, description = "The agent's name")),
    responses((status = 200, body = AgentToken), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn rotate_agent(
    _: Auth<Admin>,
    State(state): State<AppState>,
    PathParam(name): PathParam<String>,
) -> ApiResult<Json<AgentToken>> {
    let (row, token) = state.engine.rotate_agent(&name).await?;
    Ok(Json(AgentToken {
        agent: to_wire((row, 0)),
        token,
    }))
}

/// Revokes an agent: its token stops working and the jobs it holds go to another agent (or
/// fail, as each job says).
#[utoipa::path(delete, path = "/api/v1/agents/{name}", tag = "agents",
    params(("name" = String, Path, description = "The agent's name")),
    responses((status = 200, body = Agent), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn revoke_agent(
    _: Auth<Admin>,
    State(state): State<AppState>,
    PathParam(name): PathParam<String>,
) -> ApiResult<Json<Agent>> {
    let row = state.engine.revoke_agent(&name).await?;
    Ok(Json(to_wire((row, 0))))
}

/// Pauses an agent (it takes no new job), drains it (it finishes its jobs, then exits) or
/// makes it active again.
#[utoipa::path(post, path = "/api/v1/agents/{name}/mode", tag = "agents", request_body = AgentMode,
    params(("name" = String, Path, description = "The agent's name")),
    responses((status = 200, body = Agent), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn set_agent_mode(
    auth: Auth<Operator>,
    State(state): State<AppState>,
    PathParam(name): PathParam<String>,
    JsonBody(mode): JsonBody<AgentMode>,
) -> ApiResult<Json<Agent>> {
    let row = state.engine.set_agent_mode(&name, &mode.mode, &auth.0.name).await?;
    Ok(Json(to_wire((row, 0))))
}
