//! The internal endpoints other nodes of a cluster relay clients to:
//! `/internal/sync/{event}/{room}`, the sync entry for a client another
//! node admitted, and `/internal/http/api/...`, the API's writes another
//! node forwarded (`cluster/forward.rs`, `http/owner.rs`). The caller proves it is a node with the cluster secret
//! (compared in constant time) and says the client's role; the owner then
//! applies the same policy as to a client of its own.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::cluster::relay::parse_role;
use crate::cluster::{ROLE_HEADER, SECRET_HEADER};
use crate::http::error::AppError;
use crate::http::state::{Admitted, AppState};

/// Lets a relayed request through with the role it carries, or refuses:
/// 404 on a node without a cluster secret (there is no such endpoint), 403
/// without the right secret or with no known role.
pub async fn require_node(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let Some(secret) = state
        .config()
        .cluster
        .as_ref()
        .and_then(|c| c.secret.as_ref())
    else {
        return AppError::NotFound("this endpoint".into()).into_response();
    };
    let headers = request.headers();
    let proven = headers
        .get(SECRET_HEADER)
        .is_some_and(|presented| secret.matches(presented.as_bytes()));
    if !proven {
        tracing::warn!("an internal connection without the cluster secret was refused");
        return AppError::Forbidden("the cluster secret is required").into_response();
    }
    let Some(role) = headers
        .get(ROLE_HEADER)
        .and_then(|role| parse_role(role.as_bytes()))
    else {
        return AppError::Forbidden("a relayed connection must carry its role").into_response();
    };
    request.extensions_mut().insert(role);
    request.extensions_mut().insert(Admitted {
        role,
        // A renewed key is enforced by the relaying node, which closes the
        // client (and with it this connection).
        revoked: None,
        relayed: true,
    });
    next.run(request).await
}
