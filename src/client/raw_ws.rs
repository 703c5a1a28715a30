//! A WebSocket client on a [`Conn`] (plain or TLS) that can negotiate and use
//! `permessage-deflate`.
//!
//! The upgrade is an ordinary [`Request`] with `Upgrade: websocket`, `Connection: Upgrade`,
//! a fresh `Sec-WebSocket-Key` and version 13 (RFC 6455 §4.1); the server must answer `101`
//! (§4.2.2). Its `Sec-WebSocket-Extensions` answer decides compression: RFC 7692 §7.2.1 client
//! messages are deflated by [`Deflater`] and sent with RSV1, and the compressor is reset after
//! each message when the server imposed `client_no_context_takeover` or limited
//! `client_max_window_bits` below 15 (§7.1.2.2). Server frames are read, reassembled and
//! inflated by [`WsDecoder`]. Client frames, data and control alike, are built by
//! [`client_frame`] (masked, RFC 6455 §5.3). Pings are answered with a pong carrying the same
//! payload (§5.5.3: "A Pong frame sent in response to a Ping frame must have identical
//! 'Application data'").

use std::time::Duration;

use super::frame::{client_frame, websocket_key, Deflater};
use super::http::{read_response, Request};
use super::{within, ClientError, Conn, Dir, Endpoint, Wire};
use crate::deflate::{parse_extensions, Extension};
use crate::http::HttpMessage;
use crate::ws::{Opcode, Payload, WsConfig, WsDecoder, WsOutput};

/// Largest message accepted from the server (bytes).
const MAX_MESSAGE: usize = 16 << 20;
/// Time allowed for one frame to be written by [`RawWs::send`].
const SEND_LIMIT: Duration = Duration::from_secs(5);

/// A message received by [`RawWs::recv`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RawMessage {
    /// A data message.
    Data {
        /// Text (true) or binary.
        text: bool,
        /// RSV1 was set: the server compressed it.
        compressed: bool,
        /// The payload, inflated.
        bytes: Vec<u8>,
    },
    /// The connection ended (Close frame code, if any); see
    /// [`RawWs::close_frame_received`] to tell a Close frame from the stream ending.
    Closed(Option<u16>),
}

/// A WebSocket connection with optional `permessage-deflate`.
#[derive(Debug)]
pub struct RawWs {
    conn: Conn,
    decoder: WsDecoder,
    deflater: Option<Deflater>,
    /// The server's `Sec-WebSocket-Extensions` answer, if any.
    pub extensions: Option<String>,
    channel: String,
    wire: Wire,
    closed: bool,
    close_frame: bool,
    frames_in: u64,
    /// The first bytes after the `101` head (up to [`HEAD_SNIFF`]), until they are judged.
    head: Option<Vec<u8>>,
}

/// How many bytes after the `101` are looked at for an HTTP response.
const HEAD_SNIFF: usize = 64;

/// An HTTP response where WebSocket frames must be: after a `101`, RFC 6455 §1.2 "Once the
/// client and server have both sent their handshakes, and if the handshake was successful,
/// then the data transfer part starts" — frames only (§5). engine.io 6.6 does this when its
/// asynchronous handshake refuses an upgrade it already answered with `101`
/// (engine.io@6.6.12 build/server.js:640-647: `closeConnection` = `abortUpgrade`, which writes
/// `HTTP/1.1 400 …` on the upgraded socket). Named `http-after-upgrade`, as `check --capture`.
fn http_after_upgrade(head: &[u8]) -> Option<Result<String, ()>> {
    const HTTP: &[u8] = b"HTTP/";
    if head.len() < HTTP.len() {
        // Undecided while what came so far could still be the start of "HTTP/".
        return HTTP.starts_with(head).then_some(Err(()));
    }
    head.starts_with(HTTP).then(|| {
        let line = head
            .split(|&b| b == b'\r' || b == b'\n')
            .next()
            .unwrap_or(head);
        Ok(String::from_utf8_lossy(line).into_owned())
    })
}

