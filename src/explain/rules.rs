//! The rules that name a session's end cause, in order of precedence, each with its evidence.

use std::collections::BTreeSet;

use serde::Serialize;

use super::cause::{Cause, Initiator};
use super::chains::{build_chains, Chain};
use crate::event::{Dir, Timestamp};
use crate::session::{ConnRecord, Mark, SessionRecord, SessionTracker, UpgradeState};

/// A socket of a session, for reports.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SocketSummary {
    /// Namespace.
    pub nsp: String,
    /// Socket id, when the capture shows it.
    pub socket_id: Option<String>,
    /// The server refused it (CONNECT_ERROR).
    pub refused: bool,
    /// Restored by connection state recovery (same socket id as the previous session).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recovered: Option<bool>,
}

/// How a session ended.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FindingEnd {
    /// Where the end shows.
    pub at: Mark,
    /// The cause.
    pub cause: Cause,
    /// What the server's Socket.IO/Engine.IO would have reported (`transport close`, ...).
    pub reason: Option<String>,
    /// What the client would have reported.
    pub client_reason: Option<String>,
    /// Who ended it.
    pub initiator: Initiator,
    /// The frames that prove it.
    pub evidence: Vec<Mark>,
    /// One paragraph in plain words.
    pub explanation: String,
    /// A change that avoids it, where one is known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

/// One Engine.IO session and how it ended.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// Session id.
    pub sid: String,
    /// Engine.IO revision (none for socket.io 0.9).
    pub eio: Option<u8>,
    /// Transports in order of use.
    pub transports: Vec<String>,
    /// Client address.
    pub client: String,
    /// Server address.
    pub server: String,
    /// Client `User-Agent`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    /// The handshake.
    pub start: Mark,
    /// Sockets (namespaces).
    pub sockets: Vec<SocketSummary>,
    /// Upgrade progress.
    pub upgrade: UpgradeState,
    /// Where the upgrade got to (the `5` packet, or the step where it stalled).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upgrade_at: Option<Mark>,
    /// Data sent after a close frame (never processed by the peer).
    pub lost: Vec<Mark>,
    /// Socket.IO events per direction (c2s, s2c).
    pub events: [u64; 2],
    /// Faults injected by `sioscope proxy` on the session's connections (pcapng packet comments).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub injected: Vec<Mark>,
    /// The end.
    pub end: FindingEnd,
    /// Other things worth knowing about the session, beside its end.
    pub notes: Vec<Note>,
}

/// A secondary finding about a session (it did not end the session, or explains its end better).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Note {
    /// A stable name: `websocket-blocked`, `upgrade-failed`, `no-sio-disconnect-packet`,
    /// `same-tick-namespace-reconnect`, `shared-manager-drop`, `lost-messages`.
    pub kind: &'static str,
    /// What it means.
    pub text: String,
    /// The frames that show it.
    pub evidence: Vec<Mark>,
}

impl Finding {
    /// True when the session ended in a way nobody asked for.
    pub fn abnormal(&self) -> bool {
        self.end.cause.is_abnormal()
    }
}

/// Everything `explain` concludes about a capture.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Explanation {
    /// One finding per Engine.IO session, in order of handshake.
    pub sessions: Vec<Finding>,
    /// Reconnect chains: sessions of the same client linked in time.
    pub chains: Vec<Chain>,
    /// Error responses that belong to no session (refused handshakes, unknown session ids).
    pub sessionless_errors: Vec<Mark>,
    /// Seconds between the first and the last packet.
    pub duration: f64,
}

impl Explanation {
    /// Number of sessions that ended abnormally.
    pub fn abnormal(&self) -> usize {
        self.sessions.iter().filter(|f| f.abnormal()).count()
    }

    /// True when anything went wrong: an abnormal end, or requests refused outside any session.
    pub fn has_problems(&self) -> bool {
        self.abnormal() > 0 || !self.sessionless_errors.is_empty()
    }
}

fn ms(a: Timestamp, b: Timestamp) -> f64 {
    (b.0 as f64 - a.0 as f64) / 1e6
}

fn initiator_of(dir: Option<Dir>) -> Initiator {
    match dir {
        Some(Dir::C2S) => Initiator::Client,
        Some(Dir::S2C) => Initiator::Server,
        None => Initiator::Unknown,
    }
}

fn side(dir: Option<Dir>) -> &'static str {
    match dir {
        Some(Dir::C2S) => "client",
        Some(Dir::S2C) => "server",
        None => "?",
    }
}

/// Everything the rules look at for one session.
struct Facts<'a> {
    s: &'a SessionRecord,
    /// Connections of the session, in order.
    conns: Vec<&'a ConnRecord>,
    /// The connection that carried the session last (the WebSocket one after an upgrade).
    last_conn: Option<&'a ConnRecord>,
    /// The first way the transport ended: the first close frame, FIN or RST on `last_conn`.
    transport_end: Option<Mark>,
    /// Sessions ending within 100 ms of this one (server-wide shutdown).
    simultaneous: usize,
    open_at_eof: bool,
}

