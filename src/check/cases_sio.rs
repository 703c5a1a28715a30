//! Socket.IO cases: the socket.io-protocol `test-suite/` ("Socket.IO protocol" section) for
//! protocol v5, and the same cases derived for protocol v4 (socket.io 1.x/2.x over Engine.IO
//! v3), where the server connects `/` by itself, CONNECT carries no payload (the "auth" is
//! the query, in the URL or after the namespace: `40/custom?token=abc,`) and CONNECT_ERROR
//! carries a string.
//!
//! Protocol v5 answers are compared as exact strings, as the official suite does; protocol v4
//! answers are compared as decoded packets (socket.io-parser 2.x/3.x differ in optional
//! commas), with `crate::socketio::decode`.

use std::time::Duration;

use serde_json::Value;

use super::case::{case, ensure, expect_eq, CaseDef, CaseResult, Ctx, Stop, Suite};
use super::profile::CONNECT_TIMEOUT;
use crate::client::{ClientError, WsClient, WsFrame};
use crate::engineio::{encode_packet, Data, Packet as EioPacket, WsMessage};
use crate::socketio::{self, Version};

/// A Socket.IO connection over one WebSocket.
pub struct Conn {
    /// The WebSocket.
    pub ws: WsClient,
    v5: bool,
    step: Duration,
}

impl Conn {
    /// Opens a WebSocket to the Socket.IO path (`extra` query appended) and reads the
    /// Engine.IO open packet.
    pub async fn open(ctx: &Ctx, extra: &str) -> Result<Conn, Stop> {
        Self::open_at(ctx, &ctx.profile.sio_path.clone(), extra).await
    }

    /// As [`Conn::open`] on another path.
    pub async fn open_at(ctx: &Ctx, path: &str, extra: &str) -> Result<Conn, Stop> {
        let mut ws = ctx.ws(path, extra).await?;
        ctx.ws_open(&mut ws).await?;
        Ok(Conn {
            ws,
            v5: ctx.profile.sio == Version::V5,
            step: ctx.step(),
        })
    }

    /// Sends an Engine.IO message carrying `text` (`4` + text).
    pub async fn send(&mut self, text: &str) -> CaseResult {
        Ok(self.ws.send_text(&format!("4{text}")).await?)
    }

    /// Sends a binary attachment as an Engine.IO binary message (v3 prefixes the type byte).
    pub async fn send_bin(&mut self, bytes: &[u8]) -> CaseResult {
        let eio = if self.v5 {
            crate::engineio::Version::V4
        } else {
            crate::engineio::Version::V3
        };
        match encode_packet(eio, &EioPacket::Message(Data::Binary(bytes.to_vec()))) {
            Ok(WsMessage::Binary(b)) => Ok(self.ws.send_binary(&b).await?),
            Ok(WsMessage::Text(t)) => Ok(self.ws.send_text(&t).await?),
            Err(e) => Err(Stop::Fail(e.to_string())),
        }
    }

    /// The next frame that is not an Engine.IO ping or pong (pings are answered in v5).
    pub async fn next(&mut self) -> Result<WsFrame, Stop> {
        loop {
            match self.ws.recv(self.step).await? {
                WsFrame::Text(t) if t == "2" && self.v5 => self.ws.send_text("3").await?,
                WsFrame::Text(t) if t == "3" && !self.v5 => {}
                other => return Ok(other),
            }
        }
    }

    /// The next Socket.IO packet text (Engine.IO message data), failing on anything else.
    pub async fn next_text(&mut self) -> Result<String, Stop> {
        match self.next().await? {
            WsFrame::Text(t) => match t.strip_prefix('4') {
                Some(rest) => Ok(rest.to_string()),
                None => Err(Stop::Fail(format!(
                    "expected an Engine.IO message, got {t:?}"
                ))),
            },
            other => Err(Stop::Fail(format!(
                "expected a Socket.IO packet, got {other:?}"
            ))),
        }
    }

    /// Expects the next packet to be `want` (exact in v5, decoded-equal in v4).
    pub async fn expect(&mut self, what: &str, want: &str) -> CaseResult {
        let got = self.next_text().await?;
        same_packet(self.v5, what, &got, want)
    }

