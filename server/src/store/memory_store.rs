//! A [`Store`] kept in memory: the real persistence worker and rooms run on it
//! without SQLite, in the fuzz harness and in tests that want to look at
//! exactly what was made durable.
//!
//! It follows [`SqliteStore`](crate::store::SqliteStore) rule for rule (a
//! snapshot plus an append-only log per room with ever-growing ids,
//! compaction that merges without holding the lock, gives up when the
//! snapshot changed meanwhile and keeps a log whose updates still wait for a
//! dependency), so whatever a test learns about the rooms above it holds for
//! the real store too.

use std::collections::BTreeMap;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use tokio::sync::watch;

use crate::store::{AppendRecord, Compaction, LogRead, RoomKey, Store, StoreError, StoredDoc};

/// In-memory storage. A cheap handle: clones share the same contents, so a
/// test can keep one while the persistence worker and the compactor own
/// others.
#[derive(Clone, Default)]
pub struct MemoryStore {
    inner: Arc<Mutex<Contents>>,
    appends: Arc<AppendGate>,
}

/// Holds appends while closed, as a stalled fsync would: the persistence
/// worker waits inside [`Store::append`] until the test opens it again.
struct AppendGate {
    closed: Mutex<bool>,
    opened: Condvar,
    /// How many appends wait at the gate now.
    waiting: watch::Sender<usize>,
}

impl Default for AppendGate {
    fn default() -> Self {
        Self {
            closed: Mutex::new(false),
            opened: Condvar::new(),
            waiting: watch::Sender::new(0),
        }
    }
}

#[derive(Default)]
struct Contents {
    rooms: BTreeMap<RoomKey, StoredRoom>,
    events: BTreeMap<String, String>,
    secrets: BTreeMap<String, String>,
    /// What [`Store::quarantine`] moved aside: room, reason, entries.
    quarantined: Vec<(RoomKey, String, Vec<Vec<u8>>)>,
    /// Id of the last log entry appended to any room, like SQLite's
    /// AUTOINCREMENT: a compaction deletes up to the id it read.
    last_id: u64,
}

#[derive(Default)]
struct StoredRoom {
    snapshot: Option<Vec<u8>>,
    /// Log entries with their ids, in the order they were appended.
    log: Vec<(u64, Vec<u8>)>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// Removes everything stored for `room`, so a long-lived store can serve
    /// many short-lived rooms (one per fuzz input) without growing. A
    /// compaction of `room` in flight gives up instead of writing it back.
    pub fn forget(&self, room: &RoomKey) {
        self.lock().rooms.remove(room);
    }

    /// From now on, appends wait at the gate (a stalled disk) until
    /// [`MemoryStore::release_appends`].
    pub fn hold_appends(&self) {
        *lock(&self.appends.closed) = true;
    }

    /// Lets every held append through, and every later one.
    pub fn release_appends(&self) {
        *lock(&self.appends.closed) = false;
        self.appends.opened.notify_all();
    }

    /// Waits until an append is held at the gate.
    pub async fn append_held(&self) {
        let mut waiting = self.appends.waiting.subscribe();
        // The sender lives as long as `self`.
        let _ = waiting.wait_for(|n| *n > 0).await;
    }

    /// Blocks while the gate is closed.
    fn pass_gate(&self) {
        let gate = &self.appends;
        let mut closed = lock(&gate.closed);
        if !*closed {
            return;
        }
        gate.waiting.send_modify(|n| *n += 1);
        while *closed {
            closed = gate
                .opened
                .wait(closed)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
        }
        gate.waiting.send_modify(|n| *n -= 1);
    }

