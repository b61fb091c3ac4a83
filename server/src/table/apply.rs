//! The data path of [`Table`]: a client's update goes policy → screen →
//! apply → persist → deliver ([`Table::write`]); the server's own writes
//! and the answers to sync step 1 end the same way.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Instant;

use bytes::Bytes;
use werktafel_shared::control::read_control;
use yrs::sync::awareness::AwarenessUpdate;
use yrs::updates::decoder::Decode;
use yrs::{Origin, ReadTxn, StateVector, Transact, TransactionMut, Update};

use super::core::{Command, Commands, Table, To, send_all};
use super::durability::MAX_UNFLUSHED_BYTES;
use super::policy::{self, Write};
use super::presence::PeerId;
use super::reason::{Reason, Refusal};
use super::reload::{Backlogged, server_origin};
use crate::metrics::METRICS;
use crate::protocol;
use crate::screen::{self, Placement, Refusal as ScreenRefusal, Scan};

/// The update that inserts and deletes nothing: no clients, no deletes.
const EMPTY_UPDATE: [u8; 2] = [0, 0];

/// What an answer from the document is sent as.
#[derive(Debug, Clone, Copy)]
pub(super) enum Reply {
    /// Sync step 2, the answer to a client's step 1.
    Step2,
    /// A resync of a lagging peer, sent as an update.
    Resync,
}

impl Table {
    /// A client's update, from `peer`: `as_is` is its frame when that held
    /// this update alone, forwarded unchanged.
    pub(super) fn write(
        &mut self,
        peer: PeerId,
        update: Bytes,
        as_is: Option<Bytes>,
        now: Instant,
        out: &mut Commands,
    ) -> Result<(), Refusal> {
        if !self.admit(peer, &update)? {
            return Ok(());
        }
        if let Some(backlog) = self.reload_backlog.as_mut() {
            // The document is being rebuilt from storage: the update waits,
            // unchecked, unstored and undelivered, and takes this path once
            // the rebuilt document is in place.
            backlog.push(Backlogged::Update {
                peer,
                update,
                as_is,
            });
            return Ok(());
        }
        let (scan, placement) = self.screen(peer, &update, now)?;
        if !self.apply(peer, &update, &scan, placement, now, out)? {
            return Ok(());
        }
        let seq = self.persist(update.clone(), out);
        let bytes = as_is.unwrap_or_else(|| protocol::encode_update(&update));
        self.cache.extend(&bytes);
        self.deliver(seq, To::All { except: Some(peer) }, bytes, out);
        Ok(())
    }

    /// The policy, before a byte of the update is read: whether it goes on
    /// (refusing a viewer or holding back a write to a locked table costs
    /// nothing), and the push-back of a table whose storage lags.
    fn admit(&mut self, peer: PeerId, update: &[u8]) -> Result<bool, Refusal> {
        if update == EMPTY_UPDATE {
            // What a client with nothing new answers to a sync step 1.
            return Ok(false);
        }
        match policy::write(self.role(peer), &self.control) {
            Write::Allow => {}
            Write::Refuse => return Err(Refusal::Forbidden("this connection is read-only")),
            Write::HoldBack => {
                // The client keeps it; when the table opens again the server
                // asks every peer for what it lacks (see `write_as_server`).
                METRICS.writes_held_back.inc();
                return Ok(false);
            }
        }
        if self.durability.backlogged(MAX_UNFLUSHED_BYTES) {
            // Storage has fallen behind: the queue does not grow. As with a
            // locked table, the client keeps the edit and the table asks for
            // it again once storage caught up (see `durable`).
            METRICS.writes_pushed_back.inc();
            self.durability.push_back();
            if let Some(p) = self.peers.get_mut(&peer) {
                p.pushed_back = true;
            }
            return Ok(false);
        }
        Ok(true)
    }

