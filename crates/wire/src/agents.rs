//! Agents: the processes that run pipeline jobs (`tandem agent`), and how an admin manages
//! them. The agents' own conversation with the server is described in docs/agents.md.

use serde::{Deserialize, Serialize};

/// An agent (never its token).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Agent {
    /// Its name, given when it was registered.
    pub name: String,
    /// The labels it last announced (`linux`, `x86_64`, `region=eu-west`, …); a job's
    /// `runs-on` must all be among them.
    pub labels: Vec<String>,
    /// How many jobs it runs at once.
    pub capacity: i64,
    /// How many it runs now.
    pub running: i64,
    /// The Tandem version it runs.
    pub version: Option<String>,
    /// The host it runs on.
    pub host: Option<String>,
    /// When it last asked for work or reported (ms since the epoch).
    pub seen_at: Option<i64>,
    /// Whether it asked within the last minute.
    pub connected: bool,
    /// active, paused (takes no new job) or draining (finishes its jobs, then exits).
    pub mode: String,
    /// When it was registered.
    pub created_at: i64,
    /// Who registered it.
    pub created_by: String,
    /// When its token was last replaced.
    pub rotated_at: Option<i64>,
    /// When an admin revoked it.
    pub revoked_at: Option<i64>,
}

/// Registers an agent.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAgent {
    /// Its name: 1 to 64 letters, digits, `-`, `_` or `.`.
    pub name: String,
}

/// An agent just registered or given a new token, with the token: shown once.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AgentToken {
    /// The agent.
    pub agent: Agent,
    /// The token `tandem agent` presents (TANDEM_AGENT_TOKEN or --token-file).
    pub token: String,
}

/// What an operator asks of an agent.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgentMode {
    /// active, paused or draining.
    pub mode: String,
}
