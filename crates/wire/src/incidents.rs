//! Incidents: something broke in a market.

use serde::{Deserialize, Serialize};
use tandem_core::state::IncidentState;

/// An incident.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Incident {
    /// The incident's id.
    pub id: i64,
    /// The service that broke.
    pub service: String,
    /// The market where it broke.
    pub market: String,
    /// The deployment that caused it, if known.
    pub deployment_id: Option<i64>,
    /// What broke, in a line.
    pub title: String,
    /// open or resolved.
    pub state: IncidentState,
    /// When it was opened.
    pub opened_at: i64,
    /// When it was resolved.
    pub resolved_at: Option<i64>,
    /// gate (a failed gate), rollback (by hand), probe (the monitor), alertmanager, or person.
    pub source: String,
    /// Who opened it.
    pub opened_by: Option<String>,
    /// Who resolved it.
    pub resolved_by: Option<String>,
    /// For an Alertmanager alert: its fingerprint (the same alert firing again is this incident).
    pub fingerprint: Option<String>,
    /// More than the title: an alert's description, a person's notes.
    pub summary: Option<String>,
}

/// Opens an incident by hand.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenIncident {
    /// The service that broke.
    pub service: String,
    /// The market where it broke.
    pub market: String,
    /// What broke, in a line.
    pub title: String,
    /// More, if there is more to say.
    pub summary: Option<String>,
    /// The deployment that caused it; by default the one serving the market when it opened.
    pub deployment_id: Option<i64>,
}

/// Links an incident to another deployment.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkIncident {
    /// The deployment that caused it.
    pub deployment_id: i64,
}
