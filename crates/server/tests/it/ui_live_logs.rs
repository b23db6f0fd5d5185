//! Live logs: a running job's log streamed as coloured HTML (`format=html` on the log stream),
//! through the API and on the run page in headless Chromium, which appends it without a reload.

use crate::common;

use anyhow::{Context, Result, ensure};
use common::TestServer;
use common::browser::{ChromeDriver, WAIT, screenshot, wait_page};
use common::wait_for;
use fantoccini::{Client, Locator};
use std::io::Write as _;
use std::path::Path;
use std::time::Duration;

/// Bound on the whole browser session.
const SESSION_TIMEOUT: Duration = Duration::from_secs(180);
/// Bound on one read of a stream.
const READ_TIMEOUT: Duration = Duration::from_secs(20);
/// The run page's `<pre>` for the busy run's running job.
const LIVE_PRE: &str = "section.job[data-job='test'] pre.log";

/// One server-sent event.
#[derive(Debug, Clone, Default)]
struct SseEvent {
    event: String,
    id: String,
    data: String,
}

/// An SSE stream read event by event, reconnecting from the last event's id when a response
/// ends before the `end` event, as a browser's `EventSource` does.
struct Events {
    url: String,
    token: String,
    last_id: Option<String>,
    resp: reqwest::Response,
    buffer: Vec<u8>,
}

impl Events {
    async fn open(server: &TestServer, path: &str, last_event_id: Option<&str>) -> Result<Events> {
        let (url, token) = (server.url(path), server.seeded.viewer_token.clone());
        let last_id = last_event_id.map(str::to_string);
        let resp = Self::connect(&url, &token, last_id.as_deref()).await?;
        Ok(Events {
            url,
            token,
            last_id,
            resp,
            buffer: Vec::new(),
        })
    }

    async fn connect(url: &str, token: &str, last_id: Option<&str>) -> Result<reqwest::Response> {
        let mut req = tandem_testkit::http().get(url).bearer_auth(token);
        if let Some(id) = last_id {
            req = req.header("last-event-id", id);
        }
        let resp = req.send().await?.error_for_status()?;
        ensure!(
            resp.headers()["content-type"] == "text/event-stream",
            "{:?}",
            resp.headers()
        );
        Ok(resp)
    }

    /// The next event (keep-alive comments skipped).
    async fn next(&mut self) -> Result<SseEvent> {
        loop {
            if let Some(end) = self.buffer.windows(2).position(|w| w == b"\n\n") {
                let block: Vec<u8> = self.buffer.drain(..end + 2).collect();
                let block = String::from_utf8(block)?;
                let mut event = SseEvent::default();
                let mut data = Vec::new();
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("event: ") {
                        event.event = v.to_string();
                    } else if let Some(v) = line.strip_prefix("id: ") {
                        event.id = v.to_string();
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data.push(v.strip_prefix(' ').unwrap_or(v));
                    }
                }
                if event.event.is_empty() && data.is_empty() {
                    continue;
                }
                event.data = data.join("\n");
                if !event.id.is_empty() {
                    self.last_id = Some(event.id.clone());
                }
                return Ok(event);
            }
            let chunk = tokio::time::timeout(READ_TIMEOUT, self.resp.chunk())
                .await
                .context("no event in time")??;
            match chunk {
                Some(chunk) => self.buffer.extend_from_slice(&chunk),
                None => {
                    ensure!(
                        self.buffer.is_empty(),
                        "half an event: {:?}",
                        String::from_utf8_lossy(&self.buffer)
                    );
                    self.resp = Self::connect(&self.url, &self.token, self.last_id.as_deref()).await?;
                }
            }
        }
    }

    /// Events until one whose data holds `needle`; returns them all.
    async fn until(&mut self, needle: &str) -> Result<Vec<SseEvent>> {
        let mut seen = Vec::new();
        loop {
            let event = self
                .next()
                .await
                .with_context(|| format!("waiting for {needle:?} after {seen:?}"))?;
            let found = event.data.contains(needle);
            seen.push(event);
            if found {
                return Ok(seen);
            }
        }
    }
}

