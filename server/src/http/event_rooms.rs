//! Which rooms an event has and how each is opened: a work table (its `meta`
//! from the table definition), a market stand (`markt-ot<N>`, its `meta` from
//! the team) or the lecture board (`zaal`). The names are
//! `werktafel_shared::room`'s; an unknown name is a 404 everywhere.

use std::sync::Arc;

use werktafel_shared::room::RoomRef;

use crate::http::error::AppError;
use crate::http::state::AppState;
use crate::table::room::Room;

impl AppState {
    /// The room `name` of event `slug`, or 404.
    pub fn room_ref(&self, slug: &str, name: &str) -> Result<RoomRef<'_>, AppError> {
        let event = self.event_by_slug(slug)?;
        event
            .room(name)
            .ok_or_else(|| AppError::NotFound(format!("room '{name}' of event '{slug}'")))
    }

    /// The loaded room behind `room`, loading it (and writing its meta) if needed.
    pub async fn open_room(&self, room: RoomRef<'_>) -> Result<Arc<Room>, AppError> {
        self.tables().open(room).await
    }
}
