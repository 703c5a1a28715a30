//! `doctor`: point it at a Socket.IO server and learn, in plain words, which transports work
//! from here, what is blocked on the way, the server's heartbeat settings and versions, and
//! what to change.
//!
//! ## What it tries
//!
//! 1. **TCP** to the host and port (a refusal or silence here ends the run with one sentence:
//!    the server is down, or a firewall drops the connection).
//! 2. **Polling** (engine.io-protocol "HTTP long-polling"): the handshake `GET …?EIO=4&transport=polling`
//!    (and `EIO=3` when 4 is refused: the revision that answers names the server's generation),
//!    a Socket.IO CONNECT posted and its answer read back, then a clean close. The open packet
//!    gives `pingInterval`, `pingTimeout`, `maxPayload` and the offered upgrades; the `Server`
//!    header names the software when sent.
//! 3. **WebSocket directly** (`transport=websocket`, no sid): `101`, the open packet, a CONNECT
//!    and its answer, a close frame — once plain, once offering permessage-deflate (RFC 7692),
//!    whose acceptance is read from `Sec-WebSocket-Extensions` and exercised by sending a
//!    compressed message the server must inflate to answer.
//! 4. **The upgrade** (engine.io-protocol "Upgrade"): a polling session, then a WebSocket with
//!    its sid, `2probe` → `3probe`, `5`, and one exchange over the WebSocket — plain and with
//!    permessage-deflate.
//!
//! A `101` followed by silence is the signature of something between the peers that swallows
//! WebSocket frames (security software, a proxy that understands only HTTP): doctor names it.
//! Every step has its own timeout, so the whole run is bounded by a few times `--timeout`.
//!
//! ## The API
//!
//! [`Target::parse`] reads the URL; [`diagnose`] runs the probes (async, tokio) and returns a
//! [`Diagnosis`] whose [`Diagnosis::settings_lines`] render it as text and whose fields serialize as JSON.

mod client;
mod diagnosis;
mod polling;
mod probes;
mod target;
mod websocket;

pub use client::Failure;
pub use diagnosis::{diagnose, Diagnosis, Options};
pub use probes::{LegacyFacts, ProbeReport, ServerFacts, Status};
pub use target::Target;

use thiserror::Error;

/// Why doctor could not run at all (a server that is down is a finding, not an error).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DoctorError {
    /// The URL cannot be probed.
    #[error("cannot use {url:?}: {why}")]
    BadUrl {
        /// As given.
        url: String,
        /// What is wrong with it.
        why: String,
    },
}
