//! What the probes share: their report types, a probe's running record (steps with timings,
//! each step with its own timeout), the Engine.IO polling handshake, and the words for the
//! failures every probe can meet. The probes themselves are in `polling.rs` and `websocket.rs`.

use std::time::{Duration, Instant};

use serde::Serialize;

use super::client::{cache_buster, Conn, Failure};
use super::target::Target;
use crate::engineio::{
    decode_payload, parse_server_error, Data, Handshake, Packet, ServerErrorCode, Version,
};
use crate::http::{HttpHead, HttpMessage};

/// How a probe ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// It worked.
    Ok,
    /// The server is configured not to offer it (e.g. `transports: ['websocket']`): not a fault.
    Disabled,
    /// It failed: something to fix.
    Problem,
    /// Not tried (an earlier probe made it pointless).
    Skipped,
}

/// What a probe found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProbeReport {
    /// `polling`, `websocket`, `websocket+deflate`, `upgrade`, `upgrade+deflate`.
    pub name: &'static str,
    /// The outcome.
    pub status: Status,
    /// The outcome in a sentence.
    pub summary: String,
    /// What happened, step by step, with timings.
    pub steps: Vec<String>,
    /// What to change, when something is wrong.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub advice: Option<String>,
    /// `Sec-WebSocket-Extensions` of the `101`, when a WebSocket opened.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extensions: Option<String>,
    /// The WebSocket was blocked after `101` (frames swallowed on the way).
    pub blocked: bool,
}

/// What the server told about itself.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ServerFacts {
    /// The `Server` response header.
    pub server_header: Option<String>,
    /// The Engine.IO revision that answered.
    pub eio: Option<u8>,
    /// Whether the server also accepts Engine.IO 3 clients (checked when 4 answered).
    pub accepts_eio3: Option<bool>,
    /// The Socket.IO protocol revision (5: socket.io 3+/4, 4: socket.io 1.x/2.x).
    pub sio: Option<u8>,
    /// `pingInterval` in ms.
    pub ping_interval: Option<u64>,
    /// `pingTimeout` in ms.
    pub ping_timeout: Option<u64>,
    /// `maxPayload` in bytes.
    pub max_payload: Option<u64>,
    /// Upgrades offered in the open packet.
    pub upgrades: Option<Vec<String>>,
    /// The server answered the Socket.IO CONNECT to `/` with CONNECT_ERROR (this text): an
    /// auth middleware, most likely; doctor sends no credentials.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connect_refused: Option<String>,
    /// A socket.io 0.9 server (protocol 1, before Engine.IO): its handshake.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub legacy: Option<LegacyFacts>,
}

/// What a socket.io 0.9 server said in its handshake (`sid:heartbeat:close:transports`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct LegacyFacts {
    /// Heartbeat timeout in seconds.
    pub heartbeat_timeout: Option<u64>,
    /// Close timeout in seconds.
    pub close_timeout: Option<u64>,
    /// Transports offered.
    pub transports: Vec<String>,
}

/// A probe's running record.
pub(super) struct Run {
    pub(super) name: &'static str,
    pub(super) steps: Vec<String>,
    pub(super) t0: Instant,
    pub(super) timeout: Duration,
}

impl Run {
    pub(super) fn new(name: &'static str, timeout: Duration) -> Run {
        Run {
            name,
            steps: vec![],
            t0: Instant::now(),
            timeout,
        }
    }
    pub(super) fn step(&mut self, s: impl Into<String>) {
        let ms = self.t0.elapsed().as_secs_f64() * 1000.0;
        self.steps.push(format!("{ms:7.1} ms  {}", s.into()));
    }
    pub(super) fn deadline(&self) -> Instant {
        Instant::now() + self.timeout
    }
    pub(super) fn end(
        &mut self,
        status: Status,
        summary: impl Into<String>,
        advice: Option<String>,
    ) -> ProbeReport {
        ProbeReport {
            name: self.name,
            status,
            summary: summary.into(),
            steps: std::mem::take(&mut self.steps),
            advice,
            extensions: None,
            blocked: false,
        }
    }
    pub(super) fn secs(&self) -> String {
        let s = self.timeout.as_secs_f64();
        if s.fract() == 0.0 {
            format!("{s:.0} s")
        } else {
            format!("{s} s")
        }
    }
}

