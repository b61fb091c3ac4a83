//! `Tables`: the event's work tables as loaded rooms. The one place that
//! knows a table's room key and writes its meta on first load; shared by the
//! handlers (through `AppState`) and the summary feed, which must not know
//! `AppState` (that would make the state and the feed import each other).

use std::sync::Arc;

use werktafel_shared::event::{Event, TableDef};
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
        let event = self.event.clone();
        let table_def = table.clone();
        let key = RoomKey::new(&event.slug, table.id.as_str());
        let room = self
            .rooms
            .get_or_load(&key, move |doc| {
                schema::ensure_meta(doc, &event, &table_def)
            })
            .await?;
        Ok(room)
    }
}
