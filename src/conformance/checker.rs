//! The fold: one pass over the event stream, keeping per connection, session and namespace the
//! little state each sequence rule needs, and counting for every (side, rule) how many times the
//! rule was checked and how many times it was broken.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap, VecDeque};

use super::namespace::SioState;
use super::rule::{rule_of_anomaly, Rule, Side, ALL_RULES};
use super::{Note, RuleResult, Violation};
use crate::event::{Body, Dir, EioInfo, Event, HttpInfo, SioInfo, TcpInfo, Timestamp, WsInfo};

/// Offending frames kept per (side, rule); counts go on.
pub const MAX_EXAMPLES: usize = 5;
/// Notes about the capture kept.
const MAX_NOTES: usize = 32;
/// Sessions whose per-namespace state is kept; more are checked for framing only.
const MAX_SESSIONS: usize = 100_000;
/// An ended session's state is forgotten this long (capture time) after its end: long enough
/// for packets in flight to be judged against it, short enough to keep memory flat.
/// A session ended by its pinging side with a ping outstanding for at least this fraction of
/// pingTimeout (3/4) is that side giving up on the pong (see `Checker::end_session`): the rest of
/// the window absorbs capture jitter (up to 5 % seen on the engine.io-protocol suite).
const GAVE_UP: (u64, u64) = (3, 4);
const FORGET_AFTER_NS: u64 = 120 * 1_000_000_000;

#[derive(Default)]
struct Tally {
    checked: u64,
    violations: u64,
    first: Vec<Violation>,
}

#[derive(Default)]
struct SessionState {
    eio: Option<u8>,
    ping_timeout: Option<u64>,
    max_payload: Option<u64>,
    /// Requests in flight by method (GET, POST).
    gets: u32,
    posts: u32,
    /// The client sent `5` (upgrade): polling is over.
    upgraded: bool,
    /// WebSocket requests made for this session.
    websockets: u32,
    /// The WebSocket connection that carries the session (the one the upgrade packet `5` or,
    /// WebSocket-only, the open packet travelled on). Another WebSocket of the same sid (a second
    /// one the server rejected) closing does not end the session.
    transport_conn: Option<u64>,
    /// Engine.IO close sent, per side [client, server].
    closed: [bool; 2],
    /// The session is over (no more pings owed).
    ended: bool,
    /// Outstanding pings: sequence numbers per direction of the ping.
    ping_seq: u64,
    /// (sequence, direction of the ping, conn it travelled on, its frame, when it was seen).
    unanswered: VecDeque<(u64, Dir, u64, u64, Timestamp)>,
    /// Namespaces and acks.
    sio: SioState,
}

#[derive(Default)]
struct ConnState {
    /// The server address: sessions are keyed by it too, so that the two legs of a relay (the
    /// same sid seen twice) are checked apart.
    server: String,
    /// WebSocket frames seen per direction [c2s, s2c].
    frames: [u64; 2],
    /// Requests awaiting a response: (method, polling sid).
    pending: VecDeque<(String, Option<String>)>,
    /// 101 seen: the connection carries WebSocket frames.
    websocket: bool,
    /// The session the WebSocket carries and whether it is an upgrade of a polling session.
    ws_sid: Option<String>,
    upgrade: bool,
    probe_sent: bool,
    probe_answered: bool,
    server_spoke: bool,
}

fn si(side: Side) -> usize {
    match side {
        Side::Client => 0,
        Side::Server => 1,
    }
}

/// Folds events into rule tallies. Feed it every event, in capture order, then call
/// [`Checker::finish`].
#[derive(Default)]
pub struct Checker {
    tallies: BTreeMap<(Side, Rule), Tally>,
    conns: HashMap<u64, ConnState>,
    sessions: HashMap<String, SessionState>,
    /// The session keys of each sid (one per server address it was seen on).
    keys_of_sid: HashMap<String, Vec<String>>,
    /// Ended sessions in order of their end: (when, key), forgotten after [`FORGET_AFTER_NS`].
    ended: VecDeque<(Timestamp, String)>,
    /// The time of the event being folded.
    now: Timestamp,
    /// Ping deadlines: (deadline, sid, ping sequence number, frame of the ping).
    deadlines: BinaryHeap<Reverse<(Timestamp, String, u64, u64)>>,
    notes: Vec<Note>,
    notes_total: u64,
}

