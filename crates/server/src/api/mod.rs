//! The JSON API under `/api/v1`. Each handler declares its OpenAPI operation next to its code;
//! the document served at `/api/v1/openapi.json` is generated from them.

pub(crate) mod admin;
mod catalog;
mod changes;
mod config;
mod dora;
mod flags;
pub(crate) mod flow;
mod ideas;
mod incidents;
mod logs;
mod markets;
mod monitor;
mod releases;
mod runs;

use crate::AppState;
use crate::auth::{Auth, Viewer};
use axum::Json;
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

#[derive(OpenApi)]
#[openapi(
    info(title = "Tandem API", description = "Plan → Create → Verify → Package → Release → Configure → Monitor, market by market."),
    modifiers(&BearerAuth),
    security(("bearer" = []))
)]
struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The API routes, and the OpenAPI document describing them.
pub fn router() -> (axum::Router<AppState>, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(catalog::list_markets))
        .routes(routes!(markets::get_readiness))
        .routes(routes!(markets::launch_market))
        .routes(routes!(catalog::list_waves))
        .routes(routes!(catalog::list_services))
        .routes(routes!(ideas::list_ideas, ideas::create_idea))
        .routes(routes!(ideas::get_idea))
        .routes(routes!(flow::idea_flow))
        .routes(routes!(flow::shipped_flow))
        .routes(routes!(ideas::list_commits))
        .routes(routes!(runs::list_runs))
        .routes(routes!(runs::trigger_run))
        .routes(routes!(runs::get_run))
        .routes(routes!(runs::cancel_run))
        .routes(routes!(runs::rerun_run))
        .routes(routes!(runs::get_job_log))
        .routes(routes!(logs::stream_job_log))
        .routes(routes!(runs::get_artifact))
        .routes(routes!(releases::list_releases))
        .routes(routes!(releases::get_release))
        .routes(routes!(releases::list_rollouts, releases::create_rollout))
        .routes(routes!(releases::get_rollout))
        .routes(routes!(releases::pause_rollout))
        .routes(routes!(releases::resume_rollout))
        .routes(routes!(releases::abort_rollout))
        .routes(routes!(releases::approve_rollout))
        .routes(routes!(releases::promote_rollout))
        .routes(routes!(releases::skip_market))
        .routes(routes!(releases::override_freeze))
        .routes(routes!(releases::list_deployments))
        .routes(routes!(releases::list_incidents, incidents::open_incident))
        .routes(routes!(incidents::resolve_incident))
        .routes(routes!(incidents::link_incident))
        .routes(routes!(incidents::postmortem))
        .routes(routes!(releases::rollback))
        .routes(routes!(releases::plan_release))
        .routes(routes!(flags::list_flag_versions, flags::put_flags))
        .routes(routes!(config::get_config))
        .routes(routes!(config::diff_config))
        .routes(routes!(config::watch_config))
        .routes(routes!(config::list_config_versions))
        .routes(routes!(config::config_log))
        .routes(routes!(config::rollback_config))
        .routes(routes!(dora::dora))
        .routes(routes!(dora::dora_series))
        .routes(routes!(monitor::list_health))
        .routes(routes!(monitor::list_series))
        .routes(routes!(monitor::get_series))
        .routes(routes!(changes::list_changes))
        .routes(routes!(changes::create_change))
        .routes(routes!(changes::get_change, changes::edit_change))
        .routes(routes!(changes::approve_change))
        .routes(routes!(changes::reject_change))
        .routes(routes!(changes::withdraw_change))
        .routes(routes!(admin::list_tokens, admin::create_token))
        .routes(routes!(admin::revoke_token))
        .routes(routes!(admin::create_login_code))
        .routes(routes!(admin::list_events))
        .routes(routes!(admin::whoami))
        .routes(routes!(admin::collect_garbage))
        .split_for_parts()
}

/// Serves the OpenAPI document (generated from the handlers at start-up).
pub async fn openapi_json(
    _: Auth<Viewer>,
    axum::extract::State(state): axum::extract::State<AppState>,
) -> Json<serde_json::Value> {
    Json(state.openapi.as_ref().clone())
}
