//! Where an update's items hang: each item's depth and root worked out from
//! what it names (its parent, or the origin beside which it sits), looked up
//! in the update itself and then in the document, without recursion.

use smallvec::SmallVec;
use yrs::ClientID;

use super::{Depths, Found, Shelf, UNKNOWN};
use crate::screen::{Anchor, Clocks, INLINE_ITEMS, Item};

impl Depths {
    /// Where the document has one clock of one client.
    pub(super) fn known(&self, (client, clock): (ClientID, u32), clocks: &Clocks) -> Found {
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
    pub(super) fn resolve(
        &self,
        items: &[Item],
        clocks: &Clocks,
    ) -> SmallVec<[Found; INLINE_ITEMS]> {
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
    pub(super) fn follow(anchor: Anchor, lookup: impl Fn((ClientID, u32)) -> Found) -> Found {
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