impl Checker {
    /// An empty checker.
    pub fn new() -> Self {
        Self::default()
    }

    fn check(&mut self, side: Side, rule: Rule) {
        self.tallies.entry((side, rule)).or_default().checked += 1;
    }

    fn violate(&mut self, side: Side, rule: Rule, ev: &Event, sid: Option<&str>, detail: String) {
        let t = self.tallies.entry((side, rule)).or_default();
        t.violations += 1;
        if t.first.len() < MAX_EXAMPLES {
            t.first.push(Violation {
                frame: ev.frame,
                ts: ev.ts,
                conn: ev.conn.0,
                sid: sid.map(|k| k.split('|').next().unwrap_or(k).to_string()),
                detail,
            });
        }
    }

    fn verdict(
        &mut self,
        side: Side,
        rule: Rule,
        ev: &Event,
        sid: Option<&str>,
        ok: Result<(), String>,
    ) {
        self.check(side, rule);
        if let Err(detail) = ok {
            self.violate(side, rule, ev, sid, detail);
        }
    }

    /// The key of a session: its sid on one server address (`sid|server`).
    fn key(&self, conn: u64, sid: &str) -> String {
        let server = self.conns.get(&conn).map_or("", |c| c.server.as_str());
        format!("{sid}|{server}")
    }

    fn session(&mut self, sid: &str) -> Option<&mut SessionState> {
        if !self.sessions.contains_key(sid) {
            if self.sessions.len() >= MAX_SESSIONS {
                return None;
            }
            let bare = sid.split('|').next().unwrap_or(sid).to_string();
            let keys = self.keys_of_sid.entry(bare).or_default();
            if keys.len() < 16 {
                keys.push(sid.to_string());
            }
        }
        Some(self.sessions.entry(sid.to_string()).or_default())
    }

    /// Takes one event.
    pub fn event(&mut self, ev: &Event) {
        if ev.frame > 0 {
            self.now = self.now.max(ev.ts);
        }
        self.expire_pings(ev);
        self.forget_ended();
        match &ev.body {
            Body::Tcp(t) => self.tcp(ev, t),
            Body::Http(h) => self.http(ev, h),
            Body::Ws(w) => self.ws(ev, w),
            Body::Eio { eio } => self.eio(ev, eio, None),
            Body::Sio { eio, sio } => self.eio(ev, eio, Some(sio)),
            Body::Anomaly(a) => match (rule_of_anomaly(a.at, &a.rule), ev.dir) {
                (Some(rule), Some(dir)) => {
                    let detail = format!("{}: {}", a.rule, a.detail);
                    let sid = self.conns.get(&ev.conn.0).and_then(|c| c.ws_sid.clone());
                    self.violate(Side::of(dir), rule, ev, sid.as_deref(), detail);
                }
                _ => self.note(ev.frame, ev.conn.0, &a.rule, a.detail.clone()),
            },
        }
    }

    fn note(&mut self, frame: u64, conn: u64, rule: &str, detail: String) {
        self.notes_total += 1;
        if self.notes.len() < MAX_NOTES {
            self.notes.push(Note {
                frame,
                conn,
                rule: rule.to_string(),
                detail,
            });
        }
    }

    /// Pings whose deadline passed while the capture went on: the answering side broke the rule.
    fn expire_pings(&mut self, ev: &Event) {
        while let Some(Reverse((deadline, _, _, _))) = self.deadlines.peek() {
            if *deadline >= ev.ts {
                break;
            }
            let Some(Reverse((deadline, sid, seq, frame))) = self.deadlines.pop() else {
                break;
            };
            let Some(s) = self.sessions.get_mut(&sid) else {
                continue;
            };
            let Some(pos) = s.unanswered.iter().position(|p| p.0 == seq) else {
                continue; // answered in time
            };
            let Some((_, dir, conn, _, _)) = s.unanswered.remove(pos) else {
                continue;
            };
            if s.ended {
                continue;
            }
            let timeout = s.ping_timeout.unwrap_or(0);
            let detail =
                format!("ping of frame #{frame} not answered within pingTimeout ({timeout} ms)");
            self.unanswered_ping(&sid, dir, conn, frame, deadline, ev, detail);
        }
    }

