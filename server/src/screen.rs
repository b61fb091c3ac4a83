//! What a client's update must pass before the room applies it, beyond
//! decoding: the shapes yrs 0.28 accepts but cannot keep or write back,
//! each found by the fuzzer (`docs/fuzzing.md`, findings 5 and 6).
//!
//! - **It reads back as it was read.** yrs decodes some bytes into an
//!   update that it then encodes differently: a legacy JSON content reads
//!   one string more than its count says (yrs' `ItemContent::decode` loops
//!   `while remaining >= 0`) but is written with its true count, and an
//!   info byte with bit 4 set (a content ref Yjs refuses) is read as the
//!   ref below it. Applied, such an item makes every later encode of the
//!   document undecodable: no client could sync the table again. So the
//!   update is encoded again; if those bytes equal the client's, nothing
//!   more is needed (every well-formed Yjs update), otherwise they must
//!   decode to the same update, and the room keeps and forwards the
//!   re-encoded bytes: what peers and a reload read is exactly what the
//!   room understood.
//! - **It leaves no hole.** Where Yjs keeps a block whose earlier clocks
//!   it lacks pending, yrs integrates it behind a `Skip` when it names no
//!   missing origin or parent, without reporting missing updates. The
//!   document then holds a hole; a later update covering it merges wrongly
//!   and the encode drops what was integrated (the room's clock for a
//!   client ran ahead of what it wrote back). A client on one ordered
//!   socket never sends such an update, so an update whose blocks start
//!   beyond what the room has of that client is refused.
//!
//! The hole check needs the document's clock per client. yrs only hands
//! out whole state vectors (O(clients) to build), so the room keeps its
//! own copy ([`Clocks`]), advanced by every update it applies and rebuilt
//! whenever the document is replaced.

use std::panic::{AssertUnwindSafe, catch_unwind};

use bytes::Bytes;
use yrs::updates::decoder::Decode;
use yrs::updates::encoder::Encode;
use yrs::{ClientID, Doc, IdSet, ReadTxn, StateVector, Transact, Update};

/// An update that decoded and reads back as it was read.
pub struct Screened {
    pub update: Update,
    /// What it inserts, for [`Clocks::check`] and [`Clocks::advance`].
    pub inserted: IdSet,
    /// Its bytes as the room stores and forwards them: the client's own
    /// when they were canonical, else yrs' encoding of what it read.
    pub bytes: Bytes,
    /// Whether `bytes` are the client's own.
    pub as_sent: bool,
}

/// Decodes `bytes` and checks that the update survives its own encoding.
/// yrs can panic on hostile bytes while decoding, encoding or listing what
/// an update inserts (clock arithmetic overflows: an overflowing delete set,
/// a block whose clock plus length passes `u32::MAX`; found by the fuzzer,
/// and raised in release builds too, see the root `Cargo.toml`); a panic
/// is a refusal.
pub fn decode(bytes: Bytes) -> Result<Screened, String> {
    let (update, inserted) = match catch_unwind(|| {
        Update::decode_v1(&bytes).map(|update| {
            let inserted = update.insertions(true);
            (update, inserted)
        })
    }) {
        Ok(Ok(decoded)) => decoded,
        Ok(Err(error)) => return Err(error.to_string()),
        Err(_) => return Err("the update could not be decoded".into()),
    };
    let again = catch_unwind(AssertUnwindSafe(|| update.encode_v1()))
        .map_err(|_| "the update could not be encoded again".to_string())?;
    if again == bytes {
        return Ok(Screened {
            update,
            inserted,
            bytes,
            as_sent: true,
        });
    }
    match catch_unwind(|| Update::decode_v1(&again)) {
        Ok(Ok(reread)) if reread == update => Ok(Screened {
            update,
            inserted,
            bytes: Bytes::from(again),
            as_sent: false,
        }),
        _ => Err("the update does not read back as it was read (malformed content)".into()),
    }
}

/// The document's clock per client: the first clock the room does not have.
#[derive(Debug, Default)]
pub struct Clocks(StateVector);

impl Clocks {
    /// The clocks of `doc` as it is now.
    pub fn of(doc: &Doc) -> Clocks {
        Clocks(doc.transact().state_vector())
    }

    /// Refuses an update with a block beyond what the room has of its
    /// client (a hole); `inserted` is what the update inserts
    /// ([`Screened::inserted`]).
    pub fn check(&self, inserted: &IdSet) -> Result<(), String> {
        for (client, ranges) in inserted.iter() {
            let mut known = self.0.get(client);
            for range in ranges.iter() {
                if range.start > known {
                    return Err(format!(
                        "the update starts client {client} at clock {} but the table has it up to {known}",
                        range.start
                    ));
                }
                known = known.max(range.end);
            }
        }
        Ok(())
    }

