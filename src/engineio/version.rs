//! Engine.IO protocol revisions and how to tell them apart.
//!
//! A client names the revision in the query string of every request: `EIO=4`
//! (engine.io 4+/Socket.IO 3+), `EIO=3` (Socket.IO 1.x/2.x), `EIO=2` (early engine.io). A request
//! without `EIO` comes from a client older than the parameter, which spoke revision 2... or from
//! something that is not Engine.IO at all; [`Version::from_query`] therefore answers `None` and
//! leaves the guess to the caller.

use std::fmt;
use std::str::FromStr;

/// An Engine.IO protocol revision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Version {
    /// Revision 2: text only, `<len>:<packet>` payloads, the client pings.
    V2,
    /// Revision 3: adds binary (`b4<base64>` in text payloads, the XHR2 binary framing, a type
    /// byte in front of WebSocket binary messages); the client pings.
    V3,
    /// Revision 4: `\x1e`-separated payloads, `b<base64>` binary, raw WebSocket binary
    /// messages; the server pings.
    V4,
}

/// An `EIO=` value that names no known revision.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown Engine.IO version {0:?}")]
pub struct UnknownVersion(pub String);

impl Version {
    /// The number written in the `EIO=` query parameter.
    pub fn number(self) -> u8 {
        match self {
            Version::V2 => 2,
            Version::V3 => 3,
            Version::V4 => 4,
        }
    }

    /// Parses the value of the `EIO` query parameter (`"3"`, `"4"`, …).
    pub fn from_eio_value(value: &str) -> Result<Self, UnknownVersion> {
        match value.trim() {
            "2" => Ok(Version::V2),
            "3" => Ok(Version::V3),
            "4" => Ok(Version::V4),
            other => Err(UnknownVersion(other.to_string())),
        }
    }

    /// Finds `EIO=<n>` in a raw query string (with or without the leading `?`). `None` when the
    /// parameter is absent or names no known revision.
    pub fn from_query(query: &str) -> Option<Self> {
        query
            .trim_start_matches('?')
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .find(|(k, _)| *k == "EIO")
            .and_then(|(_, v)| Version::from_eio_value(v).ok())
    }

    /// Whether the server sends the pings (v4) rather than the client (v2, v3).
    pub fn server_pings(self) -> bool {
        self == Version::V4
    }
}

impl FromStr for Version {
    type Err = UnknownVersion;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Version::from_eio_value(s)
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EIO={}", self.number())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_eio_values() {
        assert_eq!("3".parse::<Version>(), Ok(Version::V3));
        assert_eq!(Version::from_eio_value("4"), Ok(Version::V4));
        assert_eq!(Version::from_eio_value("2"), Ok(Version::V2));
        assert_eq!(
            Version::from_eio_value("abc"),
            Err(UnknownVersion("abc".into()))
        );
        assert_eq!(Version::V4.to_string(), "EIO=4");
    }

    #[test]
    fn finds_eio_in_queries() {
        assert_eq!(
            Version::from_query("?EIO=4&transport=polling&t=N8hyd6w"),
            Some(Version::V4)
        );
        assert_eq!(
            Version::from_query("transport=websocket&sid=abc&EIO=3"),
            Some(Version::V3)
        );
        assert_eq!(Version::from_query("transport=polling"), None);
        assert_eq!(Version::from_query("EIO=abc"), None);
        assert!(Version::V4.server_pings());
        assert!(!Version::V3.server_pings());
    }
}
