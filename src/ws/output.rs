//! What [`WsDecoder`](super::WsDecoder) produces, and its configuration.
//!
//! Every output carries `span`, a range of absolute byte offsets in one direction's stream
//! (offset 0 = the first byte after the `101` response's header block, as pushed by the caller),
//! so a report can point back at the capture frames that carried those bytes:
//!
//! * [`WsOutput::Frame`] for every frame (header fields, payload length);
//! * [`WsOutput::Message`] for each data message, its payload unmasked and inflated (or the
//!   raw bytes and the [`InflateError`] when inflation failed);
//! * [`WsOutput::Control`] for ping, pong and close (with the parsed close code and reason);
//! * [`WsOutput::Violation`] for each broken rule ([`WsError`]).

use std::ops::Range;

use crate::deflate::{Extension, InflateError};

use super::close::ClosePayload;
use super::digest::FrameDigest;
use super::error::WsError;
use super::frame::Opcode;

/// Configuration of one direction's decoder.
#[derive(Debug, Clone)]
pub struct WsConfig {
    /// These frames come from the client: they MUST be masked (server frames MUST NOT).
    pub from_client: bool,
    /// Extensions agreed in the `101` response.
    pub extensions: Vec<Extension>,
    /// Largest message (or control payload) kept, in bytes, wire or inflated.
    pub max_message: usize,
    /// The capture began after the `101`: compression context and message starts may be
    /// missing.
    pub midstream: bool,
}

/// One frame as seen on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameInfo {
    /// FIN bit.
    pub fin: bool,
    /// RSV1 bit.
    pub rsv1: bool,
    /// RSV2 bit.
    pub rsv2: bool,
    /// RSV3 bit.
    pub rsv3: bool,
    /// Opcode.
    pub opcode: Opcode,
    /// MASK bit.
    pub masked: bool,
    /// Masking key, if masked.
    pub mask_key: Option<[u8; 4]>,
    /// Payload length from the header.
    pub payload_len: u64,
    /// Header length in bytes (2..=14).
    pub header_len: u8,
    /// Absolute byte range of the whole frame (header and payload).
    pub span: Range<u64>,
    /// Fingerprint of the unmasked payload (`seen` < `payload_len` when it was skipped).
    pub digest: FrameDigest,
}

/// The content of a data message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Payload {
    /// Unmasked and, if compressed, inflated bytes.
    Bytes(Vec<u8>),
    /// The message was compressed and inflating it failed: the raw compressed bytes (unmasked,
    /// as on the wire) and why.
    NotInflated {
        /// Compressed bytes (for deflate-frame, those of the frame that failed).
        raw: Vec<u8>,
        /// The inflater's error.
        error: InflateError,
    },
    /// The message never got its final frame (stream ended, or a new message began): the raw
    /// unmasked bytes received, not inflated.
    Incomplete(Vec<u8>),
    /// The message exceeded `max_message`; its payload was skipped.
    Skipped,
}

/// A complete (or abandoned) data message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WsMessage {
    /// Text or Binary.
    pub opcode: Opcode,
    /// Number of frames.
    pub frames: u32,
    /// Compressed (RSV1 on the first frame; for deflate-frame on any frame).
    pub compressed: bool,
    /// Sum of the frames' payload lengths as on the wire (compressed size).
    pub wire_len: u64,
    /// The content.
    pub payload: Payload,
    /// From the first frame's first byte to the last frame's last byte.
    pub span: Range<u64>,
}

/// A control frame (ping, pong, close).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WsControl {
    /// Close, Ping or Pong.
    pub opcode: Opcode,
    /// Unmasked payload (empty if it was skipped for exceeding `max_message`).
    pub payload: Vec<u8>,
    /// For Close: code and reason.
    pub close: Option<ClosePayload>,
    /// The frame's byte range.
    pub span: Range<u64>,
}

/// What the decoder produces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WsOutput {
    /// Every frame, including those of messages and control frames.
    Frame(FrameInfo),
    /// A data message, when its final frame ends (or when it is abandoned).
    Message(WsMessage),
    /// A ping, pong or close frame.
    Control(WsControl),
    /// A broken rule, with the bytes that broke it.
    Violation {
        /// Absolute byte range of the evidence.
        span: Range<u64>,
        /// The rule.
        error: WsError,
    },
}

impl Payload {
    /// The message bytes, if the payload was decoded completely.
    pub fn bytes(&self) -> Option<&[u8]> {
        match self {
            Payload::Bytes(b) => Some(b),
            _ => None,
        }
    }
}

impl WsMessage {
    /// The text of a complete Text message that is valid UTF-8.
    pub fn text(&self) -> Option<&str> {
        match self.opcode {
            Opcode::Text => self
                .payload
                .bytes()
                .and_then(|b| std::str::from_utf8(b).ok()),
            _ => None,
        }
    }
}

impl WsOutput {
    /// The byte range this output covers.
    pub fn span(&self) -> &Range<u64> {
        match self {
            WsOutput::Frame(f) => &f.span,
            WsOutput::Message(m) => &m.span,
            WsOutput::Control(c) => &c.span,
            WsOutput::Violation { span, .. } => span,
        }
    }
}
