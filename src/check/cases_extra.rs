//! sioscope's own cases, for what the official suites leave out:
//!
//! * `permessage-deflate` (RFC 7692): negotiation and a compressed round trip, with
//!   [`RawWs`], which offers the extension and compresses what it sends. Compression is optional for a server, so a
//!   server that does not agree to it skips the case.
//! * `maxPayload` enforcement: a polling body or a WebSocket message one byte over the limit
//!   the handshake announced (1e6 for the reference app) must be refused.
//! * Connection state recovery (socket.io ≥ 4.6, protocol v5): a socket that lost its
//!   transport gets its id back when it reconnects with `{"pid","offset"}`.

use std::time::Duration;

use serde_json::Value;

use super::case::{case, ensure, expect_eq, CaseDef, CaseResult, Ctx, Stop};
use super::cases_sio::Conn;
use crate::client::{ClientError, RawMessage, RawWs, WsFrame};
use crate::socketio::Version;

/// Size of the compressed test message: above the 1024-byte threshold servers commonly use.
const DEFLATE_TEXT: usize = 4096;

/// permessage-deflate negotiated, a compressed message accepted and echoed.
pub async fn permessage_deflate(ctx: Ctx) -> CaseResult {
    let target = ctx.target(&ctx.profile.eio_path, "websocket", "");
    let mut ws = RawWs::connect(
        &ctx.endpoint,
        &target,
        Some("permessage-deflate"),
        ctx.step(),
        &ctx.wire,
    )
    .await?;
    if !ws.deflate_agreed() {
        return Err(Stop::Skip(format!(
            "the server did not agree to permessage-deflate (optional; answer: {:?})",
            ws.extensions
        )));
    }
    match ws.recv(ctx.step()).await? {
        RawMessage::Data {
            text: true, bytes, ..
        } if bytes.first() == Some(&b'0') => {}
        other => {
            return Err(Stop::Fail(format!(
                "expected the open packet, got {other:?}"
            )))
        }
    }
    let body: String = "compressed hello ".repeat(DEFLATE_TEXT / 17 + 1);
    let sent = format!("4{body}");
    ws.send(true, sent.as_bytes(), true).await?;
    match ws.recv(ctx.step()).await? {
        RawMessage::Data {
            text: true, bytes, ..
        } => {
            ensure!(
                bytes == sent.as_bytes(),
                "echo of the compressed message differs ({} bytes back, {} sent)",
                bytes.len(),
                sent.len()
            );
            Ok(())
        }
        other => Err(Stop::Fail(format!(
            "expected the echo of the compressed message, got {other:?}"
        ))),
    }
}

/// The advertised `maxPayload` of the Socket.IO endpoint and a Socket.IO EVENT one byte over
/// it as Engine.IO message data (a valid packet, so that only its size can get it refused).
fn oversized(ctx: &Ctx) -> Result<(u64, String), Stop> {
    let Some(max) = ctx.profile.settings.max_payload else {
        return Err(Stop::Skip(
            "the handshake advertises no maxPayload (Engine.IO v3 has none)".into(),
        ));
    };
    let head = r#"2["x",""#;
    let fill = usize::try_from(max)
        .unwrap_or(usize::MAX)
        .saturating_sub(head.len() + 2)
        .saturating_add(1)
        .min(64 << 20);
    Ok((max, format!("{head}{}\"]", "a".repeat(fill))))
}

/// A polling body over `maxPayload` is refused (engine.io-protocol README, "Handshake":
/// "`maxPayload` | The maximum number of bytes per chunk").
pub async fn max_payload_polling(ctx: Ctx) -> CaseResult {
    let (max, event) = oversized(&ctx)?;
    let path = ctx.profile.sio_path.clone();
    let sid = ctx.open_polling(&path, false).await?;
    let t = ctx.sid_target(&path, &sid);
    let body = ctx.payload(&[super::case::msg(&event)]);
    match ctx.http.post(&t, &body, ctx.step()).await {
        Ok(r) => ensure!(
            r.status == 413 || r.status == 400,
            "a {}-byte POST (maxPayload {max}) was answered HTTP {} {:?}, expected 413 (or 400)",
            body.len(),
            r.status,
            r.text()
        ),
        Err(ClientError::Closed(_)) | Err(ClientError::Io(_)) => {}
        Err(e) => return Err(e.into()),
    }
    Ok(())
}

