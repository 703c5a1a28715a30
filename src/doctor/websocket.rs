//! The WebSocket probes: a WebSocket opened directly, and the polling → WebSocket upgrade
//! (engine.io-protocol "Upgrade"), each with or without permessage-deflate. A `101` followed by
//! silence is named as what it is: something on the way swallows WebSocket frames.

use std::time::Duration;

use super::client::{Conn, Failure, WsClient, WsIn};
use super::probes::{
    cut, failed, handshake, http_trouble, query, record, refused, server_code, version,
    ProbeReport, Run, ServerFacts, Status,
};
use super::target::Target;
use crate::engineio::{decode_text, Data, Packet, ServerErrorCode};

/// The offer of permessage-deflate as browsers and the `ws` client send it.
const DEFLATE_OFFER: &str = "permessage-deflate; client_max_window_bits";

/// Opens a WebSocket (upgrade request and `101`); `Err` is the finished report.
async fn open_ws(
    run: &mut Run,
    target: &Target,
    q: &str,
    deflate: bool,
) -> Result<(WsClient, Option<String>), ProbeReport> {
    let mut conn = match Conn::open(target, run.deadline()).await {
        Ok(c) => c,
        Err(f) => return Err(failed(run, &f, "the WebSocket connection")),
    };
    let offer = deflate.then_some(DEFLATE_OFFER);
    let (m, rest) = match conn.upgrade(target, q, offer).await {
        Ok(x) => x,
        Err(f) => {
            return Err(failed(run, &f, "the WebSocket upgrade request"));
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
            _ if m.status() == Some(404) => r.end(
                Status::Problem,
                format!("nothing answers Engine.IO at this path ({t})"),
                Some("check the path: the server's `path` option and the client's must match (default /socket.io/); use --path".into()),
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
        Failure::Timeout { .. } if ws.frames_in() == 0 => {
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
    // The answer is CONNECT, or CONNECT_ERROR (an auth middleware refusing a client without
    // credentials): either way the frames went both ways.
    let is_connect = |p: &Packet| matches!(p, Packet::Message(Data::Text(t)) if t.starts_with('0') || t.starts_with('4'));
    match expect(&mut run, &mut ws, eio, "the CONNECT answer", is_connect).await {
        Ok(Packet::Message(Data::Text(t))) if t.starts_with('4') => {
            run.step(format!("CONNECT refused: {}", cut(&format!("4{t}"), 80)));
            facts.connect_refused = Some(cut(t.get(1..).unwrap_or(""), 120));
            facts
                .sio
                .get_or_insert(if t.starts_with("4{") { 5 } else { 4 });
        }
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
        Packet::Message(Data::Text(t)) => t.starts_with('0') || t.starts_with('4'),
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
