//! Every rule of RFC 6455 (and RFC 7692's use of RSV1) that a frame stream can break.
//!
//! The decoder is lenient: a broken rule becomes a [`WsError`] inside
//! [`WsOutput::Violation`](super::WsOutput::Violation) and decoding goes on where the byte
//! stream still makes sense. Only a 64-bit length with its top bit set loses frame sync.

use thiserror::Error;

use super::frame::Opcode;

/// A WebSocket protocol violation (one variant per rule).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum WsError {
    /// RFC 6455 §5.2: "the most significant bit MUST be 0" in a 64-bit payload length.
    #[error(
        "64-bit payload length has its most significant bit set (0x{len:016x}); frame sync lost"
    )]
    LengthMsbSet {
        /// The length as read.
        len: u64,
    },
    /// RFC 6455 §5.2: "the minimal number of bytes MUST be used to encode the length".
    #[error("payload length {len} encoded in {encoded_bits} bits instead of the minimal form")]
    NonMinimalLength {
        /// The payload length.
        len: u64,
        /// 16 or 64.
        encoded_bits: u8,
    },
    /// RFC 6455 §5.1: "a client MUST mask all frames that it sends to the server".
    #[error("client frame is not masked")]
    UnmaskedClientFrame,
    /// RFC 6455 §5.1: "A server MUST NOT mask any frames that it sends to the client".
    #[error("server frame is masked")]
    MaskedServerFrame,
    /// RFC 6455 §5.5: "Control frames themselves MUST NOT be fragmented".
    #[error("{opcode:?} control frame without FIN (fragmented)")]
    FragmentedControl {
        /// The control opcode.
        opcode: Opcode,
    },
    /// RFC 6455 §5.5: "All control frames MUST have a payload length of 125 bytes or less".
    #[error("{opcode:?} control frame with a {len}-byte payload (more than 125)")]
    ControlTooLong {
        /// The control opcode.
        opcode: Opcode,
        /// Its payload length.
        len: u64,
    },
    /// RFC 6455 §5.2: RSV1 "MUST be 0 unless an extension is negotiated that defines meanings".
    #[error("RSV1 set but no compression extension was negotiated")]
    Rsv1WithoutExtension,
    /// RFC 7692 §6.1: RSV1 must not be set on "non-first fragments of a data message".
    #[error(
        "RSV1 set on a continuation frame (permessage-deflate sets it on the first frame only)"
    )]
    Rsv1OnContinuation,
    /// RFC 7692 §6.1: "An endpoint MUST NOT set the "Per-Message Compressed" bit of control frames".
    #[error("RSV1 set on a {opcode:?} control frame")]
    Rsv1OnControl {
        /// The control opcode.
        opcode: Opcode,
    },
    /// RFC 6455 §5.2: RSV2 and RSV3 "MUST be 0" without an extension that defines them.
    #[error("reserved bits RSV2/RSV3 set (0x{bits:x})")]
    ReservedBits {
        /// The bits as they appear in the first byte (0x20 RSV2, 0x10 RSV3).
        bits: u8,
    },
    /// RFC 6455 §5.2: opcodes 0x3–0x7 and 0xB–0xF "are reserved for further" frames.
    #[error("reserved opcode 0x{opcode:x}")]
    ReservedOpcode {
        /// The opcode nibble.
        opcode: u8,
    },
    /// RFC 6455 §5.4: a continuation frame needs an open fragmented message.
    #[error("continuation frame without a message start{}", if *midstream { " (capture may have started mid-message)" } else { "" })]
    ContinuationWithoutStart {
        /// The decoder was told the capture started mid-connection.
        midstream: bool,
    },
    /// RFC 6455 §5.4: "The fragments of one message MUST NOT be interleaved between the
    /// fragments of another message".
    #[error("new data frame while a fragmented message is still open")]
    NewMessageInsideFragmented,
    /// RFC 6455 §8.1: text "MUST" be UTF-8; an endpoint receiving invalid UTF-8 fails the
    /// connection (close 1007).
    #[error("text message is not valid UTF-8 (valid up to byte {valid_up_to})")]
    InvalidUtf8 {
        /// Length of the valid prefix.
        valid_up_to: usize,
    },
    /// RFC 6455 §5.5.1: after sending a Close frame, "the endpoint MUST NOT send any more data".
    #[error("frame sent after a Close frame in the same direction")]
    AfterClose,
    /// The message (or control frame) exceeds the configured `max_message`; its payload was
    /// skipped (what a peer answers with close 1009 "message too big").
    #[error("message of at least {len} bytes exceeds the limit of {limit}")]
    TooLarge {
        /// Size reached (wire bytes, or inflated bytes for compressed messages).
        len: u64,
        /// The configured limit.
        limit: usize,
    },
    /// RFC 6455 §5.5.1: a Close body, if present, starts with a 2-byte status code; one byte
    /// cannot be valid.
    #[error("close frame payload of 1 byte (a status code needs 2)")]
    CloseOneByte,
    /// RFC 6455 §7.4: a status code that must not appear in a Close frame.
    #[error("close status code {code} must not be sent ({why})")]
    InvalidCloseCode {
        /// The code.
        code: u16,
        /// Why it is invalid.
        why: &'static str,
    },
    /// RFC 6455 §5.5.1: the close reason "MUST be" UTF-8.
    #[error("close reason is not valid UTF-8")]
    CloseReasonUtf8,
    /// The stream ended inside a frame header.
    #[error("stream ended inside a frame header ({have} header bytes)")]
    TruncatedHeader {
        /// Header bytes received.
        have: usize,
    },
    /// The stream ended inside a frame payload.
    #[error("stream ended inside a frame: {missing} payload bytes missing")]
    TruncatedFrame {
        /// Bytes that never arrived.
        missing: u64,
    },
    /// The stream ended while a fragmented message was still open (no final frame).
    #[error("stream ended inside a fragmented message")]
    UnfinishedMessage,
}
