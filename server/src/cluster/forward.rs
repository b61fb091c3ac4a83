//! An HTTP write for a room another node owns, forwarded to that node once:
//! `{method} /internal/http{path}?{query without the key}` with the cluster
//! secret, the role the key granted here, the body, its type and the
//! client's cookies (its signed identity). The owner runs the same handler
//! as for a client of its own and answers after the change is durable; its
//! answer goes back to the client as it is. A forwarded request is never
//! forwarded again (the owner answers 503 when it no longer owns the room).
//!
//! One TCP connection per forwarded request: writes through the API are a
//! facilitator's clicks and participants' votes, not a stream, and a
//! connection of its own cannot be left half-used by a failed request.

use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, Response, header};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use crate::access::Role;
use crate::config::ClusterSecret;
use crate::metrics::METRICS;

use super::relay::role_name;
use super::{ROLE_HEADER, Remote, SECRET_HEADER};

/// Where a node answers the HTTP requests other nodes forward to it.
pub const INTERNAL_HTTP: &str = "/internal/http";

/// How long the owner may take to answer a forwarded write (connect,
/// store, answer) before the client gets 503 and may retry.
pub const FORWARD_TIMEOUT: Duration = Duration::from_secs(10);

/// Largest request body a node forwards (controls, votes, next steps and
/// marks are small JSON documents); larger gets 413.
pub const MAX_FORWARDED_BODY: usize = 256 * 1024;

/// Largest answer a node takes back from the owner (a table's control, a
/// list of next steps).
pub const MAX_FORWARDED_ANSWER: usize = 4 * 1024 * 1024;

/// Headers of the client's request the owner needs.
const PASSED_ON: [header::HeaderName; 3] = [
    header::CONTENT_TYPE,
    header::COOKIE,
    header::ACCEPT_LANGUAGE,
];

/// Headers of the owner's answer the client gets.
const PASSED_BACK: [header::HeaderName; 3] = [
    header::CONTENT_TYPE,
    header::RETRY_AFTER,
    header::CACHE_CONTROL,
];

/// Why a forwarded request got no answer from the owner.
#[derive(Debug, thiserror::Error)]
pub enum ForwardError {
    #[error("the table's server at {addr} did not answer within {FORWARD_TIMEOUT:?}")]
    Timeout { addr: String },
    #[error("the table's server at {addr} cannot be reached: {reason}")]
    Unreachable { addr: String, reason: String },
}

/// One request to forward.
pub struct Forwarded<'a> {
    pub method: Method,
    /// The path as the client sent it (`/api/events/...`).
    pub path: &'a str,
    /// The client's query string, if any; its `key` is left out.
    pub query: Option<&'a str>,
    pub headers: &'a HeaderMap,
    pub role: Role,
    pub body: Bytes,
}

/// Sends `request` to `remote` and returns its answer.
pub async fn forward(
    remote: &Remote,
    secret: &ClusterSecret,
    request: Forwarded<'_>,
) -> Result<Response<Body>, ForwardError> {
    METRICS.http_forwards.inc();
    let addr = remote.addr.clone();
    let attempt = send(remote, secret, request);
    let answer = match tokio::time::timeout(FORWARD_TIMEOUT, attempt).await {
        Ok(answer) => answer,
        Err(_) => Err(ForwardError::Timeout { addr }),
    };
    if answer.is_err() {
        METRICS.http_forward_failures.inc();
    }
    answer
}

async fn send(
    remote: &Remote,
    secret: &ClusterSecret,
    request: Forwarded<'_>,
) -> Result<Response<Body>, ForwardError> {
    let unreachable = |reason: String| ForwardError::Unreachable {
        addr: remote.addr.clone(),
        reason,
    };
    let stream = TcpStream::connect(&remote.addr)
        .await
        .map_err(|e| unreachable(e.to_string()))?;
    let _ = stream.set_nodelay(true);
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| unreachable(e.to_string()))?;
    // Drives the connection until the answer is read; aborted when this
    // request ends, however it ends (answered, failed, or timed out).
    let _driver = tokio_util::task::AbortOnDropHandle::new(tokio::spawn(connection));
    let uri = match without_key(request.query) {
        Some(query) => format!("{INTERNAL_HTTP}{}?{query}", request.path),
        None => format!("{INTERNAL_HTTP}{}", request.path),
    };
    let mut outgoing = Request::builder()
        .method(request.method)
        .uri(uri)
        .header(header::HOST, &remote.addr)
        .header(SECRET_HEADER, secret.expose())
        .header(ROLE_HEADER, role_name(request.role));
    for name in PASSED_ON {
        for value in request.headers.get_all(&name) {
            outgoing = outgoing.header(&name, value);
        }
    }
    let outgoing = outgoing
        .body(Full::new(request.body))
        .map_err(|e| unreachable(e.to_string()))?;
    let answer = sender
        .send_request(outgoing)
        .await
        .map_err(|e| unreachable(e.to_string()))?;
    let (parts, body) = answer.into_parts();
    let body = http_body_util::Limited::new(body, MAX_FORWARDED_ANSWER)
        .collect()
        .await
        .map_err(|e| unreachable(e.to_string()))?
        .to_bytes();
    let mut back = Response::builder().status(parts.status);
    for name in PASSED_BACK {
        if let Some(value) = parts.headers.get(&name) {
            back = back.header(&name, value.clone());
        }
    }
    back.body(Body::from(body))
        .map_err(|e| unreachable(e.to_string()))
}

/// `query` without its `key` parameter (the owner trusts the role header,
/// and the key has no business in another node's logs).
pub fn without_key(query: Option<&str>) -> Option<String> {
    let kept: Vec<&str> = query?
        .split('&')
        .filter(|pair| !pair.is_empty() && *pair != "key" && !pair.starts_with("key="))
        .collect();
    (!kept.is_empty()).then(|| kept.join("&"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_stays_behind_and_the_rest_of_the_query_goes() {
        assert_eq!(without_key(None), None);
        assert_eq!(without_key(Some("key=abc")), None);
        assert_eq!(
            without_key(Some("key=abc&token=t1")).as_deref(),
            Some("token=t1")
        );
        assert_eq!(
            without_key(Some("token=t1&keyring=x&key=abc")).as_deref(),
            Some("token=t1&keyring=x")
        );
    }
}
