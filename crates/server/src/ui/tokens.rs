//! The admin's tokens page: every token with its role, when it was made, last used, when it
//! expires and whether it still works, and a Revoke button. Revoking takes effect at once (the
//! token and the browser sessions opened with it stop working on the next request).

use super::layout::{Nav, Page, badge, empty, page, when};
use super::{PageResult, parse_id};
use crate::AppState;
use crate::auth::{Admin, PageAuth};
use axum::extract::{Path, State};
use axum::response::Redirect;
use maud::html;
use tandem_store::now_ms;

/// `GET /admin/tokens`.
pub async fn list(auth: PageAuth<Admin>, State(state): State<AppState>) -> PageResult {
    let tokens = state.engine.list_tokens().await?;
    let now = now_ms();
    let body = html! {
        div.page-head {
            h1 { "Tokens" }
            span.muted { "create one with " code { "tandem token create NAME --role ROLE --expires 30d" } }
        }
        section.panel {
            @if tokens.is_empty() {
                (empty("No token yet."))
            } @else {
                table.data.tokens {
                    thead { tr { th { "#" } th { "name" } th { "role" } th { "state" } th { "created" } th { "last used" } th { "expires" } th {} } }
                    tbody {
                        @for t in &tokens {
                            @let state = if t.revoked_at.is_some() { "revoked" } else if t.is_live(now) { "live" } else { "expired" };
                            tr id={ "token-" (t.id) } {
                                td { (t.id) }
                                td { (t.name) }
                                td { (t.role) }
                                td { (badge(state)) }
                                td { (when(Some(t.created_at))) }
                                td { (when(t.last_used_at)) }
                                td { @if t.expires_at.is_some() { (when(t.expires_at)) } @else { span.muted { "never" } } }
                                td {
                                    @if t.revoked_at.is_none() {
                                        form method="post" action={ "/admin/tokens/" (t.id) "/revoke" } {
                                            button.btn type="submit" { "Revoke" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(page(
        Page {
            title: "Tokens",
            nav: Nav::Tokens,
            caller: Some(&auth.0),
            refresh: None,
        },
        body,
    ))
}

/// `POST /admin/tokens/{id}/revoke`: back to the list, which shows it revoked.
pub async fn revoke(
    _: PageAuth<Admin>,
    State(state): State<AppState>,
    Path(raw): Path<String>,
) -> PageResult<Redirect> {
    let id = parse_id("token", &raw)?;
    crate::api::admin::revoke(&state, id).await?;
    Ok(Redirect::to(&format!("/admin/tokens#token-{id}")))
}

/// `GET /admin/tokens/{id}/revoke`: where sign-in returns; nothing is done on a GET.
pub async fn back_to_tokens() -> Redirect {
    Redirect::to("/admin/tokens")
}
