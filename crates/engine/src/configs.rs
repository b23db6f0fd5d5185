//! Config and flag changes as reviewed changes: a change request is checked against the schema
//! of the release running in every market it touches, reviewed under the platform's `changes`
//! policy, and once approved applied — a config change as a new config version carried through
//! the waves by a config rollout (each market redeployed with it, behind the same gates as a
//! release), a flag change by putting the new flag file in force. Rollback returns markets to the
//! config version they ran before. Watchers hear each market's new version at once.

use crate::Engine;
use anyhow::{Context, Result};
use serde::Serialize;
use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use tandem_core::config::{ChangeCheck, ConfigDiff, ConfigSchema, check_change, diff_configs, resolve};
use tandem_core::flags::parse_flags;
use tandem_core::platform::{ConfigLayers, LaunchState, Platform};
use tandem_core::policy::changes::{Author, ChangeRule, Review, ReviewState};
use tandem_core::role::Role;
use tandem_core::rollout::plan_waves;
use tandem_core::state::{ChangeState, RolloutState};
use tandem_store::{
    ChangeReviewRow, ChangeRevisionRow, ChangeRow, ConfigPayload, ConfigVersionRow, NewChange, NewConfigVersion,
    RolloutRow, StoreError,
};

/// A market moved to a new config version: what config watchers hear.
#[derive(Debug, Clone, Serialize)]
pub struct ConfigMove {
    pub service: String,
    pub market: String,
    pub version: i64,
}

/// A change request with everything a reviewer needs.
#[derive(Debug, Clone, Serialize)]
pub struct ChangeView {
    pub change: ChangeRow,
    /// Who wrote each revision, oldest first: every one of them is barred from reviewing it.
    pub authors: Vec<ChangeRevisionRow>,
    /// Every review, of every revision (`revision` says which).
    pub reviews: Vec<ChangeReviewRow>,
    /// Where the current revision stands under the policy.
    pub review: ReviewState,
    /// Who may approve it, in words.
    pub approvers: String,
    pub approvals_needed: u32,
    /// For a config change: the blast radius with each market's diff, and validation against
    /// the schema of the release running in each changed market (as of now).
    pub check: Option<ChangeCheck>,
    /// For a flag change: the leaf diff between the flag file in force and the proposed one.
    pub flags_diff: Option<ConfigDiff>,
    /// For a flag change: why the proposed file does not compile, if it does not.
    pub flags_error: Option<String>,
}

impl Engine {
    /// Wakes with every market that moves to a new config version.
    pub fn config_moves(&self) -> tokio::sync::broadcast::Receiver<ConfigMove> {
        self.config_moves.subscribe()
    }

    pub(crate) fn announce_config(&self, service: &str, market: &str, version: i64) {
        // No receiver is fine: nobody watches.
        let _ = self.config_moves.send(ConfigMove {
            service: service.to_string(),
            market: market.to_string(),
            version,
        });
        self.notify();
    }

    /// The config layers of `version` (the market's own when `None`), and that version. A
    /// service Tandem keeps no config for yet reads the platform file's layers.
    pub async fn config_layers(
        &self,
        platform: &Platform,
        service: &str,
        market: &str,
        version: Option<i64>,
    ) -> Result<(Option<i64>, ConfigLayers)> {
        let row = match version {
            Some(v) => self.store.get_config_version(service, v).await.map(Some)?,
            None => match self.store.market_config(service, market).await {
                Ok(row) => Some(row),
                Err(StoreError::NotFound { .. }) => None,
                Err(e) => return Err(e.into()),
            },
        };
        match row {
            Some(row) => Ok((Some(row.version), row.layers()?)),
            None => Ok((
                None,
                platform.service(service).map(|s| s.config.clone()).unwrap_or_default(),
            )),
        }
    }