    /// Takes in what an applied update inserted.
    pub fn advance(&mut self, inserted: &IdSet) {
        for (client, ranges) in inserted.iter() {
            if let Some(last) = ranges.iter().next_back() {
                self.0.set_max(*client, last.end);
            }
        }
    }

    /// The clock of one client (0 when the document has nothing of it).
    pub fn get(&self, client: &ClientID) -> u32 {
        self.0.get(client)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use yrs::{GetString, Text};

    fn typed(doc: &Doc, at: u32, text: &str) -> Vec<u8> {
        let field = doc.get_or_insert_text("t");
        let mut txn = doc.transact_mut();
        field.insert(&mut txn, at, text);
        txn.encode_update_v1()
    }

    #[test]
    fn a_well_formed_update_is_kept_as_sent() {
        let doc = Doc::with_client_id(7);
        let bytes = Bytes::from(typed(&doc, 0, "hallo"));
        let screened = decode(bytes.clone()).expect("well formed");
        assert!(screened.as_sent);
        assert_eq!(screened.bytes, bytes);
    }

    #[test]
    fn legacy_json_content_is_refused() {
        // One block of client 0 at clock 0: info 2 (JSON, no origins),
        // parent named "t", a JSON content that says 0 strings and has one.
        // yrs reads the one string anyway and writes the count as 1, which
        // it then reads as two: the document could never be encoded again.
        let bytes: &[u8] = &[1, 1, 0, 0, 2, 1, 1, b't', 0, 2, b'{', b'}', 0];
        assert!(Update::decode_v1(bytes).is_ok(), "yrs reads it");
        let error = decode(Bytes::from_static(bytes)).err().expect("refused");
        assert!(error.contains("does not read back"), "{error}");
    }

    #[test]
    fn an_info_byte_yjs_refuses_is_kept_as_yrs_read_it() {
        // Info 0x14: a string content with bit 4 set, which yrs reads as 4.
        let bytes = Bytes::from_static(&[1, 1, 0, 0, 0x14, 1, 1, b't', 1, b'x', 0]);
        // yrs reads it as a string and writes 0x04: the room keeps and
        // forwards those bytes, which every Yjs peer reads as yrs did.
        match decode(bytes) {
            Ok(s) => {
                assert!(!s.as_sent);
                assert_eq!(&s.bytes[..], &[1, 1, 0, 0, 4, 1, 1, b't', 1, b'x', 0]);
            }
            Err(e) => panic!("a string block reads back as a string: {e}"),
        }
    }

    #[test]
    fn a_block_whose_clock_overflows_is_refused() {
        // A collected block of client 96 at clock 2 whose length (an
        // eight-byte varint) reads as u32::MAX: its end passes u32::MAX. Release
        // builds of yrs used to wrap it into an inverted range that broke
        // every later encode of the document.
        let bytes: &[u8] = &[1, 1, 96, 2, 0, 255, 255, 255, 255, 255, 255, 255, 4, 0];
        let error = decode(Bytes::from_static(bytes)).err().expect("refused");
        assert!(error.contains("could not be decoded"), "{error}");
    }

    #[test]
    fn a_block_beyond_the_clients_clock_is_a_hole() {
        let writer = Doc::with_client_id(9);
        let first = typed(&writer, 0, "a");
        let second = typed(&writer, 1, "b");
        let room = Doc::new();
        let clocks = Clocks::of(&room);
        let later = decode(Bytes::from(second)).unwrap();
        let error = clocks
            .check(&later.inserted)
            .expect_err("clock 1 without clock 0");
        assert!(error.contains("client 9 at clock 1"), "{error}");

        let mut clocks = clocks;
        let update = decode(Bytes::from(first)).unwrap();
        clocks.check(&update.inserted).expect("starts at 0");
        room.transact_mut().apply_update(update.update).unwrap();
        clocks.advance(&update.inserted);
        assert_eq!(clocks.get(&ClientID::new(9)), 1);
        clocks.check(&later.inserted).expect("follows on");
        room.transact_mut().apply_update(later.update).unwrap();
        clocks.advance(&later.inserted);
        assert_eq!(clocks.get(&ClientID::new(9)), 2);
        let text = room.get_or_insert_text("t");
        assert_eq!(text.get_string(&room.transact()), "ab");
    }

    #[test]
    fn an_update_overlapping_what_the_room_has_passes() {
        // A sync step 2 repeats what the room has and adds to it.
        let writer = Doc::with_client_id(9);
        typed(&writer, 0, "abc");
        let room = Doc::new();
        let whole = writer
            .transact()
            .encode_state_as_update_v1(&StateVector::default());
        room.transact_mut()
            .apply_update(Update::decode_v1(&whole).unwrap())
            .unwrap();
        typed(&writer, 3, "d");
        let again = writer
            .transact()
            .encode_state_as_update_v1(&StateVector::default());
        let clocks = Clocks::of(&room);
        let again = decode(Bytes::from(again)).unwrap();
        assert!(clocks.check(&again.inserted).is_ok());
    }
}
