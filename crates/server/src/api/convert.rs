//! Store rows, engine results and the engine's read models turned into the API's wire types
//! (`tandem-wire`): the one place where what is kept meets what is answered. Each conversion
//! moves fields one by one, so a field added to a row reaches the API only when named here.

use tandem_engine::views;
use tandem_store as store;
use tandem_wire as wire;

/// A value the API answers with as a wire type.
pub trait IntoWire {
    /// The wire type.
    type Wire;
    /// Converts into the wire type.
    fn into_wire(self) -> Self::Wire;
}

impl<T: IntoWire> IntoWire for Vec<T> {
    type Wire = Vec<T::Wire>;
    fn into_wire(self) -> Self::Wire {
        self.into_iter().map(IntoWire::into_wire).collect()
    }
}

impl<T: IntoWire> IntoWire for Option<T> {
    type Wire = Option<T::Wire>;
    fn into_wire(self) -> Self::Wire {
        self.map(IntoWire::into_wire)
    }
}

/// How a row's field becomes the answer's: as it is, or, for the lists and documents the store
/// keeps as JSON text, as JSON values (an answer never holds JSON in a string).
trait FieldInto<T> {
    fn field_into(self) -> T;
}

impl<T> FieldInto<T> for T {
    fn field_into(self) -> T {
        self
    }
}

impl FieldInto<Vec<String>> for String {
    fn field_into(self) -> Vec<String> {
        serde_json::from_str(&self).unwrap_or_default()
    }
}

impl FieldInto<serde_json::Value> for String {
    fn field_into(self) -> serde_json::Value {
        serde_json::from_str(&self).unwrap_or(serde_json::Value::Null)
    }
}

/// `impl IntoWire` for a row whose fields move by name (see [`FieldInto`]).
macro_rules! same_fields {
    ($($from:ty => $m:ident :: $to:ident { $($field:ident),* $(,)? })*) => {$(
        impl IntoWire for $from {
            type Wire = wire::$m::$to;
            fn into_wire(self) -> Self::Wire {
                wire::$m::$to { $($field: FieldInto::field_into(self.$field)),* }
            }
        }
    )*};
}

same_fields! {
    store::RunRow => runs::Run { id, service, commit_sha, branch, trigger, state, error, created_at, started_at, finished_at, rerun_of }
    store::JobRow => runs::Job { id, run_id, name, position, needs, state, exit_code, log_digest, started_at, finished_at, agent, waiting, lost }
    store::StepRow => runs::Step { id, job_id, position, name, command, state, exit_code, started_at, finished_at }
    store::ArtifactRow => runs::Artifact { id, run_id, job_id, name, path, digest, size, expires_at }
    store::ReleaseRow => rollouts::Release { id, service, version, commit_sha, run_id, spec, created_at, builder, config_schema }
    store::ReleaseArtifact => rollouts::ReleaseArtifact { name, digest, size }
    store::RolloutRow => rollouts::Rollout { id, service, release_id, state, plan, current_wave, reason, created_by, created_at, started_at, finished_at, queued, kind, config_version, change_id }
    store::DeploymentRow => rollouts::Deployment { id, rollout_id, service, market, release_id, previous_release_id, kind, state, url, pid, reason, started_at, finished_at, config_version }
    store::GateResultRow => rollouts::GateResult { id, deployment_id, gate, passed, value, bound, previous, reason, recorded_at }
    store::DecisionRow => rollouts::Decision { id, rollout_id, kind, wave, market, decided_by, reason, decided_at }
    store::IncidentRow => incidents::Incident { id, service, market, deployment_id, title, state, opened_at, resolved_at, source, opened_by, resolved_by, fingerprint, summary }
    store::MarketRow => markets::Market { id, name, region, currency, locale, timezone, state, position }
    store::WaveRow => markets::Wave { name, position, markets }
    store::ServiceRow => markets::Service { name, repo, branch }
    store::IdeaRow => ideas::Idea { id, key, title, markets, created_at }
    store::CommitRow => ideas::Commit { service, sha, parents, author, authored_at, committed_at, message }
    store::ConfigVersionRow => config::ConfigVersion { id, service, version, layers, created_by, message, change_id, created_at }
    store::MarketConfigRow => config::MarketConfigMove { id, service, market, version, deployment_id, set_by, reason, set_at }
    store::ChangeRow => changes::Change { id, service, kind, title, author, author_role, state, revision, base_version, proposed, production, result, version, rollout_id, created_at, updated_at }
    store::ChangeReviewRow => changes::ChangeReview { id, change_id, revision, reviewer, role, verdict, comment, at }
    store::ChangeRevisionRow => changes::ChangeRevision { id, change_id, revision, author, role, at }
    store::FlagVersionRow => flags::FlagVersion { id, service, version, text, etag, created_by, reason, created_at }
    store::MarketHealthRow => monitor::MarketHealth { service, market, deployment_id, state, failures_in_a_row, probed_at, last_ok_at, latency_ms, error, incident_id }
    store::SeriesPoint => monitor::SeriesPoint { market, bucket, count, sum, min, max, last }
    store::TokenRow => admin::Token { id, name, role, created_at, last_used_at, expires_at, revoked_at }
    store::EventRow => admin::Event { id, at, kind, subject, data, actor, via, address, outcome, prev_hash, hash }
    store::GcReport => admin::GcReport { artifacts_expired, blobs_deleted, bytes_freed }
    store::ChainProblem => audit::ChainProblem { id, problem, message }
    store::SecretRow => secrets::Secret { name, version, updated_at, updated_by }
}

