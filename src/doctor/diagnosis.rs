//! Running the probes in order and turning what they found into a verdict: findings in plain
//! words, the server's settings and versions, and what to change.

use std::time::{Duration, Instant};

use serde::Serialize;

use super::client::{Conn, Failure};
use super::probes::{ProbeReport, ServerFacts, Status};
use super::target::Target;
use super::{polling, websocket};

/// Settings of a run.
#[derive(Debug, Clone)]
pub struct Options {
    /// Where.
    pub target: Target,
    /// The timeout of every step.
    pub timeout: Duration,
}

/// Everything doctor found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Diagnosis {
    /// The URL as probed.
    pub target: String,
    /// A TCP connection could be made.
    pub reachable: bool,
    /// How long the TCP (and TLS) connection took, in ms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connect_ms: Option<f64>,
    /// What the server said about itself.
    pub server: ServerFacts,
    /// The probes, in the order they ran.
    pub probes: Vec<ProbeReport>,
    /// Problems, one sentence each.
    pub problems: Vec<String>,
    /// Remarks that are not problems (a transport disabled on purpose, compression declined).
    pub notes: Vec<String>,
    /// What to change.
    pub advice: Vec<String>,
    /// True when nothing is wrong.
    pub ok: bool,
}

fn add(v: &mut Vec<String>, s: String) {
    if !v.contains(&s) {
        v.push(s);
    }
}

/// Runs every probe against the target.
pub async fn diagnose(opts: &Options) -> Diagnosis {
    let t = &opts.target;
    let mut d = Diagnosis {
        target: t.display(),
        reachable: false,
        connect_ms: None,
        server: ServerFacts::default(),
        probes: vec![],
        problems: vec![],
        notes: vec![],
        advice: vec![],
        ok: false,
    };
    let t0 = Instant::now();
    match Conn::open(t, Instant::now() + opts.timeout).await {
        Ok(_) => {
            d.reachable = true;
            d.connect_ms = Some(t0.elapsed().as_secs_f64() * 1000.0);
        }
        Err(f) => {
            let secs = opts.timeout.as_secs_f64();
            let (problem, advice) = match &f {
                Failure::Refused => (
                    format!("nothing accepts connections on {}: the server is down, or listens on another port or address", t.authority()),
                    "start the server, or check the host and port (a server bound to 127.0.0.1 is not reachable from elsewhere)".to_string(),
                ),
                Failure::Timeout { .. } => (
                    format!("no answer from {} within {secs} s: a firewall drops the connection, or the host is unreachable", t.authority()),
                    "check firewalls and security groups between you and the server".to_string(),
                ),
                Failure::Resolve(e) => (
                    format!("the name {} does not resolve ({e})", t.host),
                    "check the host name".to_string(),
                ),
                other => (
                    format!("cannot connect to {}: {other}", t.authority()),
                    "check the URL, and for https the certificate".to_string(),
                ),
            };
            d.problems.push(problem);
            d.advice.push(advice);
            return d;
        }
    }
    let polling = polling::polling(t, opts.timeout, &mut d.server).await;
    let polling_ok = polling.status == Status::Ok;
    d.probes.push(polling);
    // The revision that answered polling; 4 when polling told nothing.
    let eio = d.server.eio.unwrap_or(4);
    let offers_upgrade = d
        .server
        .upgrades
        .as_ref()
        .is_some_and(|u| u.iter().any(|x| x == "websocket"));
    let can_upgrade = polling_ok && offers_upgrade;
    if d.server.legacy.is_some() {
        // socket.io 0.9 has no Engine.IO WebSocket to probe.
        for name in [
            "websocket",
            "websocket+deflate",
            "upgrade",
            "upgrade+deflate",
        ] {
            d.probes.push(ProbeReport {
                name,
                status: Status::Skipped,
                summary: "not an Engine.IO server".into(),
                steps: vec![],
                advice: None,
                extensions: None,
                blocked: false,
            });
        }
        conclude(&mut d);
        return d;
    }
    // The WebSocket probes are independent: run together, the whole run takes about one
    // timeout even when every one of them waits for frames that never come.
    let (mut f1, mut f2) = (d.server.clone(), d.server.clone());
    let skipped = |deflate: bool| ProbeReport {
        name: if deflate {
            "upgrade+deflate"
        } else {
            "upgrade"
        },
        status: Status::Skipped,
        summary: if polling_ok {
            "the server offers no upgrade to WebSocket".into()
        } else {
            "no polling session to upgrade".into()
        },
        steps: vec![],
        advice: None,
        extensions: None,
        blocked: false,
    };
    let upgrade = |deflate: bool| async move {
        if can_upgrade {
            websocket::upgrade(t, opts.timeout, eio, deflate).await
        } else {
            skipped(deflate)
        }
    };
    let (ws, wsd, up, upd) = tokio::join!(
        websocket::websocket(t, opts.timeout, eio, false, &mut f1),
        websocket::websocket(t, opts.timeout, eio, true, &mut f2),
        upgrade(false),
        upgrade(true),
    );
    for f in [f1, f2] {
        merge(&mut d.server, f);
    }
    d.probes.extend([ws, wsd, up, upd]);
    conclude(&mut d);
    d
}