impl<'a> Facts<'a> {
    fn new(s: &'a SessionRecord, t: &'a SessionTracker) -> Self {
        let conns: Vec<&ConnRecord> = s.conns.iter().filter_map(|c| t.conns().get(c)).collect();
        let ws_conn = conns
            .iter()
            .rev()
            .find(|c| c.websocket && c.ws_messages.iter().sum::<u64>() > 0)
            .copied();
        let last_conn = if s.upgrade == UpgradeState::Upgraded
            || s.transports
                .first()
                .is_some_and(|t| t.transport == "websocket")
        {
            ws_conn.or_else(|| conns.last().copied())
        } else {
            conns
                .iter()
                .rev()
                .find(|c| !c.websocket)
                .copied()
                .or_else(|| conns.last().copied())
        };
        let mut candidates: Vec<Mark> = vec![];
        if let Some(c) = last_conn {
            candidates.extend(c.fin.clone());
            candidates.extend(c.rst.clone());
        }
        if let Some(first_close) = s.ws_closes.first() {
            candidates.push(first_close.at.clone());
        }
        let transport_end = candidates.into_iter().min_by_key(|m| m.frame);
        let open_at_eof =
            last_conn.is_some_and(|c| c.open_at_eof && c.fin.is_none() && c.rst.is_none());
        Facts {
            s,
            conns,
            last_conn,
            transport_end,
            simultaneous: 0,
            open_at_eof,
        }
    }

    fn close_with(&self, codes: &[u16]) -> Option<&crate::session::CloseFrame> {
        self.s
            .ws_closes
            .iter()
            .find(|c| c.code.is_some_and(|x| codes.contains(&x)))
    }

    fn disconnect(&self, dir: Dir) -> Option<Mark> {
        self.s
            .sockets
            .iter()
            .filter_map(|k| k.disconnect.clone())
            .filter(|m| m.dir == Some(dir))
            .min_by_key(|m| m.frame)
    }

    fn end_mark(&self) -> Mark {
        self.transport_end
            .clone()
            .unwrap_or_else(|| self.s.last.clone())
    }
}

#[allow(clippy::too_many_arguments)] // one argument per field of the finding
fn end(
    at: Mark,
    cause: Cause,
    reason: Option<&str>,
    client_reason: Option<&str>,
    initiator: Initiator,
    evidence: Vec<Mark>,
    explanation: String,
    fix: Option<&str>,
) -> FindingEnd {
    FindingEnd {
        at,
        cause,
        reason: reason.map(str::to_string),
        client_reason: client_reason.map(str::to_string),
        initiator,
        evidence,
        explanation,
        fix: fix.map(str::to_string),
    }
}

fn close_text(c: &crate::session::CloseFrame) -> String {
    match c.code {
        Some(code) => format!(
            "close {code}{}",
            if c.reason.is_empty() {
                String::new()
            } else {
                format!(" {:?}", c.reason)
            }
        ),
        None => "close (no status code)".to_string(),
    }
}

fn rule_deflate(f: &Facts) -> Option<FindingEnd> {
    let s = f.s;
    let close = f.close_with(&[1007]);
    let own_failure = s.inflate_failures.first();
    if close.is_none() && own_failure.is_none() {
        return None;
    }
    // The failing message travelled towards the side that sent 1007.
    let closer = close.and_then(|c| c.at.dir);
    let msg_dir = match closer {
        Some(Dir::S2C) | None => 0,
        Some(Dir::C2S) => 1,
    };
    let failing = own_failure.or(s.big_messages[msg_dir].as_ref().filter(|m| m.compressed));
    let mut evidence = vec![];
    let mut story = String::new();
    if let Some(m) = failing {
        let mut at = m.at.clone();
        at.what = format!(
            "{} compressed message: {} bytes on the wire in {} frame{}{}",
            side(at.dir),
            m.wire_len,
            m.frames,
            if m.frames == 1 {
                ""
            } else {
                "s (RSV1 on the first, continuation frames after: one deflate stream)"
            },
            m.first_frame
                .map(|f| format!(", frames {f}–{}", at.frame))
                .unwrap_or_default()
        );
        evidence.push(at);
        match &m.inflate_error {
            Some(e) => story.push_str(&format!(
                "sioscope could not inflate it either ({e}): the compressed bytes on the wire are corrupt. "
            )),
            None => story.push_str(&format!(
                "sioscope inflated the same message with the negotiated parameters: OK, {} bytes. The bytes on the wire are valid; the receiver's inflater failed{}. ",
                m.len,
                if m.frames > 1 { " on a fragmented compressed message (a known bug of old ws versions, fixed in ws 1.0.1 / socket.io 1.4)" } else { "" }
            )),
        }
    }
    if let Some(c) = close {
        let mut at = c.at.clone();
        at.what = format!(
            "{} sends {} (invalid payload data: it could not inflate the message)",
            side(at.dir),
            close_text(c)
        );
        evidence.push(at);
    }
    let corrupt = failing.is_some_and(|m| m.inflate_error.is_some());
    let receiver = if msg_dir == 0 { "server" } else { "client" };
    let mut explanation = format!(
        "The {receiver} failed to inflate a permessage-deflate message and closed the WebSocket with 1007. Engine.IO reports this only as \"transport error\"; the client then reconnects with a new session id, and state keyed by the old socket id is lost. "
    );
    explanation.push_str(&story);
    if let Some(c) = f.last_conn {
        if c.fin
            .as_ref()
            .zip(close)
            .is_some_and(|(fin, cl)| ms(cl.at.ts, fin.ts) > 1000.0)
        {
            explanation.push_str(&format!(
                "The TCP connection stayed open {:.1} s after the close frame; everything sent in that window was lost. ",
                c.fin.as_ref().zip(close).map(|(fin, cl)| ms(cl.at.ts, fin.ts) / 1000.0).unwrap_or(0.0)
            ));
        }
    }
    let fix = if corrupt {
        "Find what corrupts the compressed frames on the path (a proxy or security software rewriting WebSocket payloads); meanwhile `perMessageDeflate: false` on the server avoids compression altogether."
    } else {
        "Upgrade the server's ws / socket.io, or set `perMessageDeflate: false` on the server."
    };
    Some(end(
        close.map(|c| c.at.clone()).unwrap_or_else(|| f.end_mark()),
        Cause::DeflateError,
        Some("transport error"),
        Some("transport close"),
        close.map_or(Initiator::Unknown, |c| initiator_of(c.at.dir)),
        evidence,
        explanation,
        Some(fix),
    ))
}

