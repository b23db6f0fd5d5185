//! Proposing a change from the browser, checked like any change request — a proposal that
//! leaves a market invalid is shown again with every problem, and nothing is stored:
//!
//! - a config change: one value in one layer (the defaults, a region or a market), its key
//!   picked from the config schema of the service's newest release that declares one (type,
//!   units and allowed values shown), so a key the code does not read cannot be proposed;
//! - a flag change: the service's flag file as it would be, through the same path as
//!   `tandem flags apply`.

use super::forms::PostedForm;
use super::layout::{Nav, Page, page};
use super::{PageError, PageResult};
use crate::AppState;
use crate::auth::{Caller, Developer, PageAuth, url_encode};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde_json::Value;
use tandem_core::platform::Platform;

/// What the form holds (also its query string when opened from a link).
#[derive(Debug, Default, Clone, serde::Deserialize)]
pub struct ProposalForm {
    /// `config` (the default) or `flags`.
    #[serde(default)]
    pub kind: String,
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
    /// A flag change: the whole flag file as proposed (YAML).
    #[serde(default)]
    pub flags: String,
}

impl ProposalForm {
    fn is_flags(&self) -> bool {
        self.kind == "flags"
    }
}

/// One key a service's config schema declares, as the form offers it.
#[derive(Debug, Clone, PartialEq)]
pub struct SchemaKey {
    /// Dotted path: `payment.provider`.
    pub key: String,
    /// `number`, `text`, `list`, …
    pub kind: String,
    /// Its unit, when the schema says (`x-unit`, `unit`).
    pub unit: Option<String>,
    /// What it may be: "one of card, paypal", "0 to 0.5", "pattern ^[A-Z]{3}$".
    pub allowed: Option<String>,
    /// The schema's description of it.
    pub description: Option<String>,
}

impl SchemaKey {
    /// How the key's option reads: "vat_rate — number, 0 to 0.5".
    fn label(&self) -> String {
        let mut label = format!("{} — {}", self.key, self.kind);
        if let Some(u) = &self.unit {
            label.push_str(&format!(" ({u})"));
        }
        if let Some(a) = &self.allowed {
            label.push_str(&format!(", {a}"));
        }
        label
    }
}

/// The keys a config schema (JSON Schema) declares, leaves only, objects walked into with
/// dotted paths, by name.
pub fn schema_keys(schema: &Value) -> Vec<SchemaKey> {
    let mut keys = Vec::new();
    walk(schema, "", &mut keys);
    keys
}

fn walk(node: &Value, prefix: &str, keys: &mut Vec<SchemaKey>) {
    let Some(props) = node.get("properties").and_then(Value::as_object) else {
        return;
    };
    for (name, prop) in props {
        let key = if prefix.is_empty() {
            name.clone()
        } else {
            format!("{prefix}.{name}")
        };
        if prop.get("properties").is_some() {
            walk(prop, &key, keys);
            continue;
        }
        keys.push(describe(key, prop));
    }
}

fn describe(key: String, prop: &Value) -> SchemaKey {
    let text = |k: &str| prop.get(k).and_then(Value::as_str).map(str::to_string);
    let kind_of = |p: &Value| match p.get("type").and_then(Value::as_str) {
        Some("string") => "text".to_string(),
        Some("integer") => "whole number".to_string(),
        Some("boolean") => "true or false".to_string(),
        Some(t) => t.to_string(),
        None if p.get("enum").is_some() => "choice".to_string(),
        None => "any".to_string(),
    };
    let one_of = |p: &Value| {
        p.get("enum").and_then(Value::as_array).map(|values| {
            let shown: Vec<String> = values
                .iter()
                .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
                .collect();
            format!("one of {}", shown.join(", "))
        })
    };
    let number = |k: &str| prop.get(k).and_then(Value::as_f64);
    let range = match (number("minimum"), number("maximum")) {
        (Some(lo), Some(hi)) => Some(format!("{lo} to {hi}")),
        (Some(lo), None) => Some(format!("at least {lo}")),
        (None, Some(hi)) => Some(format!("at most {hi}")),
        (None, None) => None,
    };
    let (kind, allowed) = match prop.get("items") {
        Some(items) if prop.get("type").and_then(Value::as_str) == Some("array") => (
            match kind_of(items).as_str() {
                "choice" => "list".to_string(),
                kind => format!("list of {kind}"),
            },
            one_of(items).map(|o| format!("each {o}")),
        ),
        _ => (
            kind_of(prop),
            one_of(prop)
                .or(range)
                .or_else(|| text("pattern").map(|p| format!("pattern {p}"))),
        ),
    };
    SchemaKey {
        key,
        kind,
        unit: text("x-unit").or_else(|| text("unit")),
        allowed,
        description: text("description"),
    }
}

/// The config schema of the service's newest release that declares one, as keys; `None` when
/// no release of it declares one (the key is then typed by hand).
async fn keys_of(state: &AppState, service: &str) -> Result<Option<Vec<SchemaKey>>, PageError> {
    if service.is_empty() {
        return Ok(None);
    }
    let releases = state.engine.list_releases(Some(service)).await?;
    Ok(releases
        .iter()
        .find_map(|r| r.config_schema.as_deref())
        .and_then(|text| serde_json::from_str::<Value>(text).ok())
        .map(|schema| schema_keys(&schema)))
}

