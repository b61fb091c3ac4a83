//! Stored documents that fail the screen: found at load, set aside, never
//! served.
//!
//! Live updates pass [`crate::screen`] before yrs reads them, but bytes can
//! reach storage around it: an archive restored by `werktafel import`
//! (which now runs the same [`check`] first), a database written by an
//! older version, or by hand. yrs decodes nested values and deletes nested
//! types by recursion, so one such document (a chain of 100,000 maps under
//! `notes`) aborted the whole server on the first delete, on every start.
//!
//! [`check`] walks a document's stored updates in order, as a room would
//! have taken them: each must pass [`screen::scan`] (nesting of values,
//! content yrs and Yjs read alike, clock overflows), leave no hole in a
//! client's clocks ([`Clocks::check`]) and nest no shared type past
//! [`crate::screen::MAX_TYPE_DEPTH`] ([`Depths::place`]). It reads bytes
//! only; yrs sees nothing of a document that fails.
//!
//! What happens to one that fails ([`admit`], run by the persistence worker
//! on every load): its snapshot and log rows move, in one transaction, to
//! the store's quarantine ([`Store::quarantine`]; in SQLite the table
//! `quarantine`, with the reason and the time), an error is logged naming
//! the room and the rule, and the room starts from an empty document. So
//! nothing is lost (the bytes stay in the data directory for an operator to
//! inspect), nothing of it is served, the table stays usable, and every
//! other table is untouched. Starting empty rather than refusing the table
//! keeps the start page, the summary and the exports, which read every
//! table, working for everyone.

use crate::screen::{self, Clocks, Depths, Writer};
use crate::store::{RoomKey, Store, StoreError, StoredDoc};

/// Why a stored document (or an archived state) is refused: which of its
/// updates, and the screen's rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("update {index} of {count}: {rule}")]
pub struct Refusal {
    /// The update's place in the document's stored order (0: the snapshot,
    /// if there is one).
    pub index: usize,
    pub count: usize,
    pub rule: String,
}

/// Checks a document's updates, in stored order, against the rules every
/// live update passes (see the module's docs).
pub fn check<'a>(updates: impl ExactSizeIterator<Item = &'a [u8]>) -> Result<(), Refusal> {
    let count = updates.len();
    let mut clocks = Clocks::default();
    let mut depths = Depths::default();
    for (index, update) in updates.enumerate() {
        let refuse = |rule: String| Refusal { index, count, rule };
        let scan = screen::scan(update).map_err(refuse)?;
        clocks.check(&scan.items).map_err(refuse)?;
        // Storage holds the server's own writes to meta, control and votes.
        let placement = depths
            .place_by(&scan, &clocks, Writer::Server)
            .map_err(|refusal| refuse(refusal.to_string()))?;
        depths.commit(placement);
        clocks.advance(&scan.items);
    }
    Ok(())
}

/// What a load hands on: `stored` if it passes [`check`]; otherwise it is
/// moved to the quarantine and the room starts empty.
pub fn admit(
    store: &mut dyn Store,
    room: &RoomKey,
    stored: StoredDoc,
) -> Result<StoredDoc, StoreError> {
    let Err(refusal) = check(stored.updates.iter().map(Vec::as_slice)) else {
        return Ok(stored);
    };
    let reason = refusal.to_string();
    let moved = store.quarantine(room, &reason)?;
    tracing::error!(
        room = %room,
        %reason,
        rows = moved,
        "quarantined a stored document that fails the screen: its rows are kept in the \
         quarantine table, not served; the table starts empty"
    );
    Ok(StoredDoc::default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use yrs::{Doc, Map, MapPrelim, ReadTxn, StateVector, Transact, WriteTxn};

    /// A chain of `depth` maps under the root `notes`, one inside the last,
    /// built one level per insert (never by recursion).
    fn chain(depth: usize) -> Vec<u8> {
        let doc = Doc::new();
        let mut txn = doc.transact_mut();
        let mut map = txn.get_or_insert_map("notes");
        for _ in 0..depth {
            map = map.insert(&mut txn, "next", MapPrelim::default());
        }
        txn.encode_state_as_update_v1(&StateVector::default())
    }

    #[test]
    fn a_document_of_shallow_updates_passes() {
        let doc = Doc::new();
        let notes = doc.get_or_insert_map("notes");
        let first = {
            let mut txn = doc.transact_mut();
            notes.insert(&mut txn, "n1", MapPrelim::default());
            txn.encode_update_v1()
        };
        let second = {
            let mut txn = doc.transact_mut();
            notes.insert(&mut txn, "n2", "text");
            txn.encode_update_v1()
        };
        assert_eq!(
            check([first.as_slice(), second.as_slice()].into_iter()),
            Ok(())
        );
        assert_eq!(check([chain(8).as_slice()].into_iter()), Ok(()));
    }

    #[test]
    fn deep_types_a_hole_and_a_deep_value_are_refused() {
        let deep = chain(100);
        let refusal = check([deep.as_slice()].into_iter()).unwrap_err();
        assert!(refusal.rule.contains("nested"), "{refusal}");

        // Client 7 starts at clock 5: a hole.
        let doc = Doc::with_client_id(7);
        let notes = doc.get_or_insert_map("notes");
        let mut updates = Vec::new();
        for i in 0..2 {
            let mut txn = doc.transact_mut();
            notes.insert(&mut txn, format!("n{i}"), "x".repeat(5));
            updates.push(txn.encode_update_v1());
        }
        let refusal = check([updates[1].as_slice()].into_iter()).unwrap_err();
        assert!(refusal.rule.contains("clock"), "{refusal}");
        assert_eq!(check(updates.iter().map(Vec::as_slice)), Ok(()));

        let mut value = Vec::new();
        // One client, one block at clock 0: an Any under `notes`/`bomb`,
        // arrays nested 1,000 deep.
        value.extend_from_slice(&[1, 1, 1, 0, 8 | 0x20, 1, 5]);
        value.extend_from_slice(b"notes");
        value.push(4);
        value.extend_from_slice(b"bomb");
        value.push(1);
        for _ in 0..1000 {
            value.extend_from_slice(&[117, 1]);
        }
        value.extend_from_slice(&[126, 0]);
        let refusal = check([value.as_slice()].into_iter()).unwrap_err();
        assert_eq!((refusal.index, refusal.count), (0, 1));
        assert!(refusal.rule.contains("nest"), "{refusal}");
    }
}
