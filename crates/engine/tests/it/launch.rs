//! Market launches end to end on the real shop: a planned market is refused until the latest
//! release runs there and answers its probe, receives that release through an ordinary
//! rollout (and is `launching` from then on), is launched (and the team told), and stays live
//! after a restart whose platform file still says `state: planned`.

#![allow(clippy::unwrap_used)]

use crate::common;

use std::path::Path;
use std::sync::Arc;
use tandem_core::platform::{LaunchState, parse_platform};
use tandem_engine::Engine;
use tandem_engine::Error;
use tandem_engine::launch::{Launch, LaunchOutcome, Readiness};
use tandem_store::Store;
use tandem_testkit::git;

const PLATFORM: &str = "markets:
  - { id: fr, name: France, region: west, currency: EUR, locale: fr-FR, timezone: Europe/Paris }
  - { id: be, name: Belgium, region: west, currency: EUR, locale: fr-BE, timezone: Europe/Brussels, state: planned }
waves:
  - { name: pilot, markets: [fr] }
  - { name: benelux, markets: [be] }
services:
  - name: shop
    repo: REPO
    config: { defaults: { vat_rate: 0.2, payment_methods: [card], free_shipping_threshold: 50 }, markets: { be: { vat_rate: 0.21 } } }
notifications:
  - { name: team-chat, kind: slack, url: HOOK, events: [market.launched] }
";

fn copy_dir(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let dest = to.join(path.file_name().unwrap());
        if path.is_dir() {
            if path.file_name().unwrap() != "target" {
                std::fs::create_dir_all(&dest).unwrap();
                copy_dir(&path, &dest);
            }
        } else {
            std::fs::copy(&path, &dest).unwrap();
        }
    }
}

fn check<'a>(r: &'a Readiness, name: &str) -> &'a tandem_engine::launch::Check {
    r.checks.iter().find(|c| c.check == name).unwrap()
}

async fn state_of(engine: &Engine, market: &str) -> LaunchState {
    engine.load_platform().await.unwrap().market(market).unwrap().state
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_planned_market_is_refused_until_ready_then_launched_and_stays_live() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("shop");
    std::fs::create_dir_all(&repo).unwrap();
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/shop"),
        &repo,
    );
    git(&repo, &["init", "-q", "-b", "main"]);
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-q", "-m", "T-1: the shop"]);
    let (hook, chat) = common::receiver().await;
    let platform = PLATFORM
        .replace("REPO", &repo.display().to_string())
        .replace("HOOK", &hook);
    let data = dir.path().join("data");
    let engine = common::engine(&data, &platform).await;

    // Nothing released yet: refused, naming what is missing.
    let before = engine.market_readiness("be").await.unwrap();
    assert_eq!(before.state, "planned");
    assert!(!before.ready);
    assert_eq!(
        check(&before, "release").reason,
        "shop has no release yet: a green run on its branch makes one"
    );
    assert_eq!(check(&before, "probe").reason, "nothing of shop runs in be to probe");
    assert!(check(&before, "flags").passed, "{}", check(&before, "flags").reason);
    let err = not_ready(engine.launch_market("be", "ops").await.unwrap()).refusal();
    assert!(
        err.starts_with("market `be` is not ready to launch: config (shop): shop has no release yet"),
        "{err}"
    );

    // A release: the config fits its schema, but it does not run in be yet.
    let run = engine.trigger_run("shop", "test").await.unwrap();
    let run = common::wait_for("the run", async || {
        let r = engine.get_run(run.id).await.unwrap();
        matches!(r.state.as_str(), "success" | "failed").then_some(r)
    })
    .await;
    assert_eq!(run.state, "success", "{:?}", run.error);
    let v1 = engine.list_releases(Some("shop")).await.unwrap().remove(0);
    let released = engine.market_readiness("be").await.unwrap();
    assert_eq!(check(&released, "config").reason, "be's config fits the schema of v1");
    assert!(check(&released, "config").passed);
    assert_eq!(
        check(&released, "release").reason,
        format!(
            "no release of shop is live in be; the release in production is v1: roll it out: `tandem rollout start --release {}`",
            v1.id
        )
    );
    let err = not_ready(engine.launch_market("be", "ops").await.unwrap()).refusal();
    assert!(
        err.contains("release (shop): no release of shop is live in be"),
        "{err}"
    );
    assert!(
        err.contains("probe (shop): nothing of shop runs in be to probe"),
        "{err}"
    );
    assert_eq!(state_of(&engine, "be").await, LaunchState::Planned);

    // A planned market receives an ordinary rollout; it is launching from then on.
    let rollout = engine.start_rollout(v1.id, "test").await.unwrap();
    let rollout = common::wait_for("the rollout", async || {
        let r = engine.get_rollout(rollout.id).await.unwrap();
        matches!(r.state.as_str(), "succeeded" | "halted" | "failed").then_some(r)
    })
    .await;
    assert_eq!(rollout.state, "succeeded", "{:?}", rollout.reason);
    assert_eq!(state_of(&engine, "be").await, LaunchState::Launching);
    let be = engine
        .list_live_deployments()
        .await
        .unwrap()
        .into_iter()
        .find(|d| d.market == "be")
        .unwrap();
    let ready = engine.market_readiness("be").await.unwrap();
    assert!(ready.ready, "{:?}", ready.missing_lines());
    assert_eq!(ready.state, "launching");
    assert_eq!(
        check(&ready, "probe").reason,
        format!("GET {}/healthz answered 200", be.url.unwrap())
    );
    assert_eq!(
        check(&ready, "release").reason,
        "v1 (the release in production) is live in be"
    );

    let launch = launched(engine.launch_market("be", "ops").await.unwrap());
    assert_eq!(launch.launched_by, "ops");
    assert_eq!(launch.readiness.state, "live");
    assert_eq!(state_of(&engine, "be").await, LaunchState::Live);
    let events = engine.list_events(0, 10_000).await.unwrap();
    assert_eq!(events.iter().filter(|e| e.kind == "market.launching").count(), 1);
    let launched = events.iter().find(|e| e.kind == "market.launched").unwrap();
    assert!(launched.data.contains("\"check\":\"probe\""), "{}", launched.data);
    // The team chat hears of it (refused launches said nothing).
    let told = common::wait_for_event(&chat, "market.launched").await;
    assert_eq!(
        told,
        serde_json::json!({ "text": "Market be (Belgium) is live: launched by ops once its 4 readiness checks passed" })
    );
    assert_eq!(chat.lock().unwrap().len(), 1, "only the launch was asked for");
    let again = engine.launch_market("be", "ops").await.unwrap_err();
    assert!(
        matches!(&again, Error::Conflict(_)) && again.to_string().contains("launched by ops"),
        "{again}"
    );
    let fr = engine.launch_market("fr", "ops").await.unwrap_err();
    assert_eq!(
        fr.to_string(),
        "market `fr` is already live (the platform file says so)"
    );

    // A restart reads the same platform file, `state: planned` and all: be stays live.
    engine.shutdown().await;
    engine.store_for_tests().close().await;
    drop(engine);
    let store = Store::open(&data).await.unwrap();
    store
        .sync_platform(&parse_platform("p.yml", &platform).unwrap())
        .await
        .unwrap();
    let after = store.load_platform().await.unwrap();
    assert_eq!(after.market("be").unwrap().state, LaunchState::Live);
    assert_eq!(store.get_launch("be").await.unwrap().unwrap().launched_by, "ops");
}