    /// A ping that got no pong: a `ping-answered` violation of the answering side, unless not one
    /// frame from that side ever arrived on the WebSocket that carried it (then the path between
    /// the peers swallows frames, explain's websocket-blocked, and the peer may never have seen
    /// the ping: a note).
    #[allow(clippy::too_many_arguments)]
    fn unanswered_ping(
        &mut self,
        sid: &str,
        dir: Dir,
        conn: u64,
        frame: u64,
        at: Timestamp,
        ev: &Event,
        detail: String,
    ) {
        let answerer = Side::of(dir.flip());
        let silent = self
            .conns
            .get(&conn)
            .is_some_and(|c| c.websocket && c.frames[si(answerer)] == 0);
        if silent {
            self.note(
                frame,
                conn,
                "ping-over-silent-websocket",
                format!(
                    "ping of frame #{frame} unanswered, but the {} never sent a frame on this WebSocket: the path, not the peer, is suspect",
                    answerer.as_str()
                ),
            );
            return;
        }
        let at_ev = Event {
            frame,
            ts: at,
            ..ev.clone()
        };
        self.violate(answerer, Rule::PingAnswered, &at_ev, Some(sid), detail);
    }

    /// Before a WebSocket's state is dropped: its outstanding pings whose answering side never
    /// sent a frame on it become notes (see [`Checker::expire_pings`]).
    fn settle_silent_pings(&mut self, conn: u64) {
        let Some(c) = self.conns.get(&conn) else {
            return;
        };
        let Some(sid) = c.ws_sid.clone().filter(|_| c.websocket) else {
            return;
        };
        let frames = c.frames;
        let Some(s) = self.sessions.get_mut(&sid) else {
            return;
        };
        let mut settled = vec![];
        s.unanswered.retain(|&(_, dir, on, frame, _)| {
            let silent = on == conn && frames[si(Side::of(dir.flip()))] == 0;
            if silent {
                settled.push((frame, dir));
            }
            !silent
        });
        for (frame, dir) in settled {
            self.note(
                frame,
                conn,
                "ping-over-silent-websocket",
                format!(
                    "ping of frame #{frame} unanswered, but the {} never sent a frame on this WebSocket: the path, not the peer, is suspect",
                    Side::of(dir.flip()).as_str()
                ),
            );
        }
    }

    /// The session ended with the event `ev` (its direction, when it has one, is the side that
    /// ended it). Its outstanding pings are settled, not forgotten: engine.io-protocol
    /// "Heartbeat": "the server sends a `ping` packet and the client has a few seconds (the
    /// `pingTimeout` value) to send a `pong` packet back. If the server does not receive a `pong`
    /// packet back, then it SHOULD consider that the connection is closed." When the pinging side
    /// itself ends the session with its ping still unanswered, it gave up waiting for the pong:
    /// the ping was not answered, whether its close is captured just before or just after the
    /// deadline computed from the captured ping. engine.io starts its timer as it queues the ping
    /// (engine.io@6.6.12 build/socket.js:166-172, `sendPacket("ping")` then `resetPingTimeout()`,
    /// :179-187), so the captured close lands within capture jitter either side of
    /// ping + pingTimeout (the engine.io-protocol suite's own heartbeat tests: 189.6 ms to 208 ms
    /// for pingTimeout 200). A close by the pinging side before [`GAVE_UP`] of pingTimeout had
    /// passed is some other end, and a close by the answering side owes no pong.
    fn end_session(&mut self, sid: &str, ev: &Event) {
        let Some(s) = self.sessions.get_mut(sid) else {
            return;
        };
        if !s.ended {
            self.ended.push_back((self.now, sid.to_string()));
        }
        let was_ended = s.ended;
        s.ended = true;
        let timeout_ns = s.ping_timeout.unwrap_or(0).saturating_mul(1_000_000);
        let timeout = s.ping_timeout.unwrap_or(0);
        let pings: Vec<_> = s.unanswered.drain(..).collect();
        if was_ended || timeout_ns == 0 {
            return;
        }
        let (num, den) = GAVE_UP;
        for (_, dir, conn, frame, ts) in pings {
            let waited = ev.ts.0.saturating_sub(ts.0);
            if ev.dir == Some(dir) && waited.saturating_mul(den) >= timeout_ns.saturating_mul(num) {
                let detail = format!(
                    "ping of frame #{frame} not answered: the pinging side gave up and closed after {} ms (pingTimeout {timeout} ms)",
                    waited / 1_000_000
                );
                self.unanswered_ping(sid, dir, conn, frame, ev.ts, ev, detail);
            }
        }
    }

