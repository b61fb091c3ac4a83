//! Werktafel's cross-component tests: the real server binary on port 0, with
//! WebSocket clients holding their own yrs documents. One binary, one module
//! per concern; the harness lives in `support/`.

mod archive;
mod bad_input;
mod closing;
mod cluster;
mod cluster_faults;
mod cluster_http;
mod cluster_outages;
mod cluster_shared;
mod exports;
mod facilitation;
mod http;
mod interop;
mod lecture;
mod limits;
mod liveness;
mod market;
mod notes;
mod persistence;
mod poster;
mod postgres;
mod rooms;
mod summary;
mod sync;
