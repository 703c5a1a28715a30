//! The fold from events to connection, session and socket records.

use std::collections::BTreeMap;

use foldhash::HashMap;
use serde_json::Value;

use super::connect_auth::ConnectAuth;
use super::folded::{ExplainEnd, FoldedSessions, DEFAULT_MAX_SESSIONS, SESSION_TABLE_FULL};
use super::interned::Interned;
use super::record::{
    CloseFrame, ConnRecord, Mark, SessionRecord, SocketRecord, Transition, UpgradeState,
    WsMessageMark, RECENT_PACKETS,
};
use crate::event::{Body, Dir, EioInfo, Event, HttpInfo, SioInfo, TcpInfo, WsInfo};
use crate::http::header_value;

/// Messages at least this large are kept as evidence even when not compressed.
const BIG_MESSAGE: u64 = 64 << 10;
/// Evidence lists are capped so that memory stays flat on long captures.
const MAX_MARKS: usize = 64;

/// Appends to an evidence list unless it is full. The lists grow one element at a time: most
/// hold one or two marks, and `Vec`'s first allocation would make room for four.
fn push_capped<T>(v: &mut Vec<T>, x: T) {
    if v.len() < MAX_MARKS {
        v.reserve_exact(1);
        v.push(x);
    }
}

/// Adds `sid` to a sorted list without repeats, making room for exactly one more.
fn insert_sorted(v: &mut Vec<String>, sid: &str) {
    if let Err(i) = v.binary_search_by(|x| x.as_str().cmp(sid)) {
        v.reserve_exact(1);
        v.insert(i, sid.to_string());
    }
}

/// Per-connection state the records do not expose.
#[derive(Default)]
struct ConnState {
    /// The Engine.IO session currently on this connection.
    sid: Option<String>,
    /// Target of the last request (for fingerprints and handshakes).
    last_target: Option<String>,
    /// Query `sid` of the last request.
    last_request_sid: Option<String>,
    /// A WebSocket close frame was seen on this connection.
    closed_ws: bool,
    /// A second WebSocket for a session whose upgrade was already under way (or done) on
    /// another connection. engine.io closes such a socket and leaves the session alone
    /// (`engine.io@6.6.12/build/server.js:628-635`: "transport has already been trying to
    /// upgrade" / "transport had already been upgraded" → `websocket.close()`), so its close
    /// frames are not the session's end.
    duplicate_upgrade: bool,
    /// Protocol revision from the last request's `EIO`.
    eio: Option<u8>,
    /// The server's `Server` response header.
    server_header: Option<String>,
    /// The last request was a POST with this many body bytes.
    last_post_body: Option<u64>,
}

/// Folds events into records. Feed it every event (unfiltered), then read the records.
#[derive(Default)]
pub struct SessionTracker {
    /// Boxed: a map's nodes hold up to 11 values and sequential ids leave them half full, so
    /// an inline record would cost about twice its size in every node.
    conns: BTreeMap<u64, Box<ConnRecord>>,
    state: HashMap<u64, ConnState>,
    sessions: Vec<SessionRecord>,
    by_sid: HashMap<String, usize>,
    /// HTTP errors that name no session (refused handshakes, unknown sids the server never
    /// issued in this capture).
    pub sessionless_errors: Vec<Mark>,
    /// Anomalies that could not be tied to a session.
    pub other_anomalies: Vec<Mark>,
    first_ts: Option<crate::event::Timestamp>,
    last_ts: Option<crate::event::Timestamp>,
    /// Both legs of relayed connections, compared as the events go by.
    legs: crate::legs::LegComparer,
    /// Most session records kept (`--max-tracked-sessions`); `None` is
    /// [`DEFAULT_MAX_SESSIONS`].
    max_sessions: Option<usize>,
    /// Ended sessions folded into a count past that limit.
    folded: Option<FoldedSessions>,
    /// Explains a session about to be folded, so that its cause is counted.
    explain_end: Option<ExplainEnd>,
    /// `User-Agent`s, one shared copy each (every connection and session record keeps one).
    agents: Interned,
}

/// `HTTP <status>`, the mark of a response: the statuses Engine.IO servers answer with own no
/// allocation (a connection record keeps its last response's mark to the end).
fn status_text(status: u16) -> std::borrow::Cow<'static, str> {
    match status {
        101 => "HTTP 101".into(),
        200 => "HTTP 200".into(),
        204 => "HTTP 204".into(),
        400 => "HTTP 400".into(),
        403 => "HTTP 403".into(),
        404 => "HTTP 404".into(),
        500 => "HTTP 500".into(),
        _ => format!("HTTP {status}").into(),
    }
}

