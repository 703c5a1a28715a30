//! `WsDecoder`: one direction of a WebSocket connection, from raw bytes to frames, messages,
//! control frames and violations, with exact byte spans.
//!
//! After the `101 Switching Protocols` each direction is a plain sequence of frames (see
//! [`frame`](super::frame)). A data message is one Text/Binary frame with FIN, or a first frame
//! without FIN followed by Continuation frames, the last with FIN (RFC 6455 §5.4). Control
//! frames (Close, Ping, Pong) may appear between the fragments. With permessage-deflate the
//! first frame's RSV1 marks the whole message as compressed (the payloads of all its frames
//! form one DEFLATE stream); with deflate-frame each frame's RSV1 marks that frame.
//!
//! Shape: sans-io push/poll. [`WsDecoder::push`] appends bytes; [`WsDecoder::poll`] returns
//! the next [`WsOutput`] or `None` when more bytes are needed; [`WsDecoder::finish`] at end of
//! stream reports what was cut off. Spans are absolute offsets in this direction's byte stream
//! (0 = first byte pushed), identical however the input is split.
//!
//! Output order for one frame: `Frame`, then that frame's violations, then the `Control` or
//! completed `Message`, then message-level violations (invalid UTF-8).
//!
//! Memory: the decoder keeps only the unprocessed tail of the input (a partial header after
//! `poll` returned `None`) and the payload of the message in progress, which never exceeds
//! `max_message`. A frame that would push a message over the limit is reported and its payload
//! skipped as it streams by, without buffering; frame sync is kept. Inflation failures are
//! reported inside the message ([`Payload::NotInflated`]); only an inflated size over
//! `max_message` is also a violation ([`WsError::TooLarge`]).

use std::collections::VecDeque;
use std::ops::Range;

use crate::deflate::{compression_for, Compression, InflateError, Inflater, Scheme};

use super::close::parse_close;
use super::digest::FrameDigest;
use super::error::WsError;
use super::frame::{parse_header, unmask, FrameHeader, Opcode};
use super::output::{FrameInfo, Payload, WsConfig, WsControl, WsMessage, WsOutput};

/// Where the payload bytes of the current frame go.
#[derive(Debug)]
enum Sink {
    /// Not kept.
    Discard,
    /// A control frame's payload.
    Control(Vec<u8>),
    /// Appended to the open message.
    Message,
    /// A deflate-frame compressed frame, inflated when the frame ends.
    FrameDeflate(Vec<u8>),
}

/// The frame whose payload is streaming in.
#[derive(Debug)]
struct CurFrame {
    header: FrameHeader,
    header_len: u8,
    start: u64,
    remaining: u64,
    received: u64,
    sink: Sink,
    violations: Vec<WsError>,
    /// Fingerprint of the payload bytes kept so far.
    digest: FrameDigest,
}

/// The data message being assembled.
#[derive(Debug)]
struct MsgState {
    opcode: Opcode,
    start: u64,
    end: u64,
    frames: u32,
    compressed: bool,
    wire_len: u64,
    /// Raw (per-message) or inflated (deflate-frame/uncompressed) bytes so far.
    payload: Vec<u8>,
    too_large: bool,
    frame_failure: Option<(Vec<u8>, InflateError)>,
}

/// Decoder for one direction of a WebSocket connection. See the module documentation.
#[derive(Debug)]
pub struct WsDecoder {
    from_client: bool,
    max_message: usize,
    midstream: bool,
    compression: Option<Compression>,
    inflater: Option<Inflater>,
    buf: Vec<u8>,
    pos: usize,
    buf_start: u64,
    cur: Option<CurFrame>,
    msg: Option<MsgState>,
    out: VecDeque<WsOutput>,
    close_seen: bool,
    desynced: bool,
    finished: bool,
}

impl WsDecoder {
    /// A decoder for one direction.
    pub fn new(cfg: WsConfig) -> Self {
        let compression = compression_for(&cfg.extensions, cfg.from_client);
        let inflater =
            compression.map(|c| Inflater::new(c.no_context_takeover, c.window_bits, cfg.midstream));
        WsDecoder {
            from_client: cfg.from_client,
            max_message: cfg.max_message,
            midstream: cfg.midstream,
            compression,
            inflater,
            buf: Vec::new(),
            pos: 0,
            buf_start: 0,
            cur: None,
            msg: None,
            out: VecDeque::new(),
            close_seen: false,
            desynced: false,
            finished: false,
        }
    }

    /// The compression in force for this direction, if any.
    pub fn compression(&self) -> Option<Compression> {
        self.compression
    }

    /// Append input bytes (ignored after [`finish`](Self::finish)).
    pub fn push(&mut self, bytes: &[u8]) {
        if self.finished {
            return;
        }
        if self.desynced {
            self.buf_start = self.buf_start.saturating_add(bytes.len() as u64);
            return;
        }
        self.buf.extend_from_slice(bytes);
    }

    /// The next output, or `None` when more bytes are needed.
    pub fn poll(&mut self) -> Option<WsOutput> {
        loop {
            if let Some(o) = self.out.pop_front() {
                return Some(o);
            }
            if self.finished || !self.step() {
                self.compact();
                return self.out.pop_front();
            }
        }
    }

    /// Bytes consumed so far: everything before this offset has been decoded (a partial frame
    /// header after it is still buffered).
    pub fn offset(&self) -> u64 {
        self.buf_start.saturating_add(self.pos as u64)
    }

    /// At end of stream: report a truncated frame or header and an unfinished message. Call
    /// until it returns `None` (it first drains what [`poll`](Self::poll) would return).
    pub fn finish(&mut self) -> Option<WsOutput> {
        if !self.finished {
            while self.step() {}
            self.finished = true;
            let end = self.buf_start.saturating_add(self.buf.len() as u64);
            let mut frame_cut = false;
            if let Some(cur) = self.cur.take() {
                let missing = cur.remaining;
                for e in cur.violations {
                    self.violation(cur.start..end, e);
                }
                self.violation(cur.start..end, WsError::TruncatedFrame { missing });
                frame_cut = matches!(
                    cur.header.opcode,
                    Opcode::Text | Opcode::Binary | Opcode::Continuation
                );
                if let Sink::FrameDeflate(_) = cur.sink {
                    if let Some(inf) = self.inflater.as_mut() {
                        inf.skip_message();
                    }
                }
            } else if self.pos < self.buf.len() && !self.desynced {
                let have = self.buf.len().saturating_sub(self.pos);
                self.violation(self.offset()..end, WsError::TruncatedHeader { have });
            }
            if let Some(msg) = self.msg.take() {
                let span = msg.start..end;
                self.complete_message(msg, false, end);
                if !frame_cut {
                    // The last frame ended but the message had no final frame.
                    self.violation(span, WsError::UnfinishedMessage);
                }
            }
            self.buf_start = end;
            self.buf.clear();
            self.pos = 0;
        }
        self.out.pop_front()
    }

