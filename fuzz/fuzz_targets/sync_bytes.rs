//! WebSocket bytes from three peers into a real room: decode, apply,
//! awareness, persistence and reload, with every invariant of
//! `werktafel_server::fuzzing` checked after each input.
#![no_main]

use std::cell::RefCell;

use libfuzzer_sys::fuzz_target;
use werktafel_server::fuzzing::Harness;

thread_local! {
    // One runtime and persistence worker for the whole run; every input
    // still gets a fresh room (`reset`), so inputs do not affect each other.
    static HARNESS: RefCell<Harness> = RefCell::new(Harness::new());
}

fuzz_target!(|input: &[u8]| {
    HARNESS.with_borrow_mut(|harness| {
        harness.reset();
        if let Err(violation) = harness.feed(input) {
            panic!("invariant violated: {violation}");
        }
    });
});
