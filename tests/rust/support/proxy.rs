//! A TCP proxy the tests can cut, restore and slow down: between a node and
//! its PostgreSQL, or between two nodes, to take a link away from running
//! servers or add latency to it (`tc netem` is not available here).

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

/// The latency a [`Proxy`] adds to each direction of every connection.
#[derive(Debug, Clone, Copy, Default)]
pub struct Latency {
    /// From the connecting side to the target.
    pub up: Duration,
    /// From the target back to the connecting side.
    pub down: Duration,
}

impl Latency {
    /// The same delay both ways.
    pub fn each_way(delay: Duration) -> Latency {
        Latency {
            up: delay,
            down: delay,
        }
    }
}

/// Forwards every connection to `target` while open; [`Proxy::cut`] drops
/// every connection and refuses new ones until [`Proxy::restore`].
pub struct Proxy {
    pub addr: SocketAddr,
    open: watch::Sender<bool>,
    accept: tokio::task::JoinHandle<()>,
}

impl Proxy {
    /// A proxy to `target` on 127.0.0.1, adding no latency.
    pub async fn start(target: SocketAddr) -> anyhow::Result<Proxy> {
        Self::start_at("127.0.0.1:0", target, Latency::default()).await
    }

    /// A proxy to `target` listening on `listen` (`127.0.0.2:0`, say),
    /// holding back every byte for `latency` in its direction. The bytes
    /// keep their order; only their arrival is delayed (no bandwidth limit).
    pub async fn start_at(
        listen: &str,
        target: SocketAddr,
        latency: Latency,
    ) -> anyhow::Result<Proxy> {
        let listener = TcpListener::bind(listen).await?;
        let addr = listener.local_addr()?;
        let (open, watching) = watch::channel(true);
        let accept = tokio::spawn(async move {
            while let Ok((inbound, _)) = listener.accept().await {
                if !*watching.borrow() {
                    continue;
                }
                let mut cut = watching.clone();
                tokio::spawn(async move {
                    let Ok(outbound) = TcpStream::connect(target).await else {
                        return;
                    };
                    let _ = inbound.set_nodelay(true);
                    let _ = outbound.set_nodelay(true);
                    let (in_read, in_write) = inbound.into_split();
                    let (out_read, out_write) = outbound.into_split();
                    // Either direction ending ends the connection, as
                    // copy_bidirectional would after both shut down.
                    tokio::select! {
                        () = pipe(in_read, out_write, latency.up) => {}
                        () = pipe(out_read, in_write, latency.down) => {}
                        _ = cut.wait_for(|open| !open) => {}
                    }
                });
            }
        });
        Ok(Proxy { addr, open, accept })
    }

    /// Drops every connection through the proxy and refuses new ones.
    pub fn cut(&self) {
        self.open.send_replace(false);
    }

    /// Lets connections through again.
    pub fn restore(&self) {
        self.open.send_replace(true);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

/// Copies `from` to `to`, each chunk written `delay` after it was read.
async fn pipe(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    delay: Duration,
) {
    // A reader and a writer, so reading goes on while earlier bytes wait:
    // latency, not a stop-and-wait link.
    let (tx, mut rx) = mpsc::unbounded_channel::<(Instant, Vec<u8>)>();
    let reader = async move {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match from.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => {
                    if tx
                        .send((Instant::now() + delay, buf[..n].to_vec()))
                        .is_err()
                    {
                        return;
                    }
                }
            }
        }
    };
    let writer = async move {
        while let Some((due, bytes)) = rx.recv().await {
            tokio::time::sleep_until(due).await;
            if to.write_all(&bytes).await.is_err() {
                return;
            }
        }
        let _ = to.shutdown().await;
    };
    // The writer drains what was read before the reader ended.
    tokio::join!(reader, writer);
}
