//! The table's rules as unit tests: a fake clock (instants made from one
//! start), no runtime, no threads; every assertion is on the commands the
//! table returns or on its state. (Over 400 lines for a reason: one test
//! per rule of the core, kept in one list so the rules read together.)

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use werktafel_shared::control::{Control, read_control_in, write_control};
use yrs::sync::awareness::{AwarenessUpdate, AwarenessUpdateEntry};
use yrs::updates::decoder::Decode;
use yrs::{ClientID, Doc, GetString, ReadTxn, StateVector, Text, Transact, Update};

use super::core::{Command, Commands, Event, Loaded, Table, To};
use super::policy::RELOAD_INTERVAL;
use super::presence::{AWARENESS_TIMEOUT, PeerId};
use super::reason::{Reason, Refusal};
use super::reload::Rebuilt;
use crate::access::Role;
use crate::protocol::{self, Incoming};
use crate::screen::Depths;
use crate::store::RoomKey;

const A: PeerId = 1;
const B: PeerId = 2;
const VIEWER: PeerId = 3;

/// A fresh table at `t0` with participants A and B and a viewer, and the
/// commands of their joins dropped.
fn table(t0: Instant) -> Table {
    let loaded = Loaded {
        doc: Doc::new(),
        depths: Depths::rebuild(std::iter::empty()),
        stored_bytes: 0,
        written: None,
    };
    let mut out = Commands::new();
    let mut table = Table::new(RoomKey::new("e", "t"), loaded, 1 << 20, t0, &mut out);
    for (peer, role) in [
        (A, Role::Participant),
        (B, Role::Participant),
        (VIEWER, Role::Viewer),
    ] {
        table.handle(Event::Join { peer, role }, t0, &mut out);
    }
    table
}

fn frame(table: &mut Table, peer: PeerId, bytes: Bytes, now: Instant) -> Commands {
    let messages = protocol::decode_frame(&bytes, 1 << 20).expect("a well-formed frame");
    let mut out = Commands::new();
    table.handle(
        Event::Frame {
            peer,
            frame: &bytes,
            messages,
        },
        now,
        &mut out,
    );
    out
}

fn event(table: &mut Table, event: Event<'_>, now: Instant) -> Commands {
    let mut out = Commands::new();
    table.handle(event, now, &mut out);
    out
}

/// `n` updates of one client, each typing one more letter.
fn typing(n: usize) -> Vec<Vec<u8>> {
    let doc = Doc::with_client_id(42);
    let text = doc.get_or_insert_text("t");
    (0..n)
        .map(|i| {
            let mut txn = doc.transact_mut();
            text.insert(&mut txn, i as u32, "x");
            txn.encode_update_v1()
        })
        .collect()
}

fn persisted(out: &Commands) -> Vec<u64> {
    out.iter()
        .filter_map(|c| match c {
            Command::Persist { seq, .. } => Some(*seq),
            _ => None,
        })
        .collect()
}

fn sent(out: &Commands) -> Vec<(To, Bytes)> {
    out.iter()
        .filter_map(|c| match c {
            Command::Send { to, bytes } => Some((*to, bytes.clone())),
            _ => None,
        })
        .collect()
}

fn closed(out: &Commands) -> Option<(PeerId, Reason)> {
    out.iter().find_map(|c| match c {
        Command::Close { peer, reason } => Some((*peer, reason.clone())),
        _ => None,
    })
}

#[test]
fn deliveries_wait_until_durable_and_leave_in_order() {
    let t0 = Instant::now();
    let mut t = table(t0);
    let updates = typing(3);
    let frames: Vec<Bytes> = updates.iter().map(|u| protocol::encode_update(u)).collect();
    for (i, f) in frames.iter().enumerate() {
        let out = frame(&mut t, A, f.clone(), t0);
        assert_eq!(persisted(&out), [i as u64 + 1]);
        assert!(
            sent(&out).is_empty(),
            "nothing is sent before it is durable: {out:?}"
        );
    }
    // A fresh joiner's answer waits behind them too.
    let out = frame(
        &mut t,
        B,
        protocol::encode_sync_step1(&StateVector::default()),
        t0,
    );
    assert!(sent(&out).is_empty());

    let out = event(&mut t, Event::Durable { seq: 1 }, t0);
    assert_eq!(
        out.first(),
        Some(&Command::Changed),
        "the version moves first"
    );
    assert_eq!(
        sent(&out),
        [(To::All { except: Some(A) }, frames[0].clone())]
    );
    let out = event(&mut t, Event::Durable { seq: 3 }, t0);
    let got = sent(&out);
    assert_eq!(
        got[..2],
        [
            (To::All { except: Some(A) }, frames[1].clone()),
            (To::All { except: Some(A) }, frames[2].clone())
        ]
    );
    assert_eq!(got.len(), 3, "then the step 2 held for B: {got:?}");
    assert_eq!(got[2].0, To::One(B));
    assert_eq!(t.held_bytes(), 0);
    assert_eq!(t.unflushed_bytes(), 0);
}

