//! What `explain` concludes: one finding per session, its end, notes, and the whole explanation.

use serde::Serialize;

use super::cause::{Cause, Initiator};
use super::certainty::{Candidate, Certainty};
use super::chains::Chain;
use super::implementation::Peers;
use super::refusal::Refusal;
use super::summary::Summary;
use crate::session::{Mark, UpgradeState};

/// A socket of a session, for reports.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SocketSummary {
    /// Namespace.
    pub nsp: String,
    /// Socket id, when the capture shows it.
    pub socket_id: Option<String>,
    /// The server refused it (CONNECT_ERROR).
    pub refused: bool,
    /// Restored by connection state recovery (same socket id as the previous session).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recovered: Option<bool>,
}

/// How a session ended.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FindingEnd {
    /// Where the end shows.
    pub at: Mark,
    /// The cause.
    pub cause: Cause,
    /// What the server's Socket.IO/Engine.IO would have reported (`transport close`, ...).
    pub reason: Option<String>,
    /// What the client would have reported.
    pub client_reason: Option<String>,
    /// When the client reports `client_reason` only under a condition the wire cannot show
    /// (a client that closed its own TCP connection without a goodbye reports it only if its
    /// process was still running), that condition in words; absent when the words are not
    /// conditional.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_reason_if: Option<String>,
    /// Who ended it.
    pub initiator: Initiator,
    /// The frames that prove it.
    pub evidence: Vec<Mark>,
    /// One paragraph in plain words.
    pub explanation: String,
    /// A change that avoids it, where one is known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
    /// How firmly the evidence supports the cause.
    pub certainty: Certainty,
    /// Why that certainty: what the evidence is, or what it lacks.
    pub certainty_reason: String,
    /// Other causes the evidence leaves open, with what would decide (empty when certain).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub candidates: Vec<Candidate>,
}

impl FindingEnd {
    /// Says under which condition the client reports its words ([`Self::client_reason_if`]).
    pub fn with_client_reason_if(mut self, condition: &str) -> Self {
        self.client_reason_if = Some(condition.to_string());
        self
    }

    /// Sets the certainty and its reason.
    pub fn with_certainty(mut self, certainty: Certainty, why: &str) -> Self {
        self.certainty = certainty;
        self.certainty_reason = why.to_string();
        self
    }

    /// Adds a candidate cause and what would decide for it.
    pub fn with_candidate(mut self, cause: Cause, decide: &str) -> Self {
        self.candidates.push(Candidate {
            cause,
            decide: decide.to_string(),
        });
        self
    }
}

/// One Engine.IO session and how it ended.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// Session id.
    pub sid: String,
    /// Engine.IO revision (none for socket.io 0.9).
    pub eio: Option<u8>,
    /// Transports in order of use.
    pub transports: Vec<String>,
    /// Client address.
    pub client: String,
    /// Server address.
    pub server: String,
    /// The implementations assumed on each side, and the evidence for them.
    pub implementation: Peers,
    /// Client `User-Agent`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<std::sync::Arc<str>>,
    /// The handshake.
    pub start: Mark,
    /// Sockets (namespaces).
    pub sockets: Vec<SocketSummary>,
    /// Upgrade progress.
    pub upgrade: UpgradeState,
    /// Where the upgrade got to (the `5` packet, or the step where it stalled).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upgrade_at: Option<Mark>,
    /// Data sent after a close frame (never processed by the peer).
    pub lost: Vec<Mark>,
    /// Socket.IO events per direction (c2s, s2c).
    pub events: [u64; 2],
    /// Faults injected by `sioscope proxy` on the session's connections (pcapng packet comments).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub injected: Vec<Mark>,
    /// The end.
    pub end: FindingEnd,
    /// Other things worth knowing about the session, beside its end.
    pub notes: Vec<Note>,
}

/// A secondary finding about a session (it did not end the session, or explains its end better).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Note {
    /// A stable name: `websocket-blocked`, `upgrade-failed`, `no-sio-disconnect-packet`,
    /// `same-tick-namespace-reconnect`, `shared-manager-drop`, `lost-messages`,
    /// `advertised-ping-interval-zero`.
    pub kind: &'static str,
    /// What it means.
    pub text: String,
    /// The frames that show it.
    pub evidence: Vec<Mark>,
}

impl Finding {
    /// True when the session ended in a way nobody asked for.
    pub fn abnormal(&self) -> bool {
        self.end.cause.is_abnormal()
    }
}

/// Everything `explain` concludes about a capture.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Explanation {
    /// One finding per Engine.IO session, in order of handshake.
    pub sessions: Vec<Finding>,
    /// Reconnect chains: sessions of the same client linked in time.
    pub chains: Vec<Chain>,
    /// Error responses that belong to no session (refused handshakes, unknown session ids).
    pub sessionless_errors: Vec<Mark>,
    /// The same errors as findings: identical refusals counted once, with their meaning and fix.
    pub refusals: Vec<Refusal>,
    /// Per-hop findings of a relay capture: both legs of one connection compared
    /// ([`crate::legs`]): which hop altered or swallowed frames, which hop closed first.
    pub hops: Vec<crate::legs::HopFinding>,
    /// Seconds between the first and the last packet.
    pub duration: f64,
    /// Ended sessions folded into a count, not explained, because the session table was full
    /// (`--max-tracked-sessions`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub folded: Option<crate::session::FoldedSessions>,
}

impl Explanation {
    /// Number of sessions that ended abnormally.
    pub fn abnormal(&self) -> usize {
        self.sessions.iter().filter(|f| f.abnormal()).count()
    }

    /// True when anything went wrong: an abnormal end (of an explained or a folded session), or
    /// requests refused outside any session.
    pub fn has_problems(&self) -> bool {
        self.abnormal() > 0
            || !self.sessionless_errors.is_empty()
            || self.folded.as_ref().is_some_and(|f| f.abnormal > 0)
    }

    /// The counts per cause and per fix, for the summary that opens a report.
    pub fn summary(&self) -> Summary {
        Summary::of(self)
    }
}