    /// Drops the state of sessions that ended long enough ago.
    fn forget_ended(&mut self) {
        while let Some((at, _)) = self.ended.front() {
            if at.0.saturating_add(FORGET_AFTER_NS) >= self.now.0 {
                break;
            }
            let Some((_, key)) = self.ended.pop_front() else {
                break;
            };
            // Packets for it after this point start a fresh state (and, being after the
            // session's end, are judged as such by nothing-after-close where they can be).
            if self.sessions.remove(&key).is_some() {
                let bare = key.split('|').next().unwrap_or(&key).to_string();
                if let Some(keys) = self.keys_of_sid.get_mut(&bare) {
                    keys.retain(|k| k != &key);
                    if keys.is_empty() {
                        self.keys_of_sid.remove(&bare);
                    }
                }
            }
        }
    }

    fn tcp(&mut self, ev: &Event, t: &TcpInfo) {
        match t {
            TcpInfo::Open { server, .. } => {
                self.conns.insert(
                    ev.conn.0,
                    ConnState {
                        server: server.clone(),
                        ..ConnState::default()
                    },
                );
            }
            TcpInfo::Fin | TcpInfo::Rst | TcpInfo::Close { .. } => {
                let Some(c) = self.conns.get_mut(&ev.conn.0) else {
                    return;
                };
                let ws_sid = c.websocket.then(|| c.ws_sid.clone()).flatten();
                // A request is no longer in flight once its connection is reset or closed, or
                // once the client closed its side (an aborted poll: the server drops it too).
                let drop_pending = !matches!(t, TcpInfo::Fin) || ev.dir == Some(Dir::C2S);
                let pending: Vec<_> = if drop_pending {
                    c.pending.drain(..).collect()
                } else {
                    vec![]
                };
                for (method, sid) in pending {
                    self.release(&method, sid.as_deref());
                }
                if let Some(sid) = ws_sid {
                    // The WebSocket carried the session: when it goes, so do its heartbeats.
                    if self.carries(&sid, ev.conn.0) {
                        self.end_session(&sid, ev);
                    }
                }
                if matches!(t, TcpInfo::Close { .. }) {
                    self.settle_silent_pings(ev.conn.0);
                    self.conns.remove(&ev.conn.0);
                }
            }
            TcpInfo::Gap { .. } => {}
        }
    }

    /// Whether the WebSocket `conn` carries session `sid`, so that its close ends the session.
    fn carries(&self, sid: &str, conn: u64) -> bool {
        match self.sessions.get(sid) {
            Some(s) => match s.transport_conn {
                Some(c) => c == conn,
                None => s.upgraded || !self.is_upgrade(conn),
            },
            None => !self.is_upgrade(conn),
        }
    }

    fn is_upgrade(&self, conn: u64) -> bool {
        self.conns.get(&conn).is_some_and(|c| c.upgrade)
    }

    fn release(&mut self, method: &str, sid: Option<&str>) {
        let Some(s) = sid.and_then(|sid| self.sessions.get_mut(sid)) else {
            return;
        };
        match method {
            "GET" => s.gets = s.gets.saturating_sub(1),
            "POST" => s.posts = s.posts.saturating_sub(1),
            _ => {}
        }
    }

