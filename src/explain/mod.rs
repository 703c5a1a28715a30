//! `explain`: why each Engine.IO session ended, with evidence, and how sessions chain across
//! reconnects.
//!
//! The input is the session tracker's records (a fold over the event stream); the output is one
//! [`Finding`] per session, the refused handshakes ([`Refusal`]) and the reconnect [`Chain`]s.
//! Causes are one enum ([`Cause`]), kept apart from error types: a cause is a conclusion about
//! the traffic, drawn from evidence that cites capture frames (see `docs/wire-evidence.md` for
//! what each cause looks like on the wire). Each cause's rule lives in its own file under
//! `causes/`, tried in the order of `causes::ORDER`; every finding says how certain it is.
//! The fold is pure: same records in, same findings out.

mod cause;
mod causes;
mod certainty;
mod chains;
mod facts;
mod finding;
mod fold;
mod har;
mod hops;
mod implementation;
mod log;
mod neighbours;
mod notes;
mod refusal;
mod summary;

#[cfg(test)]
mod fixture_tests;

pub use cause::{Cause, Initiator, ALL as ALL_CAUSES};
pub use certainty::{Candidate, Certainty};
pub use chains::{Chain, Link, SocketChange};
pub use finding::{Explanation, Finding, FindingEnd, Note, SocketSummary};
pub use fold::{bounded_tracker, explain, explain_sessions};
pub use har::apply_har_limits;
pub use implementation::{Implementation, Peers};
pub use log::attach_log_evidence;
pub use refusal::Refusal;
pub use summary::{Count, Summary, SummaryRow};

/// The rule names in the order they are tried (first match names the end).
pub fn rule_order() -> impl Iterator<Item = &'static str> {
    causes::ORDER.iter().map(|(name, _)| *name)
}
