//! Proposing a config change from the browser: one value in one layer (the defaults, a region
//! or a market), checked like any change request — a proposal that leaves a market invalid is
//! shown again with every problem, and nothing is stored.

use super::forms::PostedForm;
use super::layout::{Nav, Page, page};
use super::{PageError, PageResult};
use crate::AppState;
use crate::auth::{Caller, Developer, PageAuth};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use tandem_core::platform::Platform;

/// What the form holds (also its query string when opened from a link).
#[derive(Debug, Default, Clone, serde::Deserialize)]
pub struct ProposalForm {
    #[serde(default)]
    pub service: String,
    /// `defaults`, `region:NAME` or `market:ID`.
    #[serde(default)]
    pub layer: String,
    #[serde(default)]
    pub key: String,
    #[serde(default)]
    pub value: String,
    #[serde(default)]
    pub title: String,
}

/// `GET /changes/new`: the form.
pub async fn show(
    auth: PageAuth<Developer>,
    State(state): State<AppState>,
    query: Result<Query<ProposalForm>, QueryRejection>,
) -> PageResult {
    let Query(form) = query?;
    let platform = state.engine.load_platform().await?;
    Ok(render(&auth.0, &platform, &form, &[]))
}

/// `POST /changes/new`: proposes the change; back to the form with every problem when refused.
pub async fn submit(
    auth: PageAuth<Developer>,
    State(state): State<AppState>,
    PostedForm(form): PostedForm<ProposalForm>,
) -> Result<Response, PageError> {
    let platform = state.engine.load_platform().await?;
    let mut problems = Vec::new();
    if platform.service(&form.service).is_none() {
        problems.push(format!("service `{}` is not in the platform", form.service));
    }
    if form.title.trim().is_empty() {
        problems.push("say what the change is for in the title".to_string());
    }
    if form.key.trim().is_empty() {
        problems.push("name the key to set, such as `payment.provider`".to_string());
    }
    if !problems.is_empty() {
        return Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            render(&auth.0, &platform, &form, &problems),
        )
            .into_response());
    }
    let mut layers = state.engine.latest_config(&form.service).await?.layers()?;
    let layer = match form.layer.split_once(':') {
        Some(("region", r)) => layers.regions.entry(r.to_string()).or_default(),
        Some(("market", m)) => layers.markets.entry(m.to_string()).or_default(),
        _ => &mut layers.defaults,
    };
    let value: serde_json::Value =
        serde_json::from_str(form.value.trim()).unwrap_or_else(|_| serde_json::Value::String(form.value.clone()));
    if let Err(e) = tandem_core::config::set_dotted(layer, form.key.trim(), value) {
        return Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            render(&auth.0, &platform, &form, &[e]),
        )
            .into_response());
    }
    let proposed = state
        .engine
        .propose_config(&form.service, form.title.trim(), &layers, &auth.0.name, auth.0.role)
        .await;
    match proposed {
        Ok(row) => Ok(Redirect::to(&format!("/changes/{}", row.id)).into_response()),
        Err(e) => {
            let lines: Vec<String> = match e {
                // The config check's refusal: a heading, then one problem a line.
                tandem_engine::Error::Refused {
                    reason,
                    details: Some(_),
                } => reason.lines().skip(1).map(|l| l.trim().to_string()).collect(),
                // Our own fault is no problem of the form: the error page, logged.
                internal @ tandem_engine::Error::Internal(_) => return Err(internal.into()),
                refusal => vec![refusal.to_string()],
            };
            Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                render(&auth.0, &platform, &form, &lines),
            )
                .into_response())
        }
    }
}

fn render(caller: &Caller, platform: &Platform, form: &ProposalForm, problems: &[String]) -> Markup {
    let mut regions: Vec<&str> = platform.markets.iter().map(|m| m.region.as_str()).collect();
    regions.sort();
    regions.dedup();
    let body = html! {
        div.page-head {
            h1 { "Propose a config change" }
            span.muted { "one value in one layer; reviewed by the other side before it rolls out" }
        }
        @if !problems.is_empty() {
            section.panel.problems {
                p { strong { "Not proposed:" } " nothing was stored." }
                ul.validation { @for p in problems { li.bad { "✗ " (p) } } }
            }
        }
        section.panel {
            form.propose method="post" action="/changes/new" {
                label { "Service"
                    select name="service" {
                        @for s in &platform.services {
                            option value=(s.name) selected[s.name == form.service] { (s.name) }
                        }
                    }
                }
                label { "Layer"
                    select name="layer" {
                        option value="defaults" selected[form.layer == "defaults"] { "defaults (every market)" }
                        @for r in &regions {
                            @let v = format!("region:{r}");
                            option value=(v) selected[form.layer == v] { "region " (r) }
                        }
                        @for m in &platform.markets {
                            @let v = format!("market:{}", m.id);
                            option value=(v) selected[form.layer == v] { "market " (m.id) " — " (m.name) }
                        }
                    }
                }
                label { "Key" input type="text" name="key" value=(form.key) placeholder="free_shipping_threshold"; }
                label { "Value (JSON, or text)" input type="text" name="value" value=(form.value) placeholder="40"; }
                label.wide { "Title" input type="text" name="title" value=(form.title) placeholder="Free shipping from 40 in NL"; }
                div.review-buttons { button.btn.primary type="submit" { "Propose" } }
            }
        }
    };
    page(
        Page {
            title: "Propose a config change",
            nav: Nav::Changes,
            caller: Some(caller),
            refresh: None,
        },
        body,
    )
}
