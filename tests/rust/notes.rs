//! Helpers that edit notes the way the web client does (docs/schema.md).

use werktafel_shared::schema::{self, Lane, NoteColor, NoteDraft};
use werktafel_tests::Client;
use yrs::{Map, Out, ReadTxn, Text, TransactionMut};

/// Creates a note with `text` in `lane`.
pub fn add(client: &Client, id: &str, text: &str, lane: Lane) {
    client.edit(|txn| {
        schema::insert_note(
            txn,
            &NoteDraft {
                id: id.to_string(),
                text: text.to_string(),
                lane,
                color: NoteColor::Geel,
                x: 10.0,
                y: 20.0,
                author: "Test".into(),
                author_id: "test".into(),
                now_ms: 1_700_000_000_000,
            },
        );
    });
}

/// Inserts `s` at `index` in the text of note `id`.
pub fn type_into(client: &Client, id: &str, index: u32, s: &str) {
    client.edit(|txn| {
        let text = note_text(txn, id).expect("note exists");
        text.insert(txn, index, s);
    });
}

/// The text of note `id` in `client`'s document.
pub fn text_of(client: &Client, id: &str) -> Option<String> {
    client
        .notes()
        .into_iter()
        .find(|n| n.id == id)
        .map(|n| n.text)
}

pub fn has_note(client: &Client, id: &str) -> bool {
    client.notes().iter().any(|n| n.id == id)
}

fn note_text(txn: &mut TransactionMut, id: &str) -> Option<yrs::TextRef> {
    let notes = txn.get_map(schema::NOTES)?;
    let Some(Out::YMap(note)) = notes.get(txn, id) else {
        return None;
    };
    match note.get(txn, "text") {
        Some(Out::YText(text)) => Some(text),
        _ => None,
    }
}
