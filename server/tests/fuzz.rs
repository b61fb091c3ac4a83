//! Hostile input through the real room, in every `cargo test`: the fuzzer's
//! committed corpus replayed, the seed conversations, and a few thousand
//! seeded mutations of valid messages. See `docs/fuzzing.md`.

use std::path::{Path, PathBuf};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use werktafel_server::fuzzing::{
    Harness, PEERS, RECONNECT, RESYNC, SETTLE, Step, encode_steps, seed_inputs, seed_messages,
};

/// Where `cargo fuzz` keeps the corpus of the `sync_bytes` target.
fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/sync_bytes")
}

/// Runs one input on a fresh room; a violation fails with the input in hex,
/// ready to paste into a regression test.
fn run(harness: &mut Harness, name: &str, input: &[u8]) -> werktafel_server::fuzzing::Outcome {
    harness.reset();
    harness.feed(input).unwrap_or_else(|violation| {
        panic!(
            "{name}: {violation}\ninput ({} bytes): {}",
            input.len(),
            hex(input)
        )
    })
}

#[test]
fn seed_conversations_keep_the_invariants() {
    let mut harness = Harness::new();
    for (name, input) in seed_inputs() {
        let outcome = run(&mut harness, name, &input);
        assert!(outcome.frames > 0, "{name}: no frames");
    }
}

#[test]
fn the_fuzz_corpus_replays_clean() {
    replay(&corpus_dir(), 20);
}

/// Inputs the optimised fuzzer accepted that panic inside yrs's decoders in
/// builds with debug assertions (client ids of 2^53 and more, clock and
/// varint overflows), from `Room::apply_update` and `protocol::decode_frame`
/// alike. Fixed: both decode under `catch_unwind` and refuse (1002/1007).
#[test]
fn fuzz_regressions_do_not_panic() {
    replay(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/regressions/sync_bytes"),
        1,
    );
}

fn replay(dir: &Path, at_least: usize) {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading the corpus at {}: {e}", dir.display()))
        .map(|entry| entry.expect("a corpus entry").path())
        .collect();
    files.sort();
    assert!(
        files.len() >= at_least,
        "only {} inputs in {}; the corpus is committed with the fuzz target",
        files.len(),
        dir.display()
    );
    let mut harness = Harness::new();
    for file in &files {
        let input = std::fs::read(file).expect("reading a corpus file");
        run(&mut harness, &file.display().to_string(), &input);
    }
}

/// Bit flips, truncations, length changes and splices of valid messages,
/// several to a room, from a fixed seed so a failure reproduces.
#[test]
fn mutated_messages_keep_the_invariants() {
    const CASES: usize = 20_000;
    const STEPS_PER_ROOM: usize = 8;
    let messages = seed_messages();
    let mut rng = StdRng::seed_from_u64(0x5eed_f022);
    let mut harness = Harness::new();
    let (mut accepted, mut refused) = (0, 0);
    for room in 0..CASES / STEPS_PER_ROOM {
        let steps: Vec<Step> = (0..STEPS_PER_ROOM)
            .map(|_| {
                let frame = mutate(&mut rng, &messages);
                let flags = [0, 0, 0, SETTLE, RECONNECT, RESYNC][rng.random_range(0..6)];
                Step::new(rng.random_range(0..PEERS as u8), frame).with(flags)
            })
            .collect();
        let outcome = run(&mut harness, &format!("room {room}"), &encode_steps(&steps));
        accepted += outcome.accepted;
        refused += outcome.refused + outcome.undecodable;
    }
    // Both halves of the path were exercised, not only the decoder's refusals.
    assert!(accepted > CASES / 10, "only {accepted} frames accepted");
    assert!(refused > CASES / 10, "only {refused} frames refused");
}

