//! The documents of the day that are not tables (the closing feedback's next
//! steps, the lecture board, the market's stands), loaded and read into a
//! [`DaySnapshot`] for the live summary and the exports.

use std::sync::Arc;

use werktafel_shared::closing::{CLOSING_DOCUMENT, read_steps};
use werktafel_shared::day::{DaySnapshot, MarketSummary};
use werktafel_shared::event::Team;
use werktafel_shared::export::documents::DocumentState;
use werktafel_shared::lecture::read_lecture;
use werktafel_shared::room::{LECTURE_ROOM, RoomRef, ballots_document};

use crate::day::stand_snapshot;
use crate::http::error::AppError;
use crate::http::tables::Tables;
use crate::store::RoomKey;
use crate::table::room::Room;

/// The documents of the day that are not tables, loaded.
#[derive(Clone)]
pub struct DayRooms {
    closing: Arc<Room>,
    /// `None` when the event has no lecture board.
    lecture: Option<Arc<Room>>,
    /// Each stand's team and room, in the market's order.
    stands: Vec<(Team, Arc<Room>)>,
    /// The server-only ballots beside the lecture, the stands and the tables, and the files
    /// ledger, by store name: the archive carries them (`werktafel_shared::export::documents`).
    /// Empty unless loaded with [`DayRooms::with_ballots`].
    ballots: Vec<(String, Arc<Room>)>,
}

impl DayRooms {
    /// Loads (once) the documents the day view reads: the closing steps, the
    /// lecture board and the stands. The ballots and the files ledger stay
    /// unloaded until an export asks for them ([`DayRooms::with_ballots`]).
    pub async fn load(tables: &Tables) -> Result<DayRooms, AppError> {
        let event = tables.event().clone();
        let lecture = match event.room(LECTURE_ROOM) {
            Some(room) => Some(tables.open(room).await?),
            None => None,
        };
        let mut stands = Vec::new();
        for team in event.stands() {
            stands.push((team.clone(), tables.open(RoomRef::Stand(team)).await?));
        }
        Ok(DayRooms {
            closing: tables.closing().await?,
            lecture,
            stands,
            ballots: Vec::new(),
        })
    }

    /// The store keys of what [`DayRooms::load`] loads, without loading them:
    /// the summary feed checks whether any of them changed.
    pub fn keys(tables: &Tables) -> Vec<RoomKey> {
        let event = tables.event();
        let mut names = vec![CLOSING_DOCUMENT.to_owned()];
        names.extend(event.room(LECTURE_ROOM).map(|room| room.name()));
        names.extend(
            event
                .stands()
                .into_iter()
                .map(|team| RoomRef::Stand(team).name()),
        );
        names
            .iter()
            .map(|name| RoomKey::new(&event.slug, name))
            .collect()
    }

    /// These rooms and also the server-only ballots beside the lecture, the
    /// stands and the tables, and the files ledger: what an export (the
    /// archive, and its cache key) needs beyond the day view.
    pub async fn with_ballots(mut self, tables: &Tables) -> Result<DayRooms, AppError> {
        let event = tables.event().clone();
        let mut voted: Vec<RoomRef<'_>> = Vec::new();
        voted.extend(self.lecture.as_ref().map(|_| RoomRef::Lecture));
        voted.extend(event.stands().into_iter().map(RoomRef::Stand));
        voted.extend(event.tables.iter().map(RoomRef::Table));
        let mut names: Vec<String> = voted.iter().map(ballots_document).collect();
        if event.has_market() {
            names.push(werktafel_shared::market::FILES_LEDGER.to_owned());
        }
        for name in names {
            let key = RoomKey::new(&event.slug, &name);
            let room = tables.side(&key, None).await?;
            self.ballots.push((name, room));
        }
        Ok(self)
    }

    /// The rooms, for an export's cache key: a change in any of them makes a new export.
    pub fn rooms(&self) -> Vec<Arc<Room>> {
        let mut rooms = vec![self.closing.clone()];
        rooms.extend(self.lecture.iter().cloned());
        rooms.extend(self.stands.iter().map(|(_, room)| room.clone()));
        rooms.extend(self.ballots.iter().map(|(_, room)| room.clone()));
        rooms
    }

    /// The full state of each document that holds anything, for the archive. Short
    /// reads under each room's lock; call it off the async runtime.
    pub fn documents(&self) -> Vec<DocumentState> {
        let mut named: Vec<(String, &Arc<Room>)> =
            vec![(CLOSING_DOCUMENT.to_owned(), &self.closing)];
        named.extend(
            self.lecture
                .iter()
                .map(|room| (LECTURE_ROOM.to_owned(), room)),
        );
        named.extend(
            self.stands
                .iter()
                .map(|(team, room)| (RoomRef::Stand(team).name(), room)),
        );
        named.extend(self.ballots.iter().map(|(name, room)| (name.clone(), room)));
        named
            .into_iter()
            .map(|(name, room)| room.read(|doc| DocumentState::encode(name, doc)))
            .filter(|state| !state.is_empty())
            .collect()
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
