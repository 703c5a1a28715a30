//! A WebSocket client on a bare `TcpStream` that can negotiate and use `permessage-deflate`.
//!
//! RFC 7692 §7.2.1: a compressed message is the DEFLATE output of its payload, flushed to a
//! byte boundary, with the trailing `00 00 ff ff` removed, sent with RSV1 set on the first
//! frame. The client offers plain `permessage-deflate` (no window-size parameters), so the only
//! parameter the server may impose on the client is `client_no_context_takeover`, honoured by
//! resetting the compressor after each message. Client frames are masked (RFC 6455 §5.3).

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

use flate2::{Compress, Compression, FlushCompress};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::{within, ClientError, Dir, Endpoint, Wire};
use crate::deflate::{parse_extensions, Extension};
use crate::http::{HttpDecoder, HttpHead, HttpLimits, HttpOutput, Role};
use crate::ws::{Opcode, Payload, WsConfig, WsDecoder, WsOutput};

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
    /// The connection ended (Close frame code, if any).
    Closed(Option<u16>),
}

/// A WebSocket connection with optional `permessage-deflate`.
#[derive(Debug)]
pub struct RawWs {
    stream: TcpStream,
    decoder: WsDecoder,
    compressor: Option<Compress>,
    reset_each_message: bool,
    /// The server's `Sec-WebSocket-Extensions` answer, if any.
    pub extensions: Option<String>,
    channel: String,
    wire: Wire,
    closed: bool,
}

impl RawWs {
    /// Upgrades `target` with `Sec-WebSocket-Extensions: offer` (if given) within `limit`.
    pub async fn connect(
        endpoint: &Endpoint,
        target: &str,
        offer: Option<&str>,
        limit: Duration,
        wire: &Wire,
    ) -> Result<RawWs, ClientError> {
        let channel = wire.channel("ws");
        let mut stream = endpoint.connect(limit).await?;
        let key = base64_key();
        let mut req = format!(
            "GET {target} HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n",
            endpoint.addr()
        );
        if let Some(offer) = offer {
            req.push_str(&format!("Sec-WebSocket-Extensions: {offer}\r\n"));
        }
        req.push_str("\r\n");
        wire.note(
            &channel,
            format!("GET {target} (WebSocket upgrade, extensions offered: {offer:?})"),
        );
        let (head, rest) = within(limit, "the WebSocket upgrade", async {
            stream.write_all(req.as_bytes()).await?;
            let mut dec = HttpDecoder::new(Role::Responses, HttpLimits::default());
            dec.expect_response_to("GET");
            let mut buf = vec![0u8; 8192];
            loop {
                if let Some(out) = dec.poll() {
                    let rest = if dec.is_upgraded() {
                        dec.take_upgraded().1
                    } else {
                        Vec::new()
                    };
                    return Ok((out, rest));
                }
                let n = stream.read(&mut buf).await?;
                if n == 0 {
                    return Err(ClientError::Closed(0));
                }
                dec.push(buf.get(..n).unwrap_or_default());
            }
        })
        .await?;
        let msg = match head {
            HttpOutput::Message(m) => m,
            HttpOutput::Error { error, .. } => return Err(ClientError::Http(error.to_string())),
        };
        let status = match msg.head {
            HttpHead::Response { status, .. } => status,
            HttpHead::Request { .. } => 0,
        };
        if status != 101 {
            wire.note(&channel, format!("upgrade refused: HTTP {status}"));
            return Err(ClientError::Refused(status));
        }
        let extensions = msg.header("sec-websocket-extensions").map(str::to_string);
        wire.note(
            &channel,
            format!("101 Switching Protocols, extensions: {extensions:?}"),
        );
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
            max_message: 16 << 20,
            midstream: false,
        });
        decoder.push(&rest);
        Ok(RawWs {
            stream,
            decoder,
            compressor: pmd
                .as_ref()
                .map(|_| Compress::new(Compression::default(), false)),
            reset_each_message: pmd.is_some_and(|p| p.client_no_context_takeover),
            extensions,
            channel,
            wire: wire.clone(),
            closed: false,
        })
    }

    /// Whether `permessage-deflate` was agreed.
    pub fn deflate_agreed(&self) -> bool {
        self.compressor.is_some()
    }

    /// Sends one message in one frame, compressed when `compress` is true and deflate was
    /// agreed.
    pub async fn send(
        &mut self,
        text: bool,
        payload: &[u8],
        compress: bool,
    ) -> Result<(), ClientError> {
        self.wire.bytes(Dir::Sent, &self.channel, payload);
        let (rsv1, data) = match (&mut self.compressor, compress) {
            (Some(c), true) => {
                let data = deflate_message(c, payload)?;
                if self.reset_each_message {
                    c.reset();
                }
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
        within(Duration::from_secs(5), "a WebSocket send", async {
            self.stream.write_all(&frame).await?;
            Ok(())
        })
        .await
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
                self.wire
                    .note(&self.channel, format!("closed by the server ({code:?})"));
            }
            Err(e) => self.wire.note(&self.channel, e.to_string()),
        }
        r
    }

    async fn next(&mut self) -> Result<RawMessage, ClientError> {
        let mut buf = vec![0u8; 16 << 10];
        loop {
            while let Some(out) = self.decoder.poll() {
                match out {
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
                        return Ok(RawMessage::Closed(c.close.and_then(|p| p.code)));
                    }
                    WsOutput::Control(c) if c.opcode == Opcode::Ping => {
                        let pong = client_frame(0xA, false, &c.payload);
                        self.stream.write_all(&pong).await?;
                    }
                    WsOutput::Violation { error, .. } => {
                        return Err(ClientError::Ws(error.to_string()))
                    }
                    _ => {}
                }
            }
            let n = self.stream.read(&mut buf).await?;
            if n == 0 {
                return Ok(RawMessage::Closed(None));
            }
            self.decoder.push(buf.get(..n).unwrap_or_default());
        }
    }
}

