//! # sioscope
//!
//! A library that decodes Socket.IO and Engine.IO traffic from packet captures or a live relay and
//! explains why connections ended.
//!
//! The pipeline, from bytes to findings:
//!
//! ```text
//! capture (pcap/pcapng, stdin) ─▶ tcp reassembly ─┐
//!                       proxy (live TCP relay) ───┴─▶ Chunk { conn, dir, origin, bytes }
//!   ─▶ http (HTTP/1.1 requests/responses, polling bodies, 101 upgrade)
//!   ─▶ ws (RFC 6455 frames) ─▶ deflate (RFC 7692 permessage-deflate)
//!   ─▶ engineio (v2/v3/v4 packets and payloads) ─▶ socketio (v4/v5 and legacy 0.9 packets)
//!   ─▶ one typed [`event::Event`] stream ─▶ sinks (reporters, session tracker, explain)
//! ```
//!
//! Every protocol module is sans-io: it takes bytes and returns typed values, never reads a file,
//! a socket or the clock.
#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod capture;
pub mod check;
pub mod client;
pub mod conformance;
pub mod deflate;
pub mod doctor;
pub mod engineio;
pub mod event;
pub mod explain;
pub mod har;
pub mod http;
pub mod legs;
pub mod log;
pub mod pipeline;
pub mod proxy;
pub mod report;
pub mod session;
pub mod socketio;
pub mod tcp;
pub mod units;
pub mod ws;
