//! One client's WebSocket: the handshake and fragmented sends ([`upgrade`]) and
//! the reader loop with its writer task ([`connection`]). Only this layer and
//! `http` know sockets; the table core below knows neither.

pub mod connection;
pub mod upgrade;