pub(super) fn version(eio: u8) -> Version {
    match eio {
        3 => Version::V3,
        2 => Version::V2,
        _ => Version::V4,
    }
}

pub(super) fn query(target: &Target, eio: u8, transport: &str, sid: Option<&str>) -> String {
    let mut q = format!("{}?EIO={eio}&transport={transport}", target.path);
    if transport == "polling" {
        q.push_str(&format!("&t={}", cache_buster()));
    }
    if let Some(sid) = sid {
        q.push_str(&format!("&sid={sid}"));
    }
    q
}

/// An HTTP answer that is not what Engine.IO sends, in words.
/// Engine.IO error bodies are quoted whole; anything else (an HTML error page) is shown as its
/// first words on one line.
pub(super) fn http_trouble(m: &HttpMessage) -> String {
    let (status, reason) = match &m.head {
        HttpHead::Response { status, reason } => (*status, reason.as_str()),
        HttpHead::Request { .. } => (0, ""),
    };
    let head = format!("HTTP {status} {reason}").trim_end().to_string();
    match parse_server_error(&m.body) {
        Some(e) => format!("{head} {}", e.body),
        None => {
            let text = String::from_utf8_lossy(m.body.get(..400).unwrap_or(&m.body))
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
            if text.is_empty() {
                head
            } else if text.starts_with('<') {
                format!("{head}, an HTML page")
            } else {
                format!("{head}: {}", cut(&text, 60))
            }
        }
    }
}

pub(super) fn server_code(m: &HttpMessage) -> Option<ServerErrorCode> {
    parse_server_error(&m.body).map(|e| e.code)
}

/// One polling request on a fresh connection.
pub(super) async fn poll(
    run: &mut Run,
    target: &Target,
    method: &str,
    q: &str,
    body: &[u8],
) -> Result<HttpMessage, Failure> {
    let mut conn = Conn::open(target, run.deadline()).await?;
    conn.request(target, method, q, &[("Connection", "close".into())], body)
        .await
}

/// The packets of a polling body.
pub(super) fn packets(eio: u8, body: &[u8]) -> Vec<Packet> {
    decode_payload(version(eio), body, false)
        .into_iter()
        .filter_map(|i| i.packet.ok())
        .collect()
}

/// The Engine.IO handshake over polling, asking for revision `eio`; `Ok(Err)` carries a refusal.
/// The answer tells the revision the server really speaks: an engine.io 3 server ignores
/// `EIO=4` and answers with a v3 payload (`97:0{…}`), so the body is read both ways.
pub(super) async fn handshake(
    run: &mut Run,
    target: &Target,
    eio: u8,
    facts: &mut ServerFacts,
) -> Result<Result<(Handshake, u8), HttpMessage>, Failure> {
    let m = poll(
        run,
        target,
        "GET",
        &query(target, eio, "polling", None),
        b"",
    )
    .await?;
    if let Some(s) = m.header("server") {
        facts.server_header.get_or_insert_with(|| s.to_string());
    }
    if m.status() != Some(200) {
        run.step(format!("EIO={eio} handshake: {}", http_trouble(&m)));
        return Ok(Err(m));
    }
    let other = if eio >= 4 { 3 } else { 4 };
    let open = [eio, other].into_iter().find_map(|v| {
        let ps = packets(v, &m.body);
        // Engine.IO 3 servers (socket.io 2.x) put the Socket.IO CONNECT of `/` right after it.
        let connect = ps.iter().find_map(|p| match p {
            Packet::Message(Data::Text(t)) if t.starts_with('0') => Some(t.clone()),
            _ => None,
        });
        ps.into_iter().find_map(|p| match p {
            Packet::Open(h) => Some((h, v, connect.clone())),
            _ => None,
        })
    });
    match open {
        Some((h, v, connect)) => {
            if let Some(t) = connect {
                facts
                    .sio
                    .get_or_insert(if t.starts_with("0{") { 5 } else { 4 });
            }
            if v == eio {
                run.step(format!("EIO={eio} handshake: open packet, sid {}", h.sid));
            } else {
                run.step(format!(
                    "EIO={eio} handshake: answered in Engine.IO {v} framing (the server ignores EIO={eio}), sid {}",
                    h.sid
                ));
            }
            Ok(Ok((h, v)))
        }
        None => {
            run.step(format!(
                "EIO={eio} handshake: 200 without an open packet: {}",
                http_trouble(&m)
            ));
            Ok(Err(m))
        }
    }
}