    fn violation(&mut self, span: Range<u64>, error: WsError) {
        self.out.push_back(WsOutput::Violation { span, error });
    }

    /// Drop processed bytes from the front of the buffer.
    fn compact(&mut self) {
        if self.pos > 0 {
            self.buf_start = self.buf_start.saturating_add(self.pos as u64);
            self.buf.drain(..self.pos.min(self.buf.len()));
            self.pos = 0;
        }
    }

    /// Make one unit of progress; false if nothing can be done without more input.
    fn step(&mut self) -> bool {
        if self.desynced {
            return false;
        }
        let Some(cur) = self.cur.as_mut() else {
            return self.start_frame();
        };
        if cur.remaining == 0 {
            self.end_frame();
            return true;
        }
        let avail = self.buf.len().saturating_sub(self.pos);
        if avail == 0 {
            return false;
        }
        let take = usize::try_from(cur.remaining).map_or(avail, |r| r.min(avail));
        let end = self.pos.saturating_add(take);
        let chunk = self.buf.get(self.pos..end).unwrap_or(&[]);
        let offset = cur.received;
        let key = cur.header.mask;
        let digest = &mut cur.digest;
        let mut append = |dst: &mut Vec<u8>| {
            let from = dst.len();
            dst.extend_from_slice(chunk);
            if let Some(tail) = dst.get_mut(from..) {
                if let Some(k) = key {
                    unmask(tail, k, offset);
                }
                digest.update(tail);
            }
        };
        match &mut cur.sink {
            Sink::Discard => {}
            Sink::Control(v) | Sink::FrameDeflate(v) => append(v),
            Sink::Message => {
                if let Some(m) = self.msg.as_mut() {
                    append(&mut m.payload);
                }
            }
        }
        cur.received = cur.received.saturating_add(take as u64);
        cur.remaining = cur.remaining.saturating_sub(take as u64);
        self.pos = end;
        true
    }

    /// Parse the next header, if complete, and set up the frame.
    fn start_frame(&mut self) -> bool {
        let rest = self.buf.get(self.pos..).unwrap_or(&[]);
        let start = self.offset();
        let (h, header_len) = match parse_header(rest) {
            Ok(None) => return false,
            Ok(Some(x)) => x,
            Err(e) => {
                // Frame boundaries are lost: report once (the span is the 10 header bytes
                // that carry the bad length) and skip everything that follows.
                let end = self.buf_start.saturating_add(self.buf.len() as u64);
                self.violation(start..start.saturating_add(10), e);
                self.desynced = true;
                self.buf_start = end;
                self.buf.clear();
                self.pos = 0;
                return true;
            }
        };
        self.pos = self.pos.saturating_add(header_len);
        let frame_end = start
            .saturating_add(header_len as u64)
            .saturating_add(h.payload_len);
        let mut v = Vec::new();
        if self.close_seen {
            // RFC 6455 §5.5.1: after a Close frame "the endpoint MUST NOT send any more data
            // frames"; a second Close is also out of place.
            v.push(WsError::AfterClose);
        }
        if self.from_client && h.mask.is_none() {
            // RFC 6455 §5.1: "a client MUST mask all frames that it sends to the server".
            v.push(WsError::UnmaskedClientFrame);
        } else if !self.from_client && h.mask.is_some() {
            // RFC 6455 §5.1: "A server MUST NOT mask any frames that it sends to the client".
            v.push(WsError::MaskedServerFrame);
        }
        if h.rsv2 || h.rsv3 {
            // RFC 6455 §5.2: RSV2/RSV3 "MUST be 0 unless an extension is negotiated".
            v.push(WsError::ReservedBits {
                bits: (u8::from(h.rsv2) << 5) | (u8::from(h.rsv3) << 4),
            });
        }
        if h.non_minimal_length {
            // RFC 6455 §5.2: "the minimal number of bytes MUST be used to encode the length".
            v.push(WsError::NonMinimalLength {
                len: h.payload_len,
                encoded_bits: if header_len >= 10 { 64 } else { 16 },
            });
        }
        let sink = match h.opcode {
            Opcode::Reserved(n) => {
                // RFC 6455 §5.2: "%x3-7 are reserved for further non-control frames",
                // "%xB-F are reserved for further control frames".
                v.push(WsError::ReservedOpcode { opcode: n });
                Sink::Discard
            }
            Opcode::Close | Opcode::Ping | Opcode::Pong => self.control_sink(&h, &mut v),
            Opcode::Text | Opcode::Binary | Opcode::Continuation => {
                self.data_sink(&h, start, frame_end, &mut v)
            }
        };
        self.cur = Some(CurFrame {
            header: h,
            header_len: u8::try_from(header_len).unwrap_or(u8::MAX),
            start,
            remaining: h.payload_len,
            received: 0,
            sink,
            violations: v,
            digest: FrameDigest::default(),
        });
        true
    }

    fn rsv1_check(&self, h: &FrameHeader, v: &mut Vec<WsError>) -> bool {
        if !h.rsv1 {
            return false;
        }
        match self.compression.map(|c| c.scheme) {
            None => {
                // RFC 6455 §5.2: RSV1 "MUST be 0 unless an extension is negotiated that
                // defines meanings for non-zero values".
                v.push(WsError::Rsv1WithoutExtension);
                false
            }
            Some(_) if h.opcode.is_control() => {
                // RFC 7692 §6.1: "An endpoint MUST NOT set the "Per-Message Compressed" bit of
                // control frames".
                v.push(WsError::Rsv1OnControl { opcode: h.opcode });
                false
            }
            Some(Scheme::PerMessage) if h.opcode == Opcode::Continuation => {
                // RFC 7692 §6.1: "... and non-first fragments of a data message".
                v.push(WsError::Rsv1OnContinuation);
                false
            }
            Some(_) => true,
        }
    }

    fn control_sink(&mut self, h: &FrameHeader, v: &mut Vec<WsError>) -> Sink {
        self.rsv1_check(h, v);
        if !h.fin {
            // RFC 6455 §5.5: "Control frames themselves MUST NOT be fragmented."
            v.push(WsError::FragmentedControl { opcode: h.opcode });
        }
        if h.payload_len > 125 {
            // RFC 6455 §5.5: "All control frames MUST have a payload length of 125 bytes or
            // less".
            v.push(WsError::ControlTooLong {
                opcode: h.opcode,
                len: h.payload_len,
            });
        }
        if h.payload_len > self.max_message as u64 {
            v.push(WsError::TooLarge {
                len: h.payload_len,
                limit: self.max_message,
            });
            Sink::Discard
        } else {
            Sink::Control(Vec::new())
        }
    }

