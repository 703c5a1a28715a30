//! A plain WebSocket client (tokio-tungstenite over a `TcpStream` this module opens).

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Error as TError, Message};
use tokio_tungstenite::WebSocketStream;

use super::{within, ClientError, Dir, Endpoint, Wire};

/// Largest message accepted from the server (bytes).
const MAX_MESSAGE: usize = 16 << 20;

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

/// One WebSocket connection to the server under test.
#[derive(Debug)]
pub struct WsClient {
    stream: WebSocketStream<TcpStream>,
    channel: String,
    wire: Wire,
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
        let channel = wire.channel("ws");
        wire.note(&channel, format!("GET {target} (WebSocket upgrade)"));
        let url = format!("ws://{}{}", endpoint.addr(), target);
        let request = url
            .as_str()
            .into_client_request()
            .map_err(|e| ClientError::Ws(e.to_string()))?;
        let tcp = endpoint.connect_tcp(limit).await?;
        let mut config = WebSocketConfig::default();
        config.max_message_size = Some(MAX_MESSAGE);
        config.max_frame_size = Some(MAX_MESSAGE);
        let result = within(limit, "the WebSocket upgrade", async {
            tokio_tungstenite::client_async_with_config(request, tcp, Some(config))
                .await
                .map_err(|e| match e {
                    TError::Http(resp) => ClientError::Refused(resp.status().as_u16()),
                    TError::Io(io) => ClientError::Io(io),
                    TError::Protocol(p) => ClientError::Ws(p.to_string()),
                    other => ClientError::Ws(other.to_string()),
                })
        })
        .await;
        match result {
            Ok((stream, _)) => {
                wire.note(&channel, "101 Switching Protocols");
                Ok(WsClient {
                    stream,
                    channel,
                    wire: wire.clone(),
                    closed: false,
                })
            }
            Err(e) => {
                wire.note(&channel, format!("upgrade failed: {e}"));
                Err(e)
            }
        }
    }

    /// Sends a text message.
    pub async fn send_text(&mut self, text: &str) -> Result<(), ClientError> {
        self.wire.bytes(Dir::Sent, &self.channel, text.as_bytes());
        self.send(Message::text(text)).await
    }

    /// Sends a binary message.
    pub async fn send_binary(&mut self, bytes: &[u8]) -> Result<(), ClientError> {
        self.wire.bytes(Dir::Sent, &self.channel, bytes);
        self.send(Message::binary(bytes.to_vec())).await
    }

    async fn send(&mut self, msg: Message) -> Result<(), ClientError> {
        let limit = Duration::from_secs(5);
        within(limit, "a WebSocket send", async {
            self.stream.send(msg).await.map_err(|e| match e {
                TError::Io(io) => ClientError::Io(io),
                other => ClientError::Ws(other.to_string()),
            })
        })
        .await
    }

    /// The next data message or the end of the connection, within `limit`. WebSocket pings
    /// are answered by tungstenite and not returned.
    pub async fn recv(&mut self, limit: Duration) -> Result<WsFrame, ClientError> {
        if self.closed {
            return Ok(WsFrame::Closed(None));
        }
        let result = within(limit, "a WebSocket message", async {
            loop {
                match self.stream.next().await {
                    None => return Ok(WsFrame::Closed(None)),
                    Some(Ok(Message::Text(t))) => return Ok(WsFrame::Text(t.as_str().to_string())),
                    Some(Ok(Message::Binary(b))) => return Ok(WsFrame::Binary(b.to_vec())),
                    Some(Ok(Message::Close(frame))) => {
                        return Ok(WsFrame::Closed(frame.map(|f| u16::from(f.code))))
                    }
                    Some(Ok(_)) => continue,
                    // A reset or an abrupt end is the end of the connection too.
                    Some(Err(TError::Io(_)))
                    | Some(Err(TError::ConnectionClosed))
                    | Some(Err(TError::AlreadyClosed))
                    | Some(Err(TError::Protocol(_))) => return Ok(WsFrame::Closed(None)),
                    Some(Err(e)) => return Err(ClientError::Ws(e.to_string())),
                }
            }
        })
        .await;
        match &result {
            Ok(WsFrame::Text(t)) => self.wire.bytes(Dir::Received, &self.channel, t.as_bytes()),
            Ok(WsFrame::Binary(b)) => self.wire.bytes(Dir::Received, &self.channel, b),
            Ok(WsFrame::Closed(code)) => {
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
        result
    }

    /// Sends a Close frame and drops the connection (best effort, bounded).
    pub async fn close(mut self) {
        if !self.closed {
            self.wire.note(&self.channel, "closed by the client");
            let _ = tokio::time::timeout(Duration::from_millis(200), self.stream.close(None)).await;
        }
    }

    /// Drops the TCP connection without a Close frame (an abrupt transport loss).
    pub fn drop_abruptly(self) {
        self.wire
            .note(&self.channel, "TCP connection dropped by the client");
        drop(self.stream);
    }
}
