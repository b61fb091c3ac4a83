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
use yrs::ClientID;

mod clocks;
mod cursor;
mod depths;

pub use clocks::Clocks;
pub use depths::{Depths, MAX_TYPE_DEPTH, Placement, Refusal, Writer};

use cursor::Bytes;

/// The deepest nesting of arrays and maps inside one value of an update.
/// Werktafel's schema nests two levels; stock Yjs data rarely more than a
/// handful.
pub const MAX_ANY_DEPTH: usize = 64;

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

/// Items a scan (and a placement, `depths.rs`) holds without allocating: a
/// keystroke is one or two, a whole note (the board's "add a note": a map,
/// its text and eight values) eleven. Each allocation cost about as much
/// as a tenth of the screen's whole walk of a note (`benches/note_insert.rs`).
pub(crate) const INLINE_ITEMS: usize = 16;

/// What [`scan`] found in an update.
#[derive(Debug, Default)]
pub struct Scan {
    pub items: SmallVec<[Item; INLINE_ITEMS]>,
    /// The delete set's ranges (empty ones left out), as listed.
    pub deletes: Vec<Deleted>,
}

/// Walks `update` (lib0 v1) and returns what it inserts, or why it is refused.
pub fn scan(update: &[u8]) -> Result<Scan, String> {
    let mut bytes = Bytes::new(update);
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
    if bytes.remaining() != 0 {
        return Err(format!("{} bytes follow the delete set", bytes.remaining()));
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

#[cfg(test)]
mod tests;
