//! A stand file as a blob (`store/blobs.rs`), and storing one in the
//! shared blobs of a PostgreSQL store under the quotas, which the database
//! checks across every node.

use super::Entry;
use crate::http::error::AppError;
use crate::http::state::AppState;
use crate::store::blobs::{Blob, Put, Quota};

use super::FILES_DIR;

/// The blob a stand file is kept as (`{data_dir}/files/{id}` on SQLite).
pub(super) fn blob_name(id: &str) -> String {
    format!("{FILES_DIR}/{id}")
}

pub(super) fn blob_of(entry: &Entry, bytes: axum::body::Bytes) -> Blob {
    Blob {
        data: bytes.to_vec(),
        kind: entry.kind.extension().to_owned(),
        file_name: entry.name.clone(),
    }
}

/// Runs a blob store's `put` off the async runtime; its failure is the
/// client's 503 (and a log line with the cause).
pub(super) async fn storing<T: Send + 'static, E: std::fmt::Display + Send + 'static>(
    put: impl FnOnce() -> Result<T, E> + Send + 'static,
) -> Result<T, AppError> {
    tokio::task::spawn_blocking(put)
        .await
        .map_err(|e| AppError::Unavailable(format!("storing the upload: {e}")))?
        .map_err(|e| {
            tracing::error!(error = %e, "storing an upload failed");
            AppError::Unavailable("the file could not be stored".into())
        })
}

/// Stores an upload in the shared blobs (PostgreSQL) if the uploader's
/// quota and the event's total allow, checked by the database across every
/// node; an upload of the same content again stores nothing.
pub(super) async fn store_shared(
    state: &AppState,
    id: &str,
    entry: &Entry,
    bytes: axum::body::Bytes,
    limits: &crate::config::Limits,
) -> Result<(), AppError> {
    let blobs = state.blobs().clone();
    let (name, blob) = (blob_name(id), blob_of(entry, bytes));
    let by = entry.by.clone();
    let (per_person, total) = (
        limits.upload_quota_per_identity,
        limits.max_upload_bytes_total,
    );
    let put = storing(move || {
        let quota = Quota {
            by: &by,
            per_person,
            total,
            prefix: "files/",
        };
        blobs.put_within(&name, &blob, &quota)
    })
    .await?;
    match put {
        Put::Stored | Put::Existed => Ok(()),
        Put::OverPerson => Err(AppError::Full(format!(
            "your uploads would exceed the quota of {per_person} bytes per person"
        ))),
        Put::OverTotal => Err(AppError::Full(format!(
            "the event's files would exceed their total of {total} bytes"
        ))),
    }
}
