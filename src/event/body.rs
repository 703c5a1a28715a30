//! The per-layer payload of an [`Event`](super::Event): what each layer says, in the shape the
//! JSON output uses (`layer` tags the variant; see `docs/json-schema.md`).

use serde::Serialize;
use serde_json::Value;

/// What an event says, by layer.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "layer", rename_all = "lowercase")]
pub enum Body {
    /// TCP connection lifecycle.
    Tcp(TcpInfo),
    /// An HTTP/1.1 request or response.
    Http(HttpInfo),
    /// A WebSocket message or control frame.
    Ws(WsInfo),
    /// An Engine.IO packet.
    Eio {
        /// The packet.
        eio: EioInfo,
    },
    /// A Socket.IO packet (and the Engine.IO message that carried it).
    Sio {
        /// The carrying Engine.IO message.
        eio: EioInfo,
        /// The packet.
        sio: SioInfo,
    },
    /// Something that breaks a rule, or could not be decoded.
    Anomaly(AnomalyInfo),
}

impl Body {
    /// The layer name used in output (`tcp`, `http`, `ws`, `eio`, `sio`, `anomaly`).
    pub fn layer(&self) -> &'static str {
        match self {
            Body::Tcp(_) => "tcp",
            Body::Http(_) => "http",
            Body::Ws(_) => "ws",
            Body::Eio { .. } => "eio",
            Body::Sio { .. } => "sio",
            Body::Anomaly(_) => "anomaly",
        }
    }
}

/// TCP lifecycle events.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum TcpInfo {
    /// A connection appeared.
    Open {
        /// Client address and port.
        client: String,
        /// Server address and port.
        server: String,
        /// False when the capture began after the handshake.
        syn_seen: bool,
    },
    /// The sender of `dir` closed its side.
    Fin,
    /// The sender of `dir` reset the connection.
    Rst,
    /// Bytes missing from the stream of `dir`.
    Gap {
        /// First missing stream offset.
        start: u64,
        /// One past the last.
        end: u64,
        /// `missing` or `reassembly-buffer-full`.
        reason: &'static str,
    },
    /// The connection is over.
    Close {
        /// True when the capture ended first.
        at_eof: bool,
    },
}

/// An HTTP message.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HttpInfo {
    /// `request` or `response`.
    pub kind: &'static str,
    /// Request method.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// Request target as sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// Decoded path of the target.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Decoded query parameters (`EIO`, `transport`, `sid`, `t`, `j`, ...).
    #[serde(skip_serializing_if = "serde_json::Map::is_empty")]
    pub query: serde_json::Map<String, Value>,
    /// Response status code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Response reason phrase.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Header fields in order.
    pub headers: Vec<(String, String)>,
    /// Body length after transfer decoding (before content decoding).
    pub body_len: u64,
    /// `Content-Encoding` that was undone to read the body (`gzip`, `deflate`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_encoding: Option<String>,
    /// The body after content decoding, as text when it is UTF-8 (cut at 64 KiB in output).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body_text: Option<String>,
    /// The body in base64 when it is not UTF-8 (cut at 64 KiB).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body_base64: Option<String>,
    /// The Engine.IO session this request/response belongs to, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// This exchange ends the TCP connection by agreement: the request or the response carried
    /// the `close` connection option (RFC 9112 §9.6), so a FIN after the response is the expected
    /// end of the connection, not a dead peer (node-fetch and `agent: false` clients do this).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub connection_close: bool,
}

/// A WebSocket message or control frame.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum WsInfo {
    /// A complete data message.
    Message {
        /// `text` or `binary`.
        opcode: &'static str,
        /// Payload length after unmasking and inflation.
        len: u64,
        /// Payload length on the wire.
        wire_len: u64,
        /// RSV1 was set (permessage-deflate).
        compressed: bool,
        /// Number of frames (1 unless fragmented).
        frames: u32,
        /// The payload as text (text messages, when valid UTF-8).
        #[serde(skip_serializing_if = "Option::is_none")]
        text: Option<String>,
        /// The payload in base64 (binary messages, or undecodable ones).
        #[serde(skip_serializing_if = "Option::is_none")]
        base64: Option<String>,
        /// zlib's words when inflating failed (the payload fields then hold the raw bytes).
        #[serde(skip_serializing_if = "Option::is_none")]
        inflate_error: Option<String>,
        /// The Engine.IO session, when known.
        #[serde(skip_serializing_if = "Option::is_none")]
        sid: Option<String>,
    },
    /// A ping control frame.
    Ping {
        /// Payload as text (lossy).
        payload: String,
    },
    /// A pong control frame.
    Pong {
        /// Payload as text (lossy).
        payload: String,
    },
    /// A close control frame.
    Close {
        /// Status code, absent when the frame has none (the peer then reports 1005).
        #[serde(skip_serializing_if = "Option::is_none")]
        code: Option<u16>,
        /// What the code means.
        #[serde(skip_serializing_if = "Option::is_none")]
        code_name: Option<String>,
        /// Reason text.
        reason: String,
    },
    /// A single frame (shown with `--layer ws-frames`).
    Frame {
        /// FIN bit.
        fin: bool,
        /// RSV1 bit.
        rsv1: bool,
        /// Opcode name.
        opcode: String,
        /// Masked (client frames must be).
        masked: bool,
        /// Payload length on the wire.
        len: u64,
        /// Fingerprint of the unmasked payload, to compare the legs of a relay (not in JSON).
        #[serde(skip)]
        digest: crate::ws::FrameDigest,
    },
}

/// An Engine.IO packet.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EioInfo {
    /// `open`, `close`, `ping`, `pong`, `message`, `upgrade`, `noop`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Protocol revision (2, 3, 4; `null` for socket.io 0.9 which has no Engine.IO).
    pub version: Option<u8>,
    /// The session id, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// `polling` or `websocket`.
    pub transport: &'static str,
    /// Text data (e.g. `probe`, a message's text).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Binary data in base64.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base64: Option<String>,
    /// The open packet's handshake (sid, upgrades, pingInterval, pingTimeout, maxPayload).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub open: Option<Value>,
}

/// A Socket.IO packet.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SioInfo {
    /// `CONNECT`, `DISCONNECT`, `EVENT`, `ACK`, `CONNECT_ERROR`, `BINARY_EVENT`, `BINARY_ACK`
    /// (socket.io 0.9: `connect`, `event`, `heartbeat`, ... as named by protocol 1).
    #[serde(rename = "type")]
    pub kind: String,
    /// Namespace (`/` when absent on the wire).
    pub nsp: String,
    /// Event name, for events.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event: Option<String>,
    /// Ack id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<u64>,
    /// The decoded JSON data (binary attachments as `{"_binary": <len>}`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
    /// Number of binary attachments.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attachments: Option<u32>,
    /// Socket.IO protocol revision (1 for 0.9, 4, 5).
    pub version: u8,
}

/// A rule broken or something undecodable.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AnomalyInfo {
    /// The layer where it was found (`capture`, `tcp`, `http`, `ws`, `deflate`, `eio`, `sio`).
    pub at: &'static str,
    /// A stable short name of the rule (e.g. `ws-unmasked-client-frame`).
    pub rule: String,
    /// What happened, in words.
    pub detail: String,
    /// The offending bytes (first 64), in hex, when there are any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytes: Option<String>,
}
