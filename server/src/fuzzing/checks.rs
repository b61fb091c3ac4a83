//! The harness's checks: each delivery against the durable document as the
//! table hands it out, and after each input the invariants of the whole
//! table (the live document equals a fresh load from storage and survives
//! its own encoding; presence within bounds).

use bytes::Bytes;
use yrs::updates::decoder::Decode;
use yrs::{Doc, ReadTxn, StateVector, Transact, Update};

use crate::fuzzing::describe::{describe, differences, ensure_server_maps, fingerprint};
use crate::fuzzing::{Harness, Violation};
use crate::protocol::{self, Incoming};
use crate::store::build_doc;
use crate::table::presence::PeerId;

impl Harness {
    /// Checks a message the table sends: it decodes, and every update in
    /// it is already durable (applying it to the durable document changes
    /// nothing).
    pub(super) fn delivered(&mut self, peer: PeerId, bytes: &Bytes) -> Result<(), Violation> {
        let messages =
            protocol::decode_frame(bytes, usize::MAX).map_err(|e| Violation::BadOutgoing {
                peer,
                error: e.to_string(),
                bytes: bytes.to_vec(),
            })?;
        for message in messages {
            let (Incoming::Update(update) | Incoming::SyncStep2(update)) = message else {
                continue;
            };
            let before = fingerprint(&self.durable);
            let decoded = Update::decode_v1(&update).map_err(|e| Violation::BadOutgoing {
                peer,
                error: e.to_string(),
                bytes: update.to_vec(),
            })?;
            let applied = self.durable.transact_mut().apply_update(decoded);
            let after = fingerprint(&self.durable);
            if applied.is_err() || after != before {
                return Err(Violation::Leaked {
                    peer,
                    what: match applied {
                        Err(e) => format!("the durable document refuses it: {e}"),
                        Ok(()) => differences(&before, "with it", &after),
                    },
                    update: update.to_vec(),
                });
            }
        }
        Ok(())
    }

    pub(super) fn live_presences(&self) -> usize {
        self.table
            .awareness()
            .iter()
            .filter(|(_, state)| state.data.is_some())
            .count()
    }

    pub(super) fn check(&self) -> Result<(), Violation> {
        let durable = describe(&self.durable_doc()?);
        let live = describe(self.table.doc());
        if live != durable {
            return Err(Violation::NotDurable(differences(&live, "store", &durable)));
        }
        let encoded = self
            .table
            .doc()
            .transact()
            .encode_state_as_update_v1(&StateVector::default());
        let copy = Update::decode_v1(&encoded)
            .map_err(|e| Violation::RoundTrip(e.to_string()))
            .and_then(|update| {
                let doc = Doc::new();
                doc.transact_mut()
                    .apply_update(update)
                    .map_err(|e| Violation::RoundTrip(e.to_string()))?;
                Ok(doc)
            })?;
        ensure_server_maps(&copy);
        let copy = describe(&copy);
        if copy != live {
            return Err(Violation::RoundTrip(differences(&live, "copy", &copy)));
        }
        Ok(())
    }

    /// The document as a fresh load from storage would build it.
    fn durable_doc(&self) -> Result<Doc, Violation> {
        let doc = build_doc(&self.key, self.stored.iter().map(Vec::as_slice))?;
        ensure_server_maps(&doc);
        Ok(doc)
    }
}
