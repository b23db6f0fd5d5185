//! The emergency path for feature flags: a flag marked `kill-switch: true` may be killed at
//! once (everywhere or in one market) by someone holding the platform's `flags.emergency-role`
//! (operator by default). The kill serves the flag's default variant, on every server at once,
//! and is recorded as an emergency change: unreviewed until someone of the other side reviews
//! it afterwards (its author never). A verdict reverts nothing: lifting a kill is a change
//! request like any flag change (four-eyes), and its approval lifts it. Nothing else about a
//! flag can change this way.

use crate::conductor::Signal;
use crate::{Engine, Result};
use std::sync::Arc;
use tandem_core::policy::changes::{Author, ChangeRule};
use tandem_core::role::Role;
use tandem_store::{ChangeRow, FlagEmergencyFilter, FlagEmergencyRow, NewFlagEmergency};

/// Longest reason or review comment kept, in characters.
pub const REASON_MAX: usize = 1000;

/// What an emergency kill asks for.
#[derive(Debug, Clone, Copy)]
pub struct KillRequest<'a> {
    pub flag: &'a str,
    /// `None`: every market.
    pub market: Option<&'a str>,
    pub reason: &'a str,
}

impl Engine {
    /// Kills a kill-switch flag at once: it serves its default variant where the kill holds.
    /// Refused for a caller below the platform's emergency role (403), an unknown flag or
    /// market (404, 422), a flag whose file does not mark it `kill-switch: true` (422), a flag
    /// already off or already killed there (409), and without a reason (422).
    pub async fn kill_flag(&self, kill: KillRequest<'_>, by: &str, role: Role) -> Result<FlagEmergencyRow> {
        self.check_emergency_role(by, role).await?;
        let platform = self.store.load_platform().await?;
        let reason = bounded("reason", kill.reason)?.ok_or_else(|| {
            crate::Error::invalid_at("reason", "an emergency change needs a reason: say why (--reason)")
        })?;
        if let Some(m) = kill.market
            && platform.market(m).is_none()
        {
            let known: Vec<&str> = platform.markets.iter().map(|m| m.id.as_str()).collect();
            return Err(crate::Error::invalid_at(
                "market",
                format!(
                    "market `{m}` is not a market of the platform: expected one of {}",
                    known.join(", ")
                ),
            ));
        }
        let snapshot = self.flags();
        let (Some(flag), Some(service)) = (snapshot.set.get(kill.flag), snapshot.owners.get(kill.flag)) else {
            return Err(crate::Error::not_found(
                "flag",
                kill.flag,
                format!("flag `{}` is not defined by any service's flags in force", kill.flag),
            ));
        };
        if !flag.kill_switch() {
            return Err(crate::Error::refused(format!(
                "flag `{}` is not a kill switch (its file does not say `kill-switch: true`): only a kill switch may be flipped at once; change it through a reviewed change request (tandem flags apply)",
                kill.flag
            )));
        }
        if !flag.enabled() {
            return Err(crate::Error::conflict(format!(
                "flag `{}` is already off in its file (`enabled: false`): it serves its default everywhere",
                kill.flag
            )));
        }
        let row = self
            .store
            .insert_flag_emergency(NewFlagEmergency {
                service,
                flag: kill.flag,
                market: kill.market,
                reason: &reason,
                by,
                role: role.as_str(),
            })
            .await?;
        tracing::warn!(flag = kill.flag, market = ?kill.market, by, id = row.id, "flag killed in an emergency");
        self.load_flags().await?;
        self.signal(Signal::Flags);
        Ok(row)
    }

    /// Refuses (403) a caller below the platform's `flags.emergency-role` (operator by default).
    pub async fn check_emergency_role(&self, by: &str, role: Role) -> Result<()> {
        let needed = self.store.load_platform().await?.flags.emergency_role;
        if role < needed {
            return Err(crate::Error::Forbidden(format!(
                "killing a flag in an emergency needs the {needed} role (the platform's flags.emergency-role) and {by} is a {role}: propose the change instead (tandem flags apply), or ask someone with that role"
            )));
        }
        Ok(())
    }