fn mutate(rng: &mut StdRng, messages: &[Vec<u8>]) -> Vec<u8> {
    let mut frame = messages[rng.random_range(0..messages.len())].clone();
    let rounds = rng.random_range(0..3);
    for _ in 0..rounds {
        if frame.is_empty() {
            break;
        }
        match rng.random_range(0..6) {
            // Flip one bit.
            0 => {
                let i = rng.random_range(0..frame.len());
                frame[i] ^= 1 << rng.random_range(0..8);
            }
            // Cut the end off.
            1 => frame.truncate(rng.random_range(0..frame.len())),
            // Make a length or varint claim more or less than there is.
            2 => {
                let i = rng.random_range(0..frame.len());
                frame[i] = [0x00, 0x01, 0x7f, 0x80, 0xff][rng.random_range(0..5)];
            }
            // Splice in the tail of another message.
            3 => {
                let other = &messages[rng.random_range(0..messages.len())];
                let at = rng.random_range(0..frame.len());
                let from = rng.random_range(0..other.len());
                frame.truncate(at);
                frame.extend_from_slice(&other[from..]);
            }
            // Duplicate a run of bytes.
            4 => {
                let at = rng.random_range(0..frame.len());
                let len = rng.random_range(0..(frame.len() - at).min(16));
                let run = frame[at..at + len].to_vec();
                frame.splice(at..at, run);
            }
            // Leave it as it is: valid messages in odd orders matter too.
            _ => {}
        }
    }
    frame
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Found by the fuzzer (finding 3): yrs merges pending updates into
/// `encode_state_as_update_v1` and can change their meaning, so a peer's
/// sync step 2 carried items the server only held as pending. Fixed: an update that leaves the document waiting for missing
/// updates is undone and refused, so nothing pending is ever encoded.
#[test]
fn pending_update_keeps_its_meaning_in_sync_step2() {
    let update = |u: &[u8]| werktafel_server::protocol::encode_update(u).to_vec();
    let steps = [
        // Client 303's second keystroke, before its first: pending.
        Step::new(0, update(&[1, 1, 175, 2, 1, 132, 175, 2, 0, 1, 120, 0])),
        // 120 deleted items from 303#1 on, under a parent (0#1) nobody has: pending.
        Step::new(0, update(&[1, 1, 175, 2, 1, 1, 175, 2, 0, 1, 120, 0])),
        // The first keystroke: 303#0 and 303#1 integrate, 303#2.. stays pending.
        Step::new(
            0,
            update(&[
                1, 1, 175, 2, 0, 4, 1, 7, 115, 99, 114, 97, 116, 99, 104, 1, 120, 0,
            ]),
        ),
        // A peer syncing now gets 303#2..121 as if they were integrated.
        Step::new(
            1,
            werktafel_server::protocol::encode_sync_step1(&Default::default()).to_vec(),
        ),
    ];
    let mut harness = Harness::new();
    if let Err(violation) = harness.feed(&encode_steps(&steps)) {
        panic!("{violation}");
    }
}

/// Found by the fuzzer: a delete set whose clock plus length overflows
/// `u32`. yrs 0.28 panics decoding it when overflow checks are on (debug
/// builds, `cargo fuzz` by default) and wraps silently in release builds;
/// the panic comes from `Update::decode_v1` in `Room::apply_update`, outside
/// the room's `catch_unwind`, so it unwound out of `Room::handle`. Fixed:
/// the decode runs under the catch and the update is refused (1007).
#[test]
fn an_overflowing_delete_set_is_refused_not_panicked_on() {
    let frame = [
        0, 2, 40, 0, 43, 0, 0, 2, 40, 1, 2, 202, 1, 0, 132, 41, 101, 15, 8, 32, 101, 110, 32, 116,
        104, 101, 101, 168, 101, 255, 255, 255, 255, 255, 255, 255, 110, 1, 101, 2, 2, 1, 16,
    ];
    let mut harness = Harness::new();
    if let Err(violation) = harness.feed(&encode_steps(&[Step::new(0, frame)])) {
        panic!("{violation}");
    }
}

/// Found by the fuzzer: an update whose pending remainder yrs cannot merge
/// back. Afterwards every `encode_state_as_update_v1` of the document, which
/// `Room::answer` runs for each sync step 1 (every client sends one when it
/// connects), panics in yrs's `merge_pending_v1` (`unwrap` on
/// `EndOfBuffer`) outside any `catch_unwind`. The update was stored, so a
/// reload or restart brought the panic back: the table was unusable. Fixed:
/// a document left waiting for missing updates is test-encoded under a
/// catch right after the apply, and such an update is undone and refused.
#[test]
fn an_unmergeable_pending_update_does_not_break_sync_step1() {
    let frame = [
        0, 2, 40, 1, 2, 202, 0, 0, 2, 18, 1, 0, 0, 0, 71, 0, 0, 0, 0, 0, 0, 0, 24, 99, 104, 1, 120,
        0, 1, 0, 132, 101, 15, 8, 32, 104, 116, 110, 101, 32, 0, 128, 32,
    ];
    let step1 = werktafel_server::protocol::encode_sync_step1(&Default::default()).to_vec();
    let mut harness = Harness::new();
    if let Err(violation) = harness.feed(&encode_steps(&[Step::new(0, frame), Step::new(1, step1)]))
    {
        panic!("{violation}");
    }
}

/// Runs one input on a fresh harness; a broken invariant fails the test.
fn feed(steps: &[Step]) -> werktafel_server::fuzzing::Outcome {
    Harness::new()
        .feed(&encode_steps(steps))
        .unwrap_or_else(|violation| panic!("{violation}"))
}

/// Found by the fuzzer (finding 5, the smallest of 4 inputs): a legacy JSON
/// content. yrs reads one string more than the content's count says and
/// writes the true count back, so once the item was in the document, every
/// encode of it was undecodable ("unexpected end of buffer"): no client
/// could sync the table again, nor could the room be rebuilt from the
/// update it had stored. Fixed in `screen::decode`: an update that does not
/// read back as it was read is refused (1007).
#[test]
fn an_update_yrs_cannot_write_back_is_refused() {
    let frame = [
        0, 2, 18, 1, 1, 0, 2, 18, 1, 1, 0, 0, 0, 0, 0, 0, 0, 104, 135, 255, 255,
    ];
    let step1 = werktafel_server::protocol::encode_sync_step1(&Default::default()).to_vec();
    let outcome = feed(&[Step::new(0, frame), Step::new(1, step1)]);
    assert_eq!((outcome.accepted, outcome.refused), (1, 1));
}

/// Found by the fuzzer (finding 5, 17 inputs): a block that starts past
/// what the server has of its client (here client 303 at clock 1, with no
/// clock 0). Yjs keeps such a block pending; yrs 0.28 integrates it behind a
/// hole (a `Skip`) without reporting missing updates. A later block that
/// covers the hole merges wrongly, and the document's encoding drops what
/// it holds: the room counted 21 clocks of client 303, a fresh client got 2.
/// Only release builds lose the content; with debug assertions yrs panics
/// on the second update instead (caught: refused and reloaded), so the test
/// checks which update is refused. Fixed in `screen::Clocks::check`: an
/// update that would leave a hole is refused (1007).
#[test]
fn a_block_after_a_hole_is_refused() {
    let update = |u: &[u8]| werktafel_server::protocol::encode_update(u).to_vec();
    // 303#1, a string in root "rctcsah", without 303#0.
    let after_hole = Step::new(
        0,
        update(&[
            1, 1, 175, 2, 1, 4, 1, 7, 114, 99, 116, 99, 115, 97, 104, 1, 120, 0,
        ]),
    );
    // 21 collected clocks of 303 from 0: they cover the hole and 303#1.
    let covering = Step::new(1, update(&[1, 1, 175, 2, 0, 0, 21, 0]));
    let alone = feed(std::slice::from_ref(&after_hole));
    assert_eq!((alone.accepted, alone.refused), (0, 1), "{alone:?}");
    let both = feed(&[after_hole, covering]);
    assert_eq!((both.accepted, both.refused), (1, 1), "{both:?}");
}

/// Found by the fuzzer (finding 6): the same malformed content as
/// [`an_update_yrs_cannot_write_back_is_refused`], seen from a peer. A
/// client's update was applied, the client was resynced, and the update it
/// got (the server's own encode) did not decode. Fixed with finding 5.
#[test]
fn a_resync_after_malformed_content_decodes() {
    let input = std::fs::read(corpus_dir().join("violation-395bad26ce581b99"))
        .expect("the input is kept in the corpus");
    let outcome = feed(&werktafel_server::fuzzing::decode_steps(&input));
    assert_eq!(outcome.accepted, 0, "{outcome:?}");
}

/// Found by the fuzzer (finding 8): a peer announces a presence with clock
/// `u32::MAX` and leaves. yrs removes its state by adding one to the
/// clock, which overflows: a panic with overflow checks (debug builds, and
/// release builds since finding 7) under the room lock, halfway through
/// `Room::leave`. Fixed in `protocol::decode_frame`: a clock above
/// `MAX_AWARENESS_CLOCK` is a malformed frame (1002).
#[test]
fn a_presence_clock_at_the_limit_is_refused() {
    use yrs::sync::awareness::{AwarenessUpdate, AwarenessUpdateEntry};
    let presence = |clock: u32| {
        let entry = AwarenessUpdateEntry {
            clock,
            json: r#"{"user":{"name":"x"}}"#.into(),
        };
        let clients = [(yrs::ClientID::new(42), entry)].into_iter().collect();
        werktafel_server::protocol::encode_awareness(&AwarenessUpdate { clients }).to_vec()
    };
    let sv = werktafel_server::protocol::encode_sync_step1(&Default::default()).to_vec();
    let outcome = feed(&[
        Step::new(0, presence(u32::MAX)),
        Step::new(1, presence(7)),
        // Both leave: peer 0 was closed already, peer 1 leaves here.
        Step::new(1, sv).with(RECONNECT),
    ]);
    assert_eq!(
        (outcome.accepted, outcome.undecodable),
        (2, 1),
        "{outcome:?}"
    );
}

/// Found by reading yrs (finding 10): yrs deletes and converts nested
/// shared types by recursion. A chain of 5,000 maps, each inside the last
/// (one update of 40 KB), was accepted; converting it to JSON (the summary,
/// the exports, this harness's checks) or deleting it overflowed the stack,
/// which aborts the whole server. Fixed in `screen::Depths`: the room knows
/// how deep every item hangs and refuses a shared type deeper than
/// `MAX_TYPE_DEPTH`.
#[test]
fn a_deep_chain_of_shared_types_is_refused() {
    use yrs::{Map, MapPrelim, MapRef, ReadTxn, StateVector, Transact};
    let doc = yrs::Doc::with_client_id(77);
    let notes = doc.get_or_insert_map("notes");
    {
        let mut txn = doc.transact_mut();
        let mut map: MapRef = notes.insert(&mut txn, "n", MapPrelim::default());
        for _ in 0..5_000 {
            map = map.insert(&mut txn, "c", MapPrelim::default());
        }
    }
    let update = doc
        .transact()
        .encode_state_as_update_v1(&StateVector::default());
    let frame = werktafel_server::protocol::encode_update(&update).to_vec();
    let outcome = feed(&[Step::new(0, frame)]);
    assert_eq!((outcome.accepted, outcome.refused), (0, 1), "{outcome:?}");
}
