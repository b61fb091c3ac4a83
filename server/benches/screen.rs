//! What screening a client's update costs (`werktafel_server::screen`), next
//! to the decode the room did before it: a keystroke-sized update, as the
//! hot path sees thousands per second, and a whole table's sync step 2.
//!
//! `cargo bench -p werktafel-server --bench screen` (pin it: `taskset -c 1`).
//! Prints the median of 15 rounds per case, in ns per update.

use std::hint::black_box;
use std::time::Instant;

use bytes::Bytes;
use werktafel_server::screen::{self, Clocks, Depths};
use yrs::updates::decoder::Decode;
use yrs::{Doc, ReadTxn, StateVector, Text, Transact, Update};

const ROUNDS: usize = 15;

fn main() {
    // 2,000 keystrokes of one writer typing at the front of a note, each
    // its own update (~16 bytes), as the generator and the browsers send them.
    let doc = Doc::with_client_id(12_345_678);
    let text = doc.get_or_insert_text("note");
    text.insert(&mut doc.transact_mut(), 0, &"x".repeat(100));
    let keystrokes: Vec<Bytes> = (0..2_000)
        .map(|_| {
            let mut txn = doc.transact_mut();
            text.insert(&mut txn, 0, "a");
            Bytes::from(txn.encode_update_v1())
        })
        .collect();
    // The same table's whole state: what a reconnecting client's sync step 2
    // looks like when it carries everything.
    let whole = [Bytes::from(
        doc.transact()
            .encode_state_as_update_v1(&StateVector::default()),
    )];
    // The room has everything up to the writer's last keystroke (as it
    // would, having applied them in order), so every check passes.
    let clocks = Clocks::of(&doc);
    // The depths of the writer's note as the room would know them.
    let depths = Depths::rebuild([whole[0].as_ref()]);

    for (name, updates) in [("keystroke", &keystrokes[..]), ("whole table", &whole[..])] {
        let bytes = updates[0].len();
        // At least 2,000 updates a pass, so one pass is long enough to time.
        let updates: Vec<Bytes> = updates.iter().cycle().take(2_000).cloned().collect();
        let updates = &updates;
        let screened = median(updates, |u| {
            let scan = screen::scan(u).expect("well formed");
            black_box(clocks.check(&scan.items).is_ok());
            black_box(depths.place(&scan, &clocks).is_ok());
            black_box(Update::decode_v1(u).is_ok());
        });
        let decode = median(updates, |u| {
            black_box(Update::decode_v1(u).is_ok());
        });
        println!(
            "{name:<12} {bytes:>6} B  decode {decode:>8.0} ns  screen+decode {screened:>8.0} ns  (+{:.0} ns, {:.2}x)",
            screened - decode,
            screened / decode
        );
    }
}

/// Median over [`ROUNDS`] of the mean time per update of one pass.
fn median(updates: &[Bytes], mut f: impl FnMut(&Bytes)) -> f64 {
    // One pass untimed: the first one pays for growing the heap.
    updates.iter().for_each(&mut f);
    let mut rounds: Vec<f64> = (0..ROUNDS)
        .map(|_| {
            let start = Instant::now();
            for update in updates {
                f(update);
            }
            start.elapsed().as_nanos() as f64 / updates.len() as f64
        })
        .collect();
    rounds.sort_by(f64::total_cmp);
    rounds[ROUNDS / 2]
}
