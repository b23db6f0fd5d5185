//! The JSON API under `/api/v1`. Each handler declares its OpenAPI operation next to its code;
//! the document served at `/api/v1/openapi.json` is generated from them.

pub(crate) mod admin;
mod agents;
pub(crate) mod audit;
mod catalog;
mod changes;
mod config;
pub(crate) mod convert;
mod dora;
mod flags;
pub(crate) mod flow;
mod ideas;
mod incidents;
mod logs;
mod markets;
mod monitor;
mod page;
mod releases;
pub(crate) mod rollouts;
mod runs;
mod secrets;

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

/// Adds to every operation the error statuses any route can answer, so that a client (or a
/// schema-driven fuzzer) meets no undocumented status: a malformed path, query or body (400),
/// no or an expired credential (401), a role too low (403), an unknown object (404), a rule
/// that refuses the action (409), our own fault (500) and, for routes with a body, a body too
/// large (413), of the wrong type (415) or invalid (422). A status a handler documents itself
/// keeps its own description.
struct CommonErrors;

impl CommonErrors {
    const ALWAYS: [(&'static str, &'static str); 6] = [
        (
            "400",
            "The path or query is malformed: the message says which part and what was expected.",
        ),
        ("401", "No credential, or one that expired or was revoked."),
        (
            "403",
            "The credential's role may not do this, or a cross-site request was refused.",
        ),
        ("404", "No such object, or no such route."),
        (
            "409",
            "A rule or the object's current state refuses the action: the message says which.",
        ),
        (
            "500",
            "Tandem's own fault; it is logged, and the message gives nothing of the inside.",
        ),
    ];
    const WITH_BODY: [(&'static str, &'static str); 3] = [
        ("413", "The body is larger than the server accepts."),
        (
            "415",
            "The body is not of the content type the route takes (JSON unless it says otherwise).",
        ),
        ("422", "The body is well formed but invalid: the message says where."),
    ];
}

impl utoipa::Modify for CommonErrors {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
        let error = |description: &str| {
            ResponseBuilder::new()
                .description(description)
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("ErrorBody")))
                        .build(),
                )
                .build()
        };
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            for operation in operations.into_iter().flatten() {
                let has_body = operation.request_body.is_some();
                let statuses = Self::ALWAYS.iter().chain(Self::WITH_BODY.iter().filter(|_| has_body));
                for (status, description) in statuses {
                    operation
                        .responses
                        .responses
                        .entry(status.to_string())
                        .or_insert_with(|| error(description).into());
                }
            }
        }
    }
}

/// The API routes, and the OpenAPI document describing them.
pub fn router() -> (axum::Router<AppState>, utoipa::openapi::OpenApi) {
    let api = OpenApiRouter::with_openapi(ApiDoc::openapi())
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
        .routes(routes!(rollouts::list_rollouts, rollouts::create_rollout))
        .routes(routes!(rollouts::get_rollout))
        .routes(routes!(rollouts::list_rollout_markets))
        .routes(routes!(rollouts::pause_rollout))
        .routes(routes!(rollouts::resume_rollout))
        .routes(routes!(rollouts::abort_rollout))
        .routes(routes!(rollouts::approve_rollout))
        .routes(routes!(rollouts::promote_rollout))
        .routes(routes!(rollouts::skip_market))
        .routes(routes!(rollouts::override_freeze))
        .routes(routes!(rollouts::list_deployments))
        .routes(routes!(incidents::list_incidents, incidents::open_incident))
        .routes(routes!(incidents::resolve_incident))
        .routes(routes!(incidents::link_incident))
        .routes(routes!(incidents::postmortem))
        .routes(routes!(releases::rollback))
        .routes(routes!(releases::plan_release))
        .routes(routes!(flags::list_flag_versions, flags::put_flags))
        .routes(routes!(flags::list_emergencies))
        .routes(routes!(flags::kill_flag))
        .routes(routes!(flags::review_emergency))
        .routes(routes!(flags::lift_emergency))
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
        .routes(routes!(audit::list_audit))
        .routes(routes!(audit::verify_audit))
        .routes(routes!(admin::whoami))
        .routes(routes!(admin::collect_garbage))
        .routes(routes!(admin::list_servers))
        .routes(routes!(agents::list_agents, agents::register_agent))
        .routes(routes!(agents::rotate_agent))
        .routes(routes!(agents::revoke_agent))
        .routes(routes!(agents::set_agent_mode))
        .routes(routes!(secrets::list_secrets))
        .routes(routes!(secrets::put_secret, secrets::delete_secret));
    let (router, mut openapi) = api.split_for_parts();
    utoipa::Modify::modify(&CommonErrors, &mut openapi);
    (router, openapi)
}

/// Serves the OpenAPI document (generated from the handlers at start-up).
pub async fn openapi_json(
    _: Auth<Viewer>,
    axum::extract::State(state): axum::extract::State<AppState>,
) -> Json<serde_json::Value> {
    Json(state.openapi.as_ref().clone())
}
