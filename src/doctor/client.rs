//! doctor's use of the shared client ([`crate::client`]): a connection with a deadline
//! (each step of a probe gets its own), one HTTP request per connection, and after a `101` a
//! [`RawWs`] that sends messages compressed whenever permessage-deflate was agreed.
//!
//! What this file adds is doctor's vocabulary: a shared-client error becomes a [`Failure`]
//! saying what was awaited and how many bytes had arrived, which is what doctor's findings are
//! built from ("101 received, then no frame": something swallows WebSocket frames).

use std::io;
use std::time::{Duration, Instant};

use super::target::Target;
use crate::client::{
    nonce, read_response, upgrade_request, ClientError, RawMessage, RawWs, Request, Wire,
};
use crate::http::HttpMessage;

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

/// A shared-client error as a [`Failure`] while waiting for `waiting_for`, with `got` bytes
/// received on the connection.
fn failure(e: ClientError, waiting_for: &str, got: u64) -> Failure {
    match e {
        ClientError::Timeout(..) => Failure::Timeout {
            waiting_for: waiting_for.to_string(),
            got,
        },
        ClientError::Connect { source, .. } => {
            if source.kind() == io::ErrorKind::ConnectionRefused {
                Failure::Refused
            } else if source.raw_os_error().is_none() && source.kind() != io::ErrorKind::TimedOut {
                Failure::Resolve(source.to_string())
            } else {
                io_failure(&source, waiting_for)
            }
        }
        ClientError::Tls(t) => Failure::Tls(t),
        ClientError::Io(e) => io_failure(&e, waiting_for),
        ClientError::Closed(_) => Failure::Closed {
            waiting_for: waiting_for.to_string(),
            reset: false,
        },
        ClientError::Http(e) => Failure::Protocol(format!("bad HTTP response: {e}")),
        ClientError::Ws(w) if w.starts_with("cannot inflate") => {
            Failure::Protocol("a compressed message from the server does not inflate".into())
        }
        ClientError::Ws(w) => Failure::Protocol(format!("the server broke WebSocket framing: {w}")),
        other => Failure::Protocol(other.to_string()),
    }
}

/// Time left until `deadline` (zero once it passed).
fn left(deadline: Instant) -> Duration {
    deadline.saturating_duration_since(Instant::now())
}

/// The header fields doctor sends with every request.
fn identity() -> Vec<(&'static str, String)> {
    vec![
        (
            "User-Agent",
            format!("sioscope-doctor/{}", env!("CARGO_PKG_VERSION")),
        ),
        ("Accept", "*/*".to_string()),
    ]
}

/// A cache-busting `t` value like engine.io-client's.
pub fn cache_buster() -> String {
    format!("{:x}", nonce() & 0xffff_ffff)
}

/// One connection to the target, with the deadline of the current step.
pub struct Conn {
    conn: crate::client::Conn,
    deadline: Instant,
}

impl Conn {
    /// Opens a connection (and TLS when the target asks for it) before `deadline`.
    pub async fn open(target: &Target, deadline: Instant) -> Result<Conn, Failure> {
        match crate::client::Conn::open(&target.endpoint(), left(deadline)).await {
            Ok(conn) => Ok(Conn { conn, deadline }),
            Err(e @ ClientError::Timeout(_, "the TLS handshake")) => {
                Err(failure(e, "the TLS handshake", 0))
            }
            Err(e) => Err(failure(e, "TCP connection", 0)),
        }
    }

    /// Sends one HTTP request and reads its response.
    pub async fn request(
        &mut self,
        target: &Target,
        method: &str,
        path_and_query: &str,
        extra_headers: &[(&str, String)],
        body: &[u8],
    ) -> Result<HttpMessage, Failure> {
        let mut headers = identity();
        headers.extend(extra_headers.iter().cloned());
        let request = Request {
            method,
            target: path_and_query,
            host: &target.host_header(),
            headers: &headers,
            body,
        };
        let sending = "the send to complete";
        self.conn
            .send(&request.encode(), left(self.deadline), sending)
            .await
            .map_err(|e| failure(e, sending, self.conn.received()))?;
        let mut decoder = request.response_decoder();
        let (m, _) = read_response(&mut self.conn, &mut decoder, left(self.deadline))
            .await
            .map_err(|e| failure(e, "the HTTP response", self.conn.received()))?;
        Ok(m)
    }

