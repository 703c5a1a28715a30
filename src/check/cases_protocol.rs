//! sioscope's own protocol cases on the Socket.IO path: rules the engine.io-protocol and
//! socket.io-protocol specs state with a MUST that the official suites test only against the
//! reference app's echo endpoint, or not at all. They need nothing of the app, so they run
//! against every server. Each quotes the spec line it enforces.

use std::time::Duration;

use super::case::{case, expect_eq, CaseDef, CaseResult, Ctx, Stop};
use super::cases_eio::At;
use super::cases_eio_session::{engine_packets, pending_poll, same_poll};
use crate::client::WsFrame;
use crate::engineio::{Data, Packet};
use crate::socketio::Version;

/// A session id no server handed out.
const UNKNOWN_SID: &str = "sioscope-unknown-sid";

/// GET with an unknown sid.
pub async fn unknown_sid_get(ctx: Ctx) -> CaseResult {
    let t = ctx.sid_target(&ctx.profile.sio_path, UNKNOWN_SID);
    // engine.io-protocol README, "Receiving data": "The server MUST return an HTTP 400
    // response if the session ID (from the `sid` query parameter) is not known."
    expect_eq(
        "status of a poll with an unknown sid",
        ctx.http.get(&t, ctx.step()).await?.status,
        400,
    )
}

/// POST with an unknown sid.
pub async fn unknown_sid_post(ctx: Ctx) -> CaseResult {
    let t = ctx.sid_target(&ctx.profile.sio_path, UNKNOWN_SID);
    let body = ctx.payload(&[Packet::Noop]);
    // engine.io-protocol README, "Sending data": "The server MUST return an HTTP 400 response
    // if the session ID (from the `sid` query parameter) is not known."
    expect_eq(
        "status of a POST with an unknown sid",
        ctx.http.post(&t, &body, ctx.step()).await?.status,
        400,
    )
}

/// A POST is answered `200 ok`.
pub async fn post_ok(ctx: Ctx) -> CaseResult {
    let path = ctx.profile.sio_path.clone();
    let sid = ctx.open_polling(&path, false).await?;
    let t = ctx.sid_target(&path, &sid);
    // What a client's first POST carries: CONNECT to "/" (v5), or its ping (Engine.IO v3).
    let first = if ctx.profile.sio == Version::V5 {
        Packet::Message(Data::Text("0".into()))
    } else {
        Packet::Ping(Data::Empty)
    };
    let r = ctx
        .http
        .post(&t, &ctx.payload(&[first]), ctx.step())
        .await?;
    // engine.io-protocol README, "Sending data": "To indicate success, the server MUST return
    // an HTTP 200 response, with the string `ok` in the response body."
    expect_eq("POST answer", (r.status, r.text()), (200, "ok".to_string()))
}

/// Two concurrent polls: 400 and the session closed.
pub async fn duplicate_poll(ctx: Ctx) -> CaseResult {
    let path = ctx.profile.sio_path.clone();
    let sid = ctx.open_polling(&path, false).await?;
    let t = ctx.sid_target(&path, &sid);
    let mut first = pending_poll(&ctx, At::Sio, &t).await?;
    tokio::time::sleep(Duration::from_millis(5)).await;
    let second = ctx
        .http
        .send("GET", &format!("{t}&t=burst"), b"", ctx.step())
        .await?;
    // engine.io-protocol README, "Receiving data": "a client MUST NOT have more than one
    // active `GET` request. Should it happen, the server MUST return an HTTP 400 error status
    // and close the session." (engine.io answers 500 in v3; the v3 suite accepts it.)
    let duplicate_ok = second.status == 400 || (ctx.eio().number() == 3 && second.status == 500);
    if !duplicate_ok {
        return Err(Stop::Fail(format!(
            "status of the second concurrent poll: expected 400, got {}",
            second.status
        )));
    }
    // The pending poll may end with the close packet or with the connection.
    let _ = first.response(ctx.step()).await;
    let next = ctx.http.get(&t, ctx.step()).await?.status;
    expect_eq(
        "status of a poll after the duplicate (session closed)",
        next,
        400,
    )
}

