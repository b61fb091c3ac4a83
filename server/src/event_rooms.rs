//! Which rooms an event has and how each is opened: a work table (its `meta`
//! from the table definition), a market stand (`markt-ot<N>`, its `meta` from
//! the team) or the lecture board (`zaal`). The names are
//! `werktafel_shared::room`'s; an unknown name is a 404 everywhere.

use std::sync::Arc;

use werktafel_shared::market::ensure_stand_meta;
use werktafel_shared::room::RoomRef;
use werktafel_shared::schema;

use crate::app::AppState;
use crate::error::AppError;
use crate::room::Room;
use crate::store::RoomKey;

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
        let event = self.event_arc();
        let key = RoomKey::new(&event.slug, &room.name());
        let loaded = match room {
            RoomRef::Table(table) => {
                let table = table.clone();
                let init = move |doc: &yrs::Doc| schema::ensure_meta(doc, &event, &table);
                self.rooms().get_or_load(&key, init).await?
            }
            RoomRef::Stand(team) => {
                let team = team.clone();
                let title = event.market_title();
                let init = move |doc: &yrs::Doc| ensure_stand_meta(doc, &team, &title);
                self.rooms().get_or_load(&key, init).await?
            }
            // The lecture board's own schema writes no meta (yet).
            RoomRef::Lecture => self.rooms().get_or_load(&key, |_| false).await?,
        };
        Ok(loaded)
    }
}