fn append(path: &Path, text: &str) -> Result<()> {
    let mut file = std::fs::OpenOptions::new().create(true).append(true).open(path)?;
    file.write_all(text.as_bytes())?;
    Ok(())
}

/// The busy run's running job `test`: its id and the file its live log is written to.
async fn running_job(server: &TestServer) -> Result<(i64, std::path::PathBuf)> {
    let jobs = server.engine.list_jobs(server.seeded.busy_run_id).await?;
    let job = jobs.iter().find(|j| j.name == "test").context("no job test")?;
    ensure!(job.state == "running", "the seed leaves `test` running: {}", job.state);
    Ok((job.id, server.engine.job_log_path(job.id)))
}

fn html_of(events: &[SseEvent]) -> String {
    events
        .iter()
        .filter(|e| e.event == "log")
        .map(|e| e.data.as_str())
        .collect()
}

#[tokio::test]
async fn the_log_stream_sends_coloured_html_and_resumes_with_its_colours() -> Result<()> {
    let server = TestServer::start().await?;
    let (job_id, live) = running_job(&server).await?;
    let run = server.seeded.busy_run_id;
    let stream = format!("/api/v1/runs/{run}/jobs/test/log/stream?format=html");
    append(
        &live,
        "[00:00.001] \x1b[1;31mred <b> & é\n[00:00.002] still red\x1b[0m plain\n",
    )?;

    let mut events = Events::open(&server, &stream, None).await?;
    let html = html_of(&events.until("plain").await?);
    assert_eq!(
        html,
        "<span class=\"ts\">[00:00.001]</span> <span class=\"ansi-bold ansi-red\">red &lt;b&gt; &amp; é</span>\n\
         <span class=\"ts\">[00:00.002]</span> <span class=\"ansi-bold ansi-red\">still red</span> plain\n"
    );

    // A line written in pieces, cut inside an escape sequence and inside a character, arrives
    // whole, in its colour.
    let e = "ü".as_bytes();
    let mut file = std::fs::OpenOptions::new().append(true).open(&live)?;
    file.write_all(b"[00:00.003] \x1b[3")?;
    tokio::time::sleep(Duration::from_millis(600)).await; // the stream polls every 250 ms
    file.write_all(b"2mgreen ")?;
    file.write_all(&e[..1])?;
    tokio::time::sleep(Duration::from_millis(600)).await;
    file.write_all(&e[1..])?;
    file.write_all(b"\n[00:00.004] \x1b[34mblue goes on\n")?;
    let got = events.until("blue goes on").await?;
    assert_eq!(
        html_of(&got),
        "<span class=\"ts\">[00:00.003]</span> <span class=\"ansi-green\">green ü</span>\n\
         <span class=\"ts\">[00:00.004]</span> <span class=\"ansi-blue\">blue goes on</span>\n"
    );
    let last = got.last().context("no event")?;
    let size = std::fs::metadata(&live)?.len();
    assert_eq!(
        last.id,
        format!("{size}:34"),
        "the id carries the offset and the colour"
    );

    // Resuming from that id, or from its offset and colour in the query, goes on in blue.
    append(&live, "[00:00.005] still blue\x1b[0m\n")?;
    let blue = "<span class=\"ts\">[00:00.005]</span> <span class=\"ansi-blue\">still blue</span>\n";
    let mut resumed = Events::open(&server, &stream, Some(&last.id)).await?;
    assert_eq!(html_of(&resumed.until("still blue").await?), blue);
    let by_query = format!("{stream}&offset={size}&sgr=34");
    let mut resumed = Events::open(&server, &by_query, None).await?;
    assert_eq!(html_of(&resumed.until("still blue").await?), blue);

    // The job ends: its stored log, then the end.
    let whole = std::fs::read(&live)?;
    let digest = server.engine.store_for_tests().blobs().put_bytes(&whole)?;
    server
        .engine
        .store_for_tests()
        .finish_job(job_id, tandem_core::state::JobState::Success, Some(0), &digest)
        .await?;
    let end = resumed.next().await?;
    assert_eq!((end.event.as_str(), end.data.as_str()), ("end", "success"), "{end:?}");

    // The OpenAPI document describes the option.
    let doc: serde_json::Value = tandem_testkit::http()
        .get(server.url("/api/v1/openapi.json"))
        .bearer_auth(&server.seeded.viewer_token)
        .send()
        .await?
        .json()
        .await?;
    let params = &doc["paths"]["/api/v1/runs/{id}/jobs/{job}/log/stream"]["get"]["parameters"];
    let param = |name: &str| {
        params
            .as_array()
            .and_then(|ps| ps.iter().find(|p| p["name"] == name))
            .cloned()
            .unwrap_or_default()
    };
    for name in ["offset", "format", "sgr"] {
        assert_eq!(param(name)["in"], "query", "{params}");
        assert_eq!(param(name)["required"], false, "{params}");
    }
    assert_eq!(
        param("format")["schema"]["enum"],
        serde_json::json!(["text", "html"]),
        "{params}"
    );
    assert!(
        param("format")["description"]
            .as_str()
            .unwrap_or_default()
            .contains("HTML")
    );
    assert!(param("sgr")["description"].is_string(), "{params}");

    // Plain text, as before: the escape sequences as written.
    let mut text = Events::open(&server, &format!("/api/v1/runs/{run}/jobs/test/log/stream"), None).await?;
    let got = text.until("still blue").await?;
    let all: String = got.iter().map(|e| e.data.as_str()).collect();
    assert!(
        all.contains("\x1b[1;31mred <b> & é") && all.contains("still blue\x1b[0m"),
        "{all:?}"
    );
    server.stop().await
}

