//! Files on the market stands: `POST /api/events/{event}/stands/{stand}/files`
//! takes an image or a PDF (type read from its bytes, size capped), stores it
//! content-addressed (`store/blobs.rs`: under `{data_dir}/files/`, 0600, on
//! SQLite; in PostgreSQL's `blobs`, for every node, on PostgreSQL) and puts it on the stand
//! as a material; `GET /api/events/{event}/files/{id}` serves it with its real
//! type, `nosniff`, a `Content-Disposition` and a sandbox CSP.
//!
//! What is stored is recorded in a server-only ledger document (`market/files`:
//! file id → size, kind, name, who uploaded it), so the per-identity quota and
//! the event's total survive a restart. One upload at a time passes the
//! quota check and the write, so two cannot both squeeze under a limit.

use std::collections::HashMap;

use axum::Extension;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use werktafel_shared::market::{Material, MaterialDraft, insert_material};
use werktafel_shared::upload::{FileKind, download_name};
use yrs::{Any, Map, Out, ReadTxn, Transact, WriteTxn};

use self::blob::{blob_name, blob_of, store_shared, storing};
use super::stand_of;
use crate::access::{Role, random_token};
use crate::http::error::AppError;
use crate::http::identity;
use crate::http::state::AppState;
use crate::store::RoomKey;

/// Where stand files live inside the data directory.
pub const FILES_DIR: &str = "files";
/// The ledger's room key (a `/` makes it a name no client can sync to).
const LEDGER_ROOM: &str = werktafel_shared::market::FILES_LEDGER;
const LEDGER: &str = werktafel_shared::market::FILES_LEDGER_ROOT;
/// Longest material title kept, in characters.
const MAX_TITLE_CHARS: usize = 120;

mod blob;

#[derive(Deserialize)]
pub struct UploadQuery {
    /// The file's name on the uploader's device (only its safe part is kept).
    #[serde(default)]
    name: String,
    /// What the stand shows; the name when empty.
    #[serde(default)]
    title: String,
    token: Option<String>,
}

/// What an upload answers (201).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Uploaded {
    material_id: String,
    file: String,
    url: String,
    mime: &'static str,
    size: u64,
    name: String,
}

/// One file in the ledger.
struct Entry {
    size: u64,
    kind: FileKind,
    name: String,
    by: String,
}