    /// Each market's resolved config of `service`, at the version the market runs.
    pub async fn market_configs(&self, service: &str) -> Result<BTreeMap<String, (i64, serde_json::Value)>> {
        let platform = self.store.load_platform().await?;
        let latest = self.store.latest_config(service).await?;
        let pinned = self.store.market_config_versions(service).await?;
        let mut layers_of: HashMap<i64, ConfigLayers> = HashMap::new();
        let mut out = BTreeMap::new();
        for m in &platform.markets {
            let version = pinned.get(&m.id).copied().unwrap_or(latest.version);
            if let Entry::Vacant(slot) = layers_of.entry(version) {
                let row = self.store.get_config_version(service, version).await?;
                slot.insert(row.layers()?);
            }
            out.insert(m.id.clone(), (version, resolve(&layers_of[&version], m).values));
        }
        Ok(out)
    }

    /// The compiled config schema of the release live in each market of `service` (markets
    /// running a release without one, or nothing, are absent).
    async fn live_schemas(&self, service: &str) -> Result<HashMap<String, Arc<ConfigSchema>>> {
        let mut by_release: HashMap<i64, Option<Arc<ConfigSchema>>> = HashMap::new();
        let mut out = HashMap::new();
        for d in self.store.list_live_deployments().await? {
            if d.service != service {
                continue;
            }
            if let Entry::Vacant(slot) = by_release.entry(d.release_id) {
                let release = self.store.get_release(d.release_id).await?;
                let schema = match &release.config_schema {
                    Some(text) => Some(Arc::new(
                        ConfigSchema::parse(&format!("{}'s config schema", release.version), text)
                            .map_err(|e| anyhow::anyhow!("{e}"))?,
                    )),
                    None => None,
                };
                slot.insert(schema);
            }
            if let Some(schema) = by_release[&d.release_id].clone() {
                out.insert(d.market, schema);
            }
        }
        Ok(out)
    }

    /// Checks proposed layers against the newest version: blast radius, validation in every
    /// changed market, unknown regions and markets. Also says whether a live market changes.
    pub async fn check_config(
        &self,
        service: &str,
        base: &ConfigLayers,
        proposed: &ConfigLayers,
    ) -> Result<(ChangeCheck, bool)> {
        let platform = self.store.load_platform().await?;
        let schemas = self.live_schemas(service).await?;
        let check = check_change(base, proposed, &platform.markets, |m| {
            schemas.get(m).map(|s| s.as_ref())
        });
        let production = check
            .radius
            .markets()
            .any(|id| platform.market(id).is_some_and(|m| m.state == LaunchState::Live));
        Ok((check, production))
    }

    /// Proposes new config layers for `service` as a change request. Refused, with every
    /// problem, when it leaves a market invalid or changes nothing. Applied at once when the
    /// policy asks for no approval.
    pub async fn propose_config(
        self: &Arc<Self>,
        service: &str,
        title: &str,
        proposed: &ConfigLayers,
        author: &str,
        role: Role,
    ) -> Result<ChangeRow> {
        let latest = self.store.latest_config(service).await?;
        let production = self.refuse_bad_config(service, &latest, proposed).await?;
        let row = self
            .store
            .insert_change(NewChange {
                service,
                kind: "config",
                title,
                author,
                author_role: role.as_str(),
                base_version: latest.version,
                proposed: &serde_json::to_string(proposed)?,
                production,
            })
            .await?;
        self.settle_change(row.id).await
    }

    /// Proposes a new flag file for `service`; refused when it does not compile.
    pub async fn propose_flags(
        self: &Arc<Self>,
        service: &str,
        title: &str,
        text: &str,
        author: &str,
        role: Role,
    ) -> Result<ChangeRow> {
        let (base, production) = self.refuse_bad_flags(service, text).await?;
        let row = self
            .store
            .insert_change(NewChange {
                service,
                kind: "flags",
                title,
                author,
                author_role: role.as_str(),
                base_version: base,
                proposed: text,
                production,
            })
            .await?;
        self.settle_change(row.id).await
    }

