//! Starting the server: data folder, platform file, store, engine, first admin token, listener.

use anyhow::{Context, Result, bail};
use clap::Args;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tandem_core::monitor::Retention;
use tandem_core::platform::{Platform, parse_platform};
use tandem_core::role::Role;
use tandem_engine::{Engine, EngineSettings};
use tandem_server::{AppState, ServerSettings};
use tandem_store::{SecretKey, Store};

/// `tandem serve`: the platform file, the data folder, the address and the server's settings.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Folder holding the database and blobs.
    #[arg(long, env = "TANDEM_DATA_DIR", default_value = "tandem-data")]
    pub data_dir: PathBuf,
    /// The database: a PostgreSQL URL (postgres://user@host:5432/tandem; see
    /// docs/operations.md). Unset: SQLite, in the data folder. Prefer the environment variable
    /// when the URL holds a password (the command line shows in `ps`).
    #[arg(long, env = "TANDEM_DATABASE", hide_env_values = true)]
    pub database: Option<String>,
    /// Platform file (markets, waves, services); re-read at each start.
    #[arg(long, env = "TANDEM_PLATFORM")]
    pub platform: Option<PathBuf>,
    /// Address to listen on.
    #[arg(long, env = "TANDEM_LISTEN", default_value = "127.0.0.1:8420")]
    pub listen: SocketAddr,
    /// Let callers without a credential read (never write).
    #[arg(long)]
    pub anonymous_read: bool,
    /// The URL browsers reach the server at, such as https://tandem.example.com (behind a
    /// reverse proxy): the only origin sign-in cookies are accepted from, and with https the
    /// session cookie is marked Secure. Unset: the request's own Host.
    #[arg(long, env = "TANDEM_PUBLIC_URL")]
    pub public_url: Option<tandem_server::PublicUrl>,
    /// File holding the key that seals stored secrets (32 bytes, base64 or hex). Without it
    /// (and without TANDEM_SECRETS_KEY, the key itself), `secrets.key` in the data folder,
    /// made on first start.
    #[arg(long, env = "TANDEM_SECRETS_KEY_FILE")]
    pub secrets_key_file: Option<PathBuf>,
    /// With several servers on one database: how long the conductor's lease lasts without
    /// renewal, from 2s to 5m. Another server takes over when it runs out (at once when the
    /// conductor's process ends); longer rides out longer database hiccups.
    #[arg(long, env = "TANDEM_LEASE_TTL", default_value = "5s", value_parser = lease_ttl)]
    pub lease_ttl: std::time::Duration,
    /// Start no local agent: pipeline jobs wait for agents started elsewhere (`tandem agent`;
    /// see docs/agents.md). By default the server starts one, sandboxed, beside itself.
    #[arg(long, env = "TANDEM_NO_LOCAL_AGENT")]
    pub no_local_agent: bool,
    /// How long an agent holds a job without reporting, from 2s to 5m: a job whose agent died
    /// goes to another agent this long after its last report.
    #[arg(long, env = "TANDEM_JOB_LEASE", default_value = "15s", value_parser = lease_ttl)]
    pub job_lease: std::time::Duration,
    /// How long the monitor keeps its series at minute resolution (at least 6h; see
    /// docs/monitor.md). Older minutes live on only in their hours.
    #[arg(long, env = "TANDEM_SERIES_MINUTES_KEPT", default_value = "2d", value_parser = tandem_core::duration::parse_duration)]
    pub series_minutes_kept: std::time::Duration,
    /// How long the monitor keeps its series at hour resolution (at least as long as minutes).
    #[arg(long, env = "TANDEM_SERIES_HOURS_KEPT", default_value = "90d", value_parser = tandem_core::duration::parse_duration)]
    pub series_hours_kept: std::time::Duration,
}

/// Reads `--lease-ttl`: a duration such as `5s` or `1m`, from 2 s to 5 min.
fn lease_ttl(text: &str) -> Result<std::time::Duration, String> {
    let d = tandem_core::duration::parse_duration(text)?;
    if !(std::time::Duration::from_secs(2)..=std::time::Duration::from_secs(300)).contains(&d) {
        return Err(format!("`{text}` is not between 2s and 5m"));
    }
    Ok(d)
}

/// The environment variable that may hold the secrets key itself (base64 or hex); read from the
/// environment only, never from the command line where `ps` would show it.
const SECRETS_KEY_VAR: &str = "TANDEM_SECRETS_KEY";