    fn http(&mut self, ev: &Event, h: &HttpInfo) {
        self.check(Side::of(ev.dir.unwrap_or(Dir::C2S)), Rule::HttpMessages);
        if h.kind == "request" {
            let method = h.method.clone().unwrap_or_default();
            let is_eio = h.query.contains_key("EIO");
            let transport = h
                .query
                .get("transport")
                .and_then(|v| v.as_str())
                .unwrap_or("");
            let qsid = h
                .query
                .get("sid")
                .and_then(|v| v.as_str())
                .map(|s| self.key(ev.conn.0, s));
            if is_eio && transport == "websocket" {
                if let Some(c) = self.conns.get_mut(&ev.conn.0) {
                    c.upgrade = qsid.is_some();
                    c.ws_sid = qsid.clone();
                }
                if let Some(sid) = &qsid {
                    // engine.io-protocol: "A client MUST NOT open more than one WebSocket
                    // connection per session."
                    let n = self.session(sid).map_or(0, |s| {
                        s.websockets += 1;
                        s.websockets
                    });
                    let ok = if n > 1 {
                        Err(format!("WebSocket #{n} opened for the same session"))
                    } else {
                        Ok(())
                    };
                    self.verdict(Side::Client, Rule::UpgradeSequence, ev, Some(sid), ok);
                }
            }
            let polling_sid = (is_eio && transport == "polling").then_some(qsid).flatten();
            if let Some(sid) = &polling_sid {
                self.poll_request(ev, sid, &method);
            }
            if let Some(c) = self.conns.get_mut(&ev.conn.0) {
                if c.pending.len() < 64 {
                    c.pending.push_back((method, polling_sid));
                }
            }
        } else {
            let status = h.status.unwrap_or(0);
            let popped = self.conns.get_mut(&ev.conn.0).and_then(|c| {
                if status == 101 {
                    c.websocket = true;
                }
                c.pending.pop_front()
            });
            if let Some((method, sid)) = popped {
                self.release(&method, sid.as_deref());
                if status >= 400 {
                    if let Some(sid) = sid {
                        // An error answer ends the session for the client wherever it lives:
                        // behind a balancer without sticky sessions, "Session ID unknown" from
                        // one server makes the client drop the sid it holds on another, whose
                        // pings it then never answers.
                        let bare = sid.split('|').next().unwrap_or(&sid).to_string();
                        let keys = self.keys_of_sid.get(&bare).cloned().unwrap_or_default();
                        for k in keys {
                            self.end_session(&k, ev);
                        }
                        self.end_session(&sid, ev);
                    }
                }
            }
        }
    }

    fn poll_request(&mut self, ev: &Event, sid: &str, method: &str) {
        let Some(s) = self.session(sid) else {
            return;
        };
        let upgraded = s.upgraded;
        let busy = match method {
            "GET" => {
                s.gets += 1;
                s.gets > 1
            }
            "POST" => {
                s.posts += 1;
                s.posts > 1
            }
            _ => false,
        };
        // engine.io-protocol: "a client MUST NOT have more than one active GET request"
        // (and the same sentence for POST).
        let ok = if busy {
            Err(format!("a second {method} while one is still in flight"))
        } else {
            Ok(())
        };
        self.verdict(Side::Client, Rule::OnePollPerMethod, ev, Some(sid), ok);
        // engine.io-protocol (upgrade): the client MUST "pause the HTTP long-polling transport
        // (no more HTTP request gets sent)"; once `5` is sent the session is WebSocket only.
        let ok = if upgraded {
            Err(format!(
                "polling {method} after the upgrade packet was sent"
            ))
        } else {
            Ok(())
        };
        self.verdict(Side::Client, Rule::UpgradeSequence, ev, Some(sid), ok);
    }