/// The service the form is for: the one asked for, else the platform's first.
fn chosen_service(platform: &Platform, form: &mut ProposalForm) {
    if platform.service(&form.service).is_none()
        && let Some(first) = platform.services.first()
    {
        form.service = first.name.clone();
    }
}

/// `GET /changes/new[?kind=flags][&service=]`: the form.
pub async fn show(
    auth: PageAuth<Developer>,
    State(state): State<AppState>,
    query: Result<Query<ProposalForm>, QueryRejection>,
) -> PageResult {
    let Query(mut form) = query?;
    let platform = state.engine.load_platform().await?;
    chosen_service(&platform, &mut form);
    if form.is_flags() && form.flags.is_empty() {
        // Starts from the flag file in force.
        form.flags = current_flags(&state, &form.service);
    }
    let keys = keys_of(&state, &form.service).await?;
    Ok(render(&auth.0, &platform, &form, keys.as_deref(), &[]))
}

fn current_flags(state: &AppState, service: &str) -> String {
    state
        .engine
        .flags()
        .versions
        .get(service)
        .map(|v| v.text.clone())
        .unwrap_or_else(|| "flags: {}\n".to_string())
}

/// `POST /changes/new`: proposes the change; back to the form with every problem when refused.
pub async fn submit(
    auth: PageAuth<Developer>,
    State(state): State<AppState>,
    PostedForm(form): PostedForm<ProposalForm>,
) -> Result<Response, PageError> {
    let platform = state.engine.load_platform().await?;
    let keys = keys_of(&state, &form.service).await?;
    let refused = |problems: &[String]| {
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            render(&auth.0, &platform, &form, keys.as_deref(), problems),
        )
            .into_response()
    };
    let mut problems = Vec::new();
    if platform.service(&form.service).is_none() {
        problems.push(format!("service `{}` is not in the platform", form.service));
    }
    if form.title.trim().is_empty() {
        problems.push("say what the change is for in the title".to_string());
    }
    if form.is_flags() {
        if form.flags.trim().is_empty() {
            problems.push("the flag file is empty: write the flags as they should be".to_string());
        }
    } else {
        let key = form.key.trim();
        match &keys {
            _ if key.is_empty() => problems.push("pick the key to set".to_string()),
            Some(keys) if !keys.iter().any(|k| k.key == key) => problems.push(format!(
                "key `{key}` is not in {}'s config schema: pick one of its keys",
                form.service
            )),
            _ => {}
        }
    }
    if !problems.is_empty() {
        return Ok(refused(&problems));
    }
    let proposed = if form.is_flags() {
        state
            .engine
            .propose_flags(&form.service, form.title.trim(), &form.flags, &auth.0.name, auth.0.role)
            .await
    } else {
        let mut layers = state.engine.latest_config(&form.service).await?.layers()?;
        let layer = match form.layer.split_once(':') {
            Some(("region", r)) => layers.regions.entry(r.to_string()).or_default(),
            Some(("market", m)) => layers.markets.entry(m.to_string()).or_default(),
            _ => &mut layers.defaults,
        };
        let value: Value =
            serde_json::from_str(form.value.trim()).unwrap_or_else(|_| Value::String(form.value.clone()));
        if let Err(e) = tandem_core::config::set_dotted(layer, form.key.trim(), value) {
            return Ok(refused(&[e]));
        }
        state
            .engine
            .propose_config(&form.service, form.title.trim(), &layers, &auth.0.name, auth.0.role)
            .await
    };
    match proposed {
        Ok(row) => Ok(Redirect::to(&format!("/changes/{}", row.id)).into_response()),
        Err(e) => {
            let lines: Vec<String> = match e {
                // The check's refusal: a heading, then one problem a line.
                tandem_engine::Error::Refused {
                    reason,
                    details: Some(_),
                } => {
                    let lines: Vec<String> = reason.lines().skip(1).map(|l| l.trim().to_string()).collect();
                    if lines.is_empty() { vec![reason] } else { lines }
                }
                // Our own fault is no problem of the form: the error page, logged.
                internal @ tandem_engine::Error::Internal(_) => return Err(internal.into()),
                refusal => vec![refusal.to_string()],
            };
            Ok(refused(&lines))
        }
    }
}

