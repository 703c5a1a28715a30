//! One TCP connection: sniffing, HTTP/1.1 exchanges, and the switch to WebSocket.

use std::collections::VecDeque;

use base64::Engine as _;

use super::engine::EioCtx;
use super::step::{EioStep, PollingBody, Step};
use super::websocket::WsConn;
use super::{event_at, rule_name, Emit, PipelineOptions, Provenance};
use crate::deflate::{inflate_body, BodyEncoding};
use crate::event::{Body, Dir, HttpInfo, Origin};
use crate::http::{
    query, HttpDecoder, HttpError, HttpHead, HttpLimits, HttpMessage, HttpOutput, Role,
};
use crate::tcp::ConnInfo;

/// Body bytes shown in `body_text` / `body_base64`.
const BODY_SHOWN: usize = 64 << 10;

enum Mode {
    /// Not decided yet: the first bytes of each direction are held until they tell.
    Sniff { held: [Vec<u8>; 2], start: [u64; 2] },
    /// HTTP/1.1 (polling, handshakes, upgrade requests).
    Http,
    /// After `101 Switching Protocols`.
    WebSocket(Box<WsConn>),
    /// Not HTTP (e.g. TLS): bytes are ignored.
    Opaque,
}

/// A request waiting for its response.
struct Pending {
    method: String,
    ctx: EioCtx,
    upgrade: bool,
    extensions_offered: Option<String>,
    /// The request carried `Connection: close`.
    close: bool,
}

/// What the server sent first after a `101`, until it tells whether it is frames or HTTP.
enum AfterSwitch {
    /// Bytes held (and the stream offset of the first) while they may still begin `HTTP/`.
    Probing(u64, Vec<u8>),
    /// WebSocket frames, as the `101` promised.
    Frames,
    /// An HTTP response inside the upgraded stream: decoded as HTTP, not as frames.
    Http,
}

pub(crate) struct Conn {
    info: ConnInfo,
    mode: Mode,
    /// The server's direction after a `101` (see [`AfterSwitch`]).
    after_switch: AfterSwitch,
    prov: [Provenance; 2],
    http: [HttpDecoder; 2],
    pending: VecDeque<Pending>,
    opts: PipelineOptions,
}

impl Conn {
    pub(crate) fn new(info: ConnInfo, opts: &PipelineOptions) -> Self {
        let limits = HttpLimits {
            max_head: opts.max_header_size,
            max_headers: opts.max_header_count,
            max_body: opts.max_message,
        };
        Conn {
            info,
            mode: Mode::Sniff {
                held: [Vec::new(), Vec::new()],
                start: [0, 0],
            },
            after_switch: AfterSwitch::Frames,
            prov: [Provenance::default(), Provenance::default()],
            http: [
                HttpDecoder::new(Role::Requests, limits),
                HttpDecoder::new(Role::Responses, limits),
            ],
            pending: VecDeque::new(),
            opts: opts.clone(),
        }
    }

    pub(crate) fn data(
        &mut self,
        dir: Dir,
        offset: u64,
        bytes: &[u8],
        origin: Origin,
        emit: &mut Emit<'_, '_, Step>,
    ) {
        self.prov[dir.index()].record(offset, origin);
        if let Mode::Sniff { held, start } = &mut self.mode {
            let h = &mut held[dir.index()];
            if h.is_empty() {
                start[dir.index()] = offset;
            }
            h.extend_from_slice(bytes);
            let Some(mode) = self.sniff(dir, origin, emit) else {
                return;
            };
            let Mode::Sniff { held, start } = std::mem::replace(&mut self.mode, mode) else {
                return;
            };
            // Replay what was held, client side first, into the chosen decoders.
            for d in [Dir::C2S, Dir::S2C] {
                let h = &held[d.index()];
                if !h.is_empty() {
                    self.feed(d, start[d.index()], h, emit);
                }
            }
            return;
        }
        self.feed(dir, offset, bytes, emit);
    }

    fn feed(&mut self, dir: Dir, offset: u64, bytes: &[u8], emit: &mut Emit<'_, '_, Step>) {
        match &mut self.mode {
            Mode::Sniff { .. } | Mode::Opaque => {}
            Mode::Http => {
                self.http[dir.index()].push(bytes);
                self.drain_http(dir, emit);
            }
            Mode::WebSocket(_) if dir == Dir::S2C => self.after_switch(offset, bytes, emit),
            Mode::WebSocket(ws) => {
                ws.push(dir, offset, bytes, &mut self.prov, emit);
            }
        }
    }