    /// A new proposal for an open or rejected change by `by` (holding `role`): checked again,
    /// its approvals reset, and `by` becomes one of its authors (who may not review it).
    pub async fn revise_change(self: &Arc<Self>, id: i64, proposed: &str, by: &str, role: Role) -> Result<ChangeRow> {
        let change = self.store.get_change(id).await?;
        let (base, production, proposed) = match change.kind.as_str() {
            "config" => {
                let layers: ConfigLayers = serde_json::from_str(proposed).map_err(|e| {
                    crate::Error::invalid(format!(
                        "the proposed config is not `{{ defaults, regions, markets }}`: {e}"
                    ))
                })?;
                let latest = self.store.latest_config(&change.service).await?;
                let production = self.refuse_bad_config(&change.service, &latest, &layers).await?;
                (latest.version, production, serde_json::to_string(&layers)?)
            }
            _ => {
                let (base, production) = self.refuse_bad_flags(&change.service, proposed).await?;
                (base, production, proposed.to_string())
            }
        };
        self.store
            .revise_change(id, &proposed, base, production, by, role.as_str())
            .await?;
        self.notify();
        self.settle_change(id).await
    }

    /// Records a review of the change's current revision; see [`Engine::review_revision`].
    pub async fn review_change(
        self: &Arc<Self>,
        id: i64,
        by: &str,
        role: Role,
        approve: bool,
        comment: Option<&str>,
    ) -> Result<ChangeRow> {
        self.review_revision(id, None, by, role, approve, comment).await
    }

    /// Records a review of revision `revision` (the current one when `None`); refused (409)
    /// when the change is at another revision now, so an approval is for the exact content
    /// the reviewer read. The reviewer must be allowed by the policy (403 otherwise): no
    /// author of any revision up to it may review. An approval that completes the policy
    /// applies the change.
    pub async fn review_revision(
        self: &Arc<Self>,
        id: i64,
        revision: Option<i64>,
        by: &str,
        role: Role,
        approve: bool,
        comment: Option<&str>,
    ) -> Result<ChangeRow> {
        let change = self.store.get_change(id).await?;
        if let Some(asked) = revision
            && asked != change.revision
        {
            return Err(crate::Error::Conflict(format!(
                "change request {id} is at revision {} now, not revision {asked}: read it again and review revision {}",
                change.revision, change.revision
            ))
            .into());
        }
        let rule = self.rule_for(&change).await?;
        let authors = self.authors_of(&change).await?;
        rule.may_review(&authors, by, role).map_err(crate::Error::Forbidden)?;
        // Refused by the store if the change moved to another revision since it was read.
        self.store
            .insert_review(id, change.revision, by, role.as_str(), approve, comment)
            .await?;
        self.notify();
        self.settle_change(id).await
    }

    /// Every author of the change's revisions up to its current one (its opener first).
    pub async fn authors_of(&self, change: &ChangeRow) -> Result<Vec<Author>> {
        let rows = self.store.list_change_revisions(change.id).await?;
        let mut authors = Vec::with_capacity(rows.len() + 1);
        for r in rows.into_iter().filter(|r| r.revision <= change.revision) {
            let role = r
                .role
                .parse()
                .map_err(|e: String| anyhow::anyhow!("revision {} of change request {}: {e}", r.revision, change.id))?;
            authors.push(Author {
                revision: r.revision,
                name: r.author,
                role,
            });
        }
        // The opener is an author whatever the revisions table holds.
        if !authors.iter().any(|a| a.revision == 1) {
            let role = change.author_role.parse().map_err(|e: String| anyhow::anyhow!(e))?;
            authors.insert(
                0,
                Author {
                    revision: 1,
                    name: change.author.clone(),
                    role,
                },
            );
        }
        Ok(authors)
    }

    /// Withdraws an open change (its author, or an admin).
    pub async fn withdraw_change(&self, id: i64, by: &str) -> Result<ChangeRow> {
        let row = self
            .store
            .set_change_state(
                id,
                &ChangeState::sources(ChangeState::Withdrawn),
                ChangeState::Withdrawn,
                Some(&format!("withdrawn by {by}")),
                None,
                None,
            )
            .await?;
        self.notify();
        Ok(row)
    }