fn rule_too_large(f: &Facts) -> Option<FindingEnd> {
    let s = f.s;
    let close = f.close_with(&[1009]);
    let http413 = s
        .http_errors
        .iter()
        .find(|m| m.what.starts_with("HTTP 413"));
    if close.is_none() && http413.is_none() {
        return None;
    }
    let mut evidence = vec![];
    let big = s.big_messages[0].as_ref().or(s.big_messages[1].as_ref());
    if let Some(m) = big {
        let mut at = m.at.clone();
        at.what = format!(
            "{} message of {} bytes",
            side(at.dir),
            m.len.max(m.wire_len)
        );
        evidence.push(at);
    }
    let limit = s
        .max_payload
        .map(|p| format!(" (the open packet's maxPayload is {p} bytes)"))
        .unwrap_or_default();
    if let Some(c) = close {
        let mut at = c.at.clone();
        at.what = format!(
            "{} sends {} (message too big){limit}",
            side(at.dir),
            close_text(c)
        );
        evidence.push(at);
    }
    if let Some(h) = http413 {
        let mut at = h.clone();
        at.what = format!("{}{limit}", h.what);
        evidence.push(at);
    }
    let largest = s.largest[0].max(s.largest[1]);
    Some(end(
        close.map(|c| c.at.clone()).or_else(|| http413.cloned()).unwrap_or_else(|| f.end_mark()),
        Cause::MessageTooLarge,
        // ws: the receiver errors out (1009); polling: the client closes after the 413
        Some(if close.is_some() { "transport error" } else { "transport close" }),
        Some("transport close"),
        Initiator::Server,
        evidence,
        format!(
            "A message of {largest} bytes exceeded the server's limit{limit}, so the server closed the transport. The client reconnects with a new session id; the message is lost."
        ),
        Some("Raise `maxHttpBufferSize` on the server, or send large data in chunks (or over HTTP)."),
    ))
}

fn rule_session_unknown(f: &Facts) -> Option<FindingEnd> {
    let e =
        f.s.http_errors
            .iter()
            .find(|m| m.what.contains("\"code\":1") || m.what.contains("Session ID unknown"))?;
    // A 400 after an unanswered ping's deadline is the aftermath of a ping timeout: the server
    // had already dropped the session when the (frozen) client came back.
    let unanswered =
        f.s.last_ping
            .as_ref()
            .filter(|_| f.s.last_pong.is_none())
            .or(f.s.unanswered_ping.as_ref());
    if let (Some(p), Some(timeout)) = (unanswered, f.s.ping_timeout) {
        if e.frame > p.frame && ms(p.ts, e.ts) > timeout as f64 {
            return None;
        }
    }
    Some(end(
        e.clone(),
        Cause::SessionUnknown,
        // the server that owns the session never hears from the client again
        Some("ping timeout"),
        Some("transport error"),
        Initiator::Server,
        vec![e.clone()],
        "A request carried this session id to a server that did not know it (HTTP 400, code 1 \"Session ID unknown\"). Behind a load balancer without sticky sessions, the requests of one session land on different server processes.".to_string(),
        Some("Enable sticky sessions (cookie or IP hash) in the load balancer, or use `transports: [\"websocket\"]` on the client."),
    ))
}

