//! WebSocket bytes from three peers into a table's core: decode, policy,
//! screen, apply, awareness, held deliveries and reload, with every invariant of
//! `werktafel_server::fuzzing` checked after each input.
//!
//! By default a broken invariant or a panic raised in yrs does not stop the
//! run: the input is saved as `artifacts/sync_bytes/{violation,yrs-panic}-HASH`
//! (the first few of each kind are printed), kept out of the corpus, and
//! fuzzing goes on, so that known bugs do not hide new ones. With
//! `WERKTAFEL_FUZZ_STRICT=1` the first one is a crash, as libFuzzer expects.
#![no_main]

use std::cell::RefCell;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicU64, Ordering};

use libfuzzer_sys::{Corpus, fuzz_target};
use werktafel_server::fuzzing::Harness;

thread_local! {
    // One harness for the whole run; every input still gets a fresh table
    // (`reset`), so inputs do not affect each other.
    static HARNESS: RefCell<Harness> = RefCell::new(Harness::new());
}

static VIOLATIONS: AtomicU64 = AtomicU64::new(0);
static YRS_PANICS: AtomicU64 = AtomicU64::new(0);

fn strict() -> bool {
    std::env::var_os("WERKTAFEL_FUZZ_STRICT").is_some_and(|v| v == "1")
}

fuzz_target!(
    init: {
        // libFuzzer's hook aborts on every panic, even one that is caught.
        // A panic raised in yrs's code may unwind instead: to the table's own
        // catch (it reloads the table, which the invariants then check) or,
        // outside strict mode, to the catch below. Every other panic aborts
        // and is a crash.
        let abort = std::panic::take_hook();
        let strict = strict();
        std::panic::set_hook(Box::new(move |info| {
            let in_yrs = info
                .location()
                .is_some_and(|l| l.file().contains("/yrs-"));
            if strict || !in_yrs {
                return abort(info);
            }
            if YRS_PANICS.fetch_add(1, Ordering::Relaxed) < 3 {
                eprintln!("yrs panicked: {info}");
            }
        }));
    },
    |input: &[u8]| -> Corpus {
        let result = catch_unwind(AssertUnwindSafe(|| {
            HARNESS.with_borrow_mut(|harness| {
                harness.reset();
                harness.feed(input)
            })
        }));
        match result {
            Ok(Ok(_)) => Corpus::Keep,
            Ok(Err(violation)) => {
                if strict() {
                    panic!("invariant violated: {violation}");
                }
                if VIOLATIONS.fetch_add(1, Ordering::Relaxed) < 3 {
                    eprintln!("invariant violated: {violation}");
                }
                save("violation", input);
                Corpus::Reject
            }
            Err(_) => {
                // Only a yrs panic gets here (see the hook); the room it hit
                // is replaced by the next input's `reset`.
                save("yrs-panic", input);
                Corpus::Reject
            }
        }
    }
);

fn save(kind: &str, input: &[u8]) {
    let mut hasher = DefaultHasher::new();
    input.hash(&mut hasher);
    let dir = "artifacts/sync_bytes";
    let _ = std::fs::create_dir_all(dir);
    let _ = std::fs::write(format!("{dir}/{kind}-{:016x}", hasher.finish()), input);
}
