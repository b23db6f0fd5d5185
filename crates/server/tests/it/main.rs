//! The server's integration tests, one module per area, in one test binary so the workspace
//! is linked once for them all.

mod api;
mod audit;
mod common;
mod cross_site;
mod dashboard_scale;
mod errors;
mod hooks;
mod launch;
mod oidc;
mod paging;
mod secrets;
mod security_model;
mod sessions;
mod ui_browser;
mod ui_browser_pages;
mod ui_browser_screens;
mod ui_browser_truth;
mod ui_changes;
mod ui_delivery;
mod ui_http;
mod ui_incidents;
mod ui_live_logs;
mod ui_markets;
mod ui_scale;