fn rule_parse(f: &Facts) -> Option<FindingEnd> {
    // A packet sioscope could not decode either, followed (within 2 s) by the other side ending
    // the transport: the receiver gave up on it. Or an explicit protocol-error close code.
    let parse_anomaly =
        f.s.anomalies
            .iter()
            .find(|m| m.what.starts_with("eio-") || m.what.starts_with("sio-"));
    let coded = f.close_with(&[1002, 1003]).map(|c| {
        let mut m = c.at.clone();
        m.what = format!("{} sends {}", side(m.dir), close_text(c));
        m
    });
    let after_bad = parse_anomaly.and_then(|a| {
        f.transport_end.clone().filter(|t| {
            t.frame >= a.frame && t.dir.is_some() && t.dir != a.dir && ms(a.ts, t.ts) <= 2000.0
        })
    });
    let close = coded.or(after_bad)?;
    let mut evidence = vec![];
    if let Some(a) = parse_anomaly {
        let mut a = a.clone();
        a.what = format!(
            "{} sends a packet that cannot be decoded: {}",
            side(a.dir),
            a.what
        );
        evidence.push(a);
    }
    let mut at = close.clone();
    if !at.what.contains("sends") {
        at.what = format!("{} ends the transport: {}", side(at.dir), at.what);
    }
    evidence.push(at);
    // socket.io 3/4 report a decoding failure as "forced close" (observed with 4.8.4).
    let reason = match (flavour(f.s), f.s.eio) {
        (Flavour::Node, Some(4)) => "forced close",
        _ => "parse error",
    };
    Some(end(
        close.clone(),
        Cause::ParseError,
        Some(reason),
        Some("transport close"),
        initiator_of(close.dir),
        evidence,
        format!(
            "The {} sent a packet that does not decode (sioscope cannot decode it either), and the {} closed the connection right after. Fix the sender's encoding; a custom parser on one side only also looks like this.",
            side(parse_anomaly.and_then(|a| a.dir)),
            side(close.dir)
        ),
        None,
    ))
}

/// The server implementation, for the reason strings it reports.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Flavour {
    /// node `socket.io` 1.x–4.x.
    Node,
    /// python-socketio (served by aiohttp and friends).
    Python,
    /// socket.io 0.9.
    Legacy,
}

fn flavour(s: &SessionRecord) -> Flavour {
    if s.eio.is_none() {
        return Flavour::Legacy;
    }
    match &s.server_software {
        Some(v)
            if v.contains("Python")
                || v.contains("aiohttp")
                || v.contains("uvicorn")
                || v.contains("hypercorn") =>
        {
            Flavour::Python
        }
        _ => Flavour::Node,
    }
}

fn rule_disconnect(f: &Facts) -> Option<FindingEnd> {
    // The session ends by DISCONNECT only when every namespace's latest socket was disconnected
    // (a namespace that disconnects and connects again keeps the session going).
    let mut latest: Vec<&crate::session::SocketRecord> = vec![];
    for k in &f.s.sockets {
        match latest.iter_mut().find(|l| l.nsp == k.nsp) {
            Some(l) => *l = k,
            None => latest.push(k),
        }
    }
    if latest.is_empty() || latest.iter().any(|k| k.disconnect.is_none()) {
        return None;
    }
    let server = f.disconnect(Dir::S2C);
    let client = f.disconnect(Dir::C2S);
    let (m, cause) = match (server, client) {
        (Some(s), Some(c)) if s.frame < c.frame => (s, Cause::ServerDisconnect),
        (_, Some(c)) => (c, Cause::ClientDisconnect),
        (Some(s), None) => (s, Cause::ServerDisconnect),
        (None, None) => return None,
    };
    let nsps: Vec<&str> =
        f.s.sockets
            .iter()
            .filter(|k| k.disconnect.is_some())
            .map(|k| k.nsp.as_str())
            .collect();
    let mut at = m.clone();
    at.what = format!(
        "{} sends Socket.IO DISCONNECT for {}",
        side(m.dir),
        nsps.join(", ")
    );
    let mut evidence = vec![at];
    if let Some(t) = &f.transport_end {
        if t.frame > m.frame {
            evidence.push(t.clone());
        }
    }
    let fl = flavour(f.s);
    let (server_reason, client_reason) = match (cause, fl) {
        (_, Flavour::Legacy) => ("booted", "booted"),
        (Cause::ServerDisconnect, Flavour::Python) => ("server disconnect", "io server disconnect"),
        (_, Flavour::Python) => ("client disconnect", "io client disconnect"),
        (Cause::ServerDisconnect, Flavour::Node) => {
            ("server namespace disconnect", "io server disconnect")
        }
        (_, Flavour::Node) => ("client namespace disconnect", "io client disconnect"),
    };
    Some(match cause {
        Cause::ServerDisconnect => end(
            m,
            cause,
            Some(server_reason),
            Some(client_reason),
            Initiator::Server,
            evidence,
            "The server disconnected the socket on purpose (`socket.disconnect()` on the server). The client does not reconnect by itself after this reason.".to_string(),
            None,
        ),
        _ => end(
            m,
            cause,
            Some(server_reason),
            Some(client_reason),
            Initiator::Client,
            evidence,
            "The client disconnected on purpose (`socket.disconnect()`).".to_string(),
            None,
        ),
    })
}

