//! A minimal Engine.IO client for probing: one TCP (or TLS) connection per request, HTTP/1.1
//! requests written by hand and responses read with [`crate::http::HttpDecoder`], and after a
//! `101` the WebSocket frames read with [`crate::ws::WsDecoder`] (which also inflates
//! permessage-deflate) and written here (masked, compressed when negotiated).
//!
//! Every read is bounded by a deadline: a probe never waits longer than its timeout, and
//! never buffers more than the decoders' limits.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout_at;

use super::target::Target;
use crate::deflate::{parse_extensions, Extension};
use crate::http::{HttpDecoder, HttpLimits, HttpMessage, HttpOutput, Role};
use crate::ws::{Opcode, WsConfig, WsDecoder, WsOutput};

/// Largest response or message a probe accepts.
const MAX_BODY: usize = 4 << 20;

/// Why a step of a probe did not complete.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Failure {
    /// Nothing listens on the port (connection refused).
    #[error("connection refused")]
    Refused,
    /// The name did not resolve.
    #[error("name resolution failed: {0}")]
    Resolve(String),
    /// No answer within the timeout; `got` says what had arrived by then.
    #[error("timed out waiting for {waiting_for} ({got} bytes received on this connection)")]
    Timeout {
        /// What was awaited.
        waiting_for: String,
        /// Bytes received on this connection before the silence.
        got: u64,
    },
    /// The peer closed the connection (`reset` when it reset it).
    #[error("connection {} while waiting for {waiting_for}", if *reset { "reset" } else { "closed" })]
    Closed {
        /// What was awaited.
        waiting_for: String,
        /// By RST rather than FIN.
        reset: bool,
    },
    /// TLS failed.
    #[error("TLS: {0}")]
    Tls(String),
    /// Any other I/O error.
    #[error("{0}")]
    Io(String),
    /// The bytes broke HTTP or WebSocket framing.
    #[error("{0}")]
    Protocol(String),
}

trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

/// One connection to the target.
pub struct Conn {
    io: Pin<Box<dyn Stream>>,
    deadline: Instant,
    received: u64,
}

fn io_failure(e: &io::Error, waiting_for: &str) -> Failure {
    match e.kind() {
        io::ErrorKind::ConnectionRefused => Failure::Refused,
        io::ErrorKind::ConnectionReset | io::ErrorKind::BrokenPipe => Failure::Closed {
            waiting_for: waiting_for.to_string(),
            reset: true,
        },
        _ => Failure::Io(e.to_string()),
    }
}

/// A value that differs between calls: masking keys and `Sec-WebSocket-Key` nonces. (RFC 6455
/// wants masking keys unpredictable to scripts in a browser; a probe has no such adversary.)
fn nonce() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0x9e37_79b9_7f4a_7c15);
    let t = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let mut x = N.fetch_add(0x9e37_79b9_7f4a_7c15, Ordering::Relaxed) ^ t;
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^ (x >> 29)
}

/// A cache-busting `t` value like engine.io-client's.
pub fn cache_buster() -> String {
    format!("{:x}", nonce() & 0xffff_ffff)
}

impl Conn {
    /// Opens a connection (and TLS when the target asks for it) before `deadline`.
    pub async fn open(target: &Target, deadline: Instant) -> Result<Conn, Failure> {
        let addr = (target.host.as_str(), target.port);
        let tcp = match timeout_at(deadline.into(), TcpStream::connect(addr)).await {
            Err(_) => {
                return Err(Failure::Timeout {
                    waiting_for: "TCP connection".into(),
                    got: 0,
                })
            }
            Ok(Err(e)) if e.kind() == io::ErrorKind::ConnectionRefused => {
                return Err(Failure::Refused)
            }
            Ok(Err(e)) if e.raw_os_error().is_none() && e.kind() != io::ErrorKind::TimedOut => {
                return Err(Failure::Resolve(e.to_string()))
            }
            Ok(Err(e)) => return Err(io_failure(&e, "TCP connection")),
            Ok(Ok(s)) => s,
        };
        let _ = tcp.set_nodelay(true);
        let io: Pin<Box<dyn Stream>> = if target.tls {
            Box::pin(tls(tcp, &target.host, deadline).await?)
        } else {
            Box::pin(tcp)
        };
        Ok(Conn {
            io,
            deadline,
            received: 0,
        })
    }

