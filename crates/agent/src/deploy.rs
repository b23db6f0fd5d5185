//! A market's deploy command on this agent (`deploy.runs-on` in `tandem.yml`): the release's
//! artifacts (sha256 checked) and the market's config file are fetched into a folder of its
//! own, the command runs there through the same executor as a step (its timeout, the step guard)
//! with the `TANDEM_*` facts the server would give it, and its end and log go back.

use anyhow::{Context, Result, bail};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;
use tandem_engine::dispatch::{BeatAnswer, ClaimedTask};
use tandem_engine::executor::{Executor, LocalExecutor, StepRequest};
use tokio_util::sync::CancellationToken;

/// Runs a claimed deploy and reports its end.
pub(crate) async fn run_task(
    client: &reqwest::Client,
    server: &str,
    work_dir: &Path,
    task: ClaimedTask,
    kill: CancellationToken,
) -> Result<()> {
    let ClaimedTask {
        id,
        plan,
        token,
        beat_ms,
        ..
    } = task;
    tracing::info!(task = id, market = %plan.market, release = %plan.release, "deploying");
    let base = format!("{server}/api/v1/agent/tasks/{id}");
    let dir = work_dir.join(format!("deploy-{id}"));
    let artifacts = dir.join("artifacts");
    tokio::fs::create_dir_all(&artifacts)
        .await
        .with_context(|| format!("cannot create {}", artifacts.display()))?;
    let stop = kill.child_token();
    let beats = {
        let (client, base, token, stop) = (client.clone(), base.clone(), token.clone(), stop.clone());
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(beat_ms)).await;
                let answer = client
                    .post(format!("{base}/beat"))
                    .bearer_auth(&token)
                    .timeout(Duration::from_millis(beat_ms))
                    .send()
                    .await;
                match answer {
                    // Its lease ran out: the server failed the deploy; stop it here too.
                    Ok(r) if r.status() == reqwest::StatusCode::CONFLICT => {
                        stop.cancel();
                        return;
                    }
                    Ok(r) => {
                        if r.json::<BeatAnswer>().await.is_ok_and(|a| a.cancel) {
                            stop.cancel();
                        }
                    }
                    Err(_) => {}
                }
            }
        })
    };
    let log_path = dir.join("deploy.log");
    let ran = async {
        let config = dir.join("config.json");
        tokio::fs::write(&config, &plan.config).await?;
        for (name, digest) in &plan.artifacts {
            fetch_artifact(client, &base, &token, name, digest, &artifacts.join(name)).await?;
        }
        let mut env: BTreeMap<String, String> = ["PATH", "HOME", "LANG"]
            .iter()
            .filter_map(|k| std::env::var(k).ok().map(|v| (k.to_string(), v)))
            .collect();
        for (k, v) in [
            ("TANDEM_CONFIG_FILE", config.display().to_string()),
            ("TANDEM_MARKET", plan.market.clone()),
            ("TANDEM_SERVICE", plan.service.clone()),
            ("TANDEM_RELEASE", plan.release.clone()),
            ("TANDEM_COMMIT", plan.commit.clone()),
            ("TANDEM_ARTIFACT_DIR", artifacts.display().to_string()),
            ("TANDEM_DEPLOYMENT_ID", plan.deployment_id.to_string()),
            ("TANDEM_ACTION", plan.action.clone()),
        ] {
            env.insert(k.into(), v);
        }
        if let Some(weight) = plan.weight {
            env.insert("TANDEM_WEIGHT".into(), weight.to_string());
        }
        let executor = LocalExecutor {
            guard: std::env::current_exe().ok(),
        };
        let mut log = tandem_engine::logs::LogWriter::new(&log_path, Vec::new())?;
        let request = StepRequest {
            // As on the server: `sh -c`, which does not stop at the first failing command.
            script: format!("set +e\n{}", plan.command),
            shell: None,
            dir: dir.clone(),
            env,
            limits: Default::default(),
        };
        let deadline = tokio::time::Instant::now() + Duration::from_millis(plan.timeout_ms);
        let end = executor.run_step(request, &mut log, &stop, Some(deadline)).await?;
        if end == tandem_engine::executor::StepEnd::TimedOut {
            log.note(&format!(
                "the {} command ran past its timeout of {}s and was stopped",
                if plan.action == "shift" { "shift" } else { "deploy" },
                plan.timeout_ms / 1000
            ))
            .await?;
        }
        log.finish().await?;
        anyhow::Ok(end)
    }
    .await;
    beats.abort();
    let (passed, exit_code) = match &ran {
        Ok(end) => (end.ok(), end.code()),
        Err(e) => {
            tokio::fs::write(&log_path, format!("the agent could not run the deploy: {e:#}\n")).await?;
            (false, None)
        }
    };
    let body = tokio::fs::read(&log_path).await.unwrap_or_default();
    let mut query = vec![("passed", passed.to_string())];
    if let Some(code) = exit_code {
        query.push(("exit_code", code.to_string()));
    }
    let answer = client
        .post(format!("{base}/end"))
        .bearer_auth(&token)
        .query(&query)
        .body(body)
        .send()
        .await
        .context("cannot reach the server to report the deploy")?;
    let _ = tokio::fs::remove_dir_all(&dir).await;
    if !answer.status().is_success() {
        bail!("the server refused the deploy's end: {}", answer.status());
    }
    tracing::info!(task = id, passed, "deploy reported");
    Ok(())
}

/// Downloads an artifact and checks its sha256; makes it executable, like the server's copy.
async fn fetch_artifact(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    name: &str,
    digest: &str,
    dest: &Path,
) -> Result<()> {
    use tokio::io::AsyncWriteExt;
    let mut response = client
        .get(format!("{base}/artifacts/{name}"))
        .bearer_auth(token)
        .send()
        .await
        .context("cannot reach the server")?;
    if !response.status().is_success() {
        bail!("the server answered {} for artifact {name}", response.status());
    }
    let mut file = tokio::fs::File::create(dest)
        .await
        .with_context(|| format!("cannot create {}", dest.display()))?;
    let mut hasher = Sha256::new();
    while let Some(chunk) = response.chunk().await.context("the download was cut off")? {
        hasher.update(&chunk);
        file.write_all(&chunk).await?;
    }
    file.flush().await?;
    let got = hex::encode(hasher.finalize());
    if got != digest {
        bail!("artifact {name} arrived with sha256 {got}, not {digest}: refusing to deploy it");
    }
    use std::os::unix::fs::PermissionsExt;
    tokio::fs::set_permissions(dest, std::fs::Permissions::from_mode(0o755)).await?;
    Ok(())
}