    async fn rule_for(&self, change: &ChangeRow) -> Result<ChangeRule> {
        let platform = self.store.load_platform().await?;
        Ok(platform.changes.rule(change.production))
    }

    /// Where an open change stands; approved → applied, rejected → rejected.
    async fn settle_change(self: &Arc<Self>, id: i64) -> Result<ChangeRow> {
        let change = self.store.get_change(id).await?;
        if change.state != ChangeState::Open {
            return Ok(change);
        }
        let state = self.review_state(&change).await?;
        let row = match state {
            ReviewState::Approved { .. } => self.apply_change(&change).await?,
            ReviewState::Rejected { by } => {
                self.store
                    .set_change_state(
                        id,
                        &[ChangeState::Open],
                        ChangeState::Rejected,
                        Some(&format!("rejected by {by}")),
                        None,
                        None,
                    )
                    .await?
            }
            ReviewState::Waiting { .. } => change,
        };
        self.notify();
        Ok(row)
    }

    async fn review_state(&self, change: &ChangeRow) -> Result<ReviewState> {
        let rule = self.rule_for(change).await?;
        self.review_state_under(change, &rule).await
    }

    /// Where a change stands under `rule`, from the reviews of its current revision.
    async fn review_state_under(&self, change: &ChangeRow, rule: &ChangeRule) -> Result<ReviewState> {
        let authors = self.authors_of(change).await?;
        let reviews: Vec<Review> = self
            .store
            .list_reviews(change.id)
            .await?
            .into_iter()
            .filter(|r| r.revision == change.revision)
            .filter_map(|r| {
                Some(Review {
                    role: r.role.parse().ok()?,
                    by: r.reviewer,
                    approve: r.verdict == "approve",
                })
            })
            .collect();
        Ok(rule.evaluate(&authors, &reviews))
    }

    /// Applies an approved change. Config: a new version (refused if another came since the
    /// change was written) carried through the waves by a config rollout. Flags: in force now.
    async fn apply_change(self: &Arc<Self>, change: &ChangeRow) -> Result<ChangeRow> {
        // Claimed first, so that two approvals landing together apply it once.
        let claimed = self
            .store
            .set_change_state(change.id, &[ChangeState::Open], ChangeState::Applying, None, None, None)
            .await?;
        let outcome = match claimed.kind.as_str() {
            "config" => self.apply_config_change(&claimed).await,
            _ => self.apply_flag_change(&claimed).await,
        };
        match outcome {
            Ok(row) => Ok(row),
            Err(e) => {
                let reason = format!("{e:#}");
                self.store
                    .set_change_state(
                        change.id,
                        &[ChangeState::Applying],
                        ChangeState::Failed,
                        Some(&reason),
                        None,
                        None,
                    )
                    .await?;
                Err(e)
            }
        }
    }

    async fn apply_flag_change(self: &Arc<Self>, change: &ChangeRow) -> Result<ChangeRow> {
        let reason = format!("change request {}: {}", change.id, change.title);
        let row = self
            .apply_flags(&change.service, &change.proposed, &change.author, Some(&reason))
            .await?;
        Ok(self
            .store
            .set_change_state(
                change.id,
                &[ChangeState::Applying],
                ChangeState::Done,
                Some(&format!("flags version {} in force", row.version)),
                Some(row.version),
                None,
            )
            .await?)
    }