    /// Walks the update before yrs reads a byte of it: some shapes yrs
    /// accepts break the document, and one overflowed yrs' stack.
    fn screen(
        &mut self,
        peer: PeerId,
        update: &[u8],
        now: Instant,
    ) -> Result<(Scan, Placement), Refusal> {
        let scan = screen::scan(update).map_err(Refusal::InvalidUpdate)?;
        self.clocks
            .check(&scan.items)
            .map_err(Refusal::InvalidUpdate)?;
        let placement = self
            .depths
            .place(&scan, &self.clocks)
            .map_err(|refusal| match refusal {
                ScreenRefusal::ServerOnly(_) => {
                    METRICS.server_only_refused.inc();
                    tracing::warn!(room = %self.key, peer, %refusal, "refused a write to a server-only map");
                    Refusal::Forbidden("meta, control and votes are written by the server only")
                }
                ScreenRefusal::TooDeep(why) | ScreenRefusal::Missing(why) => Refusal::InvalidUpdate(why),
            })?;
        if placement.undecided() && !self.reloads.allows(now) {
            // Only applying it would tell whether it must be undone, and the
            // table reloaded a moment ago: a client cannot make it reload in
            // a loop.
            return Err(Refusal::Forbidden(
                "the table cannot check this update now (reloads are rate-limited)",
            ));
        }
        Ok((scan, placement))
    }

