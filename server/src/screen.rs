//! What a client's update must pass before yrs sees it: a walk over its
//! bytes as the Yjs v1 format defines them, refusing every shape that yrs
//! 0.28 cannot keep or write back, or that Yjs itself would not read. Each
//! rule comes from a fuzz finding or from reading yrs' decoder next to
//! Yjs' (`docs/fuzzing.md`, findings 5 to 10):
//!
//! - **No hole in a client's clocks.** Where Yjs keeps a block whose
//!   earlier clocks it lacks pending, yrs integrates it behind a `Skip`
//!   when it names no missing origin or parent, without reporting missing
//!   updates; a later update covering the hole merges wrongly and the
//!   document's encoding drops what it holds. A client on one ordered
//!   socket never sends such an update. [`Clocks::check`] refuses it.
//! - **No clock past `u32::MAX`.** A block (or a deleted range) whose clock
//!   plus length overflows wraps silently in release builds of yrs; the
//!   block store then keeps an inverted range and every later encode of the
//!   document divides by zero.
//! - **Only content Yjs and yrs read alike.** Legacy JSON content (yrs reads
//!   one string more than its count and writes the true count back, so the
//!   document stops decoding), content refs with bit 4 set or above 9 (yrs
//!   masks them to 4 bits, Yjs refuses them), a GC or skip with flag bits,
//!   an XML hook (Yjs reads a name that yrs does not), subdocuments and
//!   type refs Yjs does not know.
//! - **No deeper nesting than [`MAX_ANY_DEPTH`].** yrs decodes nested
//!   arrays and maps by recursion without a limit: a 200 KB update nested
//!   100,000 deep overflowed the stack and aborted the whole server.
//! - **Each client once, nothing after the delete set**: what yrs would
//!   merge or ignore differently from Yjs.
//! - **No shared type nested deeper than [`MAX_TYPE_DEPTH`]** ([`Depths`]):
//!   yrs deletes and converts nested types by recursion too, and a chain of
//!   5,000 maps overflowed its stack the same way.
//! - **Nothing under `meta`, `control` or `votes`** ([`Depths`] knows each
//!   clock range's root): no insert, and no delete of what the server has
//!   not deleted itself. Undoing such a write after applying it meant a
//!   reload of the whole table; refused here, it costs a walk of its bytes.
//! - **No missing dependency**: an item naming, or a delete of, what
//!   neither the document nor the update has. yrs would keep it pending
//!   and the room would have to reload to be rid of it.
//!
//! The walk reads the bytes once, without allocating for the content, and
//! runs before yrs decodes anything. The hole check needs the document's
//! clock per client; yrs only hands out whole state vectors (O(clients) to
//! build), so the room keeps its own copy ([`Clocks`]), advanced by every
//! update it applies and rebuilt whenever the document is replaced.

use smallvec::SmallVec;
use werktafel_shared::control::SERVER_ONLY;
use yrs::{ClientID, Doc, ReadTxn, StateVector, Transact};

mod depths;

pub use depths::{Depths, MAX_TYPE_DEPTH, Placement, Refusal, Writer};

/// The deepest nesting of arrays and maps inside one value of an update.
/// Werktafel's schema nests two levels; stock Yjs data rarely more than a
/// handful.
pub const MAX_ANY_DEPTH: usize = 64;

/// Client ids are JavaScript-safe integers (yrs asserts it in debug builds).
const MAX_CLIENT_ID: u64 = (1 << 53) - 1;

/// Items a scan (and a placement, `depths.rs`) holds without allocating: a
/// keystroke is one or two, a whole note (the board's "add a note": a map,
/// its text and eight values) eleven. Each allocation cost about as much
/// as a tenth of the screen's whole walk of a note (`benches/note_insert.rs`).
pub(crate) const INLINE_ITEMS: usize = 16;

/// Content refs of an item (the low five bits of its info byte).
const GC: u8 = 0;
const DELETED: u8 = 1;
const JSON: u8 = 2;
const BINARY: u8 = 3;
const STRING: u8 = 4;
const EMBED: u8 = 5;
const FORMAT: u8 = 6;
const TYPE: u8 = 7;
const ANY: u8 = 8;
const DOC: u8 = 9;
const SKIP: u8 = 10;
const HAS_ORIGIN: u8 = 0x80;
const HAS_RIGHT_ORIGIN: u8 = 0x40;
const HAS_PARENT_SUB: u8 = 0x20;