#[tokio::test]
async fn readiness_names_the_config_keys_the_latest_release_needs() {
    let dir = tempfile::tempdir().unwrap();
    let platform = "markets:
  - { id: fr, name: France, region: west, currency: EUR, locale: fr-FR, timezone: Europe/Paris }
  - { id: be, name: Belgium, region: west, currency: EUR, locale: fr-BE, timezone: Europe/Brussels, state: planned }
services:
  - { name: shop, repo: /srv/git/shop, config: { defaults: { vat_rate: 0.2, payment_methods: [card] }, markets: { be: { vat_rate: 0.9 } } } }
";
    let engine: Arc<Engine> = common::engine(dir.path(), platform).await;
    let schema =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/shop/config/schema.json"))
            .unwrap();
    let spec = tandem_core::pipeline::parse_service_spec(
        "tandem.yml",
        "service: shop\npipeline:\n  jobs:\n    a:\n      steps: [{ run: x }]\n",
    )
    .unwrap();
    let run = engine
        .store_for_tests()
        .insert_run("shop", "c1", "main", "hand")
        .await
        .unwrap();
    engine
        .store_for_tests()
        .insert_release_with("shop", "c1", run.id, &spec, "test", Some(&schema))
        .await
        .unwrap();
    engine
        .apply_flags(
            "shop",
            "flags:\n  new-checkout:\n    type: boolean\n    variants: { on: true, off: false }\n    default: off\n    markets:\n      be: { rollout: { on: 10, off: 90 } }\n",
            "dev",
            None,
        )
        .await
        .unwrap();

    let r = engine.market_readiness("be").await.unwrap();
    let config = check(&r, "config");
    assert!(!config.passed);
    assert_eq!(
        config.reason,
        "be's config does not fit the schema of v1: be: `free_shipping_threshold`: missing: the schema requires this key; \
         be: `vat_rate`: expected at most 0.5, found 0.9 (number)"
    );
    assert_eq!(
        check(&r, "flags").reason,
        "1 flag(s) of shop (version 1) resolve in be, 1 with targeting of its own"
    );
    assert!(!r.ready);
    let unknown = engine.market_readiness("xx").await.unwrap_err();
    assert_eq!(unknown.to_string(), "market `xx` not found");
}

/// The checklist a refused launch failed.
fn not_ready(outcome: LaunchOutcome) -> Box<Readiness> {
    match outcome {
        LaunchOutcome::NotReady(readiness) => readiness,
        LaunchOutcome::Launched(launch) => panic!("launched: {launch:?}"),
    }
}

/// The launch of a market that was ready.
fn launched(outcome: LaunchOutcome) -> Launch {
    match outcome {
        LaunchOutcome::Launched(launch) => launch,
        LaunchOutcome::NotReady(readiness) => panic!("not ready: {}", readiness.refusal()),
    }
}