    fn data_sink(
        &mut self,
        h: &FrameHeader,
        start: u64,
        frame_end: u64,
        v: &mut Vec<WsError>,
    ) -> Sink {
        let compressed_bit = self.rsv1_check(h, v);
        if h.opcode == Opcode::Continuation {
            if self.msg.is_none() {
                // RFC 6455 §5.4: fragments follow "a single frame with the FIN bit clear and
                // an opcode other than 0".
                v.push(WsError::ContinuationWithoutStart {
                    midstream: self.midstream,
                });
                return Sink::Discard;
            }
        } else {
            if let Some(open) = self.msg.take() {
                // RFC 6455 §5.4: "The fragments of one message MUST NOT be interleaved between
                // the fragments of another message".
                let span = open.start..start;
                let end = open.end;
                self.complete_message(open, false, end);
                self.violation(span, WsError::NewMessageInsideFragmented);
            }
            self.msg = Some(MsgState {
                opcode: h.opcode,
                start,
                end: frame_end,
                frames: 0,
                compressed: compressed_bit,
                wire_len: 0,
                payload: Vec::new(),
                too_large: false,
                frame_failure: None,
            });
        }
        let per_frame = matches!(self.compression.map(|c| c.scheme), Some(Scheme::PerFrame));
        let max = self.max_message;
        let Some(msg) = self.msg.as_mut() else {
            return Sink::Discard;
        };
        msg.frames = msg.frames.saturating_add(1);
        msg.end = frame_end;
        msg.wire_len = msg.wire_len.saturating_add(h.payload_len);
        if per_frame && compressed_bit {
            msg.compressed = true;
        }
        if msg.too_large {
            if per_frame && compressed_bit {
                if let Some(inf) = self.inflater.as_mut() {
                    inf.skip_message();
                }
            }
            return Sink::Discard;
        }
        // Bytes the message will hold once this frame is in: wire bytes, or for deflate-frame
        // the bytes inflated so far plus this frame's (a guard before buffering it; its
        // inflation is limited separately).
        let projected = if per_frame {
            (msg.payload.len() as u64).saturating_add(h.payload_len)
        } else {
            msg.wire_len
        };
        if projected > max as u64 {
            msg.too_large = true;
            msg.payload = Vec::new();
            v.push(WsError::TooLarge {
                len: projected,
                limit: max,
            });
            if per_frame && compressed_bit {
                if let Some(inf) = self.inflater.as_mut() {
                    inf.skip_message();
                }
            }
            return Sink::Discard;
        }
        if per_frame && compressed_bit {
            Sink::FrameDeflate(Vec::new())
        } else {
            Sink::Message
        }
    }

    /// The current frame's payload is complete.
    fn end_frame(&mut self) {
        let Some(cur) = self.cur.take() else {
            return;
        };
        let h = cur.header;
        let span = cur.start
            ..cur
                .start
                .saturating_add(u64::from(cur.header_len))
                .saturating_add(h.payload_len);
        self.out.push_back(WsOutput::Frame(FrameInfo {
            fin: h.fin,
            rsv1: h.rsv1,
            rsv2: h.rsv2,
            rsv3: h.rsv3,
            opcode: h.opcode,
            masked: h.mask.is_some(),
            mask_key: h.mask,
            payload_len: h.payload_len,
            header_len: cur.header_len,
            span: span.clone(),
            digest: cur.digest,
        }));
        for e in cur.violations {
            self.violation(span.clone(), e);
        }
        match h.opcode {
            Opcode::Close | Opcode::Ping | Opcode::Pong => {
                let payload = match cur.sink {
                    Sink::Control(p) => p,
                    _ => Vec::new(),
                };
                let close = if h.opcode == Opcode::Close {
                    self.close_seen = true;
                    let (c, problems) = parse_close(&payload);
                    for e in problems {
                        self.violation(span.clone(), e);
                    }
                    Some(c)
                } else {
                    None
                };
                self.out.push_back(WsOutput::Control(WsControl {
                    opcode: h.opcode,
                    payload,
                    close,
                    span,
                }));
            }
            Opcode::Text | Opcode::Binary | Opcode::Continuation => {
                if let Sink::FrameDeflate(raw) = cur.sink {
                    self.inflate_frame(raw);
                }
                if h.fin {
                    if let Some(msg) = self.msg.take() {
                        self.complete_message(msg, true, span.end);
                    }
                }
            }
            Opcode::Reserved(_) => {}
        }
    }

    /// deflate-frame: inflate one frame's payload into the open message.
    fn inflate_frame(&mut self, raw: Vec<u8>) {
        let Some(msg) = self.msg.as_mut() else {
            return;
        };
        if msg.frame_failure.is_some() {
            // This frame is not inflated: its output is missing from the window.
            if let Some(inf) = self.inflater.as_mut() {
                inf.skip_message();
            }
            return;
        }
        let limit = self.max_message.saturating_sub(msg.payload.len());
        let Some(inf) = self.inflater.as_mut() else {
            return;
        };
        match inf.inflate_message(&raw, limit) {
            Ok(bytes) => msg.payload.extend_from_slice(&bytes),
            Err(e) => msg.frame_failure = Some((raw, e)),
        }
    }

