//! The reload of a [`Table`] from storage: the undo of an update that yrs
//! refused or that wrote a server-only map in a way the screen could not
//! tell beforehand. Storage never saw it, so the document rebuilt from
//! storage is the document without it.
//!
//! The table asks for a rebuild ([`Command::Reload`]); while it waits,
//! nothing is read from or applied to the in-memory document (it may hold
//! what was refused): updates and requests wait in a backlog and take their
//! usual path once [`Event::Reloaded`] hands back the rebuilt document.
//!
//! [`Event::Reloaded`]: super::core::Event::Reloaded

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use bytes::Bytes;
use werktafel_shared::control::{SERVER_ONLY, read_control};
use yrs::{DeepObservable, Doc, Origin, StateVector};

use super::apply::Reply;
use super::core::{Command, Commands, Table, send_all};
use super::presence::PeerId;
use super::reason::Reason;
use crate::metrics::METRICS;
use crate::protocol;
use crate::screen::{Clocks, Depths};
use crate::store::{RoomKey, StoreError, build_doc};

/// A document rebuilt from storage, with its bookkeeping.
pub struct Rebuilt {
    pub doc: Doc,
    pub depths: Depths,
}

impl std::fmt::Debug for Rebuilt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Rebuilt")
    }
}

impl Rebuilt {
    /// Rebuilds `room`'s document from its stored `updates`, in order. CPU
    /// work in proportion to the table: the adapter runs it off the async
    /// workers.
    pub fn from_stored(room: &RoomKey, updates: &[Vec<u8>]) -> Result<Rebuilt, StoreError> {
        let doc = build_doc(room, updates.iter().map(Vec::as_slice))?;
        let depths = Depths::rebuild(updates.iter().map(Vec::as_slice));
        Ok(Rebuilt { doc, depths })
    }
}

/// Work that waits while the table reloads.
#[derive(Debug)]
pub(super) enum Backlogged {
    Update {
        peer: PeerId,
        update: Bytes,
        as_is: Option<Bytes>,
    },
    Answer {
        peer: PeerId,
        sv: StateVector,
        reply: Reply,
    },
}

/// Watches the server-only maps of a document. The observers belong to the
/// document and go with it.
pub(super) struct Guard {
    tripped: Arc<AtomicBool>,
}

impl Guard {
    pub(super) fn watch(doc: &Doc) -> Guard {
        let tripped = Arc::new(AtomicBool::new(false));
        let server = server_origin();
        for name in SERVER_ONLY {
            let tripped = tripped.clone();
            let server = server.clone();
            doc.get_or_insert_map(name)
                .observe_deep("werktafel-guard", move |txn, _| {
                    if txn.origin() != Some(&server) {
                        tripped.store(true, Ordering::Release);
                    }
                });
        }
        Guard { tripped }
    }

    /// Whether a transaction not the server's touched a server-only map
    /// since the last call.
    pub(super) fn take(&self) -> bool {
        self.tripped.swap(false, Ordering::AcqRel)
    }
}

/// The origin of the server's own transactions.
pub(super) fn server_origin() -> Origin {
    Origin::from("werktafel-server")
}

impl Table {
    /// Starts a reload at `now`, unless one is under way.
    pub(super) fn reload(&mut self, now: Instant, out: &mut Commands) {
        if self.reload_backlog.is_some() {
            return;
        }
        self.reload_backlog = Some(Vec::new());
        self.reloads.started(now);
        METRICS.room_reloads.inc();
        out.push(Command::Reload);
    }

    /// Puts the rebuilt document in place, asks every peer for what the
    /// server may be missing, and runs what waited; a failed rebuild closes
    /// the table.
    pub(super) fn reloaded(
        &mut self,
        rebuilt: Result<Rebuilt, StoreError>,
        now: Instant,
        out: &mut Commands,
    ) {
        let backlog = self.reload_backlog.take().unwrap_or_default();
        let Rebuilt { doc, depths } = match rebuilt {
            Ok(rebuilt) => rebuilt,
            Err(error) => {
                tracing::error!(room = %self.key, %error, "reloading the table failed; closing it");
                self.evict();
                out.push(Command::CloseAll(Reason::Internal("table unavailable")));
                return;
            }
        };
        self.cache.clear();
        self.depths = depths;
        self.guard = Guard::watch(&doc);
        self.control = read_control(&doc);
        self.clocks = Clocks::of(&doc);
        *self.awareness.doc_mut() = doc;
        tracing::info!(room = %self.key, "table reloaded from storage");
        out.push(send_all(
            protocol::encode_sync_step1(self.clocks.state_vector()),
            None,
        ));
        for item in backlog {
            match item {
                Backlogged::Answer { peer, sv, reply } => self.answer(peer, sv, reply, out),
                Backlogged::Update {
                    peer,
                    update,
                    as_is,
                } => {
                    if let Err(refusal) = self.write(peer, update, as_is, now, out) {
                        out.push(Command::Close {
                            peer,
                            reason: Reason::Refused(refusal),
                        });
                    }
                }
            }
        }
    }
}
