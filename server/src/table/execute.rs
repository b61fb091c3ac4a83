//! How a [`Room`] carries out what its table returns: deliveries into the
//! peers' outboxes (the one fan-out point), appends into the reserved places
//! of the persistence queue, closes, reloads on the tracker, and the reports
//! of the persistence worker fed back to the table.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use bytes::Bytes;

use super::core::{Command, Event, To};
use super::peer::Outlet;
use super::presence::PeerId;
use super::reason::{Reason, Refusal};
use super::reload::Rebuilt;
use super::room::{Room, State};
use crate::metrics::METRICS;
use crate::store::StoreError;
use crate::store::persist::DurableSink;

impl Room {
    /// Carries out the table's commands, in order. A refusal of `sender`'s
    /// own frame is handed back to its connection, which closes with it.
    pub(super) fn execute(&self, state: &mut State, sender: Option<PeerId>) -> Result<(), Refusal> {
        let mut refused = None;
        let mut failed = false;
        let mut out = std::mem::take(&mut state.out);
        for command in out.drain(..) {
            match command {
                Command::Send { to, bytes } => dispatch(&mut state.outlets, to, bytes),
                Command::Persist { seq, update } => {
                    let Some(slot) = state.slots.pop().or_else(|| self.persister.try_reserve())
                    else {
                        // Every path that persists reserved a place first;
                        // without one, the update cannot be stored in order.
                        tracing::error!(room = %self.key, seq, "no place in the persistence queue");
                        failed = true;
                        continue;
                    };
                    match self.me.upgrade() {
                        Some(room) => slot.append(self.key.clone(), seq, update, room),
                        None => failed = true,
                    }
                }
                Command::Close { peer, reason } => match reason {
                    Reason::Refused(refusal) if Some(peer) == sender => refused = Some(refusal),
                    reason => {
                        if let Some(outlet) = state.outlets.get(&peer) {
                            outlet.link.close(reason);
                        }
                    }
                },
                Command::CloseAll(reason) => {
                    for outlet in state.outlets.values() {
                        outlet.link.close(reason.clone());
                    }
                }
                Command::Reload => {
                    if let Some(room) = self.me.upgrade() {
                        self.tasks.spawn(room.reload());
                    }
                }
                Command::Changed => {
                    self.version.fetch_add(1, Ordering::Release);
                    self.changes.send_modify(|n| *n = n.wrapping_add(1));
                }
            }
        }
        state.out = out;
        if failed {
            state
                .table
                .handle(Event::Failed, Instant::now(), &mut state.out);
            self.execute(state, sender)?;
        }
        refused.map_or(Ok(()), Err)
    }

    /// Rebuilds the document from storage, after every update queued for
    /// it, and hands it to the table.
    pub(super) async fn reload(self: Arc<Self>) {
        let stored = self.persister.load(self.key.clone()).await;
        let key = self.key.clone();
        // Rebuilding the document is CPU work in proportion to the table.
        let rebuilt = match stored {
            Ok(s) => tokio::task::spawn_blocking(move || Rebuilt::from_stored(&key, &s.updates))
                .await
                .unwrap_or(Err(StoreError::Stopped)),
            Err(error) => Err(error),
        };
        let mut state = self.lock();
        self.run(&mut state, Event::Reloaded(rebuilt), None).ok();
        let keep = state.table.backlogged_updates();
        state.slots.truncate(keep);
    }
}

impl DurableSink for Room {
    fn durable(&self, seq: u64) {
        self.run(&mut self.lock(), Event::Durable { seq }, None)
            .ok();
        self.stored.send_if_modified(|stored| match stored {
            Some(durable) if *durable < seq => {
                *durable = seq;
                true
            }
            _ => false,
        });
    }

    fn failed(&self, error: &StoreError) {
        let event = match error {
            StoreError::NotOwner { .. } => Event::Moved,
            error if error.is_unreachable() => Event::Unreachable,
            _ => Event::Failed,
        };
        self.run(&mut self.lock(), event, None).ok();
        self.stored.send_replace(None);
    }
}

/// The room's one fan-out point: every message to more than one peer leaves
/// here (the seam where a multi-node deployment would publish to other nodes).
fn dispatch(outlets: &mut HashMap<PeerId, Outlet>, to: To, bytes: Bytes) {
    match to {
        To::One(peer) => {
            if let Some(outlet) = outlets.get_mut(&peer) {
                METRICS.deliveries.inc();
                METRICS.delivery_bytes.inc_by(bytes.len() as u64);
                outlet.send(bytes);
            }
        }
        To::All { except } => {
            let mut sent = 0u64;
            for (id, outlet) in outlets.iter_mut() {
                if Some(*id) != except {
                    outlet.send(bytes.clone());
                    sent += 1;
                }
            }
            METRICS.deliveries.inc_by(sent);
            METRICS.delivery_bytes.inc_by(sent * bytes.len() as u64);
        }
    }
}
