//! `explain`: why each Engine.IO session ended, with evidence, and how sessions chain across
//! reconnects.
//!
//! The input is the session tracker's records (a fold over the event stream); the output is one
//! [`Finding`] per session and the reconnect [`Chain`]s. Causes are one enum ([`Cause`]), kept
//! apart from error types: a cause is a conclusion about the traffic, drawn from evidence that
//! cites capture frames (see `docs/wire-evidence.md` for what each cause looks like on the wire).
//! The fold is pure: same records in, same findings out. Time verdicts (ping timeout) use capture
//! timestamps against the session's own `pingInterval`/`pingTimeout` from its open packet.

mod cause;
mod chains;
mod har;
mod log;
mod rules;

pub use cause::{Cause, Initiator, ALL as ALL_CAUSES};
pub use chains::{Chain, Link, SocketChange};
pub use har::apply_har_limits;
pub use log::attach_log_evidence;
pub use rules::{explain, explain_sessions, Explanation, Finding, FindingEnd, Note, SocketSummary};
