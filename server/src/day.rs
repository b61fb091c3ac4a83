//! The rest of the day beside the tables, read from its documents into a
//! [`DaySnapshot`]: the closing feedback's next steps, the lecture board and
//! the market's stands. The live summary and the exports both read it here,
//! so the day view and the werkboek agree.
//! A stand is read with `werktafel_shared::market::read_stand` and turned
//! into the day's [`StandSnapshot`] ([`MarketSummary`] is the seam).

use std::sync::Arc;

use werktafel_shared::closing::{CLOSING_DOCUMENT, read_steps};
use werktafel_shared::day::{DaySnapshot, LectureSnapshot, MarketSummary, StandSnapshot};
use werktafel_shared::event::{Event, Team};
use werktafel_shared::lecture::read_lecture;
use werktafel_shared::market::read_stand;
use werktafel_shared::room::{LECTURE_ROOM, RoomRef};
use yrs::Doc;

use crate::app::AppState;
use crate::error::AppError;
use crate::room::Room;
use crate::store::{RoomKey, Store, StoreError, build_doc};

/// The documents of the day that are not tables, loaded.
#[derive(Clone)]
pub struct DayRooms {
    closing: Arc<Room>,
    /// `None` when the event has no lecture board.
    lecture: Option<Arc<Room>>,
    /// Each stand's team and room, in the market's order.
    stands: Vec<(Team, Arc<Room>)>,
}

impl DayRooms {
    /// Loads (once) every document of the day.
    pub async fn load(state: &AppState) -> Result<DayRooms, AppError> {
        let event = state.event_arc();
        let lecture = match event.room(LECTURE_ROOM) {
            Some(room) => Some(state.open_room(room).await?),
            None => None,
        };
        let mut stands = Vec::new();
        for team in event.stands() {
            stands.push((team.clone(), state.open_room(RoomRef::Stand(team)).await?));
        }
        Ok(DayRooms {
            closing: crate::closing::closing_room(state).await?,
            lecture,
            stands,
        })
    }

    /// The rooms, for an export's cache key: a change in any of them makes a new export.
    pub fn rooms(&self) -> Vec<Arc<Room>> {
        let mut rooms = vec![self.closing.clone()];
        rooms.extend(self.lecture.iter().cloned());
        rooms.extend(self.stands.iter().map(|(_, room)| room.clone()));
        rooms
    }

    /// What they hold now. Short reads under each room's lock.
    pub fn read(&self) -> DaySnapshot {
        DaySnapshot {
            closing: self.closing.read(read_steps),
            lecture: self
                .lecture
                .as_ref()
                .map(|room| room.read(read_lecture))
                .unwrap_or_default(),
            market: MarketSummary {
                stands: self
                    .stands
                    .iter()
                    .map(|(team, room)| room.read(|doc| stand_snapshot(team, doc)))
                    .collect(),
            },
        }
    }
}

/// A stand as its document holds it: what its team wrote and the visitors' tips.
pub fn stand_snapshot(team: &Team, doc: &Doc) -> StandSnapshot {
    StandSnapshot::from(&read_stand(doc, team))
}

/// The day as stored in a data directory, for `werktafel export` without a server.
pub fn stored_day(store: &mut dyn Store, event: &Event) -> Result<DaySnapshot, StoreError> {
    let closing = stored_doc(store, event, CLOSING_DOCUMENT)?;
    let lecture = match event.room(LECTURE_ROOM) {
        Some(_) => stored_doc(store, event, LECTURE_ROOM)?,
        None => None,
    };
    let mut stands = Vec::new();
    for team in event.stands() {
        let room = RoomRef::Stand(team).name();
        let doc = stored_doc(store, event, &room)?.unwrap_or_default();
        stands.push(stand_snapshot(team, &doc));
    }
    Ok(DaySnapshot {
        closing: closing.as_ref().map(read_steps).unwrap_or_default(),
        lecture: lecture
            .as_ref()
            .map(read_lecture)
            .unwrap_or_else(LectureSnapshot::default),
        market: MarketSummary { stands },
    })
}

/// A stored document, or `None` when there is none or it fails the screen (a
/// server started on the directory quarantines it; the export goes on without it).
fn stored_doc(store: &mut dyn Store, event: &Event, room: &str) -> Result<Option<Doc>, StoreError> {
    let key = RoomKey::new(&event.slug, room);
    let stored = store.load(&key)?;
    if stored.updates.is_empty() {
        return Ok(None);
    }
    if crate::quarantine::check(stored.updates.iter().map(Vec::as_slice)).is_err() {
        tracing::warn!(
            room,
            "a stored document of the day fails the screen; exported without it"
        );
        return Ok(None);
    }
    Ok(Some(build_doc(
        &key,
        stored.updates.iter().map(Vec::as_slice),
    )?))
}