/// Type refs of a shared type's content.
const TYPE_XML_ELEMENT: u8 = 3;
const TYPE_XML_HOOK: u8 = 5;

/// Where an item hangs in the document, as its bytes say: under a root or
/// a parent type, or next to its origin (else its right origin), sharing
/// that one's parent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Anchor {
    /// Under a root type; `server_only` when it is one of
    /// [`SERVER_ONLY`] (`meta`, `control`, `votes`).
    Root {
        server_only: bool,
    },
    Parent(ClientID, u32),
    Beside {
        origin: Option<(ClientID, u32)>,
        right: Option<(ClientID, u32)>,
    },
    /// A collected block: no parent.
    Nowhere,
}

/// One block an update inserts (skips and empty items left out), in the
/// update's order: a client's blocks together, by clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Item {
    pub client: ClientID,
    pub clock: u32,
    pub len: u32,
    pub anchor: Anchor,
    /// A shared type (map, text, array, XML).
    pub shared: bool,
}

/// A clock range an update's delete set marks deleted: `start..end` of `client`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deleted {
    pub client: ClientID,
    pub start: u32,
    pub end: u32,
}

/// What [`scan`] found in an update.
#[derive(Debug, Default)]
pub struct Scan {
    pub items: SmallVec<[Item; INLINE_ITEMS]>,
    /// The delete set's ranges (empty ones left out), as listed.
    pub deletes: Vec<Deleted>,
}

/// Walks `update` (lib0 v1) and returns what it inserts, or why it is refused.
pub fn scan(update: &[u8]) -> Result<Scan, String> {
    let mut bytes = Bytes { buf: update, at: 0 };
    let mut items = SmallVec::new();
    let clients = bytes.u32("number of clients")?;
    let mut seen: SmallVec<[u64; 4]> = SmallVec::new();
    for _ in 0..clients {
        let structs = bytes.u32("number of blocks")?;
        let client = bytes.client()?;
        seen.push(client);
        let client = ClientID::new(client);
        let mut clock = bytes.u32("clock")?;
        for _ in 0..structs {
            let info = bytes.u8("info")?;
            let (len, placed) = block(&mut bytes, info)?;
            let end = clock.checked_add(len).ok_or_else(|| {
                format!("a block of client {client} at clock {clock} runs past 2^32")
            })?;
            if let Some((anchor, shared)) = placed.filter(|_| len > 0) {
                items.push(Item {
                    client,
                    clock,
                    len,
                    anchor,
                    shared,
                });
            }
            clock = end;
        }
    }
    // Sorted once rather than searched per client: a hostile update may
    // list a million clients.
    seen.sort_unstable();
    if let Some(pair) = seen.windows(2).find(|pair| pair[0] == pair[1]) {
        return Err(format!("client {} is listed twice", pair[0]));
    }
    let deletes = delete_set(&mut bytes)?;
    if bytes.at != update.len() {
        return Err(format!(
            "{} bytes follow the delete set",
            update.len() - bytes.at
        ));
    }
    Ok(Scan { items, deletes })
}

/// Reads one block; returns its length in clocks and, unless it is a skip,
/// where it hangs and whether it is a shared type.
#[allow(clippy::type_complexity)]
fn block(bytes: &mut Bytes<'_>, info: u8) -> Result<(u32, Option<(Anchor, bool)>), String> {
    match info {
        GC | SKIP => {
            let len = bytes.u32("length")?;
            if len == 0 {
                return Err("an empty block".into());
            }
            let placed = (info == GC).then_some((Anchor::Nowhere, false));
            return Ok((len, placed));
        }
        _ => {}
    }
    let content = info & 0x1f;
    let anchor = if info & (HAS_ORIGIN | HAS_RIGHT_ORIGIN) != 0 {
        let origin = if info & HAS_ORIGIN != 0 {
            Some(bytes.id()?)
        } else {
            None
        };
        let right = if info & HAS_RIGHT_ORIGIN != 0 {
            Some(bytes.id()?)
        } else {
            None
        };
        Anchor::Beside { origin, right }
    } else {
        let anchor = if bytes.var("parent info")? == 1 {
            let name = bytes.str("parent name")?;
            Anchor::Root {
                server_only: SERVER_ONLY.contains(&name),
            }
        } else {
            let (client, clock) = bytes.id()?;
            Anchor::Parent(client, clock)
        };
        if info & HAS_PARENT_SUB != 0 {
            bytes.str("parent key")?;
        }
        anchor
    };
    let len = match content {
        DELETED => bytes.u32("deleted length")?,
        BINARY => {
            bytes.buf("binary content")?;
            1
        }
        STRING => utf16_len(bytes.str("string content")?),
        EMBED => {
            bytes.str("embed")?;
            1
        }
        FORMAT => {
            bytes.str("format key")?;
            bytes.str("format value")?;
            1
        }
        TYPE => {
            match bytes.u8("type ref")? {
                TYPE_XML_ELEMENT => {
                    bytes.str("element name")?;
                }
                TYPE_XML_HOOK => {
                    return Err("XML hooks are read differently by yrs and Yjs".into());
                }
                0..=6 => {}
                other => return Err(format!("unknown type ref {other}")),
            }
            1
        }
        ANY => {
            let count = bytes.u32("number of values")?;
            for _ in 0..count {
                any(bytes, 0)?;
            }
            count
        }
        JSON => return Err("legacy JSON content, which yrs misreads".into()),
        DOC => return Err("subdocuments are not part of a table".into()),
        other => return Err(format!("unknown content ref {other} (info {info:#04x})")),
    };
    Ok((len, Some((anchor, content == TYPE))))
}

