//! Engine.IO cases about a session's life: heartbeat, ping timeout, forced close and the
//! upgrade from polling to WebSocket (engine.io-protocol `test-suite/` "heartbeat", "close",
//! "upgrade"; the v3 suite's versions, where the client pings). Registered in
//! [`super::cases_eio::cases`].

use std::time::Duration;

use super::case::{ensure, expect_eq, CaseResult, Ctx, Stop};
use super::cases_eio::{ws_refused, At, SLACK};
use crate::client::{escape_bytes, ClientError, HttpResponse, PendingResponse, WsClient, WsFrame};
use crate::engineio::{Data, Packet, Version};

/// The Engine.IO packets of a poll: on the Socket.IO path the server's own Socket.IO messages
/// (protocol v4 connects "/" and the app emits "auth" unasked) are left out.
pub(super) fn engine_packets(ctx: &Ctx, at: At, resp: &HttpResponse) -> Result<Vec<Packet>, Stop> {
    let mut packets = ctx.packets(resp)?;
    if at == At::Sio {
        packets.retain(|p| !matches!(p, Packet::Message(_)));
    }
    Ok(packets)
}

/// A poll answer: exactly `bytes` on the echo endpoint (as the official suite compares), the
/// one packet `want` besides Socket.IO messages on the Socket.IO path.
pub(super) fn same_poll(
    ctx: &Ctx,
    at: At,
    what: &str,
    resp: &HttpResponse,
    bytes: &[u8],
    want: Packet,
) -> CaseResult {
    match at {
        At::Eio => expect_eq(
            &format!("{what} body"),
            escape_bytes(&resp.body),
            escape_bytes(bytes),
        ),
        At::Sio => expect_eq(
            &format!("{what} packets"),
            engine_packets(ctx, at, resp)?,
            vec![want],
        ),
    }
}

/// "sends ping/pong packets" (HTTP long-polling). v4: the server pings, the client pongs;
/// v3: the client pings and the server pongs.
pub async fn heartbeat_polling(ctx: Ctx, at: At) -> CaseResult {
    let path = at.path(&ctx);
    let sid = ctx.open_polling(&path, false).await?;
    let t = ctx.sid_target(&path, &sid);
    let (ping, pong) = (
        ctx.payload(&[Packet::Ping(Data::Empty)]),
        ctx.payload(&[Packet::Pong(Data::Empty)]),
    );
    // engine.io-protocol README, "Heartbeat": "At a given interval (the `pingInterval` value
    // sent in the handshake) the server sends a `ping` packet": one later than the advertised
    // interval (plus slack) fails the case.
    let limit = ctx.profile.settings_for(&path).interval() + SLACK;
    for i in 1..=3 {
        if ctx.eio() == Version::V4 {
            let poll = ctx.http.get(&t, limit).await?;
            expect_eq(&format!("poll {i} status"), poll.status, 200)?;
            same_poll(
                &ctx,
                at,
                &format!("poll {i}"),
                &poll,
                &ping,
                Packet::Ping(Data::Empty),
            )?;
            expect_eq(
                &format!("pong {i} status"),
                ctx.http.post(&t, &pong, ctx.step()).await?.status,
                200,
            )?;
        } else {
            expect_eq(
                &format!("ping {i} status"),
                ctx.http.post(&t, &ping, ctx.step()).await?.status,
                200,
            )?;
            let poll = ctx.http.get(&t, limit).await?;
            expect_eq(&format!("poll {i} status"), poll.status, 200)?;
            same_poll(
                &ctx,
                at,
                &format!("poll {i}"),
                &poll,
                &pong,
                Packet::Pong(Data::Empty),
            )?;
        }
    }
    Ok(())
}