    async fn apply_config_change(self: &Arc<Self>, change: &ChangeRow) -> Result<ChangeRow> {
        let layers: ConfigLayers = serde_json::from_str(&change.proposed).context("stored proposal")?;
        let platform = self.store.load_platform().await?;
        let markets: Vec<String> = platform.markets.iter().map(|m| m.id.clone()).collect();
        let version = self
            .store
            .insert_config_version(
                NewConfigVersion {
                    service: &change.service,
                    layers: &layers,
                    base: change.base_version,
                    by: &change.author,
                    message: &change.title,
                    change_id: Some(change.id),
                },
                &markets,
            )
            .await?;
        let rollout = self
            .roll_out_config(&change.service, version.version, Some(change.id), &change.author)
            .await?;
        let (state, result) = match &rollout {
            Some(r) => (
                ChangeState::Applied,
                format!("config v{} rolling out (rollout {})", version.version, r.id),
            ),
            None => (
                ChangeState::Done,
                format!("config v{} in force: nothing runs yet", version.version),
            ),
        };
        Ok(self
            .store
            .set_change_state(
                change.id,
                &[ChangeState::Applying],
                state,
                Some(&result),
                Some(version.version),
                rollout.as_ref().map(|r| r.id),
            )
            .await?)
    }

    /// Starts a config rollout of `version` through the waves (queued behind any rollout that
    /// holds the markets). When nothing of the service runs anywhere, the markets move to the
    /// version at once and no rollout is made.
    pub async fn roll_out_config(
        self: &Arc<Self>,
        service: &str,
        version: i64,
        change_id: Option<i64>,
        by: &str,
    ) -> Result<Option<RolloutRow>> {
        let platform = self.store.load_platform().await?;
        let live = self.store.list_live_deployments().await?;
        let Some(any) = live.iter().find(|d| d.service == service) else {
            for m in &platform.markets {
                self.store
                    .set_market_config(service, &m.id, version, by, "nothing runs here yet")
                    .await?;
                self.announce_config(service, &m.id, version);
            }
            return Ok(None);
        };
        let plan = plan_waves(&platform);
        let payload = ConfigPayload { version, change_id };
        let row = self
            .store
            .insert_rollout_of(service, any.release_id, &plan, by, true, Some(payload))
            .await?;
        if row.state != RolloutState::Queued {
            self.spawn_rollout(row.id);
        }
        self.notify();
        Ok(Some(row))
    }

    /// Refuses config layers that leave a market invalid, edit unknown layers or change
    /// nothing; returns whether a live market changes.
    async fn refuse_bad_config(
        &self,
        service: &str,
        latest: &ConfigVersionRow,
        proposed: &ConfigLayers,
    ) -> Result<bool> {
        let (check, production) = self.check_config(service, &latest.layers()?, proposed).await?;
        if !check.is_valid() {
            let mut lines: Vec<String> = check.errors.iter().map(ToString::to_string).collect();
            lines.extend(
                check
                    .unknown_regions
                    .iter()
                    .map(|r| format!("region `{r}`: no market of the platform is in this region")),
            );
            lines.extend(
                check
                    .unknown_markets
                    .iter()
                    .map(|m| format!("market `{m}`: not a market of the platform")),
            );
            return Err(crate::Error::Refused {
                reason: format!(
                    "this change would leave the config of {service} invalid:\n  {}",
                    lines.join("\n  ")
                ),
                details: Some(serde_json::json!({
                    "errors": check.errors,
                    "unknown_regions": check.unknown_regions,
                    "unknown_markets": check.unknown_markets,
                })),
            }
            .into());
        }
        if check.radius.is_empty() {
            return Err(crate::Error::refused(format!(
                "this change leaves every market's config of {service} as it is (version {}): nothing to review",
                latest.version
            ))
            .into());
        }
        Ok(production)
    }

    /// Refuses a flag file that does not compile against the platform; returns the flag
    /// version in force and whether a live market exists (flags reach every market).
    async fn refuse_bad_flags(&self, service: &str, text: &str) -> Result<(i64, bool)> {
        let platform = self.store.load_platform().await?;
        if platform.service(service).is_none() {
            return Err(crate::Error::missing(format!("service `{service}`")).into());
        }
        let markets: Vec<&str> = platform.markets.iter().map(|m| m.id.as_str()).collect();
        if let Err(e) = parse_flags(&format!("flags of {service}"), text, Some(&markets)) {
            return Err(crate::Error::Refused {
                reason: e.to_string(),
                details: Some(serde_json::json!({ "errors": e.to_string().lines().collect::<Vec<_>>() })),
            }
            .into());
        }
        let base = self.flags().versions.get(service).map(|v| v.version).unwrap_or(0);
        let production = platform.markets.iter().any(|m| m.state == LaunchState::Live);
        Ok((base, production))
    }

