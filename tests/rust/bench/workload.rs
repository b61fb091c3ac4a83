//! What a writer's edit is. `keystroke`: one character typed at the front of
//! the writer's own note plus its `updatedAt` stamp (two structs, ~60 bytes on
//! the wire). `note-insert`: a whole new note, the board's "add a note"
//! action, written by `schema::insert_note` with the fields the web client's
//! `createNote` sets (a `Y.Map` holding a `Y.Text` and eight values, a
//! 16-character id from the client's alphabet), about 330 bytes per update.
//!
//! Both are one struct group from one client, so a counter reads either from
//! the update's head (`header.rs`); the group's struct count tells an edit
//! from a merged update, and it differs per workload ([`Workload::structs`]).

use clap::ValueEnum;
use werktafel_shared::schema::{self, Lane, NoteColor, NoteDraft};
use yrs::updates::encoder::Encode;
use yrs::{Doc, Transact, TransactionMut};

use crate::header;

/// The alphabet of the web client's `newNoteId` (web/src/schema.ts).
const ID_ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
/// The text of an inserted note: a question as a participant types it, so
/// that the note's update is the ~330 bytes a real one is.
const NOTE_TEXT: &str = "Wie beheert straks de openbare ruimte in de wijk, en wie betaalt het onderhoud van de speelplekken en het groen?";

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Workload {
    /// One typed character per edit (and the note's `updatedAt`).
    Keystroke,
    /// One whole new note per edit.
    NoteInsert,
}

impl Workload {
    /// The option's spelling, for the result line.
    pub fn name(self) -> &'static str {
        match self {
            Workload::Keystroke => "keystroke",
            Workload::NoteInsert => "note-insert",
        }
    }

    /// How many structs one edit of this workload holds: a one-group update
    /// with another count is not a single edit (a server may have merged
    /// several), so a counter decodes it in full.
    pub fn structs(self) -> u32 {
        match self {
            // The typed character and the new `updatedAt`.
            Workload::Keystroke => 2,
            Workload::NoteInsert => {
                let doc = Doc::with_client_id(1);
                let update = {
                    let mut txn = doc.transact_mut();
                    add_note(&mut txn, 0, 0);
                    txn.encode_update_v1()
                };
                let message = yrs::sync::Message::Sync(yrs::sync::SyncMessage::Update(update));
                header::single_group(&message.encode_v1())
                    .expect("a note insert is one struct group")
                    .structs
            }
        }
    }
}

/// Adds writer `writer`'s `n`th note to the table, as the board's "add a
/// note" does: a fresh random id, the writer as author, a lane, a colour and
/// a position.
pub fn add_note(txn: &mut TransactionMut, writer: usize, n: usize) {
    let author_id = format!("schrijver-{writer:06}");
    schema::insert_note(
        txn,
        &NoteDraft {
            id: note_id(),
            text: NOTE_TEXT.to_string(),
            lane: Lane::ALL[n % Lane::ALL.len()],
            color: NoteColor::ALL[(writer + n) % NoteColor::ALL.len()],
            x: ((n * 37) % 400) as f64,
            y: ((n * 53) % 2000) as f64,
            author: format!("Deelnemer {writer}"),
            author_id,
            now_ms: now_ms(),
        },
    );
}

/// A random 16-character note id, as `newNoteId` makes them.
fn note_id() -> String {
    (0..16)
        .map(|_| ID_ALPHABET[usize::from(rand::random::<u8>() & 63)] as char)
        .collect()
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use yrs::Update;
    use yrs::updates::decoder::Decode;

    #[test]
    fn a_note_insert_is_one_group_of_about_330_bytes_that_reads_back_as_a_note() {
        let doc = Doc::with_client_id(42);
        let first = {
            let mut txn = doc.transact_mut();
            add_note(&mut txn, 3, 0);
            txn.encode_update_v1()
        };
        assert!(
            (300..=360).contains(&first.len()),
            "a note insert is {} bytes",
            first.len()
        );
        let second = {
            let mut txn = doc.transact_mut();
            add_note(&mut txn, 3, 1);
            txn.encode_update_v1()
        };
        let message =
            |u: Vec<u8>| yrs::sync::Message::Sync(yrs::sync::SyncMessage::Update(u)).encode_v1();
        let structs = Workload::NoteInsert.structs();
        let head = header::single_group(&message(second.clone())).expect("one group");
        assert_eq!((head.client, head.structs), (42, structs));
        assert!(head.start > 0, "the second note starts after the first");

        // Another client sees two notes with every field the board reads.
        let other = Doc::new();
        for update in [first, second] {
            other
                .transact_mut()
                .apply_update(Update::decode_v1(&update).unwrap())
                .unwrap();
        }
        let views = schema::read_notes(&other);
        assert_eq!(views.len(), 2);
        assert!(
            views
                .iter()
                .all(|n| n.text == NOTE_TEXT && n.author == "Deelnemer 3")
        );
    }
}
