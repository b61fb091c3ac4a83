//! A table's core, in small parts with one job each and no I/O: no tokio,
//! no threads, no sockets, no clock of their own (every rule that depends on
//! time takes `now` from its caller). [`crate::room`] holds them under the
//! room's lock and wires them to the document, the peers' outboxes and the
//! persistence worker.
//!
//! - [`policy`]: who may write what, in what state — the first check, cheap
//! - [`durability`]: sequence numbers and deliveries held until durable
//! - [`outbox`]: what a slow reader missed, and when it needs a resync
//! - [`presence`]: who owns which awareness client, and which expired
//! - [`cache`]: the full state a fresh joiner is sent, encoded once
//! - [`reason`]: why the core refuses a message or closes a peer, as values

pub mod cache;
pub mod durability;
pub mod outbox;
pub mod policy;
pub mod presence;
pub mod reason;
