//! Errors of the Engine.IO layer.
//!
//! One variant per rule of the Engine.IO protocol that a packet or a polling payload can break.
//! Every variant says where the offending bytes start (`offset`, counted in bytes from the
//! start of the input handed to the decoder: the WebSocket message, or the whole HTTP body for
//! payloads) and carries the offending bytes or text, cut to a short excerpt so that a hostile
//! input never turns into a huge error value.

use thiserror::Error;

/// At most this many bytes of offending input are kept in an error.
pub const EXCERPT_MAX: usize = 64;

/// Cuts `bytes` to at most [`EXCERPT_MAX`] bytes for an error value.
pub(crate) fn excerpt(bytes: &[u8]) -> Vec<u8> {
    bytes.get(..EXCERPT_MAX).unwrap_or(bytes).to_vec()
}

/// Cuts `text` to at most [`EXCERPT_MAX`] bytes (on a character boundary) for an error value.
pub(crate) fn excerpt_str(text: &str) -> String {
    let mut end = text.len().min(EXCERPT_MAX);
    while !text.is_char_boundary(end) {
        end = end.saturating_sub(1);
    }
    text.get(..end).unwrap_or_default().to_string()
}

/// A rule of the Engine.IO protocol (any revision) broken by a packet or a payload.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EioError {
    /// A packet with no bytes at all: not even a packet type.
    #[error("empty packet at offset {offset}")]
    EmptyPacket {
        /// Where the empty packet sits.
        offset: usize,
    },
    /// A polling body with no bytes at all.
    #[error("empty payload")]
    EmptyPayload,
    /// The first character (or byte, in binary packets) is not a packet type 0–6.
    #[error("unknown packet type {found:?} at offset {offset}")]
    UnknownPacketType {
        /// Where the packet starts.
        offset: usize,
        /// The byte(s) found instead of a type digit.
        found: Vec<u8>,
    },
    /// A packet type that carries no data (close, upgrade, noop) followed by data.
    #[error("packet type {packet_type} carries unexpected data {found:?} at offset {offset}")]
    UnexpectedData {
        /// Where the data starts.
        offset: usize,
        /// The packet type digit.
        packet_type: u8,
        /// An excerpt of the data.
        found: Vec<u8>,
    },
    /// Text that is not valid UTF-8 where the protocol requires text.
    #[error("invalid UTF-8 at offset {offset}")]
    InvalidUtf8 {
        /// Where the first invalid byte is.
        offset: usize,
        /// An excerpt of the bytes from there.
        found: Vec<u8>,
    },
    /// A `b…` packet whose base64 does not decode.
    #[error("bad base64 at offset {offset}: {reason}")]
    BadBase64 {
        /// Where the base64 text starts.
        offset: usize,
        /// What the base64 decoder said.
        reason: String,
        /// An excerpt of the base64 text.
        found: String,
    },
    /// The open packet's data is not a JSON object with a string `sid`.
    #[error("bad open packet JSON at offset {offset}: {reason}")]
    BadOpenJson {
        /// Where the JSON starts.
        offset: usize,
        /// What is wrong with it.
        reason: String,
        /// An excerpt of the JSON text.
        found: String,
    },
    /// A v2/v3 length prefix (`<len>:` or the XHR2 digit bytes) that is missing, empty, not
    /// made of digits, or too large to be a length.
    #[error("bad length prefix at offset {offset}: {found:?}")]
    BadLengthPrefix {
        /// Where the prefix starts.
        offset: usize,
        /// An excerpt of the bytes found.
        found: Vec<u8>,
    },
    /// A length prefix that declares more than the payload still holds.
    #[error("length {declared} at offset {offset} runs past the end ({available} available)")]
    LengthPastEnd {
        /// Where the packet (after the prefix) starts.
        offset: usize,
        /// The declared length (UTF-16 code units for strings, bytes for the XHR2 framing).
        declared: usize,
        /// What is left in the same unit.
        available: usize,
    },
    /// A UTF-16 length that ends in the middle of a surrogate pair (an emoji cut in two).
    #[error("length {declared} at offset {offset} ends inside a character")]
    LengthSplitsCharacter {
        /// Where the packet (after the prefix) starts.
        offset: usize,
        /// The declared length in UTF-16 code units.
        declared: usize,
    },
    /// XHR2 binary framing: the first byte of an item is neither `0x00` (string) nor `0x01`
    /// (binary).
    #[error("bad binary payload item kind {found:#04x} at offset {offset}")]
    BadFrameKind {
        /// Where the item starts.
        offset: usize,
        /// The byte found.
        found: u8,
    },
    /// A binary packet whose type cannot carry binary data (open), or binary data where the
    /// revision has none (v2).
    #[error("packet type {packet_type} cannot carry binary data (offset {offset})")]
    UnexpectedBinary {
        /// Where the packet starts.
        offset: usize,
        /// The packet type number.
        packet_type: u8,
    },
    /// A JSONP wrapper (`___eio[N]("…");`) or a JSONP form body (`d=…`) that does not parse.
    #[error("bad JSONP wrapper at offset {offset}: {reason}")]
    BadJsonp {
        /// Where the problem is.
        offset: usize,
        /// What is wrong.
        reason: String,
    },
    /// A packet that this revision cannot put on the wire (encoder side).
    #[error("cannot encode: {reason}")]
    NotEncodable {
        /// Why not.
        reason: String,
    },
}

impl EioError {
    /// The byte offset the error points at, when it has one.
    pub fn offset(&self) -> Option<usize> {
        use EioError::*;
        match self {
            EmptyPacket { offset }
            | UnknownPacketType { offset, .. }
            | UnexpectedData { offset, .. }
            | InvalidUtf8 { offset, .. }
            | BadBase64 { offset, .. }
            | BadOpenJson { offset, .. }
            | BadLengthPrefix { offset, .. }
            | LengthPastEnd { offset, .. }
            | LengthSplitsCharacter { offset, .. }
            | BadFrameKind { offset, .. }
            | UnexpectedBinary { offset, .. }
            | BadJsonp { offset, .. } => Some(*offset),
            EmptyPayload | NotEncodable { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpts_are_capped_on_char_boundaries() {
        let long = "é".repeat(100);
        let cut = excerpt_str(&long);
        assert!(cut.len() <= EXCERPT_MAX);
        assert_eq!(cut.len(), 64);
        let cut = excerpt_str(&format!("a{long}"));
        assert_eq!(cut.len(), 63);
        assert_eq!(excerpt(&[7u8; 200]).len(), EXCERPT_MAX);
        assert_eq!(excerpt(b"ab"), b"ab".to_vec());
    }

    #[test]
    fn offsets() {
        assert_eq!(EioError::EmptyPacket { offset: 3 }.offset(), Some(3));
        assert_eq!(EioError::EmptyPayload.offset(), None);
    }

    #[test]
    fn messages_name_the_rule() {
        let e = EioError::UnknownPacketType {
            offset: 0,
            found: b"9".to_vec(),
        };
        assert_eq!(e.to_string(), "unknown packet type [57] at offset 0");
        let e = EioError::BadFrameKind {
            offset: 4,
            found: 2,
        };
        assert_eq!(
            e.to_string(),
            "bad binary payload item kind 0x02 at offset 4"
        );
    }
}