    /// The server's bytes after its `101`. RFC 9110 §15.2.2: the server "will switch to the
    /// protocols defined by the response's Upgrade header field immediately after the empty line
    /// that terminates the 101 response", so what follows must be WebSocket frames. engine.io
    /// 6.6 breaks this when it refuses the session after the WebSocket handshake: `onWebSocket`
    /// runs the handshake only once `ws.handleUpgrade` has written the `101`
    /// (engine.io@6.6.12 build/server.js:590, :647), and a refusal (e.g. an `EIO` other than 4
    /// without `allowEIO3`, :33 and :247) calls `abortUpgrade`, which writes
    /// `HTTP/1.1 400 Bad Request` … `Unsupported protocol version` on the raw socket (:747-763).
    /// Those bytes are one server fault (`http-after-upgrade`) and an HTTP response, not frames.
    fn after_switch(&mut self, offset: u64, bytes: &[u8], emit: &mut Emit<'_, '_, Step>) {
        const HTTP: &[u8] = b"HTTP/";
        match &mut self.after_switch {
            AfterSwitch::Frames => {
                if let Mode::WebSocket(ws) = &mut self.mode {
                    ws.push(Dir::S2C, offset, bytes, &mut self.prov, emit);
                }
            }
            AfterSwitch::Http => {
                self.http[1].push(bytes);
                self.drain_after_switch(emit);
            }
            AfterSwitch::Probing(start, held) => {
                held.extend_from_slice(bytes);
                if held.len() < HTTP.len() && HTTP.starts_with(held) {
                    return; // may still become "HTTP/"
                }
                let start = *start;
                let held = std::mem::take(held);
                if held.starts_with(HTTP) {
                    self.after_switch = AfterSwitch::Http;
                    let line_end = held
                        .iter()
                        .position(|&b| b == b'\r' || b == b'\n')
                        .unwrap_or(held.len())
                        .min(80);
                    let line = String::from_utf8_lossy(held.get(..line_end).unwrap_or(&held));
                    let origin = self.prov[1].at(start).unwrap_or_default();
                    emit.anomaly(
                        origin,
                        Some(Dir::S2C),
                        "http",
                        "http-after-upgrade",
                        format!(
                            "the server answered 101 Switching Protocols, then wrote an HTTP response into the upgraded stream ({line:?}): it refused the connection after the WebSocket handshake; these bytes are not WebSocket frames"
                        ),
                        Some(&held),
                    );
                    self.http[1].resume_http_at(start);
                    self.http[1].push(&held);
                    self.drain_after_switch(emit);
                } else {
                    self.after_switch = AfterSwitch::Frames;
                    if let Mode::WebSocket(ws) = &mut self.mode {
                        ws.push(Dir::S2C, start, &held, &mut self.prov, emit);
                    }
                }
            }
        }
    }

    /// Emits the HTTP responses found after a `101`.
    fn drain_after_switch(&mut self, emit: &mut Emit<'_, '_, Step>) {
        while let Some(out) = self.http[1].poll() {
            self.http_output(Dir::S2C, out, emit);
        }
    }