    /// Emit a message (complete = its final frame arrived).
    fn complete_message(&mut self, msg: MsgState, complete: bool, end: u64) {
        let per_message = matches!(self.compression.map(|c| c.scheme), Some(Scheme::PerMessage));
        let span = msg.start..end;
        let payload = if msg.too_large {
            if per_message && msg.compressed {
                if let Some(inf) = self.inflater.as_mut() {
                    inf.skip_message();
                }
            }
            Payload::Skipped
        } else if !complete {
            if per_message && msg.compressed {
                if let Some(inf) = self.inflater.as_mut() {
                    inf.skip_message();
                }
            }
            Payload::Incomplete(msg.payload)
        } else if let Some((raw, error)) = msg.frame_failure {
            Payload::NotInflated { raw, error }
        } else if per_message && msg.compressed {
            match self.inflater.as_mut() {
                Some(inf) => match inf.inflate_message(&msg.payload, self.max_message) {
                    Ok(b) => Payload::Bytes(b),
                    Err(error) => Payload::NotInflated {
                        raw: msg.payload,
                        error,
                    },
                },
                None => Payload::Bytes(msg.payload),
            }
        } else {
            Payload::Bytes(msg.payload)
        };
        let mut late = None;
        if let (Opcode::Text, Payload::Bytes(b)) = (msg.opcode, &payload) {
            if let Err(e) = std::str::from_utf8(b) {
                // RFC 6455 §8.1: "When an endpoint is to interpret a byte stream as UTF-8 but
                // finds that the byte stream is not, in fact, a valid UTF-8 stream, that
                // endpoint MUST _Fail the WebSocket Connection_."
                late = Some(WsError::InvalidUtf8 {
                    valid_up_to: e.valid_up_to(),
                });
            }
        }
        if let Payload::NotInflated {
            error: InflateError::TooLarge { limit },
            ..
        } = &payload
        {
            late = Some(WsError::TooLarge {
                len: (*limit as u64).saturating_add(1),
                limit: *limit,
            });
        }
        self.out.push_back(WsOutput::Message(WsMessage {
            opcode: msg.opcode,
            frames: msg.frames,
            compressed: msg.compressed,
            wire_len: msg.wire_len,
            payload,
            span: span.clone(),
        }));
        if let Some(e) = late {
            self.violation(span, e);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deflate::{parse_extensions, DeflateFrame, Extension, PerMessageDeflate};
    use crate::ws::close::ClosePayload;
    use proptest::prelude::*;

    const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

    /// Test-only encoder: one frame with minimal length encoding.
    fn enc(b0: u8, mask: Option<[u8; 4]>, payload: &[u8]) -> Vec<u8> {
        let mut v = vec![b0];
        let m = if mask.is_some() { 0x80 } else { 0 };
        let n = payload.len();
        if n < 126 {
            v.push(m | n as u8);
        } else if n <= 0xffff {
            v.push(m | 126);
            v.extend_from_slice(&(n as u16).to_be_bytes());
        } else {
            v.push(m | 127);
            v.extend_from_slice(&(n as u64).to_be_bytes());
        }
        let mut p = payload.to_vec();
        if let Some(k) = mask {
            v.extend_from_slice(&k);
            unmask(&mut p, k, 0);
        }
        v.extend_from_slice(&p);
        v
    }

    fn cfg(from_client: bool) -> WsConfig {
        WsConfig {
            from_client,
            extensions: vec![],
            max_message: 1 << 20,
            midstream: false,
        }
    }

    fn pmd(from_client: bool, p: PerMessageDeflate) -> WsConfig {
        WsConfig {
            extensions: vec![Extension::PerMessageDeflate(p)],
            ..cfg(from_client)
        }
    }

    fn run(c: WsConfig, chunks: &[&[u8]]) -> Vec<WsOutput> {
        let mut d = WsDecoder::new(c);
        let mut out = Vec::new();
        for ch in chunks {
            d.push(ch);
            while let Some(o) = d.poll() {
                out.push(o);
            }
        }
        while let Some(o) = d.finish() {
            out.push(o);
        }
        out
    }

    fn run_bytewise(c: WsConfig, bytes: &[u8]) -> Vec<WsOutput> {
        let chunks: Vec<&[u8]> = bytes.chunks(1).collect();
        run(c, &chunks)
    }

    fn messages(out: &[WsOutput]) -> Vec<&WsMessage> {
        out.iter()
            .filter_map(|o| match o {
                WsOutput::Message(m) => Some(m),
                _ => None,
            })
            .collect()
    }

    fn violations(out: &[WsOutput]) -> Vec<(Range<u64>, WsError)> {
        out.iter()
            .filter_map(|o| match o {
                WsOutput::Violation { span, error } => Some((span.clone(), error.clone())),
                _ => None,
            })
            .collect()
    }

    fn bytes(p: &Payload) -> &[u8] {
        match p {
            Payload::Bytes(b) => b,
            other => panic!("not bytes: {other:?}"),
        }
    }

    #[test]
    fn empty_compressed_messages_inflate_to_empty() {
        // RFC 7692 §7.2.3.6: an empty message may be sent as an empty compressed payload (the
        // sync flush of nothing, tail removed). Twice in a row, with context takeover — the case
        // whose test compressor once looped forever.
        let key = [1, 2, 3, 4];
        let mut wire = enc(0xc1, Some(key), b"");
        wire.extend(enc(0xc1, Some(key), b""));
        let out = run(pmd(true, PerMessageDeflate::default()), &[&wire]);
        let msgs = messages(&out);
        assert_eq!(msgs.len(), 2);
        for m in &msgs {
            assert!(m.compressed, "{m:?}");
            assert!(bytes(&m.payload).is_empty(), "{m:?}");
        }
        assert!(violations(&out).is_empty());
    }

    #[test]
    fn rfc6455_unmasked_text_from_server() {
        let wire = [0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f];
        let out = run(cfg(false), &[&wire]);
        assert_eq!(
            out,
            vec![
                WsOutput::Frame(FrameInfo {
                    fin: true,
                    rsv1: false,
                    rsv2: false,
                    rsv3: false,
                    opcode: Opcode::Text,
                    masked: false,
                    mask_key: None,
                    payload_len: 5,
                    header_len: 2,
                    span: 0..7,
                    digest: {
                        let mut d = FrameDigest::default();
                        d.update(b"Hello");
                        d
                    },
                }),
                WsOutput::Message(WsMessage {
                    opcode: Opcode::Text,
                    frames: 1,
                    compressed: false,
                    wire_len: 5,
                    payload: Payload::Bytes(b"Hello".to_vec()),
                    span: 0..7
                })
            ]
        );
        assert_eq!(run_bytewise(cfg(false), &wire), out);
        // The same frame from a client is a violation (must be masked), still decoded.
        let out = run(cfg(true), &[&wire]);
        assert_eq!(violations(&out), vec![(0..7, WsError::UnmaskedClientFrame)]);
        assert_eq!(bytes(&messages(&out)[0].payload), b"Hello");
        assert_eq!(messages(&out)[0].text(), Some("Hello"));
        assert_eq!(out[0].span(), &(0..7));
    }

    #[test]
    fn engineio_probe_exchange() {
        // Engine.IO's upgrade probe: client "2probe" masked with key 01 02 03 04, server
        // "3probe" unmasked.
        let client = [
            0x81, 0x86, 0x01, 0x02, 0x03, 0x04, 0x33, 0x72, 0x71, 0x6b, 0x63, 0x67,
        ];
        let out = run(cfg(true), &[&client]);
        assert!(violations(&out).is_empty());
        assert_eq!(messages(&out)[0].text(), Some("2probe"));
        let server = [0x81, 0x06, 0x33, 0x70, 0x72, 0x6f, 0x62, 0x65];
        let out = run(cfg(false), &[&server]);
        assert_eq!(messages(&out)[0].text(), Some("3probe"));
    }

    #[test]
    fn rfc6455_masked_text_from_client() {
        let wire = [
            0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
        ];
        let out = run(cfg(true), &[&wire]);
        assert_eq!(violations(&out), vec![]);
        let m = messages(&out);
        assert_eq!(bytes(&m[0].payload), b"Hello");
        assert_eq!(m[0].span, 0..11);
        match &out[0] {
            WsOutput::Frame(f) => {
                assert_eq!((f.masked, f.mask_key, f.header_len), (true, Some(KEY), 6))
            }
            o => panic!("{o:?}"),
        }
        assert_eq!(run_bytewise(cfg(true), &wire), out);
        // From the server it is a violation.
        let out = run(cfg(false), &[&wire]);
        assert_eq!(violations(&out), vec![(0..11, WsError::MaskedServerFrame)]);
    }

    #[test]
    fn rfc6455_fragmented_with_ping_between() {
        // "Hel" + ping "Hello" + "lo": control frames may be injected between fragments.
        let wire = [
            0x01, 0x03, 0x48, 0x65, 0x6c, // text, no FIN, "Hel"
            0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f, // ping "Hello"
            0x80, 0x02, 0x6c, 0x6f, // continuation, FIN, "lo"
        ];
        let out = run(cfg(false), &[&wire]);
        assert_eq!(violations(&out), vec![]);
        let m = messages(&out);
        assert_eq!(m.len(), 1);
        assert_eq!(
            (m[0].frames, m[0].wire_len, m[0].span.clone()),
            (2, 5, 0..16)
        );
        assert_eq!(bytes(&m[0].payload), b"Hello");
        let ctl: Vec<_> = out
            .iter()
            .filter_map(|o| match o {
                WsOutput::Control(c) => Some(c.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(
            ctl,
            vec![WsControl {
                opcode: Opcode::Ping,
                payload: b"Hello".to_vec(),
                close: None,
                span: 5..12
            }]
        );
        assert_eq!(run_bytewise(cfg(false), &wire), out);
    }

    #[test]
    fn rfc6455_masked_pong_and_long_binaries() {
        // RFC 6455 §5.7: "Masked Pong response": 0x8a 0x85 + key + masked "Hello".
        let pong = [
            0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
        ];
        let out = run(cfg(true), &[&pong]);
        match out.last() {
            Some(WsOutput::Control(c)) => assert_eq!(
                (c.opcode, c.payload.as_slice()),
                (Opcode::Pong, &b"Hello"[..])
            ),
            o => panic!("{o:?}"),
        }
        // 256 bytes binary: 82 7E 0100; 64 KiB: 82 7F 0000000000010000.
        let p256: Vec<u8> = (0..=255u8).collect();
        let mut wire = vec![0x82, 0x7e, 0x01, 0x00];
        wire.extend_from_slice(&p256);
        let p64k: Vec<u8> = (0..65536u32).map(|i| (i % 251) as u8).collect();
        wire.extend_from_slice(&[0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0]);
        wire.extend_from_slice(&p64k);
        let out = run(cfg(false), &[&wire]);
        let m = messages(&out);
        assert_eq!(bytes(&m[0].payload), p256.as_slice());
        assert_eq!(m[0].span, 0..260);
        assert_eq!(bytes(&m[1].payload), p64k.as_slice());
        assert_eq!(m[1].span, 260..260 + 10 + 65536);
        assert!(violations(&out).is_empty());
    }

    #[test]
    fn close_frames() {
        let mut wire = enc(0x88, None, &[0x03, 0xe8]);
        let after = enc(0x81, None, b"late");
        wire.extend_from_slice(&after);
        let out = run(cfg(false), &[&wire]);
        let close = out.iter().find_map(|o| match o {
            WsOutput::Control(c) => c.close.clone(),
            _ => None,
        });
        assert_eq!(
            close,
            Some(ClosePayload {
                code: Some(1000),
                reason: String::new()
            })
        );
        // A frame after Close is reported but still decoded.
        assert_eq!(violations(&out), vec![(4..10, WsError::AfterClose)]);
        assert_eq!(bytes(&messages(&out)[0].payload), b"late");
        // Close with no code, 1-byte body, forbidden code.
        let out = run(cfg(false), &[&[0x88, 0x00]]);
        assert!(violations(&out).is_empty());
        let out = run(cfg(false), &[&[0x88, 0x01, 0x03]]);
        assert_eq!(violations(&out), vec![(0..3, WsError::CloseOneByte)]);
        let out = run(cfg(false), &[&[0x88, 0x02, 0x03, 0xee]]);
        assert!(matches!(
            violations(&out)[0].1,
            WsError::InvalidCloseCode { code: 1006, .. }
        ));
    }

    #[test]
    fn seed_bug_compressed_fragmented_message_then_context_takeover() {
        // "Hello" compressed (RFC 7692 §7.2.3.1) split over two frames: RSV1 on the first only.
        // Then the RFC's second "Hello", which refers to the first through context takeover.
        let wire = [
            0x41, 0x83, 1, 2, 3, 4, 0xf3, 0x4a, 0xce, // RSV1 text no FIN, masked f2 48 cd
            0x80, 0x84, 1, 2, 3, 4, 0xc8, 0xcb, 0x04, 0x04, // continuation FIN, c9 c9 07 00
            0xc1, 0x85, 0, 0, 0, 0, 0xf2, 0x00, 0x11, 0x00, 0x00, // RSV1 text FIN
        ];
        let c = pmd(true, PerMessageDeflate::default());
        let out = run(c.clone(), &[&wire]);
        assert_eq!(violations(&out), vec![]);
        let m = messages(&out);
        assert_eq!(m.len(), 2);
        assert!(m[0].compressed && m[1].compressed);
        assert_eq!(
            (m[0].frames, m[0].wire_len, m[0].span.clone()),
            (2, 7, 0..19)
        );
        assert_eq!(bytes(&m[0].payload), b"Hello");
        assert_eq!(bytes(&m[1].payload), b"Hello");
        assert_eq!(m[1].span, 19..30);
        assert_eq!(run_bytewise(c, &wire), out);

        // With client_no_context_takeover the second message is corrupt (refers to history
        // the sender promised not to use), named with zlib's words.
        let c = pmd(
            true,
            PerMessageDeflate {
                client_no_context_takeover: true,
                ..Default::default()
            },
        );
        let out = run(c, &[&wire]);
        let m = messages(&out);
        assert_eq!(bytes(&m[0].payload), b"Hello");
        assert_eq!(
            m[1].payload,
            Payload::NotInflated {
                raw: vec![0xf2, 0x00, 0x11, 0x00, 0x00],
                error: InflateError::Corrupt {
                    zlib: "invalid distance too far back".into(),
                    input_offset: 3
                }
            }
        );
        // server_no_context_takeover does not apply to client frames.
        let c = pmd(
            true,
            PerMessageDeflate {
                server_no_context_takeover: true,
                ..Default::default()
            },
        );
        assert_eq!(bytes(&messages(&run(c, &[&wire]))[1].payload), b"Hello");
    }

    #[test]
    fn midstream_compressed_pickup() {
        // The capture starts with the RFC's second "Hello": its history is unknown.
        let wire = [
            0xc1, 0x05, 0xf2, 0x00, 0x11, 0x00, 0x00, // refers to an unseen message
            0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, // self-contained "Hello"
            0xc1, 0x05, 0xf2, 0x00, 0x11, 0x00, 0x00, // refers to the one we saw
        ];
        let c = WsConfig {
            midstream: true,
            ..pmd(false, PerMessageDeflate::default())
        };
        let out = run(c, &[&wire]);
        let m = messages(&out);
        assert_eq!(
            m[0].payload,
            Payload::NotInflated {
                raw: vec![0xf2, 0x00, 0x11, 0x00, 0x00],
                error: InflateError::MissingContext
            }
        );
        assert_eq!(bytes(&m[1].payload), b"Hello");
        assert_eq!(bytes(&m[2].payload), b"Hello");
        // A continuation first in a midstream capture says so.
        let c = WsConfig {
            midstream: true,
            ..cfg(false)
        };
        let out = run(c, &[&[0x80, 0x02, 0x6c, 0x6f]]);
        assert_eq!(
            violations(&out),
            vec![(0..4, WsError::ContinuationWithoutStart { midstream: true })]
        );
    }

    #[test]
    fn corrupt_compressed_message_keeps_raw_bytes() {
        // Block type flipped to 11: what the seed story's server saw ("invalid block type").
        let wire = [0xc1, 0x07, 0xf7, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00];
        let out = run(pmd(false, PerMessageDeflate::default()), &[&wire]);
        assert_eq!(
            messages(&out)[0].payload,
            Payload::NotInflated {
                raw: wire[2..].to_vec(),
                error: InflateError::Corrupt {
                    zlib: "invalid block type".into(),
                    input_offset: 1
                }
            }
        );
    }

    #[test]
    fn deflate_frame_inflates_per_frame() {
        let n = parse_extensions("x-webkit-deflate-frame");
        assert!(matches!(
            n.extensions[0],
            Extension::DeflateFrame(DeflateFrame { .. })
        ));
        let c = WsConfig {
            extensions: n.extensions,
            ..cfg(false)
        };
        // Two frames of one message, each compressed on its own (RSV1 on both), the second
        // with context takeover from the first; then an uncompressed frame.
        let wire = [
            0x41, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, // "Hello"
            0x40, 0x05, 0xf2, 0x00, 0x11, 0x00, 0x00, // "Hello" (takeover)
            0x80, 0x01, 0x21, // "!" uncompressed, FIN
        ];
        let out = run(c.clone(), &[&wire]);
        assert_eq!(violations(&out), vec![]);
        let m = messages(&out);
        assert_eq!(bytes(&m[0].payload), b"HelloHello!");
        assert!(m[0].compressed);
        assert_eq!(m[0].frames, 3);
        assert_eq!(run_bytewise(c, &wire), out);
    }

    #[test]
    fn rsv_and_opcode_violations() {
        // RSV1 without extension: reported, payload taken as is.
        let out = run(cfg(false), &[&enc(0xc1, None, b"x")]);
        assert_eq!(
            violations(&out),
            vec![(0..3, WsError::Rsv1WithoutExtension)]
        );
        assert_eq!(bytes(&messages(&out)[0].payload), b"x");
        // RSV1 on a continuation with permessage-deflate.
        let mut w = enc(0x01, None, b"a");
        w.extend(enc(0xc0, None, b"b"));
        let out = run(pmd(false, PerMessageDeflate::default()), &[&w]);
        assert_eq!(violations(&out), vec![(3..6, WsError::Rsv1OnContinuation)]);
        assert_eq!(bytes(&messages(&out)[0].payload), b"ab");
        // RSV1 on a control frame.
        let out = run(
            pmd(false, PerMessageDeflate::default()),
            &[&enc(0xc9, None, b"")],
        );
        assert_eq!(
            violations(&out),
            vec![(
                0..2,
                WsError::Rsv1OnControl {
                    opcode: Opcode::Ping
                }
            )]
        );
        // RSV2 / RSV3.
        let out = run(cfg(false), &[&enc(0xb2, None, b"")]);
        assert_eq!(
            violations(&out),
            vec![(0..2, WsError::ReservedBits { bits: 0x30 })]
        );
        // Reserved opcodes: payload skipped, sync kept.
        let mut w = enc(0x83, None, b"zzz");
        w.extend(enc(0x8b, None, b""));
        w.extend(enc(0x81, None, b"ok"));
        let out = run(cfg(false), &[&w]);
        assert_eq!(
            violations(&out),
            vec![
                (0..5, WsError::ReservedOpcode { opcode: 3 }),
                (5..7, WsError::ReservedOpcode { opcode: 0xb })
            ]
        );
        assert_eq!(bytes(&messages(&out)[0].payload), b"ok");
    }

    #[test]
    fn control_frame_violations() {
        // Fragmented ping.
        let out = run(cfg(false), &[&enc(0x09, None, b"p")]);
        assert_eq!(
            violations(&out),
            vec![(
                0..3,
                WsError::FragmentedControl {
                    opcode: Opcode::Ping
                }
            )]
        );
        // 126-byte ping.
        let p = vec![7u8; 126];
        let out = run(cfg(false), &[&enc(0x89, None, &p)]);
        assert_eq!(
            violations(&out),
            vec![(
                0..130,
                WsError::ControlTooLong {
                    opcode: Opcode::Ping,
                    len: 126
                }
            )]
        );
        match out.last() {
            Some(WsOutput::Control(c)) => assert_eq!(c.payload, p),
            o => panic!("{o:?}"),
        }
    }

    #[test]
    fn fragmentation_violations() {
        // Continuation without start.
        let out = run(cfg(false), &[&enc(0x80, None, b"x")]);
        assert_eq!(
            violations(&out),
            vec![(0..3, WsError::ContinuationWithoutStart { midstream: false })]
        );
        assert!(messages(&out).is_empty());
        // New data frame while a fragmented message is open: the open one is emitted as
        // incomplete, the new one decodes.
        let mut w = enc(0x01, None, b"ab");
        w.extend(enc(0x82, None, b"cd"));
        let out = run(cfg(false), &[&w]);
        let m = messages(&out);
        assert_eq!(m[0].payload, Payload::Incomplete(b"ab".to_vec()));
        assert_eq!(m[0].span, 0..4);
        assert_eq!(bytes(&m[1].payload), b"cd");
        assert_eq!(
            violations(&out),
            vec![(0..4, WsError::NewMessageInsideFragmented)]
        );
    }

    #[test]
    fn invalid_utf8_text_after_inflation() {
        let out = run(cfg(false), &[&enc(0x81, None, &[0x61, 0xff])]);
        assert_eq!(
            violations(&out),
            vec![(0..4, WsError::InvalidUtf8 { valid_up_to: 1 })]
        );
        // Binary may hold anything.
        assert!(violations(&run(cfg(false), &[&enc(0x82, None, &[0xff])])).is_empty());
        // Compressed text inflating to invalid UTF-8: stored block with ff.
        let out = run(
            pmd(false, PerMessageDeflate::default()),
            &[&enc(0xc1, None, &[0x00, 0x01, 0x00, 0xfe, 0xff, 0xff])],
        );
        assert_eq!(bytes(&messages(&out)[0].payload), &[0xff]);
        assert_eq!(
            violations(&out),
            vec![(0..8, WsError::InvalidUtf8 { valid_up_to: 0 })]
        );
    }

    #[test]
    fn too_large_is_skipped_and_sync_kept() {
        let c = WsConfig {
            max_message: 4,
            ..cfg(false)
        };
        let mut w = enc(0x01, None, b"abc");
        w.extend(enc(0x80, None, b"de"));
        w.extend(enc(0x81, None, b"ok"));
        let out = run(c.clone(), &[&w]);
        let m = messages(&out);
        assert_eq!(m[0].payload, Payload::Skipped);
        assert_eq!((m[0].wire_len, m[0].span.clone()), (5, 0..9));
        assert_eq!(bytes(&m[1].payload), b"ok");
        assert_eq!(
            violations(&out),
            vec![(5..9, WsError::TooLarge { len: 5, limit: 4 })]
        );
        assert_eq!(run_bytewise(c, &w), out);
        // A compressed message inflating past the limit.
        // "aaaaaaaaaa" compressed is 6 bytes (4a 4c 84 01 00 00): fits on the wire, not inflated.
        let c = WsConfig {
            max_message: 8,
            ..pmd(false, PerMessageDeflate::default())
        };
        let out = run(c, &[&[0xc1, 0x06, 0x4a, 0x4c, 0x84, 0x01, 0x00, 0x00]]);
        assert!(matches!(
            messages(&out)[0].payload,
            Payload::NotInflated {
                error: InflateError::TooLarge { limit: 8 },
                ..
            }
        ));
        assert_eq!(
            violations(&out),
            vec![(0..8, WsError::TooLarge { len: 9, limit: 8 })]
        );
    }

    #[test]
    fn hostile_lengths() {
        // 2^63-1 bytes announced: nothing is allocated, the frame is reported truncated.
        let w = [
            0x82, 0x7f, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 2, 3,
        ];
        let out = run(cfg(false), &[&w]);
        assert_eq!(
            violations(&out),
            vec![
                (
                    0..13,
                    WsError::TooLarge {
                        len: u64::MAX >> 1,
                        limit: 1 << 20
                    }
                ),
                (
                    0..13,
                    WsError::TruncatedFrame {
                        missing: (u64::MAX >> 1) - 3
                    }
                )
            ]
        );
        assert_eq!(messages(&out)[0].payload, Payload::Skipped);
        // Top bit set: frame sync lost, reported once.
        let w = [0x82, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 0, 0x81, 0x00];
        let mut d = WsDecoder::new(cfg(false));
        d.push(&w);
        assert_eq!(
            d.poll(),
            Some(WsOutput::Violation {
                span: 0..10,
                error: WsError::LengthMsbSet { len: 1 << 63 }
            })
        );
        d.push(&[0x81, 0x00]);
        assert_eq!(d.poll(), None);
        assert_eq!(d.offset(), 14);
        assert_eq!(d.finish(), None);
        // Non-minimal length.
        let out = run(cfg(false), &[&[0x82, 0x7e, 0x00, 0x01, 0x41]]);
        assert_eq!(
            violations(&out),
            vec![(
                0..5,
                WsError::NonMinimalLength {
                    len: 1,
                    encoded_bits: 16
                }
            )]
        );
    }

    #[test]
    fn fuzz_regression_msb_span_does_not_depend_on_split() {
        // fuzz/artifacts/ws_frames/crash-7ad89d15…: the desync violation's span used to reach
        // the end of whatever had been pushed.
        let w = [
            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x2b, 0xff, 0xff, 0xff, 0xff,
        ];
        let whole = run(cfg(false), &[&w]);
        assert_eq!(run_bytewise(cfg(false), &w), whole);
        assert_eq!(
            violations(&whole),
            vec![(
                0..10,
                WsError::LengthMsbSet {
                    len: 0xffff_ffff_ff2b_ffff
                }
            )]
        );
    }

    #[test]
    fn truncation_at_finish() {
        let out = run(cfg(false), &[&[0x81, 0x05, 0x48, 0x65]]);
        assert_eq!(
            violations(&out),
            vec![(0..4, WsError::TruncatedFrame { missing: 3 })]
        );
        let mut d = WsDecoder::new(cfg(false));
        d.push(&[0x81, 0x00, 0x82, 0x7e, 0x01]);
        assert!(matches!(d.poll(), Some(WsOutput::Frame(_))));
        assert!(matches!(d.poll(), Some(WsOutput::Message(_))));
        assert_eq!(d.poll(), None);
        assert_eq!(d.offset(), 2);
        assert_eq!(
            d.finish(),
            Some(WsOutput::Violation {
                span: 2..5,
                error: WsError::TruncatedHeader { have: 3 }
            })
        );
        assert_eq!(d.finish(), None);
        // An open fragmented message at the end.
        let out = run(cfg(false), &[&enc(0x01, None, b"ab")]);
        assert_eq!(
            messages(&out)[0].payload,
            Payload::Incomplete(b"ab".to_vec())
        );
        assert_eq!(violations(&out), vec![(0..4, WsError::UnfinishedMessage)]);
    }

    /// A frame for property tests: (b0 flags/opcode, mask, payload).
    fn arb_stream() -> impl Strategy<Value = Vec<(u8, Option<[u8; 4]>, Vec<u8>)>> {
        let frame = (
            prop::sample::select(vec![
                0x81u8, 0x82, 0x01, 0x02, 0x00, 0x80, 0x89, 0x8a, 0x88, 0xc1, 0x83,
            ]),
            prop::option::of(any::<[u8; 4]>()),
            prop::collection::vec(any::<u8>(), 0..300),
        );
        prop::collection::vec(frame, 0..12)
    }

    proptest! {
        #[test]
        fn resplitting_gives_identical_outputs(
            frames in arb_stream(),
            cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..8),
            from_client in any::<bool>(),
            deflate in any::<bool>(),
        ) {
            let wire: Vec<u8> = frames.iter().flat_map(|(b0, k, p)| enc(*b0, *k, p)).collect();
            let mk = || WsConfig {
                extensions: if deflate { vec![Extension::PerMessageDeflate(PerMessageDeflate::default())] } else { vec![] },
                max_message: 200,
                ..cfg(from_client)
            };
            let whole = run(mk(), &[&wire]);
            let mut points: Vec<usize> = cuts.iter().map(|i| i.index(wire.len() + 1)).collect();
            points.sort_unstable();
            let mut chunks: Vec<&[u8]> = Vec::new();
            let mut last = 0;
            for p in points {
                chunks.push(&wire[last..p]);
                last = p;
            }
            chunks.push(&wire[last..]);
            prop_assert_eq!(&run(mk(), &chunks), &whole);
            // Every frame is reported with its exact span, in order, covering the stream.
            let spans: Vec<Range<u64>> = whole.iter().filter_map(|o| match o {
                WsOutput::Frame(f) => Some(f.span.clone()),
                _ => None,
            }).collect();
            prop_assert_eq!(spans.len(), frames.len());
            let mut at = 0u64;
            for s in spans {
                prop_assert_eq!(s.start, at);
                at = s.end;
            }
            prop_assert_eq!(at, wire.len() as u64);
        }

        #[test]
        fn compressed_messages_round_trip(
            msgs in prop::collection::vec(
                (prop::collection::vec(prop::sample::select(b"ab c{}\"42".to_vec()), 0..3000), 1usize..4),
                1..6,
            ),
            no_takeover in any::<bool>(),
            key in any::<[u8; 4]>(),
            cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..6),
        ) {
            // A real compressor (flate2), one stream per direction with sync flushes, the
            // 00 00 ff ff tail removed; each message split into `parts` frames, RSV1 on the
            // first only, masked like a client.
            use flate2::{Compress, Compression as Level, FlushCompress};
            let mut comp = Compress::new(Level::default(), false);
            let mut wire = Vec::new();
            for (text, parts) in &msgs {
                if no_takeover {
                    comp.reset();
                }
                let mut z = Vec::with_capacity(text.len() + 64);
                let before = comp.total_in();
                // Bounded: a sync flush with nothing pending (an empty message right after another
                // flush) produces nothing at all, which is the empty compressed payload
                // (RFC 7692 §7.2.3.6); stop when a call makes no progress.
                for _ in 0..10_000 {
                    let done = (comp.total_in() - before) as usize;
                    if done >= text.len() && z.ends_with(&[0, 0, 0xff, 0xff]) {
                        break;
                    }
                    if z.len() == z.capacity() { z.reserve(1024); }
                    let (in0, out0) = (comp.total_in(), comp.total_out());
                    comp.compress_vec(&text[done..], &mut z, FlushCompress::Sync).unwrap();
                    if comp.total_in() == in0 && comp.total_out() == out0 && z.len() < z.capacity() {
                        break;
                    }
                }
                if z.ends_with(&[0, 0, 0xff, 0xff]) {
                    z.truncate(z.len() - 4);
                }
                let step = z.len() / parts + 1;
                let pieces: Vec<&[u8]> = if z.is_empty() { vec![&z[..]] } else { z.chunks(step).collect() };
                for (i, p) in pieces.iter().enumerate() {
                    let fin = if i + 1 == pieces.len() { 0x80 } else { 0 };
                    let op = if i == 0 { 0x41 } else { 0x00 };
                    wire.extend(enc(fin | op, Some(key), p));
                }
            }
            let c = pmd(true, PerMessageDeflate { client_no_context_takeover: no_takeover, ..Default::default() });
            let mut points: Vec<usize> = cuts.iter().map(|i| i.index(wire.len() + 1)).collect();
            points.sort_unstable();
            let mut chunks: Vec<&[u8]> = Vec::new();
            let mut last = 0;
            for p in points {
                chunks.push(&wire[last..p]);
                last = p;
            }
            chunks.push(&wire[last..]);
            let out = run(c, &chunks);
            prop_assert!(violations(&out).is_empty(), "{:?}", violations(&out));
            let got: Vec<Vec<u8>> = messages(&out).iter().map(|m| bytes(&m.payload).to_vec()).collect();
            let want: Vec<Vec<u8>> = msgs.iter().map(|(t, _)| t.clone()).collect();
            prop_assert_eq!(got, want);
        }

        #[test]
        fn uncompressed_single_frames_round_trip(
            payloads in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..70_000), 1..3),
            key in any::<[u8; 4]>(),
        ) {
            let wire: Vec<u8> = payloads.iter().flat_map(|p| enc(0x82, Some(key), p)).collect();
            let out = run(cfg(true), &[&wire]);
            let got: Vec<Vec<u8>> = messages(&out).iter().map(|m| bytes(&m.payload).to_vec()).collect();
            prop_assert_eq!(got, payloads);
            prop_assert!(violations(&out).is_empty());
        }

        #[test]
        fn arbitrary_bytes_never_panic(
            data in prop::collection::vec(any::<u8>(), 0..2000),
            split in any::<prop::sample::Index>(),
            from_client in any::<bool>(),
            deflate in 0u8..3,
            midstream in any::<bool>(),
        ) {
            let extensions = match deflate {
                0 => vec![],
                1 => vec![Extension::PerMessageDeflate(PerMessageDeflate::default())],
                _ => parse_extensions("x-webkit-deflate-frame").extensions,
            };
            let c = WsConfig { from_client, extensions, max_message: 512, midstream };
            let at = split.index(data.len() + 1);
            let out = run(c, &[&data[..at], &data[at..]]);
            for o in &out {
                if let WsOutput::Violation { span, .. } | WsOutput::Frame(FrameInfo { span, .. }) = o {
                    prop_assert!(span.start <= span.end);
                }
            }
        }
    }
}
