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

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::cluster::Directory;
use crate::cluster::follow::{FOLLOW_INTERVAL, Follow};
use crate::http::error::AppError;
use crate::store::RoomKey;
use crate::table::room::Room;
use crate::table::rooms::Rooms;

/// The event and its loaded rooms; cheap to clone.
#[derive(Clone)]
pub struct Tables {
    event: Arc<Event>,
    rooms: Rooms,
    /// How rooms other nodes own are read; `None` on one node alone.
    follow: Option<Arc<Follow>>,
}

impl Tables {
    pub fn new(event: Arc<Event>, rooms: Rooms, follow: Option<Arc<Follow>>) -> Self {
        Self {
            event,
            rooms,
            follow,
        }
    }

    /// The event's rooms as `directory` serves them: followed from the
    /// store where other nodes own them (a cluster), else all here.
    pub fn on(event: Arc<Event>, rooms: Rooms, directory: &Directory) -> Self {
        let follow = match directory {
            Directory::Solo => None,
            Directory::Leased(leases) => Some(Arc::new(Follow::new(leases.clone(), rooms.clone()))),
        };
        Self::new(event, rooms, follow)
    }

    /// On a cluster node: looks for rooms other nodes stored to every
    /// [`FOLLOW_INTERVAL`], so the live summary changes with them (a
    /// catch-up that finds any tells it). Nothing on one node alone.
    pub fn follow_other_nodes(&self, tasks: &TaskTracker, token: CancellationToken) {
        if self.follow.is_none() {
            return;
        }
        let tables = self.clone();
        tasks.spawn(async move {
            let mut tick = tokio::time::interval(FOLLOW_INTERVAL);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    () = token.cancelled() => return,
                    _ = tick.tick() => {}
                }
                if let Err(error) = tables.catch_up().await {
                    tracing::debug!(%error, "could not look for other nodes' changes");
                }
            }
        });
    }

    /// Whether rooms may be stored to by other nodes (a cluster node).
    pub fn follows(&self) -> bool {
        self.follow.is_some()
    }

    /// Drops the copies of other nodes' rooms that went stale, so the reads
    /// after it see everything stored anywhere before it; nothing on one
    /// node alone. Returns whether any room of another node changed.
    pub async fn catch_up(&self) -> Result<bool, AppError> {
        let Some(follow) = &self.follow else {
            return Ok(false);
        };
        let moved = follow
            .catch_up(&self.event.slug)
            .await
            .map_err(|e| AppError::Unavailable(format!("reading from the store: {e}")))?;
        Ok(moved > 0)
    }

    /// The room `key` read from a copy of what is stored, if it is another
    /// node's (or nobody's) on a cluster; `None` when it is served here.
    async fn followed(
        &self,
        key: &RoomKey,
        max_bytes: Option<u64>,
    ) -> Result<Option<Arc<Room>>, AppError> {
        let Some(follow) = self.follow.as_ref().filter(|f| f.follows(key)) else {
            return Ok(None);
        };
        // A copy loaded for a reader that began before the last catch-up
        // may miss what that catch-up saw: load it again (a few times at
        // most; each load holds at least what was stored when it began).
        for _ in 0..3 {
            let init = follow.loader(key);
            let room = match max_bytes {
                Some(max) => self.rooms.get_or_load_bounded(key, max, init).await?,
                None => self.rooms.get_or_load(key, init).await?,
            };
            if follow.is_current(&room) {
                return Ok(Some(room));
            }
            follow.forget(&room);
        }
        Err(AppError::Unavailable(format!(
            "{key} changes faster than it can be read; try again"
        )))
    }

    /// A room the server keeps beside a table or the event (ballots,
    /// drafts, settings, the files ledger): no meta; `max_bytes` bounds a
    /// drafts document.
    pub async fn side(&self, key: &RoomKey, max_bytes: Option<u64>) -> Result<Arc<Room>, AppError> {
        if let Some(room) = self.followed(key, max_bytes).await? {
            return Ok(room);
        }
        Ok(match max_bytes {
            Some(max) => self.rooms.get_or_load_bounded(key, max, |_| false).await?,
            None => self.rooms.get_or_load(key, |_| false).await?,
        })
    }

    pub fn event(&self) -> &Arc<Event> {
        &self.event
    }

    pub fn rooms(&self) -> &Rooms {
        &self.rooms
    }

    /// The room of `table` if it is in memory now; never loads.
    /// A copy of another node's room that is behind the store counts as
    /// not in memory.
    pub fn loaded(&self, table: &TableDef) -> Option<Arc<Room>> {
        self.loaded_key(&RoomKey::new(&self.event.slug, table.id.as_str()))
    }

    /// [`Tables::loaded`] by key.
    pub fn loaded_key(&self, key: &RoomKey) -> Option<Arc<Room>> {
        let room = self.rooms.get(key)?;
        match &self.follow {
            Some(follow) if follow.follows(key) && !follow.is_current(&room) => None,
            _ => Some(room),
        }
    }

    /// What a reader keeps beside what it read of `room`, to tell later
    /// whether it changed ([`Tables::unchanged_since`]): for a copy of
    /// another node's room, the store position it holds; `None` for a room
    /// served here.
    pub fn stamp(&self, room: &Room) -> Option<i64> {
        let follow = self.follow.as_ref()?;
        follow
            .follows(room.key())
            .then(|| follow.loaded_at(room.key()))?
    }

    /// Whether `key`, not in memory now, is unchanged since it was read with
    /// `stamp`: a room served here changes only while loaded; a copy of
    /// another node's room while the store has nothing newer.
    pub fn unchanged_since(&self, key: &RoomKey, stamp: Option<i64>) -> bool {
        let Some(follow) = &self.follow else {
            return true;
        };
        match stamp {
            None => !follow.follows(key),
            Some(at) => at >= follow.position(key).unwrap_or(0),
        }
    }

    /// Grows each time a catch-up finds rooms other nodes stored to (always
    /// 0 on one node alone): a summary computed at an older value is stale.
    pub fn generation(&self) -> u64 {
        self.follow.as_ref().map_or(0, |f| f.generation())
    }

    /// The loaded room of `table`, loading it (and writing its meta) if needed.
    pub async fn load(&self, table: &TableDef) -> Result<Arc<Room>, AppError> {
        self.open(RoomRef::Table(table)).await
    }

    /// The loaded room behind `room`, loading it (and writing its meta) if needed.
    pub async fn open(&self, room: RoomRef<'_>) -> Result<Arc<Room>, AppError> {
        let event = self.event.clone();
        let key = RoomKey::new(&event.slug, &room.name());
        if let Some(room) = self.followed(&key, None).await? {
            return Ok(room);
        }
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
        self.side(&key, None).await
    }
}