/// Skips one lib0 `Any` value, refusing nesting deeper than [`MAX_ANY_DEPTH`].
fn any(bytes: &mut Bytes<'_>, depth: usize) -> Result<(), String> {
    if depth >= MAX_ANY_DEPTH {
        return Err(format!("values nested deeper than {MAX_ANY_DEPTH}"));
    }
    match bytes.u8("value tag")? {
        // undefined, null, false, true
        127 | 126 | 121 | 120 => {}
        // integer
        125 => {
            bytes.var("integer")?;
        }
        // float32, float64, bigint
        124 => bytes.skip(4, "float")?,
        123 | 122 => bytes.skip(8, "number")?,
        119 => {
            bytes.str("string value")?;
        }
        118 => {
            let len = bytes.u32("object size")?;
            for _ in 0..len {
                bytes.str("object key")?;
                any(bytes, depth + 1)?;
            }
        }
        117 => {
            let len = bytes.u32("array size")?;
            for _ in 0..len {
                any(bytes, depth + 1)?;
            }
        }
        116 => {
            bytes.buf("bytes value")?;
        }
        other => return Err(format!("unknown value tag {other}")),
    }
    Ok(())
}

fn delete_set(bytes: &mut Bytes<'_>) -> Result<Vec<Deleted>, String> {
    let mut deletes = Vec::new();
    let clients = bytes.u32("number of deleting clients")?;
    for _ in 0..clients {
        let client = bytes.client()?;
        let ranges = bytes.u32("number of deleted ranges")?;
        for _ in 0..ranges {
            let clock = bytes.u32("deleted clock")?;
            let len = bytes.u32("deleted length")?;
            let end = clock.checked_add(len).ok_or_else(|| {
                format!("a deleted range of client {client} at clock {clock} runs past 2^32")
            })?;
            if len > 0 {
                deletes.push(Deleted {
                    client: ClientID::new(client),
                    start: clock,
                    end,
                });
            }
        }
    }
    Ok(deletes)
}

/// A string's length as Yjs counts it: in UTF-16 code units.
fn utf16_len(s: &str) -> u32 {
    // Every byte that starts a character counts one, a four-byte one two.
    s.bytes()
        .map(|b| u32::from(b & 0xc0 != 0x80) + u32::from(b >= 0xf0))
        .sum()
}

/// A cursor over an update's bytes; every read says what it expected.
struct Bytes<'a> {
    buf: &'a [u8],
    at: usize,
}

impl<'a> Bytes<'a> {
    fn u8(&mut self, what: &str) -> Result<u8, String> {
        let byte = *self
            .buf
            .get(self.at)
            .ok_or_else(|| format!("the update ends before its {what}"))?;
        self.at += 1;
        Ok(byte)
    }

