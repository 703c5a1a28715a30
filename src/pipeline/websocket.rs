//! One upgraded connection: two WebSocket decoders (one per direction) feeding Engine.IO.

use base64::Engine as _;

use super::engine::{EioCtx, Proto, Transport};
use super::step::{EioStep, Step, WsPayload};
use super::{event_at, rule_name, Emit, PipelineOptions, Provenance};
use crate::deflate::{parse_extensions, Extension, PerMessageDeflate};
use crate::event::{Body, Dir, Origin, WsInfo};
use crate::ws::{parse_header, Opcode, Payload, WsConfig, WsDecoder, WsOutput};

/// The connection's Engine.IO context is the Engine.IO layer's ([`EioStep::WsOpen`]).
pub(crate) struct WsConn {
    dec: [WsDecoder; 2],
    /// A direction stops being decoded after a gap (frame boundaries are lost).
    dead: [bool; 2],
    /// Stream offset of the first byte each decoder was given (decoder spans count from it).
    base: [Option<u64>; 2],
}

fn decoders(extensions: Vec<Extension>, opts: &PipelineOptions, midstream: bool) -> [WsDecoder; 2] {
    let cfg = |from_client| WsConfig {
        from_client,
        extensions: extensions.clone(),
        max_message: opts.max_message,
        midstream,
    };
    [WsDecoder::new(cfg(true)), WsDecoder::new(cfg(false))]
}

fn opcode_name(op: Opcode) -> &'static str {
    match op {
        Opcode::Text => "text",
        Opcode::Binary => "binary",
        Opcode::Continuation => "continuation",
        Opcode::Close => "close",
        Opcode::Ping => "ping",
        Opcode::Pong => "pong",
        Opcode::Reserved(_) => "reserved",
    }
}

impl WsConn {
    /// After `101 Switching Protocols`: the extensions the server accepted decide compression.
    /// The connection's Engine.IO context (`ctx`, now on the WebSocket transport) goes to the
    /// Engine.IO layer.
    pub(crate) fn after_upgrade(
        mut ctx: EioCtx,
        accepted: Option<&str>,
        offered: Option<&str>,
        opts: &PipelineOptions,
        origin: Origin,
        emit: &mut Emit<'_, '_, Step>,
    ) -> Self {
        ctx.transport = Transport::WebSocket;
        let neg = parse_extensions(accepted.unwrap_or(""));
        for p in &neg.problems {
            emit.anomaly(
                origin,
                Some(Dir::S2C),
                "deflate",
                rule_name("ws-extension", p),
                format!("Sec-WebSocket-Extensions {:?}: {p}", accepted.unwrap_or("")),
                None,
            );
        }
        let _ = offered;
        (emit.sink)(Step::Eio(EioStep::WsOpen {
            conn: emit.conn,
            ctx,
        }));
        WsConn {
            dec: decoders(neg.extensions, opts, false),
            dead: [false, false],
            base: [None, None],
        }
    }

    /// A connection picked up after its handshake: does it look like WebSocket frames? If so,
    /// the connection and the Engine.IO context assumed for it (for the Engine.IO layer).
    pub(crate) fn sniff_midstream(
        dir: Dir,
        bytes: &[u8],
        opts: &PipelineOptions,
    ) -> Option<(Self, EioCtx)> {
        let (h, _) = parse_header(bytes).ok()??;
        let plausible = !matches!(h.opcode, Opcode::Reserved(_))
            && !h.rsv2
            && !h.rsv3
            && h.mask.is_some() == (dir == Dir::C2S)
            && h.payload_len < (1 << 32);
        if !plausible {
            return None;
        }
        // Compression parameters are unknown: assume permessage-deflate with context takeover,
        // the common default, so that compressed frames are tried rather than rejected.
        let ext = vec![Extension::PerMessageDeflate(PerMessageDeflate::default())];
        let proto = match opts
            .eio
            .map(|n| crate::engineio::Version::from_eio_value(&n.to_string()))
        {
            Some(Ok(v)) => Proto::Eio(v),
            _ => Proto::Eio(crate::engineio::Version::V4),
        };
        let ctx = EioCtx {
            proto,
            transport: Transport::WebSocket,
            sid: None,
            sio_path: false,
        };
        let ws = WsConn {
            dec: decoders(ext, opts, true),
            dead: [false, false],
            base: [None, None],
        };
        Some((ws, ctx))
    }

    pub(crate) fn push(
        &mut self,
        dir: Dir,
        offset: u64,
        bytes: &[u8],
        prov: &mut [Provenance; 2],
        emit: &mut Emit<'_, '_, Step>,
    ) {
        let i = dir.index();
        if self.dead[i] {
            return;
        }
        // Provenance was recorded by the connection; decoder spans count from `base`.
        self.base[i].get_or_insert(offset);
        self.dec[i].push(bytes);
        while let Some(out) = self.dec[i].poll() {
            self.output(dir, out, &mut prov[i], emit);
        }
    }

    pub(crate) fn gap(
        &mut self,
        dir: Dir,
        len: u64,
        origin: Origin,
        emit: &mut Emit<'_, '_, Step>,
    ) {
        let i = dir.index();
        if !self.dead[i] {
            self.dead[i] = true;
            emit.anomaly(
                origin,
                Some(dir),
                "ws",
                "ws-gap",
                format!("{len} bytes missing from the stream: WebSocket frame boundaries are lost, this direction is no longer decoded"),
                None,
            );
        }
    }