pub(super) fn record(facts: &mut ServerFacts, eio: u8, h: &Handshake) {
    facts.eio = Some(eio);
    facts.ping_interval = h.ping_interval;
    facts.ping_timeout = h.ping_timeout;
    facts.max_payload = h.max_payload;
    facts.upgrades = h.upgrades.clone();
}

/// A Socket.IO DISCONNECT then the Engine.IO close, as a polling body (what
/// `socket.disconnect()` sends): the server then reports "client namespace disconnect".
pub(super) fn close_body(eio: u8) -> &'static [u8] {
    if eio >= 4 {
        b"41\x1e1"
    } else {
        b"2:411:1"
    }
}

pub(super) fn refused(run: &mut Run, m: &HttpMessage) -> ProbeReport {
    let t = http_trouble(m);
    match server_code(m) {
        Some(ServerErrorCode::TransportUnknown) => {
            run.step("the server does not offer polling");
            run.end(
                Status::Disabled,
                format!("polling is disabled on the server ({t}); clients must use transports: ['websocket']"),
                None,
            )
        }
        Some(ServerErrorCode::UnsupportedProtocolVersion) => run.end(
            Status::Problem,
            format!("the server refuses Engine.IO 4 and 3 ({t})"),
            Some("match the client and server major versions (socket.io 3+/4 client for a 3+/4 server; allowEIO3: true lets a 4.x server take 2.x clients)".into()),
        ),
        _ if m.status() == Some(404) => run.end(
            Status::Problem,
            format!("nothing answers Engine.IO at this path ({t})"),
            Some("check the path: the server's `path` option and the client's must match (default /socket.io/); use --path".into()),
        ),
        _ => run.end(
            Status::Problem,
            format!("the polling handshake was refused ({t})"),
            Some("look at what answers on this port: a proxy, an auth layer (allowRequest), or another app".into()),
        ),
    }
}

pub(super) fn failed(run: &mut Run, f: &Failure, what: &str) -> ProbeReport {
    run.step(format!("{what}: {f}"));
    let secs = run.secs();
    let (summary, advice) = match f {
        Failure::Timeout { .. } => (
            format!("no answer to {what} within {secs}"),
            "the server or something in front of it holds the request (check proxies and the server's event loop), or nothing handles this path (a node server leaves unknown paths unanswered: check --path)",
        ),
        Failure::Refused => (format!("{what}: connection refused"), "the server is not running on this port"),
        Failure::Closed { .. } => (
            format!("{what}: {f}"),
            "something closed the connection without an HTTP answer: a proxy, a firewall, or a crash",
        ),
        Failure::Tls(_) => (format!("{what}: {f}"), "check the certificate and that the port speaks TLS"),
        _ => (format!("{what}: {f}"), "look at what answers on this port"),
    };
    run.end(Status::Problem, summary, Some(advice.into()))
}

pub(super) fn cut(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n).collect();
        t.push('…');
        t
    }
}