    /// Sends bytes.
    pub async fn send(&mut self, bytes: &[u8]) -> Result<(), Failure> {
        match timeout_at(self.deadline.into(), self.io.write_all(bytes)).await {
            Err(_) => Err(Failure::Timeout {
                waiting_for: "the send to complete".into(),
                got: self.received,
            }),
            Ok(Err(e)) => Err(io_failure(&e, "the send to complete")),
            Ok(Ok(())) => Ok(()),
        }
    }

    /// Reads some bytes into `buf`; `Ok(0)` is end of stream.
    async fn read(&mut self, buf: &mut [u8], waiting_for: &str) -> Result<usize, Failure> {
        match timeout_at(self.deadline.into(), self.io.read(buf)).await {
            Err(_) => Err(Failure::Timeout {
                waiting_for: waiting_for.to_string(),
                got: self.received,
            }),
            Ok(Err(e)) => Err(io_failure(&e, waiting_for)),
            Ok(Ok(n)) => {
                self.received += n as u64;
                Ok(n)
            }
        }
    }

    /// Sends one HTTP request and reads its response. `101` leaves the connection ready for
    /// [`Conn::websocket`], with any bytes that followed the response handed over.
    pub async fn request(
        &mut self,
        target: &Target,
        method: &str,
        path_and_query: &str,
        extra_headers: &[(&str, String)],
        body: &[u8],
    ) -> Result<(HttpMessage, Vec<u8>), Failure> {
        let mut req = format!(
            "{method} {path_and_query} HTTP/1.1\r\nHost: {}\r\nUser-Agent: sioscope-doctor/{}\r\nAccept: */*\r\n",
            target.host_header(),
            env!("CARGO_PKG_VERSION")
        );
        for (k, v) in extra_headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        if method == "POST" {
            req.push_str(&format!(
                "Content-Type: text/plain;charset=UTF-8\r\nContent-Length: {}\r\n",
                body.len()
            ));
        }
        req.push_str("\r\n");
        let mut bytes = req.into_bytes();
        bytes.extend_from_slice(body);
        self.send(&bytes).await?;
        let mut dec = HttpDecoder::new(
            Role::Responses,
            HttpLimits {
                max_head: 64 << 10,
                max_body: MAX_BODY,
            },
        );
        dec.expect_response_to(method);
        let mut buf = vec![0u8; 16 << 10];
        loop {
            if let Some(out) = dec.poll() {
                return match out {
                    HttpOutput::Message(m) => {
                        let rest = if m.status() == Some(101) {
                            dec.take_upgraded().1
                        } else {
                            vec![]
                        };
                        Ok((m, rest))
                    }
                    HttpOutput::Error { error, .. } => {
                        Err(Failure::Protocol(format!("bad HTTP response: {error}")))
                    }
                };
            }
            let n = self.read(&mut buf, "the HTTP response").await?;
            if n == 0 {
                if let Some(HttpOutput::Message(m)) = dec.finish() {
                    return Ok((m, vec![]));
                }
                return Err(Failure::Closed {
                    waiting_for: "the HTTP response".into(),
                    reset: false,
                });
            }
            dec.push(buf.get(..n).unwrap_or(&[]));
        }
    }

    /// Moves the deadline (each step of a probe gets its own timeout).
    pub fn set_deadline(&mut self, deadline: Instant) {
        self.deadline = deadline;
    }

