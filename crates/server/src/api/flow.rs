//! Idea to production: an idea's stages (created → first commit → green pipeline → release →
//! pilot market → every target market) and where it is now; and what shipped in a window and
//! where it is live. Definitions in docs/metrics.md ("Idea to production").

use super::convert::IntoWire;
use crate::AppState;
use crate::auth::{Auth, Viewer};
use crate::error::{ApiError, ApiResult, ErrorBody, PathParam, QueryParams};
use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use tandem_core::dora::DAY_MS;
use tandem_core::flow::{Flow, compute_flow};
use tandem_engine::Engine;
use tandem_store::IdeaRow;
use tandem_wire::ideas::ShippedAnswer;

/// The window of `GET /api/v1/flow` when none is given: a week.
const DEFAULT_DAYS: u32 = 7;

/// An idea and its way to production.
#[derive(Debug, Serialize)]
pub struct IdeaFlow {
    /// The idea.
    pub idea: IdeaRow,
    /// `{ stages, now, markets }`: `stages` lists created, first_commit, green_pipeline,
    /// release, pilot and all_targets in order, each `{ stage, at, since_previous,
    /// since_created, by }` (Unix ms and ms; null while not reached); `now` is `{ stage,
    /// live, pending }`; `markets` is `[{ market, state (live, withdrawn, pending), target,
    /// pilot, arrivals, arrived_at, arrived_with, since_created, live_release }]`.
    pub flow: Flow,
    /// Markets where one of its commits arrived within the window asked for (window queries).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shipped_to: Option<Vec<String>>,
}

/// The window of `GET /api/v1/flow`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FlowQuery {
    /// The window ends now and spans this many days (default 7); or give `from` and `to`.
    pub days: Option<u32>,
    /// Start of the window, Unix milliseconds (with `to`).
    pub from: Option<i64>,
    /// End of the window (excluded), Unix milliseconds.
    pub to: Option<i64>,
}

/// An idea's stages, each with its time and its wait since the stage before and since the
/// idea was created, and where it is now: live in which markets, pending in which.
#[utoipa::path(get, path = "/api/v1/ideas/{key}/flow", tag = "ideas",
    params(("key" = String, Path, description = "such as T-12")),
    responses((status = 200, body = tandem_wire::ideas::IdeaFlow), (status = 404, body = ErrorBody)))]
pub async fn idea_flow(
    _: Auth<Viewer>,
    State(state): State<AppState>,
    PathParam(key): PathParam<String>,
) -> ApiResult<Json<tandem_wire::ideas::IdeaFlow>> {
    let facts = state.engine.load_idea_flow(&key).await?;
    let (idea, idea_facts) = facts
        .ideas
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::not_found(format!("idea {key}")))?;
    let flow = compute_flow(&facts.context, &idea_facts);
    Ok(Json(
        IdeaFlow {
            idea,
            flow,
            shipped_to: None,
        }
        .into_wire(),
    ))
}

/// What shipped: the ideas one of whose commits reached a market in the window (a deployment
/// bringing it went live), with their stages and the markets where each is live.
#[utoipa::path(get, path = "/api/v1/flow", tag = "ideas", params(FlowQuery),
    responses((status = 200, body = ShippedAnswer), (status = 400, body = ErrorBody)))]
pub async fn shipped_flow(
    _: Auth<Viewer>,
    State(state): State<AppState>,
    QueryParams(q): QueryParams<FlowQuery>,
) -> ApiResult<Json<ShippedAnswer>> {
    let (from, to) = match (q.from, q.to, q.days) {
        (Some(from), Some(to), None) if from < to => (from, to),
        (None, None, days) => window(days.unwrap_or(DEFAULT_DAYS)),
        _ => {
            return Err(ApiError::bad_request(
                "give `days`, or both `from` and `to` (Unix milliseconds, `from` before `to`)",
            ));
        }
    };
    let ideas = shipped_ideas(&state.engine, from, to).await?;
    Ok(Json(ShippedAnswer {
        from,
        to,
        ideas: ideas.into_wire(),
    }))
}

/// `[now − days, now]` as a half-open window that includes this very millisecond.
pub(crate) fn window(days: u32) -> (i64, i64) {
    let to = tandem_store::now_ms() + 1;
    (to - i64::from(days.max(1)) * DAY_MS, to)
}

/// The ideas that reached a market in `[from, to)`, the latest arrival first.
pub(crate) async fn shipped_ideas(engine: &Engine, from: i64, to: i64) -> ApiResult<Vec<IdeaFlow>> {
    let facts = engine.load_shipped_flow(from, to).await?;
    let mut ideas: Vec<IdeaFlow> = facts
        .ideas
        .into_iter()
        .map(|(idea, idea_facts)| {
            let flow = compute_flow(&facts.context, &idea_facts);
            let shipped_to = flow
                .markets
                .iter()
                .filter(|m| m.arrivals.iter().any(|at| (from..to).contains(at)))
                .map(|m| m.market.clone())
                .collect();
            IdeaFlow {
                idea,
                flow,
                shipped_to: Some(shipped_to),
            }
        })
        .collect();
    ideas.sort_by_key(|i| std::cmp::Reverse((i.flow.last_arrival(), i.idea.id)));
    Ok(ideas)
}

impl IntoWire for IdeaFlow {
    type Wire = tandem_wire::ideas::IdeaFlow;
    fn into_wire(self) -> Self::Wire {
        tandem_wire::ideas::IdeaFlow {
            idea: self.idea.into_wire(),
            flow: self.flow,
            shipped_to: self.shipped_to,
        }
    }
}
