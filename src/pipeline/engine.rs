//! Engine.IO sessions and Socket.IO packets: which session a payload belongs to, which protocol
//! revision decodes it, and binary attachments that span several Engine.IO messages.

use std::collections::VecDeque;

use foldhash::HashMap;

use base64::Engine as _;
use serde_json::Value;

use super::Emit;
use crate::engineio::{self, Data, Packet, Version};
use crate::event::{Body, ConnId, Dir, EioInfo, Origin, SioInfo};
use crate::http::query;
use crate::socketio::legacy::{self, LegacyPayload};
use crate::socketio::{self, AttachmentAssembler, Step};

/// Which protocol a request or connection speaks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) enum Proto {
    /// Not (recognisably) Socket.IO.
    #[default]
    Unknown,
    /// Engine.IO of this revision.
    Eio(Version),
    /// socket.io 0.9 (protocol 1), which has no Engine.IO layer.
    Legacy,
}

/// The transport of a request or connection.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) enum Transport {
    /// Not known.
    #[default]
    Unknown,
    /// HTTP long-polling (or JSONP polling).
    Polling,
    /// WebSocket.
    WebSocket,
}

impl Transport {
    fn as_str(self) -> &'static str {
        match self {
            Transport::Unknown => "unknown",
            Transport::Polling => "polling",
            Transport::WebSocket => "websocket",
        }
    }
}

/// What an HTTP request or WebSocket connection tells about its Engine.IO session.
#[derive(Debug, Clone, Default)]
pub(crate) struct EioCtx {
    pub(crate) proto: Proto,
    pub(crate) transport: Transport,
    pub(crate) sid: Option<String>,
    /// The request path is Socket.IO's default (`/socket.io/`), evidence that Engine.IO carries
    /// Socket.IO (see [`Sessions::carries_sio`]).
    pub(crate) sio_path: bool,
}

impl EioCtx {
    /// Reads the protocol, transport and session id from a request target: the query
    /// (`EIO`, `transport`, `sid`) for Engine.IO, the path (`/socket.io/1/<transport>/<sid>`) for
    /// socket.io 0.9. `eio` forces a revision when the query does not name one.
    #[cfg(test)]
    pub(crate) fn from_request(target: &str, eio: Option<u8>) -> Self {
        let (path, pairs) = query::split_target(target);
        Self::from_target(&path, &pairs, eio)
    }

    /// [`EioCtx::from_request`] on a target already split by [`query::split_target`].
    pub(crate) fn from_target(path: &str, pairs: &[(String, String)], eio: Option<u8>) -> Self {
        if let Some((transport, sid)) = legacy::parse_path(path) {
            return EioCtx {
                proto: Proto::Legacy,
                transport: if transport == "websocket" || transport == "flashsocket" {
                    Transport::WebSocket
                } else {
                    Transport::Polling
                },
                sid: Some(sid),
                sio_path: true,
            };
        }
        if legacy::is_handshake_path(path) && query::param(pairs, "EIO").is_none() {
            return EioCtx {
                proto: Proto::Legacy,
                transport: Transport::Unknown,
                sid: None,
                sio_path: true,
            };
        }
        let transport = match query::param(pairs, "transport") {
            Some("websocket") => Transport::WebSocket,
            Some("polling") => Transport::Polling,
            _ => Transport::Unknown,
        };
        let version = query::param(pairs, "EIO")
            .and_then(|v| Version::from_eio_value(v).ok())
            .or_else(|| eio.and_then(|n| Version::from_eio_value(&n.to_string()).ok()))
            // engine.io clients before the EIO parameter spoke revision 2
            .or_else(|| (transport != Transport::Unknown).then_some(Version::V2));
        EioCtx {
            proto: version.map_or(Proto::Unknown, Proto::Eio),
            transport,
            sid: query::param(pairs, "sid").map(str::to_string),
            // socket.io attaches at "/socket.io" by default (socket.io@4.8.4 dist/index.js:119),
            // a bare engine.io server at "/engine.io" (engine.io@6.6.12 build/server.js:84).
            sio_path: path.trim_end_matches('/').ends_with("/socket.io"),
        }
    }

    pub(crate) fn is_engineio(&self) -> bool {
        self.proto != Proto::Unknown
    }

