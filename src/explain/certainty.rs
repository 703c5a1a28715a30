//! How sure a finding is, and what else it could be.

use serde::Serialize;

use super::cause::Cause;

/// How firmly the evidence supports a finding's cause.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Certainty {
    /// The wire carries the statement itself (a DISCONNECT packet, a close code, an HTTP error
    /// body): no other cause produces these bytes.
    Certain,
    /// The cause is the best reading of what the wire shows (timing, who closed first), but the
    /// bytes alone do not exclude the candidates listed beside it.
    Likely,
    /// The capture does not settle it; the candidates say what it could be.
    Unknown,
}

impl Certainty {
    /// The name used in output.
    pub fn as_str(self) -> &'static str {
        match self {
            Certainty::Certain => "certain",
            Certainty::Likely => "likely",
            Certainty::Unknown => "unknown",
        }
    }
}

/// Another cause the evidence leaves open, and what would tell it apart.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Candidate {
    /// The other cause.
    pub cause: Cause,
    /// What would decide between it and the stated cause.
    pub decide: String,
}