impl RawWs {
    /// Connects to `endpoint` and upgrades `target` with `Sec-WebSocket-Extensions: offer`
    /// (if given), all within `limit`. A non-`101` answer is [`ClientError::Refused`].
    pub async fn connect(
        endpoint: &Endpoint,
        target: &str,
        offer: Option<&str>,
        limit: Duration,
        wire: &Wire,
    ) -> Result<RawWs, ClientError> {
        let channel = wire.channel("ws");
        wire.note(
            &channel,
            match offer {
                Some(o) => format!("GET {target} (WebSocket upgrade, extensions offered: {o})"),
                None => format!("GET {target} (WebSocket upgrade)"),
            },
        );
        match upgrade(endpoint, target, offer, limit).await {
            Ok((conn, extensions, rest)) => {
                wire.note(
                    &channel,
                    match &extensions {
                        Some(e) => format!("101 Switching Protocols, extensions: {e}"),
                        None => "101 Switching Protocols".to_string(),
                    },
                );
                Ok(RawWs::upgraded(conn, extensions, &rest, wire, channel))
            }
            Err(e) => {
                wire.note(&channel, format!("upgrade failed: {e}"));
                Err(e)
            }
        }
    }

    /// The WebSocket on `conn` after a `101` whose `Sec-WebSocket-Extensions` was `extensions`;
    /// `rest` are the bytes that followed the response head. Logs into `wire` as `channel`.
    pub fn upgraded(
        conn: Conn,
        extensions: Option<String>,
        rest: &[u8],
        wire: &Wire,
        channel: String,
    ) -> RawWs {
        let negotiated = extensions
            .as_deref()
            .map(parse_extensions)
            .map(|n| n.extensions)
            .unwrap_or_default();
        let pmd = negotiated.iter().find_map(|e| match e {
            Extension::PerMessageDeflate(p) => Some(p.clone()),
            _ => None,
        });
        let mut decoder = WsDecoder::new(WsConfig {
            from_client: false,
            extensions: negotiated,
            max_message: MAX_MESSAGE,
            midstream: false,
        });
        decoder.push(rest);
        let head = rest.get(..rest.len().min(HEAD_SNIFF)).unwrap_or_default();
        RawWs {
            conn,
            decoder,
            deflater: pmd.map(|p| {
                Deflater::new(
                    p.client_no_context_takeover
                        || p.client_max_window_bits.is_some_and(|b| b < 15),
                )
            }),
            extensions,
            channel,
            wire: wire.clone(),
            closed: false,
            close_frame: false,
            frames_in: 0,
            head: Some(head.to_vec()),
        }
    }

    /// Whether `permessage-deflate` was agreed.
    pub fn deflate_agreed(&self) -> bool {
        self.deflater.is_some()
    }

    /// Frames received so far (data and control).
    pub fn frames_in(&self) -> u64 {
        self.frames_in
    }

    /// Bytes received on the connection so far (the `101` included).
    pub fn received(&self) -> u64 {
        self.conn.received()
    }

    /// Whether the connection ended with a Close frame from the server (rather than the TCP
    /// stream ending without one).
    pub fn close_frame_received(&self) -> bool {
        self.close_frame
    }

    /// Sends one message in one frame, compressed when `compress` is true and deflate was
    /// agreed, within 5 s.
    pub async fn send(
        &mut self,
        text: bool,
        payload: &[u8],
        compress: bool,
    ) -> Result<(), ClientError> {
        self.send_within(text, payload, compress, SEND_LIMIT).await
    }

    /// [`RawWs::send`] within `limit`.
    pub async fn send_within(
        &mut self,
        text: bool,
        payload: &[u8],
        compress: bool,
        limit: Duration,
    ) -> Result<(), ClientError> {
        self.wire.bytes(Dir::Sent, &self.channel, payload);
        let (rsv1, data) = match (&mut self.deflater, compress) {
            (Some(d), true) => {
                let data = d.message(payload)?;
                self.wire.note(
                    &self.channel,
                    format!(
                        "(sent compressed: {} → {} bytes)",
                        payload.len(),
                        data.len()
                    ),
                );
                (true, data)
            }
            _ => (false, payload.to_vec()),
        };
        let frame = client_frame(if text { 0x1 } else { 0x2 }, rsv1, &data);
        self.conn.send(&frame, limit, "a WebSocket send").await
    }

