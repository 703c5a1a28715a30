//! Errors of the Socket.IO layer (protocol v4/v5 packets, binary attachments, legacy 0.9).
//!
//! One variant per rule of the protocol. Variants carry the offending text, cut to a short
//! excerpt so that a hostile packet never becomes a huge error value.

use thiserror::Error;

/// At most this many bytes of offending text are kept in an error.
pub const EXCERPT_MAX: usize = 64;

/// Cuts `text` to at most [`EXCERPT_MAX`] bytes on a character boundary.
pub(crate) fn excerpt(text: &str) -> String {
    let mut end = text.len().min(EXCERPT_MAX);
    while !text.is_char_boundary(end) {
        end = end.saturating_sub(1);
    }
    text.get(..end).unwrap_or_default().to_string()
}

/// A rule of the Socket.IO protocol broken by a packet, an attachment or a legacy message.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SioError {
    /// An empty packet (no type digit).
    #[error("empty Socket.IO packet")]
    Empty,
    /// The first character is not a packet type 0–6.
    #[error("unknown Socket.IO packet type {found:?}")]
    UnknownPacketType {
        /// The character(s) found.
        found: String,
    },
    /// A BINARY_EVENT/BINARY_ACK without a valid `<n>-` attachment count.
    #[error("bad attachment count in {found:?}")]
    BadAttachmentCount {
        /// The packet text.
        found: String,
    },
    /// Ack id digits that do not fit in 64 bits.
    #[error("ack id too large in {found:?}")]
    BadAckId {
        /// The packet text.
        found: String,
    },
    /// The payload is not valid JSON.
    #[error("invalid JSON payload ({reason}): {found:?}")]
    BadJson {
        /// What the JSON parser said.
        reason: String,
        /// The payload text.
        found: String,
    },
    /// The payload nests deeper than the decoder parses (`json_depth::MAX_JSON_DEPTH`); the
    /// packet is kept with each value below the limit replaced by `null`.
    #[error("JSON payload nested more than {limit} deep: the deeper values are shown as null")]
    JsonTooDeep {
        /// The deepest level kept.
        limit: usize,
        /// The packet as decoded with the deep values cut.
        packet: Box<crate::socketio::Packet>,
    },
    /// A CONNECT payload that is not a JSON object.
    #[error("CONNECT payload is not an object: {found:?}")]
    ConnectPayloadNotObject {
        /// The payload text.
        found: String,
    },
    /// A CONNECT with a payload in protocol v4, where CONNECT has none.
    #[error("CONNECT carries a payload in protocol v4: {found:?}")]
    ConnectPayloadInV4 {
        /// The payload text.
        found: String,
    },
    /// A DISCONNECT with a payload.
    #[error("DISCONNECT carries a payload: {found:?}")]
    DisconnectWithPayload {
        /// The payload text.
        found: String,
    },
    /// A CONNECT_ERROR/ERROR payload that is neither a string nor an object.
    #[error("CONNECT_ERROR payload is neither a string nor an object: {found:?}")]
    ConnectErrorPayload {
        /// The payload text.
        found: String,
    },
    /// An EVENT/BINARY_EVENT/ACK/BINARY_ACK without a payload.
    #[error("{packet_type} without a payload")]
    MissingPayload {
        /// The packet type name.
        packet_type: &'static str,
    },
    /// An EVENT/BINARY_EVENT payload that is not an array.
    #[error("EVENT payload is not an array: {found:?}")]
    EventPayloadNotArray {
        /// The payload text.
        found: String,
    },
    /// An EVENT/BINARY_EVENT payload that is an empty array.
    #[error("EVENT payload is an empty array")]
    EventPayloadEmpty,
    /// An EVENT whose first element is neither a string nor a number.
    #[error("EVENT name is neither a string nor a number: {found:?}")]
    EventNameNotString {
        /// The first element as JSON.
        found: String,
    },
    /// An EVENT named after an event the library reserves (`connect`, `disconnect`, …; v5).
    #[error("EVENT uses the reserved name {name:?}")]
    ReservedEventName {
        /// The event name.
        name: String,
    },
    /// An ACK/BINARY_ACK payload that is not an array.
    #[error("ACK payload is not an array: {found:?}")]
    AckPayloadNotArray {
        /// The payload text.
        found: String,
    },
    /// A binary message arrived while no binary packet was waiting for attachments.
    #[error("binary attachment of {len} bytes with no binary packet pending")]
    UnexpectedAttachment {
        /// Size of the binary message.
        len: usize,
    },
    /// A text packet arrived while a binary packet still waited for attachments; the binary
    /// packet is abandoned.
    #[error("packet arrived while {header:?} still waited for {missing} attachment(s)")]
    TextWhileAttachmentsPending {
        /// The abandoned binary packet, re-encoded and cut.
        header: String,
        /// How many attachments were still missing.
        missing: u32,
    },
    /// A placeholder whose `num` is not an index of the received attachments.
    #[error("placeholder num {num:?} out of range ({count} attachments)")]
    PlaceholderOutOfRange {
        /// The `num` value as JSON.
        num: String,
        /// How many attachments there are.
        count: u32,
    },
    /// An attachment count above the assembler's cap.
    #[error("{count} attachments announced, more than the cap of {cap}")]
    TooManyAttachments {
        /// The announced count.
        count: u32,
        /// The cap.
        cap: u32,
    },
    /// Legacy 0.9: a message that is not `type:id:endpoint[:data]`.
    #[error("malformed legacy message {found:?}")]
    LegacyMalformed {
        /// The message text.
        found: String,
    },
    /// Legacy 0.9: a message type other than 0–8.
    #[error("unknown legacy message type {found:?}")]
    LegacyUnknownType {
        /// The type text.
        found: String,
    },
    /// Legacy 0.9: a message id that is not digits (with an optional trailing `+`).
    #[error("bad legacy message id {found:?}")]
    LegacyBadId {
        /// The id text.
        found: String,
    },
    /// Legacy 0.9: the data of a json/event/ack message is not the JSON it must be.
    #[error("bad legacy {kind} data ({reason}): {found:?}")]
    LegacyBadData {
        /// The message kind.
        kind: &'static str,
        /// What is wrong.
        reason: String,
        /// The data text.
        found: String,
    },
    /// Legacy 0.9: a handshake body that is not `sid:heartbeat:close:transports`.
    #[error("bad legacy handshake {found:?}")]
    LegacyBadHandshake {
        /// The body text.
        found: String,
    },
    /// Legacy 0.9: a `\u{fffd}<len>\u{fffd}` frame that does not parse or runs past the end.
    #[error("bad legacy polling frame at offset {offset}: {found:?}")]
    LegacyBadFrame {
        /// Byte offset of the frame in the body.
        offset: usize,
        /// The text from there, cut.
        found: String,
    },
    /// Legacy 0.9: a polling body that is not UTF-8.
    #[error("legacy polling body is not UTF-8 at offset {offset}")]
    LegacyInvalidUtf8 {
        /// Byte offset of the first invalid byte.
        offset: usize,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpt_cuts_on_boundaries() {
        let s = "™".repeat(40);
        assert_eq!(excerpt(&s).len(), 63);
        assert_eq!(excerpt("abc"), "abc");
    }

    #[test]
    fn messages_read_well() {
        assert_eq!(
            SioError::TooManyAttachments { count: 9, cap: 2 }.to_string(),
            "9 attachments announced, more than the cap of 2"
        );
        assert_eq!(
            SioError::MissingPayload {
                packet_type: "EVENT"
            }
            .to_string(),
            "EVENT without a payload"
        );
    }
}
