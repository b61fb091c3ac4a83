//! `AppError`: the one error type at the HTTP edge, mapped to a status and a
//! JSON body that never carries internals.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// The `Retry-After` of [`AppError::TryAgain`]: a table fails over within a
/// lease's time, and a client that retries every second lands on it soon.
pub const TRY_AGAIN_AFTER_SECS: u64 = 1;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0} not found")]
    NotFound(String),
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("{0}")]
    Forbidden(&'static str),
    /// Refused for a reason the client can act on; `code` is stable for
    /// programs (and translations), the message is for people.
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    #[error("{0}")]
    TooMany(String),
    /// Refused for now: 429 with `Retry-After` (whole seconds, at least 1)
    /// and, for programs, a stable `code` when there is one.
    #[error("{message}")]
    RetryLater {
        message: String,
        retry_after_secs: u64,
        code: Option<&'static str>,
    },
    #[error("{0}")]
    Unavailable(String),
    /// 503 with `Retry-After`: the room's server cannot take it now (it
    /// is unreachable, the room is moving between nodes, or the change
    /// could not be stored); the same request may simply be sent again.
    #[error("{0}")]
    TryAgain(String),
    /// A request body past a named limit (413).
    #[error("{0}")]
    PayloadTooLarge(String),
    /// A body of a type not accepted, judged by its bytes (415).
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// 507: a quota or the event's storage cap is reached.
    #[error("{0}")]
    Full(String),
    #[error("storage error: {0}")]
    Store(#[from] crate::store::StoreError),
    #[error("export failed: {0}")]
    Export(#[from] crate::exports::ExportFailure),
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (status, message) = match &self {
            AppError::NotFound(_) => (StatusCode::NOT_FOUND, self.to_string()),
            AppError::BadRequest(_) => (StatusCode::BAD_REQUEST, self.to_string()),
            AppError::Forbidden(_) => (StatusCode::FORBIDDEN, self.to_string()),
            AppError::Conflict { code, message } => {
                let body = serde_json::json!({ "error": message, "code": code });
                return (StatusCode::CONFLICT, Json(body)).into_response();
            }
            AppError::TooMany(_) => (StatusCode::TOO_MANY_REQUESTS, self.to_string()),
            AppError::Full(_) => (StatusCode::INSUFFICIENT_STORAGE, self.to_string()),
            AppError::RetryLater {
                message,
                retry_after_secs,
                code,
            } => {
                let mut body = serde_json::json!({ "error": message });
                if let Some(code) = code {
                    body["code"] = (*code).into();
                }
                let retry_after = (*retry_after_secs).max(1).to_string();
                return (
                    StatusCode::TOO_MANY_REQUESTS,
                    [(axum::http::header::RETRY_AFTER, retry_after)],
                    Json(body),
                )
                    .into_response();
            }
            AppError::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, self.to_string()),
            AppError::TryAgain(message) => {
                return (
                    StatusCode::SERVICE_UNAVAILABLE,
                    [(
                        axum::http::header::RETRY_AFTER,
                        TRY_AGAIN_AFTER_SECS.to_string(),
                    )],
                    Json(serde_json::json!({ "error": message, "code": "try-again" })),
                )
                    .into_response();
            }
            AppError::PayloadTooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, self.to_string()),
            AppError::UnsupportedMediaType(_) => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, self.to_string())
            }
            AppError::Export(
                crate::exports::ExportFailure::SvgNeedsTable
                | crate::exports::ExportFailure::UnknownTable(_),
            ) => (StatusCode::BAD_REQUEST, self.to_string()),
            AppError::Export(error) => {
                tracing::error!(%error, "export failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "export failed".to_string(),
                )
            }
            AppError::Store(error) => {
                tracing::error!(%error, "request failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal error".to_string(),
                )
            }
        };
        (status, Json(serde_json::json!({ "error": message }))).into_response()
    }
}

impl From<crate::table::room::NotStored> for AppError {
    fn from(_: crate::table::room::NotStored) -> Self {
        AppError::TryAgain("the change could not be stored; try again".into())
    }
}