/// The secrets key named by `--secrets-key-file` or TANDEM_SECRETS_KEY, if either; `None` lets
/// the engine use (or make) the one in the data folder.
fn secrets_key(args: &ServeArgs) -> Result<Option<Arc<SecretKey>>> {
    let from_env = std::env::var(SECRETS_KEY_VAR).ok().filter(|v| !v.trim().is_empty());
    let key = match (&args.secrets_key_file, from_env) {
        (Some(_), Some(_)) => bail!(
            "both {SECRETS_KEY_VAR} and a secrets key file (--secrets-key-file or TANDEM_SECRETS_KEY_FILE) are set: keep one"
        ),
        (Some(file), None) => {
            let key = SecretKey::read_file(file)?;
            tracing::info!(file = %file.display(), "secrets are sealed with the key in this file");
            key
        }
        (None, Some(text)) => {
            let key = SecretKey::parse(&text, &format!("the environment variable {SECRETS_KEY_VAR}"))?;
            tracing::info!("secrets are sealed with the key in {SECRETS_KEY_VAR}");
            key
        }
        (None, None) if args.database.is_some() => bail!(
            "with --database (or TANDEM_DATABASE), give the key that seals secrets with --secrets-key-file or \
             {SECRETS_KEY_VAR}: every server sharing the database must use the same key, and a data folder's own \
             key is one server's"
        ),
        (None, None) => return Ok(None),
    };
    Ok(Some(Arc::new(key)))
}

/// A started server.
#[derive(Debug)]
pub struct Running {
    /// The URL the server answers at (`http://127.0.0.1:PORT`).
    pub base_url: String,
    /// The admin token created on first start (its secret is shown only now).
    pub first_token: Option<String>,
    shutdown: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<Result<()>>,
    /// The agent started beside the server, unless --no-local-agent.
    pub local_agent: Option<crate::agent::LocalAgent>,
    /// The data folder, this server's alone while it runs.
    _folder_lock: std::fs::File,
}

impl Running {
    /// Stops taking requests, finishes those under way, stops every market process, then the
    /// local agent (runs under way are left to be marked interrupted at the next start).
    pub async fn stop(self) -> Result<()> {
        let _ = self.shutdown.send(());
        let stopped = self.task.await.context("the server task failed");
        if let Some(agent) = self.local_agent {
            agent.stop().await;
        }
        stopped?
    }
}

/// Reads and validates a platform file; local repository paths become absolute (relative ones
/// are taken from the platform file's folder) and must exist.
pub fn load_platform(path: &Path) -> Result<Platform> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read platform file {}", path.display()))?;
    let mut platform = parse_platform(&path.display().to_string(), &text).map_err(|e| anyhow::anyhow!("{e}"))?;
    let base = path.parent().unwrap_or(Path::new("."));
    for s in &mut platform.services {
        if s.repo.contains("://") && !s.repo.starts_with("file://") {
            continue;
        }
        let local = PathBuf::from(s.repo.strip_prefix("file://").unwrap_or(&s.repo));
        let local = if local.is_absolute() { local } else { base.join(local) };
        if !local.exists() {
            bail!(
                "{}: service `{}` names repository {}, which does not exist",
                path.display(),
                s.name,
                local.display()
            );
        }
        s.repo = std::fs::canonicalize(&local).unwrap_or(local).display().to_string();
    }
    Ok(platform)
}

/// Opens everything and starts serving in the background.
pub async fn start(args: &ServeArgs) -> Result<Running> {
    // Validate the platform before touching the data folder: a bad file writes nothing.
    let platform = args.platform.as_deref().map(load_platform).transpose()?;
    let series_retention = Retention::new(args.series_minutes_kept, args.series_hours_kept)
        .map_err(|e| anyhow::anyhow!("--series-minutes-kept / --series-hours-kept: {e}"))?;
    let secrets_key = secrets_key(args)?;
    let listener = tokio::net::TcpListener::bind(args.listen).await.with_context(|| {
        format!(
            "cannot listen on {}: is another server using this port? Pick another with --listen",
            args.listen
        )
    })?;
    let folder_lock = lock_data_dir(&args.data_dir)?;
    let store = match &args.database {
        None => Store::open(&args.data_dir)
            .await
            .with_context(|| format!("cannot open data folder {}", args.data_dir.display()))?,
        Some(url) => Store::open_with(&args.data_dir, Some(url))
            .await
            .context("cannot open the database given by --database (or TANDEM_DATABASE)")?,
    };
    match &platform {
        Some(p) => store.sync_platform(p).await?,
        None if store.list_markets().await?.is_empty() => {
            bail!(
                "no platform yet in {}: start with --platform FILE (markets, waves, services)",
                args.data_dir.display()
            )
        }
        None => {}
    }
    let first_token = if store.count_tokens().await? == 0 {
        let secret = tandem_server::auth::generate_secret();
        store.insert_token("admin", Role::Admin, &secret).await?;
        Some(secret)
    } else {
        None
    };
    let mut settings = EngineSettings::in_data_dir(&args.data_dir);
    settings.secrets_key = secrets_key;
    settings.lease_ttl = args.lease_ttl;
    settings.on_agents = true;
    settings.job_lease = args.job_lease;
    settings.series_retention = series_retention;
    let engine = Engine::new(store, settings).await?;
    engine.start().await?;
    let addr = listener.local_addr()?;
    let local_agent = match args.no_local_agent {
        true => None,
        false => Some(start_local_agent(&engine, args, &format!("http://{addr}")).await?),
    };
    let state = AppState::new(
        engine.clone(),
        ServerSettings {
            anonymous_read: args.anonymous_read,
            public_url: args.public_url.clone(),
        },
    );
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(tandem_server::serve(listener, state, async move {
        let _ = rx.await;
    }));
    Ok(Running {
        base_url: format!("http://{addr}"),
        first_token,
        shutdown: tx,
        task,
        local_agent,
        _folder_lock: folder_lock,
    })
}