    /// Turns the connection into a WebSocket client after a `101` whose
    /// `Sec-WebSocket-Extensions` was `extensions`.
    pub fn websocket(self, extensions: Option<&str>, leftover: Vec<u8>) -> WsClient {
        let exts = parse_extensions(extensions.unwrap_or("")).extensions;
        let deflate = exts
            .iter()
            .any(|e| matches!(e, Extension::PerMessageDeflate(_)));
        let mut dec = WsDecoder::new(WsConfig {
            from_client: false,
            extensions: exts,
            max_message: MAX_BODY,
            midstream: false,
        });
        dec.push(&leftover);
        WsClient {
            conn: self,
            dec,
            deflate,
            frames_in: 0,
        }
    }
}

async fn tls(
    tcp: TcpStream,
    host: &str,
    deadline: Instant,
) -> Result<tokio_rustls::client::TlsStream<TcpStream>, Failure> {
    use tokio_rustls::rustls::{self, pki_types::ServerName};
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    let cfg = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| Failure::Tls(e.to_string()))?
    .with_root_certificates(roots)
    .with_no_client_auth();
    let name = ServerName::try_from(host.to_string()).map_err(|e| Failure::Tls(e.to_string()))?;
    let connector = tokio_rustls::TlsConnector::from(Arc::new(cfg));
    match timeout_at(deadline.into(), connector.connect(name, tcp)).await {
        Err(_) => Err(Failure::Timeout {
            waiting_for: "the TLS handshake".into(),
            got: 0,
        }),
        Ok(Err(e)) => Err(Failure::Tls(e.to_string())),
        Ok(Ok(s)) => Ok(s),
    }
}

/// A fresh `Sec-WebSocket-Key` (16 bytes, base64).
pub fn websocket_key() -> String {
    let mut k = [0u8; 16];
    k[..8].copy_from_slice(&nonce().to_le_bytes());
    k[8..].copy_from_slice(&nonce().to_le_bytes());
    base64::engine::general_purpose::STANDARD.encode(k)
}

/// What arrived on a WebSocket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WsIn {
    /// A text message.
    Text(String),
    /// A binary message.
    Binary(Vec<u8>),
    /// A close frame (code).
    Close(Option<u16>),
}

/// The client side of a WebSocket.
pub struct WsClient {
    conn: Conn,
    dec: WsDecoder,
    /// permessage-deflate was negotiated: messages this client sends are compressed.
    pub deflate: bool,
    /// Frames received so far.
    pub frames_in: u64,
}

impl WsClient {
    /// Moves the deadline.
    pub fn set_deadline(&mut self, deadline: Instant) {
        self.conn.set_deadline(deadline);
    }

    /// Sends a text message (masked; compressed when permessage-deflate was negotiated).
    pub async fn send_text(&mut self, text: &str) -> Result<(), Failure> {
        let (payload, rsv1) = if self.deflate {
            (compress(text.as_bytes())?, true)
        } else {
            (text.as_bytes().to_vec(), false)
        };
        self.conn.send(&frame(0x1, rsv1, &payload)).await
    }

    /// Sends a close frame with a status code.
    pub async fn send_close(&mut self, code: u16) -> Result<(), Failure> {
        self.conn
            .send(&frame(0x8, false, &code.to_be_bytes()))
            .await
    }

    /// The next message or close frame (pings are answered, pongs skipped).
    pub async fn recv(&mut self, waiting_for: &str) -> Result<WsIn, Failure> {
        let mut buf = vec![0u8; 16 << 10];
        loop {
            while let Some(out) = self.dec.poll() {
                match out {
                    WsOutput::Frame(_) => self.frames_in += 1,
                    WsOutput::Message(m) => {
                        let bytes = match m.payload.bytes() {
                            Some(b) => b.to_vec(),
                            None => {
                                return Err(Failure::Protocol(
                                    "a compressed message from the server does not inflate".into(),
                                ))
                            }
                        };
                        return Ok(match m.opcode {
                            Opcode::Text => {
                                WsIn::Text(String::from_utf8_lossy(&bytes).into_owned())
                            }
                            _ => WsIn::Binary(bytes),
                        });
                    }
                    WsOutput::Control(c) => match c.opcode {
                        Opcode::Close => return Ok(WsIn::Close(c.close.and_then(|p| p.code))),
                        Opcode::Ping => {
                            let p = c.payload.get(..125).unwrap_or(&c.payload).to_vec();
                            self.conn.send(&frame(0xA, false, &p)).await?;
                        }
                        _ => {}
                    },
                    WsOutput::Violation { error, .. } => {
                        return Err(Failure::Protocol(format!(
                            "the server broke WebSocket framing: {error}"
                        )))
                    }
                }
            }
            let n = self.conn.read(&mut buf, waiting_for).await?;
            if n == 0 {
                return Err(Failure::Closed {
                    waiting_for: waiting_for.to_string(),
                    reset: false,
                });
            }
            self.dec.push(buf.get(..n).unwrap_or(&[]));
        }
    }

