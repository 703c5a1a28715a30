//! `sioscope check`: a protocol conformance suite run against a live Engine.IO / Socket.IO
//! server.
//!
//! # What it checks
//!
//! Every case of the official suites — engine.io-protocol `test-suite/` (Engine.IO v4), the
//! socket.io monorepo's `docs/engine.io-protocol/v3-test-suite` (v3) and socket.io-protocol
//! `test-suite/` (Socket.IO v5, with its protocol v4 derivation) — plus what they leave out:
//! permessage-deflate, `maxPayload` enforcement and connection state recovery. The table of
//! cases and the official test each mirrors is in `docs/check-cases.md`.
//!
//! # The server under test
//!
//! Any server: [`discover()`] first finds the Socket.IO path, the revisions, the server's own
//! settings (its handshake), whether a bare Engine.IO endpoint exists and whether the official
//! suites' reference app runs there (pingInterval 300 ms, pingTimeout 200 ms, maxPayload 1e6,
//! connectTimeout 1000 ms, an echo endpoint at `/engine.io/`, `auth`, `message-back`,
//! `/custom`; ready copies in `fixtures/lab/suite/`). [`needs()`] decides which cases run: the
//! protocol cases everywhere, the reference-app cases only with that app, each other one
//! skipped with its reason; heartbeat and timeout cases wait by the advertised settings.
//! [`deviation`] names known library deviations in failures (`--allow` accepts them).
//!
//! # How
//!
//! Each case is an async function over a [`Ctx`] (server, [`Profile`], transcript) that
//! drives the server with [`crate::client`] and the project's codecs (`crate::engineio`,
//! `crate::socketio`) and returns pass, fail (what differed) or skip (why it does not
//! apply). [`runner::run`] runs them one at a time, each within a time limit and the whole
//! suite within another; [`report`] renders the result as a table, JSON or JUnit XML.

pub mod case;
pub mod cases_eio;
pub mod cases_eio_session;
pub mod cases_extra;
pub mod cases_protocol;
pub mod cases_sio;
pub mod deviation;
pub mod discover;
pub mod needs;
pub mod profile;
pub mod report;
pub mod runner;

pub use case::{CaseDef, Ctx, Stop, Suite};
pub use discover::{discover, Options};
pub use needs::{needs, Needs};
pub use profile::{detect, DetectError, Profile, Settings};
pub use runner::{run, CaseReport, Limits, Outcome, SuiteReport};

/// Every case, in order: Engine.IO suite, Socket.IO suite, extras.
pub fn all_cases() -> Vec<CaseDef> {
    let mut v = cases_eio::cases();
    v.extend(cases_sio::cases());
    v.extend(cases_extra::cases());
    v.extend(cases_protocol::cases());
    v
}
