//! The y-protocols wire format: untrusted WebSocket frames decoded into typed
//! [`Incoming`] messages, and the few messages the server encodes itself.
//!
//! A frame may carry several y-protocol messages back to back (y-protocols
//! allows it; the stock clients send one). Decoding checks every length
//! against what is left of the frame before it allocates, never panics, and
//! keeps update payloads as zero-copy slices of the frame.

use bytes::Bytes;
use yrs::StateVector;
use yrs::encoding::read::{Cursor, Read};
use yrs::encoding::write::Write;
use yrs::sync::awareness::AwarenessUpdate;
use yrs::updates::decoder::Decode;
use yrs::updates::encoder::{Encode, Encoder, EncoderV1};

/// Top-level message type: document sync.
pub const MSG_SYNC: u8 = 0;
/// Top-level message type: awareness (presence).
pub const MSG_AWARENESS: u8 = 1;
/// Top-level message type: auth (only ever sent by servers; refused from clients).
pub const MSG_AUTH: u8 = 2;
/// Top-level message type: a request for the full awareness state.
pub const MSG_QUERY_AWARENESS: u8 = 3;

/// Sync sub-type: a state vector, asking for what the sender lacks.
pub const SYNC_STEP_1: u8 = 0;
/// Sync sub-type: the answer to step 1, an update.
pub const SYNC_STEP_2: u8 = 1;
/// Sync sub-type: an incremental update.
pub const SYNC_UPDATE: u8 = 2;

/// An awareness message with no entries. Clients apply it as a no-op, but
/// receiving it resets the stock y-websocket client's 30-second
/// "no message received, reconnect" timer, which browsers' invisible
/// WebSocket pings do not.
pub const KEEPALIVE: &[u8] = &[MSG_AWARENESS, 1, 0];

/// One decoded message from a client.
#[derive(Debug)]
pub enum Incoming {
    /// The client's state vector; it wants what it lacks (answered with step 2).
    SyncStep1(StateVector),
    /// The client's answer to our step 1: an update (v1 encoding).
    SyncStep2(Bytes),
    /// An incremental update (v1 encoding).
    Update(Bytes),
    /// An awareness update.
    Awareness(AwarenessUpdate),
    /// The client asks for every known awareness state.
    QueryAwareness,
}

/// Why a frame was refused. Each maps to one WebSocket close code.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ProtocolError {
    #[error("frame is empty")]
    Empty,
    #[error("frame of {size} bytes exceeds the limit of {limit} bytes")]
    TooLarge { size: usize, limit: usize },
    #[error("unknown message type {0}")]
    UnknownMessageType(u64),
    #[error("unknown sync message type {0}")]
    UnknownSyncType(u64),
    #[error("clients may not send auth messages")]
    AuthFromClient,
    #[error("malformed {what}: {reason}")]
    Malformed { what: &'static str, reason: String },
}

/// The highest awareness clock a client may announce. A client counts up
/// from 0, once per change of its presence (at most every few seconds), so
/// it never gets near; yrs adds one to a stored clock when a state is
/// removed (a peer leaving, a state expiring), which overflows at
/// `u32::MAX` (found by the fuzzer): a panic under the room lock where
/// overflow checks are on (debug builds, the fuzz build), a wrap elsewhere.
pub const MAX_AWARENESS_CLOCK: u32 = i32::MAX as u32;

/// Decodes every message in one binary frame, or refuses the whole frame.
///
/// A frame is all-or-nothing: the connection closes on any error, so a
/// partial result would never be acted upon.
pub fn decode_frame(frame: &Bytes, limit: usize) -> Result<Vec<Incoming>, ProtocolError> {
    if frame.is_empty() {
        return Err(ProtocolError::Empty);
    }
    if frame.len() > limit {
        return Err(ProtocolError::TooLarge {
            size: frame.len(),
            limit,
        });
    }
    // yrs's decoders can panic on hostile bytes (integer overflow on huge
    // client ids or clocks, found by the fuzzer, with overflow checks on);
    // for us that is a malformed frame like any other.
    std::panic::catch_unwind(|| {
        let mut cursor = Cursor::new(frame);
        let mut out = Vec::with_capacity(1);
        while cursor.next < frame.len() {
            out.push(decode_message(frame, &mut cursor)?);
        }
        Ok(out)
    })
    .unwrap_or_else(|_| {
        Err(ProtocolError::Malformed {
            what: "message",
            reason: "the decoder gave up on it".into(),
        })
    })
}