    /// Decides what the connection carries from the first bytes of `dir`, or `None` while they
    /// are still too few to tell (a segment may hold a single byte).
    fn sniff(&self, dir: Dir, origin: Origin, emit: &mut Emit<'_, '_, Step>) -> Option<Mode> {
        let Mode::Sniff { held, .. } = &self.mode else {
            return None;
        };
        let bytes = held[dir.index()].as_slice();
        let starts: &[&[u8]] = match dir {
            Dir::C2S => &crate::http::REQUEST_STARTS,
            Dir::S2C => &[crate::http::RESPONSE_START],
        };
        if starts.iter().any(|m| bytes.starts_with(m)) {
            return Some(Mode::Http);
        }
        if starts.iter().any(|m| m.starts_with(bytes)) {
            return None; // a prefix of an HTTP start: wait for more
        }
        if !self.info.syn_seen {
            if matches!(crate::ws::parse_header(bytes), Ok(None)) && bytes.len() < 14 {
                return None; // a WebSocket frame header may still be completing
            }
            if let Some((ws, ctx)) = WsConn::sniff_midstream(dir, bytes, &self.opts) {
                emit.anomaly(
                    origin,
                    Some(dir),
                    "ws",
                    "ws-midstream",
                    "the capture starts inside a WebSocket connection: the upgrade request \
                     (Engine.IO version, session id, compression parameters) was not captured",
                    None,
                );
                (emit.sink)(Step::Eio(EioStep::WsOpen {
                    conn: emit.conn,
                    ctx,
                }));
                return Some(Mode::WebSocket(Box::new(ws)));
            }
        }
        let what = if bytes.first() == Some(&0x16) && bytes.get(1) == Some(&0x03) {
            "TLS: the traffic is encrypted (capture the plaintext side, or use `sioscope proxy --upstream-tls`)"
        } else {
            "not HTTP/1.1: this connection is not decoded"
        };
        emit.anomaly(
            origin,
            Some(dir),
            "http",
            "not-http",
            what,
            Some(bytes.get(..16).unwrap_or(bytes)),
        );
        Some(Mode::Opaque)
    }

    pub(crate) fn gap(
        &mut self,
        dir: Dir,
        start: u64,
        end: u64,
        origin: Origin,
        emit: &mut Emit<'_, '_, Step>,
    ) {
        match &mut self.mode {
            Mode::Http => {
                if let Some(HttpOutput::Error { error, .. }) =
                    self.http[dir.index()].gap(end - start)
                {
                    emit.anomaly(
                        origin,
                        Some(dir),
                        "http",
                        "http-gap",
                        error.to_string(),
                        None,
                    );
                }
            }
            Mode::WebSocket(ws) => ws.gap(dir, end - start, origin, emit),
            Mode::Sniff { .. } | Mode::Opaque => {}
        }
    }

    pub(crate) fn finish(&mut self, origin: Origin, emit: &mut Emit<'_, '_, Step>) {
        match &mut self.mode {
            Mode::Http => {
                for dir in [Dir::C2S, Dir::S2C] {
                    if let Some(out) = self.http[dir.index()].finish() {
                        self.http_output(dir, out, emit);
                    }
                }
                for p in self.pending.drain(..) {
                    if p.ctx.is_engineio() {
                        emit.anomaly(
                            origin,
                            Some(Dir::S2C),
                            "http",
                            "http-no-response",
                            format!(
                                "the {} request was never answered on this connection",
                                p.method
                            ),
                            None,
                        );
                    }
                }
            }
            Mode::WebSocket(_) => {
                match std::mem::replace(&mut self.after_switch, AfterSwitch::Frames) {
                    AfterSwitch::Probing(start, held) if !held.is_empty() => {
                        if let Mode::WebSocket(ws) = &mut self.mode {
                            ws.push(Dir::S2C, start, &held, &mut self.prov, emit);
                        }
                    }
                    AfterSwitch::Http => {
                        self.after_switch = AfterSwitch::Http;
                        if let Some(out) = self.http[1].finish() {
                            self.http_output(Dir::S2C, out, emit);
                        }
                    }
                    _ => {}
                }
                if let Mode::WebSocket(ws) = &mut self.mode {
                    ws.finish(origin, &mut self.prov, emit);
                }
            }
            Mode::Sniff { held, .. } => {
                if held.iter().any(|h| !h.is_empty()) {
                    emit.anomaly(
                        origin,
                        None,
                        "http",
                        "not-http",
                        "the connection ended before its first bytes told what it carries",
                        None,
                    );
                }
            }
            Mode::Opaque => {}
        }
    }

    fn drain_http(&mut self, dir: Dir, emit: &mut Emit<'_, '_, Step>) {
        while let Some(out) = self.http[dir.index()].poll() {
            self.http_output(dir, out, emit);
            if matches!(self.mode, Mode::WebSocket(_)) {
                return;
            }
        }
    }

