//! A small Engine.IO-oriented HTTP/WebSocket client for talking to live servers on purpose.
//!
//! `sioscope check` drives servers byte by byte, so this client sends exactly what it is told
//! and reports exactly what came back, with no retries, reconnection or protocol help:
//!
//! * [`HttpClient`]: one HTTP/1.1 request per TCP connection (`Connection: close`), written on
//!   a tokio `TcpStream`; the response is read with the project's one HTTP parser,
//!   [`crate::http::HttpDecoder`]. [`HttpClient::start`] writes a request and hands back a
//!   [`PendingResponse`] so that several requests can be in flight at once (duplicate polls)
//!   or a request can be abandoned before its answer (cancelled polls).
//! * [`WsClient`]: a WebSocket client on tokio-tungstenite (no compression).
//! * [`RawWs`]: a WebSocket client written on `TcpStream` for `permessage-deflate` (RFC 7692),
//!   which tungstenite lacks: the `101` is read with `HttpDecoder`, server frames with
//!   [`crate::ws::WsDecoder`] (which inflates), client frames are masked and deflated here
//!   with flate2.
//! * [`Wire`]: every client logs the bytes it sends and receives into a shared, bounded
//!   [`Wire`] transcript, which is what a failed check shows.
//!
//! Every operation takes a timeout: a silent server is an error ([`ClientError::Timeout`]),
//! never a hang. Only `http://` and `ws://` URLs are supported ([`Endpoint::parse`]).

mod endpoint;
mod http;
mod raw_ws;
mod wire;
mod ws;

pub use endpoint::Endpoint;
pub use http::{HttpClient, HttpResponse, PendingResponse};
pub use raw_ws::{RawMessage, RawWs};
pub use wire::{escape as escape_bytes, Dir, Wire, WireEntry};
pub use ws::{WsClient, WsFrame};

use std::time::Duration;

/// Why a client operation failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// Nothing happened within the operation's time limit.
    #[error("timed out after {0:?} waiting for {1}")]
    Timeout(Duration, &'static str),
    /// The TCP connection could not be opened.
    #[error("cannot connect to {addr}: {source}")]
    Connect {
        /// `host:port`.
        addr: String,
        /// The socket error.
        source: std::io::Error,
    },
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
    /// A WebSocket protocol error.
    #[error("WebSocket error: {0}")]
    Ws(String),
    /// The URL is not one this client can use.
    #[error("bad URL {0:?}: {1}")]
    Url(String, &'static str),
}

/// Runs `fut` with a time limit, mapping the elapsed case to [`ClientError::Timeout`].
pub(crate) async fn within<T>(
    limit: Duration,
    what: &'static str,
    fut: impl std::future::Future<Output = Result<T, ClientError>>,
) -> Result<T, ClientError> {
    tokio::time::timeout(limit, fut)
        .await
        .map_err(|_| ClientError::Timeout(limit, what))?
}