fn mark(ev: &Event, what: impl Into<std::borrow::Cow<'static, str>>) -> Mark {
    Mark {
        frame: ev.frame,
        ts: ev.ts,
        conn: ev.conn.0,
        dir: ev.dir,
        what: what.into(),
    }
}

/// The `sid=<id>` a text names, if any (ends at a space, `,` or `)`).
fn named_sid(text: &str) -> Option<String> {
    let (_, after) = text.split_once("sid=")?;
    let id: String = after
        .chars()
        .take_while(|c| !matches!(c, ' ' | ',' | ')' | ';'))
        .take(128)
        .collect();
    (!id.is_empty()).then_some(id)
}

fn strip_target(target: &str) -> String {
    let (path, pairs) = crate::http::query::split_target(target);
    let keep: Vec<String> = pairs
        .into_iter()
        .filter(|(k, _)| !matches!(k.as_str(), "t" | "sid" | "transport" | "j" | "b64"))
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    if keep.is_empty() {
        path
    } else {
        format!("{path}?{}", keep.join("&"))
    }
}

impl SessionTracker {
    /// An empty tracker.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty tracker keeping at most `max` session records (`--max-tracked-sessions`, at
    /// least 1): past it, the oldest session whose connections are all closed is folded into
    /// [`SessionTracker::folded`].
    pub fn with_max_sessions(max: usize) -> Self {
        SessionTracker {
            max_sessions: Some(max.max(1)),
            ..Self::default()
        }
    }

    /// The same tracker, explaining each session with `explain_end` before it is folded so
    /// that its cause (and whether it was abnormal) stays counted
    /// (`crate::explain::bounded_tracker` gives explain's rules).
    pub fn explaining_folded(mut self, explain_end: ExplainEnd) -> Self {
        self.explain_end = Some(explain_end);
        self
    }

    /// The ended sessions folded into a count because the table was full, if any were.
    pub fn folded(&self) -> Option<&FoldedSessions> {
        self.folded.as_ref()
    }

    /// Connections, by id.
    pub fn conns(&self) -> &BTreeMap<u64, Box<ConnRecord>> {
        &self.conns
    }

    /// Sessions, in order of their handshake.
    pub fn sessions(&self) -> &[SessionRecord] {
        &self.sessions
    }

    /// Forgets a session (a live run that already reported it). Later events naming its sid are
    /// treated like those of any session this tracker never saw. True when it was known.
    pub fn forget_session(&mut self, sid: &str) -> bool {
        let Some(i) = self.by_sid.remove(sid) else {
            return false;
        };
        if i < self.sessions.len() {
            self.sessions.remove(i);
        }
        for v in self.by_sid.values_mut() {
            if *v > i {
                *v -= 1;
            }
        }
        for st in self.state.values_mut() {
            if st.sid.as_deref() == Some(sid) {
                st.sid = None;
            }
        }
        true
    }

    /// Forgets a connection's record and state (a live run, once the connection is closed and its
    /// sessions are forgotten).
    pub fn forget_conn(&mut self, conn: u64) {
        self.conns.remove(&conn);
        self.state.remove(&conn);
    }

    /// True while the tracker holds a session with this id.
    pub fn knows_session(&self, sid: &str) -> bool {
        self.by_sid.contains_key(sid)
    }

    /// What differed between the two legs of each relayed connection seen so far
    /// (`crate::legs`): altered, swallowed or injected frames, the hop that closed first.
    pub fn hops(&self) -> Vec<crate::legs::HopFinding> {
        self.legs.findings()
    }

    /// Time of the first and last event seen.
    pub fn span(&self) -> Option<(crate::event::Timestamp, crate::event::Timestamp)> {
        Some((self.first_ts?, self.last_ts?))
    }

    fn session_mut(&mut self, sid: &str) -> Option<&mut SessionRecord> {
        let i = *self.by_sid.get(sid)?;
        self.sessions.get_mut(i)
    }

    /// The session an event belongs to: the sid it names when the tracker knows it, else its
    /// connection's.
    fn sid_of(&self, ev: &Event) -> Option<String> {
        ev.sid()
            .filter(|s| self.by_sid.contains_key(*s))
            .map(str::to_string)
            .or_else(|| self.state.get(&ev.conn.0).and_then(|s| s.sid.clone()))
    }