    fn eio_version(&self) -> Option<u8> {
        match self.proto {
            Proto::Eio(v) => Some(v.number()),
            _ => None,
        }
    }
}

/// True for an `EIO=4` handshake (no `sid` yet) answered with an Engine.IO 3 payload holding
/// an open packet (`<length>:0{`): the server speaks revision 3 only. engine.io 3.x does not
/// check the `EIO` query (`engine.io@3.6.2/lib/server.js:135-170`, `verify` looks at transport,
/// origin and sid only) and frames every polling payload as `<length>:<packet>`
/// (`engine.io-parser@2.2.1/lib/index.js:213-240`, `setLengthHeader`). A revision 4 handshake
/// response always starts with the open packet `0{` itself, so the two cannot be confused.
fn answers_eio4_handshake_in_v3(ctx: &EioCtx, asked: Version, dir: Dir, body: &[u8]) -> bool {
    if asked != Version::V4 || dir != Dir::S2C || ctx.sid.is_some() {
        return false;
    }
    let digits = body.iter().take_while(|b| b.is_ascii_digit()).count();
    digits > 0 && body.get(digits..digits + 3) == Some(b":0{".as_slice())
}

/// Socket.IO protocol revision carried by an Engine.IO revision: v4 carries Socket.IO v5
/// (socket.io 3/4), v3 and v2 carry Socket.IO v4 (socket.io 1/2).
fn sio_version(v: Version) -> socketio::Version {
    match v {
        Version::V4 => socketio::Version::V5,
        Version::V3 | Version::V2 => socketio::Version::V4,
    }
}

#[derive(Default)]
struct Session {
    assemblers: [AttachmentAssembler; 2],
    /// The session's open packet was seen (its first message is then in the capture too).
    opened: bool,
    /// Whether its messages are Socket.IO packets, once the evidence decided it.
    sio: Option<bool>,
    /// Its connections still open (a polling session has one per request in flight).
    open_conns: Vec<ConnId>,
    /// Capture time (ns) of its last body or message.
    last_seen: u64,
    /// How long its server waits for a sign of life before it closes the session (ns), when
    /// its handshake was seen: Engine.IO's `pingInterval + pingTimeout`, socket.io 0.9's
    /// heartbeat timeout plus close timeout.
    deadline: Option<u64>,
}

/// How often (capture time, ns) the table is swept for sessions their server has closed.
const SWEEP_EVERY: u64 = 10_000_000_000;

/// Time (ns) a session is kept past its server's deadline: the TIME-WAIT of the connections'
/// memory (`tcp::reassembly`), for late packets of a session that just ended.
const DEADLINE_LINGER: u64 = 60_000_000_000;

/// Every Engine.IO session seen so far, by session id, at most `max` of them: past it, the
/// oldest session whose connections are all closed is dropped (`--max-tracked-sessions`).
pub(crate) struct Sessions {
    by_sid: HashMap<String, Session>,
    /// Session ids in the order they were first seen.
    order: VecDeque<String>,
    /// The sessions each open connection carried.
    conn_sids: HashMap<ConnId, Vec<String>>,
    /// Most sessions kept.
    max: usize,
    /// Attachment state of WebSocket connections whose session id is unknown (mid-stream).
    anonymous: Session,
    /// JSON payloads are kept to this depth (`--max-json-depth`).
    json_depth: usize,
    /// Latest capture time (ns) a session was touched at, and when the table was last swept.
    now: u64,
    swept: u64,
}

impl Default for Sessions {
    fn default() -> Self {
        Sessions::new(
            socketio::json_depth::MAX_JSON_DEPTH,
            crate::session::DEFAULT_MAX_SESSIONS,
        )
    }
}

fn b64(b: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(b)
}

impl Sessions {
    /// No sessions yet; Socket.IO payloads will be kept to `json_depth` levels, and at most
    /// `max` sessions (at least 1).
    pub(crate) fn new(json_depth: usize, max: usize) -> Self {
        Sessions {
            by_sid: HashMap::default(),
            order: VecDeque::new(),
            conn_sids: HashMap::default(),
            anonymous: Session::default(),
            json_depth,
            max: max.max(1),
            now: 0,
            swept: 0,
        }
    }