/// "closes the session upon ping timeout" (HTTP long-polling).
pub async fn ping_timeout_polling(ctx: Ctx, at: At) -> CaseResult {
    let path = at.path(&ctx);
    let sid = ctx.open_polling(&path, false).await?;
    let t = ctx.sid_target(&path, &sid);
    // The newer v4 suite sleeps PING_INTERVAL + PING_TIMEOUT + 10; here the advertised ones.
    let s = ctx.profile.settings_for(&path);
    tokio::time::sleep(s.interval() + s.timeout() + Duration::from_millis(50)).await;
    let status = if ctx.eio() == Version::V4 {
        ctx.http.get(&t, ctx.step()).await?.status
    } else {
        let ping = ctx.payload(&[Packet::Ping(Data::Empty)]);
        ctx.http.post(&t, &ping, ctx.step()).await?.status
    };
    expect_eq("status after the ping timeout", status, 400)
}

/// "sends ping/pong packets" (WebSocket).
pub async fn heartbeat_ws(ctx: Ctx, at: At) -> CaseResult {
    let path = at.path(&ctx);
    let mut ws = ctx.ws(&path, "").await?;
    ctx.ws_open(&mut ws).await?;
    // A ping is due every advertised pingInterval (engine.io-protocol README, "Heartbeat").
    let limit = ctx.profile.settings_for(&path).interval() + SLACK;
    for i in 1..=3 {
        if ctx.eio() == Version::V4 {
            expect_eq(
                &format!("message {i}"),
                ws.recv(limit).await?,
                WsFrame::Text("2".into()),
            )?;
            ws.send_text("3").await?;
        } else {
            ws.send_text("2").await?;
            let got = loop {
                // Socket.IO v4 servers send their CONNECT for "/" and the app its "auth" unasked.
                match ws.recv(limit).await? {
                    WsFrame::Text(t) if at == At::Sio && t.starts_with('4') => continue,
                    other => break other,
                }
            };
            expect_eq(
                &format!("answer to ping {i}"),
                got,
                WsFrame::Text("3".into()),
            )?;
        }
    }
    ws.close().await;
    Ok(())
}

/// "closes the session upon ping timeout" (WebSocket): a client that never answers is closed
/// within pingInterval + pingTimeout.
pub async fn ping_timeout_ws(ctx: Ctx, at: At) -> CaseResult {
    let path = at.path(&ctx);
    let mut ws = ctx.ws(&path, "").await?;
    ctx.ws_open(&mut ws).await?;
    let s = ctx.profile.settings_for(&path);
    ctx.expect_close(&mut ws, s.interval() + s.timeout() + SLACK)
        .await
}

/// A poll of `t` that stays pending: on the Socket.IO path a Socket.IO v4 server's unasked
/// messages (its CONNECT for "/", the app's events) may answer polls at once, so those are
/// collected (at most 5) until a poll stays pending for 150 ms.
pub(super) async fn pending_poll(ctx: &Ctx, at: At, t: &str) -> Result<PendingResponse, Stop> {
    let mut poll = ctx.http.start("GET", t, b"", ctx.step()).await?;
    if at == At::Sio {
        for _ in 0..5 {
            match poll.response(Duration::from_millis(150)).await {
                Ok(r) => {
                    ensure!(
                        engine_packets(ctx, at, &r)?.is_empty(),
                        "unexpected Engine.IO packets on a fresh session: {:?}",
                        r.text()
                    );
                    poll = ctx.http.start("GET", t, b"", ctx.step()).await?;
                }
                Err(ClientError::Timeout(..)) => break,
                Err(e) => return Err(e.into()),
            }
        }
    }
    Ok(poll)
}

/// "forcefully closes the session" (HTTP long-polling): a pending poll ends with noop.
pub async fn close_polling(ctx: Ctx, at: At) -> CaseResult {
    let path = at.path(&ctx);
    let sid = ctx.open_polling(&path, false).await?;
    let t = ctx.sid_target(&path, &sid);
    let mut poll = pending_poll(&ctx, at, &t).await?;
    tokio::time::sleep(Duration::from_millis(5)).await;
    let close = ctx.payload(&[Packet::Close]);
    let push = ctx.http.post(&t, &close, ctx.step()).await;
    let poll = poll.response(ctx.step()).await?;
    expect_eq("status of the pending poll", poll.status, 200)?;
    same_poll(
        &ctx,
        at,
        "pending poll",
        &poll,
        &ctx.payload(&[Packet::Noop]),
        Packet::Noop,
    )?;
    push?;
    expect_eq(
        "status of the next poll",
        ctx.http.get(&t, ctx.step()).await?.status,
        400,
    )
}