    fn lock(&self) -> MutexGuard<'_, Contents> {
        // Every method leaves the contents consistent before it can panic.
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Store for MemoryStore {
    fn reopen(&self) -> Result<Self, StoreError> {
        Ok(self.clone())
    }

    fn load(&mut self, room: &RoomKey) -> Result<StoredDoc, StoreError> {
        let contents = self.lock();
        let updates = contents
            .rooms
            .get(room)
            .map(|r| {
                let log = r.log.iter().map(|(_, data)| data);
                r.snapshot.iter().chain(log).cloned().collect()
            })
            .unwrap_or_default();
        Ok(StoredDoc { updates })
    }

    fn append(&mut self, batch: &[AppendRecord]) -> Result<(), StoreError> {
        self.pass_gate();
        let mut contents = self.lock();
        for record in batch {
            contents.last_id += 1;
            let id = contents.last_id;
            contents
                .rooms
                .entry(record.room.clone())
                .or_default()
                .log
                .push((id, record.update.to_vec()));
        }
        Ok(())
    }

    fn log_len(&mut self, room: &RoomKey) -> Result<u64, StoreError> {
        Ok(self
            .lock()
            .rooms
            .get(room)
            .map_or(0, |r| r.log.len() as u64))
    }

    fn read_log(&mut self, room: &RoomKey) -> Result<Option<LogRead>, StoreError> {
        let contents = self.lock();
        let Some(stored) = contents.rooms.get(room) else {
            return Ok(None);
        };
        let Some(&(upto, _)) = stored.log.last() else {
            return Ok(None);
        };
        Ok(Some(LogRead {
            snapshot: stored.snapshot.clone(),
            generation: None,
            log: stored.log.iter().map(|(_, data)| data.clone()).collect(),
            upto,
        }))
    }

    fn write_compaction(
        &mut self,
        room: &RoomKey,
        read: &LogRead,
        merged: &[u8],
    ) -> Result<Compaction, StoreError> {
        let mut contents = self.lock();
        let Some(stored) = contents.rooms.get_mut(room) else {
            return Ok(Compaction::Superseded);
        };
        if stored.snapshot != read.snapshot {
            return Ok(Compaction::Superseded);
        }
        stored.snapshot = Some(merged.to_vec());
        // Entries appended after the read have larger ids and stay.
        stored.log.retain(|(id, _)| *id > read.upto);
        Ok(Compaction::Written)
    }

    fn quarantine(&mut self, room: &RoomKey, reason: &str) -> Result<usize, StoreError> {
        let mut contents = self.lock();
        let Some(stored) = contents.rooms.remove(room) else {
            return Ok(0);
        };
        let entries: Vec<Vec<u8>> = stored
            .snapshot
            .into_iter()
            .chain(stored.log.into_iter().map(|(_, data)| data))
            .collect();
        let moved = entries.len();
        contents
            .quarantined
            .push((room.clone(), reason.to_string(), entries));
        Ok(moved)
    }

    fn rooms(&mut self) -> Result<Vec<RoomKey>, StoreError> {
        Ok(self
            .lock()
            .rooms
            .iter()
            .filter(|(_, r)| r.snapshot.is_some() || !r.log.is_empty())
            .map(|(key, _)| key.clone())
            .collect())
    }

    fn save_event(&mut self, slug: &str, definition: &str) -> Result<(), StoreError> {
        self.lock()
            .events
            .insert(slug.to_string(), definition.to_string());
        Ok(())
    }

    fn load_event(&mut self, slug: &str) -> Result<Option<String>, StoreError> {
        Ok(self.lock().events.get(slug).cloned())
    }

    fn events(&mut self) -> Result<Vec<String>, StoreError> {
        Ok(self.lock().events.keys().cloned().collect())
    }

    fn secret(&mut self, name: &str, fresh: &str) -> Result<String, StoreError> {
        Ok(self
            .lock()
            .secrets
            .entry(name.to_string())
            .or_insert_with(|| fresh.to_string())
            .clone())
    }
    fn set_secrets(&mut self, secrets: &[(String, String)]) -> Result<(), StoreError> {
        let mut contents = self.lock();
        for (name, value) in secrets {
            contents.secrets.insert(name.clone(), value.clone());
        }
        Ok(())
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A store that lets tests stop a compaction halfway, to see what the
/// threads around it do meanwhile.
#[cfg(test)]
pub(crate) mod testing {
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use super::MemoryStore;
    use crate::store::{AppendRecord, Compaction, LogRead, RoomKey, Store, StoreError, StoredDoc};

    /// Only turns a hang (the behaviour under test broken) into a failure
    /// with a message; a passing test never comes near it.
    const HANG: Duration = Duration::from_secs(60);

    /// Waits for `signal`; if it never comes, fails naming `what` it waited for.
    pub async fn soon<T>(what: &str, signal: impl Future<Output = Option<T>>) -> T {
        tokio::time::timeout(HANG, signal)
            .await
            .unwrap_or_else(|_| panic!("waited {HANG:?} for {what}"))
            .unwrap_or_else(|| panic!("{what}: the sender is gone"))
    }

    /// A [`MemoryStore`] whose compactions stop at a gate: each tells which
    /// room it is about to compact, waits until the test lets it through,
    /// then tells how it ended.
    #[derive(Clone)]
    pub struct GatedStore {
        pub inner: MemoryStore,
        gate: Arc<Gate>,
    }

    struct Gate {
        entered: tokio::sync::mpsc::UnboundedSender<RoomKey>,
        open: Mutex<std::sync::mpsc::Receiver<()>>,
        done: tokio::sync::mpsc::UnboundedSender<Compaction>,
    }

    /// The test's side of the gate.
    pub struct GateKeeper {
        entered: tokio::sync::mpsc::UnboundedReceiver<RoomKey>,
        open: Option<std::sync::mpsc::Sender<()>>,
        done: tokio::sync::mpsc::UnboundedReceiver<Compaction>,
    }

    impl GatedStore {
        pub fn new() -> (GatedStore, GateKeeper) {
            let (entered_tx, entered) = tokio::sync::mpsc::unbounded_channel();
            let (open, open_rx) = std::sync::mpsc::channel();
            let (done_tx, done) = tokio::sync::mpsc::unbounded_channel();
            let store = GatedStore {
                inner: MemoryStore::new(),
                gate: Arc::new(Gate {
                    entered: entered_tx,
                    open: Mutex::new(open_rx),
                    done: done_tx,
                }),
            };
            let keeper = GateKeeper {
                entered,
                open: Some(open),
                done,
            };
            (store, keeper)
        }
    }

    impl GateKeeper {
        /// The room of the compaction now waiting at the gate.
        pub async fn entered(&mut self) -> RoomKey {
            soon("a compaction to start", self.entered.recv()).await
        }

        /// Lets the compaction at the gate through; how it ended.
        pub async fn pass(&mut self) -> Compaction {
            if let Some(open) = &self.open {
                open.send(())
                    .expect("the compaction at the gate is waiting");
            }
            soon("the compaction to end", self.done.recv()).await
        }

        /// Lets every compaction through from now on.
        pub fn open_for_good(&mut self) {
            self.open = None;
        }
    }

    impl Store for GatedStore {
        fn reopen(&self) -> Result<Self, StoreError> {
            Ok(self.clone())
        }

        fn compact(&mut self, room: &RoomKey) -> Result<Compaction, StoreError> {
            let _ = self.gate.entered.send(room.clone());
            // An error means the gate is open for good.
            let _ = self.gate.open.lock().unwrap().recv();
            let outcome = self.inner.compact(room)?;
            let _ = self.gate.done.send(outcome);
            Ok(outcome)
        }

        fn load(&mut self, room: &RoomKey) -> Result<StoredDoc, StoreError> {
            self.inner.load(room)
        }

        fn quarantine(&mut self, room: &RoomKey, reason: &str) -> Result<usize, StoreError> {
            self.inner.quarantine(room, reason)
        }

        fn append(&mut self, batch: &[AppendRecord]) -> Result<(), StoreError> {
            self.inner.append(batch)
        }

        fn log_len(&mut self, room: &RoomKey) -> Result<u64, StoreError> {
            self.inner.log_len(room)
        }

        fn read_log(&mut self, room: &RoomKey) -> Result<Option<LogRead>, StoreError> {
            self.inner.read_log(room)
        }

        fn write_compaction(
            &mut self,
            room: &RoomKey,
            read: &LogRead,
            merged: &[u8],
        ) -> Result<Compaction, StoreError> {
            self.inner.write_compaction(room, read, merged)
        }

        fn rooms(&mut self) -> Result<Vec<RoomKey>, StoreError> {
            self.inner.rooms()
        }

        fn save_event(&mut self, slug: &str, definition: &str) -> Result<(), StoreError> {
            self.inner.save_event(slug, definition)
        }

        fn load_event(&mut self, slug: &str) -> Result<Option<String>, StoreError> {
            self.inner.load_event(slug)
        }

        fn events(&mut self) -> Result<Vec<String>, StoreError> {
            self.inner.events()
        }

        fn secret(&mut self, name: &str, fresh: &str) -> Result<String, StoreError> {
            self.inner.secret(name, fresh)
        }

        fn set_secrets(&mut self, secrets: &[(String, String)]) -> Result<(), StoreError> {
            self.inner.set_secrets(secrets)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testing::*;
    use yrs::Doc;

    fn fresh() -> ((), MemoryStore) {
        ((), MemoryStore::new())
    }

    crate::store::suite::store_suite!(fresh);

    #[test]
    fn compaction_of_a_forgotten_room_writes_nothing_back() {
        let mut store = MemoryStore::new();
        let room = key("f");
        append(&mut store, &room, &typing(&Doc::new(), 3));
        let read = store.read_log(&room).unwrap().expect("a log to compact");
        store.forget(&room);
        let merged = read.merge(&room).unwrap().expect("no update is missing");
        let outcome = store.write_compaction(&room, &read, &merged).unwrap();
        assert_eq!(outcome, Compaction::Superseded);
        assert!(store.rooms().unwrap().is_empty());
    }

    #[test]
    fn forget_removes_a_room() {
        let mut store = MemoryStore::new();
        append(&mut store, &key("b"), &typing(&Doc::new(), 1));
        append(&mut store, &key("a"), &typing(&Doc::new(), 1));
        store.forget(&key("b"));
        assert_eq!(store.rooms().unwrap(), vec![key("a")]);
    }

    #[test]
    fn clones_share_contents() {
        let mut store = MemoryStore::new();
        let view = store.clone();
        append(&mut store, &key("a"), &typing(&Doc::new(), 2));
        assert_eq!(view.clone().log_len(&key("a")).unwrap(), 2);
    }
}
