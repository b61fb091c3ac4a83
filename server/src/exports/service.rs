//! `ExportService`: how HTTP exports are served. At most
//! `Limits::max_concurrent_exports` are rendered or sent at once (one more is
//! refused with 429 and `Retry-After`), rendering runs on the blocking pool,
//! and each export is kept per version of the tables it was made from, so
//! downloading an unchanged event again costs nothing.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::{Arc, Mutex, Weak};

use bytes::Bytes;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use werktafel_shared::export::ExportOptions;

use super::Format;
use crate::table::room::Room;

/// Bytes of exports kept at most; the oldest go first. An export larger
/// than this is served but not kept.
pub const CACHE_BYTES: usize = 128 * 1024 * 1024;
/// Exports kept at most (formats × options × the latest versions).
pub const CACHE_ENTRIES: usize = 16;
/// What a refused client is told to wait, in seconds.
pub const RETRY_AFTER_SECS: u64 = 2;
/// A response body is handed to the connection in pieces of this size, so the
/// permit it holds is released only once the last piece has gone out.
const CHUNK: usize = 64 * 1024;

/// The export slots and the cache; one per server.
pub struct ExportService {
    permits: Arc<Semaphore>,
    cache: Mutex<VecDeque<(ExportKey, Bytes)>>,
    pool: super::RenderPool,
}

/// What an export was made of: the format, the options that change its bytes
/// (not the export time: a cached export keeps the time it was made), and
/// each table's room and version.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportKey {
    format: Format,
    table: Option<String>,
    options: ExportOptions,
    rooms: Vec<RoomVersion>,
    /// The poster image's version: a new upload changes every poster picture.
    poster_version: u64,
}

/// A room and its version. The `Weak` keeps the room's allocation, so a room
/// reloaded later can never be mistaken for this one by its address.
#[derive(Debug, Clone)]
struct RoomVersion {
    room: Weak<Room>,
    version: u64,
}

/// A slot for one export; held until its response has been sent.
pub struct ExportPermit {
    _slot: OwnedSemaphorePermit,
}

impl ExportService {
    /// A service that renders and sends at most `max_concurrent` exports at
    /// once, with a render thread for each and one more for the summary.
    pub fn new(max_concurrent: usize) -> ExportService {
        let max_concurrent = max_concurrent.max(1);
        ExportService {
            permits: Arc::new(Semaphore::new(max_concurrent)),
            cache: Mutex::new(VecDeque::new()),
            pool: super::RenderPool::new(max_concurrent + 1),
        }
    }

    /// The threads that render exports and compute summaries.
    pub fn pool(&self) -> &super::RenderPool {
        &self.pool
    }

    /// The export made for `key` earlier, if the tables have not changed since.
    pub fn cached(&self, key: &ExportKey) -> Option<Bytes> {
        let cache = self.lock();
        cache
            .iter()
            .find(|(cached, _)| cached == key)
            .map(|(_, bytes)| bytes.clone())
    }

    /// Keeps `bytes` for `key`, dropping the oldest exports beyond the bounds
    /// and any made from rooms that are gone.
    pub fn keep(&self, key: ExportKey, bytes: Bytes) {
        if bytes.len() > CACHE_BYTES {
            return;
        }
        let mut cache = self.lock();
        cache.retain(|(cached, _)| cached.is_live() && *cached != key);
        cache.push_back((key, bytes));
        let mut total: usize = cache.iter().map(|(_, b)| b.len()).sum();
        while cache.len() > CACHE_ENTRIES || total > CACHE_BYTES {
            let Some((_, dropped)) = cache.pop_front() else {
                break;
            };
            total -= dropped.len();
        }
    }

    /// A slot for one export, or `None` when all are taken.
    pub fn try_permit(&self) -> Option<ExportPermit> {
        self.permits
            .clone()
            .try_acquire_owned()
            .ok()
            .map(|slot| ExportPermit { _slot: slot })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<(ExportKey, Bytes)>> {
        // The cache holds only finished values; a panic elsewhere leaves it usable.
        self.cache.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl ExportKey {
    /// The key of `format` (for `table`, for a board) with `options`, made
    /// from `rooms` as they are now. Read before the tables are read: if one
    /// changes meanwhile, the export holds newer content than its key says,
    /// and the next request simply makes it again.
    pub fn new(
        format: Format,
        table: Option<&str>,
        options: &ExportOptions,
        rooms: &[Arc<Room>],
        poster_version: u64,
    ) -> ExportKey {
        ExportKey {
            poster_version,
            format,
            table: table.map(str::to_owned),
            options: ExportOptions {
                exported_at_ms: 0,
                ..*options
            },
            rooms: rooms
                .iter()
                .map(|room| RoomVersion {
                    room: Arc::downgrade(room),
                    version: room.version(),
                })
                .collect(),
        }
    }

    fn is_live(&self) -> bool {
        self.rooms.iter().all(|r| r.room.strong_count() > 0)
    }
}

impl PartialEq for RoomVersion {
    fn eq(&self, other: &Self) -> bool {
        Weak::ptr_eq(&self.room, &other.room) && self.version == other.version
    }
}

/// A response body of `bytes` that holds `permit` until its last piece has
/// been handed to the connection: a slow download keeps its slot, so the
/// bound also bounds the memory of exports in flight.
pub fn body_holding(bytes: Bytes, permit: ExportPermit) -> axum::body::Body {
    let pieces =
        futures_util::stream::unfold((bytes, Some(permit)), |(mut rest, mut permit)| async move {
            if rest.is_empty() {
                return None;
            }
            let piece = rest.split_to(CHUNK.min(rest.len()));
            if rest.is_empty() {
                // Released as the last piece goes out, before the client can
                // have read it: whoever saw the whole body may export again.
                permit.take();
            }
            Some((Ok::<_, Infallible>(piece), (rest, permit)))
        });
    axum::body::Body::from_stream(pieces)
}