    /// The index of the session [`Self::sid_of`] names, found without copying its id.
    fn session_index(&self, ev: &Event) -> Option<usize> {
        ev.sid()
            .and_then(|s| self.by_sid.get(s))
            .or_else(|| {
                let sid = self.state.get(&ev.conn.0)?.sid.as_deref()?;
                self.by_sid.get(sid)
            })
            .copied()
    }

    /// Takes one event.
    pub fn event(&mut self, ev: &Event) {
        self.legs.event(ev);
        if ev.frame > 0 {
            self.first_ts.get_or_insert(ev.ts);
            self.last_ts = Some(ev.ts);
        }
        match &ev.body {
            Body::Tcp(t) => self.tcp(ev, t),
            Body::Http(h) => self.http(ev, h),
            Body::Ws(w) => self.ws(ev, w),
            Body::Eio { eio } => self.eio(ev, eio, None),
            Body::Sio { eio, sio } => self.eio(ev, eio, Some(sio)),
            Body::Anomaly(a) => {
                let m = mark(ev, format!("{}: {}", a.rule, a.detail));
                // A fault injected before its connection carried anything decodable (the proxy
                // held a whole request) names its session in the text: `sid=<id>`.
                let named = (a.rule == "injected-fault")
                    .then(|| named_sid(&a.detail))
                    .flatten()
                    .filter(|s| self.by_sid.contains_key(s));
                match self.sid_of(ev).or(named) {
                    Some(sid) => {
                        if let Some(s) = self.session_mut(&sid) {
                            push_capped(&mut s.anomalies, m);
                        }
                    }
                    None => push_capped(&mut self.other_anomalies, m),
                }
            }
        }
        if let Some(i) = self.session_index(ev) {
            let m = mark(ev, "");
            if let Some(s) = self.sessions.get_mut(i) {
                s.conns.insert(ev.conn.0);
                s.last = m.clone();
                if let (Some(d), Body::Eio { .. } | Body::Sio { .. }) = (ev.dir, &ev.body) {
                    let recent = &mut s.recent_packets[d.index()];
                    if recent.len() >= RECENT_PACKETS {
                        recent.pop_front();
                    }
                    recent.push_back(m.clone());
                    s.last_packet[d.index()] = Some(m);
                }
            }
        }
        // A closed connection carries nothing more (the reassembler's close is its last event):
        // its per-connection state goes, so that memory follows the connections open at once.
        if let Body::Tcp(TcpInfo::Close { .. }) = ev.body {
            self.state.remove(&ev.conn.0);
        }
    }

    fn tcp(&mut self, ev: &Event, t: &TcpInfo) {
        let id = ev.conn.0;
        match t {
            TcpInfo::Open {
                client,
                server,
                syn_seen,
            } => {
                self.conns.insert(
                    id,
                    Box::new(ConnRecord {
                        conn: id,
                        client: client.clone(),
                        server: server.clone(),
                        opened: mark(ev, "connection opened"),
                        syn_seen: *syn_seen,
                        fin: None,
                        rst: None,
                        closed: None,
                        open_at_eof: false,
                        last_data: [None, None],
                        websocket: false,
                        switched: None,
                        ws_messages: [0, 0],
                        sids: Default::default(),
                        user_agent: None,
                    }),
                );
                self.state.insert(id, ConnState::default());
            }
            TcpInfo::Fin => {
                if let Some(c) = self.conns.get_mut(&id) {
                    c.fin.get_or_insert_with(|| mark(ev, "FIN"));
                }
            }
            TcpInfo::Rst => {
                if let Some(c) = self.conns.get_mut(&id) {
                    c.rst.get_or_insert_with(|| mark(ev, "RST"));
                }
            }
            TcpInfo::Gap { .. } => {}
            TcpInfo::Close { at_eof } => {
                if let Some(c) = self.conns.get_mut(&id) {
                    c.closed = Some(mark(ev, "closed"));
                    c.open_at_eof = *at_eof;
                }
            }
        }
    }