/// "forcefully closes the session" (WebSocket). The spec asks nothing of the server here
/// (engine.io-protocol README, "Packet types": "close | 1 | Used to indicate that a transport
/// can be closed"), and engine.io 6.6 ignores a client's `1` over WebSocket (engine.io@6.6.12
/// build/socket.js:103-150 handles ping, pong, error and message only): the official test
/// passes on the reference app because its 300 + 200 ms heartbeat (or the 1000 ms
/// connectTimeout) closes the connection first. So the close is awaited as long as that
/// takes with the advertised settings.
pub async fn close_ws(ctx: Ctx, at: At) -> CaseResult {
    let path = at.path(&ctx);
    let mut ws = ctx.ws(&path, "").await?;
    ctx.ws_open(&mut ws).await?;
    ws.send_text("1").await?;
    let s = ctx.profile.settings_for(&path);
    let limit = ctx.step().max(s.interval() + s.timeout() + SLACK);
    ctx.expect_close(&mut ws, limit).await
}

/// Opens a polling session and a WebSocket for it, sends `2probe` and expects `3probe`.
async fn probe(ctx: &Ctx, path: &str) -> Result<(String, WsClient), Stop> {
    let sid = ctx.open_polling(path, false).await?;
    let mut ws = ctx.ws(path, &format!("&sid={sid}")).await?;
    ws.send_text("2probe").await?;
    expect_eq(
        "probe answer",
        ws.recv(ctx.step()).await?,
        WsFrame::Text("3probe".into()),
    )?;
    Ok((sid, ws))
}

/// "successfully upgrades from HTTP long-polling to WebSocket".
pub async fn upgrade(ctx: Ctx, at: At) -> CaseResult {
    let path = at.path(&ctx);
    let (sid, mut ws) = probe(&ctx, &path).await?;
    if at == At::Eio {
        let poll = ctx
            .http
            .get(&ctx.sid_target(&path, &sid), ctx.step())
            .await?;
        expect_eq("status of the poll during the upgrade", poll.status, 200)?;
        // "noop" packet to cleanly end the HTTP long-polling request
        expect_eq(
            "body of the poll during the upgrade",
            poll.body,
            ctx.payload(&[Packet::Noop]),
        )?;
    }
    ws.send_text("5").await?;
    echo_then_close(&ctx, at, ws, "echo after the upgrade").await
}

/// On the echo endpoint, the upgraded WebSocket must still echo a message; then it is closed.
async fn echo_then_close(ctx: &Ctx, at: At, mut ws: WsClient, what: &str) -> CaseResult {
    if at == At::Eio {
        ws.send_text("4hello").await?;
        expect_eq(
            what,
            ws.recv(ctx.step()).await?,
            WsFrame::Text("4hello".into()),
        )?;
    }
    ws.close().await;
    Ok(())
}

/// "ignores HTTP requests with same sid after upgrade".
pub async fn upgrade_ignores_polling(ctx: Ctx, at: At) -> CaseResult {
    let path = at.path(&ctx);
    let (sid, mut ws) = probe(&ctx, &path).await?;
    ws.send_text("5").await?;
    tokio::time::sleep(Duration::from_millis(20)).await;
    let poll = ctx
        .http
        .get(&ctx.sid_target(&path, &sid), ctx.step())
        .await?;
    expect_eq("status of a poll after the upgrade", poll.status, 400)?;
    echo_then_close(&ctx, at, ws, "echo on the upgraded WebSocket").await
}

/// "ignores WebSocket connection with same sid after upgrade".
pub async fn upgrade_ignores_ws(ctx: Ctx, at: At) -> CaseResult {
    let path = at.path(&ctx);
    let (sid, mut ws) = probe(&ctx, &path).await?;
    ws.send_text("5").await?;
    tokio::time::sleep(Duration::from_millis(20)).await;
    ws_refused(&ctx, ctx.target(&path, "websocket", &format!("&sid={sid}"))).await?;
    echo_then_close(&ctx, at, ws, "echo on the upgraded WebSocket").await
}