/// A rollback's move in one market, of a release or of a config version alike.
impl<V> IntoWire for tandem_engine::rollback::MarketMove<V> {
    type Wire = wire::rollouts::MarketMove<V>;
    fn into_wire(self) -> Self::Wire {
        wire::rollouts::MarketMove {
            market: self.market,
            from: self.from,
            to: self.to,
            state: self.state.to_string(),
            reason: self.reason,
        }
    }
}

impl IntoWire for tandem_engine::launch::Launch {
    type Wire = wire::markets::Launch;
    fn into_wire(self) -> Self::Wire {
        wire::markets::Launch {
            market: self.market,
            launched_at: self.launched_at,
            launched_by: self.launched_by,
            readiness: self.readiness.into_wire(),
        }
    }
}

/// An emergency change, with where its review stands in one word.
impl IntoWire for store::FlagEmergencyRow {
    type Wire = wire::flags::FlagEmergency;
    fn into_wire(self) -> Self::Wire {
        let review = match self.verdict.as_deref() {
            None => "unreviewed",
            Some("approve") => "approved",
            Some(_) => "rejected",
        };
        wire::flags::FlagEmergency {
            id: self.id,
            service: self.service,
            flag: self.flag,
            market: self.market,
            reason: self.reason,
            created_by: self.created_by,
            created_role: self.created_role,
            created_at: self.created_at,
            review: review.to_string(),
            reviewed_by: self.reviewed_by,
            reviewed_role: self.reviewed_role,
            review_comment: self.review_comment,
            reviewed_at: self.reviewed_at,
            in_force: self.lifted_at.is_none(),
            lift_change: self.lift_change,
            lifted_at: self.lifted_at,
        }
    }
}

impl IntoWire for store::AuditPage {
    type Wire = wire::audit::AuditPage;
    fn into_wire(self) -> Self::Wire {
        wire::audit::AuditPage {
            entries: self.entries.into_wire(),
            next: self.next,
        }
    }
}

impl IntoWire for store::ChainReport {
    type Wire = wire::audit::ChainReport;
    fn into_wire(self) -> Self::Wire {
        wire::audit::ChainReport {
            intact: self.intact,
            rows: self.rows,
            without_actor: self.without_actor,
            head_id: self.head_id,
            head_hash: self.head_hash,
            problems: self.problems.into_wire(),
        }
    }
}

