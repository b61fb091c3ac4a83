//! How deep every item of a document hangs, and under which root, so that
//! no client can nest shared types without bound or write what only the
//! server writes.
//!
//! yrs walks nested types by recursion: deleting a type deletes its
//! subtree recursively, and converting one to JSON (the summary, exports)
//! recurses too. A chain of 5,000 maps, each inside the last (40 KB of
//! updates), overflowed a 2 MiB stack, and a stack overflow aborts the
//! whole server. The depth of a new item is not in its bytes: an item names
//! its parent, or only its origin (whose parent it shares). So the room
//! keeps the depth of every clock range of the document ([`Depths`]; a
//! root's children are at depth 1), works out the depth of each item an
//! update brings from what it names, and refuses a shared type deeper than
//! [`MAX_TYPE_DEPTH`]. Werktafel's schema nests two deep (a note's map in
//! `notes`, its text in the map).
//!
//! The same bookkeeping knows each clock range's root ([`Shelf`]): under a
//! server-only root (`meta`, `control`, `votes`), under any other, in a
//! collected block (gone), or not known. An update that inserts under a
//! server-only root, or deletes something there that the server has not
//! deleted itself, is refused before yrs reads it ([`Refusal::ServerOnly`]):
//! undoing it after the fact meant reloading the table from storage, which
//! cost 145 ms of CPU per attempt at 20,000 notes. Every client's sync step 2
//! carries the delete set of its whole document, which includes the
//! server's own overwritten `control` values, so the deletions the server
//! made under those roots are kept too ([`Depths::commit`]).
//!
//! An item whose anchor the document has but the room knows nothing of
//! (stored before this bookkeeping) gets no depth and an unknown root: the
//! update is *undecided* ([`Placement::undecided`]), and the room falls back
//! to applying it and watching the server-only maps. An anchor that is
//! neither in the document nor in the update is a missing dependency, which
//! yrs would keep pending: refused ([`Refusal::Missing`]), as is a delete of
//! clocks that neither has.

use std::collections::HashMap;

use smallvec::SmallVec;
use yrs::ClientID;

use super::{Clocks, Deleted, INLINE_ITEMS, Item, Scan};

mod resolve;

/// The deepest a shared type may hang (a root's children are at depth 1).
pub const MAX_TYPE_DEPTH: u16 = 32;

/// No known depth (see the module's last paragraph).
const UNKNOWN: u16 = u16::MAX;

/// Under which kind of root a clock range hangs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shelf {
    /// Under a root clients may write (`notes`, `lanes`, ...).
    Table,
    /// Under `meta`, `control` or `votes`.
    Server,
    /// In a collected block, or anchored to one: yrs gives it no parent.
    Gone,
    /// Not known to the room (see the module's last paragraph).
    Unknown,
}

/// Who wrote an update: what it may touch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Writer {
    /// A client: never the server-only maps.
    Client,
    /// The server itself, or storage (which holds the server's writes too).
    Server,
}

/// Why [`Depths::place`] refuses an update.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// A shared type nested past [`MAX_TYPE_DEPTH`].
    #[error("{0}")]
    TooDeep(String),
    /// An insert under, or a delete of, what only the server writes.
    #[error("{0}")]
    ServerOnly(String),
    /// Names an item (or deletes clocks) neither the document nor the
    /// update has.
    #[error("{0}")]
    Missing(String),
}

/// A clock range of one client whose items all hang at one depth, under
/// one kind of root.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Span {
    start: u32,
    end: u32,
    depth: u16,
    shelf: Shelf,
}

/// The depth and root of every clock the document has, per client, in
/// clock order.
#[derive(Debug, Default)]
pub struct Depths {
    clients: HashMap<ClientID, Vec<Span>>,
    /// The ranges under server-only roots that the document has deleted,
    /// per client, sorted and disjoint.
    server_deleted: HashMap<ClientID, Vec<(u32, u32)>>,
}

/// The depths an update's new items get, for [`Depths::commit`] once the
/// update is applied.
#[derive(Debug, Default)]
pub struct Placement {
    spans: SmallVec<[(ClientID, Span); INLINE_ITEMS]>,
    /// Deletes to note under server-only roots (the server's own writes).
    deletes: Vec<Deleted>,
    undecided: bool,
}

