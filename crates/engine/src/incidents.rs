//! Incidents seen from the engine: opening one tells the team (`incident.opened`), and so does
//! resolving one (`incident.resolved`), whoever does it (a person, the monitor, Alertmanager, a
//! rollback, a recovery); and a postmortem draft in
//! Markdown: what changed (the deployment linked to it, the commits it brought, the config it
//! changed), what its gates measured, the timeline, and blank sections for what the team learns.

use crate::Engine;
use crate::Result;
use crate::notifications::Announcement;
use std::fmt::Write;
use std::sync::Arc;
use tandem_core::config::{Change, diff_configs, resolve};
use tandem_core::dora::RESTORE_DEFINITION;
use tandem_core::policy::Event;
use tandem_store::{IncidentRow, NewIncident};

fn when(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.strftime("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_else(|_| ms.to_string())
}

/// A duration in the unit that fits it: `30 ms`, `3.6 s`, `12 min`, `1.5 h`.
pub fn took(ms: i64) -> String {
    match ms {
        m if m < 1000 => format!("{m} ms"),
        m if m < 120_000 => format!("{:.1} s", m as f64 / 1000.0),
        m if m < 7_200_000 => format!("{:.0} min", m as f64 / 60_000.0),
        m => format!("{:.1} h", m as f64 / 3_600_000.0),
    }
}

impl Engine {
    /// Opens an incident and tells the team; `false` with the open incident of the same
    /// fingerprint when there already is one (one outage, one incident, one message).
    pub async fn open_incident(self: &Arc<Self>, new: NewIncident<'_>) -> Result<(IncidentRow, bool)> {
        let (incident, opened) = self.store.open_incident(new).await?;
        if opened {
            self.announce(opened_announcement(&incident)).await;
        }
        Ok((incident, opened))
    }

    /// Resolves open incident `id` at `at` (Unix ms) on behalf of `by`, and tells the team. Every
    /// way an incident is resolved goes through here, so none is resolved in silence.
    pub async fn resolve_incident(self: &Arc<Self>, id: i64, by: &str, at: i64) -> Result<IncidentRow> {
        self.resolve_incident_because(id, by, at, None).await
    }

    /// [`Engine::resolve_incident`], recording why (what fixed it) in the incident's timeline.
    pub async fn resolve_incident_because(
        self: &Arc<Self>,
        id: i64,
        by: &str,
        at: i64,
        reason: Option<&str>,
    ) -> Result<IncidentRow> {
        let incident = self.store.resolve_incident_because(id, by, at, reason).await?;
        self.announce(resolved_announcement(&incident)).await;
        Ok(incident)
    }

    /// The postmortem draft of incident `id`.
    pub async fn postmortem(&self, id: i64) -> Result<String> {
        let store = &self.store;
        let incident = store.get_incident(id).await?;
        let mut md = String::new();
        writeln!(md, "# Incident {id}: {}\n", incident.title)?;
        writeln!(
            md,
            "- **Service / market:** {} in {}",
            incident.service, incident.market
        )?;
        writeln!(
            md,
            "- **Opened:** {} ({}{})",
            when(incident.opened_at),
            incident.source,
            incident
                .opened_by
                .as_deref()
                .map(|b| format!(", by {b}"))
                .unwrap_or_default()
        )?;
        match incident.resolved_at {
            Some(at) => writeln!(
                md,
                "- **Resolved:** {} by {}, after {}",
                when(at),
                incident.resolved_by.as_deref().unwrap_or("tandem"),
                took(at - incident.opened_at)
            )?,
            None => writeln!(md, "- **Resolved:** not yet")?,
        }
        if let Some(summary) = &incident.summary {
            writeln!(md, "\n{summary}")?;
        }
        let mut timeline: Vec<(i64, String)> =
            vec![(incident.opened_at, format!("incident {id} opened: {}", incident.title))];
        if let Some(at) = incident.resolved_at {
            timeline.push((at, format!("incident {id} resolved")));
        }

        writeln!(md, "\n## What changed\n")?;
        match incident.deployment_id {
            None => writeln!(
                md,
                "No deployment is linked to this incident (link one with `tandem incident link`)."
            )?,
            Some(did) => {
                let d = store.get_deployment(did).await?;
                let release = store.get_release(d.release_id).await?;
                let previous = match d.previous_release_id {
                    Some(p) => Some(store.get_release(p).await?.version),
                    None => None,
                };
                writeln!(
                    md,
                    "Deployment {did} ({}) of {} {} to {}, {}{}; the market ran {} before.",
                    d.kind,
                    d.service,
                    release.version,
                    d.market,
                    d.state,
                    d.reason.as_deref().map(|r| format!(": {r}")).unwrap_or_default(),
                    previous.as_deref().unwrap_or("nothing")
                )?;
                timeline.push((
                    d.started_at,
                    format!("deployment {did} of {} started in {}", release.version, d.market),
                ));
                if let Some(end) = d.finished_at {
                    timeline.push((end, format!("deployment {did} ended {}", d.state)));
                }
                match self.restore_of(did).await? {
                    Some(restore) => {
                        let time = match restore.recovery_ms() {
                            Some(ms) => format!("**{}**", took(ms)),
                            None => "not yet restored".to_string(),
                        };
                        writeln!(md, "\n**Time to restore:** {time}. {RESTORE_DEFINITION}")?;
                    }
                    None => writeln!(
                        md,
                        "\nDORA does not count this deployment as a failed change (it is a rollback, \
                         to a market not live, or neither failed nor linked to an incident)."
                    )?,
                }
                let commits = self.commits_brought(&d).await.unwrap_or_else(|e| {
                    tracing::warn!(deployment = did, error = %e, "cannot read the commits a release brought");
                    Vec::new()
                });
                if !commits.is_empty() {
                    let title = if d.state.went_live() {
                        "Commits it brought"
                    } else {
                        "Commits the release brought (it never served)"
                    };
                    writeln!(md, "\n### {title} ({})\n", commits.len())?;
                    for (sha, at, message) in commits.iter().take(50) {
                        let line = message.as_deref().and_then(|m| m.lines().next()).unwrap_or("");
                        writeln!(md, "- `{}` {line} ({})", &sha[..sha.len().min(10)], when(*at))?;
                    }
                    if commits.len() > 50 {
                        writeln!(md, "- … and {} more", commits.len() - 50)?;
                    }
                }
                // The config the market ran before and with this deployment.
                let before = store
                    .list_deployments_of_market(&d.service, &d.market)
                    .await?
                    .into_iter()
                    .rfind(|p| p.id < did && p.state.went_live())
                    .and_then(|p| p.config_version);
                if let (Some(old), Some(new)) = (before, d.config_version)
                    && old != new
                {
                    let platform = store.load_platform().await?;
                    if let Some(m) = platform.market(&d.market) {
                        let (_, a) = self.config_layers(&platform, &d.service, &d.market, Some(old)).await?;
                        let (_, b) = self.config_layers(&platform, &d.service, &d.market, Some(new)).await?;
                        let diff = diff_configs(&resolve(&a, m).values, &resolve(&b, m).values);
                        writeln!(md, "\n### Config (v{old} → v{new})\n")?;
                        for e in &diff.entries {
                            let what = match &e.change {
                                Change::Added { new } => format!("added, {new}"),
                                Change::Removed { old } => format!("removed (was {old})"),
                                Change::Changed { old, new } => format!("{old} → {new}"),
                            };
                            writeln!(md, "- `{}`: {what}", e.path)?;
                        }
                    }
                }
                let gates = store.list_gate_results(did).await?;
                if !gates.is_empty() {
                    writeln!(
                        md,
                        "\n## Gates\n\n| gate | passed | value | bound | reason |\n|---|---|---|---|---|"
                    )?;
                    for g in &gates {
                        let num = |v: Option<f64>| v.map(|v| format!("{v}")).unwrap_or_default();
                        writeln!(
                            md,
                            "| {} | {} | {} | {} | {} |",
                            g.gate,
                            if g.passed { "yes" } else { "**no**" },
                            num(g.value),
                            num(g.bound),
                            g.reason.replace('|', "\\|")
                        )?;
                        timeline.push((
                            g.recorded_at,
                            format!("gate {} {}", g.gate, if g.passed { "passed" } else { "failed" }),
                        ));
                    }
                }
            }
        }
        // Other markets of the same rollout that failed their gate (one halt, one incident).
        let also: Vec<serde_json::Value> = store
            .list_incident_events(&incident, tandem_store::now_ms(), 300)
            .await?
            .into_iter()
            .filter(|e| e.kind == "incident.also_failed")
            .map(|e| {
                let data: serde_json::Value = serde_json::from_str(&e.data).unwrap_or_default();
                let text = |k: &str| data[k].as_str().unwrap_or("?").to_string();
                timeline.push((
                    e.at,
                    format!(
                        "deployment {} also failed its gate in {}",
                        data["deployment"],
                        text("market")
                    ),
                ));
                data
            })
            .collect();
        if !also.is_empty() {
            writeln!(md, "\n## Other markets of the same rollout\n")?;
            for a in &also {
                writeln!(
                    md,
                    "- {}: deployment {} of {} failed its gate: {}",
                    a["market"].as_str().unwrap_or("?"),
                    a["deployment"],
                    a["release"].as_str().unwrap_or("?"),
                    a["reason"].as_str().unwrap_or("?")
                )?;
            }
        }
        timeline.sort();
        writeln!(md, "\n## Timeline\n")?;
        for (at, what) in &timeline {
            writeln!(md, "- {} — {what}", when(*at))?;
        }
        for section in ["What went well", "What went wrong", "What we learned", "Actions"] {
            writeln!(md, "\n## {section}\n\n_To be written by the team._")?;
        }
        Ok(md)
    }
}

/// `incident.opened`: who or what opened it.
fn opened_announcement(incident: &IncidentRow) -> Announcement {
    let by = incident.opened_by.as_deref().unwrap_or("tandem");
    about(Event::IncidentOpened, incident, &format!("opened by {by}"), by)
}

/// `incident.resolved`: who or what resolved it, and how long it lasted.
fn resolved_announcement(incident: &IncidentRow) -> Announcement {
    let by = incident.resolved_by.as_deref().unwrap_or("tandem");
    let lasted = incident
        .resolved_at
        .map(|at| format!(" after {}", took(at - incident.opened_at)))
        .unwrap_or_default();
    about(
        Event::IncidentResolved,
        incident,
        &format!("resolved by {by}{lasted}"),
        by,
    )
}

/// `Incident 4 of shop in fr {happened}: {title}`, and the incident's ids and times as data.
fn about(event: Event, incident: &IncidentRow, happened: &str, by: &str) -> Announcement {
    Announcement {
        event,
        text: format!(
            "Incident {} of {} in {} {happened}: {}",
            incident.id, incident.service, incident.market, incident.title
        ),
        data: serde_json::json!({
            "incident": incident.id, "service": incident.service, "market": incident.market,
            "deployment": incident.deployment_id, "source": incident.source, "by": by,
            "reason": incident.summary, "opened_at": incident.opened_at,
            "resolved_at": incident.resolved_at, "lasted_ms": incident.resolved_at.map(|at| at - incident.opened_at),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_resolved_incident_says_who_resolved_it_and_how_long_it_lasted() {
        let incident = IncidentRow {
            id: 4,
            service: "shop".into(),
            market: "nl".into(),
            deployment_id: Some(17),
            title: "iDEAL payments time out".into(),
            state: tandem_core::state::IncidentState::Resolved,
            opened_at: 1_000,
            resolved_at: Some(1_000 + 20 * 60_000),
            source: "person".into(),
            opened_by: Some("ana".into()),
            resolved_by: Some("ben".into()),
            fingerprint: None,
            summary: None,
        };
        let a = resolved_announcement(&incident);
        assert_eq!(a.event, Event::IncidentResolved);
        assert_eq!(
            a.text,
            "Incident 4 of shop in nl resolved by ben after 20 min: iDEAL payments time out"
        );
        assert_eq!(a.data["lasted_ms"], 20 * 60_000);
        assert_eq!((&a.data["by"], &a.data["source"]), (&"ben".into(), &"person".into()));
    }
}