#[tokio::test]
async fn the_run_page_streams_from_where_its_text_ends() -> Result<()> {
    let server = TestServer::start().await?;
    let (_, live) = running_job(&server).await?;
    let run = server.seeded.busy_run_id;
    append(
        &live,
        "[00:00.001] \x1b[35mmagenta\n[00:00.002] goes on\n[00:00.003] half a li",
    )?;
    let page = tandem_testkit::http()
        .get(server.url(&format!("/runs/{run}")))
        .bearer_auth(&server.seeded.viewer_token)
        .send()
        .await?
        .text()
        .await?;
    let url = page
        .split("data-stream=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .with_context(|| format!("no live log on the page:\n{page}"))?
        .replace("&amp;", "&");
    ensure!(!page.contains("half a li"), "the page shows whole lines only");
    ensure!(
        url.ends_with("/jobs/test/log/stream?format=html&offset=45&sgr=35"),
        "the stream goes on after the page's last whole line, in its colour: {url}"
    );
    append(&live, "ne\n")?;
    let mut events = Events::open(&server, &url, None).await?;
    let html = html_of(&events.until("half a line").await?);
    assert_eq!(
        html,
        "<span class=\"ts\">[00:00.003]</span> <span class=\"ansi-magenta\">half a line</span>\n"
    );
    server.stop().await
}

/// Signs in with the viewer's token at the busy run's page.
async fn sign_in(client: &Client, server: &TestServer, path: &str) -> Result<()> {
    client.goto(&server.url(path)).await?;
    wait_page(client, "/login", "Sign in").await?;
    client
        .find(Locator::Css("input[name=token]"))
        .await?
        .send_keys(&server.seeded.viewer_token)
        .await?;
    client.find(Locator::Css("button[type=submit]")).await?.click().await?;
    wait_page(client, path, "Run #").await?;
    Ok(())
}

/// How many responses the log stream route has begun, from `/metrics`.
async fn stream_responses(server: &TestServer) -> Result<u64> {
    let metrics = tandem_testkit::http()
        .get(server.url("/metrics"))
        .bearer_auth(&server.seeded.viewer_token)
        .send()
        .await?
        .text()
        .await?;
    let counts = metrics
        .lines()
        .filter(|l| l.starts_with("tandem_http_requests_total{") && l.contains("log/stream"))
        .map(|l| l.rsplit(' ').next().unwrap_or_default().parse::<u64>());
    Ok(counts.collect::<Result<Vec<_>, _>>()?.iter().sum())
}

/// Runs `script` (a function body) in the page and returns its result.
async fn js(client: &Client, script: &str) -> Result<serde_json::Value> {
    Ok(client.execute(script, vec![]).await?)
}

/// The live log's text, and whether it is still the element marked at the start.
async fn live_log(client: &Client) -> Result<(String, bool)> {
    let found = js(
        client,
        &format!(
            "const pre = document.querySelector(\"{LIVE_PRE}\");
             return pre ? [pre.textContent, pre.liveMark === true, pre.hidden] : null;"
        ),
    )
    .await?;
    let text = found[0].as_str().context("no live log")?.to_string();
    Ok((text, found[1] == true))
}

async fn follow_a_live_log(client: &Client, server: &TestServer) -> Result<()> {
    let (job_id, live) = running_job(server).await?;
    let run = server.seeded.busy_run_id;
    let path = format!("/runs/{run}");
    sign_in(client, server, &path).await?;

    // No output yet: the log is there, hidden, and streams.
    let section = "section.job[data-job='test']";
    let text = client.find(Locator::Css(section)).await?.text().await?;
    ensure!(text.contains("No output yet."), "{text}");
    js(
        client,
        &format!("window.notReloaded = true; document.querySelector(\"{LIVE_PRE}\").liveMark = true;"),
    )
    .await?;

    // Output comes: it shows up in colour, in the same element, with no reload.
    append(
        &live,
        "[00:00.010] $ cargo test\n[00:00.020] \x1b[1;35mCompiling\x1b[0m shop <v0.1.0>\n",
    )?;
    let css = format!("{LIVE_PRE} .ansi-bold.ansi-magenta");
    wait_for("the first lines, in magenta", WAIT, || async {
        Ok(match client.find(Locator::Css(&css)).await {
            Ok(span) => (span.text().await? == "Compiling").then_some(()),
            Err(_) => None,
        })
    })
    .await?;
    let text = client.find(Locator::Css(section)).await?.text().await?;
    ensure!(!text.contains("No output yet."), "the placeholder goes: {text}");

    // A colour set on one line and a sequence cut between two writes keep their colours.
    append(&live, "[00:00.030] \x1b[36mcyan starts\n[00:00.040] \x1b[3")?;
    tokio::time::sleep(Duration::from_millis(600)).await; // a poll or two of the stream
    append(&live, "3mthen yellow\x1b[0m\n")?;
    let css = format!("{LIVE_PRE} .ansi-yellow");
    wait_for("a yellow line", WAIT, || async {
        Ok(client.find(Locator::Css(&css)).await.is_ok().then_some(()))
    })
    .await?;
    let cyan = client.find_all(Locator::Css(&format!("{LIVE_PRE} .ansi-cyan"))).await?;
    let mut cyans = Vec::new();
    for span in cyan {
        cyans.push(span.text().await?);
    }
    ensure!(cyans == ["cyan starts"], "cyan: {cyans:?}");
    let (text, same) = live_log(client).await?;
    ensure!(same, "the streamed element is kept");
    ensure!(
        text.contains("then yellow") && !text.contains("3mthen"),
        "no half sequence shows: {text}"
    );

    // The page refreshes meanwhile (the step's state shows), without touching the stream.
    let step = server.engine.store_for_tests().list_steps(job_id).await?.remove(0);
    server
        .engine
        .store_for_tests()
        .update_step(step.id, tandem_core::state::StepState::Running, None)
        .await?;
    wait_for("the step shown running", WAIT, || async {
        let text = client
            .find(Locator::Css(&format!("{section} table.steps")))
            .await?
            .text()
            .await?;
        Ok(text.contains("running").then_some(()))
    })
    .await?;
    append(&live, "[00:00.050] \x1b[32mtest a ... ok\x1b[0m\n")?;
    let (text, same) = wait_for("the line after a refresh", WAIT, || async {
        let (text, same) = live_log(client).await?;
        Ok(text.contains("test a ... ok").then_some((text, same)))
    })
    .await?;
    ensure!(same, "a refresh keeps the streamed log");
    for line in [
        "$ cargo test",
        "Compiling",
        "cyan starts",
        "then yellow",
        "test a ... ok",
    ] {
        ensure!(text.matches(line).count() == 1, "{line:?} once in:\n{text}");
    }
    let kept = js(client, "return window.notReloaded === true").await?;
    ensure!(kept == true, "the page was not reloaded");
    screenshot(client, "run-live-log.png").await?;

    // A response lasts a few seconds; the browser reconnects and goes on where it was.
    let before = stream_responses(server).await?;
    wait_for("the stream to reconnect", WAIT, || async {
        Ok((stream_responses(server).await? > before).then_some(()))
    })
    .await?;
    append(&live, "[00:00.060] \x1b[32mtest b ... ok\x1b[0m\n")?;
    let (text, same) = wait_for("the line after a reconnect", WAIT, || async {
        let (text, same) = live_log(client).await?;
        Ok(text.contains("test b ... ok").then_some((text, same)))
    })
    .await?;
    ensure!(same, "a reconnect keeps the streamed log");
    for line in [
        "$ cargo test",
        "Compiling",
        "then yellow",
        "test a ... ok",
        "test b ... ok",
    ] {
        ensure!(text.matches(line).count() == 1, "{line:?} once in:\n{text}");
    }

    // A long log: the page keeps its last part, from a line start, and says so.
    let filler: String = (0..10_000)
        .map(|i| format!("[00:01.000] filler line {i:05}\n"))
        .collect();
    append(&live, &filler)?;
    append(&live, "[00:02.000] \x1b[31mlast line\x1b[0m\n")?;
    let (text, _) = wait_for("the last line", WAIT, || async {
        let (text, same) = live_log(client).await?;
        Ok(text.contains("last line").then_some((text, same)))
    })
    .await?;
    ensure!(
        text.len() <= 256 * 1024 && text.starts_with("[00:01.000] filler line"),
        "cut to {} bytes, at a line start: {:?}",
        text.len(),
        &text[..text.len().min(80)]
    );
    wait_for("the note on a cut log", WAIT, || async {
        let text = client.find(Locator::Css(section)).await?.text().await?;
        Ok(text.contains("Showing the last 256.0 KiB").then_some(()))
    })
    .await?;

    // The job ends: the stream ends, and the refresh shows the stored log, no longer live.
    let digest = server
        .engine
        .store_for_tests()
        .blobs()
        .put_bytes(&std::fs::read(&live)?)?;
    server
        .engine
        .store_for_tests()
        .finish_job(job_id, tandem_core::state::JobState::Success, Some(0), &digest)
        .await?;
    wait_for("the final log", WAIT, || async {
        let live = js(
            client,
            &format!("const pre = document.querySelector(\"{LIVE_PRE}\"); return !pre.liveMark && !pre.hasAttribute('data-stream');"),
        )
        .await?;
        Ok((live == true).then_some(()))
    })
    .await?;
    let (text, _) = live_log(client).await?;
    ensure!(
        text.trim_end().ends_with("last line") && text.matches("last line").count() == 1,
        "the final log: {}",
        &text[text.len().saturating_sub(200)..]
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_jobs_log_grows_on_the_page_in_colour_without_a_reload() {
    let server = TestServer::start()
        .await
        .unwrap_or_else(|e| panic!("cannot start the server: {e:#}"));
    let driver = ChromeDriver::start().unwrap_or_else(|e| panic!("{e:#}"));
    let client = driver.connect().await.unwrap_or_else(|e| panic!("{e:#}"));
    let outcome = tokio::time::timeout(SESSION_TIMEOUT, follow_a_live_log(&client, &server)).await;
    let _ = client.close().await;
    drop(driver);
    server.stop().await.expect("the server stops");
    match outcome {
        Ok(Ok(())) => {}
        Ok(Err(e)) => panic!("{e:#}"),
        Err(_) => panic!("the browser session took longer than {SESSION_TIMEOUT:?}"),
    }
}
