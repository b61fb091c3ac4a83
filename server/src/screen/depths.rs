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

use super::{Anchor, Clocks, Deleted, INLINE_ITEMS, Item, Scan};

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

    /// Where the document has one clock of one client.
    fn known(&self, (client, clock): (ClientID, u32), clocks: &Clocks) -> Found {
        if clock >= clocks.get(&client) {
            return Found::Missing;
        }
        let Some(spans) = self.clients.get(&client) else {
            return Found::At(UNKNOWN, Shelf::Unknown);
        };
        let at = spans.partition_point(|s| s.end <= clock);
        match spans.get(at) {
            Some(span) if span.start <= clock => Found::At(span.depth, span.shelf),
            _ => Found::At(UNKNOWN, Shelf::Unknown),
        }
    }

    /// The depth and root of every item, in order: from what it names,
    /// looked up in this update first (items may name items that come later
    /// in it) and in the document after. Iterative, with each item worked
    /// out once.
    fn resolve(&self, items: &[Item], clocks: &Clocks) -> SmallVec<[Found; INLINE_ITEMS]> {
        if let [item] = items {
            // A keystroke: one item, naming only what the document has.
            let outside = |(client, clock): (ClientID, u32)| {
                let own =
                    client == item.client && (item.clock..item.clock + item.len).contains(&clock);
                if own {
                    Found::At(UNKNOWN, Shelf::Unknown)
                } else {
                    self.known((client, clock), clocks)
                }
            };
            return SmallVec::from_elem(Self::follow(item.anchor, outside), 1);
        }
        const TODO: Found = Found::At(UNKNOWN - 1, Shelf::Unknown);
        const BUSY: Found = Found::At(UNKNOWN - 2, Shelf::Unknown);
        let is = |f: Found, what: Found| matches!((f, what), (Found::At(a, _), Found::At(b, _)) if a == b);
        let mut found: SmallVec<[Found; INLINE_ITEMS]> = SmallVec::from_elem(TODO, items.len());
        // The items by client and clock, to find the one holding an id.
        let mut order: SmallVec<[usize; INLINE_ITEMS]> = (0..items.len()).collect();
        if items.len() > 1 {
            order.sort_unstable_by_key(|&i| (items[i].client, items[i].clock));
        }
        let find = |(client, clock): (ClientID, u32)| -> Option<usize> {
            let at = order.partition_point(|&i| {
                (items[i].client, items[i].clock + items[i].len) <= (client, clock)
            });
            order
                .get(at)
                .copied()
                .filter(|&i| items[i].client == client && items[i].clock <= clock)
        };
        let mut stack: SmallVec<[usize; 8]> = SmallVec::new();
        for first in 0..items.len() {
            if !is(found[first], TODO) {
                continue;
            }
            stack.push(first);
            'work: while let Some(&i) = stack.last() {
                found[i] = BUSY;
                // Everything this item names must be worked out first.
                let refs: SmallVec<[(ClientID, u32); 2]> = match items[i].anchor {
                    Anchor::Parent(client, clock) => [(client, clock)].into_iter().collect(),
                    Anchor::Beside { origin, right } => origin.into_iter().chain(right).collect(),
                    Anchor::Root { .. } | Anchor::Nowhere => SmallVec::new(),
                };
                for id in &refs {
                    if let Some(k) = find(*id)
                        && k != i
                        && is(found[k], TODO)
                    {
                        stack.push(k);
                        continue 'work;
                    }
                }
                let lookup = |id: (ClientID, u32)| match find(id) {
                    // Itself, or a cycle: nothing to go by.
                    Some(k) if k == i || is(found[k], BUSY) => Found::At(UNKNOWN, Shelf::Unknown),
                    Some(k) => found[k],
                    None => self.known(id, clocks),
                };
                found[i] = Self::follow(items[i].anchor, lookup);
                stack.pop();
            }
        }
        found
    }

    /// An item's depth and root from its anchor, given where what it names is.
    fn follow(anchor: Anchor, lookup: impl Fn((ClientID, u32)) -> Found) -> Found {
        match anchor {
            Anchor::Root { server_only } => Found::At(
                1,
                if server_only {
                    Shelf::Server
                } else {
                    Shelf::Table
                },
            ),
            Anchor::Nowhere => Found::At(UNKNOWN, Shelf::Gone),
            Anchor::Parent(client, clock) => match lookup((client, clock)) {
                Found::Missing => Found::Missing,
                Found::At(UNKNOWN, shelf) => Found::At(UNKNOWN, shelf),
                Found::At(d, shelf) => Found::At(d.saturating_add(1).min(UNKNOWN - 3), shelf),
            },
            Anchor::Beside { origin, right } => {
                let origin = origin.map(&lookup);
                let right = right.map(&lookup);
                let sides = origin.into_iter().chain(right);
                if sides.clone().any(|f| matches!(f, Found::Missing)) {
                    return Found::Missing;
                }
                // Next to a collected block, Yjs and yrs give an item no parent.
                if sides
                    .clone()
                    .any(|f| matches!(f, Found::At(_, Shelf::Gone)))
                {
                    return Found::At(UNKNOWN, Shelf::Gone);
                }
                // The depth from the first side that has one; the root from
                // the origin (whose parent the item takes), else the right.
                let depth = sides
                    .clone()
                    .find_map(|f| match f {
                        Found::At(d, _) if d != UNKNOWN => Some(d),
                        _ => None,
                    })
                    .unwrap_or(UNKNOWN);
                let shelf = match sides.clone().next() {
                    Some(Found::At(_, shelf)) => shelf,
                    _ => Shelf::Unknown,
                };
                // A side of unknown root leaves the item's root unknown.
                let shelf = if sides
                    .clone()
                    .any(|f| matches!(f, Found::At(_, Shelf::Unknown)))
                {
                    Shelf::Unknown
                } else {
                    shelf
                };
                Found::At(depth, shelf)
            }
        }
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
mod tests {
    use super::super::scan;
    use super::*;
    use yrs::{Doc, Map, MapPrelim, MapRef, ReadTxn, StateVector, Text, TextPrelim, Transact};

    fn nested(depth: usize) -> Vec<u8> {
        let doc = Doc::with_client_id(1);
        let root = doc.get_or_insert_map("notes");
        let mut txn = doc.transact_mut();
        let mut map: MapRef = root.insert(&mut txn, "n", MapPrelim::default());
        for _ in 1..depth {
            map = map.insert(&mut txn, "c", MapPrelim::default());
        }
        drop(txn);
        doc.transact()
            .encode_state_as_update_v1(&StateVector::default())
    }

    fn check(depths: &Depths, update: &[u8]) -> Result<Placement, Refusal> {
        let scan = scan(update).expect("well formed");
        depths.place(&scan, &Clocks::default())
    }

    fn items(items: &[Item]) -> Scan {
        Scan {
            items: items.iter().copied().collect(),
            deletes: Vec::new(),
        }
    }

    #[test]
    fn a_note_hangs_two_deep() {
        let doc = Doc::with_client_id(3);
        let notes = doc.get_or_insert_map("notes");
        let mut txn = doc.transact_mut();
        let note: MapRef = notes.insert(&mut txn, "n1", MapPrelim::default());
        let text = note.insert(&mut txn, "text", TextPrelim::new(""));
        text.insert(&mut txn, 0, "hallo");
        let update = txn.encode_update_v1();
        drop(txn);
        let mut depths = Depths::default();
        let placement = check(&depths, &update).expect("two deep is fine");
        depths.commit(placement);
        // The note's map at 1, its text at 2, the text's characters at 3.
        let spans = &depths.clients[&ClientID::new(3)];
        let levels: Vec<u16> = spans.iter().map(|s| s.depth).collect();
        assert_eq!(levels, [1, 2, 3]);
        // A keystroke beside the last character lands at 3 too.
        let more = {
            let mut txn = doc.transact_mut();
            text.insert(&mut txn, 5, "!");
            txn.encode_update_v1()
        };
        let mut clocks = Clocks::default();
        clocks.advance(&scan(&update).unwrap().items);
        let scan = scan(&more).unwrap();
        let placement = depths.place(&scan, &clocks).unwrap();
        assert_eq!(placement.spans[0].1.depth, 3);
    }

    #[test]
    fn a_chain_past_the_limit_is_refused_in_one_update() {
        let depths = Depths::default();
        assert!(check(&depths, &nested(usize::from(MAX_TYPE_DEPTH))).is_ok());
        let error = check(&depths, &nested(usize::from(MAX_TYPE_DEPTH) + 1)).expect_err("too deep");
        assert!(error.to_string().contains("nested 33 deep"), "{error}");
        // 20,000 deep: refused without recursing (the check is iterative).
        assert!(check(&depths, &nested(20_000)).is_err());
    }

    #[test]
    fn a_chain_built_one_update_at_a_time_is_refused() {
        let doc = Doc::with_client_id(4);
        let root = doc.get_or_insert_map("notes");
        let mut depths = Depths::default();
        let mut clocks = Clocks::default();
        let mut map: Option<MapRef> = None;
        for level in 1..=u32::from(MAX_TYPE_DEPTH) + 1 {
            let update = {
                let mut txn = doc.transact_mut();
                map = Some(match &map {
                    None => root.insert(&mut txn, "n", MapPrelim::default()),
                    Some(parent) => parent.insert(&mut txn, "c", MapPrelim::default()),
                });
                txn.encode_update_v1()
            };
            let scan = scan(&update).unwrap();
            match depths.place(&scan, &clocks) {
                Ok(placement) => {
                    assert!(level <= u32::from(MAX_TYPE_DEPTH));
                    depths.commit(placement);
                    clocks.advance(&scan.items);
                }
                Err(error) => {
                    assert_eq!(level, u32::from(MAX_TYPE_DEPTH) + 1, "{error}");
                    assert!(matches!(error, Refusal::TooDeep(_)));
                    return;
                }
            }
        }
        panic!("the chain was never refused");
    }

    #[test]
    fn a_type_beside_a_collected_origin_takes_its_right_origins_depth() {
        // Client 8's type next to an origin the document has but the room
        // knows nothing of and a right origin at depth 5: it hangs at 5,
        // under a root the room cannot tell.
        let mut depths = Depths::default();
        depths.commit(Placement {
            spans: [(
                ClientID::new(2),
                Span {
                    start: 0,
                    end: 10,
                    depth: 5,
                    shelf: Shelf::Table,
                },
            )]
            .into_iter()
            .collect(),
            ..Placement::default()
        });
        let item = Item {
            client: ClientID::new(8),
            clock: 0,
            len: 1,
            anchor: Anchor::Beside {
                origin: Some((ClientID::new(99), 3)),
                right: Some((ClientID::new(2), 4)),
            },
            shared: true,
        };
        let mut clocks = Clocks::default();
        let had = |client, len| Item {
            client: ClientID::new(client),
            clock: 0,
            len,
            anchor: Anchor::Nowhere,
            shared: false,
        };
        clocks.advance(&[had(99, 4), had(2, 10)]);
        let placement = depths.place(&items(&[item]), &clocks).unwrap();
        assert_eq!(placement.spans[0].1.depth, 5);
        assert!(placement.undecided());
    }

    #[test]
    fn rebuilding_from_storage_knows_every_depth() {
        let update = nested(MAX_TYPE_DEPTH.into());
        let depths = Depths::rebuild([update.as_slice()]);
        // One level more under the deepest map is refused after a reload too.
        let item = Item {
            client: ClientID::new(5),
            clock: 0,
            len: 1,
            anchor: Anchor::Parent(ClientID::new(1), u32::from(MAX_TYPE_DEPTH) - 1),
            shared: true,
        };
        assert!(depths.place(&items(&[item]), &Clocks::default()).is_err());
    }

    #[test]
    fn writes_under_server_only_roots_are_refused_and_old_deletes_pass() {
        use yrs::updates::decoder::Decode;
        // The server writes `control` twice: the first phase is deleted.
        let server = Doc::with_client_id(1);
        let control = server.get_or_insert_map("control");
        let mut depths = Depths::default();
        let mut clocks = Clocks::default();
        let mut stored = Vec::new();
        for phase in ["schrijven", "stemmen"] {
            let update = {
                let mut txn = server.transact_mut();
                control.insert(&mut txn, "phase", phase);
                txn.encode_update_v1()
            };
            let scan = scan(&update).unwrap();
            depths.commit(depths.place_unchecked(&scan, &clocks));
            clocks.advance(&scan.items);
            stored.push(update);
        }
        // A client that has all of it answers a step 1 with its whole
        // delete set, the server's delete of the first phase among it.
        let client = Doc::with_client_id(2);
        for update in &stored {
            client
                .transact_mut()
                .apply_update(yrs::Update::decode_v1(update).unwrap())
                .unwrap();
        }
        let notes = client.get_or_insert_map("notes");
        let step2 = {
            let mut txn = client.transact_mut();
            notes.insert(&mut txn, "n1", "hallo");
            drop(txn);
            client
                .transact()
                .encode_state_as_update_v1(clocks.state_vector())
        };
        let scan_ok = scan(&step2).unwrap();
        assert!(
            !scan_ok.deletes.is_empty(),
            "the old phase is in its delete set"
        );
        let placement = depths
            .place(&scan_ok, &clocks)
            .expect("nothing new under control");
        assert!(!placement.undecided());

        // Writing `control`, directly or beside the server's item, is refused.
        let cheat = {
            let control = client.get_or_insert_map("control");
            let mut txn = client.transact_mut();
            control.insert(&mut txn, "phase", "gesloten");
            txn.encode_update_v1()
        };
        let refusal = depths.place(&scan(&cheat).unwrap(), &clocks).unwrap_err();
        assert!(matches!(refusal, Refusal::ServerOnly(_)), "{refusal}");
        // Deleting the server's live value is refused too.
        let delete: &[u8] = &[0, 1, 1, 1, 1, 1];
        let refusal = depths.place(&scan(delete).unwrap(), &clocks).unwrap_err();
        assert!(matches!(refusal, Refusal::ServerOnly(_)), "{refusal}");
        // A delete of clocks nobody has is a missing dependency.
        let delete: &[u8] = &[0, 1, 1, 1, 7, 1];
        let refusal = depths.place(&scan(delete).unwrap(), &clocks).unwrap_err();
        assert!(matches!(refusal, Refusal::Missing(_)), "{refusal}");
        // After a rebuild from what is stored, the same holds.
        let rebuilt = Depths::rebuild(stored.iter().map(Vec::as_slice));
        assert!(rebuilt.place(&scan_ok, &clocks).is_ok());
        assert!(rebuilt.place(&scan(&cheat).unwrap(), &clocks).is_err());
    }
}