/// Ping timeout: the heartbeat's answer never came within `pingTimeout`.
fn rule_ping(f: &Facts) -> Option<FindingEnd> {
    let s = f.s;
    let timeout = s.ping_timeout? as f64;
    let interval = s.ping_interval.unwrap_or(0) as f64;
    let end_m = f.end_mark();
    // The pinging side: the server from Engine.IO v4 on, the client before.
    let server_pings = s.eio.unwrap_or(4) >= 4;
    let ping = s
        .last_ping
        .as_ref()
        .filter(|_| s.last_pong.is_none())
        .or(s.unanswered_ping.as_ref());
    if let Some(p) = ping {
        let waited = ms(p.ts, end_m.ts);
        if waited >= timeout * 0.9 {
            let mut pm = p.clone();
            pm.what = format!(
                "{} ping, never answered (pingTimeout {} ms: answer due at +{:.0} ms)",
                side(p.dir),
                timeout,
                timeout
            );
            let mut em = end_m.clone();
            em.what = format!(
                "{} ends the transport {:.0} ms after the ping: {}",
                side(em.dir),
                waited,
                em.what
            );
            // The v4 client notices on its own over polling ("ping timeout"); over WebSocket it
            // sees the server's close first ("transport close"). v3 clients ping themselves.
            let on_polling = s
                .transports
                .last()
                .is_some_and(|t| t.transport == "polling");
            let (reason, client_reason) = if server_pings && !on_polling {
                ("ping timeout", "transport close")
            } else {
                ("ping timeout", "ping timeout")
            };
            return Some(end(
                end_m.clone(),
                Cause::PingTimeout,
                Some(reason),
                Some(client_reason),
                initiator_of(p.dir),
                vec![pm, em],
                format!(
                    "The {} sent a heartbeat ping and got no pong within pingTimeout ({timeout:.0} ms), so it closed the session. The classic cause is a frozen {} (a blocked event loop, a suspended tab) or a path that stopped delivering data while TCP stayed up.",
                    side(p.dir),
                    if p.dir == Some(Dir::S2C) { "client" } else { "server" }
                ),
                Some("Find what blocks the peer's event loop; if pauses are expected, raise pingTimeout/pingInterval on the server."),
            ));
        }
    }
    // Silence: no packet from the pinging side for pingInterval + pingTimeout before the end.
    if interval > 0.0 {
        let pinger = if server_pings { 1 } else { 0 };
        let last = s.last_packet[pinger]
            .as_ref()
            .map(|m| m.ts)
            .unwrap_or(s.opened.ts);
        let silent = ms(last, end_m.ts);
        if silent >= (interval + timeout) * 0.95 && end_m.dir.map(|d| d as usize) != Some(pinger) {
            return Some(end(
                end_m.clone(),
                Cause::PingTimeout,
                Some(if server_pings { "transport close" } else { "ping timeout" }),
                Some("ping timeout"),
                initiator_of(end_m.dir),
                vec![end_m],
                format!(
                    "No heartbeat arrived for {silent:.0} ms (pingInterval {interval:.0} + pingTimeout {timeout:.0} ms), so the waiting side gave up."
                ),
                None,
            ));
        }
    }
    None
}

fn rule_blocked(f: &Facts) -> Option<FindingEnd> {
    // Only when the session never got onto its WebSocket: a session that stayed on polling
    // ends for another reason, and the blocked WebSocket is a note.
    if f.s.upgrade == UpgradeState::Upgraded
        || f.s
            .transports
            .first()
            .is_some_and(|t| t.transport == "polling")
    {
        return None;
    }
    rule_blocked_any(f)
}

/// A WebSocket connection of the session that was torn down (FIN/RST) within 2 s of its `101`
/// without carrying a single frame: the upgrade failed rather than being silently swallowed.
fn torn_down<'a>(f: &Facts<'a>) -> Option<(&'a ConnRecord, Mark)> {
    f.conns
        .iter()
        .copied()
        .find_map(|c| conn_torn(c).map(|m| (c, m)))
}

/// The FIN/RST that ended a WebSocket connection within 2 s of its `101`, with no frame.
fn conn_torn(c: &ConnRecord) -> Option<Mark> {
    let switched = c.switched.as_ref()?;
    let end = [c.rst.clone(), c.fin.clone()]
        .into_iter()
        .flatten()
        .min_by_key(|m| m.frame)?;
    (c.ws_messages == [0, 0] && ms(switched.ts, end.ts) <= 2000.0).then_some(end)
}