    fn http(&mut self, ev: &Event, h: &HttpInfo) {
        let id = ev.conn.0;
        let st = self.state.entry(id).or_default();
        if h.kind == "request" {
            st.last_target = h.target.clone();
            st.last_request_sid = h.sid.clone();
            st.last_post_body = (h.method.as_deref() == Some("POST")).then_some(h.body_len);
            st.eio = h
                .query
                .get("EIO")
                .and_then(Value::as_str)
                .and_then(|v| v.parse().ok());
            if let Some(sid) = &h.sid {
                st.sid = Some(sid.clone());
            }
            if let Some(c) = self.conns.get_mut(&id) {
                if c.user_agent.is_none() {
                    c.user_agent =
                        header_value(&h.headers, "user-agent").map(|ua| self.agents.get(ua));
                }
                if let Some(sid) = &h.sid {
                    insert_sorted(&mut c.sids, sid);
                }
                if let Some(d) = ev.dir {
                    c.last_data[d.index()] = Some(mark(ev, "request"));
                }
            }
            return;
        }
        let status = h.status.unwrap_or(0);
        if let Some(server) = header_value(&h.headers, "server") {
            st.server_header = Some(server.to_string());
            if let Some(sid) = h.sid.clone().or_else(|| st.last_request_sid.clone()) {
                if let Some(i) = self.by_sid.get(&sid).copied() {
                    if let Some(s) = self.sessions.get_mut(i) {
                        s.server_software.get_or_insert_with(|| server.to_string());
                    }
                }
            }
        }
        let st = self.state.entry(id).or_default();
        if let Some(c) = self.conns.get_mut(&id) {
            c.last_data[1] = Some(mark(ev, status_text(status)));
            if status == 101 {
                c.websocket = true;
                c.switched = Some(mark(ev, "101 Switching Protocols"));
            }
        }
        let sid = h.sid.clone().or_else(|| st.last_request_sid.clone());
        let last_post_body = st.last_post_body;
        if status == 101 {
            if let Some(sid) = &sid {
                let m = mark(ev, "101 Switching Protocols");
                let mut duplicate = false;
                // The other leg of the same relayed WebSocket carries the same 101: it is the
                // same upgrade seen twice, not a second WebSocket.
                let partner = self.legs.partner(ev.conn).map(|c| c.0);
                if let Some(s) = self.session_mut(sid) {
                    if s.upgrade == UpgradeState::None {
                        s.upgrade = UpgradeState::Switched;
                        s.upgrade_mark = Some(m);
                    } else {
                        duplicate = s
                            .upgrade_mark
                            .as_ref()
                            .is_some_and(|u| u.conn != id && Some(u.conn) != partner);
                    }
                }
                if duplicate {
                    self.state.entry(id).or_default().duplicate_upgrade = true;
                }
            }
        }
        if status >= 400 {
            let body = h
                .body_text
                .as_deref()
                .map(|b| b.chars().take(200).collect::<String>())
                .unwrap_or_default();
            let m = mark(
                ev,
                format!("HTTP {status} {} {body}", h.reason.as_deref().unwrap_or(""))
                    .trim_end()
                    .to_string(),
            );
            // A POST refused because the session is gone: whatever it carried is lost.
            let lost_post = last_post_body
                .filter(|n| *n > 0 && (status == 400 || status == 404))
                .filter(|_| {
                    h.body_text
                        .as_deref()
                        .is_some_and(|b| b.contains("\"code\":1"))
                });
            match sid.as_deref().and_then(|s| self.by_sid.get(s).copied()) {
                Some(i) => {
                    if let Some(s) = self.sessions.get_mut(i) {
                        if let Some(n) = lost_post {
                            push_capped(
                                &mut s.lost_after_close,
                                mark(
                                    ev,
                                    format!(
                                        "POST of {n} bytes refused: the session was already closed"
                                    ),
                                ),
                            );
                        }
                        push_capped(&mut s.http_errors, m);
                    }
                }
                None => push_capped(&mut self.sessionless_errors, m),
            }
        }
    }