#[test]
fn a_single_update_frame_goes_out_as_the_same_bytes() {
    let t0 = Instant::now();
    let mut t = table(t0);
    let f = protocol::encode_update(&typing(1)[0]);
    frame(&mut t, A, f.clone(), t0);
    let out = event(&mut t, Event::Durable { seq: 1 }, t0);
    let (_, bytes) = &sent(&out)[0];
    assert_eq!(
        bytes.as_ptr(),
        f.as_ptr(),
        "forwarded, not copied or encoded again"
    );
}

#[test]
fn a_viewers_garbage_is_refused_for_who_sent_it_not_for_what_it_is() {
    let t0 = Instant::now();
    let mut t = table(t0);
    let garbage = Bytes::from_static(&[0, 2, 6, 0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0xfa]);
    let out = frame(&mut t, VIEWER, garbage.clone(), t0);
    assert!(
        matches!(
            closed(&out),
            Some((VIEWER, Reason::Refused(Refusal::Forbidden(_))))
        ),
        "{out:?}"
    );
    assert!(persisted(&out).is_empty());
    // The same bytes from a participant pass the policy and fail the screen.
    let out = frame(&mut t, A, garbage, t0);
    assert!(
        matches!(
            closed(&out),
            Some((A, Reason::Refused(Refusal::InvalidUpdate(_))))
        ),
        "{out:?}"
    );
}

#[test]
fn a_locked_table_holds_back_writes_unread_and_asks_for_them_when_it_opens() {
    let t0 = Instant::now();
    let mut t = table(t0);
    let set_locked = |t: &mut Table, locked: bool| {
        let mut out = Commands::new();
        t.write_as_server(
            |txn| {
                let current = read_control_in(txn);
                let next = Control {
                    locked,
                    ..current.clone()
                };
                write_control(txn, &current, &next);
            },
            &mut out,
        );
        out
    };
    set_locked(&mut t, true);
    let garbage = Bytes::from_static(&[0, 2, 4, 0xff, 0xfe, 0xfd, 0xfc]);
    let out = frame(&mut t, A, garbage, t0);
    assert!(out.is_empty(), "held back before a byte is read: {out:?}");
    let out = set_locked(&mut t, false);
    let step1 = protocol::encode_sync_step1(&t.doc().transact().state_vector());
    assert!(
        sent(&out)
            .iter()
            .any(|(to, b)| *to == To::All { except: None } && *b == step1),
        "every peer is asked for what the server lacks: {out:?}"
    );
}

#[test]
fn a_resync_sends_what_the_peer_lacks_beyond_what_it_declared() {
    let t0 = Instant::now();
    let mut t = table(t0);
    let updates = typing(2);
    frame(&mut t, A, protocol::encode_update(&updates[0]), t0);
    event(&mut t, Event::Durable { seq: 1 }, t0);
    let sv = t.doc().transact().state_vector();
    frame(&mut t, B, protocol::encode_sync_step1(&sv), t0);
    frame(&mut t, A, protocol::encode_update(&updates[1]), t0);
    event(&mut t, Event::Durable { seq: 2 }, t0);

    let out = event(&mut t, Event::Resync { peer: B }, t0);
    let got = sent(&out);
    assert_eq!(got[0].0, To::One(B));
    let Ok(messages) = protocol::decode_frame(&got[0].1, 1 << 20) else {
        panic!("a valid frame");
    };
    let [Incoming::Update(diff)] = &messages[..] else {
        panic!("one update: {messages:?}");
    };
    let client = Doc::new();
    let mut txn = client.transact_mut();
    txn.apply_update(Update::decode_v1(&updates[0]).unwrap())
        .unwrap();
    txn.apply_update(Update::decode_v1(diff).unwrap()).unwrap();
    let text = txn.get_text("t").unwrap().get_string(&txn);
    assert_eq!(text, "xx", "the diff brings the second letter");
}

