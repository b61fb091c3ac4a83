//! Every update stock Yjs makes for a range of edits passes the server's
//! update screen (no hole, no depth past the limit), and the screen's view
//! of what each inserts is yrs' own.
//! The updates were written by `tests/interop/yjs-updates.mjs` (Yjs 13.6):
//! text with an emoji, formats and an embed, maps with numbers, arrays and
//! nested values, deletes, XML elements and text, the whole state and a
//! merged update.

use std::ops::Range;

use werktafel_server::screen;
use yrs::updates::decoder::Decode;
use yrs::{ClientID, Update};

#[test]
fn stock_yjs_updates_pass_the_screen_as_yrs_reads_them() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/yjs-updates");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("the fixtures are committed")
        .map(|entry| entry.expect("a fixture").path())
        .collect();
    files.sort();
    assert!(files.len() >= 30, "only {} fixtures", files.len());
    // The updates of one document, in order: the room's clocks and depths
    // follow them, and none is refused for a hole or its depth.
    let mut clocks = screen::Clocks::default();
    let mut depths = screen::Depths::default();
    for file in files {
        let bytes = std::fs::read(&file).expect("reading a fixture");
        let scan =
            screen::scan(&bytes).unwrap_or_else(|e| panic!("{}: refused: {e}", file.display()));
        clocks
            .check(&scan.items)
            .unwrap_or_else(|e| panic!("{}: a hole: {e}", file.display()));
        let placement = depths
            .place(&scan, &clocks)
            .unwrap_or_else(|e| panic!("{}: refused: {e}", file.display()));
        depths.commit(placement);
        clocks.advance(&scan.items);

        let update = Update::decode_v1(&bytes).expect("yrs reads it");
        assert_eq!(
            merged(
                scan.items
                    .iter()
                    .map(|i| (i.client, i.clock..i.clock + i.len))
                    .collect()
            ),
            merged(
                update
                    .insertions(true)
                    .iter()
                    .flat_map(|(c, ranges)| ranges
                        .iter()
                        .map(|r| (*c, r.clone()))
                        .collect::<Vec<_>>())
                    .collect()
            ),
            "{}",
            file.display()
        );
    }
}

/// Ranges per client, sorted, adjacent ones joined.
fn merged(mut ranges: Vec<(ClientID, Range<u32>)>) -> Vec<(ClientID, Range<u32>)> {
    ranges.sort_by_key(|(c, r)| (*c, r.start));
    let mut out: Vec<(ClientID, Range<u32>)> = Vec::new();
    for (client, range) in ranges {
        match out.last_mut() {
            Some((c, last)) if *c == client && last.end >= range.start => {
                last.end = last.end.max(range.end);
            }
            _ => out.push((client, range)),
        }
    }
    out
}