    /// Says goodbye: a close frame, then waits briefly for the server's.
    pub async fn close(mut self, grace: Duration) {
        if self.send_close(1000).await.is_ok() {
            self.set_deadline(Instant::now() + grace);
            for _ in 0..8 {
                match self.recv("the close answer").await {
                    Ok(WsIn::Close(_)) | Err(_) => break,
                    Ok(_) => {}
                }
            }
        }
    }
}

/// A client frame: FIN, optional RSV1, masked.
fn frame(opcode: u8, rsv1: bool, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + 14);
    out.push(0x80 | if rsv1 { 0x40 } else { 0 } | (opcode & 0x0f));
    let len = payload.len();
    if len < 126 {
        out.push(0x80 | len as u8);
    } else if len <= 0xffff {
        out.push(0x80 | 126);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(0x80 | 127);
        out.extend_from_slice(&(len as u64).to_be_bytes());
    }
    let key = (nonce() as u32).to_le_bytes();
    out.extend_from_slice(&key);
    out.extend(payload.iter().zip(key.iter().cycle()).map(|(b, k)| b ^ k));
    out
}

/// RFC 7692 §7.2.1: compress with DEFLATE, end with a sync flush, and drop the trailing
/// `00 00 ff ff`. A fresh compressor per message is valid with or without context takeover.
fn compress(data: &[u8]) -> Result<Vec<u8>, Failure> {
    use flate2::{Compress, Compression, FlushCompress};
    let mut c = Compress::new(Compression::default(), false);
    let mut out = Vec::with_capacity(data.len() + 64);
    let mut input = data;
    for _ in 0..64 {
        if out.capacity() - out.len() < 64 {
            out.reserve(data.len() + 64);
        }
        let before = c.total_in();
        c.compress_vec(input, &mut out, FlushCompress::Sync)
            .map_err(|e| Failure::Protocol(format!("deflate: {e}")))?;
        let used = (c.total_in() - before) as usize;
        input = input.get(used..).unwrap_or(&[]);
        if input.is_empty() && out.ends_with(&[0, 0, 0xff, 0xff]) {
            out.truncate(out.len() - 4);
            return Ok(out);
        }
    }
    Err(Failure::Protocol("deflate did not finish".into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deflate::Inflater;

    #[test]
    fn compressed_frames_inflate_with_the_projects_own_inflater() {
        let c = compress(b"40").unwrap();
        let mut inf = Inflater::new(false, 15, false);
        let out = inf.inflate_message(&c, 1 << 20).unwrap();
        assert_eq!(out, b"40");
    }

    #[test]
    fn frames_are_masked_with_the_right_length_forms() {
        let f = frame(1, false, b"hi");
        assert_eq!(f[0], 0x81);
        assert_eq!(f[1], 0x82);
        let k = [f[2], f[3], f[4], f[5]];
        assert_eq!([f[6] ^ k[0], f[7] ^ k[1]], *b"hi");
        let big = frame(2, true, &[0u8; 300]);
        assert_eq!((big[0], big[1], big[2], big[3]), (0xc2, 0xfe, 1, 44));
    }
}
