//! One job's conversation with the server, under its job token: the source, the lease beats,
//! the live log and step reports (each sent in order by a task of its own, behind the steps),
//! caches, artifacts and the end.

use anyhow::{Context, Result, anyhow, bail};
use reqwest::StatusCode;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tandem_core::state::StepState;
use tandem_engine::dispatch::{BeatAnswer, StepReport};
use tandem_engine::runner::{JobPlan, JobSide};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// How often a report that could not reach the server is tried again before it is given up.
const TRIES: u32 = 5;
/// The header carrying an upload's sha256.
const SHA256_HEADER: &str = "x-tandem-sha256";

/// What the tasks of a job's reporter share.
#[derive(Debug)]
struct Channel {
    client: reqwest::Client,
    /// `…/api/v1/agent/jobs/{id}`.
    base: String,
    token: String,
    /// Cancelled to stop the job's steps (a cancel asked, or the job moved on).
    stop: CancellationToken,
    /// The server said the job is no longer this agent's: nothing more is reported.
    gone: AtomicBool,
}

impl Channel {
    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token)
    }

    /// Whether an answer says the job moved on; then the job is stopped.
    fn moved_on(&self, status: StatusCode) -> bool {
        let gone = status == StatusCode::CONFLICT || status == StatusCode::UNAUTHORIZED;
        if gone && !self.gone.swap(true, Ordering::SeqCst) {
            tracing::warn!(job = %self.base, "the server gave this job to another agent (its lease ran out): stopping it");
            self.stop.cancel();
        }
        gone
    }

    /// Sends a small report, trying again a few times when the server cannot be reached.
    async fn send(&self, build: impl Fn() -> reqwest::RequestBuilder) -> Result<Option<reqwest::Response>> {
        let mut wait = Duration::from_millis(200);
        for attempt in 1..=TRIES {
            if self.gone.load(Ordering::SeqCst) {
                return Ok(None);
            }
            match build().timeout(Duration::from_secs(30)).send().await {
                Ok(r) if self.moved_on(r.status()) => return Ok(None),
                Ok(r) if r.status().is_server_error() && attempt < TRIES => {}
                Ok(r) if r.status().is_success() => return Ok(Some(r)),
                Ok(r) => {
                    let status = r.status();
                    let text = r.text().await.unwrap_or_default();
                    bail!(
                        "the server answered {status}: {}",
                        text.chars().take(300).collect::<String>()
                    );
                }
                Err(e) if attempt < TRIES => {
                    tracing::debug!(error = %e, "a report did not reach the server; trying again")
                }
                Err(e) => return Err(e).context("cannot reach the server"),
            }
            tokio::time::sleep(wait).await;
            wait *= 2;
        }
        Err(anyhow!("the server kept failing"))
    }
}

/// Where the log writer sends each piece it writes out, with its offset.
type LogPieces = mpsc::UnboundedSender<(u64, Vec<u8>)>;

/// Reports one job to the server.
#[derive(Debug)]
pub(crate) struct Reporter {
    channel: Arc<Channel>,
    log: std::sync::Mutex<Option<LogPieces>>,
    log_task: std::sync::Mutex<Option<JoinHandle<()>>>,
    steps: std::sync::Mutex<Option<mpsc::UnboundedSender<(i64, StepReport)>>>,
    steps_task: std::sync::Mutex<Option<JoinHandle<()>>>,
    beats: JoinHandle<()>,
}

