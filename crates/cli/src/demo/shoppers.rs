//! The demo's shoppers: real requests to every live market, through each market's front (the
//! shop has a canary), so a new release is judged on real traffic. Each market's shopper loads
//! the storefront and the delivery estimate, again and again, until the demo stops them.

use crate::client::Client;
use anyhow::{Result, bail};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tandem_wire::markets::MarketStatus;

/// The pause between two visits of one market's shopper (a visit is two requests): a 25 %
/// canary step sees a few of them in its half-second window.
const PAUSE: Duration = Duration::from_millis(20);
/// Shoppers in the busiest market (the pilot), each visiting on its own: there a canary's
/// first step meets dozens of shoppers in its window.
const BUSIEST: usize = 10;
/// The longest a shopper waits for one answer (a market that hangs does not stall the others).
const PATIENCE: Duration = Duration::from_secs(2);

/// What one market's shoppers got.
#[derive(Debug, Default)]
pub struct Seen {
    pub requests: AtomicU64,
    /// 5xx answers and requests nobody answered.
    pub errors: AtomicU64,
}

/// Shoppers in every market with a front; they stop when dropped.
pub struct Shoppers {
    pub seen: BTreeMap<String, Arc<Seen>>,
    tasks: tokio::task::JoinSet<()>,
}

impl Shoppers {
    /// Starts shoppers in each market whose shop has a front (see `GET /api/v1/markets`),
    /// once every market the shop runs in has one (a server that just took over starts them
    /// as it picks the markets up); the pilot, `busiest`, gets [`BUSIEST`] of them.
    pub async fn start(api: &Client, busiest: &str) -> Result<Shoppers> {
        let mut markets: Vec<MarketStatus> = api.get_all("/api/v1/markets").await?;
        for _ in 0..150 {
            let shops = markets
                .iter()
                .flat_map(|m| &m.services)
                .filter(|s| s.service == "shop" && s.release.is_some());
            if shops.clone().all(|s| s.front.is_some()) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
            markets = api.get_all("/api/v1/markets").await?;
        }
        let http = tandem_engine::tls::client_builder().timeout(PATIENCE).build()?;
        let mut seen = BTreeMap::new();
        let mut tasks = tokio::task::JoinSet::new();
        for m in markets {
            let Some(front) = m
                .services
                .into_iter()
                .find(|s| s.service == "shop")
                .and_then(|s| s.front)
            else {
                continue;
            };
            let counts = Arc::new(Seen::default());
            let shoppers = if m.market.id == busiest { BUSIEST } else { 1 };
            seen.insert(m.market.id, counts.clone());
            for _ in 0..shoppers {
                let (http, front, counts) = (http.clone(), front.clone(), counts.clone());
                tasks.spawn(async move {
                    loop {
                        for path in ["/", "/delivery"] {
                            let failed = match http.get(format!("{front}{path}")).send().await {
                                Ok(r) => r.status().is_server_error(),
                                Err(_) => true,
                            };
                            counts.requests.fetch_add(1, Ordering::Relaxed);
                            if failed {
                                counts.errors.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                        tokio::time::sleep(PAUSE).await;
                    }
                });
            }
        }
        if seen.is_empty() {
            bail!("no market of the shop has a front: the demo's shoppers have nowhere to go");
        }
        Ok(Shoppers { seen, tasks })
    }

    /// (requests, errors) over every market so far.
    pub fn totals(&self) -> (u64, u64) {
        self.seen.values().fold((0, 0), |(r, e), s| {
            (
                r + s.requests.load(Ordering::Relaxed),
                e + s.errors.load(Ordering::Relaxed),
            )
        })
    }

    /// (requests, errors) in one market so far.
    pub fn market(&self, id: &str) -> (u64, u64) {
        self.seen.get(id).map_or((0, 0), |s| {
            (s.requests.load(Ordering::Relaxed), s.errors.load(Ordering::Relaxed))
        })
    }

    /// Stops every shopper.
    pub fn stop(&mut self) {
        self.tasks.abort_all();
    }
}

impl Drop for Shoppers {
    fn drop(&mut self) {
        self.stop();
    }
}
