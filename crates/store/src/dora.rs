//! What DORA's four keys are computed from: every finished deployment with its outcome, its
//! wave, its kind and the time of each change it brought, and every incident; read in a few
//! queries and turned into `tandem_core::dora` rows.

use crate::{Result, Store};

/// One commit a deployment brought to its market.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeploymentCommit {
    pub sha: String,
    pub authored_at: i64,
    pub committed_at: i64,
}

impl Store {
    /// Records the commits a deployment brought to its market (once; again is a no-op).
    pub async fn insert_deployment_commits(&self, deployment_id: i64, commits: &[DeploymentCommit]) -> Result<()> {
        let mut tx = self.writer.begin().await?;
        insert_commits_in(&mut tx, deployment_id, commits).await?;
        tx.commit().await?;
        Ok(())
    }

    /// [`Store::insert_deployment_commits`] for several deployments in one transaction (one
    /// `deployment.commits` event each).
    pub async fn insert_deployments_commits(&self, deployments: &[(i64, Vec<DeploymentCommit>)]) -> Result<()> {
        if deployments.is_empty() {
            return Ok(());
        }
        let mut tx = self.writer.begin().await?;
        for (deployment_id, commits) in deployments {
            insert_commits_in(&mut tx, *deployment_id, commits).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The commits a deployment brought, newest first, with their first message line when the
    /// service's history holds them: `(sha, authored_at, message)`.
    pub async fn list_deployment_commits(&self, deployment_id: i64) -> Result<Vec<(String, i64, Option<String>)>> {
        Ok(sqlx::query_as(
            "SELECT dc.sha, dc.authored_at, c.message FROM deployment_commits dc
             JOIN deployments d ON d.id = dc.deployment_id
             LEFT JOIN commits c ON c.service = d.service AND c.sha = dc.sha
             WHERE dc.deployment_id = $1 ORDER BY dc.committed_at DESC, dc.sha",
        )
        .bind(deployment_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Every finished deployment and every incident, as DORA rows. A deployment is `rolled_back`
    /// when the next deployment to its market was a rollback (of a release, or of config by
    /// hand) that went live; its wave is its market's place in its rollout's plan; it counts as
    /// production when its market is live; `recovered_at` is when its `recovery` gate passed.
    /// Read whole; [`Store::refresh_dora_state`] keeps one up to date by reading what changed.
    pub async fn dora_history(&self) -> Result<crate::DoraHistory> {
        let history = self.read_dora_state().await?.history();
        Ok(std::sync::Arc::unwrap_or_clone(history))
    }
}

/// Writes `deployment_id`'s commits and their `deployment.commits` event within `conn`'s
/// transaction.
async fn insert_commits_in(
    conn: &mut crate::backend::Conn,
    deployment_id: i64,
    commits: &[DeploymentCommit],
) -> Result<()> {
    for chunk in commits.chunks(200) {
        let mut query = crate::backend::Builder::new(
            "INSERT INTO deployment_commits (deployment_id, sha, authored_at, committed_at) ",
        );
        query.push("VALUES ");
        for (i, c) in chunk.iter().enumerate() {
            query.push(if i == 0 { "(" } else { ", (" });
            query.push_bind(deployment_id).push(", ").push_bind(&c.sha).push(", ");
            query
                .push_bind(c.authored_at)
                .push(", ")
                .push_bind(c.committed_at)
                .push(")");
        }
        query.push(" ON CONFLICT (deployment_id, sha) DO NOTHING");
        query.build().execute(&mut *conn).await?;
    }
    let data = serde_json::json!({ "deployment": deployment_id, "commits": commits.len() });
    crate::events::append_event(conn, "deployment.commits", &format!("deployment/{deployment_id}"), data).await
}

#[cfg(test)]
mod tests {
    use crate::testing::{release, store};
    use crate::{DeploymentCommit, NewDeployment};
    use std::time::Instant;
    use tandem_core::dora::{DAY_MS, Filter, History, Window};

    #[tokio::test]
    async fn commits_recorded_again_are_kept_once() {
        let (_dir, store) = store().await;
        let v1 = release(&store).await;
        let new = NewDeployment {
            rollout_id: None,
            service: "shop",
            market: "fr",
            release_id: v1.id,
        };
        let deployment = store.insert_deployment(new).await.unwrap();
        let commit = |sha: &str, at: i64| DeploymentCommit {
            sha: sha.to_string(),
            authored_at: at,
            committed_at: at,
        };
        let id = deployment.id;
        store
            .insert_deployment_commits(id, &[commit("a", 1), commit("b", 2)])
            .await
            .unwrap();
        store
            .insert_deployment_commits(id, &[commit("b", 2), commit("c", 3)])
            .await
            .unwrap();
        let shas: Vec<String> = store
            .list_deployment_commits(id)
            .await
            .unwrap()
            .into_iter()
            .map(|(sha, _, _)| sha)
            .collect();
        assert_eq!(shas, ["c", "b", "a"]);
    }

    #[tokio::test]
    async fn several_deployments_commits_are_written_together_each_with_its_event() {
        let (_dir, store) = store().await;
        let v1 = release(&store).await;
        let deploy = |market: &'static str| NewDeployment {
            rollout_id: None,
            service: "shop",
            market,
            release_id: v1.id,
        };
        let fr = store.insert_deployment(deploy("fr")).await.unwrap().id;
        let be = store.insert_deployment(deploy("be")).await.unwrap().id;
        let commit = |sha: &str, at: i64| DeploymentCommit {
            sha: sha.to_string(),
            authored_at: at,
            committed_at: at,
        };
        let events = store.list_events(0, 1000).await.unwrap().len();
        store
            .insert_deployments_commits(&[(fr, vec![commit("a", 1), commit("b", 2)]), (be, vec![commit("b", 2)])])
            .await
            .unwrap();
        store.insert_deployments_commits(&[]).await.unwrap();
        let shas = async |id: i64| -> Vec<String> {
            let rows = store.list_deployment_commits(id).await.unwrap();
            rows.into_iter().map(|(sha, _, _)| sha).collect()
        };
        assert_eq!(shas(fr).await, ["b", "a"]);
        assert_eq!(shas(be).await, ["b"]);
        let new: Vec<String> = store.list_events(0, 1000).await.unwrap()[events..]
            .iter()
            .map(|e| format!("{} {}", e.kind, e.subject))
            .collect();
        assert_eq!(
            new,
            [
                format!("deployment.commits deployment/{fr}"),
                format!("deployment.commits deployment/{be}")
            ]
        );
        assert!(store.verify_audit_chain().await.unwrap().intact, "the chain holds");
    }

    /// A deployment its server stopped during is tried again when the rollout resumes: it is
    /// no change failure, and the keys do not count it.
    #[tokio::test]
    async fn a_deployment_its_server_stopped_during_is_not_counted() {
        let (_dir, store) = store().await;
        let v1 = release(&store).await;
        let deploy = |market: &'static str| NewDeployment {
            rollout_id: None,
            service: "shop",
            market,
            release_id: v1.id,
        };
        let cut = store.insert_deployment(deploy("fr")).await.unwrap();
        let failed = store.insert_deployment(deploy("be")).await.unwrap();
        store
            .mark_deployment_failed(failed.id, "its probe never answered")
            .await
            .unwrap();
        assert_eq!(store.fail_unfinished_deployments().await.unwrap(), 1);
        let (deployments, _) = store.dora_history().await.unwrap();
        let ids: Vec<i64> = deployments.iter().map(|d| d.id).collect();
        assert_eq!(
            ids,
            [failed.id],
            "the failed one counts, the cut one does not ({})",
            cut.id
        );
    }

    /// A config rollback by hand (a config deployment outside a rollout) brings no change: it
    /// is a rollback, and the config deployment it sent back is rolled back. A failed
    /// deployment whose `recovery` gate passed was recovered from then.
    #[tokio::test]
    async fn a_config_rollback_by_hand_is_a_rollback_and_a_recovery_gate_restores_its_market() {
        use tandem_core::dora::Outcome;
        use tandem_core::state::DeploymentKind;
        let (_dir, store) = store().await;
        let v1 = release(&store).await;
        let plan = [tandem_core::rollout::PlannedWave {
            name: "pilot".into(),
            markets: vec!["fr".into()],
        }];
        let rollout = store.insert_rollout("shop", v1.id, &plan, "ana").await.unwrap();
        let deploy = |rollout_id, market| NewDeployment {
            rollout_id,
            service: "shop",
            market,
            release_id: v1.id,
        };
        let first = store
            .insert_deployment_with(deploy(None, "fr"), DeploymentKind::Release, Some(1))
            .await
            .unwrap();
        store.mark_deployment_live(first.id, "", None).await.unwrap();
        let change = store
            .insert_deployment_with(deploy(Some(rollout.id), "fr"), DeploymentKind::Config, Some(2))
            .await
            .unwrap();
        store.mark_deployment_live(change.id, "", None).await.unwrap();
        let back = store
            .insert_deployment_with(deploy(None, "fr"), DeploymentKind::Config, Some(1))
            .await
            .unwrap();
        store.mark_deployment_live(back.id, "", None).await.unwrap();
        let failed = store.insert_deployment(deploy(None, "be")).await.unwrap();
        store
            .mark_deployment_failed(failed.id, "its probe never answered")
            .await
            .unwrap();
        let recovery = crate::NewGateResult {
            gate: "recovery".into(),
            passed: true,
            value: Some(3.0),
            bound: None,
            previous: None,
            reason: "v0 answered 3 ms after the failed gate".into(),
        };
        let gate = store.insert_gate_result(failed.id, &recovery).await.unwrap();

        let (deployments, _) = store.dora_history().await.unwrap();
        let find = |id: i64| deployments.iter().find(|d| d.id == id).unwrap();
        assert!(!find(first.id).rollback && find(first.id).outcome == Outcome::Succeeded);
        assert!(!find(change.id).rollback, "a config rollout's deployment is a change");
        assert_eq!(find(change.id).outcome, Outcome::RolledBack);
        assert!(find(back.id).rollback, "a config rollback by hand is no change");
        assert_eq!(find(failed.id).recovered_at, Some(gate.recorded_at));
        assert_eq!(find(change.id).recovered_at, None);
    }

    /// One year of history — 100,000 commits, 25 markets, 50,000 deployments, 2,000 incidents —
    /// written to SQLite by `Store::seed_year`, then the four keys (total, and by market, service
    /// and wave) computed from the store. Baseline in the same run: the same rows read with one plain query each.
    /// `cargo test -p tandem-store --release --lib dora::tests::scale -- --ignored --nocapture`
    #[tokio::test]
    #[ignore = "a benchmark: run it by name"]
    async fn scale() {
        let (_dir, store) = store().await;
        store.seed_year().await.unwrap();
        let year_start = crate::bench::YEAR_START;

        let started = Instant::now();
        type Plain = (i64, Option<i64>, String, String, String, String, i64, Option<i64>);
        let _: Vec<Plain> = sqlx::query_as(
            "SELECT id, rollout_id, service, market, kind, state, started_at, finished_at FROM deployments",
        )
        .fetch_all(&store.pool)
        .await
        .unwrap();
        let _: Vec<(i64, i64)> = sqlx::query_as("SELECT deployment_id, authored_at FROM deployment_commits")
            .fetch_all(&store.pool)
            .await
            .unwrap();
        let _: Vec<(i64, Option<i64>, i64)> = sqlx::query_as("SELECT id, deployment_id, opened_at FROM incidents")
            .fetch_all(&store.pool)
            .await
            .unwrap();
        let baseline = started.elapsed();

        let started = Instant::now();
        let (deployments, incidents) = store.dora_history().await.unwrap();
        let loaded = started.elapsed();
        let history = History::new(&deployments, &incidents);
        let window = Window::new(year_start, year_start + 366 * DAY_MS).unwrap();
        let keys = history.compute_grouped_keys(&Filter::new(window));
        let total = started.elapsed();
        let peak = std::fs::read_to_string("/proc/self/status")
            .unwrap_or_default()
            .lines()
            .find(|l| l.starts_with("VmHWM"))
            .map(|l| l.split_whitespace().nth(1).unwrap_or("0").parse::<u64>().unwrap_or(0))
            .unwrap_or(0);
        assert_eq!(keys.total.deployment_frequency.deployments, 50_000);
        assert_eq!(keys.total.lead_time.commits, 2 * 49_000);
        println!(
            "four keys, one year (50,000 deployments, 100,000 commit rows, 2,000 incidents): {:.0} ms \
             (load {:.0} ms, compute {:.0} ms), peak RSS {:.0} MiB; baseline: the same rows read plainly {:.0} ms (ratio {:.2}x)",
            total.as_secs_f64() * 1000.0,
            loaded.as_secs_f64() * 1000.0,
            (total - loaded).as_secs_f64() * 1000.0,
            peak as f64 / 1024.0,
            baseline.as_secs_f64() * 1000.0,
            total.as_secs_f64() / baseline.as_secs_f64()
        );
    }
}
