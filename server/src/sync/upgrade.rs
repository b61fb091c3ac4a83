//! The WebSocket handshake of `/sync`, done here instead of by axum's
//! `WebSocketUpgrade` so that a connection is tokio-tungstenite's own stream.
//!
//! axum's socket sends whole messages only, and tungstenite copies a message
//! into the connection's write buffer before it goes out and never shrinks
//! that buffer again: every client that joined a 3 MB table kept 3 MB of
//! buffer for the rest of its connection (150 clients joining at once peaked
//! at 517 MiB). With the raw stream the writer sends large messages in
//! fragments ([`send_fragmented`]), so a write buffer stays near
//! [`FRAGMENT_BYTES`] whatever the document's size.

use std::future::Future;

use axum::body::Body;
use axum::extract::FromRequestParts;
use axum::http::header::{
    CONNECTION, SEC_WEBSOCKET_ACCEPT, SEC_WEBSOCKET_KEY, SEC_WEBSOCKET_VERSION, UPGRADE,
};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures_util::{Sink, SinkExt};
use hyper::upgrade::{OnUpgrade, Upgraded};
use hyper_util::rt::TokioIo;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Error, Message};
use tokio_util::task::TaskTracker;

/// An upgraded sync connection.
pub type Socket = WebSocketStream<TokioIo<Upgraded>>;

/// Messages larger than this go out as fragments of this size; each
/// fragment is copied into the connection's write buffer only when it is
/// its turn.
pub const FRAGMENT_BYTES: usize = 64 * 1024;

/// A request that asks for a WebSocket, checked as RFC 6455 says; the
/// extractor of `/sync`.
pub struct Upgrade {
    on_upgrade: OnUpgrade,
    accept: HeaderValue,
}

/// Why a request to a WebSocket route is not a WebSocket handshake.
#[derive(Debug, thiserror::Error)]
pub enum NotAnUpgrade {
    #[error("a WebSocket handshake is a GET request")]
    Method,
    #[error("this is a WebSocket endpoint: send `Connection: upgrade` and `Upgrade: websocket`")]
    NotUpgrade,
    #[error("only WebSocket version 13 is spoken")]
    Version,
    #[error("the Sec-WebSocket-Key header is missing or malformed")]
    Key,
    #[error("this connection cannot be upgraded")]
    Unavailable,
}

impl IntoResponse for NotAnUpgrade {
    fn into_response(self) -> Response {
        let status = match self {
            NotAnUpgrade::Method => StatusCode::METHOD_NOT_ALLOWED,
            NotAnUpgrade::NotUpgrade | NotAnUpgrade::Unavailable => StatusCode::UPGRADE_REQUIRED,
            NotAnUpgrade::Version | NotAnUpgrade::Key => StatusCode::BAD_REQUEST,
        };
        let mut response = (status, self.to_string()).into_response();
        if matches!(self, NotAnUpgrade::Version | NotAnUpgrade::NotUpgrade) {
            response
                .headers_mut()
                .insert(SEC_WEBSOCKET_VERSION, HeaderValue::from_static("13"));
        }
        response
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Upgrade {
    type Rejection = NotAnUpgrade;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        if parts.method != Method::GET {
            return Err(NotAnUpgrade::Method);
        }
        if !header_has_token(&parts.headers, CONNECTION, "upgrade")
            || !header_has_token(&parts.headers, UPGRADE, "websocket")
        {
            return Err(NotAnUpgrade::NotUpgrade);
        }
        if parts
            .headers
            .get(SEC_WEBSOCKET_VERSION)
            .map(HeaderValue::as_bytes)
            != Some(b"13")
        {
            return Err(NotAnUpgrade::Version);
        }
        let key = parts
            .headers
            .get(SEC_WEBSOCKET_KEY)
            .filter(|k| !k.is_empty())
            .ok_or(NotAnUpgrade::Key)?;
        let accept = HeaderValue::from_str(&derive_accept_key(key.as_bytes()))
            .map_err(|_| NotAnUpgrade::Key)?;
        let on_upgrade = parts
            .extensions
            .remove::<OnUpgrade>()
            .ok_or(NotAnUpgrade::Unavailable)?;
        Ok(Upgrade { on_upgrade, accept })
    }
}

impl Upgrade {
    /// Answers 101 and, once the client has it, runs `serve` on the socket
    /// as a task of `tasks`, so shutdown waits for it (from the handshake on).
    pub fn on_upgrade<F, Fut>(
        self,
        config: WebSocketConfig,
        tasks: &TaskTracker,
        serve: F,
    ) -> Response
    where
        F: FnOnce(Socket) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let on_upgrade = self.on_upgrade;
        tasks.spawn(async move {
            let Ok(upgraded) = on_upgrade.await else {
                tracing::debug!("the client went away during the WebSocket handshake");
                return;
            };
            let socket = WebSocketStream::from_raw_socket(
                TokioIo::new(upgraded),
                Role::Server,
                Some(config),
            )
            .await;
            serve(socket).await;
        });
        let mut response = Response::new(Body::empty());
        *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
        let headers = response.headers_mut();
        headers.insert(CONNECTION, HeaderValue::from_static("upgrade"));
        headers.insert(UPGRADE, HeaderValue::from_static("websocket"));
        headers.insert(SEC_WEBSOCKET_ACCEPT, self.accept);
        response
    }
}

/// Feeds `payload` as one binary message: a single frame if it is small, in
/// [`FRAGMENT_BYTES`] fragments otherwise. The fragments are zero-copy slices
/// of `payload`, shared with every other connection sending it.
pub async fn send_fragmented<S>(sink: &mut S, payload: Bytes) -> Result<(), Error>
where
    S: Sink<Message, Error = Error> + Unpin,
{
    if payload.len() <= FRAGMENT_BYTES {
        return sink.feed(Message::Binary(payload)).await;
    }
    let mut offset = 0;
    while offset < payload.len() {
        let end = (offset + FRAGMENT_BYTES).min(payload.len());
        let opcode = if offset == 0 {
            OpCode::Data(Data::Binary)
        } else {
            OpCode::Data(Data::Continue)
        };
        let frame = Frame::message(payload.slice(offset..end), opcode, end == payload.len());
        // Each fragment waits for room in the write buffer, so the buffer
        // holds about one fragment, not the whole message.
        sink.send(Message::Frame(frame)).await?;
        offset = end;
    }
    Ok(())
}

/// Whether the comma-separated header `name` lists `token` (case-insensitive).
fn header_has_token(headers: &HeaderMap, name: axum::http::HeaderName, token: &str) -> bool {
    headers.get_all(name).iter().any(|value| {
        value
            .to_str()
            .is_ok_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
    })
}
