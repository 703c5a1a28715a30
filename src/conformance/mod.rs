//! Conformance of recorded traffic: does what the client sent, and what the server sent, follow
//! Engine.IO, Socket.IO, RFC 6455 and RFC 7692?
//!
//! ## What is checked
//!
//! Two kinds of rules, each held against the side that sent the bytes (client → server bytes bind
//! the client, server → client bytes the server):
//!
//! - **Well-formedness.** Every anomaly a decoder reports (an HTTP framing error, an unmasked
//!   client frame, a bad close code, an undecodable Engine.IO or Socket.IO packet, a compressed
//!   message that does not inflate) is a violation of the rule of its layer. Anomalies that say
//!   the capture is incomplete (gaps, a capture cut mid-record or begun mid-connection, a request
//!   still unanswered when the capture ended) bind neither peer: they are listed as notes.
//! - **Sequences.** A fold over the event stream ([`Checker`]) keeps per connection, session and
//!   namespace what the sequence rules need: CONNECT before events on a namespace, acks matching
//!   event ids the other side sent, heartbeats answered within the session's own `pingTimeout`
//!   (timed with capture timestamps), one GET and one POST in flight per session, the upgrade
//!   sequence (`2probe`, `3probe`, `5`, no polling afterwards), nothing sent after a close, RSV1
//!   only where permessage-deflate was negotiated, legal close codes, client messages within
//!   `maxPayload`. Each rule names the specification sentence it enforces ([`Rule::spec`]).
//!
//! Beside the rules, `explain`'s causes ([`crate::explain`]) for every session can be denied
//! ([`Deny`]): CI fails when a capture shows, say, a `deflate-error`, or any abnormal end.
//!
//! ## The API
//!
//! [`Checker`] takes events one at a time (bounded state: counters, a few example frames per
//! rule, capped maps); [`Report::build`] joins its results with the explanation and the deny
//! list. [`junit::write_junit`] renders a report as JUnit XML.

mod checker;
mod deny;
pub mod junit;
mod namespace;
mod rule;
#[cfg(test)]
mod tests;

pub use checker::{Checker, MAX_EXAMPLES};
pub use deny::{Deny, DenyError};
pub use rule::{rule_of_anomaly, Rule, Side, ALL_RULES};

use serde::Serialize;

use crate::event::Timestamp;
use crate::explain::Explanation;

/// One offending frame.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Violation {
    /// Frame number (1-based).
    pub frame: u64,
    /// Capture time.
    pub ts: Timestamp,
    /// TCP connection id.
    pub conn: u64,
    /// Engine.IO session, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// What is wrong, in words.
    pub detail: String,
}

/// Something about the capture itself (not a peer's fault): a gap, a truncation, a request the
/// capture never saw answered.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Note {
    /// Frame number.
    pub frame: u64,
    /// Connection id (0 for capture-level notes).
    pub conn: u64,
    /// The decoder's rule name.
    pub rule: String,
    /// In words.
    pub detail: String,
}

/// The result of one rule for one side.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuleResult {
    /// Whose bytes the rule judged.
    pub side: Side,
    /// The rule.
    pub rule: Rule,
    /// What it checks.
    pub description: &'static str,
    /// The specification sentence.
    pub spec: &'static str,
    /// How many times it was checked.
    pub checked: u64,
    /// How many times it was broken.
    pub violations: u64,
    /// The first offending frames (at most [`MAX_EXAMPLES`]).
    pub first: Vec<Violation>,
}

impl RuleResult {
    /// `pass`, `fail`, or `n/a` when nothing was checked.
    pub fn status(&self) -> &'static str {
        if self.violations > 0 {
            "fail"
        } else if self.checked == 0 {
            "n/a"
        } else {
            "pass"
        }
    }
}

/// How one session ended, and whether that end is denied.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CauseResult {
    /// Session id (empty for refused handshakes, which have none).
    pub sid: String,
    /// The cause name (`deflate-error`, ..., or `handshake-refused`).
    pub cause: String,
    /// Whether the cause is abnormal.
    pub abnormal: bool,
    /// Whether a `--deny` matched it.
    pub denied: bool,
    /// The frame where it ended.
    pub frame: u64,
    /// Who ended it (`client`, `server`, `network`, `unknown`).
    pub initiator: String,
    /// The explanation in words.
    pub explanation: String,
}

/// A whole conformance report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// The capture's name.
    pub capture: String,
    /// True when no rule was broken and no cause denied.
    pub ok: bool,
    /// Rule violations in total.
    pub violations: u64,
    /// Denied session ends.
    pub denied: usize,
    /// The `--deny` names the run was given.
    pub deny: Vec<String>,
    /// Per side and rule.
    pub rules: Vec<RuleResult>,
    /// Per session.
    pub causes: Vec<CauseResult>,
    /// Notes about the capture (not violations); `notes_total` counts all of them.
    pub notes: Vec<Note>,
    /// How many notes there were.
    pub notes_total: u64,
}

impl Report {
    /// Joins the checker's results with the explanation and the deny list.
    pub fn build(capture: &str, checker: Checker, x: &Explanation, deny: &[Deny]) -> Report {
        let (rules, notes, notes_total) = checker.finish();
        let mut causes: Vec<CauseResult> = x
            .sessions
            .iter()
            .map(|f| {
                let cause = f.end.cause;
                CauseResult {
                    sid: f.sid.clone(),
                    cause: cause.as_str().to_string(),
                    abnormal: cause.is_abnormal(),
                    denied: deny.iter().any(|d| d.matches(Some(cause))),
                    frame: f.end.at.frame,
                    initiator: serde_json::to_value(f.end.initiator)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_string))
                        .unwrap_or_default(),
                    explanation: f.end.explanation.clone(),
                }
            })
            .collect();
        for m in &x.sessionless_errors {
            causes.push(CauseResult {
                sid: String::new(),
                cause: deny::HANDSHAKE_REFUSED.to_string(),
                abnormal: true,
                denied: deny.iter().any(|d| d.matches(None)),
                frame: m.frame,
                initiator: "server".to_string(),
                explanation: m.what.clone().into(),
            });
        }
        let violations = rules.iter().map(|r| r.violations).sum();
        let denied = causes.iter().filter(|c| c.denied).count();
        Report {
            capture: capture.to_string(),
            ok: violations == 0 && denied == 0,
            violations,
            denied,
            deny: deny.iter().map(|d| d.name()).collect(),
            rules,
            causes,
            notes,
            notes_total,
        }
    }
}
