//! One client's WebSocket: the handshake and fragmented sends ([`upgrade`]),
//! the reader loop with its writer task ([`connection`]) and the clock rules
//! they obey, without I/O ([`liveness`]). Only this layer and
//! `http` know sockets; the table core below knows neither.

pub mod close;
pub mod connection;
pub mod liveness;
pub mod upgrade;
