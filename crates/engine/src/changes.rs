//! The change-request workflow for config and flags: a change request is checked against the
//! schema of the release running in every market it touches, reviewed under the platform's
//! `changes` policy (proposed, revised, reviewed, withdrawn), and once approved applied — a
//! config change as a new config version carried through the waves by a config rollout, a flag
//! change by putting the new flag file in force.

use crate::Engine;
use crate::Result;
use anyhow::Context;
use serde::Serialize;
use std::sync::Arc;
use tandem_core::config::{ChangeCheck, ConfigDiff, diff_configs};
use tandem_core::flags::parse_flags;
use tandem_core::platform::{ConfigLayers, LaunchState};
use tandem_core::policy::changes::{Author, ChangeRule, Review, ReviewState};
use tandem_core::role::Role;
use tandem_core::state::ChangeState;
use tandem_store::{ChangeReviewRow, ChangeRevisionRow, ChangeRow, ConfigVersionRow, NewChange, NewConfigVersion};

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
                proposed: &serde_json::to_string(proposed).context("cannot encode the proposed config")?,
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
                (
                    latest.version,
                    production,
                    serde_json::to_string(&layers).context("cannot encode the proposed config")?,
                )
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
            )));
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
        // A change request opened to lift an emergency kill lifts it now.
        self.lift_kills_of(change.id).await?;
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
            });
        }
        if check.radius.is_empty() {
            return Err(crate::Error::refused(format!(
                "this change leaves every market's config of {service} as it is (version {}): nothing to review",
                latest.version
            )));
        }
        Ok(production)
    }

    /// Refuses a flag file that does not compile against the platform; returns the flag
    /// version in force and whether a live market exists (flags reach every market).
    async fn refuse_bad_flags(&self, service: &str, text: &str) -> Result<(i64, bool)> {
        let platform = self.store.load_platform().await?;
        if platform.service(service).is_none() {
            return Err(crate::Error::missing(format!("service `{service}`")));
        }
        let markets: Vec<&str> = platform.markets.iter().map(|m| m.id.as_str()).collect();
        if let Err(e) = parse_flags(&format!("flags of {service}"), text, Some(&markets)) {
            return Err(crate::Error::Refused {
                reason: e.to_string(),
                details: Some(serde_json::json!({ "errors": e.to_string().lines().collect::<Vec<_>>() })),
            });
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
            let proposed: ConfigLayers = serde_json::from_str(&change.proposed).context("stored proposal")?;
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
}

/// A flag file as JSON, for a leaf diff (`{}` when it does not parse).
fn serde_saphyr_value(text: &str) -> serde_json::Value {
    serde_saphyr::from_str(text).unwrap_or_else(|_| serde_json::json!({}))
}