    /// Records the review of an emergency change, afterwards: by someone who did not make it,
    /// of the side the platform's `changes` policy names (the other side by default). A
    /// rejection reverts nothing: the kill stays until a change request lifts it.
    pub async fn review_flag_kill(
        &self,
        id: i64,
        by: &str,
        role: Role,
        approve: bool,
        comment: Option<&str>,
    ) -> Result<FlagEmergencyRow> {
        let row = self.store.get_flag_emergency(id).await?;
        if row.created_by == by {
            return Err(crate::Error::Forbidden(format!(
                "{by} made emergency change {id}: someone else, of the other side, must review it"
            )));
        }
        let comment = bounded("comment", comment.unwrap_or_default())?;
        let platform = self.store.load_platform().await?;
        let rule = ChangeRule {
            approvals: 1,
            from: platform.changes.production.from,
        };
        let author = Author {
            revision: 1,
            name: row.created_by.clone(),
            role: row
                .created_role
                .parse()
                .map_err(|e: String| anyhow::anyhow!("emergency change {id}: {e}"))?,
        };
        rule.may_review(&[author], by, role)
            .map_err(|e| crate::Error::Forbidden(e.replace("this change", &format!("emergency change {id}"))))?;
        let row = self
            .store
            .review_flag_emergency(id, by, role.as_str(), approve, comment.as_deref())
            .await?;
        self.notify();
        Ok(row)
    }

    /// Opens the change request that lifts a kill in force: the service's flag file as it is,
    /// reviewed like any flag change; once it is applied the kill is lifted and the flag serves
    /// its targeting again. Applied at once when the policy needs no approval.
    pub async fn lift_flag_kill(self: &Arc<Self>, id: i64, reason: &str, by: &str, role: Role) -> Result<ChangeRow> {
        let row = self.store.get_flag_emergency(id).await?;
        if row.lifted_at.is_some() {
            return Err(crate::Error::conflict(format!(
                "emergency change {id} was lifted already"
            )));
        }
        let reason = bounded("reason", reason)?
            .ok_or_else(|| crate::Error::invalid_at("reason", "lifting a kill needs a reason: say why (--reason)"))?;
        let text = self
            .flags()
            .versions
            .get(&row.service)
            .map(|v| v.text.clone())
            .ok_or_else(|| crate::Error::missing(format!("the flags of service `{}`", row.service)))?;
        let place = row
            .market
            .as_deref()
            .map_or("everywhere".to_string(), |m| format!("in {m}"));
        let title = format!(
            "Lift emergency change {id} (flag {} killed {place}): {reason}",
            row.flag
        );
        let change = self.propose_flags(&row.service, &title, &text, by, role).await?;
        self.store.set_flag_lift_change(id, change.id).await?;
        if change.state == tandem_core::state::ChangeState::Done {
            self.lift_kills_of(change.id).await?;
        }
        Ok(change)
    }

    /// Lifts the kills change request `change_id` was opened for (once it is applied).
    pub(crate) async fn lift_kills_of(&self, change_id: i64) -> Result<()> {
        if !self.store.lift_flag_kills(change_id).await?.is_empty() {
            self.load_flags().await?;
            self.signal(Signal::Flags);
        }
        Ok(())
    }

    /// Emergency changes, newest first.
    pub async fn list_flag_emergencies(
        &self,
        filter: FlagEmergencyFilter<'_>,
        limit: i64,
    ) -> Result<Vec<FlagEmergencyRow>> {
        Ok(self.store.list_flag_emergencies(filter, limit).await?)
    }

    /// One emergency change.
    pub async fn get_flag_emergency(&self, id: i64) -> Result<FlagEmergencyRow> {
        Ok(self.store.get_flag_emergency(id).await?)
    }
}

/// The text trimmed, `None` when empty; refused when longer than [`REASON_MAX`].
fn bounded(field: &str, text: &str) -> Result<Option<String>> {
    let text = text.trim();
    if text.chars().count() > REASON_MAX {
        return Err(crate::Error::invalid_at(
            field,
            format!("the {field} is longer than {REASON_MAX} characters: say it shorter"),
        ));
    }
    Ok((!text.is_empty()).then(|| text.to_string()))
}