    /// Applies a screened update; whether it changed anything. What yrs
    /// refuses, or what wrote a server-only map after all, is undone by a
    /// reload from storage, which never saw it.
    fn apply(
        &mut self,
        peer: PeerId,
        update: &[u8],
        scan: &Scan,
        placement: Placement,
        now: Instant,
        out: &mut Commands,
    ) -> Result<bool, Refusal> {
        // yrs can panic on hostile bytes even while decoding (an overflowing
        // delete set, found by the fuzzer); a panic is a refusal here.
        let decoded = match catch_unwind(|| Update::decode_v1(update)) {
            Ok(Ok(decoded)) => decoded,
            Ok(Err(error)) => return Err(Refusal::InvalidUpdate(error.to_string())),
            Err(_) => {
                return Err(Refusal::InvalidUpdate(
                    "the update could not be decoded".into(),
                ));
            }
        };
        if decoded.is_empty() {
            return Ok(false);
        }
        if self.stored_bytes + update.len() as u64 > self.max_bytes {
            return Err(Refusal::TooLarge {
                limit: self.max_bytes,
            });
        }
        let doc = self.awareness.doc();
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            doc.transact_mut_with(Origin::from(peer))
                .apply_update(decoded)
        }));
        if self.guard.take() {
            // Applied but not stored: the screen's bookkeeping did not see
            // it coming (a root it does not know): the fallback.
            tracing::warn!(room = %self.key, peer, "refused an update to a server-only map after applying it");
            self.reload(now, out);
            return Err(Refusal::Forbidden(
                "meta, control and votes are written by the server only",
            ));
        }
        match outcome {
            Ok(Ok(())) if self.awareness.doc().transact().has_missing_updates() => {
                // An update that depends on something the server never had.
                // A client on one ordered socket cannot send one, and yrs
                // mishandles the unmet remainder (found by the fuzzer): later
                // encodes may panic or hand peers items the server does not
                // hold. Not stored yet: undo it.
                tracing::warn!(room = %self.key, peer, "refused an update with missing dependencies");
                self.reload(now, out);
                Err(Refusal::InvalidUpdate(
                    "the update depends on updates the server does not have".into(),
                ))
            }
            Ok(Ok(())) => {
                self.depths.commit(placement);
                self.clocks.advance(&scan.items);
                Ok(true)
            }
            Ok(Err(error)) => {
                // yrs may have integrated part of the update before refusing
                // it; only storage is known to be clean now.
                self.reload(now, out);
                Err(Refusal::InvalidUpdate(error.to_string()))
            }
            Err(_) => {
                tracing::error!(room = %self.key, peer, "yrs panicked applying an update; reloading the table");
                self.reload(now, out);
                Err(Refusal::InvalidUpdate(
                    "the update could not be applied".into(),
                ))
            }
        }
    }

    /// Changes the document as the server (the only writer of `meta`,
    /// `control` and `votes`), then stores and delivers the change like any
    /// client's. `f` runs in the same step, so it can check and write at once.
    pub fn write_as_server<R>(
        &mut self,
        f: impl FnOnce(&mut TransactionMut) -> R,
        out: &mut Commands,
    ) -> R {
        let (result, update) = {
            let doc = self.awareness.doc();
            let mut txn = doc.transact_mut_with(server_origin());
            let result = f(&mut txn);
            (result, txn.encode_update_v1())
        };
        self.guard.take();
        let was_open = self.control.accepts_writes();
        self.control = read_control(self.awareness.doc());
        if !was_open && self.control.accepts_writes() {
            // Writes held back while the table was locked or closed come
            // back now: every client answers this with what the server lacks.
            let sv = self.awareness.doc().transact().state_vector();
            out.push(send_all(protocol::encode_sync_step1(&sv), None));
        }
        if Update::decode_v1(&update).is_ok_and(|u| !u.is_empty()) {
            // The server's own update is well formed by construction.
            if let Ok(scan) = screen::scan(&update) {
                let placement = self.depths.place_unchecked(&scan, &self.clocks);
                self.depths.commit(placement);
                self.clocks.advance(&scan.items);
            }
            let update = Bytes::from(update);
            let bytes = protocol::encode_update(&update);
            let seq = self.persist(update, out);
            self.cache.extend(&bytes);
            self.deliver(seq, To::All { except: None }, bytes, out);
        }
        result
    }

    /// Sends `peer` what the document has beyond `sv`, once that is durable;
    /// during a reload, once the rebuilt document is in place.
    pub(super) fn answer(
        &mut self,
        peer: PeerId,
        sv: StateVector,
        reply: Reply,
        out: &mut Commands,
    ) {
        if let Some(backlog) = self.reload_backlog.as_mut() {
            backlog.push(Backlogged::Answer { peer, sv, reply });
            return;
        }
        let seq = self.durability.applied();
        let fresh = matches!(reply, Reply::Step2) && sv == StateVector::default();
        if fresh && let Some(frames) = self.cache.frames(seq) {
            for bytes in frames {
                if let Some((to, bytes)) =
                    self.durability
                        .hold(seq, bytes.len(), (To::One(peer), bytes))
                {
                    out.push(Command::Send { to, bytes });
                }
            }
            return;
        }
        let doc = self.awareness.doc();
        let Ok(diff) = catch_unwind(AssertUnwindSafe(|| {
            doc.transact().encode_state_as_update_v1(&sv)
        })) else {
            // Only a document stored before the screen existed could get
            // here; this peer goes, the table stays.
            tracing::error!(room = %self.key, peer, "yrs panicked encoding the document");
            out.push(Command::Close {
                peer,
                reason: Reason::Internal("the table cannot be read"),
            });
            return;
        };
        METRICS.encodes(match reply {
            Reply::Step2 if fresh => "full",
            Reply::Step2 => "diff",
            Reply::Resync => "resync",
        });
        let bytes = match reply {
            Reply::Step2 => protocol::encode_sync_step2(&diff),
            Reply::Resync => protocol::encode_update(&diff),
        };
        if fresh {
            self.cache.store(seq, bytes.clone());
        }
        self.deliver(seq, To::One(peer), bytes, out);
    }

    /// Applies a peer's awareness update; whether something changed that
    /// the table must hear about at the next tick. What a peer may set is
    /// `Presence::admit`'s to say; a viewer's presence is dropped.
    pub(super) fn apply_awareness(
        &mut self,
        peer: PeerId,
        mut update: AwarenessUpdate,
    ) -> Result<bool, Refusal> {
        if !policy::publishes_presence(self.role(peer)) {
            if self.peers.contains_key(&peer) {
                METRICS.awareness_dropped("viewer");
            }
            return Ok(false);
        }
        self.presence
            .admit(peer, &mut update.clients, |entry| entry.json.len())?;
        if update.clients.is_empty() {
            return Ok(false);
        }
        let summary = self
            .awareness
            .apply_update_summary(update)
            .map_err(|e| Refusal::InvalidAwareness(e.to_string()))?;
        let Some(summary) = summary else {
            return Ok(false);
        };
        self.presence.changed(summary.all_changes());
        Ok(true)
    }
}