/// A WebSocket message over `maxPayload` closes the connection.
pub async fn max_payload_ws(ctx: Ctx) -> CaseResult {
    let (max, event) = oversized(&ctx)?;
    // Connected to "/" first: an event before CONNECT would be refused for that alone.
    let mut ws = super::cases_sio::init(&ctx).await?.ws;
    let big = format!("4{event}");
    if let Err(e) = ws.send_text(&big).await {
        // A server that closes while the message is in flight has refused it.
        return match e {
            ClientError::Io(_) | ClientError::Ws(_) => Ok(()),
            other => Err(other.into()),
        };
    }
    let limit = ctx.step();
    match ws.recv(limit).await {
        Ok(WsFrame::Closed(_)) => Ok(()),
        Ok(_) => ctx.expect_close(&mut ws, limit).await,
        Err(ClientError::Timeout(..)) => Err(Stop::Fail(format!(
            "a {}-byte message (maxPayload {max}) was accepted: the connection stayed open",
            big.len()
        ))),
        Err(e) => Err(e.into()),
    }
}

/// Connection state recovery: same socket id after a transport loss.
pub async fn recovery(ctx: Ctx) -> CaseResult {
    if ctx.profile.sio != Version::V5 {
        return Err(Stop::Skip("protocol v5 only (socket.io ≥ 4.6)".into()));
    }
    let path = ctx.profile.recovery_path.clone();
    let mut c = Conn::open_at(&ctx, &path, "").await?;
    c.send("0").await?;
    let answer = c.next_text().await?;
    let json: Value = answer
        .strip_prefix('0')
        .and_then(|j| serde_json::from_str(j).ok())
        .ok_or_else(|| Stop::Fail(format!("CONNECT answer: expected 40{{…}}, got 4{answer}")))?;
    let (Some(sid), Some(pid)) = (
        json.get("sid").and_then(Value::as_str),
        json.get("pid").and_then(Value::as_str),
    ) else {
        return Err(Stop::Skip(format!(
            "the server at {path} does not offer connection state recovery (no \"pid\" in 40{json}); see --recovery-path"
        )));
    };
    let (sid, pid) = (sid.to_string(), pid.to_string());
    // Events carry the offset as their last argument: `42["auth",{},"<offset>"]`.
    let event = c.next_text().await?;
    let offset = crate::socketio::decode(&event)
        .ok()
        .and_then(|p| p.args().last().and_then(Value::as_str).map(str::to_string))
        .ok_or_else(|| {
            Stop::Fail(format!(
                "expected an event whose last argument is the offset, got 4{event}"
            ))
        })?;
    c.ws.drop_abruptly();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut c = Conn::open_at(&ctx, &path, "").await?;
    c.send(&format!(r#"0{{"pid":"{pid}","offset":"{offset}"}}"#))
        .await?;
    let answer = c.next_text().await?;
    let got = answer
        .strip_prefix('0')
        .and_then(|j| serde_json::from_str::<Value>(j).ok())
        .and_then(|v| v.get("sid").and_then(Value::as_str).map(str::to_string));
    expect_eq("socket id after recovery", got, Some(sid))?;
    c.ws.close().await;
    Ok(())
}

/// The extra cases.
pub fn cases() -> Vec<CaseDef> {
    vec![
        case!("extra.permessage-deflate", "RFC 7692: permessage-deflate agreed, a compressed message echoed (skipped if not agreed)", permessage_deflate),
        case!("extra.max-payload.polling", "maxPayload: a polling body one byte over the limit is refused (413)", max_payload_polling),
        case!("extra.max-payload.ws", "maxPayload: a WebSocket message one byte over the limit closes the connection", max_payload_ws),
        case!("extra.recovery", "connection state recovery: the same socket id after a transport loss (v5)", recovery),
    ]
}
