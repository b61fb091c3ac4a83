//! Summarising hostile input: two tables that each hold one note of the same N unique words,
//! the case that made shared themes quadratic (issue 10, item 1).
//!
//! `cargo bench -p werktafel-shared --bench themes [-- N ...]` (default: 24000 110000 and
//! the largest note one 8 MiB message can carry). Prints the median wall time of
//! `summarize` and of the XLSX export of the same snapshot. No criterion: a plain timer
//! is enough to tell seconds from milliseconds. `BENCH_RUNS=1` runs each case once.

use std::time::{Duration, Instant};

use werktafel_shared::Event;
use werktafel_shared::export::{ExportOptions, xlsx};
use werktafel_shared::schema::{Lane, Note, NoteColor};
use werktafel_shared::snapshot::{EventSnapshot, TableSnapshot};
use werktafel_shared::summary::summarize;

/// The default `--max-message-bytes`: the largest update one participant may send.
const MESSAGE_LIMIT: usize = 8 * 1024 * 1024;

fn main() {
    let sizes: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let sizes = if sizes.is_empty() {
        vec![24_000, 110_000, words_in(MESSAGE_LIMIT)]
    } else {
        sizes
    };
    let event = Event::builtin();
    println!("words/note  text bytes  summarize (median)  xlsx export (median)");
    for words in sizes {
        let text = unique_words(words);
        let tables = vec![table("a", &text), table("b", &text)];
        let runs = std::env::var("BENCH_RUNS")
            .ok()
            .and_then(|r| r.parse().ok())
            .unwrap_or(if words > 50_000 { 3 } else { 5 });
        let summary = median(runs, || {
            let summary = summarize(&event, &tables);
            assert!(!summary.themes.is_empty());
        });
        let snapshot = EventSnapshot {
            event: &event,
            tables: tables.clone(),
            poster_image: None,
            day: Default::default(),
        };
        let export = median(runs, || {
            xlsx::workbook(&snapshot, &ExportOptions::new(0)).expect("workbook");
        });
        println!(
            "{words:>10}  {:>10}  {:>18.1?}  {:>20.1?}",
            text.len(),
            summary,
            export
        );
    }
}

/// `n` distinct words of letters only (so none is dropped as a number), space-separated.
fn unique_words(n: usize) -> String {
    let mut text = String::with_capacity(n * 8);
    for i in 0..n {
        let mut word = String::from("w");
        let mut k = i;
        loop {
            word.push(char::from(b'a' + (k % 26) as u8));
            k /= 26;
            if k == 0 {
                break;
            }
        }
        while word.len() < 5 {
            word.push('q');
        }
        text.push_str(&word);
        text.push(' ');
    }
    text
}

/// How many of [`unique_words`]'s words fit in `bytes`.
fn words_in(bytes: usize) -> usize {
    // Six letters and a space each, up to 26^5 words.
    bytes / 7
}

fn table(id: &str, text: &str) -> TableSnapshot {
    TableSnapshot {
        table_id: id.parse().expect("table id"),
        participants: 1,
        notes: vec![Note {
            id: "n".into(),
            text: text.into(),
            lane: Lane::Goed,
            color: NoteColor::Geel,
            x: 0.0,
            y: 0.0,
            author: "a".into(),
            author_id: "a".into(),
            created_at: 0,
            updated_at: 0,
            owner: String::new(),
            due: String::new(),
            group: None,
            votes: 0,
            poster: None,
            provenance: None,
        }],
        poster: Default::default(),
        groups: Vec::new(),
    }
}

fn median(runs: usize, mut f: impl FnMut()) -> Duration {
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .collect();
    times.sort();
    times[runs / 2]
}
