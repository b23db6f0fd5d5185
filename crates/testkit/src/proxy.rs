//! A TCP proxy on 127.0.0.1 that a test can cut and restore: the network between a server and
//! its database failing, without touching the database the machine shares.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Mutex;
use tokio::task::JoinSet;

/// A running proxy to one address; stops when dropped.
pub struct Proxy {
    /// The port it listens on, on 127.0.0.1.
    pub port: u16,
    cut: Arc<AtomicBool>,
    links: Arc<Mutex<JoinSet<()>>>,
    accept: tokio::task::JoinHandle<()>,
}

impl Proxy {
    /// Starts forwarding a free port of 127.0.0.1 to `target`.
    pub async fn start(target: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let cut = Arc::new(AtomicBool::new(false));
        let links = Arc::new(Mutex::new(JoinSet::new()));
        let accept = tokio::spawn({
            let (cut, links) = (cut.clone(), links.clone());
            async move {
                while let Ok((mut inbound, _)) = listener.accept().await {
                    if cut.load(Ordering::SeqCst) {
                        drop(inbound);
                        continue;
                    }
                    links.lock().await.spawn(async move {
                        if let Ok(mut outbound) = TcpStream::connect(target).await {
                            let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                        }
                    });
                }
            }
        });
        Proxy {
            port,
            cut,
            links,
            accept,
        }
    }

    /// Closes every connection through the proxy and refuses new ones until [`Proxy::restore`].
    pub async fn cut(&self) {
        self.cut.store(true, Ordering::SeqCst);
        self.links.lock().await.abort_all();
    }

    /// Lets connections through again.
    pub fn restore(&self) {
        self.cut.store(false, Ordering::SeqCst);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.accept.abort();
        if let Ok(mut links) = self.links.try_lock() {
            links.abort_all();
        }
    }
}