/// Whether `frame` is exactly one sync update message, so that it can be
/// fanned out to other clients byte for byte without re-encoding.
pub fn is_single_update(frame: &[u8], messages: &[Incoming]) -> bool {
    messages.len() == 1
        && matches!(messages[0], Incoming::Update(_))
        && frame.starts_with(&[MSG_SYNC, SYNC_UPDATE])
}

/// `[sync, step 1, state vector]`.
pub fn encode_sync_step1(sv: &StateVector) -> Bytes {
    let mut enc = EncoderV1::new();
    enc.write_var(MSG_SYNC);
    enc.write_var(SYNC_STEP_1);
    enc.write_buf(sv.encode_v1());
    Bytes::from(enc.to_vec())
}

/// `[sync, step 2, update]`.
pub fn encode_sync_step2(update: &[u8]) -> Bytes {
    encode_sync(SYNC_STEP_2, update)
}

/// `[sync, update, update]`.
pub fn encode_update(update: &[u8]) -> Bytes {
    encode_sync(SYNC_UPDATE, update)
}

/// `[awareness, update]`.
pub fn encode_awareness(update: &AwarenessUpdate) -> Bytes {
    let mut enc = EncoderV1::new();
    enc.write_var(MSG_AWARENESS);
    enc.write_buf(update.encode_v1());
    Bytes::from(enc.to_vec())
}

fn encode_sync(kind: u8, update: &[u8]) -> Bytes {
    let mut enc = EncoderV1::new();
    enc.write_var(MSG_SYNC);
    enc.write_var(kind);
    enc.write_buf(update);
    Bytes::from(enc.to_vec())
}

fn decode_message(frame: &Bytes, cursor: &mut Cursor<'_>) -> Result<Incoming, ProtocolError> {
    let kind: u64 = read_var(cursor, "message type")?;
    match kind {
        k if k == u64::from(MSG_SYNC) => {
            let sub: u64 = read_var(cursor, "sync message type")?;
            match sub {
                s if s == u64::from(SYNC_STEP_1) => {
                    let buf = read_slice(frame, cursor, "state vector")?;
                    let sv =
                        StateVector::decode_v1(&buf).map_err(|e| malformed("state vector", e))?;
                    Ok(Incoming::SyncStep1(sv))
                }
                s if s == u64::from(SYNC_STEP_2) => {
                    Ok(Incoming::SyncStep2(read_slice(frame, cursor, "update")?))
                }
                s if s == u64::from(SYNC_UPDATE) => {
                    Ok(Incoming::Update(read_slice(frame, cursor, "update")?))
                }
                other => Err(ProtocolError::UnknownSyncType(other)),
            }
        }
        k if k == u64::from(MSG_AWARENESS) => {
            let buf = read_slice(frame, cursor, "awareness update")?;
            let update =
                AwarenessUpdate::decode_v1(&buf).map_err(|e| malformed("awareness update", e))?;
            if let Some((client, entry)) = update
                .clients
                .iter()
                .find(|(_, entry)| entry.clock > MAX_AWARENESS_CLOCK)
            {
                return Err(malformed(
                    "awareness update",
                    format!(
                        "client {client} has clock {}, beyond {MAX_AWARENESS_CLOCK}",
                        entry.clock
                    ),
                ));
            }
            Ok(Incoming::Awareness(update))
        }
        k if k == u64::from(MSG_QUERY_AWARENESS) => Ok(Incoming::QueryAwareness),
        k if k == u64::from(MSG_AUTH) => Err(ProtocolError::AuthFromClient),
        other => Err(ProtocolError::UnknownMessageType(other)),
    }
}

fn read_var(cursor: &mut Cursor<'_>, what: &'static str) -> Result<u64, ProtocolError> {
    cursor.read_var().map_err(|e| malformed(what, e))
}

/// Reads a length-prefixed buffer as a zero-copy slice of the frame.
fn read_slice(
    frame: &Bytes,
    cursor: &mut Cursor<'_>,
    what: &'static str,
) -> Result<Bytes, ProtocolError> {
    let start_of_len = cursor.next;
    let len: u64 = cursor.read_var().map_err(|e| malformed(what, e))?;
    let remaining = (frame.len() - cursor.next) as u64;
    if len > remaining {
        return Err(ProtocolError::Malformed {
            what,
            reason: format!(
                "length {len} at byte {start_of_len} runs past the end of the frame ({remaining} bytes left)"
            ),
        });
    }
    let start = cursor.next;
    // Bounded by the check above, so the cast and the addition cannot overflow.
    let end = start + len as usize;
    cursor.next = end;
    Ok(frame.slice(start..end))
}

