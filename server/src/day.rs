//! The rest of the day beside the tables, read from its stored documents into
//! a [`DaySnapshot`] for `werktafel export` without a server; the live rooms
//! are read by `http::day::DayRooms`. Both turn a stand into the day's
//! [`StandSnapshot`] here, so the day view and the werkboek agree.
//! A stand is read with `werktafel_shared::market::read_stand` and turned
//! into the day's [`StandSnapshot`] ([`MarketSummary`] is the seam).

use werktafel_shared::closing::{CLOSING_DOCUMENT, read_steps};
use werktafel_shared::day::{DaySnapshot, LectureSnapshot, MarketSummary, StandSnapshot};
use werktafel_shared::event::{Event, Team};
use werktafel_shared::lecture::read_lecture;
use werktafel_shared::market::read_stand;
use werktafel_shared::room::{LECTURE_ROOM, RoomRef};
use yrs::Doc;

use crate::store::{RoomKey, Store, StoreError, build_doc};

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
    if crate::store::quarantine::check(stored.updates.iter().map(Vec::as_slice)).is_err() {
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