    /// A change request with its reviews, where it stands, and its per-market diff and checks.
    pub async fn change_view(&self, id: i64) -> Result<ChangeView> {
        let change = self.store.get_change(id).await?;
        let reviews = self.store.list_reviews(id).await?;
        let rule = self.rule_for(&change).await?;
        let authors = self.authors_of(&change).await?;
        let review = self.review_state_under(&change, &rule).await?;
        let (mut check, mut flags_diff, mut flags_error) = (None, None, None);
        if change.kind == "config" {
            let base = self
                .store
                .get_config_version(&change.service, change.base_version)
                .await?;
            let proposed: ConfigLayers = serde_json::from_str(&change.proposed)?;
            check = Some(self.check_config(&change.service, &base.layers()?, &proposed).await?.0);
        } else {
            let old = match self
                .store
                .list_flag_versions(&change.service)
                .await?
                .into_iter()
                .find(|v| v.version == change.base_version)
            {
                Some(v) => serde_saphyr_value(&v.text),
                None => serde_json::json!({}),
            };
            flags_diff = Some(diff_configs(&old, &serde_saphyr_value(&change.proposed)));
            flags_error = self
                .refuse_bad_flags(&change.service, &change.proposed)
                .await
                .err()
                .map(|e| format!("{e:#}"));
        }
        Ok(ChangeView {
            approvers: rule.approvers(&authors),
            authors: self.store.list_change_revisions(id).await?,
            approvals_needed: rule.approvals,
            change,
            reviews,
            review,
            check,
            flags_diff,
            flags_error,
        })
    }

    /// Sends markets of `service` (all when `markets` is empty) back to the config version each
    /// ran before its current one, at once, through config deployments behind the gates.
    pub async fn rollback_config(
        self: &Arc<Self>,
        service: &str,
        markets: &[String],
        by: &str,
    ) -> Result<Vec<ConfigRollback>> {
        let platform = self.store.load_platform().await?;
        if platform.service(service).is_none() {
            return Err(crate::Error::missing(format!("service `{service}`")).into());
        }
        let markets: Vec<String> = if markets.is_empty() {
            platform.markets.iter().map(|m| m.id.clone()).collect()
        } else {
            if let Some(unknown) = markets.iter().find(|m| platform.market(m).is_none()) {
                return Err(crate::Error::missing(format!("market `{unknown}`")).into());
            }
            markets.to_vec()
        };
        let mut set = tokio::task::JoinSet::new();
        for market in markets {
            let (engine, service, by) = (self.clone(), service.to_string(), by.to_string());
            set.spawn(tandem_store::audit::inherit(async move {
                engine.rollback_market_config(&service, &market, &by).await
            }));
        }
        let mut out = Vec::new();
        while let Some(joined) = set.join_next().await {
            out.push(joined.map_err(|e| anyhow::anyhow!("a config rollback failed: {e}"))??);
        }
        out.sort_by(|a, b| a.market.cmp(&b.market));
        self.notify();
        Ok(out)
    }