fn rule_blocked_any(f: &Facts) -> Option<FindingEnd> {
    // A 101 for this session after which frames stopped in at least one direction, while the
    // connection stayed up (a connection torn down at once is a failed upgrade instead).
    let c = f.conns.iter().find(|c| {
        c.websocket && (c.ws_messages[0] == 0 || c.ws_messages[1] == 0) && conn_torn(c).is_none()
    })?;
    if f.s.upgrade == UpgradeState::Upgraded {
        return None;
    }
    let switched = c.switched.clone()?;
    let mut evidence = vec![switched.clone()];
    for (i, name) in [(0usize, "client"), (1, "server")] {
        let what = match &c.last_data[i] {
            Some(m) if m.frame > switched.frame || (i == 1 && m.frame == switched.frame) => {
                format!("last bytes from the {name}: {} (frame {})", m.what, m.frame)
            }
            _ => format!("no WebSocket frame from the {name} after the 101"),
        };
        // Cite the last bytes when they came after the 101, else the 101 itself.
        let mut m = c.last_data[i]
            .clone()
            .filter(|d| d.frame >= switched.frame)
            .unwrap_or_else(|| switched.clone());
        m.what = what;
        m.dir = Some(if i == 0 { Dir::C2S } else { Dir::S2C });
        evidence.push(m);
    }
    let end_at = c.closed.clone().unwrap_or_else(|| f.s.last.clone());
    let silence = ms(switched.ts, end_at.ts) / 1000.0;
    let mut e = end_at.clone();
    e.what = format!(
        "{:.1} s of silence after the 101, then {}",
        silence,
        if c.open_at_eof {
            "the capture ends".to_string()
        } else {
            "the connection closes".to_string()
        }
    );
    evidence.push(e);
    let stayed_polling = f
        .conns
        .iter()
        .any(|k| !k.websocket && k.opened.frame > switched.frame);
    Some(end(
        f.end_mark(),
        Cause::WebsocketBlocked,
        Some(if stayed_polling { "transport close" } else { "ping timeout" }),
        Some(if stayed_polling { "transport close" } else { "connect_error: timeout" }),
        Initiator::Network,
        evidence,
        format!(
            "The server answered 101 Switching Protocols, then no WebSocket frame got through{}. Something between the client and the server (security software, a proxy on port 80) swallows WebSocket traffic after the upgrade.{}",
            if c.ws_messages == [0, 0] { " in either direction" } else { " in one direction" },
            if stayed_polling { " The session kept working over HTTP long-polling." } else { "" }
        ),
        Some("Serve over TLS (wss on 443) so middleboxes cannot inspect the frames, or keep clients on polling (`transports: [\"polling\"]`)."),
    ))
}

fn rule_upgrade_failed(f: &Facts) -> Option<FindingEnd> {
    let s = f.s;
    if s.upgrade != UpgradeState::Upgraded {
        if let Some((c, end_m)) = torn_down(f) {
            let mut sw = c.switched.clone().unwrap_or_else(|| end_m.clone());
            sw.what = "101 Switching Protocols for the upgrade request".to_string();
            let rst = c.rst.as_ref().is_some_and(|r| r.frame == end_m.frame);
            let mut e = end_m.clone();
            e.what = format!(
                "{} {} the WebSocket connection {:.0} ms later, before any frame",
                side(e.dir),
                if rst { "resets" } else { "closes" },
                ms(sw.ts, e.ts)
            );
            return Some(end(
                f.end_mark(),
                Cause::UpgradeFailed,
                Some("transport close"),
                Some("transport close"),
                Initiator::Network,
                vec![sw, e],
                "The polling → WebSocket upgrade failed: the WebSocket connection was torn down right after 101 Switching Protocols, before the probe. The client stays on polling (engine.io-client reports \"probe error\").".to_string(),
                Some("Find what closes WebSocket connections after the upgrade (a proxy without WebSocket support, a load balancer rule); wss on 443 often passes where ws does not."),
            ));
        }
    }
    if !matches!(
        s.upgrade,
        UpgradeState::ProbeSent | UpgradeState::ProbeAnswered
    ) {
        return None;
    }
    let m = s.upgrade_mark.clone()?;
    let stalled = match s.upgrade {
        UpgradeState::ProbeSent => "the server never answered the client's 2probe with 3probe",
        _ => "the client got 3probe but never sent the upgrade packet 5",
    };
    Some(end(
        f.end_mark(),
        Cause::UpgradeFailed,
        Some("transport close"),
        Some("transport close"),
        Initiator::Unknown,
        vec![m],
        format!("The polling → WebSocket upgrade stalled: {stalled}."),
        None,
    ))
}

