//! Test harness for Werktafel's cross-component tests and the load bench:
//! the real server binary on port 0 ([`server::Server`]) and WebSocket
//! clients that hold their own yrs documents ([`client::Client`]), and a stock
//! Yjs client in Node driven over stdin/stdout ([`node_peer::NodePeer`]).

pub mod client;
pub mod cluster_drill;
pub mod crash;
pub mod node_peer;
pub mod postgres;
pub mod private_pg;
pub mod proxy;
pub mod server;

pub use client::{Client, Closed};
pub use node_peer::NodePeer;
pub use server::Server;

/// How long a test waits for a signal before it fails. Not a timing
/// assertion: only an upper bound so a broken build fails instead of hanging.
pub const WAIT: std::time::Duration = std::time::Duration::from_secs(15);