    /// Sends a WebSocket upgrade request for `path_and_query`, offering `offer` as
    /// `Sec-WebSocket-Extensions`, and reads the answer. A `101` leaves the connection ready for
    /// [`Conn::websocket`], with any bytes that followed the response handed over.
    pub async fn upgrade(
        &mut self,
        target: &Target,
        path_and_query: &str,
        offer: Option<&str>,
    ) -> Result<(HttpMessage, Vec<u8>), Failure> {
        let host = target.host_header();
        upgrade_request(
            &mut self.conn,
            &host,
            path_and_query,
            offer,
            &identity(),
            left(self.deadline),
        )
        .await
        .map_err(|e| failure(e, "the HTTP response", self.conn.received()))
    }

    /// Moves the deadline (each step of a probe gets its own timeout).
    pub fn set_deadline(&mut self, deadline: Instant) {
        self.deadline = deadline;
    }

    /// Turns the connection into a WebSocket client after a `101` whose
    /// `Sec-WebSocket-Extensions` was `extensions`.
    pub fn websocket(self, extensions: Option<&str>, leftover: Vec<u8>) -> WsClient {
        let wire = Wire::new();
        let channel = wire.channel("ws");
        let ws = RawWs::upgraded(
            self.conn,
            extensions.map(str::to_string),
            &leftover,
            &wire,
            channel,
        );
        WsClient {
            deflate: ws.deflate_agreed(),
            ws,
            deadline: self.deadline,
        }
    }
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

/// The client side of a WebSocket, with the deadline of the current step.
pub struct WsClient {
    ws: RawWs,
    deadline: Instant,
    /// permessage-deflate was negotiated: messages this client sends are compressed.
    pub deflate: bool,
}

impl WsClient {
    /// Moves the deadline.
    pub fn set_deadline(&mut self, deadline: Instant) {
        self.deadline = deadline;
    }

    /// Frames received so far.
    pub fn frames_in(&self) -> u64 {
        self.ws.frames_in()
    }

    /// Sends a text message (masked; compressed when permessage-deflate was negotiated).
    pub async fn send_text(&mut self, text: &str) -> Result<(), Failure> {
        let compress = self.deflate;
        self.ws
            .send_within(true, text.as_bytes(), compress, left(self.deadline))
            .await
            .map_err(|e| failure(e, "the send to complete", self.ws.received()))
    }

    /// Sends a close frame with a status code.
    pub async fn send_close(&mut self, code: u16) -> Result<(), Failure> {
        self.ws
            .send_close(Some(code), left(self.deadline))
            .await
            .map_err(|e| failure(e, "the send to complete", self.ws.received()))
    }

    /// The next message or close frame (pings are answered, pongs skipped).
    pub async fn recv(&mut self, waiting_for: &str) -> Result<WsIn, Failure> {
        match self.ws.recv(left(self.deadline)).await {
            Ok(RawMessage::Data {
                text: true, bytes, ..
            }) => Ok(WsIn::Text(String::from_utf8_lossy(&bytes).into_owned())),
            Ok(RawMessage::Data { bytes, .. }) => Ok(WsIn::Binary(bytes)),
            Ok(RawMessage::Closed(code)) if self.ws.close_frame_received() => Ok(WsIn::Close(code)),
            Ok(RawMessage::Closed(_)) => Err(Failure::Closed {
                waiting_for: waiting_for.to_string(),
                reset: false,
            }),
            Err(e) => Err(failure(e, waiting_for, self.ws.received())),
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