impl Reporter {
    pub(crate) fn start(
        client: reqwest::Client,
        base: String,
        token: String,
        stop: CancellationToken,
        beat: Duration,
        lease: Duration,
    ) -> Self {
        let channel = Arc::new(Channel {
            client,
            base,
            token,
            stop,
            gone: AtomicBool::new(false),
        });
        let (log_tx, mut log_rx) = mpsc::unbounded_channel::<(u64, Vec<u8>)>();
        let c = channel.clone();
        let log_task = tokio::spawn(async move {
            while let Some((offset, bytes)) = log_rx.recv().await {
                let sent = c
                    .send(|| {
                        c.request(reqwest::Method::POST, "/log")
                            .query(&[("offset", offset)])
                            .body(bytes.clone())
                    })
                    .await;
                if let Err(e) = sent {
                    tracing::warn!(error = %format!("{e:#}"), "a piece of the live log was not sent (the whole log goes with the job's end)");
                }
            }
        });
        let (steps_tx, mut steps_rx) = mpsc::unbounded_channel::<(i64, StepReport)>();
        let c = channel.clone();
        let steps_task = tokio::spawn(async move {
            while let Some((step, report)) = steps_rx.recv().await {
                let sent = c
                    .send(|| {
                        c.request(reqwest::Method::POST, &format!("/steps/{step}"))
                            .json(&report)
                    })
                    .await;
                match sent {
                    Ok(Some(r)) => {
                        if r.json::<BeatAnswer>().await.is_ok_and(|a| a.cancel) {
                            c.stop.cancel();
                        }
                    }
                    Ok(None) => {}
                    Err(e) => tracing::warn!(error = %format!("{e:#}"), "a step's state was not sent"),
                }
            }
        });
        let c = channel.clone();
        let beats = tokio::spawn(async move {
            let mut renewed = tokio::time::Instant::now();
            loop {
                // The lease runs out (on the server's clock) a lease after the last renewal the
                // server made, a little before this side heard of it: stop the job by 7/8 of it,
                // before the server gives it to another agent (never twice at once).
                let fence_at = renewed + lease * 7 / 8;
                let beaten = async {
                    tokio::time::sleep(beat).await;
                    c.request(reqwest::Method::POST, "/beat")
                        .timeout(lease / 2)
                        .send()
                        .await
                };
                let answer = tokio::select! {
                    a = beaten => a,
                    _ = tokio::time::sleep_until(fence_at) => {
                        tracing::warn!(job = %c.base, "the server could not be reached for most of the job's lease: stopping the job");
                        c.gone.store(true, Ordering::SeqCst);
                        c.stop.cancel();
                        return;
                    }
                };
                if c.gone.load(Ordering::SeqCst) {
                    return;
                }
                match answer {
                    Ok(r) if c.moved_on(r.status()) => return,
                    Ok(r) if r.status().is_success() => {
                        renewed = tokio::time::Instant::now();
                        if r.json::<BeatAnswer>().await.is_ok_and(|a| a.cancel) && !c.stop.is_cancelled() {
                            tracing::info!(job = %c.base, "the server asks to cancel the job");
                            c.stop.cancel();
                        }
                    }
                    Ok(r) => tracing::warn!(status = %r.status(), "the server refused a beat"),
                    Err(e) => tracing::warn!(error = %e, "a beat did not reach the server"),
                }
            }
        });
        Self {
            channel,
            log: std::sync::Mutex::new(Some(log_tx)),
            log_task: std::sync::Mutex::new(Some(log_task)),
            steps: std::sync::Mutex::new(Some(steps_tx)),
            steps_task: std::sync::Mutex::new(Some(steps_task)),
            beats,
        }
    }

    /// Where the job's log writer sends each piece it writes out (once: the log's end closes it).
    pub(crate) fn log_pieces(&self) -> LogPieces {
        self.log
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
            .unwrap_or_else(|| mpsc::unbounded_channel().0)
    }

    fn step(&self, step_id: i64, state: StepState, exit_code: Option<i64>) {
        if let Some(tx) = &*self.steps.lock().unwrap_or_else(|e| e.into_inner()) {
            let _ = tx.send((step_id, StepReport { state, exit_code }));
        }
    }

    /// Downloads the tree of the job's commit (a tar archive) and unpacks it into `tree`.
    pub(crate) async fn fetch_source(&self, archive: &Path, tree: &Path) -> Result<()> {
        let c = &self.channel;
        let Some(response) = c.send(|| c.request(reqwest::Method::GET, "/source")).await? else {
            bail!("the job moved on before its source was fetched");
        };
        download(response, archive).await?;
        let (archive, tree) = (archive.to_path_buf(), tree.to_path_buf());
        tokio::task::spawn_blocking(move || -> Result<()> {
            std::fs::create_dir_all(&tree)?;
            let file = std::fs::File::open(&archive)?;
            let mut tar = tar::Archive::new(file);
            tar.set_preserve_permissions(true);
            tar.unpack(&tree).context("cannot unpack the job's source")?;
            let _ = std::fs::remove_file(&archive);
            Ok(())
        })
        .await??;
        Ok(())
    }

    /// Uploads a file; returns the server's answer.
    async fn upload(
        &self,
        method: reqwest::Method,
        path: &str,
        query: &[(&str, &str)],
        file: &Path,
    ) -> Result<Option<reqwest::Response>> {
        let digest = file_sha256(file).await?;
        let c = &self.channel;
        let mut wait = Duration::from_millis(200);
        for attempt in 1..=TRIES {
            let body = tokio::fs::File::open(file)
                .await
                .with_context(|| format!("cannot open {}", file.display()))?;
            let response = c
                .request(method.clone(), path)
                .query(query)
                .header(SHA256_HEADER, &digest)
                .body(reqwest::Body::wrap_stream(tokio_util::io::ReaderStream::new(body)))
                .send()
                .await;
            match response {
                Ok(r) if c.moved_on(r.status()) => return Ok(None),
                Ok(r) if r.status().is_success() => return Ok(Some(r)),
                Ok(r) if r.status().is_server_error() && attempt < TRIES => {}
                Ok(r) => {
                    let status = r.status();
                    let text = r.text().await.unwrap_or_default();
                    bail!(
                        "the server refused {}: {status}: {}",
                        file.display(),
                        text.chars().take(300).collect::<String>()
                    );
                }
                Err(e) if attempt < TRIES => {
                    tracing::debug!(error = %e, "an upload did not reach the server; trying again")
                }
                Err(e) => return Err(e).context("cannot reach the server"),
            }
            tokio::time::sleep(wait).await;
            wait *= 2;
        }
        Err(anyhow!("the server kept failing"))
    }