    fn http_output(&mut self, dir: Dir, out: HttpOutput, emit: &mut Emit<'_, '_, Step>) {
        match out {
            HttpOutput::Error { span, error } => {
                let origin = self.prov[dir.index()].at(span.start).unwrap_or_default();
                // A limit of ours is named after itself (`http-head-too-long`,
                // `http-too-many-headers`); a broken framing rule is `http-framing`.
                let rule = match error {
                    HttpError::HeadTooLong(_) | HttpError::TooManyHeaders(_) => {
                        rule_name("http", &error)
                    }
                    _ => "http-framing".to_string(),
                };
                emit.anomaly(origin, Some(dir), "http", rule, error.to_string(), None);
            }
            HttpOutput::Message(msg) => {
                let (first, last) = self.prov[dir.index()]
                    .span(msg.span.start, msg.span.end)
                    .unwrap_or_default();
                self.prov[dir.index()].forget_before(msg.span.end);
                match dir {
                    Dir::C2S => self.request(msg, first, last, emit),
                    Dir::S2C => self.response(msg, first, last, emit),
                }
            }
        }
    }

    /// Undoes `Content-Encoding`; reports a failure as an anomaly and keeps the raw body. The
    /// body is moved out of `msg` when it is kept as it is (not copied).
    fn content(
        &self,
        msg: &mut HttpMessage,
        dir: Dir,
        last: Origin,
        emit: &mut Emit<'_, '_, Step>,
    ) -> (Vec<u8>, Option<String>) {
        let enc = msg
            .header("content-encoding")
            .map(|v| v.trim().to_ascii_lowercase());
        let kind = match enc.as_deref() {
            Some("gzip") | Some("x-gzip") => BodyEncoding::Gzip,
            Some("deflate") => BodyEncoding::Deflate,
            _ => return (std::mem::take(&mut msg.body), None),
        };
        match inflate_body(kind, &msg.body, self.opts.max_message) {
            Ok(b) => (b, enc),
            Err(e) => {
                emit.anomaly(
                    last,
                    Some(dir),
                    "http",
                    "http-content-encoding",
                    format!(
                        "cannot undo Content-Encoding {}: {e}",
                        enc.unwrap_or_default()
                    ),
                    Some(&msg.body),
                );
                (std::mem::take(&mut msg.body), None)
            }
        }
    }

    /// The HTTP event of `msg`; its header fields are moved into the event (read what else is
    /// needed of them first). A request's target, when already split by
    /// [`query::split_target`], is given in `target_parts` (else it is split here).
    fn http_info(
        msg: &mut HttpMessage,
        body: &[u8],
        content_encoding: Option<String>,
        sid: Option<String>,
        target_parts: Option<(String, Vec<(String, String)>)>,
    ) -> HttpInfo {
        let shown = body.get(..BODY_SHOWN).unwrap_or(body);
        let (body_text, body_base64) = if body.is_empty() {
            (None, None)
        } else {
            match std::str::from_utf8(shown) {
                Ok(t) => (Some(t.to_string()), None),
                Err(e) if e.valid_up_to() + 4 > shown.len() && shown.len() < body.len() => {
                    // cut inside a multibyte character by the display limit
                    (
                        Some(
                            String::from_utf8_lossy(shown.get(..e.valid_up_to()).unwrap_or(&[]))
                                .into_owned(),
                        ),
                        None,
                    )
                }
                Err(_) => (
                    None,
                    Some(base64::engine::general_purpose::STANDARD.encode(shown)),
                ),
            }
        };
        let connection_close = msg.connection_close();
        let mut info = HttpInfo {
            kind: "request",
            method: None,
            target: None,
            path: None,
            query: serde_json::Map::new(),
            status: None,
            reason: None,
            headers: std::mem::take(&mut msg.headers),
            body_len: msg.body_len,
            content_encoding,
            body_text,
            body_base64,
            sid,
            connection_close,
        };
        match &msg.head {
            HttpHead::Request { method, target } => {
                let (path, pairs) = target_parts.unwrap_or_else(|| query::split_target(target));
                info.method = Some(method.clone());
                info.target = Some(target.clone());
                info.path = Some(path);
                for (k, v) in pairs {
                    info.query.entry(k).or_insert(serde_json::Value::String(v));
                }
            }
            HttpHead::Response { status, reason } => {
                info.kind = "response";
                info.status = Some(*status);
                info.reason = Some(reason.clone());
            }
        }
        info
    }

