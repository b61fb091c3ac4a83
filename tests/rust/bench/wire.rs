//! The framing a server expects around y-protocols messages: plain
//! y-websocket (Werktafel, `@y/websocket-server`) or Hocuspocus's multiplexed
//! variant, so that one generator drives every server with the same load.
//!
//! Hocuspocus (`@hocuspocus/server` 4.x, `ClientConnection.ts`,
//! `MessageReceiver.ts`, `OutgoingMessage.ts`) puts the document name as a
//! var-string in front of every message, then a var-uint message type: 0 sync
//! and 1 awareness as in y-protocols, 2 auth, 4 sync-reply (a sync message that
//! asks for no further step 1), 8 sync status (its ack of every update). A
//! client's first message for a document must be auth: `[name][2][0 token][token]`;
//! everything before it is queued, so the client may pipeline its step 1 behind it.

use std::borrow::Cow;

use bytes::{BufMut, Bytes, BytesMut};
use clap::ValueEnum;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// How much a client reads from its socket at a time. Tungstenite's default
/// (128 KiB) is zeroed before every read, which cost the generator a tenth of
/// its CPU with a few frames per read, and holds 128 KiB per connection.
const READ_BUFFER: usize = 8 * 1024;

/// A client's WebSocket.
pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Hocuspocus message types this client sends or has to tell apart.
const HP_SYNC: u8 = 0;
const HP_AUTH: u8 = 2;
const HP_SYNC_REPLY: u8 = 4;
/// `AuthMessageType.Token` in `@hocuspocus/common`.
const HP_AUTH_TOKEN: u8 = 0;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Protocol {
    /// y-websocket: one y-protocols message per frame, the room in the URL.
    Yws,
    /// Hocuspocus: the document name before every message, auth first.
    Hocuspocus,
}

/// One connection's framing: the protocol and, for Hocuspocus, its document name.
#[derive(Debug, Clone)]
pub struct Wire {
    protocol: Protocol,
    /// The var-string prefix (length + UTF-8) of every Hocuspocus message.
    prefix: Bytes,
    token: String,
}

impl Wire {
    pub fn new(protocol: Protocol, document: &str, token: &str) -> Wire {
        let mut prefix = BytesMut::new();
        put_var_uint(&mut prefix, document.len() as u64);
        prefix.put_slice(document.as_bytes());
        Wire {
            protocol,
            prefix: prefix.freeze(),
            token: token.to_string(),
        }
    }

    /// Frames to send before anything else: the auth message for Hocuspocus.
    pub fn opening(&self) -> Option<Bytes> {
        match self.protocol {
            Protocol::Yws => None,
            Protocol::Hocuspocus => {
                let mut out = BytesMut::with_capacity(self.prefix.len() + 3 + self.token.len());
                out.put_slice(&self.prefix);
                out.put_u8(HP_AUTH);
                out.put_u8(HP_AUTH_TOKEN);
                put_var_uint(&mut out, self.token.len() as u64);
                out.put_slice(self.token.as_bytes());
                Some(out.freeze())
            }
        }
    }

    /// A y-protocols message (type byte first) framed for the server.
    pub fn wrap(&self, message: Vec<u8>) -> Bytes {
        match self.protocol {
            Protocol::Yws => Bytes::from(message),
            Protocol::Hocuspocus => {
                let mut out = BytesMut::with_capacity(self.prefix.len() + message.len());
                out.put_slice(&self.prefix);
                out.put_slice(&message);
                out.freeze()
            }
        }
    }

    /// The y-protocols message(s) in a received frame, or `None` for a frame
    /// that carries none (Hocuspocus auth replies, sync status acks, …).
    pub fn unwrap<'a>(&self, frame: &'a [u8]) -> Option<Cow<'a, [u8]>> {
        match self.protocol {
            Protocol::Yws => Some(Cow::Borrowed(frame)),
            Protocol::Hocuspocus => {
                let (len, used) = read_var_uint(frame)?;
                let body = frame.get(used + usize::try_from(len).ok()?..)?;
                match *body.first()? {
                    HP_SYNC | 1 => Some(Cow::Borrowed(body)),
                    // A sync reply is a sync message the client must not answer
                    // with its own step 1; this client never sends one unasked.
                    HP_SYNC_REPLY => {
                        let mut owned = body.to_vec();
                        owned[0] = HP_SYNC;
                        Some(Cow::Owned(owned))
                    }
                    _ => None,
                }
            }
        }
    }
}

/// Opens a WebSocket the way the bench's clients do: with a small read
/// buffer, and with Nagle's algorithm off, as browsers open theirs.
pub async fn connect(url: &str) -> Result<Ws, tokio_tungstenite::tungstenite::Error> {
    let config = WebSocketConfig::default().read_buffer_size(READ_BUFFER);
    let (ws, _) = tokio_tungstenite::connect_async_with_config(url, Some(config), true).await?;
    Ok(ws)
}

fn put_var_uint(out: &mut BytesMut, mut n: u64) {
    while n >= 0x80 {
        out.put_u8((n as u8 & 0x7f) | 0x80);
        n >>= 7;
    }
    out.put_u8(n as u8);
}

/// A lib0 var-uint and how many bytes it took; `None` when truncated.
fn read_var_uint(bytes: &[u8]) -> Option<(u64, usize)> {
    let mut n = 0u64;
    for (i, &b) in bytes.iter().enumerate().take(10) {
        n |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Some((n, i + 1));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hocuspocus_frames_round_trip() {
        let wire = Wire::new(Protocol::Hocuspocus, "atelierdag-2022/a", "bench");
        let auth = wire.opening().unwrap();
        assert_eq!(&auth[..18], b"\x11atelierdag-2022/a");
        assert_eq!(&auth[18..], b"\x02\x00\x05bench");
        let framed = wire.wrap(vec![0, 0, 1, 0]);
        assert_eq!(wire.unwrap(&framed).unwrap().as_ref(), &[0, 0, 1, 0]);
        let mut reply = wire.prefix.to_vec();
        reply.extend_from_slice(&[4, 0, 0]);
        assert_eq!(wire.unwrap(&reply).unwrap().as_ref(), &[0, 0, 0]);
        let mut status = wire.prefix.to_vec();
        status.extend_from_slice(&[8, 1]);
        assert!(wire.unwrap(&status).is_none());
    }
}
