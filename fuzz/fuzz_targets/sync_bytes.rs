//! WebSocket bytes from three peers into a real room: decode, apply,
//! awareness, persistence and reload, with every invariant of
//! `werktafel_server::fuzzing` checked after each input.
#![no_main]

use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};

use libfuzzer_sys::fuzz_target;
use werktafel_server::fuzzing::Harness;

thread_local! {
    // One runtime and persistence worker for the whole run; every input
    // still gets a fresh room (`reset`), so inputs do not affect each other.
    static HARNESS: RefCell<Harness> = RefCell::new(Harness::new());
}

/// Panics raised inside yrs while the room applies an update.
static YRS_PANICS: AtomicU64 = AtomicU64::new(0);

fuzz_target!(
    init: {
        // libFuzzer's hook aborts on every panic, even one that is caught.
        // `Room` catches a panic of yrs while applying an update and reloads
        // the table, which is what the invariants then check; so a panic
        // raised in yrs's code may unwind to that catch (it is counted and the
        // first few are printed). Any other panic, and a yrs panic nobody
        // catches, still aborts and is a crash.
        let abort = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let in_yrs = info
                .location()
                .is_some_and(|l| l.file().contains("/yrs-"));
            if !in_yrs {
                return abort(info);
            }
            if YRS_PANICS.fetch_add(1, Ordering::Relaxed) < 5 {
                eprintln!("yrs panicked (the room catches it and reloads): {info}");
            }
        }));
    },
    |input: &[u8]| {
        HARNESS.with_borrow_mut(|harness| {
            harness.reset();
            if let Err(violation) = harness.feed(input) {
                panic!("invariant violated: {violation}");
            }
        });
    }
);
