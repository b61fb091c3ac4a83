//! The HTTP/1.1 accept loop: every socket the server takes, with the bounds
//! `axum::serve` does not offer.
//!
//! - **A header read timeout** ([`Limits::header_read_timeout`]): a client
//!   that opens a socket and sends half a request line (slowloris) is
//!   disconnected, and so is a keep-alive connection that sends no next
//!   request in that time (hyper starts the clock whenever it waits for a
//!   request head).
//! - **An idle timeout** ([`Limits::http_idle_timeout`]): a socket on which
//!   nothing is read or written for that long is closed, whatever state its
//!   request is in (a body that never arrives, a response nobody reads). A
//!   WebSocket leaves this loop at its upgrade and has its own timeouts
//!   (`connection.rs`); a summary stream writes a keep-alive every 15 s.
//! - **Sockets per address** ([`Limits::max_sockets_per_address`]): one
//!   address may hold so many open sockets (upgraded WebSockets included,
//!   as the count lives with the socket); the next gets a canned 429 and is
//!   closed before hyper reads a byte.
//!
//! Every request gets `ConnectInfo<SocketAddr>`, WebSocket upgrades work
//! (`with_upgrades`), TCP_NODELAY is set, and on shutdown the loop stops
//! accepting, asks each connection to finish its request and waits for them.

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::Limits;
use crate::metrics::METRICS;

/// What an address over its socket cap reads before the server hangs up.
const TOO_MANY_SOCKETS: &[u8] = b"HTTP/1.1 429 Too Many Requests\r\n\
content-type: text/plain; charset=utf-8\r\ncontent-length: 48\r\nconnection: close\r\n\r\n\
this address has too many connections open now\r\n";

/// How long a refused socket is given to take its 429 at most.
const REFUSAL_LINGER: Duration = Duration::from_secs(1);

/// Serves `router` on `listener` until `shutdown` is cancelled, then stops
/// accepting and waits for every open HTTP exchange to finish (upgraded
/// WebSockets are the caller's: they watch the same token).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: &Limits,
    shutdown: CancellationToken,
) -> io::Result<()> {
    let sockets = Sockets::default();
    let connections = TaskTracker::new();
    loop {
        let (stream, remote) = tokio::select! {
            () = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors and the like: the listener
                    // itself is fine; pause instead of spinning.
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let Some(ticket) = sockets.admit(remote.ip(), limits.max_sockets_per_address) else {
            tracing::warn!(remote = %remote.ip(), "refused a socket: too many open from this address");
            METRICS.sockets_refused.inc();
            connections.spawn(refuse(
                stream,
                limits.header_read_timeout.min(REFUSAL_LINGER),
            ));
            continue;
        };
        // Sync messages are small and latency is the point: Nagle's algorithm
        // would hold a lone keystroke back until the previous one is acknowledged.
        if let Err(error) = stream.set_nodelay(true) {
            tracing::debug!(%error, "could not set TCP_NODELAY");
        }
        let socket = Socket::new(stream, ticket);
        connections.spawn(connection(
            socket,
            remote,
            router.clone(),
            limits.clone(),
            shutdown.clone(),
        ));
    }
    drop(listener);
    connections.close();
    connections.wait().await;
    Ok(())
}

/// One socket: hyper's HTTP/1.1 with the header timeout, watched for
/// idleness and for shutdown, until it closes or is upgraded.
async fn connection(
    socket: Socket,
    remote: SocketAddr,
    router: Router,
    limits: Limits,
    shutdown: CancellationToken,
) {
    let activity = socket.activity.clone();
    let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
        let mut request = request.map(Body::new);
        request.extensions_mut().insert(ConnectInfo(remote));
        let mut router = router.clone();
        // The router is always ready; `call` without `poll_ready` is its
        // documented use.
        async move { tower_service::Service::call(&mut router, request).await }
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .keep_alive(true);
    let conn = builder
        .serve_connection(TokioIo::new(socket), service)
        .with_upgrades();
    let mut conn = std::pin::pin!(conn);
    let idle = limits.http_idle_timeout;
    let mut shutting_down = false;
    loop {
        let deadline = activity.last() + idle;
        tokio::select! {
            result = conn.as_mut() => {
                if let Err(error) = result {
                    tracing::debug!(remote = %remote, %error, "HTTP connection ended");
                }
                return;
            }
            () = shutdown.cancelled(), if !shutting_down => {
                shutting_down = true;
                conn.as_mut().graceful_shutdown();
            }
            () = tokio::time::sleep_until(deadline) => {
                if activity.last() + idle <= Instant::now() {
                    tracing::debug!(remote = %remote, "closed an idle HTTP connection");
                    METRICS.http_idle_closed.inc();
                    return;
                }
            }
        }
    }
}

/// Answers a socket over its address's cap with a 429 and closes it.
/// What the client sent is read and dropped first (up to 64 KiB, within
/// `linger`): closing a socket with unread input resets it, and the
/// client would lose the answer.
async fn refuse(mut stream: TcpStream, linger: Duration) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let _ = tokio::time::timeout(linger, async {
        stream.write_all(TOO_MANY_SOCKETS).await?;
        stream.shutdown().await?;
        let mut sink = [0u8; 4096];
        let mut left = 64 * 1024usize;
        while left > 0 {
            let n = stream.read(&mut sink).await?;
            if n == 0 {
                break;
            }
            left = left.saturating_sub(n);
        }
        Ok::<_, io::Error>(())
    })
    .await;
}

/// Open sockets per remote address.
#[derive(Clone, Default)]
struct Sockets {
    open: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

impl Sockets {
    fn admit(&self, address: IpAddr, cap: usize) -> Option<SocketTicket> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let count = open.entry(address).or_default();
        if *count >= cap {
            return None;
        }
        *count += 1;
        METRICS.sockets_open.inc();
        Some(SocketTicket {
            sockets: self.clone(),
            address,
        })
    }
}

/// One counted socket; dropping it (when the socket closes, also after an
/// upgrade) frees its place.
struct SocketTicket {
    sockets: Sockets,
    address: IpAddr,
}

impl Drop for SocketTicket {
    fn drop(&mut self) {
        METRICS.sockets_open.dec();
        let mut open = self.sockets.open.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(count) = open.get_mut(&self.address) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.address);
            }
        }
    }
}

/// When a socket last read or wrote a byte, in milliseconds since the
/// process's first socket.
struct Activity(AtomicU64);

impl Activity {
    fn epoch() -> Instant {
        static EPOCH: OnceLock<Instant> = OnceLock::new();
        *EPOCH.get_or_init(Instant::now)
    }

    fn touch(&self) {
        let now = Self::epoch().elapsed().as_millis() as u64;
        self.0.store(now, Ordering::Relaxed);
    }

    fn last(&self) -> Instant {
        Self::epoch() + Duration::from_millis(self.0.load(Ordering::Relaxed))
    }
}

/// A TCP stream that notes its last activity and holds its place in the
/// per-address count for as long as it lives.
struct Socket {
    stream: TcpStream,
    activity: Arc<Activity>,
    _ticket: SocketTicket,
}

impl Socket {
    fn new(stream: TcpStream, ticket: SocketTicket) -> Socket {
        let activity = Arc::new(Activity(AtomicU64::new(0)));
        activity.touch();
        Socket {
            stream,
            activity,
            _ticket: ticket,
        }
    }
}

impl AsyncRead for Socket {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.stream).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.touch();
        }
        polled
    }
}

impl AsyncWrite for Socket {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.stream).poll_write(cx, buf);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        polled
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.stream).poll_write_vectored(cx, bufs);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}
