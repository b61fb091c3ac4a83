//! A client connection to a node that does not own its table, relayed to
//! the owner: the client's WebSocket on one side, an internal WebSocket to
//! the owner's `/internal/sync/{event}/{room}` on the other, frames passed
//! through both ways as they are (the same `Bytes`, no re-encoding). The
//! owner does everything a direct connection gets (policy for the role the
//! relaying node admitted, screening, rate limits, keepalives, timeouts),
//! so a stock y-websocket client sees no difference.
//!
//! Memory stays bounded: each direction reads the next frame only after
//! the last one was written (towards the client, a batch of what was
//! already read — at most [`RELAY_BATCH`] messages, about
//! [`RELAY_BATCH_BYTES`] — goes out in one write), so a side that does not
//! read holds back the other (the owner then closes a client that stopped reading, 4409, and
//! that close is passed on). When the owner goes away (it died, or shut
//! down, or lost the table) the client is closed with 1012 and reconnects,
//! landing wherever the table is served then.

use std::time::Duration;

use axum::http::HeaderValue;
use futures_util::{FutureExt, SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_util::sync::CancellationToken;

use crate::access::Role;
use crate::config::ClusterSecret;
use crate::metrics::METRICS;
use crate::sync::connection::{CLOSE_GOING_AWAY, CLOSE_SERVICE_RESTART};
use crate::sync::upgrade::{Socket, send_fragmented};

use super::{ROLE_HEADER, Remote, SECRET_HEADER};

/// How long reaching the owner (TCP and the WebSocket handshake) may take
/// before the client is refused with 503 and retries.
pub const RELAY_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The internal WebSocket to a table's owner.
pub type Upstream = WebSocketStream<TcpStream>;

/// Why the owner could not be reached.
#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    #[error("the owner at {addr} did not answer within {RELAY_CONNECT_TIMEOUT:?}")]
    Timeout { addr: String },
    #[error("the owner at {addr} cannot be reached: {source}")]
    Connect {
        addr: String,
        source: std::io::Error,
    },
    #[error("the owner at {addr} refused the relay: {source}")]
    Handshake { addr: String, source: WsError },
}

/// What the relaying node passes on about the client.
pub struct Forward<'a> {
    /// `/internal/sync/{event}/{room}` and the client's query without its key.
    pub path_and_query: &'a str,
    pub role: Role,
    /// The client's cookies (its signed identity), for drafts and attendance.
    pub cookie: Option<&'a HeaderValue>,
}

/// The role's name on the wire.
pub fn role_name(role: Role) -> &'static str {
    match role {
        Role::Participant => "participant",
        Role::Viewer => "viewer",
        Role::Facilitator => "facilitator",
    }
}

/// The role named `name` on the wire.
pub fn parse_role(name: &[u8]) -> Option<Role> {
    match name {
        b"participant" => Some(Role::Participant),
        b"viewer" => Some(Role::Viewer),
        b"facilitator" => Some(Role::Facilitator),
        _ => None,
    }
}

/// Opens the internal connection to `remote` for one client.
pub async fn connect(
    remote: &Remote,
    forward: Forward<'_>,
    secret: &ClusterSecret,
    config: WebSocketConfig,
) -> Result<Upstream, RelayError> {
    let addr = remote.addr.clone();
    let attempt = async {
        let stream =
            TcpStream::connect(&remote.addr)
                .await
                .map_err(|source| RelayError::Connect {
                    addr: addr.clone(),
                    source,
                })?;
        let _ = stream.set_nodelay(true);
        let handshake = |source| RelayError::Handshake {
            addr: addr.clone(),
            source,
        };
        let mut request = format!("ws://{}{}", remote.addr, forward.path_and_query)
            .into_client_request()
            .map_err(handshake)?;
        let headers = request.headers_mut();
        let secret = HeaderValue::from_str(secret.expose())
            .map_err(|e| handshake(WsError::HttpFormat(e.into())))?;
        headers.insert(SECRET_HEADER, secret);
        headers.insert(
            ROLE_HEADER,
            HeaderValue::from_static(role_name(forward.role)),
        );
        if let Some(cookie) = forward.cookie {
            headers.insert(axum::http::header::COOKIE, cookie.clone());
        }
        let (upstream, _) =
            tokio_tungstenite::client_async_with_config(request, stream, Some(config))
                .await
                .map_err(handshake)?;
        Ok(upstream)
    };
    tokio::time::timeout(RELAY_CONNECT_TIMEOUT, attempt)
        .await
        .map_err(|_| RelayError::Timeout { addr: addr.clone() })?
}

/// At most this many of the owner's messages, already read, go to the
/// client in one write: a bound on the batch, so a busy owner cannot keep
/// the relay from checking its other side.
const RELAY_BATCH: usize = 64;
/// And at most about this many bytes (the batch ends after the message
/// that passes it): what the relay holds for a client stays small.
const RELAY_BATCH_BYTES: usize = 64 * 1024;