    fn request(
        &mut self,
        mut msg: HttpMessage,
        first: Origin,
        last: Origin,
        emit: &mut Emit<'_, '_, Step>,
    ) {
        let (method, target) = match &msg.head {
            HttpHead::Request { method, target } => (method.clone(), target.clone()),
            HttpHead::Response { .. } => return,
        };
        let target_parts = query::split_target(&target);
        let ctx = EioCtx::from_target(&target_parts.0, &target_parts.1, self.opts.eio);
        let close = msg.connection_close();
        let binary = msg.is_octet_stream();
        let upgrade = msg.is_websocket_upgrade_request();
        let extensions_offered = msg.header("sec-websocket-extensions").map(str::to_string);
        let (body, enc) = self.content(&mut msg, Dir::C2S, last, emit);
        emit.at(
            first,
            last,
            Some(Dir::C2S),
            Body::Http(Self::http_info(
                &mut msg,
                &body,
                enc,
                ctx.sid.clone(),
                Some(target_parts),
            )),
        );
        self.http[1].expect_response_to(&method);
        if method == "POST" && !body.is_empty() {
            (emit.sink)(Step::Eio(EioStep::PollingBody(PollingBody {
                conn: emit.conn,
                ctx: ctx.clone(),
                body,
                binary,
                first,
                last,
            })));
        }
        self.pending.push_back(Pending {
            method,
            upgrade,
            extensions_offered,
            ctx,
            close,
        });
    }

    fn response(
        &mut self,
        mut msg: HttpMessage,
        first: Origin,
        last: Origin,
        emit: &mut Emit<'_, '_, Step>,
    ) {
        let status = msg.status().unwrap_or(0);
        if (100..200).contains(&status) && status != 101 {
            // interim response: the request still waits for its final answer
            emit.at(
                first,
                last,
                Some(Dir::S2C),
                Body::Http(Self::http_info(&mut msg, &[], None, None, None)),
            );
            return;
        }
        let req = self.pending.pop_front();
        // RFC 9112 §9.6: "A server that receives a "close" connection option MUST initiate
        // closure of the connection after it sends the final response to the request that
        // contained the "close"": the response ends the connection as much as its own header.
        let request_close = req.as_ref().is_some_and(|r| r.close);
        let (body, enc) = self.content(&mut msg, Dir::S2C, last, emit);
        let ctx = req.as_ref().map(|r| r.ctx.clone()).unwrap_or_default();
        // A handshake response names the session: decode it first so the event can carry the sid.
        let binary = msg.is_octet_stream();
        let upgrade = req.as_ref().is_some_and(|r| r.upgrade);
        if status == 101 && upgrade {
            let accepted = msg.header("sec-websocket-extensions").map(str::to_string);
            emit.at(
                first,
                last,
                Some(Dir::S2C),
                Body::Http(Self::http_info(&mut msg, &body, enc, ctx.sid.clone(), None)),
            );
            let offered = req.and_then(|r| r.extensions_offered);
            let ws = WsConn::after_upgrade(
                ctx,
                accepted.as_deref(),
                offered.as_deref(),
                &self.opts,
                last,
                emit,
            );
            self.mode = Mode::WebSocket(Box::new(ws));
            for dir in [Dir::S2C, Dir::C2S] {
                let (offset, rest) = self.http[dir.index()].take_upgraded();
                if dir == Dir::S2C {
                    self.after_switch = AfterSwitch::Probing(offset, Vec::new());
                }
                if !rest.is_empty() {
                    self.feed(dir, offset, &rest, emit);
                }
            }
            return;
        }
        if upgrade {
            self.http[0].upgrade_refused();
        }
        let mut info = Self::http_info(&mut msg, &body, enc, ctx.sid.clone(), None);
        info.connection_close |= request_close;
        if status == 200 && ctx.is_engineio() && req.as_ref().is_some_and(|r| r.method == "GET") {
            // The Engine.IO layer decodes the body first (a handshake answer names the session,
            // which the response event then carries) and emits its packets after the response.
            let response = event_at(emit.conn, first, last, Some(Dir::S2C), Body::Http(info));
            let body = PollingBody {
                conn: emit.conn,
                ctx,
                body,
                binary,
                first,
                last,
            };
            (emit.sink)(Step::Eio(EioStep::PollingResponse(
                body,
                Box::new(response),
            )));
        } else {
            emit.at(first, last, Some(Dir::S2C), Body::Http(info));
        }
        if upgrade {
            self.drain_http(Dir::C2S, emit);
        }
    }
}