    fn ws(&mut self, ev: &Event, w: &WsInfo) {
        let Some(dir) = ev.dir else { return };
        let side = Side::of(dir);
        match w {
            WsInfo::Frame { .. } => {
                if let Some(c) = self.conns.get_mut(&ev.conn.0) {
                    c.frames[si(side)] += 1;
                }
                self.check(side, Rule::WsFrames);
                self.check(side, Rule::Rsv1Negotiated);
                self.check(side, Rule::NothingAfterClose);
            }
            WsInfo::Close { .. } => {
                self.check(side, Rule::CloseCodes);
                if let Some(sid) = self.conns.get(&ev.conn.0).and_then(|c| c.ws_sid.clone()) {
                    if self.carries(&sid, ev.conn.0) {
                        self.end_session(&sid, ev);
                    }
                }
            }
            WsInfo::Message {
                compressed, len, ..
            } => {
                if *compressed {
                    self.check(side, Rule::Deflate);
                }
                if side == Side::Client {
                    let sid = self.conns.get(&ev.conn.0).and_then(|c| c.ws_sid.clone());
                    let max = sid
                        .as_deref()
                        .and_then(|s| self.sessions.get(s))
                        .and_then(|s| s.max_payload);
                    if let Some(max) = max {
                        // engine.io-protocol: maxPayload is "the maximum number of bytes per chunk".
                        let ok = if *len > max {
                            Err(format!("{len}-byte message above maxPayload {max}"))
                        } else {
                            Ok(())
                        };
                        self.verdict(side, Rule::MaxPayload, ev, sid.as_deref(), ok);
                    }
                }
            }
            WsInfo::Ping { .. } | WsInfo::Pong { .. } => {}
        }
    }

    fn eio(&mut self, ev: &Event, eio: &EioInfo, sio: Option<&SioInfo>) {
        let Some(dir) = ev.dir else { return };
        let side = Side::of(dir);
        self.check(side, Rule::EioPackets);
        let conn_sid = self.conns.get(&ev.conn.0).and_then(|c| c.ws_sid.clone());
        let Some(sid) = eio
            .sid
            .as_deref()
            .map(|s| self.key(ev.conn.0, s))
            .or(conn_sid)
        else {
            return;
        };
        if eio.kind == "open" {
            if let Some(c) = self.conns.get_mut(&ev.conn.0) {
                if c.websocket && c.ws_sid.is_none() {
                    c.ws_sid = Some(sid.clone());
                }
            }
            let open = eio.open.as_ref();
            let num = |k: &str| open.and_then(|o| o.get(k)).and_then(|v| v.as_u64());
            let (pt, mp) = (num("pingTimeout"), num("maxPayload"));
            let ws_conn = (eio.transport == "websocket").then_some(ev.conn.0);
            if let Some(s) = self.session(&sid) {
                s.eio = eio.version;
                s.ping_timeout = pt;
                s.max_payload = mp;
                s.transport_conn = ws_conn;
            }
        }
        if eio.version.is_none() {
            return; // socket.io 0.9 has no Engine.IO: its sequences are not checked here.
        }
        if eio.transport == "websocket" {
            self.upgrade_step(ev, side, &sid, eio);
        }
        // Nothing after an Engine.IO close from the same side: the close packet ends the
        // session (engine.io-protocol, packet type 1 "Used to indicate that a transport can be
        // closed"); what the same side sends afterwards goes nowhere.
        let closed = self.sessions.get(&sid).is_some_and(|s| s.closed[si(side)]);
        let ok = if closed {
            Err(format!(
                "{} packet after this side's Engine.IO close",
                eio.kind
            ))
        } else {
            Ok(())
        };
        self.verdict(side, Rule::NothingAfterClose, ev, Some(&sid), ok);
        match eio.kind {
            // A close packet on the polling transport after the upgrade closes that transport
            // only (engine.io-protocol: close "Used to indicate that a transport can be closed";
            // engine.io answers a poll that arrives after the upgrade with it): the session
            // goes on over the WebSocket.
            "close"
                if eio.transport == "polling"
                    && self.sessions.get(&sid).is_some_and(|s| s.upgraded) => {}
            "close" => {
                if let Some(s) = self.sessions.get_mut(&sid) {
                    s.closed[si(side)] = true;
                }
                self.end_session(&sid, ev);
            }
            "ping" if eio.text.as_deref() != Some("probe") => self.ping(ev, dir, &sid),
            "pong" if eio.text.as_deref() != Some("probe") => self.pong(dir, &sid),
            "upgrade" => {
                if let Some(s) = self.sessions.get_mut(&sid) {
                    s.upgraded = true;
                    if eio.transport == "websocket" {
                        s.transport_conn = Some(ev.conn.0);
                    }
                }
            }
            _ => {}
        }
        if let Some(sio) = sio {
            self.check(side, Rule::SioPackets);
            if sio.version >= 4 {
                self.sio(ev, side, &sid, sio);
            }
        }
    }

