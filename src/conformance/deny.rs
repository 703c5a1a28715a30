//! `--deny`: session ends (explain's causes) that fail a conformance run.
//!
//! A deny names one cause (`deflate-error`, `ping-timeout`, ...), `abnormal` for every cause
//! that is not a deliberate disconnect or a session still open, or `handshake-refused` for a
//! handshake the server answered with an error (no session was ever created).

use thiserror::Error;

use crate::explain::{Cause, ALL_CAUSES};

/// The name of a refused handshake (it has no session, so it is not an explain cause).
pub const HANDSHAKE_REFUSED: &str = "handshake-refused";

/// A `--deny` value that names nothing known.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("unknown cause {given:?} for --deny (known: abnormal, handshake-refused, {known})")]
pub struct DenyError {
    /// What was given.
    pub given: String,
    /// The known cause names, comma-separated.
    pub known: String,
}

/// What a `--deny` matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deny {
    /// Every abnormal end (and refused handshakes).
    Abnormal,
    /// One cause.
    Cause(Cause),
    /// Handshakes refused before any session existed.
    HandshakeRefused,
}

impl Deny {
    /// Parses a deny name.
    pub fn parse(s: &str) -> Result<Deny, DenyError> {
        match s {
            "abnormal" => Ok(Deny::Abnormal),
            HANDSHAKE_REFUSED => Ok(Deny::HandshakeRefused),
            _ => Cause::parse(s).map(Deny::Cause).ok_or_else(|| DenyError {
                given: s.to_string(),
                known: ALL_CAUSES
                    .iter()
                    .map(|c| c.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            }),
        }
    }

    /// The name as given on the command line.
    pub fn name(self) -> String {
        match self {
            Deny::Abnormal => "abnormal".to_string(),
            Deny::Cause(c) => c.as_str().to_string(),
            Deny::HandshakeRefused => HANDSHAKE_REFUSED.to_string(),
        }
    }

    /// Whether a session end matches (`None`: a refused handshake).
    pub fn matches(self, cause: Option<Cause>) -> bool {
        match (self, cause) {
            (Deny::Abnormal, Some(c)) => c.is_abnormal(),
            (Deny::Abnormal, None) | (Deny::HandshakeRefused, None) => true,
            (Deny::Cause(d), Some(c)) => d == c,
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_matches() {
        assert_eq!(Deny::parse("abnormal"), Ok(Deny::Abnormal));
        assert_eq!(
            Deny::parse("deflate-error"),
            Ok(Deny::Cause(Cause::DeflateError))
        );
        assert!(Deny::parse("nope").is_err());
        assert!(Deny::Abnormal.matches(Some(Cause::PingTimeout)));
        assert!(!Deny::Abnormal.matches(Some(Cause::ClientDisconnect)));
        assert!(Deny::Abnormal.matches(None));
        assert!(!Deny::Cause(Cause::DeflateError).matches(Some(Cause::PingTimeout)));
    }
}
