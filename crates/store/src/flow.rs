//! What an idea's way to production is read from (`tandem_core::flow`): its commits and their
//! arrivals in markets, the services' recorded histories, green runs, releases and what each
//! market runs now. A fixed number of queries, whatever the number of ideas and markets.

use crate::backend::{Builder, push_in_list};
use crate::{IdeaRow, Result, Store, from_json};
use std::collections::{BTreeSet, HashMap};
use tandem_core::flow::{Arrival, FlowContext, FlowRelease, GraphCommit, GreenRun, IdeaCommit, IdeaFacts, LiveRelease};

/// Ideas with their facts, and the context they are read against.
#[derive(Debug, Default)]
pub struct FlowFacts {
    pub context: FlowContext,
    pub ideas: Vec<(IdeaRow, IdeaFacts)>,
}

impl Store {
    /// One idea's flow facts; not found when the idea does not exist.
    pub async fn load_idea_flow(&self, key: &str) -> Result<FlowFacts> {
        let idea = self.get_idea(key).await?;
        self.load_flow_facts(vec![idea]).await
    }

    /// The flow facts of every idea one of whose commits arrived in a market (a deployment
    /// bringing it went live) in `[from, to)`, oldest idea first.
    pub async fn load_shipped_flow(&self, from: i64, to: i64) -> Result<FlowFacts> {
        let ideas: Vec<IdeaRow> = sqlx::query_as(
            "SELECT * FROM ideas WHERE key IN (
                 SELECT ci.idea_key FROM deployment_commits dc
                 JOIN deployments d ON d.id = dc.deployment_id
                 JOIN commit_ideas ci ON ci.service = d.service AND ci.sha = dc.sha
                 WHERE d.finished_at >= $1 AND d.finished_at < $2)
             ORDER BY id",
        )
        .bind(from)
        .bind(to)
        .fetch_all(&self.pool)
        .await?;
        self.load_flow_facts(ideas).await
    }

    async fn load_flow_facts(&self, ideas: Vec<IdeaRow>) -> Result<FlowFacts> {
        if ideas.is_empty() {
            return Ok(FlowFacts::default());
        }
        let keys: Vec<String> = ideas.iter().map(|i| i.key.clone()).collect();

        let mut query = Builder::new(
            "SELECT ci.idea_key, c.service, c.sha, c.authored_at FROM commit_ideas ci
             JOIN commits c ON c.service = ci.service AND c.sha = ci.sha WHERE ci.idea_key IN ",
        );
        push_in_list(&mut query, &keys);
        let commits: Vec<(String, String, String, i64)> = query.build_query_as().fetch_all(&self.pool).await?;

        let mut query = Builder::new(
            "SELECT ci.idea_key, d.service, d.market, dc.sha, d.finished_at, r.version FROM deployment_commits dc
             JOIN deployments d ON d.id = dc.deployment_id
             JOIN releases r ON r.id = d.release_id
             JOIN commit_ideas ci ON ci.service = d.service AND ci.sha = dc.sha
             WHERE d.finished_at IS NOT NULL AND ci.idea_key IN ",
        );
        push_in_list(&mut query, &keys);
        let arrivals: Vec<(String, String, String, String, i64, String)> =
            query.build_query_as().fetch_all(&self.pool).await?;

        let services: Vec<String> = commits
            .iter()
            .map(|c| c.1.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let context = self.load_flow_context(&services).await?;

        let mut by_idea: HashMap<&str, IdeaFacts> = HashMap::new();
        for idea in &ideas {
            let targets: Vec<String> = from_json("idea markets", &idea.markets)?;
            by_idea.insert(
                &idea.key,
                IdeaFacts {
                    created_at: idea.created_at,
                    targets,
                    commits: Vec::new(),
                    arrivals: Vec::new(),
                },
            );
        }
        for (key, service, sha, authored_at) in commits {
            if let Some(facts) = by_idea.get_mut(key.as_str()) {
                facts.commits.push(IdeaCommit {
                    service,
                    sha,
                    authored_at,
                });
            }
        }
        for (key, service, market, sha, at, version) in arrivals {
            if let Some(facts) = by_idea.get_mut(key.as_str()) {
                facts.arrivals.push(Arrival {
                    service,
                    market,
                    sha,
                    at,
                    version,
                });
            }
        }
        let mut out = Vec::with_capacity(ideas.len());
        for idea in &ideas {
            if let Some(facts) = by_idea.remove(idea.key.as_str()) {
                out.push((idea.clone(), facts));
            }
        }
        Ok(FlowFacts { context, ideas: out })
    }

    /// The platform's markets and pilot, and the histories, green runs, releases and live
    /// releases of `services`.
    async fn load_flow_context(&self, services: &[String]) -> Result<FlowContext> {
        let markets: Vec<String> = self.list_markets().await?.into_iter().map(|m| m.id).collect();
        let pilot = self
            .list_waves()
            .await?
            .into_iter()
            .next()
            .map(|w| w.markets)
            .unwrap_or_default();
        if services.is_empty() {
            return Ok(FlowContext::new(markets, pilot, &[], vec![], vec![], vec![]));
        }

        let mut query = Builder::new("SELECT service, sha, parents FROM commits WHERE service IN ");
        push_in_list(&mut query, services);
        let history: Vec<(String, String, String)> = query.build_query_as().fetch_all(&self.pool).await?;
        let history: Vec<GraphCommit> = history
            .into_iter()
            .map(|(service, sha, parents)| GraphCommit {
                service,
                sha,
                parents: parents.split_whitespace().map(String::from).collect(),
            })
            .collect();

        let mut query = Builder::new(
            "SELECT id, service, commit_sha, finished_at FROM runs
             WHERE state = 'success' AND finished_at IS NOT NULL AND service IN ",
        );
        push_in_list(&mut query, services);
        let runs: Vec<(i64, String, String, i64)> = query.build_query_as().fetch_all(&self.pool).await?;
        let runs = runs
            .into_iter()
            .map(|(id, service, sha, finished_at)| GreenRun {
                id,
                service,
                sha,
                finished_at,
            })
            .collect();

        let mut query = Builder::new("SELECT service, version, commit_sha, created_at FROM releases WHERE service IN ");
        push_in_list(&mut query, services);
        let releases: Vec<(String, String, String, i64)> = query.build_query_as().fetch_all(&self.pool).await?;
        let releases = releases
            .into_iter()
            .map(|(service, version, sha, created_at)| FlowRelease {
                service,
                version,
                sha,
                created_at,
            })
            .collect();

        let mut query = Builder::new(
            "SELECT d.service, d.market, r.version, r.commit_sha, COALESCE(d.finished_at, d.started_at)
             FROM deployments d JOIN releases r ON r.id = d.release_id
             WHERE d.state = 'live' AND d.service IN ",
        );
        push_in_list(&mut query, services);
        let live: Vec<(String, String, String, String, i64)> = query.build_query_as().fetch_all(&self.pool).await?;
        let live = live
            .into_iter()
            .map(|(service, market, version, sha, since)| LiveRelease {
                service,
                market,
                version,
                sha,
                since,
            })
            .collect();

        Ok(FlowContext::new(markets, pilot, &history, runs, releases, live))
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::store;
    use crate::{DeploymentCommit, NewCommit, NewDeployment};
    use tandem_core::flow::{MarketState, Stage, compute_flow};

    #[tokio::test]
    async fn an_ideas_commits_runs_releases_and_arrivals_are_read_back() {
        let (_dir, store) = store().await;
        let platform = tandem_core::platform::parse_platform(
            "p.yml",
            "markets:
  - { id: fr, name: France, region: west, currency: EUR, locale: fr-FR, timezone: Europe/Paris }
  - { id: be, name: Belgium, region: west, currency: EUR, locale: fr-BE, timezone: Europe/Brussels }
waves:
  - { name: pilot, markets: [fr] }
  - { name: rest, markets: [be] }
services:
  - { name: shop, repo: /srv/git/shop }
",
        )
        .unwrap();
        store.sync_platform(&platform).await.unwrap();
        let idea = store.insert_idea("Pay with iDEAL", &[]).await.unwrap();
        let commit = |sha: &str, parents: &[&str], at: i64, msg: &str| NewCommit {
            sha: sha.into(),
            parents: parents.iter().map(|p| p.to_string()).collect(),
            author: "Ana".into(),
            authored_at: at,
            committed_at: at,
            message: msg.into(),
        };
        store
            .insert_commits(
                "shop",
                &[commit("c1", &[], 10, "T-1: iDEAL"), commit("c2", &["c1"], 20, "tidy")],
            )
            .await
            .unwrap();
        let spec = tandem_core::pipeline::parse_service_spec(
            "t.yml",
            "service: shop\npipeline:\n  jobs:\n    a:\n      steps: [{ run: x }]\n",
        )
        .unwrap();
        let run = store.insert_run("shop", "c2", "main", "hand").await.unwrap();
        store
            .finish_run(run.id, tandem_core::state::RunState::Success, None)
            .await
            .unwrap();
        let release = store.insert_release("shop", "c2", run.id, &spec).await.unwrap();
        let deployment = store
            .insert_deployment(NewDeployment {
                rollout_id: None,
                service: "shop",
                market: "fr",
                release_id: release.id,
            })
            .await
            .unwrap();
        store
            .mark_deployment_live(deployment.id, "http://x", None)
            .await
            .unwrap();
        let brought = |sha: &str, at: i64| DeploymentCommit {
            sha: sha.into(),
            authored_at: at,
            committed_at: at,
        };
        store
            .insert_deployment_commits(deployment.id, &[brought("c1", 10), brought("c2", 20)])
            .await
            .unwrap();

        let facts = store.load_idea_flow(&idea.key).await.unwrap();
        let (row, idea_facts) = &facts.ideas[0];
        assert_eq!(row.key, "T-1");
        assert_eq!(idea_facts.commits.len(), 1, "only the commit that mentions it");
        assert_eq!(idea_facts.arrivals.len(), 1);
        let flow = compute_flow(&facts.context, idea_facts);
        let run = store.get_run(run.id).await.unwrap();
        let live_at = store.list_live_deployments().await.unwrap()[0].finished_at;
        assert_eq!(flow.stage(Stage::FirstCommit).at, Some(10));
        assert_eq!(flow.stage(Stage::GreenPipeline).at, run.finished_at);
        assert_eq!(flow.stage(Stage::Release).at, Some(release.created_at));
        assert_eq!(flow.stage(Stage::Pilot).at, live_at);
        assert_eq!(flow.now.stage, Stage::Pilot);
        assert_eq!(flow.markets[1].state, MarketState::Pending);

        let at = live_at.unwrap();
        assert_eq!(store.load_shipped_flow(at, at + 1).await.unwrap().ideas.len(), 1);
        assert!(store.load_shipped_flow(at + 1, at + 2).await.unwrap().ideas.is_empty());
        assert!(store.load_idea_flow("T-9").await.is_err());
    }
}
