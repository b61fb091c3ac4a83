//! How deep every item of a document hangs, so that no client can nest
//! shared types without bound.
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
//! An item whose anchor the room does not know (collected, or not there
//! at all) gets no depth: yrs then deletes it (its parent is gone) or
//! leaves it pending (refused as a missing dependency), so nothing can
//! hang below it.

use std::collections::HashMap;

use smallvec::SmallVec;
use yrs::ClientID;

use super::{Anchor, Clocks, Item};

/// The deepest a shared type may hang (a root's children are at depth 1).
pub const MAX_TYPE_DEPTH: u16 = 32;

/// No known depth (see the module's last paragraph).
const UNKNOWN: u16 = u16::MAX;

/// A clock range of one client whose items all hang at one depth.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Span {
    start: u32,
    end: u32,
    depth: u16,
}

/// The depth of every clock the document has, per client, in clock order.
#[derive(Debug, Default)]
pub struct Depths {
    clients: HashMap<ClientID, Vec<Span>>,
}

/// The depths an update's new items get, for [`Depths::commit`] once the
/// update is applied.
#[derive(Debug, Default)]
pub struct Placement {
    spans: SmallVec<[(ClientID, Span); 2]>,
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
            let placement = depths.place_unchecked(&scan.items, &clocks);
            depths.commit(placement);
            clocks.advance(&scan.items);
        }
        depths
    }

    /// Works out the depth of every item of an update that the document
    /// does not have yet (`clocks`), refusing a shared type past
    /// [`MAX_TYPE_DEPTH`].
    pub fn place(&self, items: &[Item], clocks: &Clocks) -> Result<Placement, String> {
        let resolved = self.resolve(items);
        for (item, depth) in items.iter().zip(&resolved) {
            if item.shared && *depth != UNKNOWN && *depth > MAX_TYPE_DEPTH {
                return Err(format!(
                    "a shared type nested {depth} deep (at most {MAX_TYPE_DEPTH})"
                ));
            }
        }
        Ok(Self::placement(items, &resolved, clocks))
    }

    /// [`Depths::place`] without the limit: for the server's own writes.
    pub fn place_unchecked(&self, items: &[Item], clocks: &Clocks) -> Placement {
        Self::placement(items, &self.resolve(items), clocks)
    }

    fn placement(items: &[Item], depths: &[u16], clocks: &Clocks) -> Placement {
        let mut placement = Placement::default();
        for (item, depth) in items.iter().zip(depths) {
            let have = clocks.get(&item.client);
            let end = item.clock + item.len;
            if end <= have {
                continue;
            }
            placement.spans.push((
                item.client,
                Span {
                    start: item.clock.max(have),
                    end,
                    depth: *depth,
                },
            ));
        }
        placement
    }

    /// Takes in the depths of an applied update's new items.
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
                if last.end == span.start && last.depth == span.depth {
                    last.end = span.end;
                    continue;
                }
            }
            spans.push(span);
        }
    }

    /// The depth of an update's only item.
    fn lone(&self, item: &Item) -> u16 {
        let outside = |(client, clock): (ClientID, u32)| {
            let own = client == item.client && (item.clock..item.clock + item.len).contains(&clock);
            if own {
                UNKNOWN
            } else {
                self.known((client, clock))
            }
        };
        match item.anchor {
            Anchor::Root => 1,
            Anchor::Nowhere => UNKNOWN,
            Anchor::Parent(client, clock) => match outside((client, clock)) {
                UNKNOWN => UNKNOWN,
                d => d.saturating_add(1).min(UNKNOWN - 3),
            },
            Anchor::Beside { origin, right } => match origin.map_or(UNKNOWN, outside) {
                UNKNOWN => right.map_or(UNKNOWN, outside),
                d => d,
            },
        }
    }

    /// The depth the document has for one clock of one client.
    fn known(&self, (client, clock): (ClientID, u32)) -> u16 {
        let Some(spans) = self.clients.get(&client) else {
            return UNKNOWN;
        };
        let at = spans.partition_point(|s| s.end <= clock);
        match spans.get(at) {
            Some(span) if span.start <= clock => span.depth,
            _ => UNKNOWN,
        }
    }

    /// The depth of every item, in order: from what it names, looked up in
    /// this update first (items may name items that come later in it) and
    /// in the document after. Iterative, with each item worked out once.
    fn resolve(&self, items: &[Item]) -> SmallVec<[u16; 2]> {
        if let [item] = items {
            // A keystroke: one item, naming only what the document has.
            return SmallVec::from_elem(self.lone(item), 1);
        }
        const TODO: u16 = UNKNOWN - 1;
        const BUSY: u16 = UNKNOWN - 2;
        let mut depth: SmallVec<[u16; 2]> = SmallVec::from_elem(TODO, items.len());
        // The items by client and clock, to find the one holding an id.
        let mut order: SmallVec<[usize; 2]> = (0..items.len()).collect();
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
            if depth[first] != TODO {
                continue;
            }
            stack.push(first);
            'work: while let Some(&i) = stack.last() {
                depth[i] = BUSY;
                // What this item's depth follows from, in order of preference.
                let (refs, plus): (SmallVec<[(ClientID, u32); 2]>, u16) = match items[i].anchor {
                    Anchor::Root => {
                        depth[i] = 1;
                        stack.pop();
                        continue;
                    }
                    Anchor::Nowhere => {
                        depth[i] = UNKNOWN;
                        stack.pop();
                        continue;
                    }
                    Anchor::Parent(client, clock) => ([(client, clock)].into_iter().collect(), 1),
                    Anchor::Beside { origin, right } => {
                        (origin.into_iter().chain(right).collect(), 0)
                    }
                };
                let mut found = UNKNOWN;
                for id in refs {
                    let base = match find(id) {
                        Some(k) if k == i => UNKNOWN,
                        Some(k) => match depth[k] {
                            TODO => {
                                // Work that one out first, then this one again.
                                stack.push(k);
                                continue 'work;
                            }
                            BUSY => UNKNOWN,
                            d => d,
                        },
                        None => self.known(id),
                    };
                    if base != UNKNOWN {
                        found = base.saturating_add(plus).min(UNKNOWN - 3);
                        break;
                    }
                }
                depth[i] = found;
                stack.pop();
            }
        }
        depth
    }
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

    fn check(depths: &Depths, update: &[u8]) -> Result<Placement, String> {
        let scan = scan(update).expect("well formed");
        depths.place(&scan.items, &Clocks::default())
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
        let placement = depths.place(&scan.items, &clocks).unwrap();
        assert_eq!(placement.spans[0].1.depth, 3);
    }

    #[test]
    fn a_chain_past_the_limit_is_refused_in_one_update() {
        let depths = Depths::default();
        assert!(check(&depths, &nested(usize::from(MAX_TYPE_DEPTH))).is_ok());
        let error = check(&depths, &nested(usize::from(MAX_TYPE_DEPTH) + 1)).expect_err("too deep");
        assert!(error.contains("nested 33 deep"), "{error}");
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
            match depths.place(&scan.items, &clocks) {
                Ok(placement) => {
                    assert!(level <= u32::from(MAX_TYPE_DEPTH));
                    depths.commit(placement);
                    clocks.advance(&scan.items);
                }
                Err(error) => {
                    assert_eq!(level, u32::from(MAX_TYPE_DEPTH) + 1, "{error}");
                    return;
                }
            }
        }
        panic!("the chain was never refused");
    }

    #[test]
    fn a_type_beside_a_collected_origin_takes_its_right_origins_depth() {
        // Client 8's type next to an origin the room does not know (as if
        // collected) and a right origin at depth 5: it hangs at 5.
        let mut depths = Depths::default();
        depths.commit(Placement {
            spans: [(
                ClientID::new(2),
                Span {
                    start: 0,
                    end: 10,
                    depth: 5,
                },
            )]
            .into_iter()
            .collect(),
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
        let placement = depths.place(&[item], &Clocks::default()).unwrap();
        assert_eq!(placement.spans[0].1.depth, 5);
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
        assert!(depths.place(&[item], &Clocks::default()).is_err());
    }
}
