//! The rest of the day beside the tables, read from its documents into a
//! [`DaySnapshot`]: the closing feedback's next steps (and, as their documents
//! arrive, the lecture board and the market's stands). The live summary and
//! the exports both read it here, so the day view and the werkboek agree.

use std::sync::Arc;

use werktafel_shared::closing::{CLOSING_DOCUMENT, read_steps};
use werktafel_shared::day::DaySnapshot;
use werktafel_shared::event::Event;

use crate::app::AppState;
use crate::error::AppError;
use crate::room::Room;
use crate::store::{RoomKey, Store, StoreError, build_doc};

/// The documents of the day that are not tables, loaded.
#[derive(Clone)]
pub struct DayRooms {
    closing: Arc<Room>,
}

impl DayRooms {
    /// Loads (once) every document of the day.
    pub async fn load(state: &AppState) -> Result<DayRooms, AppError> {
        Ok(DayRooms {
            closing: crate::closing::closing_room(state).await?,
        })
    }

    /// The rooms, for an export's cache key: a change in any of them makes a new export.
    pub fn rooms(&self) -> Vec<Arc<Room>> {
        vec![self.closing.clone()]
    }

    /// What they hold now. Short reads under each room's lock.
    pub fn read(&self) -> DaySnapshot {
        DaySnapshot {
            closing: self.closing.read(read_steps),
            ..DaySnapshot::default()
        }
    }
}

/// The day as stored in a data directory, for `werktafel export` without a server.
pub fn stored_day(store: &mut dyn Store, event: &Event) -> Result<DaySnapshot, StoreError> {
    let key = RoomKey::new(&event.slug, CLOSING_DOCUMENT);
    let stored = store.load(&key)?;
    if stored.updates.is_empty() {
        return Ok(DaySnapshot::default());
    }
    // Only the server ever wrote this document, but it is read as carefully as a table.
    if crate::quarantine::check(stored.updates.iter().map(Vec::as_slice)).is_err() {
        tracing::warn!("the stored closing feedback fails the screen; exported without it");
        return Ok(DaySnapshot::default());
    }
    let doc = build_doc(&key, stored.updates.iter().map(Vec::as_slice))?;
    Ok(DaySnapshot {
        closing: read_steps(&doc),
        ..DaySnapshot::default()
    })
}
