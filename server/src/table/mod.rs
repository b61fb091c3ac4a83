//! A table: its core, a synchronous state machine with no I/O ([`core`]:
//! [`Table`] takes events and returns commands), built of small parts with
//! one job each, and the adapters that carry the commands out ([`room`],
//! [`rooms`]). The core and its parts have no tokio, no threads, no sockets
//! and no clock of their own (every rule that depends on time takes `now`
//! from its caller); only the adapters know outboxes, the persistence
//! worker, tasks and close codes.
//!
//! - [`core`]: `Table`, `Event`, `Command`; [`events`]: each event;
//!   [`apply`]: the data path (policy → screen → apply → persist →
//!   deliver); [`reload`]: the undo of a refused update by a rebuild from
//!   storage
//! - [`policy`]: who may write what, in what state — the first check, cheap
//! - [`durability`]: sequence numbers and deliveries held until durable
//! - [`outbox`]: what a slow reader missed, and when it needs a resync
//! - [`presence`]: who owns which awareness client, and which expired
//! - [`cache`]: the full state a fresh joiner is sent, encoded once
//! - [`reason`]: why the core refuses a message or closes a peer, as values
//! - [`room`]: `Room`, the adapter: the lock around a `Table`, the peers'
//!   outboxes ([`peer`]), the persistence queue, reloads on the tracker;
//!   [`execute`]: how it carries out each command
//! - [`rooms`]: `Rooms`, the registry: load once, evict when idle

pub mod apply;
pub mod cache;
pub mod core;
pub mod durability;
pub mod events;
pub mod execute;
pub mod outbox;
pub mod peer;
pub mod policy;
pub mod presence;
pub mod reason;
pub mod reload;
pub mod room;
pub mod rooms;
#[cfg(test)]
mod stall_tests;
#[cfg(test)]
mod tests;

pub use self::core::{Command, Commands, Event, Loaded, Table, To};
