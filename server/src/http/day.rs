//! The documents of the day that are not tables (the closing feedback's next
//! steps, the lecture board, the market's stands), loaded and read into a
//! [`DaySnapshot`] for the live summary and the exports.

use std::sync::Arc;

use werktafel_shared::closing::read_steps;
use werktafel_shared::day::{DaySnapshot, MarketSummary};
use werktafel_shared::event::Team;
use werktafel_shared::lecture::read_lecture;
use werktafel_shared::room::{LECTURE_ROOM, RoomRef};

use crate::day::stand_snapshot;
use crate::http::error::AppError;
use crate::http::tables::Tables;
use crate::table::room::Room;

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