fn awareness(clients: &[u64]) -> Bytes {
    let clients: HashMap<ClientID, AwarenessUpdateEntry> = clients
        .iter()
        .map(|id| {
            let entry = AwarenessUpdateEntry {
                clock: 1,
                json: Arc::from(r#"{"user":{"name":"An"}}"#),
            };
            (ClientID::new(*id), entry)
        })
        .collect();
    protocol::encode_awareness(&AwarenessUpdate { clients })
}

#[test]
fn presence_goes_out_per_tick_and_expires_on_the_given_clock() {
    let t0 = Instant::now();
    let mut t = table(t0);
    let out = frame(&mut t, A, awareness(&[10]), t0);
    assert!(out.is_empty(), "gathered until the tick: {out:?}");
    let out = event(&mut t, Event::Tick, t0);
    assert_eq!(sent(&out).len(), 1);
    assert!(event(&mut t, Event::Tick, t0).is_empty(), "once per change");

    let later = t0 + AWARENESS_TIMEOUT;
    assert!(
        event(&mut t, Event::Tick, later).is_empty(),
        "not yet expired"
    );
    let out = event(&mut t, Event::Tick, later + Duration::from_millis(1));
    assert_eq!(sent(&out).len(), 1, "the removal goes to every peer");
    assert_eq!(
        t.awareness()
            .iter()
            .filter(|(_, s)| s.data.is_some())
            .count(),
        0
    );
}

#[test]
fn a_peer_speaks_for_its_own_presence_only_and_it_leaves_with_it() {
    let t0 = Instant::now();
    let mut t = table(t0);
    frame(&mut t, A, awareness(&[10]), t0);
    // B cannot speak for A's id; its own goes through.
    frame(&mut t, B, awareness(&[10, 20]), t0);
    event(&mut t, Event::Tick, t0);
    let out = frame(&mut t, B, awareness(&[21, 22, 23, 24]), t0);
    assert!(
        matches!(
            closed(&out),
            Some((B, Reason::Refused(Refusal::Forbidden(_))))
        ),
        "a fifth id: {out:?}"
    );
    let out = event(
        &mut t,
        Event::Leave { peer: A },
        t0 + Duration::from_secs(1),
    );
    assert_eq!(out.first(), Some(&Command::Changed));
    assert_eq!(sent(&out).len(), 1, "A's presence goes with it");
    let live: Vec<u64> = t
        .awareness()
        .iter()
        .filter(|(_, s)| s.data.is_some())
        .map(|(id, _)| id.get())
        .collect();
    assert_eq!(live, [20]);
    // A viewer's presence never reaches the table.
    frame(&mut t, VIEWER, awareness(&[30]), t0);
    assert!(event(&mut t, Event::Tick, t0).is_empty());
}

/// Two strings of client 777, each next to the other: the screen cannot
/// tell where they hang, so only applying it could (a reload undoes it).
fn a_cycle() -> Bytes {
    let client = [0x89, 0x06];
    let mut update = vec![1, 2];
    update.extend(client);
    update.push(0);
    for (origin, text) in [(1, b'a'), (0, b'b')] {
        update.push(0x84);
        update.extend(client);
        update.extend([origin, 1, text]);
    }
    update.push(0);
    protocol::encode_update(&update)
}

#[test]
fn a_reload_holds_what_arrives_meanwhile_and_is_limited_by_the_clock() {
    let t0 = Instant::now();
    let mut t = table(t0);
    let out = frame(&mut t, A, a_cycle(), t0);
    assert!(out.contains(&Command::Reload), "{out:?}");
    assert!(matches!(
        closed(&out),
        Some((A, Reason::Refused(Refusal::InvalidUpdate(_))))
    ));

    // While it reloads, B's write waits unstored and its step 1 unanswered.
    let update = typing(1).remove(0);
    let out = frame(&mut t, B, protocol::encode_update(&update), t0);
    assert!(
        persisted(&out).is_empty() && sent(&out).is_empty(),
        "{out:?}"
    );
    frame(
        &mut t,
        B,
        protocol::encode_sync_step1(&StateVector::default()),
        t0,
    );
    assert_eq!(t.backlogged_updates(), 1);

    let rebuilt = Rebuilt::from_stored(&RoomKey::new("e", "t"), &[]).unwrap();
    let out = event(&mut t, Event::Reloaded(Ok(rebuilt)), t0);
    assert!(
        matches!(
            &out[0],
            Command::Send {
                to: To::All { except: None },
                ..
            }
        ),
        "step 1 to all: {out:?}"
    );
    assert_eq!(persisted(&out), [1], "the waiting write is stored now");
    assert_eq!(t.backlogged_updates(), 0);

    // Another undecidable update within RELOAD_INTERVAL is refused unapplied.
    let soon = t0 + RELOAD_INTERVAL / 2;
    let out = frame(&mut t, B, a_cycle(), soon);
    assert!(!out.contains(&Command::Reload));
    assert!(
        matches!(
            closed(&out),
            Some((B, Reason::Refused(Refusal::Forbidden(_))))
        ),
        "{out:?}"
    );
    let out = frame(&mut t, A, a_cycle(), t0 + RELOAD_INTERVAL);
    assert!(
        out.contains(&Command::Reload),
        "allowed again after the interval: {out:?}"
    );
}

#[test]
fn a_failed_reload_or_commit_closes_the_table() {
    let t0 = Instant::now();
    let mut t = table(t0);
    frame(&mut t, A, a_cycle(), t0);
    let out = event(
        &mut t,
        Event::Reloaded(Err(crate::store::StoreError::Stopped)),
        t0,
    );
    assert!(
        matches!(&out[..], [Command::CloseAll(Reason::Internal(_))]),
        "{out:?}"
    );
    assert!(t.is_evicted());

    let mut t = table(t0);
    frame(&mut t, A, protocol::encode_update(&typing(1)[0]), t0);
    let out = event(&mut t, Event::Failed, t0);
    assert!(matches!(&out[..], [Command::CloseAll(Reason::Internal(_))]));
    assert_eq!(t.held_bytes(), 0, "nothing held will ever be durable");
}

#[test]
fn a_commit_the_store_could_not_take_closes_the_table_to_be_retried() {
    let t0 = Instant::now();
    let mut t = table(t0);
    frame(&mut t, A, protocol::encode_update(&typing(1)[0]), t0);
    let out = event(&mut t, Event::Unreachable, t0);
    assert_eq!(out, vec![Command::CloseAll(Reason::Unavailable)]);
    assert!(t.is_evicted());
    assert_eq!(t.held_bytes(), 0, "nothing held is delivered");
}

#[test]
fn an_idle_table_is_evicted_only_after_the_grace_and_once_settled() {
    let t0 = Instant::now();
    let mut t = table(t0);
    let grace = Duration::from_secs(60);
    frame(&mut t, A, protocol::encode_update(&typing(1)[0]), t0);
    for peer in [A, B, VIEWER] {
        event(&mut t, Event::Leave { peer }, t0);
    }
    assert!(
        !t.try_evict(grace, t0 + grace),
        "an update waits for storage"
    );
    event(&mut t, Event::Durable { seq: 1 }, t0);
    assert!(!t.try_evict(grace, t0 + grace / 2));
    assert!(t.try_evict(grace, t0 + grace));
    let out = event(
        &mut t,
        Event::Join {
            peer: 9,
            role: Role::Participant,
        },
        t0 + grace,
    );
    assert!(out.is_empty(), "an evicted table takes no joins");
}

/// The core and its parts do no I/O and read no clock: only the adapters
/// (`room.rs`, `execute.rs`, `peer.rs`, `rooms.rs`) may. Checked on the
/// source, outside comments and tests.
#[test]
fn the_core_has_no_runtime_no_threads_and_no_clock() {
    const CORE: [&str; 10] = [
        "core.rs",
        "events.rs",
        "apply.rs",
        "reload.rs",
        "policy.rs",
        "durability.rs",
        "outbox.rs",
        "presence.rs",
        "cache.rs",
        "reason.rs",
    ];
    const FORBIDDEN: [&str; 6] = [
        "tokio",
        "std::thread",
        "Instant::now",
        "SystemTime",
        "std::net",
        "std::fs",
    ];
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/table");
    for file in CORE {
        let source = std::fs::read_to_string(dir.join(file)).unwrap();
        let code = source.split("#[cfg(test)]").next().unwrap_or_default();
        for (n, line) in code.lines().enumerate() {
            let line = line.split("//").next().unwrap_or_default();
            for word in FORBIDDEN {
                assert!(
                    !line.contains(word),
                    "table/{file}:{}: `{word}` in the core",
                    n + 1
                );
            }
        }
    }
}