    /// Reports nothing more (the server going away marks the job itself).
    pub(crate) fn abandon(&self) {
        self.channel.gone.store(true, Ordering::SeqCst);
        self.beats.abort();
    }

    /// Reports the job's end with its whole log, once every step report and log piece went.
    pub(crate) async fn end(&self, passed: bool, exit_code: Option<i64>, cancelled: bool, log: &Path) -> Result<()> {
        drop(self.steps.lock().unwrap_or_else(|e| e.into_inner()).take());
        drop(self.log.lock().unwrap_or_else(|e| e.into_inner()).take());
        let steps = self.steps_task.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(task) = steps {
            let _ = task.await;
        }
        let pieces = self.log_task.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(task) = pieces {
            let _ = task.await;
        }
        self.beats.abort();
        if self.channel.gone.load(Ordering::SeqCst) {
            return Ok(());
        }
        let exit = exit_code.map(|c| c.to_string());
        let passed_text = passed.to_string();
        let mut query = vec![("passed", passed_text.as_str())];
        if cancelled {
            query.push(("cancelled", "true"));
        }
        if let Some(code) = &exit {
            query.push(("exit_code", code.as_str()));
        }
        self.upload(reqwest::Method::POST, "/end", &query, log).await?;
        tracing::info!(job = %self.channel.base, passed, "job reported");
        Ok(())
    }
}

impl Drop for Reporter {
    fn drop(&mut self) {
        self.beats.abort();
    }
}

/// The server, as the runner's [`JobSide`].
pub(crate) struct ServerSide<'a> {
    reporter: &'a Reporter,
    plan: &'a JobPlan,
    dir: &'a Path,
}

impl<'a> ServerSide<'a> {
    pub(crate) fn new(reporter: &'a Reporter, plan: &'a JobPlan, dir: &'a Path) -> Self {
        Self { reporter, plan, dir }
    }
}

impl JobSide for ServerSide<'_> {
    fn step_changed(&self, index: usize, state: StepState, exit_code: Option<i64>) {
        if let Some(id) = self.plan.step_ids.get(index) {
            self.reporter.step(*id, state, exit_code);
        }
    }

    async fn fetch_cache(&self, key: &str) -> Result<Option<PathBuf>> {
        let c = &self.reporter.channel;
        let response = c
            .request(reqwest::Method::GET, &format!("/cache/{key}"))
            .timeout(Duration::from_secs(600))
            .send()
            .await
            .context("cannot reach the server")?;
        if response.status() == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if c.moved_on(response.status()) {
            bail!("the job moved on");
        }
        if !response.status().is_success() {
            bail!("the server answered {} for the cache", response.status());
        }
        let path = self.dir.join(format!("cache-{key}.download.tar"));
        download(response, &path).await?;
        Ok(Some(path))
    }

    async fn keep_cache(&self, key: &str, archive: &Path) -> Result<u64> {
        let size = tokio::fs::metadata(archive).await?.len();
        self.reporter
            .upload(reqwest::Method::PUT, &format!("/cache/{key}"), &[], archive)
            .await?;
        Ok(size)
    }

    async fn store_artifact(&self, rel: &str, file: &Path) -> Result<(String, u64)> {
        let answer = self
            .reporter
            .upload(reqwest::Method::PUT, "/artifacts", &[("path", rel)], file)
            .await?
            .ok_or_else(|| anyhow!("the job moved on"))?;
        let kept: serde_json::Value = answer.json().await.context("the server's answer cannot be read")?;
        let digest = kept["sha256"].as_str().unwrap_or_default().to_string();
        Ok((digest, kept["size"].as_u64().unwrap_or_default()))
    }

    fn discard(&self, path: PathBuf) {
        tokio::spawn(async move {
            let _ = tokio::fs::remove_dir_all(&path).await;
        });
    }
}

/// Writes a response's body to `path`.
async fn download(mut response: reqwest::Response, path: &Path) -> Result<()> {
    use tokio::io::AsyncWriteExt;
    let mut file = tokio::fs::File::create(path)
        .await
        .with_context(|| format!("cannot create {}", path.display()))?;
    while let Some(chunk) = response.chunk().await.context("the download was cut off")? {
        file.write_all(&chunk).await?;
    }
    file.flush().await?;
    Ok(())
}

/// A file's sha256, hex.
async fn file_sha256(path: &Path) -> Result<String> {
    let path = path.to_path_buf();
    tokio::task::spawn_blocking(move || -> Result<String> {
        use std::io::Read;
        let mut file = std::fs::File::open(&path).with_context(|| format!("cannot open {}", path.display()))?;
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = file.read(&mut buf)?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
        }
        Ok(hex::encode(hasher.finalize()))
    })
    .await?
}