/// Compresses one message as RFC 7692 §7.2.1 says: deflate with a sync flush, then remove the
/// `00 00 ff ff` tail.
fn deflate_message(c: &mut Compress, payload: &[u8]) -> Result<Vec<u8>, ClientError> {
    let mut out = Vec::with_capacity(payload.len() + 64);
    let start = c.total_in();
    let consumed = |c: &Compress| usize::try_from(c.total_in() - start).unwrap_or(usize::MAX);
    // Each round consumes input or fills the (growing) output: bounded by the payload size.
    for _ in 0..10_000 {
        let input = payload.get(consumed(c)..).unwrap_or_default();
        c.compress_vec(input, &mut out, FlushCompress::Sync)
            .map_err(|e| ClientError::Ws(format!("deflate: {e}")))?;
        // The flush is complete when all input went in and the output did not fill up.
        if consumed(c) >= payload.len() && out.len() < out.capacity() {
            if out.ends_with(&[0, 0, 0xff, 0xff]) {
                out.truncate(out.len() - 4);
            }
            return Ok(out);
        }
        out.reserve(out.capacity().max(1024));
    }
    Err(ClientError::Ws("deflate did not finish".into()))
}

/// One final, masked client frame.
fn client_frame(opcode: u8, rsv1: bool, payload: &[u8]) -> Vec<u8> {
    let mut f = Vec::with_capacity(payload.len() + 14);
    f.push(0x80 | if rsv1 { 0x40 } else { 0 } | (opcode & 0x0f));
    let len = payload.len();
    if len < 126 {
        f.push(0x80 | len as u8);
    } else if let Ok(l16) = u16::try_from(len) {
        f.push(0x80 | 126);
        f.extend_from_slice(&l16.to_be_bytes());
    } else {
        f.push(0x80 | 127);
        f.extend_from_slice(&(len as u64).to_be_bytes());
    }
    let [k0, k1, k2, k3, ..] = random_u64().to_be_bytes();
    let key = [k0, k1, k2, k3];
    f.extend_from_slice(&key);
    f.extend(payload.iter().zip(key.iter().cycle()).map(|(b, k)| b ^ k));
    f
}

fn random_u64() -> u64 {
    let mut h = RandomState::new().build_hasher();
    h.write_u64(0x5105_c0de);
    h.finish()
}

fn base64_key() -> String {
    use base64::Engine as _;
    let mut k = [0u8; 16];
    k[..8].copy_from_slice(&random_u64().to_be_bytes());
    k[8..].copy_from_slice(&random_u64().to_be_bytes());
    base64::engine::general_purpose::STANDARD.encode(k)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deflate::Inflater;

    #[test]
    fn deflated_messages_inflate_back() {
        let mut c = Compress::new(Compression::default(), false);
        let msg = "4".to_string() + &"hello ".repeat(5000);
        let z = deflate_message(&mut c, msg.as_bytes()).unwrap();
        assert!(z.len() < msg.len() / 10);
        assert!(!z.ends_with(&[0, 0, 0xff, 0xff]));
        let mut inf = Inflater::new(false, 15, false);
        let back = inf.inflate_message(&z, 1 << 20).unwrap();
        assert_eq!(back, msg.as_bytes());
    }

    #[test]
    fn frames_are_masked_with_the_right_length() {
        let f = client_frame(1, true, &[b'a'; 300]);
        assert_eq!(&f[..4], &[0xc1, 0x80 | 126, 1, 44]);
        assert_eq!(f.len(), 4 + 4 + 300);
    }
}