    /// Expects the next binary attachment to be `want`.
    pub async fn expect_bin(&mut self, what: &str, want: &[u8]) -> CaseResult {
        let want_frame = if self.v5 {
            want.to_vec()
        } else {
            let mut v = vec![4u8];
            v.extend_from_slice(want);
            v
        };
        expect_eq(what, self.next().await?, WsFrame::Binary(want_frame))
    }

    /// Expects the server to end the connection soon (within `limit`).
    pub async fn expect_close(&mut self, limit: Duration) -> CaseResult {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.ws.recv(left).await {
                Ok(WsFrame::Closed(_)) => return Ok(()),
                // "4" + "1": Engine.IO close, or a CONNECT_ERROR/DISCONNECT before the close.
                Ok(_) => continue,
                Err(ClientError::Timeout(..)) => {
                    return Err(Stop::Fail(format!(
                        "the server kept the connection open for {limit:?} (expected it to close)"
                    )))
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
}

/// Compares a received packet with the expected one.
fn same_packet(v5: bool, what: &str, got: &str, want: &str) -> CaseResult {
    if v5 || got == want {
        return expect_eq(what, got, want);
    }
    match (socketio::decode(got), socketio::decode(want)) {
        (Ok(g), Ok(w)) if g == w => Ok(()),
        _ => expect_eq(what, got, want),
    }
}

/// The CONNECT answer of v5 (`40<nsp,>{"sid":…}` with only `sid`), or v4's `40<nsp>`.
async fn expect_connect(c: &mut Conn, nsp: &str) -> CaseResult {
    let got = c.next_text().await?;
    if !c.v5 {
        let want = if nsp == "/" {
            "0".to_string()
        } else {
            format!("0{nsp},")
        };
        return same_packet(false, "CONNECT answer", &got, &want);
    }
    let prefix = if nsp == "/" {
        "0".to_string()
    } else {
        format!("0{nsp},")
    };
    let Some(json) = got.strip_prefix(&prefix) else {
        return Err(Stop::Fail(format!(
            "CONNECT answer: expected it to start with 4{prefix}, got 4{got}"
        )));
    };
    let value: Value = serde_json::from_str(json)
        .map_err(|e| Stop::Fail(format!("CONNECT answer payload is not JSON ({e}): {json}")))?;
    let keys: Vec<&String> = value
        .as_object()
        .map(|m| m.keys().collect())
        .unwrap_or_default();
    ensure!(
        keys.len() == 1 && value.get("sid").is_some_and(Value::is_string),
        "CONNECT answer: expected exactly the key \"sid\" (a string), got {json}"
    );
    Ok(())
}

/// "initSocketIOConnection": WebSocket, CONNECT to "/", its answer and, with the reference
/// app, its "auth" event (any other app may send what it likes after the CONNECT answer).
pub(super) async fn init(ctx: &Ctx) -> Result<Conn, Stop> {
    let mut c = Conn::open(ctx, "").await?;
    if c.v5 {
        c.send("0").await?;
    }
    // socket.io-protocol README, "Connection to a namespace": "The server MUST respond with
    // either: a `CONNECT` packet if the connection is successful, with the session ID in the
    // payload …".
    expect_connect(&mut c, "/").await?;
    if ctx.profile.reference {
        c.expect("auth event", r#"2["auth",{}]"#).await?;
    }
    Ok(c)
}

/// "should allow connection to the main namespace".
pub async fn connect_main(ctx: Ctx) -> CaseResult {
    let c = init(&ctx).await?;
    c.ws.close().await;
    Ok(())
}

/// "should allow connection to the main namespace with a payload".
pub async fn connect_main_payload(ctx: Ctx) -> CaseResult {
    let mut c = if ctx.profile.sio == Version::V5 {
        let mut c = Conn::open(&ctx, "").await?;
        c.send(r#"0{"token":"123"}"#).await?;
        c
    } else {
        // v4: no CONNECT payload; the handshake query is the auth.
        Conn::open(&ctx, "&token=123").await?
    };
    expect_connect(&mut c, "/").await?;
    c.expect("auth event", r#"2["auth",{"token":"123"}]"#)
        .await?;
    c.ws.close().await;
    Ok(())
}

async fn connect_custom_with(ctx: &Ctx, v5: &str, v4: &str, auth: &str) -> CaseResult {
    let mut c = Conn::open(ctx, "").await?;
    if c.v5 {
        c.send(v5).await?;
    } else {
        expect_connect(&mut c, "/").await?;
        c.expect("auth event on /", r#"2["auth",{}]"#).await?;
        c.send(v4).await?;
    }
    expect_connect(&mut c, "/custom").await?;
    c.expect(
        "auth event on /custom",
        &format!(r#"2/custom,["auth",{auth}]"#),
    )
    .await?;
    c.ws.close().await;
    Ok(())
}

/// "should allow connection to a custom namespace".
pub async fn connect_custom(ctx: Ctx) -> CaseResult {
    connect_custom_with(&ctx, "0/custom,", "0/custom,", "{}").await
}

/// "should allow connection to a custom namespace with a payload".
pub async fn connect_custom_payload(ctx: Ctx) -> CaseResult {
    connect_custom_with(
        &ctx,
        r#"0/custom,{"token":"abc"}"#,
        "0/custom?token=abc,",
        r#"{"token":"abc"}"#,
    )
    .await
}

/// "should disallow connection to an unknown namespace". With the reference app the exact
/// message; with any app a CONNECT_ERROR for the namespace whose payload is, in v5, an object
/// with a `message` (socket.io-protocol README, changes in v5: "the payload `CONNECT_ERROR`
/// packet is now an object instead of a plain string"; example `{ type: CONNECT_ERROR, …,
/// data: { message: "Not authorized" } }`).
pub async fn connect_unknown(ctx: Ctx) -> CaseResult {
    let reference = ctx.profile.reference;
    let mut c = if ctx.profile.sio == Version::V5 {
        let mut c = Conn::open(&ctx, "").await?;
        c.send("0/random").await?;
        c
    } else {
        let mut c = init(&ctx).await?;
        c.send("0/random,").await?;
        c
    };
    let (exact, prefix) = if c.v5 {
        (r#"4/random,{"message":"Invalid namespace"}"#, "4/random,")
    } else {
        (r#"4/random,"Invalid namespace""#, "4/random,")
    };
    if reference {
        c.expect("CONNECT_ERROR", exact).await?;
    } else {
        let got = next_for(&mut c, "/random").await?;
        let payload = got.strip_prefix(prefix).ok_or_else(|| {
            Stop::Fail(format!(
                "expected a CONNECT_ERROR for /random (4{prefix}…), got 4{got}"
            ))
        })?;
        let value: Value = serde_json::from_str(payload).map_err(|e| {
            Stop::Fail(format!(
                "CONNECT_ERROR payload is not JSON ({e}): {payload}"
            ))
        })?;
        if c.v5 {
            ensure!(
                value.get("message").is_some_and(Value::is_string),
                "CONNECT_ERROR payload: expected an object with a \"message\" string (v5), got {payload}"
            );
        }
    }
    c.ws.close().await;
    Ok(())
}

/// The next Socket.IO packet for namespace `nsp`, passing over the app's own packets for
/// other namespaces (at most 16).
async fn next_for(c: &mut Conn, nsp: &str) -> Result<String, Stop> {
    for _ in 0..16 {
        let got = c.next_text().await?;
        let on_nsp = socketio::decode(&got).map(|p| p.nsp == nsp).unwrap_or(true);
        if on_nsp {
            return Ok(got);
        }
    }
    Err(Stop::Fail(format!("no packet for {nsp} among 16")))
}

/// "should disallow connection with an invalid handshake".
pub async fn connect_invalid(ctx: Ctx) -> CaseResult {
    let mut c = Conn::open(&ctx, "").await?;
    c.send("abc").await?;
    c.expect_close(ctx.step()).await
}

/// "should close the connection if no handshake is received".
pub async fn connect_timeout(ctx: Ctx) -> CaseResult {
    if ctx.profile.sio == Version::V4 {
        return Err(Stop::Skip(
            "protocol v4: the server connects \"/\" by itself, there is no CONNECT to wait for"
                .into(),
        ));
    }
    let mut c = Conn::open(&ctx, "").await?;
    // Answer pings so that only the missing CONNECT can end the connection.
    let deadline = tokio::time::Instant::now() + CONNECT_TIMEOUT + Duration::from_millis(1000);
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        match c.ws.recv(left).await {
            Ok(WsFrame::Closed(_)) => return Ok(()),
            Ok(WsFrame::Text(t)) if t == "2" => c.ws.send_text("3").await?,
            Ok(other) => return Err(Stop::Fail(format!("unexpected {other:?} before any CONNECT"))),
            Err(ClientError::Timeout(..)) => {
                return Err(Stop::Fail(format!(
                    "no CONNECT was sent and the server still kept the connection open after {:?} (connectTimeout is {CONNECT_TIMEOUT:?})",
                    CONNECT_TIMEOUT + Duration::from_millis(1000)
                )))
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// "should disconnect from the main namespace".
pub async fn disconnect_main(ctx: Ctx) -> CaseResult {
    let mut c = init(&ctx).await?;
    c.send("1").await?;
    if c.v5 {
        // The next thing the server sends is its ping: nothing for the disconnected socket.
        let s = ctx.profile.settings_for(&ctx.profile.sio_path);
        let got = c.ws.recv(s.interval() + s.timeout() + ctx.step()).await?;
        expect_eq(
            "next message after DISCONNECT",
            got,
            WsFrame::Text("2".into()),
        )?;
    } else {
        // v4: the client pings; an event for "/" must not be answered any more.
        c.send(r#"2["message","after disconnect"]"#).await?;
        c.ws.send_text("2").await?;
        expect_eq(
            "next message after DISCONNECT",
            c.ws.recv(ctx.step()).await?,
            WsFrame::Text("3".into()),
        )?;
    }
    c.ws.close().await;
    Ok(())
}

/// "should connect then disconnect from a custom namespace".
pub async fn disconnect_custom(ctx: Ctx) -> CaseResult {
    let mut c = init(&ctx).await?;
    c.send(if c.v5 { "0/custom" } else { "0/custom," }).await?;
    expect_connect(&mut c, "/custom").await?;
    c.expect("auth event on /custom", r#"2/custom,["auth",{}]"#)
        .await?;
    c.send("1/custom").await?;
    c.send(r#"2["message","message to main namespace"]"#)
        .await?;
    c.expect(
        "answer on /",
        r#"2["message-back","message to main namespace"]"#,
    )
    .await?;
    c.ws.close().await;
    Ok(())
}

/// "should send a plain-text packet".
pub async fn message_text(ctx: Ctx) -> CaseResult {
    let mut c = init(&ctx).await?;
    c.send(r#"2["message",1,"2",{"3":[true]}]"#).await?;
    c.expect("answer", r#"2["message-back",1,"2",{"3":[true]}]"#)
        .await?;
    c.ws.close().await;
    Ok(())
}

async fn binary_round_trip(ctx: &Ctx, sent: &str, want: &str) -> CaseResult {
    let mut c = init(ctx).await?;
    c.send(sent).await?;
    c.send_bin(&[1, 2, 3]).await?;
    c.send_bin(&[4, 5, 6]).await?;
    c.expect("answer", want).await?;
    c.expect_bin("first attachment", &[1, 2, 3]).await?;
    c.expect_bin("second attachment", &[4, 5, 6]).await?;
    c.ws.close().await;
    Ok(())
}

/// "should send a packet with binary attachments".
pub async fn message_binary(ctx: Ctx) -> CaseResult {
    binary_round_trip(
        &ctx,
        r#"52-["message",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#,
        r#"52-["message-back",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#,
    )
    .await
}

/// "should send a plain-text packet with an ack".
pub async fn message_ack(ctx: Ctx) -> CaseResult {
    let mut c = init(&ctx).await?;
    c.send(r#"2456["message-with-ack",1,"2",{"3":[false]}]"#)
        .await?;
    c.expect("ACK", r#"3456[1,"2",{"3":[false]}]"#).await?;
    c.ws.close().await;
    Ok(())
}

/// "should send a packet with binary attachments and an ack".
pub async fn message_binary_ack(ctx: Ctx) -> CaseResult {
    binary_round_trip(
        &ctx,
        r#"52-789["message-with-ack",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#,
        r#"62-789[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#,
    )
    .await
}

async fn invalid(ctx: &Ctx, sent: &str) -> CaseResult {
    let mut c = init(ctx).await?;
    c.send(sent).await?;
    c.expect_close(ctx.step()).await
}

/// "should close the connection upon invalid format (unknown packet type)".
pub async fn invalid_type(ctx: Ctx) -> CaseResult {
    invalid(&ctx, "abc").await
}

/// "should close the connection upon invalid format (invalid payload format)".
pub async fn invalid_payload(ctx: Ctx) -> CaseResult {
    invalid(&ctx, "2{}").await
}

/// "should close the connection upon invalid format (invalid ack id)".
pub async fn invalid_ack_id(ctx: Ctx) -> CaseResult {
    invalid(&ctx, r#"2abc["message-with-ack",1,"2",{"3":[false]}]"#).await
}

/// The Socket.IO cases, in the official suite's order.
pub fn cases() -> Vec<CaseDef> {
    vec![
        case!(in Suite::SocketIo, "sio.connect.main", "Socket.IO protocol › connect › should allow connection to the main namespace", connect_main),
        case!(in Suite::SocketIo, "sio.connect.main-with-payload", "Socket.IO protocol › connect › should allow connection to the main namespace with a payload", connect_main_payload),
        case!(in Suite::SocketIo, "sio.connect.custom", "Socket.IO protocol › connect › should allow connection to a custom namespace", connect_custom),
        case!(in Suite::SocketIo, "sio.connect.custom-with-payload", "Socket.IO protocol › connect › should allow connection to a custom namespace with a payload", connect_custom_payload),
        case!(in Suite::SocketIo, "sio.connect.unknown-namespace", "Socket.IO protocol › connect › should disallow connection to an unknown namespace", connect_unknown),
        case!(in Suite::SocketIo, "sio.connect.invalid-handshake", "Socket.IO protocol › connect › should disallow connection with an invalid handshake", connect_invalid),
        case!(in Suite::SocketIo, "sio.connect.no-handshake-timeout", "Socket.IO protocol › connect › should close the connection if no handshake is received", connect_timeout),
        case!(in Suite::SocketIo, "sio.disconnect.main", "Socket.IO protocol › disconnect › should disconnect from the main namespace", disconnect_main),
        case!(in Suite::SocketIo, "sio.disconnect.custom", "Socket.IO protocol › disconnect › should connect then disconnect from a custom namespace", disconnect_custom),
        case!(in Suite::SocketIo, "sio.message.text", "Socket.IO protocol › message › should send a plain-text packet", message_text),
        case!(in Suite::SocketIo, "sio.message.binary", "Socket.IO protocol › message › should send a packet with binary attachments", message_binary),
        case!(in Suite::SocketIo, "sio.message.ack", "Socket.IO protocol › message › should send a plain-text packet with an ack", message_ack),
        case!(in Suite::SocketIo, "sio.message.binary-ack", "Socket.IO protocol › message › should send a packet with binary attachments and an ack", message_binary_ack),
        case!(in Suite::SocketIo, "sio.message.invalid-type", "Socket.IO protocol › message › should close the connection upon invalid format (unknown packet type)", invalid_type),
        case!(in Suite::SocketIo, "sio.message.invalid-payload", "Socket.IO protocol › message › should close the connection upon invalid format (invalid payload format)", invalid_payload),
        case!(in Suite::SocketIo, "sio.message.invalid-ack-id", "Socket.IO protocol › message › should close the connection upon invalid format (invalid ack id)", invalid_ack_id),
    ]
}