    fn ws(&mut self, ev: &Event, w: &WsInfo) {
        let id = ev.conn.0;
        let sid = self.sid_of(ev);
        let closed_before = self.state.get(&id).is_some_and(|s| s.closed_ws);
        match w {
            WsInfo::Message {
                len,
                wire_len,
                compressed,
                frames,
                inflate_error,
                ..
            } => {
                if let (Some(c), Some(d)) = (self.conns.get_mut(&id), ev.dir) {
                    c.ws_messages[d.index()] += 1;
                    c.last_data[d.index()] = Some(mark(ev, "WebSocket message"));
                }
                let Some(sid) = sid else { return };
                let Some(s) = self.session_mut(&sid) else {
                    return;
                };
                let Some(d) = ev.dir else { return };
                s.largest[d.index()] = s.largest[d.index()].max(*len).max(*wire_len);
                let m = WsMessageMark {
                    at: mark(
                        ev,
                        if *compressed {
                            "compressed message"
                        } else {
                            "message"
                        },
                    ),
                    first_frame: ev.first_frame,
                    frames: *frames,
                    compressed: *compressed,
                    wire_len: *wire_len,
                    len: *len,
                    inflate_error: inflate_error.clone(),
                };
                if inflate_error.is_some() {
                    if s.on_probe() {
                        push_capped(&mut s.probe_inflate_failures, m.clone());
                    } else {
                        push_capped(&mut s.inflate_failures, m.clone());
                    }
                }
                if *compressed || *len >= BIG_MESSAGE {
                    s.big_messages[d.index()] = Some(m);
                }
                if closed_before {
                    push_capped(
                        &mut s.lost_after_close,
                        mark(ev, format!("{len}-byte message after the close frame")),
                    );
                }
            }
            WsInfo::Close { code, reason, .. } => {
                if let Some(st) = self.state.get_mut(&id) {
                    st.closed_ws = true;
                }
                if let (Some(c), Some(d)) = (self.conns.get_mut(&id), ev.dir) {
                    c.last_data[d.index()] = Some(mark(ev, "close frame"));
                }
                let Some(sid) = sid else { return };
                if self.state.get(&id).is_some_and(|st| st.duplicate_upgrade) {
                    return;
                }
                if let Some(s) = self.session_mut(&sid) {
                    let close = CloseFrame {
                        at: mark(ev, "close frame"),
                        code: *code,
                        reason: reason.clone(),
                    };
                    if s.on_probe() {
                        push_capped(&mut s.probe_closes, close);
                    } else {
                        push_capped(&mut s.ws_closes, close);
                    }
                }
            }
            WsInfo::Ping { .. } | WsInfo::Pong { .. } | WsInfo::Frame { .. } => {
                if let (Some(c), Some(d)) = (self.conns.get_mut(&id), ev.dir) {
                    if !matches!(w, WsInfo::Frame { .. }) {
                        c.last_data[d.index()] = Some(mark(ev, "control frame"));
                    }
                }
            }
        }
    }

    fn open_session(&mut self, ev: &Event, eio: &EioInfo, sid: &str) {
        if self.by_sid.contains_key(sid) {
            return;
        }
        let conn = self.conns.get(&ev.conn.0);
        let st = self.state.get(&ev.conn.0);
        let client = conn.map(|c| c.client.clone()).unwrap_or_default();
        let client_ip = client
            .rsplit_once(':')
            .map(|(ip, _)| ip.to_string())
            .unwrap_or_else(|| client.clone());
        let open = eio.open.as_ref();
        let get = |k: &str| open.and_then(|o| o.get(k)).and_then(Value::as_u64);
        // socket.io 0.9 handshake: heartbeat timeout in seconds
        let (ping_interval, ping_timeout) = match eio.version {
            Some(_) => (get("pingInterval"), get("pingTimeout")),
            None => (None, get("heartbeatTimeout").map(|s| s * 1000)),
        };
        let transport = eio.transport.to_string();
        let rec = SessionRecord {
            sid: sid.to_string(),
            eio: eio.version.or_else(|| st.and_then(|s| s.eio)),
            client,
            client_ip,
            server: conn.map(|c| c.server.clone()).unwrap_or_default(),
            user_agent: conn.and_then(|c| c.user_agent.clone()),
            server_software: st.and_then(|s| s.server_header.clone()),
            fingerprint: st
                .and_then(|s| s.last_target.as_deref())
                .map(strip_target)
                .unwrap_or_default(),
            opened: mark(ev, "open"),
            ping_interval,
            ping_timeout,
            max_payload: get("maxPayload"),
            transports: vec![Transition {
                at: mark(ev, format!("opened on {transport}")),
                transport,
            }],
            upgrade: UpgradeState::None,
            upgrade_mark: None,
            conns: [ev.conn.0].into_iter().collect(),
            sockets: Vec::new(),
            last: mark(ev, "open"),
            last_packet: [None, None],
            recent_packets: Default::default(),
            last_ping: None,
            last_pong: None,
            unanswered_ping: None,
            eio_close: None,
            ws_closes: Vec::new(),
            big_messages: [None, None],
            inflate_failures: Vec::new(),
            probe_closes: Vec::new(),
            probe_inflate_failures: Vec::new(),
            http_errors: Vec::new(),
            lost_after_close: Vec::new(),
            anomalies: Vec::new(),
            largest: [0, 0],
            events: [0, 0],
        };
        self.by_sid.insert(sid.to_string(), self.sessions.len());
        self.sessions.push(rec);
        if let Some(st) = self.state.get_mut(&ev.conn.0) {
            st.sid = Some(sid.to_string());
        }
        if let Some(c) = self.conns.get_mut(&ev.conn.0) {
            insert_sorted(&mut c.sids, sid);
        }
        self.fold_ended(ev);
    }

