//! The polling probe (engine.io-protocol "HTTP long-polling"): the handshake, one exchange in
//! each direction, a clean close, and whether Engine.IO 3 clients are accepted too.

use std::time::Duration;

use super::client::cache_buster;
use super::probes::{
    close_body, cut, failed, handshake, http_trouble, packets, poll, query, record, refused,
    server_code, LegacyFacts, ProbeReport, Run, ServerFacts, Status,
};
use super::target::Target;
use crate::engineio::{Data, Packet, ServerErrorCode};
use crate::socketio::legacy::parse_handshake;

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
        Ok(Err(m)) if m.body.starts_with(LEGACY_WELCOME) => {
            return legacy(&mut run, target, facts).await
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
                Packet::Message(Data::Text(t)) if t.starts_with('0') || t.starts_with('4') => {
                    Some(t)
                }
                _ => None,
            });
            match sio {
                Some(t) if t.starts_with('4') => {
                    run.step(format!(
                        "GET: Socket.IO CONNECT refused ({})",
                        cut(&format!("4{t}"), 80)
                    ));
                    facts.connect_refused = Some(cut(t.get(1..).unwrap_or(""), 120));
                    // v5 carries an object (`44{"message":…}`), protocol 4 a string.
                    facts
                        .sio
                        .get_or_insert(if t.starts_with("4{") { 5 } else { 4 });
                }
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

/// What a socket.io 0.9 server answers on its path root.
const LEGACY_WELCOME: &[u8] = b"Welcome to socket.io.";

/// A socket.io 0.9 server: confirm with its own handshake (`GET <path>1/`), report its settings,
/// and say that Engine.IO clients (socket.io 1.0 and later) cannot talk to it.
async fn legacy(run: &mut Run, target: &Target, facts: &mut ServerFacts) -> ProbeReport {
    run.step("\"Welcome to socket.io.\": the signature of a socket.io 0.9 server");
    let q = format!("{}1/?t={}", target.path, cache_buster());
    let hs = match poll(run, target, "GET", &q, b"").await {
        Ok(m) if m.status() == Some(200) => {
            parse_handshake(String::from_utf8_lossy(&m.body).trim()).ok()
        }
        Ok(m) => {
            run.step(format!("legacy handshake: {}", http_trouble(&m)));
            None
        }
        Err(f) => {
            run.step(format!("legacy handshake: {f}"));
            None
        }
    };
    if let Some(h) = &hs {
        run.step(format!(
            "legacy handshake: sid {}, transports {}",
            h.sid,
            h.transports.join(", ")
        ));
        facts.legacy = Some(LegacyFacts {
            heartbeat_timeout: h.heartbeat_timeout,
            close_timeout: h.close_timeout,
            transports: h.transports.clone(),
        });
    }
    run.end(
        Status::Problem,
        "this is a socket.io 0.9 server (protocol 1, before Engine.IO): socket.io 1.0+ clients cannot connect to it",
        Some("use socket.io-client 0.9 with it, or upgrade the server (and clients) to socket.io 4".into()),
    )
}
