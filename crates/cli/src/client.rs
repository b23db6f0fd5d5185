//! The HTTP client behind every client command: `--server` and `--token` (or `TANDEM_SERVER`
//! and `TANDEM_TOKEN`), errors printed as the server wrote them.

use anyhow::{Context, Result, anyhow};
use clap::Args;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// How a client command reaches its server: flags shared by every client command.
#[derive(Debug, Clone, Args)]
pub struct ClientArgs {
    /// Base URL of the Tandem server.
    #[arg(long, env = "TANDEM_SERVER", default_value = "http://127.0.0.1:8420", global = true)]
    pub server: String,
    /// API token.
    #[arg(long, env = "TANDEM_TOKEN", hide_env_values = true, global = true)]
    pub token: Option<String>,
    /// Print JSON instead of a table.
    #[arg(long, global = true)]
    pub json: bool,
}

/// A client of one Tandem server's API, with the token it presents (if any). Each call
/// answers the route's wire type, or an error carrying the server's own message.
#[derive(Debug, Clone)]
pub struct Client {
    base: String,
    token: Option<String>,
    http: reqwest::Client,
}

impl Client {
    /// A client of the server at `server` (a base URL; a trailing `/` is dropped).
    pub fn new(server: &str, token: Option<String>) -> Self {
        Self {
            base: server.trim_end_matches('/').to_string(),
            token,
            http: tandem_engine::tls::client_builder()
                .build()
                .expect("an HTTP client without settings builds"),
        }
    }

    /// The server this client talks to.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// A client as the command line (or `TANDEM_SERVER` / `TANDEM_TOKEN`) says.
    pub fn from_args(args: &ClientArgs) -> Self {
        Self::new(&args.server, args.token.clone())
    }

    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let req = self.http.request(method, format!("{}{path}", self.base));
        match &self.token {
            Some(t) => req.bearer_auth(t),
            None => req,
        }
    }

    /// `GET path`, its JSON answer read as `T`.
    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        self.send(self.request(reqwest::Method::GET, path)).await
    }

    /// One page of a list route and the `after` of the next page (its `X-Next-Cursor` header),
    /// `None` on the last page.
    pub async fn get_page<T: DeserializeOwned>(&self, path: &str) -> Result<(T, Option<String>)> {
        self.read_page(self.request(reqwest::Method::GET, path)).await
    }

    /// Sends a list route's request: its page and the `after` of the next one.
    async fn read_page<T: DeserializeOwned>(&self, request: reqwest::RequestBuilder) -> Result<(T, Option<String>)> {
        let resp = request.send().await.map_err(|e| self.unreachable(e))?;
        let resp = check(resp).await?;
        let next = resp
            .headers()
            .get("x-next-cursor")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let page = resp
            .json()
            .await
            .context("the server's answer is not the JSON expected")?;
        Ok((page, next))
    }

    /// Every row of a list route, a page of 500 after another (following `X-Next-Cursor`).
    pub async fn get_all<T: DeserializeOwned>(&self, path: &str) -> Result<Vec<T>> {
        let mut rows = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let mut query = vec![("limit", "500".to_string())];
            query.extend(after.clone().map(|a| ("after", a)));
            let (page, next): (Vec<T>, _) = self
                .read_page(self.request(reqwest::Method::GET, path).query(&query))
                .await?;
            rows.extend(page);
            match next {
                Some(n) if after.as_deref() != Some(n.as_str()) => after = Some(n),
                _ => break,
            }
        }
        Ok(rows)
    }

    /// `GET path`, its answer as text (logs, a postmortem draft).
    pub async fn get_text(&self, path: &str) -> Result<String> {
        let resp = self
            .request(reqwest::Method::GET, path)
            .send()
            .await
            .map_err(|e| self.unreachable(e))?;
        let resp = check(resp).await?;
        Ok(resp.text().await?)
    }

    /// `GET path`, its answer as bytes (an artifact).
    pub async fn get_bytes(&self, path: &str) -> Result<Vec<u8>> {
        let resp = self
            .request(reqwest::Method::GET, path)
            .send()
            .await
            .map_err(|e| self.unreachable(e))?;
        let resp = check(resp).await?;
        Ok(resp.bytes().await?.to_vec())
    }

    /// `POST path` with `body` as JSON, its JSON answer read as `T`.
    pub async fn post<B: Serialize, T: DeserializeOwned>(&self, path: &str, body: &B) -> Result<T> {
        self.send(self.request(reqwest::Method::POST, path).json(body)).await
    }

    /// `PUT path` with `body` as JSON, its JSON answer read as `T`.
    pub async fn put<B: Serialize, T: DeserializeOwned>(&self, path: &str, body: &B) -> Result<T> {
        self.send(self.request(reqwest::Method::PUT, path).json(body)).await
    }

    /// `DELETE path`, its JSON answer read as `T`.
    pub async fn delete<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        self.send(self.request(reqwest::Method::DELETE, path)).await
    }

    /// A POST whose answer is returned as it is, status and JSON, error or not (for
    /// protocols with their own error bodies, such as OFREP).
    pub async fn post_raw<B: Serialize>(&self, path: &str, body: &B) -> Result<(u16, serde_json::Value)> {
        let resp = self
            .request(reqwest::Method::POST, path)
            .json(body)
            .send()
            .await
            .map_err(|e| self.unreachable(e))?;
        let status = resp.status().as_u16();
        if status == 401 {
            return Err(anyhow!(
                "the server wants a token: pass --token or set TANDEM_TOKEN [HTTP 401]"
            ));
        }
        Ok((status, resp.json().await.unwrap_or_default()))
    }

    async fn send<T: DeserializeOwned>(&self, req: reqwest::RequestBuilder) -> Result<T> {
        let resp = req.send().await.map_err(|e| self.unreachable(e))?;
        let resp = check(resp).await?;
        resp.json()
            .await
            .context("the server's answer is not the JSON expected")
    }

    fn unreachable(&self, e: reqwest::Error) -> anyhow::Error {
        anyhow!(
            "cannot reach the Tandem server at {}: {e} (start one with `tandem serve`, or pass --server)",
            self.base
        )
    }
}

async fn check(resp: reqwest::Response) -> Result<reqwest::Response> {
    if resp.status().is_success() {
        return Ok(resp);
    }
    let status = resp.status();
    let message = match resp.json::<tandem_wire::ErrorBody>().await {
        Ok(body) => body.error.message,
        Err(_) => "no details".to_string(),
    };
    let hint = if status == reqwest::StatusCode::UNAUTHORIZED {
        " (pass --token or set TANDEM_TOKEN)"
    } else {
        ""
    };
    Err(anyhow!("{message}{hint} [HTTP {}]", status.as_u16()))
}

/// Percent-encodes a query-string value.
pub fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