/// `POST /api/events/{event}/stands/{stand}/files?name=…&title=…`: the body
/// is the file. 413 over `--max-upload-bytes`, 415 unless PNG, JPEG, WebP,
/// GIF or PDF by its bytes, 507 past the identity's quota or the event's cap,
/// 429 while [`super::MAX_CONCURRENT_UPLOADS`] others are being received.
pub async fn upload(
    State(state): State<AppState>,
    Path((slug, stand)): Path<(String, String)>,
    Query(query): Query<UploadQuery>,
    Extension(role): Extension<Role>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, AppError> {
    let team = stand_of(&state, &slug, &stand)?.clone();
    if !role.may_write() {
        return Err(AppError::Forbidden("the plenary link cannot upload"));
    }
    let who = state.identity(identity::presented(query.token.as_deref(), &headers))?;
    let limits = state.limits().clone();
    let max = limits.max_upload_bytes;
    let too_large = || {
        AppError::PayloadTooLarge(format!(
            "the file is larger than the upload limit of {max} bytes"
        ))
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max) {
        return Err(too_large());
    }
    // A body is held in memory while it arrives: only so many at once.
    let _slot = state.market().upload_slot()?;
    let _receiving = Receiving::start();
    let limit = usize::try_from(max).unwrap_or(usize::MAX);
    let bytes = axum::body::to_bytes(body, limit).await.map_err(|e| {
        if is_length_limit(&e) {
            too_large()
        } else {
            AppError::BadRequest(format!("the upload broke off: {e}"))
        }
    })?;
    if bytes.is_empty() {
        return Err(AppError::BadRequest("the file is empty".into()));
    }
    let kind = FileKind::sniff(&bytes).ok_or_else(|| {
        AppError::UnsupportedMediaType(
            "only PNG, JPEG, WebP and GIF images and PDF files can be uploaded".into(),
        )
    })?;
    let hashed = bytes.clone();
    let id = tokio::task::spawn_blocking(move || hex(&Sha256::digest(&hashed)))
        .await
        .map_err(|e| AppError::Unavailable(format!("hashing the upload: {e}")))?;
    let size = bytes.len() as u64;
    let name = download_name(&query.name, kind);

    let ledger = state
        .side_room(RoomKey::new(&state.event().slug, LEDGER_ROOM))
        .await?;
    {
        let _one_at_a_time = state.market().uploads.lock().await;
        let entries = ledger.read(|doc| read_ledger(&doc.transact()));
        let entry = Entry {
            size,
            kind,
            name: name.clone(),
            by: who.id.clone(),
        };
        if state.blobs().is_shared() {
            // PostgreSQL: the database checks the quotas across every node.
            store_shared(&state, &id, &entry, bytes, &limits).await?;
            if !entries.contains_key(&id) {
                ledger
                    .write_as_server(|txn| write_entry(txn, &id, &entry))
                    .await;
            }
        } else if !entries.contains_key(&id) {
            let mine: u64 = entries
                .values()
                .filter(|e| e.by == who.id)
                .map(|e| e.size)
                .sum();
            let total: u64 = entries.values().map(|e| e.size).sum();
            if mine + size > limits.upload_quota_per_identity {
                return Err(AppError::Full(format!(
                    "your uploads would exceed the quota of {} bytes per person",
                    limits.upload_quota_per_identity
                )));
            }
            if total + size > limits.max_upload_bytes_total {
                return Err(AppError::Full(format!(
                    "the event's files would exceed their total of {} bytes",
                    limits.max_upload_bytes_total
                )));
            }
            let blobs = state.blobs().clone();
            let (blob_name, blob) = (blob_name(&id), blob_of(&entry, bytes));
            storing(move || blobs.put(&blob_name, &blob, "")).await?;
            ledger
                .write_as_server(|txn| write_entry(txn, &id, &entry))
                .await;
        }
    }

    let url = format!("/api/events/{slug}/files/{id}");
    let title: String = match query.title.trim() {
        "" => name.clone(),
        title => title.chars().take(MAX_TITLE_CHARS).collect(),
    };
    let material_id = random_token(12);
    let draft = MaterialDraft {
        id: material_id.clone(),
        author_id: who.id.clone(),
        material: Material {
            id: material_id.clone(),
            kind: "file".into(),
            title,
            url: url.clone(),
            file: id.clone(),
            mime: kind.mime().into(),
            size,
            author: who.name.clone(),
            created_at: super::now_ms(),
        },
    };
    let room = state
        .open_room(werktafel_shared::RoomRef::Stand(&team))
        .await?;
    room.write_as_server(|txn| insert_material(txn, &draft))
        .await;
    let answer = Uploaded {
        material_id,
        file: id,
        url,
        mime: kind.mime(),
        size,
        name,
    };
    Ok((StatusCode::CREATED, axum::Json(answer)).into_response())
}

/// `GET /api/events/{event}/files/{id}`: a stored stand file, with the type
/// its bytes were checked to be. Images show inline, PDFs download; either
/// way the browser may not sniff another type, nor run anything in it.
pub async fn serve(
    State(state): State<AppState>,
    Path((slug, id)): Path<(String, String)>,
) -> Result<Response, AppError> {
    state.event_by_slug(&slug)?;
    let not_found = || AppError::NotFound(format!("file '{id}'"));
    if id.len() != 64 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(not_found());
    }
    let blobs = state.blobs().clone();
    let name = blob_name(&id);
    let stored = tokio::task::spawn_blocking(move || blobs.get(&name))
        .await
        .map_err(|e| AppError::Unavailable(format!("reading the file: {e}")))?
        .map_err(|e| {
            tracing::warn!(error = %e, "reading an upload failed");
            AppError::Unavailable("the file could not be read".into())
        })?
        .ok_or_else(not_found)?;
    let entry = if state.blobs().is_shared() {
        // What any node stored, as the database has it: this node's copy
        // of the ledger may not have another node's upload yet.
        Entry {
            size: stored.data.len() as u64,
            kind: FileKind::parse(&stored.kind).ok_or_else(not_found)?,
            name: stored.file_name,
            by: String::new(),
        }
    } else {
        let ledger = state
            .side_room(RoomKey::new(&state.event().slug, LEDGER_ROOM))
            .await?;
        ledger
            .read(|doc| read_ledger(&doc.transact()).remove(&id))
            .ok_or_else(not_found)?
    };
    let bytes = stored.data;
    let disposition = if entry.kind.is_image() {
        "inline"
    } else {
        "attachment"
    };
    let headers = [
        (header::CONTENT_TYPE, entry.kind.mime().to_owned()),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
        (
            header::CONTENT_DISPOSITION,
            format!("{disposition}; filename=\"{}\"", entry.name),
        ),
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; img-src 'self'; sandbox".to_owned(),
        ),
        // Content-addressed: the bytes under an id never change.
        (
            header::CACHE_CONTROL,
            "private, max-age=31536000, immutable".to_owned(),
        ),
    ];
    Ok((headers, bytes).into_response())
}

/// Counts an upload in `werktafel_uploads_receiving` while it holds a slot.
struct Receiving;

impl Receiving {
    fn start() -> Self {
        crate::metrics::METRICS.uploads_receiving.inc();
        Receiving
    }
}

impl Drop for Receiving {
    fn drop(&mut self) {
        crate::metrics::METRICS.uploads_receiving.dec();
    }
}

fn read_ledger<T: ReadTxn>(txn: &T) -> HashMap<String, Entry> {
    let Some(files) = txn.get_map(LEDGER) else {
        return HashMap::new();
    };
    files
        .iter(txn)
        .filter_map(|(id, value)| {
            let Out::Any(Any::Map(map)) = value else {
                return None;
            };
            let text = |name: &str| match map.get(name) {
                Some(Any::String(s)) => s.to_string(),
                _ => String::new(),
            };
            let size = match map.get("size") {
                Some(Any::Number(n)) => n.as_f64()? as u64,
                _ => return None,
            };
            let entry = Entry {
                size,
                kind: FileKind::parse(&text("kind"))?,
                name: text("name"),
                by: text("by"),
            };
            Some((id.to_string(), entry))
        })
        .collect()
}

fn write_entry(txn: &mut yrs::TransactionMut, id: &str, entry: &Entry) {
    let files = txn.get_or_insert_map(LEDGER);
    let value: HashMap<String, Any> = [
        ("size", Any::Number(yrs::Number::Float(entry.size as f64))),
        ("kind", Any::from(entry.kind.extension())),
        ("name", Any::from(entry.name.as_str())),
        ("by", Any::from(entry.by.as_str())),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    files.insert(txn, id, Any::Map(value.into()));
}

fn is_length_limit(error: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = source {
        if e.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        source = e.source();
    }
    false
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
