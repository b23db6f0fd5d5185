//! Markets, waves and services: the platform file's content, synced on start.

use crate::events::append_event;
use crate::{Result, Store, from_json, to_json};
use serde::Serialize;
use sqlx::FromRow;
use std::collections::HashMap;
use tandem_core::platform::{ConfigLayers, LaunchState, Market, Platform, SecretSource, Service, Triggers, Wave};

#[derive(Debug, Clone, Serialize, FromRow)]
pub struct MarketRow {
    pub id: String,
    pub name: String,
    pub region: String,
    pub currency: String,
    pub locale: String,
    pub timezone: String,
    /// planned, launching or live.
    #[sqlx(try_from = "String")]
    pub state: LaunchState,
    pub position: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct WaveRow {
    pub name: String,
    pub position: i64,
    pub markets: Vec<String>,
}

#[derive(Debug, Clone, Serialize, FromRow)]
pub struct ServiceRow {
    pub name: String,
    pub repo: String,
    pub branch: String,
}

/// Each market's wave and place in rollout order: by wave, then as its wave lists it (a market
/// named by two waves goes with the first); the markets of no wave after them, in platform-file
/// order. What the markets page orders by.
fn market_places(platform: &Platform) -> HashMap<&str, (Option<&str>, i64)> {
    let mut places: HashMap<&str, (Option<&str>, i64)> = HashMap::new();
    for w in &platform.waves {
        for m in &w.markets {
            let next = places.len() as i64;
            places.entry(m.as_str()).or_insert((Some(w.name.as_str()), next));
        }
    }
    for m in &platform.markets {
        let next = places.len() as i64;
        places.entry(m.id.as_str()).or_insert((None, next));
    }
    places
}

impl Store {
    /// Makes the catalog match the platform file, in one transaction, recording what changed.
    pub async fn sync_platform(&self, platform: &Platform) -> Result<()> {
        let mut tx = self.writer.begin().await?;
        let before: Vec<(String,)> = sqlx::query_as("SELECT id FROM markets").fetch_all(&mut *tx).await?;
        sqlx::query("DELETE FROM markets").execute(&mut *tx).await?;
        let places = market_places(platform);
        for (i, m) in platform.markets.iter().enumerate() {
            let (wave, place) = places.get(m.id.as_str()).copied().unwrap_or((None, 0));
            sqlx::query(
                "INSERT INTO markets (id, name, region, currency, locale, timezone, state, position, wave, place)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            )
            .bind(&m.id)
            .bind(&m.name)
            .bind(&m.region)
            .bind(&m.currency)
            .bind(&m.locale)
            .bind(&m.timezone)
            .bind(m.state.as_str())
            .bind(i as i64)
            .bind(wave)
            .bind(place)
            .execute(&mut *tx)
            .await?;
        }
        crate::launches::apply_launches(&mut tx).await?;
        sqlx::query("DELETE FROM waves").execute(&mut *tx).await?;
        for (i, w) in platform.waves.iter().enumerate() {
            sqlx::query("INSERT INTO waves (name, position, markets) VALUES ($1, $2, $3)")
                .bind(&w.name)
                .bind(i as i64)
                .bind(to_json(&w.markets))
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query("DELETE FROM services").execute(&mut *tx).await?;
        for s in &platform.services {
            Store::seed_config(&mut tx, &s.name, &s.config).await?;
            sqlx::query("INSERT INTO services (name, repo, branch, config, triggers) VALUES ($1, $2, $3, $4, $5)")
                .bind(&s.name)
                .bind(&s.repo)
                .bind(&s.branch)
                .bind(to_json(&s.config))
                .bind(to_json(&s.triggers))
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query("DELETE FROM platform_policies").execute(&mut *tx).await?;
        for (name, value) in [
            ("approvals", to_json(&platform.approvals)),
            ("freezes", to_json(&platform.freezes)),
            ("notifications", to_json(&platform.notifications)),
            ("changes", to_json(&platform.changes)),
            ("flags", to_json(&platform.flags)),
            ("sso", to_json(&platform.sso)),
            ("rollouts", to_json(&platform.rollouts)),
        ] {
            sqlx::query("INSERT INTO platform_policies (name, value) VALUES ($1, $2)")
                .bind(name)
                .bind(value)
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query("DELETE FROM secrets").execute(&mut *tx).await?;
        for (name, source) in &platform.secrets {
            sqlx::query("INSERT INTO secrets (name, source) VALUES ($1, $2)")
                .bind(name)
                .bind(to_json(source))
                .execute(&mut *tx)
                .await?;
        }
        let data = serde_json::json!({
            "markets": platform.markets.len(),
            "waves": platform.waves.len(),
            "services": platform.services.iter().map(|s| &s.name).collect::<Vec<_>>(),
            "markets_before": before.len(),
        });
        append_event(&mut tx, "platform.synced", "platform", data).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn list_markets(&self) -> Result<Vec<MarketRow>> {
        Ok(sqlx::query_as("SELECT * FROM markets ORDER BY position")
            .fetch_all(&self.pool)
            .await?)
    }

    pub async fn list_waves(&self) -> Result<Vec<WaveRow>> {
        let rows: Vec<(String, i64, String)> =
            sqlx::query_as("SELECT name, position, markets FROM waves ORDER BY position")
                .fetch_all(&self.pool)
                .await?;
        rows.into_iter()
            .map(|(name, position, markets)| {
                Ok(WaveRow {
                    markets: from_json("wave markets", &markets)?,
                    name,
                    position,
                })
            })
            .collect()
    }

    pub async fn list_services(&self) -> Result<Vec<ServiceRow>> {
        Ok(sqlx::query_as("SELECT name, repo, branch FROM services ORDER BY name")
            .fetch_all(&self.pool)
            .await?)
    }

    /// Service `name`'s row (its repository and branch), if the platform has it.
    pub async fn get_service(&self, name: &str) -> Result<Option<ServiceRow>> {
        Ok(
            sqlx::query_as("SELECT name, repo, branch FROM services WHERE name = $1")
                .bind(name)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    /// The platform's services, whole (config layers and triggers), without its markets: what
    /// a worker that looks at every service each second reads, whatever the number of markets.
    pub async fn list_platform_services(&self) -> Result<Vec<Service>> {
        let rows: Vec<(String, String, String, String, String)> =
            sqlx::query_as("SELECT name, repo, branch, config, triggers FROM services ORDER BY name")
                .fetch_all(&self.pool)
                .await?;
        rows.into_iter()
            .map(|(name, repo, branch, config, triggers)| {
                Ok(Service {
                    config: from_json::<ConfigLayers>("service config", &config)?,
                    triggers: from_json::<Triggers>("service triggers", &triggers)?,
                    name,
                    repo,
                    branch,
                })
            })
            .collect()
    }

    /// How many times this store read the whole platform ([`Store::load_platform`]).
    pub fn platform_loads(&self) -> u64 {
        self.platform_loads.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The platform as stored: what the engine plans rollouts and resolves config from. It reads
    /// every market: callers read it once per piece of work (a rollout's wave), not per market.
    pub async fn load_platform(&self) -> Result<Platform> {
        self.platform_loads.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let markets = self
            .list_markets()
            .await?
            .into_iter()
            .map(|m| Market {
                state: m.state,
                id: m.id,
                name: m.name,
                region: m.region,
                currency: m.currency,
                locale: m.locale,
                timezone: m.timezone,
            })
            .collect();
        let waves = self
            .list_waves()
            .await?
            .into_iter()
            .map(|w| Wave {
                name: w.name,
                markets: w.markets,
            })
            .collect();
        let services = self.list_platform_services().await?;
        let secret_rows: Vec<(String, String)> = sqlx::query_as("SELECT name, source FROM secrets ORDER BY name")
            .fetch_all(&self.pool)
            .await?;
        let secrets = secret_rows
            .into_iter()
            .map(|(name, source)| Ok((name, from_json::<SecretSource>("secret source", &source)?)))
            .collect::<Result<_>>()?;
        let policies: std::collections::HashMap<String, String> =
            sqlx::query_as::<_, (String, String)>("SELECT name, value FROM platform_policies")
                .fetch_all(&self.pool)
                .await?
                .into_iter()
                .collect();
        let policy = |name: &str| policies.get(name).map(String::as_str).unwrap_or("[]");
        Ok(Platform {
            markets,
            waves,
            services,
            secrets,
            approvals: from_json("platform approvals", policy("approvals"))?,
            freezes: from_json("platform freezes", policy("freezes"))?,
            notifications: from_json("platform notifications", policy("notifications"))?,
            changes: match policies.get("changes") {
                Some(text) => from_json("platform change policy", text)?,
                None => Default::default(),
            },
            flags: match policies.get("flags") {
                Some(text) => from_json("platform flag policy", text)?,
                None => Default::default(),
            },
            sso: match policies.get("sso") {
                Some(text) => from_json("platform sso", text)?,
                None => None,
            },
            rollouts: match policies.get("rollouts") {
                Some(text) => from_json("platform rollout limits", text)?,
                None => Default::default(),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::store;
    use tandem_core::platform::parse_platform;

    #[tokio::test]
    async fn platform_round_trips_and_records_an_event() {
        let (_dir, store) = store().await;
        let p = parse_platform(
            "p.yml",
            "markets:
  - { id: fr, name: France, region: west, currency: EUR, locale: fr-FR, timezone: Europe/Paris }
waves:
  - { name: pilot, markets: [fr] }
services:
  - { name: shop, repo: /tmp/shop, config: { defaults: { vat_rate: 0.2 } }, triggers: { webhook_secret: HOOK, poll: 10s } }
secrets:
  HOOK: { env: TANDEM_TEST_HOOK }
rollouts: { max-parallel: 16, per-service: 4, services: { shop: 2 } }
sso:
  issuer: https://id.example.com
  client_id: tandem
  client_secret_env: TANDEM_TEST_SSO
  redirect_url: https://tandem.example.com/login/sso/callback
  groups: { sre: operator }
",
        )
        .unwrap();
        assert!(p.sso.is_some());
        assert_eq!(p.rollouts.for_service("shop", 8), 2);
        store.sync_platform(&p).await.unwrap();
        store.sync_platform(&p).await.unwrap();
        assert_eq!(store.load_platform().await.unwrap(), p);
        let events = store.list_events(0, 10).await.unwrap();
        assert_eq!(events.len(), 2);
        assert_eq!(events[0].kind, "platform.synced");
    }
}