    fn session(&mut self, sid: Option<&str>) -> &mut Session {
        match sid {
            Some(s) => {
                if !self.by_sid.contains_key(s) {
                    self.by_sid.insert(s.to_string(), Session::default());
                    self.order.push_back(s.to_string());
                }
                self.by_sid.get_mut(s).unwrap_or(&mut self.anonymous)
            }
            None => &mut self.anonymous,
        }
    }

    /// Notes that `conn` carries the session `ctx` names (after a body or message of it), then,
    /// past the limit, drops the oldest sessions whose connections are all closed (never one
    /// with a connection open: its attachments and evidence are still in use).
    ///
    /// Every 10 s of capture time it also forgets the sessions their server has closed: no
    /// connection open, and silent for longer than the session's own deadline (plus a minute).
    /// The server's heartbeat rules close such a session ("ping timeout": engine.io@6.6.12
    /// build/socket.js:166-187, the server pings every `pingInterval` and gives up `pingTimeout`
    /// later; engine.io@3.6.2 lib/socket.js:136-142, a timer of `pingInterval + pingTimeout`
    /// re-armed by every client packet), so nothing of it can follow but a refused request,
    /// which carries no Engine.IO payload. A session whose handshake was not seen is kept (its
    /// deadline is unknown).
    fn touch(&mut self, ctx: &EioCtx, conn: ConnId, ts: u64) {
        let Some(sid) = ctx.sid.as_deref() else {
            return;
        };
        self.now = self.now.max(ts);
        let s = self.session(Some(sid));
        s.last_seen = s.last_seen.max(ts);
        if !s.open_conns.contains(&conn) {
            s.open_conns.push(conn);
            self.conn_sids
                .entry(conn)
                .or_default()
                .push(sid.to_string());
        }
        while self.by_sid.len() > self.max {
            let by_sid = &self.by_sid;
            let ended = self
                .order
                .iter()
                .position(|k| k != sid && by_sid.get(k).is_none_or(|s| s.open_conns.is_empty()));
            let Some(gone) = ended.and_then(|i| self.order.remove(i)) else {
                return;
            };
            self.by_sid.remove(&gone);
        }
        if self.now.saturating_sub(self.swept) >= SWEEP_EVERY {
            self.swept = self.now;
            self.forget_closed(sid);
        }
    }

    /// Forgets the sessions (other than `current`) with no connection open that have been
    /// silent past their deadline and a minute.
    fn forget_closed(&mut self, current: &str) {
        let now = self.now;
        let before = self.by_sid.len();
        self.by_sid.retain(|k, s| {
            k == current
                || !s.open_conns.is_empty()
                || s.deadline.is_none_or(|d| {
                    now.saturating_sub(s.last_seen) <= d.saturating_add(DEADLINE_LINGER)
                })
        });
        if self.by_sid.len() != before {
            let by_sid = &self.by_sid;
            self.order.retain(|k| by_sid.contains_key(k));
        }
    }

    /// Notes the deadline a handshake gives its session (`ms` milliseconds).
    fn set_deadline(&mut self, sid: Option<&str>, ms: Option<u64>) {
        if sid.is_some() {
            self.session(sid).deadline = ms.map(|ms| ms.saturating_mul(1_000_000));
        }
    }

    /// A connection closed: it no longer holds its sessions open.
    pub(crate) fn conn_closed(&mut self, conn: ConnId) {
        for sid in self.conn_sids.remove(&conn).unwrap_or_default() {
            if let Some(s) = self.by_sid.get_mut(&sid) {
                s.open_conns.retain(|c| *c != conn);
            }
        }
    }

    /// Sessions held now.
    #[cfg(test)]
    fn held(&self) -> Vec<&str> {
        self.order.iter().map(String::as_str).collect()
    }

    /// A polling request body (client to server).
    pub(crate) fn polling_body(
        &mut self,
        mut ctx: EioCtx,
        body: &[u8],
        binary: bool,
        first: Origin,
        last: Origin,
        emit: &mut Emit<'_, '_>,
    ) {
        self.payload(&mut ctx, Dir::C2S, body, binary, first, last, emit);
        self.touch(&ctx, emit.conn, last.ts.0);
    }