/// During the upgrade, the pending poll is answered with noop.
pub async fn upgrade_noop(ctx: Ctx) -> CaseResult {
    if !ctx
        .profile
        .settings
        .upgrades
        .iter()
        .any(|u| u == "websocket")
    {
        return Err(Stop::Skip(
            "the handshake offers no upgrade to websocket".into(),
        ));
    }
    let path = ctx.profile.sio_path.clone();
    let sid = ctx.open_polling(&path, false).await?;
    let t = ctx.sid_target(&path, &sid);
    let mut poll = pending_poll(&ctx, At::Sio, &t).await?;
    let mut ws = ctx.ws(&path, &format!("&sid={sid}")).await?;
    ws.send_text("2probe").await?;
    expect_eq(
        "probe answer",
        ws.recv(ctx.step()).await?,
        WsFrame::Text("3probe".into()),
    )?;
    // engine.io-protocol README, "Upgrade": "The server MUST: … send a `noop` packet to any
    // pending `GET` request (if applicable) to cleanly close HTTP long-polling transport".
    let mut r = poll.response(ctx.step()).await?;
    if engine_packets(&ctx, At::Sio, &r)? == [Packet::Ping(Data::Empty)] && ctx.eio().number() == 4
    {
        // The server's ping answered the poll before the probe: pong, and poll again (the
        // official upgrade test polls after the probe).
        let pong = ctx.payload(&[Packet::Pong(Data::Empty)]);
        ctx.http.post(&t, &pong, ctx.step()).await?;
        r = ctx.http.get(&t, ctx.step()).await?;
    }
    expect_eq("status of the pending poll", r.status, 200)?;
    same_poll(
        &ctx,
        At::Sio,
        "pending poll during the upgrade",
        &r,
        &ctx.payload(&[Packet::Noop]),
        Packet::Noop,
    )?;
    ws.send_text("5").await?;
    ws.close().await;
    Ok(())
}

/// CONNECT to "/" over HTTP long-polling.
pub async fn connect_polling(ctx: Ctx) -> CaseResult {
    let path = ctx.profile.sio_path.clone();
    let v5 = ctx.profile.sio == Version::V5;
    let extra = if v5 { "" } else { "&b64=1" };
    let hs = ctx
        .http
        .get(&ctx.target(&path, "polling", extra), ctx.step())
        .await?;
    expect_eq("handshake status", hs.status, 200)?;
    let mut packets = ctx.packets(&hs)?;
    let sid = match packets.first() {
        Some(Packet::Open(h)) => h.sid.clone(),
        other => {
            return Err(Stop::Fail(format!(
                "handshake: expected an open packet, got {other:?}"
            )))
        }
    };
    let t = ctx.sid_target(&path, &sid);
    if v5 {
        let connect = ctx.payload(&[Packet::Message(Data::Text("0".into()))]);
        expect_eq(
            "status of the CONNECT POST",
            ctx.http.post(&t, &connect, ctx.step()).await?.status,
            200,
        )?;
    }
    // socket.io-protocol README, "Connection to a namespace": "The server MUST respond with
    // either: a `CONNECT` packet if the connection is successful, with the session ID in the
    // payload; or a `CONNECT_ERROR` packet". Protocol v4 servers send it unasked, often in
    // the handshake response itself.
    let is_message = |p: &Packet| matches!(p, Packet::Message(Data::Text(_)));
    if v5 || !packets.iter().any(is_message) {
        let poll = ctx.http.get(&t, ctx.step()).await?;
        expect_eq("status of the poll", poll.status, 200)?;
        packets = ctx.packets(&poll)?;
    }
    let first = packets.iter().find_map(|p| match p {
        Packet::Message(Data::Text(t)) => Some(t.clone()),
        _ => None,
    });
    let ok = match (&first, v5) {
        (Some(t), true) => t
            .strip_prefix('0')
            .and_then(|j| serde_json::from_str::<serde_json::Value>(j).ok())
            .is_some_and(|v| v.get("sid").is_some_and(serde_json::Value::is_string)),
        (Some(t), false) => t == "0",
        (None, _) => false,
    };
    if !ok {
        return Err(Stop::Fail(format!(
            "expected the CONNECT answer ({}) as the first Socket.IO packet, got {:?}",
            if v5 { "0{\"sid\":…}" } else { "0" },
            first,
        )));
    }
    Ok(())
}

/// The protocol cases, registered with the extras.
pub fn cases() -> Vec<CaseDef> {
    vec![
        case!(
            "extra.polling.unknown-sid-get",
            "engine.io-protocol: a GET with an unknown sid is answered 400",
            unknown_sid_get
        ),
        case!(
            "extra.polling.unknown-sid-post",
            "engine.io-protocol: a POST with an unknown sid is answered 400",
            unknown_sid_post
        ),
        case!(
            "extra.polling.post-ok",
            "engine.io-protocol: a POST is answered 200 \"ok\"",
            post_ok
        ),
        case!(
            "extra.polling.duplicate-poll",
            "engine.io-protocol: a second concurrent GET is answered 400 and closes the session",
            duplicate_poll
        ),
        case!(
            "extra.upgrade.noop",
            "engine.io-protocol: the pending GET is answered noop during the upgrade",
            upgrade_noop
        ),
        case!(
            "extra.connect.polling",
            "socket.io-protocol: CONNECT to / over HTTP long-polling is answered",
            connect_polling
        ),
    ]
}