/// Fills what `into` does not know yet from `from`.
fn merge(into: &mut ServerFacts, from: ServerFacts) {
    if into.eio.is_none() {
        into.eio = from.eio;
        into.ping_interval = from.ping_interval;
        into.ping_timeout = from.ping_timeout;
        into.max_payload = from.max_payload;
        into.upgrades = from.upgrades;
    }
    into.sio = into.sio.or(from.sio);
    into.connect_refused = into.connect_refused.take().or(from.connect_refused);
    into.server_header = into.server_header.take().or(from.server_header);
}

/// Problems, notes and advice from the probes and facts.
fn conclude(d: &mut Diagnosis) {
    for p in &d.probes {
        match p.status {
            Status::Problem => {
                add(&mut d.problems, format!("{}: {}", p.name, p.summary));
                if let Some(a) = &p.advice {
                    add(&mut d.advice, a.clone());
                }
            }
            Status::Disabled => add(&mut d.notes, format!("{}: {}", p.name, p.summary)),
            Status::Ok if p.name == "websocket+deflate" && p.extensions.is_none() => add(
                &mut d.notes,
                "the server declines permessage-deflate: messages are not compressed (the default since socket.io 3; fine)".into(),
            ),
            _ => {}
        }
    }
    let poll_ok = d
        .probes
        .iter()
        .any(|p| p.name == "polling" && p.status == Status::Ok);
    let blocked = d.probes.iter().any(|p| p.blocked);
    if blocked && poll_ok {
        add(
            &mut d.advice,
            "clients with default transports keep working over polling (slower, more requests); clients with transports: ['websocket'] cannot connect at all".into(),
        );
    }
    let deflate_ok = d
        .probes
        .iter()
        .any(|p| p.name == "websocket+deflate" && p.status == Status::Ok && p.extensions.is_some());
    let deflate_bad = d
        .probes
        .iter()
        .any(|p| p.name.ends_with("+deflate") && p.status == Status::Problem)
        && d.probes
            .iter()
            .any(|p| p.name == "websocket" && p.status == Status::Ok);
    if deflate_bad {
        add(
            &mut d.advice,
            "WebSocket works without compression but not with it: set perMessageDeflate: false on the server".into(),
        );
    }
    if deflate_ok {
        add(
            &mut d.notes,
            "permessage-deflate is on: large messages are compressed (CPU and memory per connection on the server)".into(),
        );
    }
    if let Some(why) = &d.server.connect_refused {
        add(
            &mut d.notes,
            format!("the server refuses a Socket.IO CONNECT to / without credentials (CONNECT_ERROR {why}): the transports were tested up to that answer; doctor sends no auth payload"),
        );
    }
    if d.server.accepts_eio3 == Some(false) && d.server.eio == Some(4) {
        add(
            &mut d.notes,
            "the server refuses Engine.IO 3: socket.io 2.x clients cannot connect (allowEIO3: true would let them)".into(),
        );
    }
    if let (Some(i), Some(t)) = (d.server.ping_interval, d.server.ping_timeout) {
        if i + t >= 60_000 {
            add(
                &mut d.advice,
                format!("pingInterval + pingTimeout is {} s: a proxy or load balancer with a 60 s idle timeout may cut quiet connections; lower pingInterval", (i + t) / 1000),
            );
        }
    }
    d.ok = d.problems.is_empty();
}

impl Diagnosis {
    /// The server's settings and versions in one line each.
    pub fn settings_lines(&self) -> Vec<String> {
        let s = &self.server;
        let mut out = vec![];
        if let Some(l) = &s.legacy {
            let secs = |v: Option<u64>| v.map_or("?".to_string(), |v| format!("{v} s"));
            out.push(format!(
                "socket.io 0.9 (protocol 1): heartbeat timeout {}, close timeout {}, transports {}",
                secs(l.heartbeat_timeout),
                secs(l.close_timeout),
                l.transports.join(", ")
            ));
        }
        if let Some(e) = s.eio {
            let gen = match (e, s.sio) {
                (4, _) => "socket.io 3.x/4.x",
                (3, Some(4)) | (3, None) => "socket.io 1.x/2.x",
                _ => "engine.io",
            };
            let mut line = format!("Engine.IO {e} ({gen})");
            if let Some(v) = s.sio {
                line.push_str(&format!(", Socket.IO protocol {v}"));
            }
            match s.accepts_eio3 {
                Some(true) if e == 4 => {
                    line.push_str(", also accepts Engine.IO 3 clients (allowEIO3)")
                }
                Some(false) if e == 4 => line.push_str(", refuses Engine.IO 3 clients"),
                _ => {}
            }
            out.push(line);
        }
        if s.ping_interval.is_some() || s.ping_timeout.is_some() {
            let ms = |v: Option<u64>| v.map_or("?".to_string(), |v| format!("{v} ms"));
            out.push(format!(
                "pingInterval {}, pingTimeout {}{}",
                ms(s.ping_interval),
                ms(s.ping_timeout),
                s.max_payload
                    .map(|m| format!(", maxPayload {m} bytes"))
                    .unwrap_or_default()
            ));
        }
        if let Some(u) = &s.upgrades {
            out.push(format!(
                "upgrades offered: {}",
                if u.is_empty() {
                    "none".to_string()
                } else {
                    u.join(", ")
                }
            ));
        }
        // Only when some HTTP answer came back: silence says nothing about the header.
        if s.eio.is_some() || s.legacy.is_some() || s.server_header.is_some() {
            out.push(format!(
                "Server header: {}",
                s.server_header.as_deref().unwrap_or("(none sent)")
            ));
        }
        out
    }
}