    /// A polling response body (server to client). A handshake answer names the session, which
    /// is written into `ctx`.
    pub(crate) fn polling_response(
        &mut self,
        ctx: &mut EioCtx,
        body: &[u8],
        binary: bool,
        first: Origin,
        last: Origin,
        emit: &mut Emit<'_, '_>,
    ) {
        if ctx.proto == Proto::Legacy && ctx.transport == Transport::Unknown && ctx.sid.is_none() {
            // socket.io 0.9 handshake: `sid:heartbeat:close:transports`
            let text = String::from_utf8_lossy(body);
            match legacy::parse_handshake(&text) {
                Ok(h) => {
                    ctx.sid = Some(h.sid.clone());
                    // socket.io 0.9: timeouts in seconds
                    let deadline = h
                        .heartbeat_timeout
                        .zip(h.close_timeout)
                        .map(|(hb, close)| hb.saturating_add(close).saturating_mul(1000));
                    self.set_deadline(Some(&h.sid), deadline);
                    let mut eio = Self::eio_info(ctx, "open");
                    // the handshake request names no transport; it is a plain HTTP GET
                    eio.transport = "polling";
                    eio.open = Some(serde_json::json!({
                        "sid": h.sid,
                        "heartbeatTimeout": h.heartbeat_timeout,
                        "closeTimeout": h.close_timeout,
                        "transports": h.transports,
                    }));
                    emit.at(first, last, Some(Dir::S2C), Body::Eio { eio });
                }
                Err(e) => emit.error(last, Some(Dir::S2C), "sio", &e, Some(body)),
            }
            self.touch(ctx, emit.conn, last.ts.0);
            return;
        }
        self.payload(ctx, Dir::S2C, body, binary, first, last, emit);
        self.touch(ctx, emit.conn, last.ts.0);
    }

    #[allow(clippy::too_many_arguments)]
    fn payload(
        &mut self,
        ctx: &mut EioCtx,
        dir: Dir,
        body: &[u8],
        binary: bool,
        first: Origin,
        last: Origin,
        emit: &mut Emit<'_, '_>,
    ) {
        match ctx.proto {
            Proto::Unknown => {}
            Proto::Legacy => {
                for frame in legacy::decode_frames(body) {
                    match frame.message {
                        Ok(m) => self.legacy_message(ctx, dir, m, first, last, emit),
                        Err(e) => emit.error(
                            last,
                            Some(dir),
                            "sio",
                            &e,
                            Some(body.get(frame.range.clone()).unwrap_or(body)),
                        ),
                    }
                }
            }
            Proto::Eio(asked) => {
                let v3_answer = answers_eio4_handshake_in_v3(ctx, asked, dir, body);
                let v = if v3_answer { Version::V3 } else { asked };
                for item in engineio::decode_payload(v, body, binary) {
                    match item.packet {
                        Ok(p) => self.packet(ctx, v, dir, p, first, last, emit),
                        Err(e) => emit.error(
                            last,
                            Some(dir),
                            "eio",
                            &e,
                            Some(body.get(item.range.clone()).unwrap_or(body)),
                        ),
                    }
                }
                if v3_answer {
                    // after the open packet, so that the tracker files it under the new session
                    emit.anomaly(
                        last,
                        Some(dir),
                        "eio",
                        "eio-revision-mismatch",
                        "the client asked for Engine.IO 4 (EIO=4); the server answered its handshake in Engine.IO 3 payload framing (`<length>:<packet>`, engine.io 3.x / socket.io 2.x), which an Engine.IO 4 client cannot read",
                        Some(body),
                    );
                }
            }
        }
    }

    /// A WebSocket text message.
    pub(crate) fn ws_text(
        &mut self,
        ctx: &mut EioCtx,
        dir: Dir,
        text: &str,
        first: Origin,
        last: Origin,
        emit: &mut Emit<'_, '_>,
    ) {
        match ctx.proto {
            Proto::Unknown => {}
            Proto::Legacy => match legacy::decode_message(text) {
                Ok(m) => self.legacy_message(ctx, dir, m, first, last, emit),
                Err(e) => emit.error(last, Some(dir), "sio", &e, Some(text.as_bytes())),
            },
            Proto::Eio(v) => match engineio::decode_text(v, text) {
                Ok(p) => self.packet(ctx, v, dir, p, first, last, emit),
                Err(e) => emit.error(last, Some(dir), "eio", &e, Some(text.as_bytes())),
            },
        }
        self.touch(ctx, emit.conn, last.ts.0);
    }

