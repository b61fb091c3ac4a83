//! How a [`Table`] meets each event: joins and leaves, the messages of a
//! frame, a resync, a durable sequence number, the presence tick. The data
//! path of an update goes on in [`super::apply`].

use std::time::Instant;

use bytes::Bytes;
use yrs::{ReadTxn, StateVector, Transact};

use super::apply::Reply;
use super::core::{Command, Commands, Peer, Table, send_all, send_one};
use super::durability::MAX_UNFLUSHED_BYTES;
use super::policy;
use super::presence::{self, PeerId};
use super::reason::Reason;
use crate::access::Role;
use crate::metrics::METRICS;
use crate::protocol::{self, Incoming};

impl Table {
    pub(super) fn join(&mut self, peer: PeerId, role: Role, out: &mut Commands) {
        if self.evicted {
            return;
        }
        let sv = self.doc().transact().state_vector();
        out.push(send_one(peer, protocol::encode_sync_step1(&sv)));
        if let Ok(update) = self.awareness.update()
            && !update.clients.is_empty()
        {
            out.push(send_one(peer, protocol::encode_awareness(&update)));
        }
        self.peers.insert(
            peer,
            Peer {
                role,
                known_sv: StateVector::default(),
                pushed_back: false,
            },
        );
        self.empty_since = None;
        out.push(Command::Changed);
    }

    pub(super) fn leave(&mut self, peer: PeerId, now: Instant, out: &mut Commands) {
        if self.peers.remove(&peer).is_none() {
            return;
        }
        if self.peers.is_empty() {
            self.empty_since = Some(now);
        }
        out.push(Command::Changed);
        let mut gone = Vec::new();
        for client in self.presence.leave(peer) {
            if self.awareness.meta(client).is_some() {
                self.awareness.remove_state(client);
                gone.push(client);
            }
        }
        if !gone.is_empty()
            && let Ok(update) = self.awareness.update_with_clients(gone)
        {
            out.push(send_all(protocol::encode_awareness(&update), None));
        }
    }

    pub(super) fn frame(
        &mut self,
        peer: PeerId,
        frame: &Bytes,
        messages: Vec<Incoming>,
        now: Instant,
        out: &mut Commands,
    ) {
        let forward_as_is = protocol::is_single_update(frame, &messages);
        METRICS.update_bytes_received.inc_by(frame.len() as u64);
        for message in messages {
            let result = match message {
                Incoming::SyncStep1(sv) => {
                    if let Some(p) = self.peers.get_mut(&peer) {
                        p.known_sv = sv.clone();
                    }
                    self.answer(peer, sv, Reply::Step2, out);
                    Ok(())
                }
                Incoming::SyncStep2(update) => {
                    METRICS.updates_received.inc();
                    if policy::is_empty_viewer_step2(self.role(peer), &update) {
                        continue;
                    }
                    if let Some(p) = self.peers.get_mut(&peer) {
                        p.pushed_back = false;
                    }
                    self.write(peer, update, None, now, out)
                }
                Incoming::Update(update) => {
                    METRICS.updates_received.inc();
                    if self.peers.get(&peer).is_some_and(|p| p.pushed_back) {
                        METRICS.writes_pushed_back.inc();
                        continue;
                    }
                    let as_is = forward_as_is.then(|| frame.clone());
                    self.write(peer, update, as_is, now, out)
                }
                Incoming::Awareness(update) => {
                    METRICS.awareness_received.inc();
                    self.apply_awareness(peer, update).map(|changed| {
                        self.presence_dirty |= changed;
                    })
                }
                Incoming::QueryAwareness => {
                    if let Ok(update) = self.awareness.update() {
                        out.push(send_one(peer, protocol::encode_awareness(&update)));
                    }
                    Ok(())
                }
            };
            if let Err(refusal) = result {
                // The rest of the frame is not read: the connection closes.
                out.push(Command::Close {
                    peer,
                    reason: Reason::Refused(refusal),
                });
                return;
            }
        }
    }

    /// Sends `peer` what the document has beyond the state vector it last
    /// declared, and everyone's presence.
    pub(super) fn resync(&mut self, peer: PeerId, out: &mut Commands) {
        let Some(p) = self.peers.get(&peer) else {
            return;
        };
        let sv = p.known_sv.clone();
        METRICS.resyncs.inc();
        self.answer(peer, sv, Reply::Resync, out);
        if let Ok(update) = self.awareness.update()
            && !update.clients.is_empty()
        {
            out.push(send_one(peer, protocol::encode_awareness(&update)));
        }
    }

    pub(super) fn durable(&mut self, seq: u64, out: &mut Commands) {
        self.durability.durable(seq);
        // The version moves before anyone is sent what became durable: a
        // client that has seen an edit and then asks for an export must not
        // get one cached under the version before it.
        out.push(Command::Changed);
        while let Some((to, bytes)) = self.durability.release() {
            out.push(Command::Send { to, bytes });
        }
        if self.durability.relieved(MAX_UNFLUSHED_BYTES) && self.reload_backlog.is_none() {
            // Writes were pushed back while storage lagged: every client
            // answers this with what the server lacks. (A reload under way
            // sends the same request when it ends.)
            let step1 = protocol::encode_sync_step1(self.clocks.state_vector());
            out.push(send_all(step1, None));
        }
    }

    /// Sends the presence changes gathered since the last tick to every
    /// peer as one message, and removes states not renewed in time.
    pub(super) fn tick(&mut self, now_ms: u64, out: &mut Commands) {
        if std::mem::take(&mut self.presence_dirty) {
            let changed = self.presence.take_changed();
            if !changed.is_empty()
                && let Ok(update) = self.awareness.update_with_clients(changed)
            {
                out.push(send_all(protocol::encode_awareness(&update), None));
            }
        }
        let states = self
            .awareness
            .iter()
            .map(|(client, state)| (client, state.data.is_some(), state.last_updated));
        let stale = presence::expired(states, now_ms);
        if stale.is_empty() {
            return;
        }
        for client in &stale {
            self.awareness.remove_state(*client);
        }
        if let Ok(update) = self.awareness.update_with_clients(stale) {
            out.push(send_all(protocol::encode_awareness(&update), None));
        }
    }
}
