//! A room over a stalled store: the real [`Room`] and [`Persister`] on a
//! [`MemoryStore`] whose appends wait at a gate, as behind a stalled fsync.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use tokio::sync::{mpsc, watch};
use tokio_util::task::TaskTracker;
use yrs::{Doc, Text, Transact};

use super::peer::PeerLink;
use super::room::{Room, RoomServices};
use crate::access::Role;
use crate::protocol::{self, Incoming};
use crate::store::memory_store::MemoryStore;
use crate::store::memory_store::testing::soon;
use crate::store::persist::Persister;
use crate::store::{RoomKey, Store};

/// Far below production's, so a few updates fill it.
const CAPACITY: usize = 4;
const UPDATES: usize = 40;

fn frames() -> (Vec<Vec<u8>>, Vec<Bytes>) {
    let doc = Doc::with_client_id(7);
    let text = doc.get_or_insert_text("t");
    let updates: Vec<Vec<u8>> = (0..UPDATES)
        .map(|i| {
            let mut txn = doc.transact_mut();
            text.insert(&mut txn, i as u32, "x");
            txn.encode_update_v1()
        })
        .collect();
    let frames = updates.iter().map(|u| protocol::encode_update(u)).collect();
    (updates, frames)
}

async fn send(room: &Room, peer: u64, frame: &Bytes) {
    let messages = protocol::decode_frame(frame, 1 << 20).unwrap();
    room.handle(peer, frame, messages).await.unwrap();
}

#[tokio::test]
async fn a_stalled_store_pushes_back_on_writers_and_delivers_everything_once_released() {
    let store = MemoryStore::new();
    let (persister, worker) = Persister::start_bounded(store.clone(), CAPACITY).unwrap();
    let key = RoomKey::new("e", "stall");
    let services = RoomServices {
        persister: persister.clone(),
        changes: watch::Sender::new(0),
        tasks: TaskTracker::new(),
    };
    let room = Room::load(key.clone(), services, 1 << 20, |_| false)
        .await
        .unwrap();
    let (writer_tx, _writer_rx) = mpsc::channel(1024);
    room.join(1, writer_tx, PeerLink::new(1 << 20), Role::Participant)
        .unwrap();
    let (reader_tx, mut reader) = mpsc::channel(1024);
    room.join(2, reader_tx, PeerLink::new(1 << 20), Role::Participant)
        .unwrap();
    while reader.try_recv().is_ok() {} // the opening messages

    store.hold_appends();
    let (updates, frames) = frames();
    send(&room, 1, &frames[0]).await;
    // The worker took the first update and waits in the stalled append.
    soon("an append at the gate", async {
        store.append_held().await;
        Some(())
    })
    .await;

    let progress = Arc::new(AtomicUsize::new(0));
    let writer = tokio::spawn({
        let (room, frames, progress) = (room.clone(), frames.clone(), progress.clone());
        async move {
            for frame in &frames[1..] {
                send(&room, 1, frame).await;
                progress.fetch_add(1, Ordering::SeqCst);
            }
        }
    });
    soon("the persistence queue to fill", async {
        while persister.queued() < CAPACITY {
            tokio::task::yield_now().await;
        }
        Some(())
    })
    .await;
    // Pushed back: the writer waits for a place; the queue does not grow.
    for _ in 0..100 {
        tokio::task::yield_now().await;
    }
    assert!(!writer.is_finished());
    assert_eq!(progress.load(Ordering::SeqCst), CAPACITY);
    assert_eq!(persister.queued(), CAPACITY);
    let waiting: usize = updates[..=CAPACITY].iter().map(Vec::len).sum();
    assert_eq!(room.inspect(|t| t.unflushed_bytes()), waiting);
    assert!(
        reader.try_recv().is_err(),
        "nothing is sent before it is durable"
    );

    store.release_appends();
    soon("the writer", async { writer.await.ok() }).await;
    let mut received = Vec::new();
    while received.len() < UPDATES {
        let bytes = soon("a delivery", reader.recv()).await;
        if let [Incoming::Update(_)] = &protocol::decode_frame(&bytes, 1 << 20).unwrap()[..] {
            received.push(bytes);
        }
    }
    assert_eq!(received, frames, "everything, in order");
    assert_eq!(store.clone().load(&key).unwrap().updates, updates);
    assert_eq!(room.inspect(|t| t.unflushed_bytes()), 0);
    persister.stop().await;
    drop((room, persister));
    tokio::task::spawn_blocking(move || worker.join())
        .await
        .unwrap();
}