    async fn rollback_market_config(self: &Arc<Self>, service: &str, market: &str, by: &str) -> Result<ConfigRollback> {
        let history = self.store.market_config_history(service, market).await?;
        let current = history.first().map(|h| h.version);
        let previous = current.and_then(|c| history.iter().map(|h| h.version).find(|v| *v != c));
        let mut outcome = ConfigRollback {
            market: market.to_string(),
            from: current,
            to: previous,
            state: "skipped".into(),
            reason: String::new(),
        };
        let (Some(from), Some(to)) = (current, previous) else {
            outcome.reason = "no earlier config version ran here".into();
            return Ok(outcome);
        };
        let holder = format!("a config rollback of {market} by {by}");
        if let Err(e) = self.store.lock_market(service, market, &holder).await {
            outcome.state = "failed".into();
            outcome.reason = e.to_string();
            return Ok(outcome);
        }
        let result = self.move_market_config(None, service, market, to, by, "rollback").await;
        if let Err(e) = self.store.unlock_market(service, market, &holder).await {
            tracing::error!(service, market, error = %e, "cannot release a config rollback's lock");
        }
        let moved = result?;
        outcome.state = if moved.healthy { "rolled back" } else { "failed" }.into();
        outcome.reason = moved.reason;
        if moved.healthy {
            self.announce(crate::notifications::Announcement {
                event: tandem_core::policy::Event::Rollback,
                text: format!("{service} in {market}: config rolled back from v{from} to v{to} by {by}"),
                data: serde_json::json!({ "service": service, "market": market, "from": from, "to": to, "kind": "config" }),
            })
            .await;
        }
        Ok(outcome)
    }

    /// Moves one market to config `version`: directly when nothing runs there or its resolved
    /// config does not change; otherwise by redeploying the release it runs with that version,
    /// behind the gates (the market keeps its config if they fail).
    pub(crate) async fn move_market_config(
        self: &Arc<Self>,
        rollout_id: Option<i64>,
        service: &str,
        market: &str,
        version: i64,
        by: &str,
        why: &str,
    ) -> Result<crate::deploy::MarketOutcome> {
        let platform = self.store.load_platform().await?;
        let m = platform.market(market).ok_or_else(|| {
            crate::Error::not_found("market", market, format!("market `{market}` is not in the platform"))
        })?;
        let live = self
            .store
            .list_live_deployments()
            .await?
            .into_iter()
            .find(|d| d.service == service && d.market == market);
        let Some(live) = live else {
            self.store
                .set_market_config(service, market, version, by, &format!("{why}: nothing runs here yet"))
                .await?;
            self.announce_config(service, market, version);
            return Ok(crate::deploy::MarketOutcome::skipped(
                market,
                format!("nothing runs here: config v{version} takes effect at its next deployment"),
            ));
        };
        let current = self.store.market_config(service, market).await?;
        let target = self.store.get_config_version(service, version).await?;
        if current.version == version {
            return Ok(crate::deploy::MarketOutcome::skipped(
                market,
                format!("already on config v{version}"),
            ));
        }
        let before = resolve(&current.layers()?, m).values;
        let after = resolve(&target.layers()?, m).values;
        if before == after {
            self.store
                .set_market_config(
                    service,
                    market,
                    version,
                    by,
                    &format!("{why}: its config does not change"),
                )
                .await?;
            self.announce_config(service, market, version);
            return Ok(crate::deploy::MarketOutcome::skipped(
                market,
                format!("config v{version} leaves {market}'s config as it is"),
            ));
        }
        let release = self.store.get_release(live.release_id).await?;
        let spec = release.service_spec()?;
        let artifacts = self.prepare_release(&release).await?;
        let outcome = self
            .deploy_market_with(
                rollout_id,
                tandem_core::state::DeploymentKind::Config,
                &release,
                &spec,
                &artifacts,
                market,
                Some(version),
            )
            .await;
        Ok(outcome)
    }
}

/// What a config rollback did in one market.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ConfigRollback {
    pub market: String,
    pub from: Option<i64>,
    pub to: Option<i64>,
    /// rolled back, failed or skipped.
    pub state: String,
    pub reason: String,
}

/// A flag file as JSON, for a leaf diff (`{}` when it does not parse).
fn serde_saphyr_value(text: &str) -> serde_json::Value {
    serde_saphyr::from_str(text).unwrap_or_else(|_| serde_json::json!({}))
}