    /// Sends a Close frame, with a status code or empty (RFC 6455 §5.5.1), within `limit`.
    pub async fn send_close(
        &mut self,
        code: Option<u16>,
        limit: Duration,
    ) -> Result<(), ClientError> {
        self.wire.note(
            &self.channel,
            match code {
                Some(c) => format!("closed by the client (close code {c})"),
                None => "closed by the client".to_string(),
            },
        );
        let payload = code.map(u16::to_be_bytes);
        let frame = client_frame(0x8, false, payload.as_ref().map_or(&[][..], |p| &p[..]));
        self.conn.send(&frame, limit, "a WebSocket send").await
    }

    /// Drops the connection without a Close frame (an abrupt transport loss).
    pub fn drop_abruptly(self) {
        self.wire
            .note(&self.channel, "TCP connection dropped by the client");
        drop(self.conn);
    }

    /// The next data message or the end of the connection, within `limit`.
    pub async fn recv(&mut self, limit: Duration) -> Result<RawMessage, ClientError> {
        if self.closed {
            return Ok(RawMessage::Closed(None));
        }
        let r = within(limit, "a WebSocket message", self.next()).await;
        match &r {
            Ok(RawMessage::Data {
                bytes, compressed, ..
            }) => {
                self.wire.bytes(Dir::Received, &self.channel, bytes);
                if *compressed {
                    self.wire.note(&self.channel, "(received compressed)");
                }
            }
            Ok(RawMessage::Closed(code)) => {
                self.closed = true;
                self.wire.note(
                    &self.channel,
                    match code {
                        Some(c) => format!("closed by the server (close code {c})"),
                        None => "closed by the server".to_string(),
                    },
                );
            }
            Err(e) => self.wire.note(&self.channel, e.to_string()),
        }
        r
    }

    async fn next(&mut self) -> Result<RawMessage, ClientError> {
        let mut buf = vec![0u8; 16 << 10];
        loop {
            let mut undecided = false;
            if let Some(head) = &self.head {
                match http_after_upgrade(head) {
                    Some(Ok(line)) => {
                        self.head = None;
                        return Err(ClientError::HttpAfterUpgrade(line));
                    }
                    Some(Err(())) if !head.is_empty() => undecided = true,
                    Some(Err(())) => {}
                    None => self.head = None,
                }
            }
            // While undecided, nothing is decoded: the bytes may be an HTTP response.
            while let Some(out) = if undecided { None } else { self.decoder.poll() } {
                match out {
                    WsOutput::Frame(_) => self.frames_in = self.frames_in.saturating_add(1),
                    WsOutput::Message(m) => {
                        let bytes = match m.payload {
                            Payload::Bytes(b) => b,
                            Payload::NotInflated { error, .. } => {
                                return Err(ClientError::Ws(format!("cannot inflate: {error}")))
                            }
                            other => {
                                return Err(ClientError::Ws(format!("unusable message: {other:?}")))
                            }
                        };
                        return Ok(RawMessage::Data {
                            text: m.opcode == Opcode::Text,
                            compressed: m.compressed,
                            bytes,
                        });
                    }
                    WsOutput::Control(c) if c.opcode == Opcode::Close => {
                        self.close_frame = true;
                        return Ok(RawMessage::Closed(c.close.and_then(|p| p.code)));
                    }
                    WsOutput::Control(c) if c.opcode == Opcode::Ping => {
                        // §5.5: control frame payloads are at most 125 bytes.
                        let p = c.payload.get(..125).unwrap_or(&c.payload);
                        let pong = client_frame(0xA, false, p);
                        self.conn
                            .send(&pong, SEND_LIMIT, "a WebSocket pong")
                            .await?;
                    }
                    WsOutput::Violation { error, .. } => {
                        return Err(ClientError::Ws(error.to_string()))
                    }
                    _ => {}
                }
            }
            let n = self.conn.read(&mut buf).await?;
            if n == 0 {
                return Ok(RawMessage::Closed(None));
            }
            let got = buf.get(..n).unwrap_or_default();
            if let Some(head) = &mut self.head {
                let room = HEAD_SNIFF.saturating_sub(head.len());
                head.extend_from_slice(got.get(..room.min(n)).unwrap_or_default());
            }
            self.decoder.push(got);
        }
    }
}

