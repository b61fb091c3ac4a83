//! `Tables`: the event's rooms (work tables, market stands, the lecture
//! board) as loaded rooms. The one place that knows a room's key and writes
//! its meta on first load; shared by the
//! handlers (through `AppState`) and the summary feed, which must not know
//! `AppState` (that would make the state and the feed import each other).

use std::sync::Arc;

use werktafel_shared::event::{Event, TableDef};
use werktafel_shared::market::ensure_stand_meta;
use werktafel_shared::room::RoomRef;
use werktafel_shared::schema;

use crate::http::error::AppError;
use crate::store::RoomKey;
use crate::table::room::Room;
use crate::table::rooms::Rooms;

/// The event and its loaded rooms; cheap to clone.
#[derive(Clone)]
pub struct Tables {
    event: Arc<Event>,
    rooms: Rooms,
}

impl Tables {
    pub fn new(event: Arc<Event>, rooms: Rooms) -> Self {
        Self { event, rooms }
    }

    pub fn event(&self) -> &Arc<Event> {
        &self.event
    }

    pub fn rooms(&self) -> &Rooms {
        &self.rooms
    }

    /// The room of `table` if it is in memory now; never loads.
    pub fn loaded(&self, table: &TableDef) -> Option<Arc<Room>> {
        self.rooms
            .get(&RoomKey::new(&self.event.slug, table.id.as_str()))
    }

    /// The loaded room of `table`, loading it (and writing its meta) if needed.
    pub async fn load(&self, table: &TableDef) -> Result<Arc<Room>, AppError> {
        self.open(RoomRef::Table(table)).await
    }

    /// The loaded room behind `room`, loading it (and writing its meta) if needed.
    pub async fn open(&self, room: RoomRef<'_>) -> Result<Arc<Room>, AppError> {
        let event = self.event.clone();
        let key = RoomKey::new(&event.slug, &room.name());
        let loaded = match room {
            RoomRef::Table(table) => {
                let table = table.clone();
                let init = move |doc: &yrs::Doc| schema::ensure_meta(doc, &event, &table);
                self.rooms.get_or_load(&key, init).await?
            }
            RoomRef::Stand(team) => {
                let team = team.clone();
                let title = event.market_title();
                let init = move |doc: &yrs::Doc| ensure_stand_meta(doc, &team, &title);
                self.rooms.get_or_load(&key, init).await?
            }
            // The lecture board's own schema writes no meta (yet).
            RoomRef::Lecture => self.rooms.get_or_load(&key, |_| false).await?,
        };
        Ok(loaded)
    }

    /// The event's closing document (the next steps): a side room no sync
    /// connection opens; only the closing handlers write it.
    pub async fn closing(&self) -> Result<Arc<Room>, AppError> {
        let key = RoomKey::new(
            &self.event.slug,
            werktafel_shared::closing::CLOSING_DOCUMENT,
        );
        Ok(self.rooms.get_or_load(&key, |_| false).await?)
    }
}