fn malformed(what: &'static str, err: impl std::fmt::Display) -> ProtocolError {
    ProtocolError::Malformed {
        what,
        reason: err.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(bytes: &[u8]) -> Result<Vec<Incoming>, ProtocolError> {
        decode_frame(&Bytes::copy_from_slice(bytes), 1024)
    }

    #[test]
    fn decodes_each_message_kind() {
        let sv = encode_sync_step1(&StateVector::default());
        assert!(matches!(decode(&sv).unwrap()[..], [Incoming::SyncStep1(_)]));
        let step2 = encode_sync_step2(&[0, 0]);
        assert!(
            matches!(&decode(&step2).unwrap()[..], [Incoming::SyncStep2(u)] if u.as_ref() == [0, 0])
        );
        let update = encode_update(&[0, 0]);
        let messages = decode(&update).unwrap();
        assert!(is_single_update(&update, &messages));
        assert!(matches!(
            decode(KEEPALIVE).unwrap()[..],
            [Incoming::Awareness(_)]
        ));
        assert!(matches!(
            decode(&[MSG_QUERY_AWARENESS]).unwrap()[..],
            [Incoming::QueryAwareness]
        ));
    }

    #[test]
    fn decodes_several_messages_in_one_frame() {
        let mut frame = encode_update(&[0, 0]).to_vec();
        frame.extend_from_slice(KEEPALIVE);
        let messages = decode(&frame).unwrap();
        assert_eq!(messages.len(), 2);
        assert!(
            !is_single_update(&frame, &messages),
            "two messages are never forwarded as one"
        );
    }

    #[test]
    fn refuses_bad_frames_without_panicking() {
        type Check = fn(&ProtocolError) -> bool;
        let cases: &[(&str, &[u8], Check)] = &[
            ("empty", &[], |e| *e == ProtocolError::Empty),
            ("truncated varint", &[0x80], |e| {
                matches!(e, ProtocolError::Malformed { .. })
            }),
            ("overlong varint", &[0xff; 12], |e| {
                matches!(e, ProtocolError::Malformed { .. })
            }),
            ("unknown type", &[42], |e| {
                *e == ProtocolError::UnknownMessageType(42)
            }),
            ("unknown sync type", &[0, 3, 0], |e| {
                *e == ProtocolError::UnknownSyncType(3)
            }),
            ("auth", &[2, 0], |e| *e == ProtocolError::AuthFromClient),
            ("length past end", &[0, 2, 9, 1], |e| {
                matches!(e, ProtocolError::Malformed { .. })
            }),
            ("sync without subtype", &[0], |e| {
                matches!(e, ProtocolError::Malformed { .. })
            }),
            ("awareness garbage", &[1, 2, 5, 5], |e| {
                matches!(e, ProtocolError::Malformed { .. })
            }),
        ];
        for (name, bytes, expected) in cases {
            let err = decode(bytes)
                .err()
                .unwrap_or_else(|| panic!("{name}: accepted"));
            assert!(expected(&err), "{name}: unexpected error {err:?}");
        }
    }

    #[test]
    fn refuses_awareness_clocks_that_would_overflow() {
        let with_clock = |clock: u32| {
            let mut clients = std::collections::HashMap::new();
            clients.insert(
                yrs::ClientID::new(7),
                yrs::sync::awareness::AwarenessUpdateEntry {
                    clock,
                    json: r#"{"user":"x"}"#.into(),
                },
            );
            encode_awareness(&AwarenessUpdate { clients })
        };
        assert!(decode(&with_clock(MAX_AWARENESS_CLOCK)).is_ok());
        let error = decode(&with_clock(u32::MAX)).expect_err("refused");
        assert!(error.to_string().contains("client 7 has clock"), "{error}");
    }

    #[test]
    fn refuses_oversized_frames_before_decoding() {
        let frame = Bytes::from(vec![0u8; 2000]);
        assert_eq!(
            decode_frame(&frame, 1024).err(),
            Some(ProtocolError::TooLarge {
                size: 2000,
                limit: 1024
            })
        );
    }

    #[test]
    fn update_payloads_are_slices_of_the_frame() {
        let frame = encode_update(&[7, 7, 7]);
        let messages = decode_frame(&frame, 1024).unwrap();
        let Incoming::Update(payload) = &messages[0] else {
            panic!()
        };
        assert_eq!(payload.as_ptr(), frame[3..].as_ptr(), "no copy");
    }
}