    /// Past the session limit, folds the oldest sessions whose connections are all closed into
    /// the count (never one with a connection still open: that one may still say how it ends),
    /// with the connection records only they used. The first fold is a `session-table-full`
    /// anomaly at `ev`, the handshake that took the table past its limit.
    fn fold_ended(&mut self, ev: &Event) {
        let max = self.max_sessions.unwrap_or(DEFAULT_MAX_SESSIONS);
        while self.sessions.len() > max {
            let conns = &self.conns;
            let ended = self.sessions.iter().position(|s| {
                s.conns
                    .iter()
                    .all(|c| conns.get(c).is_none_or(|r| r.closed.is_some()))
            });
            let Some(s) = ended.and_then(|i| self.sessions.get(i)) else {
                return;
            };
            let (sid, used) = (s.sid.clone(), s.conns.clone());
            let end = self.explain_end.and_then(|f| f(self, &sid));
            self.forget_session(&sid);
            for c in used {
                let only_folded = self
                    .conns
                    .get(&c)
                    .is_none_or(|r| !r.sids.iter().any(|s| self.by_sid.contains_key(s)));
                if only_folded {
                    self.forget_conn(c);
                }
            }
            match &mut self.folded {
                Some(f) => f.add(end),
                None => {
                    let detail = format!(
                        "the session table is full ({max} session{}, --max-tracked-sessions): \
                         from here the oldest ended sessions are folded into a count and not \
                         explained",
                        if max == 1 { "" } else { "s" }
                    );
                    push_capped(
                        &mut self.other_anomalies,
                        mark(ev, format!("{SESSION_TABLE_FULL}: {detail}")),
                    );
                    let mut f = FoldedSessions {
                        rule: SESSION_TABLE_FULL,
                        limit: max,
                        count: 0,
                        abnormal: 0,
                        causes: Vec::new(),
                        first: mark(ev, detail),
                    };
                    f.add(end);
                    self.folded = Some(f);
                }
            }
        }
    }

    fn eio(&mut self, ev: &Event, eio: &EioInfo, sio: Option<&SioInfo>) {
        if eio.kind == "open" {
            if let Some(sid) = &eio.sid {
                self.open_session(ev, eio, sid);
            }
            return;
        }
        let Some(sid) = self.sid_of(ev) else { return };
        if let Some(st) = self.state.get_mut(&ev.conn.0) {
            st.sid.get_or_insert_with(|| sid.clone());
        }
        let partner = self.legs.partner(ev.conn).map(|c| c.0);
        let Some(s) = self.session_mut(&sid) else {
            return;
        };
        let dir = ev.dir;
        let probe = eio.text.as_deref() == Some("probe");
        match (eio.kind, sio) {
            ("ping", _) if probe && s.upgrade < UpgradeState::ProbeSent => {
                s.upgrade = UpgradeState::ProbeSent;
                s.upgrade_mark = Some(mark(ev, "2probe sent"));
            }
            ("pong", _) if probe && s.upgrade < UpgradeState::ProbeAnswered => {
                s.upgrade = UpgradeState::ProbeAnswered;
                s.upgrade_mark = Some(mark(ev, "3probe answered"));
            }
            ("ping" | "pong", _) if probe => {}
            // The same ping seen again on the other leg of a relay (both legs in one capture, the
            // connections paired by `legs`): it is that ping's copy, not a second ping that leaves
            // the first unanswered.
            ("ping", _)
                if s.last_pong.is_none()
                    && s.last_ping
                        .as_ref()
                        .is_some_and(|p| p.dir == dir && Some(p.conn) == partner) => {}
            ("ping", _) => {
                if let Some(p) = s.last_ping.take() {
                    if s.last_pong.is_none() {
                        s.unanswered_ping = Some(p);
                    }
                }
                s.last_ping = Some(mark(ev, "ping"));
                s.last_pong = None;
            }
            ("pong", _) if s.last_ping.is_some() => {
                s.last_pong = Some(mark(ev, "pong"));
            }
            ("upgrade", _) => {
                s.upgrade = UpgradeState::Upgraded;
                s.upgrade_mark = Some(mark(ev, "5 upgrade"));
                // Both legs of a relay show the same upgrade: one transition.
                if s.transports
                    .last()
                    .is_none_or(|t| t.transport != "websocket")
                {
                    s.transports.reserve_exact(1);
                    s.transports.push(Transition {
                        at: mark(ev, "upgraded to websocket"),
                        transport: "websocket".into(),
                    });
                }
            }
            ("close", _) => {
                s.eio_close
                    .get_or_insert_with(|| mark(ev, "Engine.IO close packet"));
            }
            (_, Some(p)) => Self::sio(s, ev, p, dir),
            _ => {}
        }
    }