/// How a relay ended, for the client's close frame.
enum End {
    /// The client closed or went away: close the owner's side normally.
    Client,
    /// The owner closed with this frame (or `None`: it went away).
    Owner(Option<CloseFrame>),
    /// This node is shutting down.
    ShuttingDown,
    /// The client's key was renewed.
    Revoked,
}

/// Relays `client` and `upstream` until either ends; `idle` is how long the
/// owner may send nothing (it sends keepalives far more often).
pub async fn relay(
    client: Socket,
    upstream: Upstream,
    idle: Duration,
    shutdown: &CancellationToken,
    revoked: Option<CancellationToken>,
) {
    METRICS.cluster_forwards.inc();
    METRICS.cluster_forwarded.inc();
    let (mut to_client, mut from_client) = client.split();
    let (mut to_owner, mut from_owner) = upstream.split();
    let revoked = revoked.unwrap_or_default();
    let end = {
        let up = async {
            while let Some(Ok(message)) = from_client.next().await {
                match message {
                    Message::Close(_) => break,
                    // Each side answers its own pings.
                    Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => {}
                    message => {
                        if to_owner.send(message).await.is_err() {
                            return End::Owner(None);
                        }
                    }
                }
            }
            End::Client
        };
        let down = async {
            loop {
                let Ok(Some(Ok(first))) = tokio::time::timeout(idle, from_owner.next()).await
                else {
                    return End::Owner(None);
                };
                // Under load the owner's writes arrive several to a read:
                // what is already here goes out in the same write to the
                // client, one flush (one syscall) per batch, not per message.
                let mut next = Some(first);
                let (mut fed, mut bytes_fed) = (0, 0);
                let mut ended = None;
                while let Some(message) = next.take() {
                    let sent = match message {
                        Message::Close(frame) => {
                            ended = Some(End::Owner(frame));
                            break;
                        }
                        Message::Binary(bytes) => {
                            bytes_fed += bytes.len();
                            send_fragmented(&mut to_client, bytes).await
                        }
                        Message::Text(text) => {
                            bytes_fed += text.len();
                            to_client.feed(Message::Text(text)).await
                        }
                        Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => Ok(()),
                    };
                    if sent.is_err() {
                        return End::Client;
                    }
                    fed += 1;
                    if fed < RELAY_BATCH && bytes_fed < RELAY_BATCH_BYTES {
                        next = match from_owner.next().now_or_never() {
                            Some(Some(Ok(message))) => Some(message),
                            Some(_) => {
                                ended = Some(End::Owner(None));
                                None
                            }
                            None => None,
                        };
                    }
                }
                // What was fed reaches the client before any close.
                if to_client.flush().await.is_err() {
                    return End::Client;
                }
                if let Some(end) = ended {
                    return end;
                }
            }
        };
        tokio::select! {
            end = up => end,
            end = down => end,
            () = shutdown.cancelled() => End::ShuttingDown,
            () = revoked.cancelled() => End::Revoked,
        }
    };
    let to_client_frame = match end {
        End::Client => None,
        // A close the owner chose for this client (policy, size, rate, a
        // renewed key, idle) is the client's; the owner going away is not,
        // as the table is served on.
        End::Owner(Some(frame))
            if u16::from(frame.code) != CLOSE_GOING_AWAY
                && u16::from(frame.code) != CLOSE_SERVICE_RESTART =>
        {
            Some(frame)
        }
        End::Owner(_) => Some(close(CLOSE_SERVICE_RESTART, "the table moved; reconnect")),
        End::ShuttingDown => Some(close(CLOSE_GOING_AWAY, "server shutting down")),
        End::Revoked => Some(close(
            crate::sync::connection::CLOSE_REVOKED,
            "the participant link was renewed",
        )),
    };
    if let Some(frame) = to_client_frame {
        METRICS.closed(u16::from(frame.code));
        let _ = tokio::time::timeout(
            Duration::from_secs(2),
            to_client.send(Message::Close(Some(frame))),
        )
        .await;
    }
    let _ = tokio::time::timeout(
        Duration::from_secs(2),
        to_owner.send(Message::Close(Some(close(1000, "")))),
    )
    .await;
    METRICS.cluster_forwarded.dec();
}

fn close(code: u16, reason: &str) -> CloseFrame {
    CloseFrame {
        code: CloseCode::from(code),
        reason: reason.to_owned().into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_role_survives_the_wire() {
        for role in [Role::Participant, Role::Viewer, Role::Facilitator] {
            assert_eq!(parse_role(role_name(role).as_bytes()), Some(role));
        }
        assert_eq!(parse_role(b"admin"), None);
        assert_eq!(parse_role(b"Participant"), None);
    }
}
