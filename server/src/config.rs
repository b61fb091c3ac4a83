//! The server's configuration: one typed field per option, built by the CLI.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use werktafel_shared::event::Event;

/// Everything `run` needs besides the listener.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where the SQLite database and event secrets live.
    pub data_dir: PathBuf,
    /// The event served.
    pub event: Arc<Event>,
    /// Where people reach the server (`http://werktafel.local:8080`), for
    /// links and QR codes; without it, the Host of each request.
    pub public_url: Option<String>,
    pub limits: Limits,
}

/// Per-connection and per-room bounds. The defaults fit a 200-person workshop
/// on venue Wi-Fi.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest WebSocket message accepted. A client that was offline for a
    /// whole session sends all its edits in one sync step 2, so this is
    /// generous; anything larger closes the connection with 1009.
    pub max_message_bytes: usize,
    /// Messages queued for one client before it counts as lagging and is
    /// resynced instead; bounds the memory a slow reader can hold.
    pub outbox_capacity: usize,
    /// A client that sends nothing (not even a pong) for this long is
    /// disconnected. Longer than a minute, so a client that stalls briefly
    /// is resynced rather than dropped.
    pub idle_timeout: Duration,
    /// A client that does not take a write for this long is disconnected.
    pub write_timeout: Duration,
    /// An idle connection gets a keepalive (and a ping) this often. The stock
    /// y-websocket client reconnects after 30 s without a message.
    pub keepalive_interval: Duration,
    /// A room with no clients stays in memory this long before it is dropped.
    pub room_idle_grace: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_message_bytes: 8 * 1024 * 1024,
            outbox_capacity: 512,
            idle_timeout: Duration::from_secs(120),
            write_timeout: Duration::from_secs(120),
            keepalive_interval: Duration::from_secs(10),
            room_idle_grace: Duration::from_secs(60),
        }
    }
}