    /// A WebSocket binary message.
    pub(crate) fn ws_binary(
        &mut self,
        ctx: &mut EioCtx,
        dir: Dir,
        bytes: &[u8],
        first: Origin,
        last: Origin,
        emit: &mut Emit<'_, '_>,
    ) {
        if let Proto::Eio(v) = ctx.proto {
            match engineio::decode_binary(v, bytes) {
                Ok(p) => self.packet(ctx, v, dir, p, first, last, emit),
                Err(e) => emit.error(last, Some(dir), "eio", &e, Some(bytes)),
            }
        }
        self.touch(ctx, emit.conn, last.ts.0);
    }

    fn eio_info(ctx: &EioCtx, kind: &'static str) -> EioInfo {
        EioInfo {
            kind,
            version: ctx.eio_version(),
            sid: ctx.sid.clone(),
            transport: ctx.transport.as_str(),
            text: None,
            base64: None,
            open: None,
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn packet(
        &mut self,
        ctx: &mut EioCtx,
        v: Version,
        dir: Dir,
        packet: Packet,
        first: Origin,
        last: Origin,
        emit: &mut Emit<'_, '_>,
    ) {
        let kind = packet.packet_type().name();
        match packet {
            Packet::Open(hs) => {
                if ctx.sid.is_none() {
                    ctx.sid = Some(hs.sid.clone());
                }
                self.session(ctx.sid.as_deref()).opened = true;
                let deadline = hs
                    .ping_interval
                    .zip(hs.ping_timeout)
                    .map(|(i, t)| i.saturating_add(t));
                self.set_deadline(ctx.sid.as_deref(), deadline);
                let mut info = Self::eio_info(ctx, kind);
                info.open = serde_json::from_str::<Value>(&hs.to_json()).ok();
                emit.at(first, last, Some(dir), Body::Eio { eio: info });
            }
            Packet::Message(Data::Text(text)) => {
                if self.carries_sio(ctx, v, &text) {
                    self.sio_text(ctx, v, dir, &text, first, last, emit);
                } else {
                    let mut info = Self::eio_info(ctx, kind);
                    info.text = Some(text);
                    emit.at(first, last, Some(dir), Body::Eio { eio: info });
                }
            }
            Packet::Message(Data::Binary(bytes)) => {
                let session = self.session(ctx.sid.as_deref());
                let asm = &mut session.assemblers[dir.index()];
                if asm.is_pending() {
                    let step = asm.push_binary(&bytes);
                    self.sio_step(ctx, v, dir, step, first, last, emit);
                } else {
                    let mut info = Self::eio_info(ctx, kind);
                    info.base64 = Some(b64(bytes.get(..64 << 10).unwrap_or(&bytes)));
                    emit.at(first, last, Some(dir), Body::Eio { eio: info });
                }
            }
            other => {
                let mut info = Self::eio_info(ctx, kind);
                match other.data() {
                    Some(Data::Text(t)) if !t.is_empty() => info.text = Some(t.clone()),
                    Some(Data::Binary(b)) => info.base64 = Some(b64(b)),
                    _ => {}
                }
                emit.at(first, last, Some(dir), Body::Eio { eio: info });
            }
        }
    }

    /// Whether this session's Engine.IO messages carry Socket.IO packets: a fact established from
    /// evidence, not assumed, because engine.io is also used alone (its messages are then the
    /// application's own text, e.g. `4hello`). In order:
    /// 1. the session's path is Socket.IO's default `/socket.io/` (or the socket.io 0.9 handshake);
    /// 2. its first message is a Socket.IO CONNECT (socket.io-protocol: "At the beginning of a
    ///    Socket.IO session, the client MUST send a `CONNECT` packet"; in Socket.IO v4 the server
    ///    sends it for `/`): Socket.IO;
    /// 3. otherwise, when the session's open packet was seen (so its first message is in the
    ///    capture): not Socket.IO;
    /// 4. a capture that began mid-session decides nothing for the session: each message is
    ///    Socket.IO when it decodes as a packet, else a plain Engine.IO message (the same answer
    ///    for the same bytes, wherever the capture starts).
    fn carries_sio(&mut self, ctx: &EioCtx, v: Version, text: &str) -> bool {
        if ctx.sio_path {
            return true;
        }
        let json_depth = self.json_depth;
        let session = self.session(ctx.sid.as_deref());
        if let Some(known) = session.sio {
            return known;
        }
        let decoded = socketio::kept(socketio::decode_with_depth(
            sio_version(v),
            text,
            json_depth,
        ));
        if let Ok(p) = &decoded {
            if p.ty == socketio::PacketType::Connect {
                session.sio = Some(true);
                return true;
            }
        }
        if session.opened && ctx.sid.is_some() {
            session.sio = Some(false);
            return false;
        }
        decoded.is_ok()
    }

    #[allow(clippy::too_many_arguments)]
    fn sio_text(
        &mut self,
        ctx: &mut EioCtx,
        v: Version,
        dir: Dir,
        text: &str,
        first: Origin,
        last: Origin,
        emit: &mut Emit<'_, '_>,
    ) {
        let decoded = socketio::decode_with_depth(sio_version(v), text, self.json_depth);
        if let Err(e @ socketio::SioError::JsonTooDeep { .. }) = &decoded {
            // The packet goes on with its deep values cut; the cut is said first.
            emit.error(last, Some(dir), "sio", e, None);
        }
        match socketio::kept(decoded) {
            Ok(p) => {
                let session = self.session(ctx.sid.as_deref());
                let steps = session.assemblers[dir.index()].push_packet(p);
                for step in steps {
                    self.sio_step(ctx, v, dir, step, first, last, emit);
                }
            }
            Err(e) => {
                let mut info = Self::eio_info(ctx, "message");
                info.text = Some(text.to_string());
                emit.at(first, last, Some(dir), Body::Eio { eio: info });
                emit.error(last, Some(dir), "sio", &e, Some(text.as_bytes()));
            }
        }
    }

    /// Emits what the attachment assembler made of a packet or an attachment.
    #[allow(clippy::too_many_arguments)]
    fn sio_step(
        &mut self,
        ctx: &EioCtx,
        v: Version,
        dir: Dir,
        step: Result<Step, socketio::SioError>,
        first: Origin,
        last: Origin,
        emit: &mut Emit<'_, '_>,
    ) {
        match step {
            Ok(Step::Ready(done)) => {
                // The data shown is the packet's own with its placeholders replaced (in place:
                // moved, not copied); a packet without attachments has none to replace.
                let packet = if done.attachments.is_empty() {
                    done.packet
                } else {
                    let (packet, error) = done.into_viewed();
                    if let Some(e) = error {
                        emit.error(last, Some(dir), "sio", &e, None);
                    }
                    packet
                };
                emit.at(
                    first,
                    last,
                    Some(dir),
                    Body::Sio {
                        eio: Self::eio_info(ctx, "message"),
                        sio: sio_info(packet, sio_version(v)),
                    },
                );
            }
            Ok(Step::Waiting { .. }) => {}
            Err(e) => emit.error(last, Some(dir), "sio", &e, None),
        }
    }

    fn legacy_message(
        &mut self,
        ctx: &mut EioCtx,
        dir: Dir,
        m: legacy::LegacyMessage,
        first: Origin,
        last: Origin,
        emit: &mut Emit<'_, '_>,
    ) {
        let info = Self::eio_info(ctx, "message");
        let (event, data) = match m.payload() {
            Ok(LegacyPayload::Event { name, args }) => (Some(name), Some(Value::Array(args))),
            Ok(LegacyPayload::Json(v)) => (None, Some(v)),
            Ok(LegacyPayload::Text(t)) => (None, Some(Value::String(t))),
            Ok(LegacyPayload::Ack { id, args }) => {
                (None, Some(serde_json::json!({ "ackId": id, "args": args })))
            }
            Ok(LegacyPayload::Error { reason, advice }) => (
                None,
                Some(serde_json::json!({ "reason": reason, "advice": advice })),
            ),
            Ok(LegacyPayload::None) => (None, None),
            Err(e) => {
                emit.error(
                    last,
                    Some(dir),
                    "sio",
                    &e,
                    m.data.as_deref().map(str::as_bytes),
                );
                (None, m.data.clone().map(Value::String))
            }
        };
        emit.at(
            first,
            last,
            Some(dir),
            Body::Sio {
                eio: info,
                sio: SioInfo {
                    kind: m.kind.name().to_string(),
                    nsp: if m.endpoint.is_empty() {
                        "/".to_string()
                    } else {
                        m.endpoint.clone()
                    },
                    event,
                    id: m.id,
                    data,
                    attachments: None,
                    version: 1,
                },
            },
        );
    }
}

/// The Socket.IO event of `p`, showing `view` as its data when given (else the packet's own).
fn sio_info(p: socketio::Packet, version: socketio::Version) -> SioInfo {
    let event = p.event_name().map(str::to_string);
    SioInfo {
        kind: p.ty.name().to_string(),
        nsp: p.nsp,
        event,
        id: p.id,
        data: p.data,
        attachments: p.attachments,
        version: match version {
            socketio::Version::V4 => 4,
            socketio::Version::V5 => 5,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Event;

    #[test]
    fn a_full_session_table_drops_the_oldest_session_whose_connections_are_all_closed() {
        let mut sessions = Sessions::new(socketio::json_depth::MAX_JSON_DEPTH, 1);
        let mut sink = |_: Event| {};
        let mut message = |sessions: &mut Sessions, conn: u64, sid: &str| {
            let target = format!("/socket.io/?EIO=4&transport=websocket&sid={sid}");
            let mut ctx = EioCtx::from_request(&target, None);
            let mut emit = Emit {
                conn: ConnId(conn),
                sink: &mut sink,
            };
            let (o, d) = (Origin::default(), Dir::C2S);
            sessions.ws_text(&mut ctx, d, "42[\"x\"]", o, o, &mut emit);
        };
        message(&mut sessions, 1, "a");
        sessions.conn_closed(ConnId(1));
        message(&mut sessions, 2, "b");
        assert_eq!(
            sessions.held(),
            ["b"],
            "a's connections are closed: it goes"
        );
        message(&mut sessions, 3, "c");
        assert_eq!(
            sessions.held(),
            ["b", "c"],
            "b's connection is open: it stays"
        );
        sessions.conn_closed(ConnId(2));
        message(&mut sessions, 3, "c");
        assert_eq!(sessions.held(), ["c"]);
        message(&mut sessions, 4, "d");
        assert_eq!(sessions.held(), ["c", "d"], "c is open on connection 3");
    }

    #[test]
    fn a_closed_session_is_forgotten_a_minute_after_its_own_ping_deadline() {
        const S: u64 = 1_000_000_000;
        let mut sessions = Sessions::default();
        let mut sink = |_: Event| {};
        let mut text = |sessions: &mut Sessions, conn: u64, sid: &str, text: &str, secs: u64| {
            let target = format!("/socket.io/?EIO=4&transport=websocket&sid={sid}");
            let mut ctx = EioCtx::from_request(&target, None);
            let mut emit = Emit {
                conn: ConnId(conn),
                sink: &mut sink,
            };
            let o = Origin {
                frame: 1,
                ts: crate::event::Timestamp(secs * S),
            };
            sessions.ws_text(&mut ctx, Dir::S2C, text, o, o, &mut emit);
        };
        // "a" names its deadline (25 s + 20 s); "b" was picked up without its handshake
        let open = r#"0{"sid":"a","upgrades":[],"pingInterval":25000,"pingTimeout":20000}"#;
        text(&mut sessions, 1, "a", open, 0);
        text(&mut sessions, 2, "b", "42[\"x\"]", 0);
        sessions.conn_closed(ConnId(1));
        sessions.conn_closed(ConnId(2));
        // "c" stays open all along
        text(
            &mut sessions,
            3,
            "c",
            open.replace("\"a\"", "\"c\"").as_str(),
            0,
        );
        text(&mut sessions, 3, "c", "2", 105);
        assert_eq!(
            sessions.held(),
            ["a", "b", "c"],
            "105 s after its last packet a is within 45 s + 60 s"
        );
        text(&mut sessions, 3, "c", "2", 116);
        assert_eq!(
            sessions.held(),
            ["b", "c"],
            "a is past its deadline and the minute; b's deadline is unknown; c is open"
        );
    }

    /// Runs WebSocket texts through one session and returns the event layers and kinds.
    fn run(target: &str, texts: &[(Dir, &str)]) -> Vec<String> {
        let mut sessions = Sessions::default();
        let mut ctx = EioCtx::from_request(target, None);
        ctx.transport = Transport::WebSocket;
        let mut out = Vec::new();
        let mut sink = |e: Event| {
            out.push(match e.body {
                Body::Sio { sio, .. } => format!("sio {}", sio.kind),
                Body::Eio { eio } => format!("eio {}", eio.kind),
                Body::Anomaly(a) => format!("anomaly {}", a.rule),
                _ => "other".to_string(),
            })
        };
        let mut emit = Emit {
            conn: ConnId(1),
            sink: &mut sink,
        };
        for (dir, t) in texts {
            sessions.ws_text(
                &mut ctx,
                *dir,
                t,
                Origin::default(),
                Origin::default(),
                &mut emit,
            );
        }
        out
    }

    const OPEN: &str = r#"0{"sid":"abc","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#;

    #[test]
    fn bare_engineio_session_text_is_an_engineio_message() {
        let out = run(
            "/engine.io/?EIO=4&transport=websocket",
            &[(Dir::S2C, OPEN), (Dir::C2S, "4hello"), (Dir::S2C, "4hello")],
        );
        assert_eq!(out, ["eio open", "eio message", "eio message"]);
    }

    #[test]
    fn a_first_connect_makes_a_custom_path_socketio() {
        let out = run(
            "/custom/?EIO=4&transport=websocket",
            &[(Dir::S2C, OPEN), (Dir::C2S, "40"), (Dir::C2S, "42[\"ev\"]")],
        );
        assert_eq!(out, ["eio open", "sio CONNECT", "sio EVENT"]);
    }

    #[test]
    fn socketio_path_keeps_parse_errors() {
        let out = run(
            "/socket.io/?EIO=4&transport=websocket",
            &[(Dir::S2C, OPEN), (Dir::C2S, "4hello")],
        );
        assert_eq!(
            out,
            ["eio open", "eio message", "anomaly sio-unknown-packet-type"]
        );
    }

    #[test]
    fn mid_session_each_message_decides_by_itself() {
        // No open packet: the session's start is not in the capture.
        let out = run(
            "/custom/?EIO=4&transport=websocket&sid=abc",
            &[
                (Dir::C2S, "42[\"ev\"]"),
                (Dir::C2S, "4hello"),
                (Dir::C2S, "42[\"ev\"]"),
            ],
        );
        assert_eq!(out, ["sio EVENT", "eio message", "sio EVENT"]);
    }

    #[test]
    fn an_eio4_handshake_answered_in_v3_framing_is_recognised_and_nothing_else() {
        let handshake = EioCtx::from_request("/socket.io/?EIO=4&transport=polling", None);
        let v3 = br#"94:0{"sid":"fW7Ujh","upgrades":["websocket"],"pingInterval":1000}2:40"#;
        assert!(answers_eio4_handshake_in_v3(
            &handshake,
            Version::V4,
            Dir::S2C,
            v3
        ));
        // a revision 4 handshake response starts with the open packet itself
        let v4 = br#"0{"sid":"fW7Ujh","upgrades":[],"pingInterval":1000}"#;
        assert!(!answers_eio4_handshake_in_v3(
            &handshake,
            Version::V4,
            Dir::S2C,
            v4
        ));
        // a later poll of the session may carry a message "12:0{" (packet 4 + text): not a handshake
        let poll = EioCtx::from_request("/socket.io/?EIO=4&transport=polling&sid=fW7Ujh", None);
        assert!(!answers_eio4_handshake_in_v3(
            &poll,
            Version::V4,
            Dir::S2C,
            b"412:0{\"a\":1}"
        ));
        assert!(!answers_eio4_handshake_in_v3(
            &handshake,
            Version::V3,
            Dir::S2C,
            v3
        ));
        assert!(!answers_eio4_handshake_in_v3(
            &handshake,
            Version::V4,
            Dir::C2S,
            v3
        ));
    }
}
