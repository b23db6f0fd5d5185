//! Driving headless Chromium through chromedriver (Debian's `chromium` and `chromium-driver`
//! packages): starting it, waiting for pages, reading elements, taking screenshots.

use super::wait_for;
use anyhow::{Context, Result, anyhow, bail, ensure};
use fantoccini::{Client, ClientBuilder, Locator};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
pub const CHROMIUM: &str = "/usr/bin/chromium";
/// Bound on any one wait in the browser (a page, chromedriver starting): pages render in
/// milliseconds here; the margin is for a loaded CI machine.
pub const WAIT: Duration = Duration::from_secs(20);

pub fn screenshot_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/ui-screenshots")
}

/// A chromedriver process, killed when dropped.
pub struct ChromeDriver {
    child: Child,
    port: u16,
    work: tempfile::TempDir,
}

impl ChromeDriver {
    pub fn start() -> Result<Self> {
        for (path, what) in [(CHROMEDRIVER, "chromedriver"), (CHROMIUM, "chromium")] {
            ensure!(
                Path::new(path).exists(),
                "{what} is missing at {path}: the UI tests need a real browser. Install Debian's packages: \
                 `sudo apt-get install chromium chromium-driver`"
            );
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let work = tempfile::tempdir()?;
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .arg(format!("--log-path={}", work.path().join("chromedriver.log").display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("cannot start {CHROMEDRIVER}"))?;
        Ok(Self { child, port, work })
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(self.work.path().join("chromedriver.log")).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }

    /// Waits for chromedriver to answer, then opens a headless Chromium session.
    pub async fn connect(&self) -> Result<Client> {
        let status = format!("{}/status", self.url());
        let http = tandem_testkit::http();
        wait_for("chromedriver to be ready", WAIT, || async {
            let body: serde_json::Value = http.get(&status).send().await?.json().await?;
            Ok((body["value"]["ready"] == true).then_some(()))
        })
        .await?;
        let profile = self.work.path().join("profile");
        let caps = serde_json::json!({
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-quic", "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync",
                    format!("--user-data-dir={}", profile.display()), "--window-size=1400,1000",
                ],
            }
        });
        let caps = caps
            .as_object()
            .cloned()
            .ok_or_else(|| anyhow!("capabilities are not an object"))?;
        let mut builder = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new());
        builder.capabilities(caps);
        let url = self.url();
        match tokio::time::timeout(WAIT, builder.connect(&url)).await {
            Ok(Ok(client)) => Ok(client),
            Ok(Err(e)) => bail!(
                "cannot open a Chromium session: {e}\nchromedriver log:\n{}",
                self.log_tail()
            ),
            Err(_) => bail!(
                "Chromium did not start within {WAIT:?}\nchromedriver log:\n{}",
                self.log_tail()
            ),
        }
    }
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        // Chromium itself ends with its session (`Client::close`, called on every path that
        // does not panic); this stops chromedriver even when the test failed.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The text of the whole page, as the user sees it.
pub async fn page_text(client: &Client) -> Result<String> {
    Ok(client.find(Locator::Css("body")).await?.text().await?)
}

/// Waits until the browser is at `path` and the page shows `needle`.
pub async fn wait_page(client: &Client, path: &str, needle: &str) -> Result<String> {
    wait_for(&format!("page {path} showing {needle:?}"), WAIT, || async {
        let url = client.current_url().await?;
        if url.path() != path {
            return Err(anyhow!("at {url}"));
        }
        let text = page_text(client).await?;
        Ok(text.contains(needle).then_some(text))
    })
    .await
}

/// The text and class of one element.
pub async fn element(client: &Client, css: &str) -> Result<(String, String)> {
    let e = client
        .find(Locator::Css(css))
        .await
        .with_context(|| format!("no element {css}"))?;
    Ok((e.text().await?, e.attr("class").await?.unwrap_or_default()))
}

pub async fn screenshot(client: &Client, name: &str) -> Result<()> {
    let dir = screenshot_dir();
    std::fs::create_dir_all(&dir)?;
    let png = client.screenshot().await?;
    std::fs::write(dir.join(name), png).with_context(|| format!("cannot save {name}"))?;
    Ok(())
}
