//! Where the server's CPU goes per note insert (`bench/run.sh note-insert`):
//! each piece of a room's path for one client update, timed on its own, on
//! updates of the size the board's "add a note" sends (~330 B: a `Y.Map`
//! with a nested `Y.Text` and eight values), applied to a table that already
//! holds `NOTES` notes of ten writers, as a hot room does a few seconds in.
//!
//! `cargo bench -p werktafel-server --bench note_insert` (pin it: `taskset -c 1`).
//! Prints the median of 15 rounds per piece, in ns of the thread's CPU time per update.

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use bytes::Bytes;
use werktafel_server::protocol;
use werktafel_server::screen::{self, Clocks, Depths};
use werktafel_shared::control::SERVER_ONLY;
use werktafel_shared::schema::{self, Lane, NoteColor, NoteDraft};
use yrs::updates::decoder::Decode;
use yrs::{DeepObservable, Doc, Origin, ReadTxn, StateVector, Transact, Update, WriteTxn};

/// The product's allocator (`main.rs`); without these two lines the bench
/// measures glibc's malloc.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const ROUNDS: usize = 15;
/// Notes in the table before the measured ones.
const NOTES: usize = 20_000;
/// Updates per timed pass.
const BATCH: usize = 2_000;
const WRITERS: u64 = 10;

fn main() {
    let writers: Vec<Doc> = (0..WRITERS)
        .map(|w| Doc::with_client_id(1_000 + w))
        .collect();
    // Every writer's notes, one update each, in the order the room gets them.
    let mut n = 0usize;
    let mut next = |round: usize| -> Vec<Bytes> {
        (0..round)
            .map(|i| {
                let doc = &writers[i % writers.len()];
                n += 1;
                Bytes::from(note(doc, n))
            })
            .collect()
    };
    let seed = next(NOTES);
    let passes: Vec<Vec<Bytes>> = (0..ROUNDS + 1).map(|_| next(BATCH)).collect();

    // The room's document with the seed applied and the guard's observers.
    let room = Doc::new();
    let tripped = Arc::new(AtomicBool::new(false));
    for name in SERVER_ONLY {
        let tripped = tripped.clone();
        room.get_or_insert_map(name)
            .observe_deep("guard", move |txn, _| {
                if txn.origin().is_some() {
                    tripped.store(true, Ordering::Release);
                }
            });
    }
    for u in &seed {
        apply(&room, u);
    }
    let mut clocks = Clocks::of(&room);
    let mut depths = Depths::rebuild(seed.iter().map(|u| u.as_ref()));
    println!(
        "note insert: {} B update, {} B framed, table of {NOTES} notes",
        passes[0][0].len(),
        protocol::encode_update(&passes[0][0]).len()
    );

    // The read-only pieces, on the first pass (each check passes: the room
    // has everything up to these updates' clocks once the pass before is in).
    let first = &passes[0];
    let frames: Vec<Bytes> = first.iter().map(|u| protocol::encode_update(u)).collect();
    let decode_frame = time(&frames, |f| {
        black_box(protocol::decode_frame(f, 1 << 20).is_ok());
    });
    let scan = time(first, |u| {
        black_box(screen::scan(u).is_ok());
    });
    let scanned: Vec<_> = first.iter().map(|u| screen::scan(u).unwrap()).collect();
    let check = time_idx(first.len(), |i| {
        black_box(clocks.check(&scanned[i].items).is_ok());
    });
    let place = time_idx(first.len(), |i| {
        black_box(depths.place(&scanned[i], &clocks).is_ok());
    });
    let decode = time(first, |u| {
        black_box(Update::decode_v1(u).is_ok());
    });
    let encode = time(first, |u| {
        black_box(protocol::encode_update(u));
    });

    // The writing pieces, one fresh pass per round, in the room's order.
    let mut apply_ns = Vec::new();
    let mut missing_ns = Vec::new();
    let mut advance_ns = Vec::new();
    for pass in &passes {
        let decoded: Vec<Update> = pass.iter().map(|u| Update::decode_v1(u).unwrap()).collect();
        let scans: Vec<_> = pass.iter().map(|u| screen::scan(u).unwrap()).collect();
        let placements: Vec<_> = scans
            .iter()
            .map(|s| depths.place(s, &clocks).unwrap())
            .collect();
        let start = Instant::now();
        for u in decoded {
            room.transact_mut_with(Origin::from(7u64))
                .apply_update(u)
                .unwrap();
        }
        apply_ns.push(per(start, pass.len()));
        let start = Instant::now();
        for _ in pass {
            black_box(room.transact().has_missing_updates());
        }
        missing_ns.push(per(start, pass.len()));
        let start = Instant::now();
        for (s, p) in scans.iter().zip(placements) {
            depths.commit(p);
            clocks.advance(&s.items);
        }
        advance_ns.push(per(start, pass.len()));
    }
    let apply = median(apply_ns);
    let missing = median(missing_ns);
    let advance = median(advance_ns);

    let rows = [
        ("decode_frame (protocol)", decode_frame),
        ("screen::scan", scan),
        ("Clocks::check", check),
        ("Depths::place", place),
        ("Update::decode_v1", decode),
        ("apply_update (yrs, guard observers)", apply),
        ("has_missing_updates (new txn)", missing),
        ("Depths::commit + Clocks::advance", advance),
        ("encode_update (frame for peers)", encode),
    ];
    let total: f64 = rows.iter().map(|r| r.1).sum();
    for (name, ns) in rows {
        println!("{name:<38} {ns:>8.0} ns  {:>5.1} %", 100.0 * ns / total);
    }
    println!("{:<38} {total:>8.0} ns", "sum");
    assert!(
        !tripped.load(Ordering::Acquire),
        "no note touches a server-only map"
    );
}