impl IntoWire for &tandem_engine::launch::Check {
    type Wire = wire::markets::ReadinessCheck;
    fn into_wire(self) -> Self::Wire {
        wire::markets::ReadinessCheck {
            check: self.check.to_string(),
            service: self.service.clone(),
            passed: self.passed,
            reason: self.reason.clone(),
        }
    }
}

impl IntoWire for tandem_engine::launch::Readiness {
    type Wire = wire::markets::Readiness;
    fn into_wire(self) -> Self::Wire {
        wire::markets::Readiness {
            checks: self.checks.iter().map(IntoWire::into_wire).collect(),
            market: self.market,
            name: self.name,
            state: self.state,
            ready: self.ready,
            checked_at: self.checked_at,
        }
    }
}

impl IntoWire for views::markets::MarketService {
    type Wire = wire::markets::MarketService;
    fn into_wire(self) -> Self::Wire {
        wire::markets::MarketService {
            service: self.service,
            release: self.release,
            url: self.url,
            front: self.front,
            since: self.since,
            health: self.health,
            in_flight: self.in_flight,
            last_failure: self.last_failure,
        }
    }
}

impl IntoWire for views::markets::MarketStatus {
    type Wire = wire::markets::MarketStatus;
    fn into_wire(self) -> Self::Wire {
        wire::markets::MarketStatus {
            market: self.market.into_wire(),
            wave: self.wave,
            services: self.services.into_wire(),
        }
    }
}

impl IntoWire for views::runs::JobDetail {
    type Wire = wire::runs::JobDetail;
    fn into_wire(self) -> Self::Wire {
        wire::runs::JobDetail {
            job: self.job.into_wire(),
            steps: self.steps.into_wire(),
        }
    }
}

impl IntoWire for views::runs::RunDetail {
    type Wire = wire::runs::RunDetail;
    fn into_wire(self) -> Self::Wire {
        wire::runs::RunDetail {
            run: self.run.into_wire(),
            jobs: self.jobs.into_wire(),
            artifacts: self.artifacts.into_wire(),
            release: self.release,
        }
    }
}

impl IntoWire for views::rollouts::WaveMarket {
    type Wire = wire::rollouts::WaveMarket;
    fn into_wire(self) -> Self::Wire {
        wire::rollouts::WaveMarket {
            market: self.market,
            state: self.state,
            deployment: self.deployment.into_wire(),
            gates: self.gates.into_wire(),
        }
    }
}

impl IntoWire for views::rollouts::WaveDetail {
    type Wire = wire::rollouts::WaveDetail;
    fn into_wire(self) -> Self::Wire {
        wire::rollouts::WaveDetail {
            index: self.index,
            name: self.name,
            state: self.state,
            markets_total: self.markets.len(),
            markets_by_state: self.markets.iter().fold(Default::default(), |mut by, m| {
                *by.entry(m.state.clone()).or_default() += 1;
                by
            }),
            markets: self.markets.into_wire(),
        }
    }
}

impl IntoWire for views::rollouts::RolloutDetail {
    type Wire = wire::rollouts::RolloutDetail;
    fn into_wire(self) -> Self::Wire {
        wire::rollouts::RolloutDetail {
            rollout: self.rollout.into_wire(),
            release: self.release.into_wire(),
            waves: self.waves.into_wire(),
            decisions: self.decisions.into_wire(),
            approval_role: self.approval_role,
        }
    }
}

impl IntoWire for views::ideas::IdeaDetail {
    type Wire = wire::ideas::IdeaDetail;
    fn into_wire(self) -> Self::Wire {
        wire::ideas::IdeaDetail {
            idea: self.idea.into_wire(),
            state: self.state,
            live_in: self.live_in,
            commits: self.commits.into_wire(),
        }
    }
}