    /// A lib0 variable-length unsigned integer (at most 64 bits).
    fn var(&mut self, what: &str) -> Result<u64, String> {
        let mut value: u64 = 0;
        for shift in (0..64).step_by(7) {
            let byte = self.u8(what)?;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                if shift == 63 && byte > 1 {
                    break;
                }
                return Ok(value);
            }
        }
        Err(format!("the {what} is not a 64-bit number"))
    }

    fn u32(&mut self, what: &str) -> Result<u32, String> {
        let value = self.var(what)?;
        u32::try_from(value).map_err(|_| format!("the {what} ({value}) exceeds 2^32"))
    }

    fn client(&mut self) -> Result<u64, String> {
        let client = self.var("client id")?;
        if client > MAX_CLIENT_ID {
            return Err(format!("client id {client} exceeds 2^53"));
        }
        Ok(client)
    }

    fn id(&mut self) -> Result<(ClientID, u32), String> {
        let client = ClientID::new(self.client()?);
        Ok((client, self.u32("clock")?))
    }

    fn skip(&mut self, len: usize, what: &str) -> Result<(), String> {
        if self.buf.len() - self.at < len {
            return Err(format!("the update ends inside its {what}"));
        }
        self.at += len;
        Ok(())
    }

    fn buf(&mut self, what: &str) -> Result<&'a [u8], String> {
        let len = self.var(what)?;
        let len = usize::try_from(len).map_err(|_| format!("the {what} is too long"))?;
        let start = self.at;
        self.skip(len, what)?;
        Ok(&self.buf[start..self.at])
    }

    fn str(&mut self, what: &str) -> Result<&'a str, String> {
        let raw = self.buf(what)?;
        std::str::from_utf8(raw).map_err(|_| format!("the {what} is not UTF-8"))
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
    /// client (a hole); `items` is what it inserts ([`scan`]: each client's
    /// blocks together, by clock).
    pub fn check(&self, items: &[Item]) -> Result<(), String> {
        let mut current: Option<(ClientID, u32)> = None;
        for item in items {
            let have = match &mut current {
                Some((client, have)) if *client == item.client => have,
                _ => &mut current.insert((item.client, self.0.get(&item.client))).1,
            };
            if item.clock > *have {
                return Err(format!(
                    "the update starts client {} at clock {} but the table has it up to {have}",
                    item.client, item.clock
                ));
            }
            *have = (*have).max(item.clock + item.len);
        }
        Ok(())
    }

    /// Takes in what an applied update inserted.
    pub fn advance(&mut self, items: &[Item]) {
        for item in items {
            self.0.set_max(item.client, item.clock + item.len);
        }
    }

    /// The state vector these clocks make (a sync step 1 asks for what lies beyond).
    pub fn state_vector(&self) -> &StateVector {
        &self.0
    }

    /// The clock of one client (0 when the document has nothing of it).
    pub fn get(&self, client: &ClientID) -> u32 {
        self.0.get(client)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use yrs::updates::decoder::Decode;
    use yrs::{GetString, Text, Update};

    fn typed(doc: &Doc, at: u32, text: &str) -> Vec<u8> {
        let field = doc.get_or_insert_text("t");
        let mut txn = doc.transact_mut();
        field.insert(&mut txn, at, text);
        txn.encode_update_v1()
    }

    fn refused(update: &[u8], because: &str) {
        let error = scan(update).expect_err("refused");
        assert!(error.contains(because), "{error}");
    }

    #[test]
    fn a_keystroke_is_one_item() {
        let doc = Doc::with_client_id(7);
        typed(&doc, 0, "hallo");
        let update = typed(&doc, 2, "😀é");
        let items = scan(&update).expect("well formed").items;
        // The emoji counts two UTF-16 units, as Yjs counts it.
        assert_eq!(
            items
                .iter()
                .map(|i| (i.client, i.clock, i.len))
                .collect::<Vec<_>>(),
            [(ClientID::new(7), 5, 3)]
        );
    }

    #[test]
    fn legacy_json_content_is_refused() {
        // One block of client 0 at clock 0: info 2 (JSON, no origins),
        // parent named "t", a JSON content that says 0 strings and has one.
        // yrs reads the one string anyway and writes the count as 1, which
        // it then reads as two: the document could never be encoded again.
        let update: &[u8] = &[1, 1, 0, 0, 2, 1, 1, b't', 0, 2, b'{', b'}', 0];
        assert!(Update::decode_v1(update).is_ok(), "yrs reads it");
        refused(update, "legacy JSON");
    }

    #[test]
    fn a_content_ref_yjs_does_not_know_is_refused() {
        // Info 0x14: a string content with bit 4 set, which yrs reads as 4
        // and Yjs refuses.
        let update: &[u8] = &[1, 1, 0, 0, 0x14, 1, 1, b't', 1, b'x', 0];
        assert!(Update::decode_v1(update).is_ok(), "yrs reads it");
        refused(update, "unknown content ref 20");
    }

    #[test]
    fn a_block_whose_clock_overflows_is_refused() {
        // A collected block of client 96 at clock 2 whose length (an
        // eight-byte varint) reads as u32::MAX in yrs: release builds used
        // to wrap it into an inverted range that broke every later encode.
        let update: &[u8] = &[1, 1, 96, 2, 0, 255, 255, 255, 255, 255, 255, 255, 4, 0];
        refused(update, "exceeds 2^32");
        let update: &[u8] = &[1, 1, 96, 2, 0, 255, 255, 255, 255, 15, 0];
        refused(update, "runs past 2^32");
        // The same in a delete set.
        let update: &[u8] = &[0, 1, 96, 1, 2, 255, 255, 255, 255, 15];
        refused(update, "deleted range of client 96 at clock 2 runs past");
    }

    #[test]
    fn deep_nesting_is_refused_before_yrs_recurses() {
        // An array value nested 100,000 deep: yrs' decoder overflowed the
        // stack on it (the process aborted).
        let mut update = vec![1, 1, 5, 0, ANY, 1, 1, b't', 1];
        for _ in 0..100_000 {
            update.extend([117, 1]);
        }
        update.extend([126, 0]);
        refused(&update, "nested deeper than 64");
        // Up to the limit it is fine.
        let mut update = vec![1, 1, 5, 0, ANY, 1, 1, b't', 1];
        for _ in 0..MAX_ANY_DEPTH - 1 {
            update.extend([117, 1]);
        }
        update.extend([126, 0]);
        assert!(scan(&update).is_ok());
    }

    #[test]
    fn shapes_yjs_and_yrs_read_differently_are_refused() {
        // A GC ref with an origin flag: Yjs reads a GC, yrs an item.
        refused(&[1, 1, 5, 0, 0x80, 1, 0, 0], "unknown content ref 0");
        // An XML hook: Yjs reads its name, yrs does not.
        refused(&[1, 1, 5, 0, TYPE, 1, 1, b't', 5, 1, b'h', 0], "XML hooks");
        // A subdocument.
        refused(
            &[1, 1, 5, 0, DOC, 1, 1, b't', 1, b'g', 126, 0],
            "subdocuments",
        );
        // The same client twice.
        refused(
            &[2, 1, 5, 0, 0, 1, 1, 5, 1, 0, 1, 0],
            "client 5 is listed twice",
        );
        // Bytes after the delete set.
        refused(&[0, 0, 0], "1 bytes follow");
        // Cut short.
        refused(&[1, 1, 5, 0, STRING, 1, 1, b't', 4, b'a'], "ends inside");
    }

    #[test]
    fn a_block_beyond_the_clients_clock_is_a_hole() {
        let writer = Doc::with_client_id(9);
        let first = scan(&typed(&writer, 0, "a")).unwrap().items;
        let second_update = typed(&writer, 1, "b");
        let second = scan(&second_update).unwrap().items;
        let room = Doc::new();
        let mut clocks = Clocks::of(&room);
        let error = clocks.check(&second).expect_err("clock 1 without clock 0");
        assert!(error.contains("client 9 at clock 1"), "{error}");

        clocks.check(&first).expect("starts at 0");
        let whole = writer
            .transact()
            .encode_state_as_update_v1(&StateVector::default());
        room.transact_mut()
            .apply_update(Update::decode_v1(&whole).unwrap())
            .unwrap();
        clocks.advance(&first);
        clocks.advance(&second);
        assert_eq!(clocks.get(&ClientID::new(9)), 2);
        let text = room.get_or_insert_text("t");
        assert_eq!(text.get_string(&room.transact()), "ab");
    }

    #[test]
    fn an_update_that_skips_what_the_room_has_passes() {
        // Client 9 at 0..1, a skip of 1, then 2..3: fine when the room has
        // clock 1 already, a hole when it does not.
        let update: &[u8] = &[
            1, 3, 9, 0, STRING, 1, 1, b't', 1, b'a', SKIP, 1, STRING, 1, 1, b't', 1, b'c', 0,
        ];
        let items = scan(update).unwrap().items;
        assert_eq!(items.len(), 2);
        let mut clocks = Clocks::default();
        assert!(clocks.check(&items).is_err());
        let mut skipped = items[0];
        skipped.len = 2;
        clocks.advance(&[skipped]);
        assert!(clocks.check(&items).is_ok());
    }
}