/// One new note by `doc`, as `schema::insert_note` writes it; its update.
fn note(doc: &Doc, n: usize) -> Vec<u8> {
    let mut txn = doc.transact_mut();
    let id = format!("note{n:012}");
    schema::insert_note(
        &mut txn,
        &NoteDraft {
            id,
            text: "Wie beheert straks de openbare ruimte in de wijk, en wie betaalt het onderhoud van de speelplekken en het groen?".into(),
            lane: Lane::ALL[n % 3],
            color: NoteColor::ALL[n % 6],
            x: (n % 400) as f64,
            y: (n % 2000) as f64,
            author: format!("Deelnemer {}", n % 10),
            author_id: format!("schrijver-{:06}", n % 10),
            now_ms: 1_700_000_000_000 + n as i64,
        },
    );
    let _ = txn.get_or_insert_map(schema::NOTES);
    txn.encode_update_v1()
}

fn apply(doc: &Doc, update: &[u8]) {
    doc.transact_mut()
        .apply_update(Update::decode_v1(update).unwrap())
        .unwrap();
    let _ = doc.transact().state_vector() == StateVector::default();
}

/// The thread's CPU clock, not the wall clock: on a shared machine a pass is
/// preempted, and the wall clock would count the other processes' time.
#[derive(Clone, Copy)]
struct Instant(f64);

impl Instant {
    fn now() -> Instant {
        let t = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
        Instant(t.tv_sec as f64 * 1e9 + t.tv_nsec as f64)
    }
}

fn per(start: Instant, n: usize) -> f64 {
    (Instant::now().0 - start.0) / n as f64
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Median over [`ROUNDS`] of the mean time per update of one pass.
fn time(updates: &[Bytes], mut f: impl FnMut(&Bytes)) -> f64 {
    updates.iter().for_each(&mut f);
    median(
        (0..ROUNDS)
            .map(|_| {
                let start = Instant::now();
                updates.iter().for_each(&mut f);
                per(start, updates.len())
            })
            .collect(),
    )
}

fn time_idx(n: usize, mut f: impl FnMut(usize)) -> f64 {
    (0..n).for_each(&mut f);
    median(
        (0..ROUNDS)
            .map(|_| {
                let start = Instant::now();
                (0..n).for_each(&mut f);
                per(start, n)
            })
            .collect(),
    )
}