    fn upgrade_step(&mut self, ev: &Event, side: Side, sid: &str, eio: &EioInfo) {
        let upgraded = self.sessions.get(sid).is_some_and(|s| s.upgraded);
        let Some(c) = self.conns.get_mut(&ev.conn.0) else {
            return;
        };
        let probe = eio.text.as_deref() == Some("probe");
        let ok = if !c.upgrade {
            // A WebSocket opened directly: engine.io-protocol "If the server accepts the
            // connection, then it MUST respond with an open packet".
            let first = side == Side::Server && !c.server_spoke;
            c.server_spoke |= side == Side::Server;
            if first && eio.kind != "open" {
                Err(format!(
                    "first server packet on a new WebSocket is {}, not open",
                    eio.kind
                ))
            } else {
                Ok(())
            }
        } else {
            match (side, eio.kind) {
                (Side::Client, "ping") if probe => {
                    c.probe_sent = true;
                    Ok(())
                }
                (Side::Server, "pong") if probe => {
                    if c.probe_sent {
                        c.probe_answered = true;
                        Ok(())
                    } else {
                        Err("3probe without a 2probe from the client".to_string())
                    }
                }
                (Side::Client, "upgrade") => {
                    if c.probe_answered {
                        Ok(())
                    } else {
                        Err("upgrade packet before the server answered 3probe".to_string())
                    }
                }
                (_, kind) if !upgraded && kind != "noop" => Err(format!(
                    "{kind} packet on the WebSocket before the upgrade completed"
                )),
                _ => Ok(()),
            }
        };
        self.verdict(side, Rule::UpgradeSequence, ev, Some(sid), ok);
    }

    /// engine.io-protocol "Heartbeat": the pinging side sends `ping` and the peer "has a few
    /// seconds (the pingTimeout value) to send a pong packet back". v4: the server pings; v3:
    /// the client does (either way the answer is due from the other direction).
    fn ping(&mut self, ev: &Event, dir: Dir, sid: &str) {
        let Some(s) = self.sessions.get_mut(sid) else {
            return;
        };
        let Some(timeout) = s.ping_timeout else {
            return;
        };
        if s.ended {
            return;
        }
        s.ping_seq += 1;
        let seq = s.ping_seq;
        if s.unanswered.len() >= 64 {
            s.unanswered.pop_front();
        }
        s.unanswered
            .push_back((seq, dir, ev.conn.0, ev.frame, ev.ts));
        let deadline = Timestamp(ev.ts.0.saturating_add(timeout.saturating_mul(1_000_000)));
        self.deadlines
            .push(Reverse((deadline, sid.to_string(), seq, ev.frame)));
        self.check(Side::of(dir.flip()), Rule::PingAnswered);
    }

    fn pong(&mut self, dir: Dir, sid: &str) {
        if let Some(s) = self.sessions.get_mut(sid) {
            // A pong answers the oldest outstanding ping from the other side.
            if let Some(pos) = s.unanswered.iter().position(|p| p.1 == dir.flip()) {
                s.unanswered.remove(pos);
            }
        }
    }

    fn sio(&mut self, ev: &Event, side: Side, sid: &str, sio: &SioInfo) {
        let Some(s) = self.session(sid) else {
            return;
        };
        for (rule, ok) in s.sio.packet(side, sio) {
            self.verdict(side, rule, ev, Some(sid), ok);
        }
    }

    /// The results: one per side and rule, in report order, and the capture notes.
    pub fn finish(self) -> (Vec<RuleResult>, Vec<Note>, u64) {
        let mut tallies = self.tallies;
        let mut out = vec![];
        for side in [Side::Server, Side::Client] {
            for rule in ALL_RULES {
                let t = tallies.remove(&(side, rule)).unwrap_or_default();
                out.push(RuleResult {
                    side,
                    rule,
                    description: rule.description(),
                    spec: rule.spec(),
                    checked: t.checked.max(t.violations),
                    violations: t.violations,
                    first: t.first,
                });
            }
        }
        (out, self.notes, self.notes_total)
    }
}
