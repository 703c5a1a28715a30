//! A plain WebSocket client: [`RawWs`] without compression, with the view most checks want
//! (text, binary, or the end of the connection).
//!
//! A conforming peer treats a broken stream as the end of the connection: an I/O error (a
//! reset) or a framing violation by the server (RFC 6455 §7.1.7: "the endpoint MUST _Fail the
//! WebSocket Connection_") ends it, and [`WsClient::recv`] reports that as
//! [`WsFrame::Closed`] rather than an error. Pings are answered by [`RawWs`] and not returned.

use std::time::Duration;

use super::{ClientError, Endpoint, RawMessage, RawWs, Wire};

/// What [`WsClient::recv`] returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WsFrame {
    /// A text message.
    Text(String),
    /// A binary message.
    Binary(Vec<u8>),
    /// The connection ended: a Close frame (with its code, if any) or the TCP stream ending.
    Closed(Option<u16>),
}

/// One WebSocket connection to the server under test, without compression.
#[derive(Debug)]
pub struct WsClient {
    ws: RawWs,
    closed: bool,
}

impl WsClient {
    /// Connects to `target` (path and query) and completes the upgrade within `limit`.
    /// A non-`101` answer is [`ClientError::Refused`].
    pub async fn connect(
        endpoint: &Endpoint,
        target: &str,
        limit: Duration,
        wire: &Wire,
    ) -> Result<WsClient, ClientError> {
        let ws = RawWs::connect(endpoint, target, None, limit, wire).await?;
        Ok(WsClient { ws, closed: false })
    }

    /// Sends a text message.
    pub async fn send_text(&mut self, text: &str) -> Result<(), ClientError> {
        self.ws.send(true, text.as_bytes(), false).await
    }

    /// Sends a binary message.
    pub async fn send_binary(&mut self, bytes: &[u8]) -> Result<(), ClientError> {
        self.ws.send(false, bytes, false).await
    }

    /// The next data message or the end of the connection, within `limit`.
    pub async fn recv(&mut self, limit: Duration) -> Result<WsFrame, ClientError> {
        if self.closed {
            return Ok(WsFrame::Closed(None));
        }
        let frame = match self.ws.recv(limit).await {
            Ok(RawMessage::Data {
                text: true, bytes, ..
            }) => match String::from_utf8(bytes) {
                Ok(t) => WsFrame::Text(t),
                // §8.1: text frames carry UTF-8; anything else is the peer's error.
                Err(_) => return Err(ClientError::Ws("a text message is not UTF-8".into())),
            },
            Ok(RawMessage::Data { bytes, .. }) => WsFrame::Binary(bytes),
            Ok(RawMessage::Closed(code)) => WsFrame::Closed(code),
            // A reset or a broken stream is the end of the connection too.
            Err(ClientError::Io(_)) => WsFrame::Closed(None),
            Err(ClientError::Ws(w)) if !w.starts_with("unusable message") => WsFrame::Closed(None),
            Err(e) => return Err(e),
        };
        if let WsFrame::Closed(_) = frame {
            self.closed = true;
        }
        Ok(frame)
    }

    /// Sends a Close frame (no status code) and drops the connection (best effort, bounded).
    pub async fn close(mut self) {
        if !self.closed {
            let _ = self.ws.send_close(None, Duration::from_millis(200)).await;
        }
    }

    /// Drops the TCP connection without a Close frame (an abrupt transport loss).
    pub fn drop_abruptly(self) {
        self.ws.drop_abruptly();
    }
}
