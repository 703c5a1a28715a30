//! The probes: polling handshake and round trip, a WebSocket opened directly, and the polling →
//! WebSocket upgrade, each with and without permessage-deflate. A probe is a short script of
//! steps; each step has its own timeout, and the first step that fails says what went wrong.

use std::time::{Duration, Instant};

use serde::Serialize;

use super::client::{cache_buster, websocket_key, Conn, Failure, WsClient, WsIn};
use super::target::Target;
use crate::engineio::{
    decode_payload, decode_text, parse_server_error, Data, Handshake, Packet, ServerErrorCode,
    Version,
};
use crate::http::HttpMessage;

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
}

/// A probe's running record.
struct Run {
    name: &'static str,
    steps: Vec<String>,
    t0: Instant,
    timeout: Duration,
}

impl Run {
    fn new(name: &'static str, timeout: Duration) -> Run {
        Run {
            name,
            steps: vec![],
            t0: Instant::now(),
            timeout,
        }
    }
    fn step(&mut self, s: impl Into<String>) {
        let ms = self.t0.elapsed().as_secs_f64() * 1000.0;
        self.steps.push(format!("{ms:7.1} ms  {}", s.into()));
    }
    fn deadline(&self) -> Instant {
        Instant::now() + self.timeout
    }
    fn end(
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
    fn secs(&self) -> String {
        let s = self.timeout.as_secs_f64();
        if s.fract() == 0.0 {
            format!("{s:.0} s")
        } else {
            format!("{s} s")
        }
    }
}

fn version(eio: u8) -> Version {
    match eio {
        3 => Version::V3,
        2 => Version::V2,
        _ => Version::V4,
    }
}

fn query(target: &Target, eio: u8, transport: &str, sid: Option<&str>) -> String {
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
fn http_trouble(m: &HttpMessage) -> String {
    let body = String::from_utf8_lossy(m.body.get(..200).unwrap_or(&m.body)).into_owned();
    let status = m.status().unwrap_or(0);
    match parse_server_error(&m.body) {
        Some(e) => format!("HTTP {status} {}", e.body),
        None => format!("HTTP {status} {}", body.trim()),
    }
}

fn server_code(m: &HttpMessage) -> Option<ServerErrorCode> {
    parse_server_error(&m.body).map(|e| e.code)
}

/// One polling request on a fresh connection.
async fn poll(
    run: &mut Run,
    target: &Target,
    method: &str,
    q: &str,
    body: &[u8],
) -> Result<HttpMessage, Failure> {
    let mut conn = Conn::open(target, run.deadline()).await?;
    let (m, _) = conn
        .request(target, method, q, &[("Connection", "close".into())], body)
        .await?;
    Ok(m)
}

/// The packets of a polling body.
fn packets(eio: u8, body: &[u8]) -> Vec<Packet> {
    decode_payload(version(eio), body, false)
        .into_iter()
        .filter_map(|i| i.packet.ok())
        .collect()
}

/// The Engine.IO handshake over polling, asking for revision `eio`; `Ok(Err)` carries a refusal.
/// The answer tells the revision the server really speaks: an engine.io 3 server ignores
/// `EIO=4` and answers with a v3 payload (`97:0{…}`), so the body is read both ways.
async fn handshake(
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

fn record(facts: &mut ServerFacts, eio: u8, h: &Handshake) {
    facts.eio = Some(eio);
    facts.ping_interval = h.ping_interval;
    facts.ping_timeout = h.ping_timeout;
    facts.max_payload = h.max_payload;
    facts.upgrades = h.upgrades.clone();
}

/// A Socket.IO DISCONNECT then the Engine.IO close, as a polling body (what
/// `socket.disconnect()` sends): the server then reports "client namespace disconnect".
fn close_body(eio: u8) -> &'static [u8] {
    if eio >= 4 {
        b"41\x1e1"
    } else {
        b"2:411:1"
    }
}

/// Polling: handshake (EIO=4, then EIO=3 when 4 is refused), the Socket.IO CONNECT round trip,
/// and a clean close. Returns the report and the revision that answered.
pub async fn polling(target: &Target, timeout: Duration, facts: &mut ServerFacts) -> ProbeReport {
    let mut run = Run::new("polling", timeout);
    let (hs, eio) = match handshake(&mut run, target, 4, facts).await {
        Ok(Ok(x)) => x,
        Ok(Err(m)) if server_code(&m) == Some(ServerErrorCode::UnsupportedProtocolVersion) => {
            match handshake(&mut run, target, 3, facts).await {
                Ok(Ok(x)) => x,
                Ok(Err(m)) => return refused(&mut run, &m),
                Err(f) => return failed(&mut run, &f, "the EIO=3 handshake"),
            }
        }
        Ok(Err(m)) => return refused(&mut run, &m),
        Err(f) => return failed(&mut run, &f, "the polling handshake"),
    };
    record(facts, eio, &hs);
    let sid = hs.sid.clone();
    // Socket.IO: v5 needs a CONNECT from the client; v4 (EIO=3) connects `/` by itself.
    if eio >= 4 {
        let q = query(target, eio, "polling", Some(&sid));
        match poll(&mut run, target, "POST", &q, b"40").await {
            Ok(m) if m.status() == Some(200) => run.step("POST 40 (Socket.IO CONNECT): ok"),
            Ok(m) => {
                let t = http_trouble(&m);
                run.step(format!("POST 40: {t}"));
                return run.end(
                    Status::Problem,
                    format!("the handshake worked but the first POST was refused ({t})"),
                    Some("several server processes without sticky sessions answer this way (\"Session ID unknown\"): enable sticky sessions in the load balancer, or use transports: ['websocket']".into()),
                );
            }
            Err(f) => return failed(&mut run, &f, "the POST of the CONNECT packet"),
        }
    }
    if eio < 4 {
        // Engine.IO 3: the client pings; the pong comes back on the next GET.
        let q = query(target, eio, "polling", Some(&sid));
        match poll(&mut run, target, "POST", &q, b"1:2").await {
            Ok(m) if m.status() == Some(200) => run.step("POST 2 (ping): ok"),
            Ok(m) => {
                let t = http_trouble(&m);
                run.step(format!("POST 2: {t}"));
                return run.end(
                    Status::Problem,
                    format!("the handshake worked but the first POST was refused ({t})"),
                    Some("several server processes without sticky sessions answer this way: enable sticky sessions (session affinity) in the load balancer".into()),
                );
            }
            Err(f) => return failed(&mut run, &f, "the POST of a ping"),
        }
    }
    let q = query(target, eio, "polling", Some(&sid));
    match poll(&mut run, target, "GET", &q, b"").await {
        Ok(m) if m.status() == Some(200) && eio < 4 => {
            let pong = packets(eio, &m.body)
                .iter()
                .any(|p| matches!(p, Packet::Pong(_)));
            run.step(if pong {
                "GET: pong received".to_string()
            } else {
                format!("GET: {}", cut(&String::from_utf8_lossy(&m.body), 60))
            });
        }
        Ok(m) if m.status() == Some(200) => {
            let sio = packets(eio, &m.body).into_iter().find_map(|p| match p {
                Packet::Message(Data::Text(t)) if t.starts_with('0') => Some(t),
                _ => None,
            });
            match sio {
                Some(t) => {
                    let v = if t.starts_with("0{") { 5 } else { 4 };
                    facts.sio = Some(v);
                    run.step(format!(
                        "GET: Socket.IO CONNECT answered ({})",
                        cut(&format!("4{t}"), 60)
                    ));
                }
                None => run.step(format!(
                    "GET: {} (no Socket.IO CONNECT answer: Engine.IO without Socket.IO?)",
                    cut(&String::from_utf8_lossy(&m.body), 60)
                )),
            }
        }
        Ok(m) => {
            let t = http_trouble(&m);
            run.step(format!("GET: {t}"));
            return run.end(
                Status::Problem,
                format!("the handshake worked but the next GET was refused ({t})"),
                Some("several server processes without sticky sessions answer this way: enable sticky sessions (session affinity) in the load balancer".into()),
            );
        }
        Err(f) => return failed(&mut run, &f, "the first polling GET"),
    }
    let q = query(target, eio, "polling", Some(&sid));
    let _ = poll(&mut run, target, "POST", &q, close_body(eio)).await;
    run.step("POST 41 and close: session closed");
    if eio == 4 {
        // Does it also take Engine.IO 3 (socket.io 2.x) clients?
        let mut side = Run::new("eio3", timeout);
        let mut scratch = ServerFacts::default();
        match handshake(&mut side, target, 3, &mut scratch).await {
            Ok(Ok((h, _))) => {
                facts.accepts_eio3 = Some(true);
                let q = query(target, 3, "polling", Some(&h.sid));
                let _ = poll(&mut side, target, "POST", &q, close_body(3)).await;
            }
            Ok(Err(_)) => facts.accepts_eio3 = Some(false),
            Err(_) => {}
        }
    }
    let summary = format!(
        "long-polling works (Engine.IO {eio}, handshake, send and receive in {:.0} ms)",
        run.t0.elapsed().as_secs_f64() * 1000.0
    );
    run.end(Status::Ok, summary, None)
}

fn refused(run: &mut Run, m: &HttpMessage) -> ProbeReport {
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

fn failed(run: &mut Run, f: &Failure, what: &str) -> ProbeReport {
    run.step(format!("{what}: {f}"));
    let secs = run.secs();
    let (summary, advice) = match f {
        Failure::Timeout { .. } => (
            format!("no answer to {what} within {secs}"),
            "the server or something in front of it holds the request: check proxies and the server's event loop",
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

fn cut(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n).collect();
        t.push('…');
        t
    }
}

/// The offer of permessage-deflate as browsers and the `ws` client send it.
const DEFLATE_OFFER: &str = "permessage-deflate; client_max_window_bits";

/// Opens a WebSocket (upgrade request and `101`); `Err` is the finished report.
async fn open_ws(
    run: &mut Run,
    target: &Target,
    q: &str,
    deflate: bool,
) -> Result<(WsClient, Option<String>), ProbeReport> {
    let mut headers = vec![
        ("Connection", "Upgrade".to_string()),
        ("Upgrade", "websocket".to_string()),
        ("Sec-WebSocket-Version", "13".to_string()),
        ("Sec-WebSocket-Key", websocket_key()),
    ];
    if deflate {
        headers.push(("Sec-WebSocket-Extensions", DEFLATE_OFFER.to_string()));
    }
    let mut conn = match Conn::open(target, run.deadline()).await {
        Ok(c) => c,
        Err(f) => return Err(failed(run, &f, "the WebSocket connection")),
    };
    let (m, rest) = match conn.request(target, "GET", q, &headers, b"").await {
        Ok(x) => x,
        Err(f) => {
            return Err(failed(
                run,
                &f,
                "the answer to the WebSocket upgrade request",
            ));
        }
    };
    if m.status() != Some(101) {
        let t = http_trouble(&m);
        run.step(format!("upgrade request: {t}"));
        let r = run;
        return Err(match server_code(&m) {
            Some(ServerErrorCode::TransportUnknown) => r.end(
                Status::Disabled,
                format!("WebSocket is disabled on the server ({t})"),
                None,
            ),
            Some(ServerErrorCode::BadRequest) if m.status() == Some(400) => r.end(
                Status::Problem,
                format!("the server refused the WebSocket upgrade ({t})"),
                Some("a proxy in front of the server may drop the Upgrade and Connection headers (nginx needs proxy_http_version 1.1 and proxy_set_header Upgrade/Connection)".into()),
            ),
            _ => r.end(
                Status::Problem,
                format!("the WebSocket upgrade was answered with {t} instead of 101"),
                Some("something in between does not pass WebSocket upgrades: configure the proxy to forward Upgrade/Connection headers, or use wss:// (proxies rarely touch TLS)".into()),
            ),
        });
    }
    let ext = m.header("sec-websocket-extensions").map(str::to_string);
    run.step(format!(
        "101 Switching Protocols{}",
        ext.as_deref()
            .map(|e| format!(", extensions: {e}"))
            .unwrap_or_default()
    ));
    conn.set_deadline(run.deadline());
    Ok((conn.websocket(ext.as_deref(), rest), ext))
}

/// Waits for a text packet matching `want`, answering heartbeats on the way.
async fn expect(
    run: &mut Run,
    ws: &mut WsClient,
    eio: u8,
    what: &str,
    want: impl Fn(&Packet) -> bool,
) -> Result<Packet, Failure> {
    ws.set_deadline(run.deadline());
    for _ in 0..32 {
        match ws.recv(what).await? {
            WsIn::Text(t) => match decode_text(version(eio), &t) {
                Ok(p) if want(&p) => return Ok(p),
                Ok(Packet::Ping(d)) if eio >= 4 && d.is_empty() => {
                    ws.send_text("3").await?;
                }
                Ok(_) => {}
                Err(e) => {
                    return Err(Failure::Protocol(format!(
                        "bad Engine.IO packet {t:?}: {e}"
                    )))
                }
            },
            WsIn::Binary(_) => {}
            WsIn::Close(code) => {
                return Err(Failure::Protocol(format!(
                    "the server closed the WebSocket ({}) while we waited for {what}",
                    code.map_or("no status code".to_string(), |c| format!("code {c}"))
                )))
            }
        }
    }
    Err(Failure::Protocol(format!(
        "{what} never came among 32 messages"
    )))
}

/// What a WebSocket failure after `101` means.
fn ws_failure(
    run: &mut Run,
    ws: &WsClient,
    f: &Failure,
    what: &str,
    ext: Option<String>,
    compressed_sent: bool,
) -> ProbeReport {
    run.step(format!("{what}: {f}"));
    let secs = run.secs();
    let mut r = match f {
        Failure::Timeout { .. } if ws.frames_in == 0 => {
            let mut r = run.end(
                Status::Problem,
                format!("101 received, then no frame in {secs}: something between you and the server swallows WebSocket frames"),
                Some("use wss:// on port 443 (TLS hides the frames from security software and proxies) or keep polling (transports: ['polling'])".into()),
            );
            r.blocked = true;
            r
        }
        Failure::Timeout { .. } if compressed_sent => run.end(
            Status::Problem,
            format!("frames arrive, but the server did not answer our compressed message within {secs}: it may fail to inflate permessage-deflate"),
            Some("disable compression on the server (perMessageDeflate: false) and check its WebSocket library version".into()),
        ),
        Failure::Timeout { .. } => {
            let mut r = run.end(
                Status::Problem,
                format!("frames arrive from the server, but ours got no answer within {secs}: something drops client → server WebSocket frames"),
                Some("use wss:// on port 443 or keep polling".into()),
            );
            r.blocked = true;
            r
        }
        Failure::Protocol(p) if p.contains("code 1007") => run.end(
            Status::Problem,
            "the server closed with 1007 (invalid payload data) after our compressed message: it failed to inflate it".to_string(),
            Some("disable compression on the server (perMessageDeflate: false) or upgrade its WebSocket library".into()),
        ),
        _ => run.end(
            Status::Problem,
            format!("{what}: {f}"),
            Some("something in between may be cutting WebSocket connections; try wss:// or polling".into()),
        ),
    };
    r.extensions = ext;
    r
}

/// A WebSocket opened directly (`transport=websocket`, no sid): `101`, the open packet, a
/// Socket.IO CONNECT (or, for Engine.IO 3, the server's own `40`) and a clean close.
pub async fn websocket(
    target: &Target,
    timeout: Duration,
    eio: u8,
    deflate: bool,
    facts: &mut ServerFacts,
) -> ProbeReport {
    let name = if deflate {
        "websocket+deflate"
    } else {
        "websocket"
    };
    let mut run = Run::new(name, timeout);
    let (mut ws, ext) = match open_ws(
        &mut run,
        target,
        &query(target, eio, "websocket", None),
        deflate,
    )
    .await
    {
        Ok(x) => x,
        Err(r) => return r,
    };
    let open = match expect(&mut run, &mut ws, eio, "the open packet", |p| {
        matches!(p, Packet::Open(_))
    })
    .await
    {
        Ok(Packet::Open(h)) => h,
        Ok(_) => {
            return ws_failure(
                &mut run,
                &ws,
                &Failure::Protocol("no open packet".into()),
                "the open packet",
                ext,
                false,
            )
        }
        Err(f) => return ws_failure(&mut run, &ws, &f, "the open packet", ext, false),
    };
    run.step(format!("open packet, sid {}", open.sid));
    if facts.eio.is_none() {
        record(facts, eio, &open);
    }
    if eio >= 4 {
        if let Err(f) = ws.send_text("40").await {
            return ws_failure(&mut run, &ws, &f, "sending CONNECT", ext, ws.deflate);
        }
        run.step(if ws.deflate {
            "sent 40 (CONNECT), compressed"
        } else {
            "sent 40 (CONNECT)"
        });
    }
    let is_connect = |p: &Packet| matches!(p, Packet::Message(Data::Text(t)) if t.starts_with('0'));
    match expect(&mut run, &mut ws, eio, "the CONNECT answer", is_connect).await {
        Ok(p) => {
            if let Packet::Message(Data::Text(t)) = &p {
                facts
                    .sio
                    .get_or_insert(if t.starts_with("0{") { 5 } else { 4 });
                run.step(format!("CONNECT answered: {}", cut(&format!("4{t}"), 60)));
            }
        }
        Err(f) => {
            let sent = ws.deflate && eio >= 4;
            return ws_failure(&mut run, &ws, &f, "the CONNECT answer", ext, sent);
        }
    }
    let grace = timeout.min(Duration::from_millis(500));
    let compressed = ws.deflate;
    let _ = ws.send_text("41").await;
    ws.close(grace).await;
    run.step("closed (1000)");
    let summary = match (deflate, compressed) {
        (false, _) => "WebSocket works (101, open packet, messages both ways)".to_string(),
        (true, true) => "WebSocket with permessage-deflate works (negotiated; our compressed message was understood)".to_string(),
        (true, false) => "WebSocket works; the server declined permessage-deflate (off by default since socket.io 3)".to_string(),
    };
    let mut r = run.end(Status::Ok, summary, None);
    r.extensions = ext;
    r
}

/// The upgrade: a polling session, then a WebSocket with its sid, `2probe` → `3probe`, `5`,
/// then one exchange over the WebSocket (CONNECT for Engine.IO 4, a ping for 3).
pub async fn upgrade(target: &Target, timeout: Duration, eio: u8, deflate: bool) -> ProbeReport {
    let name = if deflate {
        "upgrade+deflate"
    } else {
        "upgrade"
    };
    let mut run = Run::new(name, timeout);
    let mut scratch = ServerFacts::default();
    let hs = match handshake(&mut run, target, eio, &mut scratch).await {
        Ok(Ok((h, _))) => h,
        Ok(Err(m)) => return refused(&mut run, &m),
        Err(f) => return failed(&mut run, &f, "the polling handshake"),
    };
    if !hs
        .upgrades
        .as_ref()
        .is_some_and(|u| u.iter().any(|x| x == "websocket"))
    {
        run.step("the open packet offers no websocket upgrade");
        return run.end(
            Status::Disabled,
            "the server offers no upgrade to WebSocket",
            None,
        );
    }
    let q = query(target, eio, "websocket", Some(&hs.sid));
    let (mut ws, ext) = match open_ws(&mut run, target, &q, deflate).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    if let Err(f) = ws.send_text("2probe").await {
        return ws_failure(&mut run, &ws, &f, "sending 2probe", ext, false);
    }
    run.step("sent 2probe");
    let is_probe = |p: &Packet| matches!(p, Packet::Pong(Data::Text(t)) if t == "probe");
    if let Err(f) = expect(&mut run, &mut ws, eio, "3probe", is_probe).await {
        let mut r = ws_failure(&mut run, &ws, &f, "3probe", ext, false);
        if r.blocked {
            r.summary = format!(
                "{}; the upgrade never completes (engine.io-client then stays on polling)",
                r.summary
            );
        }
        return r;
    }
    run.step("3probe received");
    if let Err(f) = ws.send_text("5").await {
        return ws_failure(&mut run, &ws, &f, "sending 5 (upgrade)", ext, ws.deflate);
    }
    run.step("sent 5 (upgrade)");
    let (send, what): (&str, &str) = if eio >= 4 {
        ("40", "the CONNECT answer")
    } else {
        ("2", "the pong")
    };
    if let Err(f) = ws.send_text(send).await {
        return ws_failure(&mut run, &ws, &f, what, ext, ws.deflate);
    }
    let want = |p: &Packet| match p {
        Packet::Message(Data::Text(t)) => t.starts_with('0'),
        Packet::Pong(_) => true,
        _ => false,
    };
    if let Err(f) = expect(&mut run, &mut ws, eio, what, want).await {
        let sent = ws.deflate;
        return ws_failure(&mut run, &ws, &f, what, ext, sent);
    }
    run.step(format!("{what} received over the WebSocket"));
    let grace = timeout.min(Duration::from_millis(500));
    let compressed = ws.deflate;
    let _ = ws.send_text("41").await;
    ws.close(grace).await;
    let summary = match (deflate, compressed) {
        (true, true) => "the upgrade from polling to WebSocket completes, with permessage-deflate",
        (true, false) => {
            "the upgrade from polling to WebSocket completes (permessage-deflate declined)"
        }
        (false, _) => "the upgrade from polling to WebSocket completes",
    };
    let mut r = run.end(Status::Ok, summary, None);
    r.extensions = ext;
    r
}