fn rule_graceful_close(f: &Facts) -> Option<FindingEnd> {
    let s = f.s;
    // An Engine.IO close packet, or a close frame, without a Socket.IO DISCONNECT before it.
    let eio = s.eio_close.clone();
    let first_close = s.ws_closes.first().map(|c| {
        let mut m = c.at.clone();
        m.what = format!("{} sends {}", side(m.dir), close_text(c));
        m
    });
    let m = match (eio, first_close) {
        (Some(a), Some(b)) => {
            if a.frame <= b.frame {
                a
            } else {
                b
            }
        }
        (Some(a), None) => a,
        (None, Some(b)) => b,
        (None, None) => return None,
    };
    match m.dir {
        Some(Dir::C2S) => Some(end(
            m.clone(),
            Cause::ClientDisconnect,
            Some("transport close"),
            Some("io client disconnect"),
            Initiator::Client,
            vec![m],
            "The client closed the transport itself without a Socket.IO DISCONNECT (python-socketio's `disconnect()` does this); the server reports \"transport close\" although the client left on purpose.".to_string(),
            None,
        )),
        _ => Some(end(
            m.clone(),
            Cause::ServerShutdown,
            Some(if f.simultaneous > 1 { "server shutting down" } else { "forced close" }),
            Some("transport close"),
            Initiator::Server,
            vec![m],
            format!(
                "The server closed the session without a Socket.IO DISCONNECT{}. Clients see \"transport close\" and reconnect.",
                if f.simultaneous > 1 { format!(", together with {} other session(s) within 100 ms: the server was shutting down (`io.close()`)", f.simultaneous - 1) } else { String::new() }
            ),
            None,
        )),
    }
}

fn rule_transport(f: &Facts) -> Option<FindingEnd> {
    let t = f.transport_end.clone()?;
    let c = f.last_conn?;
    let rst = c.rst.as_ref().is_some_and(|r| r.frame == t.frame);
    let mut m = t.clone();
    m.what = format!(
        "{} sends {} without any Socket.IO/Engine.IO close",
        side(t.dir),
        if rst { "TCP RST" } else { "TCP FIN" }
    );
    let idle = c
        .last_data
        .iter()
        .flatten()
        .filter(|d| d.frame < t.frame)
        .map(|d| d.ts)
        .max();
    let mut evidence = vec![m];
    let mut extra = String::new();
    if let Some(idle_since) = idle {
        let gap = ms(idle_since, t.ts) / 1000.0;
        if gap > 5.0 {
            extra = format!(" The connection was idle for {gap:.1} s before it closed: an idle timeout in a proxy or load balancer in between would look like this.");
        }
    }
    if let Some(last) = c
        .last_data
        .iter()
        .flatten()
        .filter(|d| d.frame < t.frame)
        .max_by_key(|d| d.frame)
    {
        let mut l = last.clone();
        l.what = format!("last data before the end: {}", l.what);
        evidence.insert(0, l);
    }
    Some(end(
        t.clone(),
        if rst { Cause::TransportError } else { Cause::TransportClose },
        Some(if rst { "transport error" } else { "transport close" }),
        Some("transport close"),
        initiator_of(t.dir),
        evidence,
        format!(
            "The TCP connection was {} by the {} with no protocol-level goodbye: the {} process died or closed its socket, or something in between cut the connection.{extra}",
            if rst { "reset" } else { "closed" },
            side(t.dir),
            side(t.dir)
        ),
        None,
    ))
}

fn classify(f: &Facts) -> FindingEnd {
    let rules: [fn(&Facts) -> Option<FindingEnd>; 10] = [
        rule_deflate,
        rule_too_large,
        rule_session_unknown,
        rule_parse,
        rule_disconnect,
        rule_blocked,
        rule_ping,
        rule_upgrade_failed,
        rule_graceful_close,
        rule_transport,
    ];
    if let Some(e) = rules.iter().find_map(|r| r(f)) {
        return e;
    }
    let at = f.s.last.clone();
    end(
        at.clone(),
        Cause::StillOpen,
        None,
        None,
        Initiator::Unknown,
        vec![at],
        if f.open_at_eof {
            "The capture ended while the session was still open.".to_string()
        } else {
            "The capture shows no end for this session.".to_string()
        },
        None,
    )
}

/// Explains every session the tracker saw.
pub fn explain(t: &SessionTracker) -> Explanation {
    explain_where(t, |_| true)
}

/// Explains only the sessions named in `sids` (a live run explains the sessions a closing
/// connection carried, not every session again). Simultaneous ends are still counted against
/// every session of the tracker; reconnect chains link the chosen sessions only.
pub fn explain_sessions(t: &SessionTracker, sids: &BTreeSet<String>) -> Explanation {
    explain_where(t, |s| sids.contains(&s.sid))
}

