//! Participants' signed identities over HTTP: issuing one (bound to the
//! device by a cookie, new ones limited per remote address), reading the
//! one a request presents, and who is connected with one at each table
//! ([`Attendance`]).
//!
//! A keyed, account-free event cannot know people: anyone with the
//! participant link can mint identities. What the server can do is make
//! minting cost something (a device keeps one identity; an address mints at
//! most `--identities-per-address` per window) and show the facilitator how
//! many identities voted against how many are at the table now.

use std::net::SocketAddr;
use std::time::Instant;

use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};

use crate::access::{Role, check_name};
use crate::http::error::AppError;
use crate::http::state::AppState;

/// The cookie that carries a device's identity token (HttpOnly: page
/// scripts never read it; SameSite=Strict: no other site's page sends it).
pub const IDENTITY_COOKIE: &str = "werktafel_identity";

#[derive(Deserialize)]
pub struct NameBody {
    name: String,
    /// The token this device holds, for clients that keep it themselves
    /// rather than in the cookie.
    #[serde(default)]
    token: Option<String>,
}

/// What `POST /identity` answers.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Issued {
    id: String,
    name: String,
    token: String,
    /// When the token expires, in milliseconds since the epoch.
    expires_at: u64,
}

/// `POST /api/events/{event}/identity` `{ "name": "Anna" }`: the device's
/// signed identity under this name. A device that presents a valid identity
/// (its cookie, or `token` in the body) keeps its id and is renamed; any
/// other gets a new one, at most [`crate::Limits::identities_per_address`]
/// per address per window (429 with `Retry-After` beyond).
pub async fn issue(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    Extension(role): Extension<Role>,
    ConnectInfo(remote): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Json(body): Json<NameBody>,
) -> Result<Response, AppError> {
    state.event_by_slug(&slug)?;
    if !role.may_write() {
        return Err(AppError::Forbidden("the plenary link cannot join a table"));
    }
    let bad_name = |e: crate::access::IdentityError| AppError::BadRequest(e.to_string());
    check_name(&body.name).map_err(bad_name)?;
    let signer = state.signer();
    let terms = state.terms();
    let held = body
        .token
        .as_deref()
        .or_else(|| cookie(&headers, IDENTITY_COOKIE))
        .and_then(|token| state.verify_identity(token).ok());
    let (identity, token) = match held {
        Some(held) => signer.reissue(&slug, &held.id, &body.name, terms),
        None => {
            let limits = state.limits();
            if let Err(refused) = state.mint_limiter().mint(
                remote.ip(),
                limits.identities_per_address,
                limits.identity_window,
                Instant::now(),
            ) {
                tracing::warn!(remote = %remote.ip(), %refused, "identity refused");
                return Err(AppError::RetryLater {
                    message: refused.to_string(),
                    retry_after_secs: crate::http::reads::retry_secs(refused.retry_after),
                    code: Some("identities"),
                });
            }
            signer.issue(&slug, &body.name, terms)
        }
    }
    .map_err(bad_name)?;
    let cookie = identity_cookie(&state, &token);
    let mut response = Json(Issued {
        id: identity.id,
        name: identity.name,
        token,
        expires_at: identity.expires_at * 1000,
    })
    .into_response();
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    Ok(response)
}

/// The token a request presents: `explicit` (a query or body field) if
/// given, else the identity cookie.
pub fn presented<'a>(explicit: Option<&'a str>, headers: &'a HeaderMap) -> Option<&'a str> {
    explicit.or_else(|| cookie(headers, IDENTITY_COOKIE))
}

/// The cookie lives as long as the token it holds.
fn identity_cookie(state: &AppState, token: &str) -> String {
    let max_age = state.limits().identity_lifetime.as_secs();
    // Secure only where the server is reached over HTTPS: on plain HTTP
    // (a laptop on venue Wi-Fi) browsers would drop a Secure cookie.
    let secure = state
        .config()
        .public_url
        .as_deref()
        .is_some_and(|url| url.starts_with("https://"));
    format!(
        "{IDENTITY_COOKIE}={token}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Strict{}",
        if secure { "; Secure" } else { "" }
    )
}

/// The value of cookie `name`, if the request carries it.
fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_found_by_name() {
        let mut headers = HeaderMap::new();
        headers.append(
            header::COOKIE,
            HeaderValue::from_static("a=1; werktafel_identity=t.o.k"),
        );
        headers.append(header::COOKIE, HeaderValue::from_static("b=2"));
        assert_eq!(cookie(&headers, IDENTITY_COOKIE), Some("t.o.k"));
        assert_eq!(cookie(&headers, "b"), Some("2"));
        assert_eq!(cookie(&headers, "c"), None);
        assert_eq!(presented(Some("x"), &headers), Some("x"));
    }
}