    fn sio(s: &mut SessionRecord, ev: &Event, p: &SioInfo, dir: Option<Dir>) {
        let nsp = p.nsp.clone();
        let reconnect = matches!(p.kind.as_str(), "CONNECT" | "connect") && dir == Some(Dir::C2S);
        let existing = s.sockets.iter().rposition(|k| k.nsp == nsp);
        let idx = match existing {
            Some(i) if !(reconnect && s.sockets.get(i).is_some_and(|k| k.disconnect.is_some())) => {
                i
            }
            _ => {
                // Most sessions have one or two sockets: room for one more, not for four.
                s.sockets.reserve_exact(1);
                s.sockets.push(SocketRecord {
                    nsp: nsp.clone(),
                    socket_id: None,
                    connect: None,
                    connected: None,
                    refused: false,
                    recovery_pid: None,
                    auth: None,
                    pid: None,
                    disconnect: None,
                    events: 0,
                });
                s.sockets.len() - 1
            }
        };
        let sid = s.sid.clone();
        let v4 = p.version == 4;
        let Some(sock) = s.sockets.get_mut(idx) else {
            return;
        };
        match p.kind.as_str() {
            "CONNECT" | "connect" => match dir {
                Some(Dir::C2S) => {
                    sock.connect.get_or_insert_with(|| mark(ev, "CONNECT"));
                    sock.recovery_pid = p
                        .data
                        .as_ref()
                        .and_then(|d| d.get("pid"))
                        .and_then(Value::as_str)
                        .map(str::to_string);
                    sock.auth = Some(ConnectAuth::of(p.data.as_ref()));
                }
                _ => {
                    sock.connected = Some(mark(ev, "CONNECT answered"));
                    let data = p.data.as_ref();
                    sock.socket_id = data
                        .and_then(|d| d.get("sid"))
                        .and_then(Value::as_str)
                        .map(str::to_string)
                        .or_else(|| {
                            // protocol v4: `/` is the engine sid, others `/nsp#sid`
                            v4.then(|| {
                                if nsp == "/" {
                                    sid.clone()
                                } else {
                                    format!("{nsp}#{sid}")
                                }
                            })
                        })
                        .or_else(|| (p.version == 1).then(|| sid.clone()));
                    sock.pid = data
                        .and_then(|d| d.get("pid"))
                        .and_then(Value::as_str)
                        .map(str::to_string);
                }
            },
            "CONNECT_ERROR" | "ERROR" | "error" => {
                sock.refused = true;
                sock.connected = Some(mark(
                    ev,
                    format!(
                        "CONNECT_ERROR {}",
                        p.data.as_ref().map(|d| d.to_string()).unwrap_or_default()
                    ),
                ));
            }
            "DISCONNECT" | "disconnect" => {
                sock.disconnect
                    .get_or_insert_with(|| mark(ev, "DISCONNECT"));
            }
            "EVENT" | "BINARY_EVENT" | "event" => {
                sock.events += 1;
                if let Some(d) = dir {
                    s.events[d.index()] += 1;
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{named_sid, status_text, SessionTracker};
    use crate::event::{Body, ConnId, Dir, EioInfo, Event, TcpInfo, Timestamp};

    #[test]
    fn a_response_mark_names_its_status_with_or_without_an_allocation() {
        for status in [0, 101, 200, 204, 302, 400, 403, 404, 500, 503, 999] {
            assert_eq!(status_text(status), format!("HTTP {status}"));
        }
        assert!(matches!(status_text(200), std::borrow::Cow::Borrowed(_)));
    }

    fn ev(frame: u64, conn: u64, dir: Option<Dir>, body: Body) -> Event {
        Event {
            frame,
            ts: Timestamp(frame * 1_000_000),
            first_frame: None,
            conn: ConnId(conn),
            dir,
            body,
        }
    }

    fn open_conn(frame: u64, conn: u64) -> Event {
        let body = Body::Tcp(TcpInfo::Open {
            client: format!("127.0.0.1:{}", 40000 + conn),
            server: "127.0.0.1:3000".into(),
            syn_seen: true,
        });
        ev(frame, conn, None, body)
    }

    fn handshake(frame: u64, conn: u64, sid: &str) -> Event {
        let body = Body::Eio {
            eio: EioInfo {
                kind: "open",
                version: Some(4),
                sid: Some(sid.into()),
                transport: "websocket",
                text: None,
                base64: None,
                open: None,
            },
        };
        ev(frame, conn, Some(Dir::S2C), body)
    }

    fn close_conn(frame: u64, conn: u64) -> Event {
        ev(
            frame,
            conn,
            None,
            Body::Tcp(TcpInfo::Close { at_eof: false }),
        )
    }

    #[test]
    fn a_full_session_table_folds_the_oldest_ended_session_and_never_an_open_one() {
        let mut t = SessionTracker::with_max_sessions(2);
        // a: ended; b: still open; c: opens, the table is past 2, so a goes.
        for e in [
            open_conn(1, 1),
            handshake(2, 1, "a"),
            close_conn(3, 1),
            open_conn(4, 2),
            handshake(5, 2, "b"),
            open_conn(6, 3),
            handshake(7, 3, "c"),
        ] {
            t.event(&e);
        }
        let sids: Vec<&str> = t.sessions().iter().map(|s| s.sid.as_str()).collect();
        assert_eq!(sids, ["b", "c"]);
        assert!(!t.knows_session("a"));
        assert!(
            !t.conns().contains_key(&1),
            "a's only connection goes with it"
        );
        let f = t.folded().expect("folded");
        assert_eq!(
            (f.rule, f.limit, f.count, f.first.frame),
            ("session-table-full", 2, 1, 7)
        );
        assert_eq!(t.other_anomalies.len(), 1);
        assert!(t.other_anomalies[0]
            .what
            .starts_with("session-table-full: the session table is full (2 sessions"));
        // d: b and c are open, nothing may go; the table holds 3 until one ends.
        t.event(&open_conn(8, 4));
        t.event(&handshake(9, 4, "d"));
        assert_eq!(t.sessions().len(), 3);
        assert_eq!(t.folded().map(|f| f.count), Some(1));
        // b ends; the next handshake folds it (the oldest ended), one anomaly all the same.
        t.event(&close_conn(10, 2));
        t.event(&open_conn(11, 5));
        t.event(&handshake(12, 5, "e"));
        let sids: Vec<&str> = t.sessions().iter().map(|s| s.sid.as_str()).collect();
        assert_eq!(sids, ["c", "d", "e"]);
        assert_eq!(t.folded().map(|f| f.count), Some(2));
        assert_eq!(t.other_anomalies.len(), 1);
    }

    #[test]
    fn the_default_session_table_folds_nothing() {
        let mut t = SessionTracker::new();
        for i in 0..50 {
            t.event(&open_conn(3 * i + 1, i));
            t.event(&handshake(3 * i + 2, i, &format!("s{i}")));
            t.event(&close_conn(3 * i + 3, i));
        }
        assert_eq!(t.sessions().len(), 50);
        assert!(t.folded().is_none());
        assert!(t.other_anomalies.is_empty());
    }

    #[test]
    fn a_note_names_its_session() {
        assert_eq!(
            named_sid("stall-pongs — a POST (client→server, sid=F-AJ_x) was held").as_deref(),
            Some("F-AJ_x")
        );
        assert_eq!(named_sid("no session named"), None);
        assert_eq!(named_sid("sid= empty"), None);
    }
}