impl Placement {
    /// Whether the update touches something whose root the room does not
    /// know: only applying it tells whether it writes a server-only map.
    pub fn undecided(&self) -> bool {
        self.undecided
    }
}

/// Where an item's anchor is.
#[derive(Clone, Copy)]
enum Found {
    At(u16, Shelf),
    /// Neither in the document nor in the update.
    Missing,
}

impl Depths {
    /// The depths of a document built from `updates` in order (the stored
    /// snapshot and log). An update the scan refuses (stored before the
    /// screen existed) leaves its items without a depth.
    pub fn rebuild<'a>(updates: impl IntoIterator<Item = &'a [u8]>) -> Depths {
        let mut depths = Depths::default();
        let mut clocks = Clocks::default();
        for update in updates {
            let Ok(scan) = super::scan(update) else {
                continue;
            };
            let placement = depths.place_unchecked(&scan, &clocks);
            depths.commit(placement);
            clocks.advance(&scan.items);
        }
        depths
    }

    /// Works out the depth and root of every item of an update that the
    /// document does not have yet (`clocks`), refusing a shared type past
    /// [`MAX_TYPE_DEPTH`], anything under a server-only root, a delete
    /// there, and a missing dependency.
    pub fn place(&self, scan: &Scan, clocks: &Clocks) -> Result<Placement, Refusal> {
        self.place_by(scan, clocks, Writer::Client)
    }

    /// [`Depths::place`] for what `writer` may write: the server (and so
    /// what storage holds) writes the server-only maps, a client never does.
    pub fn place_by(
        &self,
        scan: &Scan,
        clocks: &Clocks,
        writer: Writer,
    ) -> Result<Placement, Refusal> {
        let items = &scan.items;
        let resolved = self.resolve(items, clocks);
        let mut undecided = false;
        for (item, found) in items.iter().zip(&resolved) {
            let new = item.clock + item.len > clocks.get(&item.client);
            match *found {
                Found::Missing => {
                    return Err(Refusal::Missing(format!(
                        "a block of client {} at clock {} names an item the table does not have",
                        item.client, item.clock
                    )));
                }
                Found::At(_, Shelf::Server) if new && writer == Writer::Client => {
                    return Err(Refusal::ServerOnly(format!(
                        "a block of client {} at clock {} writes a server-only map",
                        item.client, item.clock
                    )));
                }
                Found::At(depth, _)
                    if item.shared && depth != UNKNOWN && depth > MAX_TYPE_DEPTH =>
                {
                    return Err(Refusal::TooDeep(format!(
                        "a shared type nested {depth} deep (at most {MAX_TYPE_DEPTH})"
                    )));
                }
                Found::At(_, Shelf::Unknown) if new => undecided = true,
                Found::At(..) => {}
            }
        }
        undecided |= self.check_deletes(scan, clocks, writer)?;
        let mut placement = Self::placement(items, &resolved, clocks);
        placement.undecided = undecided;
        Ok(placement)
    }

    /// [`Depths::place`] without the checks: for the server's own writes
    /// and what storage holds.
    pub fn place_unchecked(&self, scan: &Scan, clocks: &Clocks) -> Placement {
        let resolved = self.resolve(&scan.items, clocks);
        let mut placement = Self::placement(&scan.items, &resolved, clocks);
        placement.deletes = scan.deletes.clone();
        placement
    }

    fn placement(items: &[Item], found: &[Found], clocks: &Clocks) -> Placement {
        let mut placement = Placement::default();
        for (item, found) in items.iter().zip(found) {
            let have = clocks.get(&item.client);
            let end = item.clock + item.len;
            if end <= have {
                continue;
            }
            let (depth, shelf) = match *found {
                Found::At(depth, shelf) => (depth, shelf),
                Found::Missing => (UNKNOWN, Shelf::Unknown),
            };
            placement.spans.push((
                item.client,
                Span {
                    start: item.clock.max(have),
                    end,
                    depth,
                    shelf,
                },
            ));
        }
        placement
    }

    /// Takes in the depths of an applied update's new items, and what it
    /// deleted under server-only roots.
    pub fn commit(&mut self, placement: Placement) {
        for (client, span) in placement.spans {
            let spans = self.clients.entry(client).or_default();
            let mut span = span;
            if let Some(last) = spans.last_mut() {
                // Already known (a repeat within one update): keep the first.
                span.start = span.start.max(last.end);
                if span.start >= span.end {
                    continue;
                }
                if last.end == span.start && last.depth == span.depth && last.shelf == span.shelf {
                    last.end = span.end;
                    continue;
                }
            }
            spans.push(span);
        }
        for deleted in placement.deletes {
            let Some(spans) = self.clients.get(&deleted.client) else {
                continue;
            };
            let mut hits: SmallVec<[(u32, u32); 2]> = SmallVec::new();
            let from = spans.partition_point(|s| s.end <= deleted.start);
            for span in spans[from..].iter().take_while(|s| s.start < deleted.end) {
                if span.shelf == Shelf::Server {
                    hits.push((span.start.max(deleted.start), span.end.min(deleted.end)));
                }
            }
            if !hits.is_empty() {
                let ranges = self.server_deleted.entry(deleted.client).or_default();
                for hit in hits {
                    insert_range(ranges, hit);
                }
            }
        }
    }

    /// Refuses a delete of clocks neither the document nor the update has,
    /// or of a server-only range the document has not deleted; returns
    /// whether a delete touches a range of unknown root.
    fn check_deletes(&self, scan: &Scan, clocks: &Clocks, writer: Writer) -> Result<bool, Refusal> {
        if scan.deletes.is_empty() {
            return Ok(false);
        }
        // Sorted and merged first: a hostile delete set may list one large
        // range a million times, and each is checked against the spans.
        let mut deletes = scan.deletes.clone();
        deletes.sort_unstable_by_key(|d| (d.client, d.start));
        deletes.dedup_by(|next, kept| {
            let touches = next.client == kept.client && next.start <= kept.end;
            if touches {
                kept.end = kept.end.max(next.end);
            }
            touches
        });
        // The end of what the update brings, per client.
        let mut brought: HashMap<ClientID, u32> = HashMap::new();
        for item in &scan.items {
            let end = brought.entry(item.client).or_default();
            *end = (*end).max(item.clock + item.len);
        }
        let mut undecided = false;
        for deleted in &deletes {
            let have = clocks.get(&deleted.client);
            // Beyond the document, only the update's own items may be deleted.
            let reach = have.max(brought.get(&deleted.client).copied().unwrap_or(0));
            if deleted.end > reach {
                return Err(Refusal::Missing(format!(
                    "the update deletes clocks {}..{} of client {} that the table does not have",
                    deleted.start, deleted.end, deleted.client
                )));
            }
            let end = deleted.end.min(have);
            if deleted.start >= end {
                continue;
            }
            let Some(spans) = self.clients.get(&deleted.client) else {
                continue;
            };
            let from = spans.partition_point(|s| s.end <= deleted.start);
            for span in spans[from..].iter().take_while(|s| s.start < end) {
                let range = (span.start.max(deleted.start), span.end.min(end));
                match span.shelf {
                    Shelf::Server
                        if writer == Writer::Client
                            && !self.server_has_deleted(deleted.client, range) =>
                    {
                        return Err(Refusal::ServerOnly(format!(
                            "the update deletes clocks {}..{} of client {} in a server-only map",
                            range.0, range.1, deleted.client
                        )));
                    }
                    Shelf::Unknown => undecided = true,
                    _ => {}
                }
            }
        }
        Ok(undecided)
    }

    /// Whether the document has deleted all of `range` of `client`.
    fn server_has_deleted(&self, client: ClientID, (start, end): (u32, u32)) -> bool {
        let Some(ranges) = self.server_deleted.get(&client) else {
            return false;
        };
        let at = ranges.partition_point(|r| r.1 <= start);
        ranges.get(at).is_some_and(|r| r.0 <= start && end <= r.1)
    }
}

/// Adds `range` to sorted, disjoint `ranges`, merging what it touches.
fn insert_range(ranges: &mut Vec<(u32, u32)>, (start, end): (u32, u32)) {
    let from = ranges.partition_point(|r| r.1 < start);
    let to = ranges.partition_point(|r| r.0 <= end);
    if from == to {
        ranges.insert(from, (start, end));
        return;
    }
    let merged = (start.min(ranges[from].0), end.max(ranges[to - 1].1));
    ranges.splice(from..to, [merged]);
}

#[cfg(test)]
mod tests;