/// Connects and upgrades; the connection, the server's `Sec-WebSocket-Extensions` and the
/// bytes after the `101` head, all within `limit`.
async fn upgrade(
    endpoint: &Endpoint,
    target: &str,
    offer: Option<&str>,
    limit: Duration,
) -> Result<(Conn, Option<String>, Vec<u8>), ClientError> {
    let deadline = tokio::time::Instant::now() + limit;
    let mut conn = Conn::open(endpoint, limit).await?;
    let left = deadline.saturating_duration_since(tokio::time::Instant::now());
    let (msg, rest) = upgrade_request(&mut conn, &endpoint.addr(), target, offer, &[], left)
        .await
        .map_err(|e| match e {
            ClientError::Timeout(..) => ClientError::Timeout(limit, "the WebSocket upgrade"),
            other => other,
        })?;
    // RFC 6455 §4.1: "If the status code received from the server is not 101, the client
    // handles the response per HTTP procedures."
    match msg.status() {
        Some(101) => {}
        status => return Err(ClientError::Refused(status.unwrap_or(0))),
    }
    let extensions = msg.header("sec-websocket-extensions").map(str::to_string);
    Ok((conn, extensions, rest))
}

/// Sends a WebSocket upgrade request for `target` on `conn` (RFC 6455 §4.1: `Upgrade:
/// websocket`, `Connection: Upgrade`, a fresh `Sec-WebSocket-Key`, version 13, and
/// `Sec-WebSocket-Extensions: offer` when given, then `extra` header fields) and reads the
/// answer, within `limit`. Returns the response and, after a `101`, the bytes that followed
/// its head (for [`RawWs::upgraded`]); any other status is for the caller to read.
pub async fn upgrade_request(
    conn: &mut Conn,
    host: &str,
    target: &str,
    offer: Option<&str>,
    extra: &[(&str, String)],
    limit: Duration,
) -> Result<(HttpMessage, Vec<u8>), ClientError> {
    let deadline = tokio::time::Instant::now() + limit;
    let mut headers = vec![
        ("Upgrade", "websocket".to_string()),
        ("Connection", "Upgrade".to_string()),
        ("Sec-WebSocket-Key", websocket_key()),
        ("Sec-WebSocket-Version", "13".to_string()),
    ];
    if let Some(offer) = offer {
        headers.push(("Sec-WebSocket-Extensions", offer.to_string()));
    }
    headers.extend(extra.iter().cloned());
    let request = Request {
        method: "GET",
        target,
        host,
        headers: &headers,
        body: b"",
    };
    conn.send(
        &request.encode(),
        limit,
        "the WebSocket upgrade request to be written",
    )
    .await?;
    let mut decoder = request.response_decoder();
    let left = deadline.saturating_duration_since(tokio::time::Instant::now());
    read_response(conn, &mut decoder, left).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A one-shot server on 127.0.0.1: reads the upgrade request, answers `101` and `after`.
    async fn server(answer: &'static [u8]) -> (Endpoint, tokio::task::JoinHandle<Vec<u8>>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let task = tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut got = Vec::new();
            let mut buf = [0u8; 4096];
            while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                let n = s.read(&mut buf).await.unwrap();
                assert!(n > 0, "request ended early");
                got.extend_from_slice(&buf[..n]);
            }
            s.write_all(answer).await.unwrap();
            // Whatever the client sends next (a pong), until it goes away.
            let mut rest = Vec::new();
            let _ = tokio::time::timeout(Duration::from_secs(2), s.read_to_end(&mut rest)).await;
            got.extend_from_slice(&rest);
            got
        });
        let e = Endpoint::parse(&format!("http://127.0.0.1:{port}")).unwrap();
        (e, task)
    }

    const SWITCH: &str = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: x\r\n\r\n";

    /// engine.io 6.6's answer to `GET /socket.io/?transport=websocket`: 101, then a 400.
    #[tokio::test]
    async fn http_after_upgrade_is_named_not_decoded_as_frames() {
        let answer: &'static [u8] = Box::leak(
            [
                SWITCH.as_bytes(),
                b"HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Type: application/json\r\n\r\n{\"code\":5}",
            ]
            .concat()
            .into_boxed_slice(),
        );
        let (e, _task) = server(answer).await;
        let wire = Wire::new();
        let mut ws = RawWs::connect(
            &e,
            "/socket.io/?transport=websocket",
            None,
            Duration::from_secs(2),
            &wire,
        )
        .await
        .unwrap();
        match ws.recv(Duration::from_secs(2)).await {
            Err(ClientError::HttpAfterUpgrade(line)) => {
                assert_eq!(line, "HTTP/1.1 400 Bad Request")
            }
            other => panic!("expected http-after-upgrade, got {other:?}"),
        }
    }

    #[test]
    fn http_after_upgrade_sniff() {
        assert_eq!(
            http_after_upgrade(b"HTTP/1.1 400 Bad Request\r\n"),
            Some(Ok("HTTP/1.1 400 Bad Request".to_string()))
        );
        // Undecided on a prefix of "HTTP/", decided on a frame header.
        assert_eq!(http_after_upgrade(b"HT"), Some(Err(())));
        assert_eq!(http_after_upgrade(b"\x81\x02"), None);
        assert_eq!(http_after_upgrade(b"\x81\x024"), None);
    }

    #[tokio::test]
    async fn reads_messages_answers_pings_and_tells_a_close_frame_from_the_end() {
        // 101, a ping "p", the text "40", a close frame 1000.
        let answer: &'static [u8] = Box::leak(
            [
                SWITCH.as_bytes(),
                &[0x89, 1, b'p'],
                &[0x81, 2, b'4', b'0'],
                &[0x88, 2, 0x03, 0xe8],
            ]
            .concat()
            .into_boxed_slice(),
        );
        let (e, task) = server(answer).await;
        let wire = Wire::new();
        let limit = Duration::from_secs(2);
        let mut ws = RawWs::connect(
            &e,
            "/socket.io/?EIO=4&transport=websocket",
            None,
            limit,
            &wire,
        )
        .await
        .unwrap();
        assert!(!ws.deflate_agreed());
        let m = ws.recv(limit).await.unwrap();
        assert_eq!(
            m,
            RawMessage::Data {
                text: true,
                compressed: false,
                bytes: b"40".to_vec()
            }
        );
        assert_eq!(
            ws.recv(limit).await.unwrap(),
            RawMessage::Closed(Some(1000))
        );
        assert!(ws.close_frame_received());
        assert_eq!(ws.frames_in(), 3);
        ws.drop_abruptly();
        let sent = task.await.unwrap();
        let head = String::from_utf8_lossy(&sent);
        assert!(head.starts_with("GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n"));
        assert!(head.contains("Sec-WebSocket-Version: 13\r\n"));
        // The pong: FIN + opcode 0xA, masked, 1 byte, which unmasks to "p".
        let at = sent.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
        let pong = &sent[at..];
        assert_eq!((pong[0], pong[1]), (0x8a, 0x81));
        assert_eq!(pong[6] ^ pong[2], b'p');
    }

    #[tokio::test]
    async fn the_stream_ending_is_not_a_close_frame_and_a_refusal_is_refused() {
        let (e, task) = server(SWITCH.as_bytes()).await;
        let wire = Wire::new();
        let limit = Duration::from_secs(2);
        let mut ws = RawWs::connect(&e, "/", None, limit, &wire).await.unwrap();
        ws.send_close(Some(1000), limit).await.unwrap();
        drop(ws);
        let sent = task.await.unwrap();
        let at = sent.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
        assert_eq!((sent[at], sent[at + 1]), (0x88, 0x82));

        let (e, _task) = server(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n").await;
        match RawWs::connect(&e, "/", None, limit, &wire).await {
            Err(ClientError::Refused(400)) => {}
            other => panic!("{other:?}"),
        }
        let (e, task) = server(SWITCH.as_bytes()).await;
        let mut ws = RawWs::connect(&e, "/", None, limit, &wire).await.unwrap();
        // The server task ends after its 2 s read: the stream ends without a Close frame.
        drop(task);
        let r = ws.recv(Duration::from_secs(4)).await.unwrap();
        assert_eq!(r, RawMessage::Closed(None));
        assert!(!ws.close_frame_received());
    }
}
