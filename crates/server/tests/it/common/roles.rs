//! A bare server seeded with one token per role: the platform a test gives, no runs or
//! rollouts, and for each role of [`Role::ALL`] a token named after the role whose secret is
//! `secret-<role>`.

use super::STOP_TIMEOUT;
use reqwest::RequestBuilder;
use serde_json::Value;
use std::sync::Arc;
use tandem_core::platform::parse_platform;
use tandem_core::role::Role;
use tandem_engine::{Engine, EngineSettings};
use tandem_server::{AppState, ServerSettings};
use tandem_store::Store;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The real server on 127.0.0.1, port 0, over a temporary data folder, with a token per role.
/// Dropping it asks the server to stop; [`RoleServer::stop`] also waits for it.
pub struct RoleServer {
    /// `http://127.0.0.1:<port>`, which is also the origin a browser on it sends.
    pub base: String,
    pub engine: Arc<Engine>,
    /// Each role's token secret.
    pub tokens: Vec<(Role, String)>,
    shutdown: Option<oneshot::Sender<()>>,
    /// The server's task: it ends once a shutdown has let every response finish.
    served: Option<JoinHandle<anyhow::Result<()>>>,
    _dir: tempfile::TempDir,
}

impl RoleServer {
    /// Starts a server on `platform` (the text of a platform file) with the operator's
    /// `settings`; panics, saying what, when it cannot.
    pub async fn start(platform: &str, settings: ServerSettings) -> Self {
        let dir = tempfile::tempdir().expect("a data folder");
        let store = Store::open(dir.path()).await.expect("the store opens");
        let platform = parse_platform("p.yml", platform).expect("the test's platform parses");
        store.sync_platform(&platform).await.expect("the platform is stored");
        let mut tokens = Vec::new();
        for role in Role::ALL {
            let secret = format!("secret-{role}");
            store
                .insert_token(role.as_str(), role, &secret)
                .await
                .expect("the role's token is stored");
            tokens.push((role, secret));
        }
        let engine = Engine::new(store, EngineSettings::in_data_dir(dir.path()))
            .await
            .expect("the engine starts");
        let state = AppState::new(engine.clone(), settings);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a port on 127.0.0.1");
        let base = format!("http://{}", listener.local_addr().expect("the port's address"));
        let (tx, rx) = oneshot::channel::<()>();
        let served = tokio::spawn(tandem_server::serve(listener, state, async move {
            let _ = rx.await;
        }));
        Self {
            base,
            engine,
            tokens,
            shutdown: Some(tx),
            served: Some(served),
            _dir: dir,
        }
    }

    /// The secret of `role`'s token.
    pub fn token(&self, role: Role) -> &str {
        self.tokens
            .iter()
            .find(|(r, _)| *r == role)
            .map(|(_, secret)| secret.as_str())
            .expect("every role has a token")
    }

    /// A GET of `path`, with `role`'s token when there is one.
    pub fn get(&self, path: &str, role: Option<Role>) -> RequestBuilder {
        self.with_role(tandem_testkit::http().get(format!("{}{path}", self.base)), role)
    }

    /// A POST to `path`, with `role`'s token when there is one.
    pub fn post(&self, path: &str, role: Option<Role>) -> RequestBuilder {
        self.with_role(tandem_testkit::http().post(format!("{}{path}", self.base)), role)
    }

    /// A GET as `role` whose JSON answer is returned.
    pub async fn get_json(&self, path: &str, role: Role) -> Value {
        let r = self.get(path, Some(role)).send().await.expect("the server answers");
        r.json().await.expect("a JSON answer")
    }

    fn with_role(&self, req: RequestBuilder, role: Option<Role>) -> RequestBuilder {
        match role {
            Some(r) => req.bearer_auth(self.token(r)),
            None => req,
        }
    }

    /// Asks the server to stop and gives its task, which ends once every response finished.
    pub fn begin_stop(&mut self) -> JoinHandle<anyhow::Result<()>> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        self.served.take().expect("the server was not stopped before")
    }

    /// Stops the server and waits for it; panics when it fails or takes too long.
    pub async fn stop(mut self) {
        let served = self.begin_stop();
        tokio::time::timeout(STOP_TIMEOUT, served)
            .await
            .expect("the server stops in time")
            .expect("the server's task ends")
            .expect("the server ends cleanly");
    }
}

impl Drop for RoleServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}
