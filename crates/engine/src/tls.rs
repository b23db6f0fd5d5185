//! TLS for every HTTP client of Tandem: the CLI's and the agent's calls to the server, hooks,
//! probes and metrics reads, single sign-on, and gix's HTTPS fetches all go through one reqwest
//! built on rustls with no crypto provider of its own (the workspace's Cargo.toml says why).
//! It takes the process's provider, which must be installed before the first client is built:
//! [`client_builder`] does that, and `tandem`'s `main` does it first thing for every command.

/// Installs ring as the process's rustls provider, once; a provider already installed is kept.
pub fn use_ring() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // rustls deprecates ring's provider for its lack of post-quantum key exchange. aws-lc,
        // which has it, is the build's heaviest C library (docs/benchmarks.md, issue 19), and
        // sqlx's TLS to PostgreSQL runs on ring too.
        #[allow(deprecated)]
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// `reqwest::Client::builder()` once the provider is in place: building a client without one
/// panics.
#[allow(clippy::disallowed_methods)] // the one place a builder is made
pub fn client_builder() -> reqwest::ClientBuilder {
    use_ring();
    reqwest::Client::builder()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A client is built, and it speaks TLS: against a listener that answers garbage, the request
    /// fails at the handshake with reqwest's error, not with a panic for want of a provider.
    #[tokio::test]
    async fn a_client_is_built_and_reaches_a_handshake() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            use tokio::io::AsyncWriteExt;
            while let Ok((mut stream, _)) = listener.accept().await {
                let _ = stream.write_all(b"HTTP/1.1 400 not tls\r\n\r\n").await;
            }
        });
        let client = client_builder().build().unwrap();
        let error = client
            .get(format!("https://127.0.0.1:{port}/"))
            .send()
            .await
            .unwrap_err();
        assert!(error.is_connect(), "{error:?}");
    }
}