/// Registers this server's local agent (or gives it a new token: the old one died with the
/// previous process) and starts it, sandboxed.
async fn start_local_agent(engine: &Engine, args: &ServeArgs, base_url: &str) -> Result<crate::agent::LocalAgent> {
    let name: String = format!("local-{}", engine.server_name())
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '-'
            }
        })
        .take(64)
        .collect();
    let token = match engine.rotate_agent(&name).await {
        Ok((_, token)) => token,
        Err(tandem_engine::Error::NotFound { .. }) => engine.register_agent(&name, "tandem serve").await?.1,
        Err(e) => return Err(e.into()),
    };
    let (agent, sandbox) = crate::agent::LocalAgent::start(crate::agent::LocalAgentSettings {
        base_url,
        token: &token,
        data_dir: &args.data_dir,
        hidden_files: args.secrets_key_file.iter().cloned().collect(),
        capacity: engine.settings.max_parallel_jobs,
    })
    .await?;
    tracing::info!(agent = %name, ?sandbox, pid = ?agent.pid(), "local agent started");
    Ok(agent)
}

/// Takes the data folder for this server alone (a lock on `server.lock` in it, released by
/// the system however the server ends): two servers on one folder would share its work
/// folders and its name among servers sharing a database.
fn lock_data_dir(data_dir: &Path) -> Result<std::fs::File> {
    std::fs::create_dir_all(data_dir).with_context(|| format!("cannot create data folder {}", data_dir.display()))?;
    let path = data_dir.join("server.lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => bail!(
            "another Tandem server is using the data folder {}: give each server a folder of its own \
             (servers share work through --database, not through a folder)",
            data_dir.display()
        ),
        Err(std::fs::TryLockError::Error(e)) => Err(e).with_context(|| format!("cannot lock {}", path.display())),
    }
}

/// `tandem serve`: runs until Ctrl-C or SIGTERM.
pub async fn serve(args: ServeArgs) -> Result<()> {
    let running = start(&args).await?;
    tracing::info!(url = %running.base_url, data_dir = %args.data_dir.display(), "tandem is serving");
    if let Some(secret) = &running.first_token
        && let Err(e) = announce_first_token(secret, &args.data_dir, &running.base_url)
    {
        running.stop().await?;
        return Err(e);
    }
    wait_for_signal().await;
    tracing::info!("shutting down");
    running.stop().await
}

/// Where the first admin token goes, in the data folder, when no terminal is attached.
pub const FIRST_TOKEN_FILE: &str = "first-admin-token";

/// Hands the first admin token to the operator without putting it in a log: on the terminal
/// when one is attached, else in a file only this user can read, whose path is printed.
fn announce_first_token(secret: &str, data_dir: &Path, base_url: &str) -> Result<()> {
    use std::io::IsTerminal;
    if std::io::stderr().is_terminal() {
        eprintln!("Created the first admin token (shown once, keep it safe):\n  {secret}\nSign in at {base_url}/login");
        return Ok(());
    }
    let path = data_dir.join(FIRST_TOKEN_FILE);
    write_owner_only(&path, &format!("{secret}\n"))?;
    eprintln!(
        "Created the first admin token; it is in {} (readable by this user only). Move it somewhere safe, \
         then delete the file. Sign in at {base_url}/login",
        path.display()
    );
    Ok(())
}

/// Writes `text` to a new file of mode 0600 (an older file there is replaced, not reused, so
/// its permissions do not carry over).
fn write_owner_only(path: &Path, text: &str) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("cannot replace {}", path.display())),
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot create {}: check the data folder's permissions", path.display()))?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .with_context(|| format!("cannot write {}", path.display()))
}

/// Waits for Ctrl-C or SIGTERM.
pub async fn wait_for_signal() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term => {}
    }
}
