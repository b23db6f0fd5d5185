//! One incident as a responder reads it: the incident, its market's name, the deployments of
//! its service in its market (to link it to one), the release versions they name, its timeline
//! from the events table, and its postmortem draft.

use crate::{Engine, Result};
use std::collections::HashMap;
use tandem_core::dora::Restore;
use tandem_store::{DeploymentRow, EventRow, IncidentRow, now_ms};

/// How many events an incident's timeline shows; a flapping market cannot make it endless.
const TIMELINE_LIMIT: i64 = 300;

/// An incident's page.
#[derive(Debug, Clone)]
pub struct IncidentDetail {
    /// The incident.
    pub incident: IncidentRow,
    /// Its market's name, when the platform still has the market.
    pub market_name: Option<String>,
    /// Every deployment of its service in its market, newest first.
    pub deployments: Vec<DeploymentRow>,
    /// The version of every release of its service, by release id.
    pub versions: HashMap<i64, String>,
    /// Its events, its deployment's, and its market going down and up around it, oldest first.
    pub events: Vec<EventRow>,
    /// Its postmortem draft, in Markdown.
    pub postmortem: String,
    /// Its deployment's restore time as DORA counts it (the one the Delivery page's medians are
    /// made of); `None` without a deployment DORA counts as a failed change.
    pub restore: Option<Restore>,
    /// The change request that caused it: the one a config rollout of its deployment carried.
    pub change_id: Option<i64>,
}

impl IncidentDetail {
    /// The deployment the incident is linked to, when it is one of [`IncidentDetail::deployments`].
    pub fn linked(&self) -> Option<&DeploymentRow> {
        let id = self.incident.deployment_id?;
        self.deployments.iter().find(|d| d.id == id)
    }

    /// The version of release `id`, `?` when unknown.
    pub fn version(&self, id: i64) -> &str {
        self.versions.get(&id).map_or("?", String::as_str)
    }
}

impl Engine {
    /// Incident `id`'s page; not found when there is no such incident.
    pub async fn incident_detail(&self, id: i64) -> Result<IncidentDetail> {
        let incident = self.store.get_incident(id).await?;
        let versions = self
            .store
            .list_releases(Some(&incident.service))
            .await?
            .into_iter()
            .map(|r| (r.id, r.version))
            .collect();
        let mut deployments = self
            .store
            .list_deployments_of_market(&incident.service, &incident.market)
            .await?;
        deployments.reverse();
        let events = self
            .store
            .list_incident_events(&incident, now_ms(), TIMELINE_LIMIT)
            .await?;
        let postmortem = self.postmortem(id).await?;
        let restore = match incident.deployment_id {
            Some(d) => self.restore_of(d).await?,
            None => None,
        };
        let linked_rollout = deployments
            .iter()
            .find(|d| Some(d.id) == incident.deployment_id)
            .and_then(|d| d.rollout_id);
        let change_id = match linked_rollout {
            Some(r) => self.store.get_rollout(r).await?.change_id,
            None => None,
        };
        let market_name = self
            .store
            .list_markets()
            .await?
            .into_iter()
            .find(|m| m.id == incident.market)
            .map(|m| m.name);
        Ok(IncidentDetail {
            incident,
            market_name,
            deployments,
            versions,
            events,
            postmortem,
            restore,
            change_id,
        })
    }
}