    pub(crate) fn finish(
        &mut self,
        _origin: Origin,
        prov: &mut [Provenance; 2],
        emit: &mut Emit<'_, '_, Step>,
    ) {
        for dir in [Dir::C2S, Dir::S2C] {
            let i = dir.index();
            if self.dead[i] {
                continue;
            }
            while let Some(out) = self.dec[i].finish() {
                self.output(dir, out, &mut prov[i], emit);
            }
        }
    }

    fn output(
        &mut self,
        dir: Dir,
        out: WsOutput,
        prov: &mut Provenance,
        emit: &mut Emit<'_, '_, Step>,
    ) {
        let base = self.base[dir.index()].unwrap_or(0);
        let abs = |r: &std::ops::Range<u64>| (r.start + base, r.end + base);
        match out {
            WsOutput::Frame(f) => {
                let (first, last) = {
                    let (a, b) = abs(&f.span);
                    prov.span(a, b)
                }
                .unwrap_or_default();
                emit.at(
                    first,
                    last,
                    Some(dir),
                    Body::Ws(WsInfo::Frame {
                        fin: f.fin,
                        rsv1: f.rsv1,
                        opcode: opcode_name(f.opcode).to_string(),
                        masked: f.masked,
                        len: f.payload_len,
                        digest: f.digest,
                    }),
                );
            }
            WsOutput::Control(c) => {
                let (first, last) = {
                    let (a, b) = abs(&c.span);
                    prov.span(a, b)
                }
                .unwrap_or_default();
                let text = String::from_utf8_lossy(&c.payload).into_owned();
                let info = match c.opcode {
                    Opcode::Ping => WsInfo::Ping { payload: text },
                    Opcode::Pong => WsInfo::Pong { payload: text },
                    _ => match c.close {
                        Some(close) => WsInfo::Close {
                            code: close.code,
                            code_name: close.code_name().map(str::to_string),
                            reason: close.reason.clone(),
                        },
                        None => WsInfo::Close {
                            code: None,
                            code_name: None,
                            reason: String::new(),
                        },
                    },
                };
                emit.at(first, last, Some(dir), Body::Ws(info));
            }
            WsOutput::Violation { span, error } => {
                let origin = prov.at(abs(&span).0).unwrap_or_default();
                emit.anomaly(
                    origin,
                    Some(dir),
                    "ws",
                    rule_name("ws", &error),
                    error.to_string(),
                    None,
                );
            }
            WsOutput::Message(m) => {
                let (start, end) = abs(&m.span);
                let (first, last) = prov.span(start, end).unwrap_or_default();
                prov.forget_before(end);
                let opcode = opcode_name(m.opcode);
                let not_inflated = matches!(m.payload, Payload::NotInflated { .. });
                let (bytes, inflate_error, complete) = match m.payload {
                    Payload::Bytes(b) => (b, None, true),
                    Payload::NotInflated { raw, error } => (raw, Some(error.to_string()), false),
                    Payload::Incomplete(b) => {
                        (b, Some("message never completed".to_string()), false)
                    }
                    Payload::Skipped => (
                        Vec::new(),
                        Some("message larger than --max-message: skipped".to_string()),
                        false,
                    ),
                };
                let len = bytes.len() as u64;
                // A text message becomes its text without a copy; the decoder already checked
                // its UTF-8 (and reported it when broken: only then is the text made lossy).
                let (text, bytes) = if m.opcode == Opcode::Text && inflate_error.is_none() {
                    match String::from_utf8(bytes) {
                        Ok(t) => (Some(t), Vec::new()),
                        Err(e) => {
                            let b = e.into_bytes();
                            (Some(String::from_utf8_lossy(&b).into_owned()), b)
                        }
                    }
                } else {
                    (None, bytes)
                };
                let b64 = text.is_none().then(|| {
                    base64::engine::general_purpose::STANDARD
                        .encode(bytes.get(..64 << 10).unwrap_or(&bytes))
                });
                let message = event_at(
                    emit.conn,
                    first,
                    last,
                    Some(dir),
                    Body::Ws(WsInfo::Message {
                        opcode,
                        len,
                        wire_len: m.wire_len,
                        compressed: m.compressed,
                        frames: m.frames,
                        text,
                        base64: b64,
                        inflate_error: inflate_error.clone(),
                        // the Engine.IO layer's: the session id as it was before this message
                        sid: None,
                    }),
                );
                // A complete text message becomes Engine.IO without a copy: the Engine.IO layer
                // reads the event's own text.
                let (payload, rest) = match (complete, m.opcode) {
                    (true, Opcode::Text) => (WsPayload::Text, bytes),
                    (true, _) => (WsPayload::Binary(bytes), Vec::new()),
                    (false, _) => (WsPayload::Nothing, bytes),
                };
                (emit.sink)(Step::Eio(EioStep::WsMessage {
                    conn: emit.conn,
                    dir,
                    message: Box::new(message),
                    payload,
                    first,
                    last,
                }));
                // Only a real inflate failure is a deflate anomaly: an unfinished or skipped
                // message is reported by the ws decoder (and may be on a stream where no
                // compression was negotiated at all). Such a message decodes to nothing, so the
                // anomaly follows its message event.
                if let (Some(e), false, true) = (&inflate_error, complete, not_inflated) {
                    emit.anomaly(
                        last,
                        Some(dir),
                        "deflate",
                        "deflate-inflate-failed",
                        format!(
                            "{opcode} message of {} compressed bytes cannot be inflated: {e}",
                            m.wire_len
                        ),
                        Some(&rest),
                    );
                }
            }
        }
    }
}