fn render(
    caller: &Caller,
    platform: &Platform,
    form: &ProposalForm,
    keys: Option<&[SchemaKey]>,
    problems: &[String],
) -> Markup {
    let flags = form.is_flags();
    let title = if flags {
        "Propose a flag change"
    } else {
        "Propose a config change"
    };
    let service_q = url_encode(&form.service);
    let body = html! {
        div.page-head {
            h1 { (title) }
            span.muted {
                @if flags { "the flag file as it should be; reviewed before it is in force" }
                @else { "one value in one layer; reviewed by the other side before it rolls out" }
            }
            nav.tabs.right {
                a href={ "/changes/new?service=" (service_q) } aria-current=[(!flags).then_some("page")] { "Config" }
                " · "
                a href={ "/changes/new?kind=flags&service=" (service_q) } aria-current=[flags.then_some("page")] { "Flags" }
            }
        }
        @if platform.services.len() > 1 {
            p.services {
                "Service: "
                @for s in &platform.services {
                    @if s.name == form.service { b { (s.name) } } @else {
                        a href={ "/changes/new?service=" (url_encode(&s.name)) @if flags { "&kind=flags" } } { (s.name) }
                    }
                    " "
                }
            }
        }
        @if !problems.is_empty() {
            section.panel.problems {
                p { strong { "Not proposed:" } " nothing was stored." }
                ul.validation { @for p in problems { li.bad { "✗ " (p) } } }
            }
        }
        section.panel {
            form.propose method="post" action="/changes/new" {
                input type="hidden" name="service" value=(form.service);
                @if flags {
                    input type="hidden" name="kind" value="flags";
                    label.wide { "Flag file of " (form.service) " (YAML)"
                        textarea.source name="flags" rows="14" spellcheck="false" required { (form.flags) }
                    }
                } @else {
                    (layer_select(platform, form))
                    @match keys {
                        Some(keys) => {
                            label { "Key (from " (form.service) "'s config schema)"
                                select name="key" required {
                                    option value="" { "— pick a key —" }
                                    @for k in keys {
                                        option value=(k.key) selected[k.key == form.key.trim()] { (k.label()) }
                                    }
                                }
                            }
                        }
                        None => {
                            label { "Key (no release of " (form.service) " declares a config schema)"
                                input type="text" name="key" value=(form.key) placeholder="free_shipping_threshold" required;
                            }
                        }
                    }
                    label { "Value (JSON, or text)" input type="text" name="value" value=(form.value) placeholder="40"; }
                }
                label.wide { "Title" input type="text" name="title" value=(form.title) required
                    placeholder=(if flags { "Turn on the delivery estimate in be" } else { "Free shipping from 40 in NL" }); }
                div.review-buttons { button.btn.primary type="submit" { "Propose" } }
            }
        }
        @if let (false, Some(keys)) = (flags, keys) {
            (schema_panel(&form.service, keys))
        }
    };
    page(
        Page {
            title,
            nav: Nav::Changes,
            caller: Some(caller),
            refresh: None,
        },
        body,
    )
}

fn layer_select(platform: &Platform, form: &ProposalForm) -> Markup {
    let mut regions: Vec<&str> = platform.markets.iter().map(|m| m.region.as_str()).collect();
    regions.sort();
    regions.dedup();
    html! {
        label { "Layer"
            select name="layer" {
                option value="defaults" selected[form.layer == "defaults"] { "defaults (every market)" }
                @for r in &regions {
                    @let v = format!("region:{r}");
                    option value=(v) selected[form.layer == v] { "region " (r) }
                }
                @for m in &platform.markets {
                    @let v = format!("market:{}", m.id);
                    option value=(v) selected[form.layer == v] { "market " (m.id) " — " (m.name) " (" (m.currency) ")" }
                }
            }
        }
    }
}

/// The schema's keys as a table: what each one is and may be.
fn schema_panel(service: &str, keys: &[SchemaKey]) -> Markup {
    html! {
        section.panel.schema {
            div.panel-head {
                h2 { "Config schema" }
                span.muted { "the keys " (service) "'s newest release with a schema reads" }
            }
            table.data.schema-keys {
                thead { tr { th { "Key" } th { "Type" } th { "Unit" } th { "Allowed" } th { "About" } } }
                tbody {
                    @for k in keys {
                        tr data-key=(k.key) {
                            td { code { (k.key) } }
                            td { (k.kind) }
                            td { (k.unit.as_deref().unwrap_or("—")) }
                            td { (k.allowed.as_deref().unwrap_or("—")) }
                            td.muted.long { (k.description.as_deref().unwrap_or_default()) }
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_schema_reads_as_keys_with_their_type_and_allowed_values() {
        let schema = json!({
            "type": "object",
            "properties": {
                "vat_rate": { "type": "number", "minimum": 0, "maximum": 0.5, "x-unit": "fraction" },
                "currency": { "type": "string", "pattern": "^[A-Z]{3}$" },
                "payment_methods": { "type": "array", "items": { "enum": ["card", "paypal"] } },
                "shipping": { "type": "object", "properties": { "carrier": { "enum": ["post", "dhl"] } } }
            }
        });
        let keys = schema_keys(&schema);
        let find = |k: &str| keys.iter().find(|x| x.key == k).cloned().expect(k);
        assert_eq!(find("vat_rate").label(), "vat_rate — number (fraction), 0 to 0.5");
        assert_eq!(find("currency").allowed.as_deref(), Some("pattern ^[A-Z]{3}$"));
        assert_eq!(
            find("payment_methods").label(),
            "payment_methods — list, each one of card, paypal"
        );
        assert_eq!(find("shipping.carrier").allowed.as_deref(), Some("one of post, dhl"));
        assert!(!keys.iter().any(|k| k.key == "shipping"), "objects are walked into");
    }
}
