//! The cause rules, one per file, and the one list that says in which order they are tried.
//!
//! Each file documents what the wire shows for its cause, what each library reports (with the
//! source line at the pinned version, see `docs/library-reasons.md`) and what to do, beside the
//! rule and its tests. The first rule that matches names the end; the rules after it may still
//! contribute notes (`explain::notes`).

pub(crate) mod connect_refused;
pub(crate) mod cut_poll;
pub(crate) mod deflate_error;
pub(crate) mod eio_mismatch;
pub(crate) mod engine_close;
pub(crate) mod message_too_large;
pub(crate) mod parse_error;
pub(crate) mod ping_timeout;
pub(crate) mod session_unknown;
pub(crate) mod sio_disconnect;
pub(crate) mod still_open;
pub(crate) mod transport_close;
pub(crate) mod transport_error;
pub(crate) mod upgrade_failed;
pub(crate) mod websocket_blocked;

use super::facts::Facts;
use super::finding::FindingEnd;

/// A cause rule: the end it names for a session, when its evidence is there.
pub(crate) type Rule = fn(&Facts) -> Option<FindingEnd>;

/// The order of precedence, first match wins. Explicit statements on the wire come first (a
/// close code, an HTTP error body, a DISCONNECT packet), then what timing shows (heartbeat
/// deadlines), then who closed the transport, and last the capture ending under an open session.
pub(crate) const ORDER: [(&str, Rule); 15] = [
    // a session between two Engine.IO revisions cannot work: everything after it is a consequence
    ("eio-mismatch", eio_mismatch::rule),
    ("deflate-error", deflate_error::rule),
    ("message-too-large", message_too_large::rule),
    ("session-unknown", session_unknown::rule),
    ("parse-error", parse_error::rule),
    ("socket.io-disconnect", sio_disconnect::rule),
    ("connect-refused", connect_refused::rule),
    ("websocket-blocked", websocket_blocked::rule),
    ("ping-timeout", ping_timeout::rule),
    ("upgrade-failed", upgrade_failed::rule),
    ("transport-error", transport_error::rule),
    ("cut-poll", cut_poll::rule),
    ("engine.io-close", engine_close::rule),
    ("transport-close", transport_close::rule),
    ("still-open", still_open::rule),
];

/// Names a session's end: the first rule of [`ORDER`] that matches.
pub(crate) fn classify(f: &Facts) -> FindingEnd {
    ORDER
        .iter()
        .find_map(|(_, rule)| rule(f))
        .unwrap_or_else(|| still_open::fallback(f))
}
