//! The project's one HTTP/WebSocket client for talking to live Engine.IO servers on purpose
//! (`sioscope check` and `sioscope doctor`).
//!
//! Probing a server means sending exactly what a test asks for and reporting exactly what came
//! back, with no retries, reconnection or protocol help. The pieces, bottom up:
//!
//! * [`Endpoint`]: host, port, path and whether to speak TLS.
//! * [`Conn`]: one TCP connection, wrapped in TLS (tokio-rustls, Mozilla roots, the same
//!   connector as the proxy's `--upstream-tls`) when the endpoint asks for it. It counts the
//!   bytes received, which is what a timeout report says arrived before the silence.
//! * [`Request`] / [`read_response`]: one HTTP/1.1 request written by hand, the response read
//!   with the project's one HTTP parser, [`crate::http::HttpDecoder`]; after a `101` the bytes
//!   that followed the head are handed over for the WebSocket.
//! * [`HttpClient`]: one request per connection (`Connection: close`) logged into a [`Wire`];
//!   [`HttpClient::start`] hands back a [`PendingResponse`] so that several requests can be in
//!   flight at once or one can be abandoned before its answer.
//! * [`RawWs`]: a WebSocket on a [`Conn`] with optional `permessage-deflate` (RFC 7692): the
//!   upgrade goes through [`Request`], server frames are read (and inflated) with
//!   [`crate::ws::WsDecoder`], client frames are built by [`client_frame`] (the project's one
//!   frame writer) and compressed by [`Deflater`].
//! * [`WsClient`]: [`RawWs`] without compression, seen as text, binary or the end of the
//!   connection (a reset or a framing violation ends it, as in a conforming client).
//! * [`Wire`]: a shared, bounded transcript of the bytes every client sent and received.
//!
//! Every operation is bounded in time: a silent server is [`ClientError::Timeout`], never a
//! hang; and in memory: bodies and messages are capped by the decoders' limits.

mod conn;
mod endpoint;
mod frame;
mod http;
mod raw_ws;
mod wire;
mod ws;

pub use conn::Conn;
pub use endpoint::Endpoint;
pub use frame::{client_frame, nonce, websocket_key, Deflater};
pub use http::{read_response, HttpClient, HttpResponse, PendingResponse, Request};
pub use raw_ws::{upgrade_request, RawMessage, RawWs};
pub use wire::{escape as escape_bytes, Dir, Wire, WireEntry};
pub use ws::{WsClient, WsFrame};

use std::time::Duration;

/// Why a client operation failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// Nothing happened within the operation's time limit.
    #[error("timed out after {} waiting for {}", crate::units::HumanDuration(*.0), .1)]
    Timeout(Duration, &'static str),
    /// The TCP connection could not be opened (refused, unreachable, name not resolved).
    #[error("cannot connect to {addr}: {source}")]
    Connect {
        /// `host:port`.
        addr: String,
        /// The socket error.
        source: std::io::Error,
    },
    /// The TLS handshake or its set-up failed.
    #[error("TLS: {0}")]
    Tls(String),
    /// A read or write on an open connection failed.
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
    /// The server closed the connection before a complete response.
    #[error("connection closed before a complete response ({0} bytes received)")]
    Closed(usize),
    /// The response was not valid HTTP.
    #[error("invalid HTTP response: {0}")]
    Http(String),
    /// The WebSocket upgrade was answered with something other than `101`.
    #[error("WebSocket upgrade refused with HTTP {0}")]
    Refused(u16),
    /// `http-after-upgrade`: an HTTP response (its status line here) where the WebSocket
    /// frames must start, after a `101` (see `raw_ws`).
    #[error("http-after-upgrade: after 101 Switching Protocols the server sent an HTTP response inside the WebSocket stream: {0:?}")]
    HttpAfterUpgrade(String),
    /// A WebSocket protocol error.
    #[error("WebSocket error: {0}")]
    Ws(String),
    /// The URL is not one this client can use.
    #[error("bad URL {0:?}: {1}")]
    Url(String, &'static str),
}

/// Runs `fut` with a time limit, mapping the elapsed case to [`ClientError::Timeout`].
pub async fn within<T>(
    limit: Duration,
    what: &'static str,
    fut: impl std::future::Future<Output = Result<T, ClientError>>,
) -> Result<T, ClientError> {
    tokio::time::timeout(limit, fut)
        .await
        .map_err(|_| ClientError::Timeout(limit, what))?
}