fn explain_where(t: &SessionTracker, keep: impl Fn(&SessionRecord) -> bool) -> Explanation {
    let all: Vec<Facts> = t.sessions().iter().map(|s| Facts::new(s, t)).collect();
    // Simultaneity: sessions whose transport ended within 100 ms of each other.
    let ends: Vec<Timestamp> = all
        .iter()
        .filter_map(|f| f.transport_end.as_ref().map(|m| m.ts))
        .collect();
    let mut facts: Vec<Facts> = all.into_iter().filter(|f| keep(f.s)).collect();
    for f in facts.iter_mut() {
        if let Some(e) = f.transport_end.as_ref().map(|m| m.ts) {
            f.simultaneous = ends.iter().filter(|x| ms(**x, e).abs() <= 100.0).count();
        }
    }
    let mut sessions: Vec<Finding> = facts
        .iter()
        .map(|f| {
            let s = f.s;
            Finding {
                sid: s.sid.clone(),
                eio: s.eio,
                transports: s.transports.iter().map(|t| t.transport.clone()).collect(),
                client: s.client.clone(),
                server: s.server.clone(),
                user_agent: s.user_agent.clone(),
                start: s.opened.clone(),
                sockets: s
                    .sockets
                    .iter()
                    .map(|k| SocketSummary {
                        nsp: k.nsp.clone(),
                        socket_id: k.socket_id.clone(),
                        refused: k.refused,
                        recovered: None,
                    })
                    .collect(),
                upgrade: s.upgrade,
                upgrade_at: s.upgrade_mark.clone(),
                lost: s.lost_after_close.clone(),
                injected: s
                    .anomalies
                    .iter()
                    .filter(|m| m.what.starts_with("injected-fault:"))
                    .cloned()
                    .collect(),
                events: s.events,
                end: classify(f),
                notes: vec![],
            }
        })
        .collect();
    for (f, finding) in facts.iter().zip(sessions.iter_mut()) {
        finding.notes = notes(f, &finding.end);
    }
    let records: Vec<&SessionRecord> = facts.iter().map(|f| f.s).collect();
    let chains = build_chains(&records, &mut sessions);
    let duration = t.span().map(|(a, b)| ms(a, b) / 1000.0).unwrap_or(0.0);
    Explanation {
        sessions,
        chains,
        sessionless_errors: t.sessionless_errors.clone(),
        duration,
    }
}

/// Secondary findings: what else the session shows, beside (or behind) its end.
fn notes(f: &Facts, end: &FindingEnd) -> Vec<Note> {
    let s = f.s;
    let mut out = vec![];
    if end.cause != Cause::WebsocketBlocked {
        if let Some(b) = rule_blocked_any(f) {
            out.push(Note {
                kind: "websocket-blocked",
                text: b.explanation,
                evidence: b.evidence,
            });
        }
    }
    if end.cause != Cause::UpgradeFailed {
        if let Some(u) = rule_upgrade_failed(f) {
            out.push(Note {
                kind: "upgrade-failed",
                text: u.explanation,
                evidence: u.evidence,
            });
        }
    }
    // The client left without a Socket.IO DISCONNECT packet (python-socketio does this).
    if end.cause == Cause::ClientDisconnect && f.disconnect(Dir::C2S).is_none() {
        out.push(Note {
            kind: "no-sio-disconnect-packet",
            text: "The client closed the transport without sending a Socket.IO DISCONNECT packet first, so the server reports \"transport close\" instead of \"client namespace disconnect\".".to_string(),
            evidence: end.evidence.clone(),
        });
    }
    // One namespace disconnected and connected again within a few ms (one tick of the client).
    for (i, k) in s.sockets.iter().enumerate() {
        let Some(d) = k.disconnect.as_ref().filter(|d| d.dir == Some(Dir::C2S)) else {
            continue;
        };
        let again = s
            .sockets
            .iter()
            .skip(i + 1)
            .find(|n| n.nsp == k.nsp)
            .and_then(|n| n.connect.clone());
        if let Some(c) = again {
            if ms(d.ts, c.ts) <= 10.0 {
                let mut dm = d.clone();
                dm.what = format!("client DISCONNECT {}", k.nsp);
                let mut cm = c.clone();
                cm.what = format!(
                    "client CONNECT {} again {:.1} ms later",
                    k.nsp,
                    ms(d.ts, c.ts)
                );
                out.push(Note {
                    kind: "same-tick-namespace-reconnect",
                    text: format!(
                        "The client disconnected and reconnected namespace {} in the same tick. socket.io 4.8 answers this by closing the whole Engine.IO connection, so every namespace sharing this Manager dropped with it ({} namespace(s)).",
                        k.nsp,
                        s.sockets.iter().map(|x| x.nsp.as_str()).collect::<std::collections::BTreeSet<_>>().len()
                    ),
                    evidence: vec![dm, cm],
                });
                break;
            }
        }
    }
    // Several namespaces on one Engine.IO session dropped together (shared Manager).
    let nsps: std::collections::BTreeSet<&str> = s.sockets.iter().map(|k| k.nsp.as_str()).collect();
    if nsps.len() > 1 && end.cause.is_abnormal() && end.cause != Cause::StillOpen {
        out.push(Note {
            kind: "shared-manager-drop",
            text: format!(
                "{} namespaces ({}) share this Engine.IO connection (one Manager): they all dropped together when it ended.",
                nsps.len(),
                nsps.iter().copied().collect::<Vec<_>>().join(", ")
            ),
            evidence: vec![end.at.clone()],
        });
    }
    if !s.lost_after_close.is_empty() {
        out.push(Note {
            kind: "lost-messages",
            text: format!(
                "{} message(s) were sent after the session had ended (after a close frame, or refused because the session was gone) and never processed by the peer.",
                s.lost_after_close.len()
            ),
            evidence: s.lost_after_close.iter().take(5).cloned().collect(),
        });
    }
    out
}
