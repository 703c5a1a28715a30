//! Why a session ended, and who ended it.

use serde::Serialize;

/// The cause of a session's end, as `explain` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Cause {
    /// The client left on purpose (Socket.IO DISCONNECT, Engine.IO close, or a clean close).
    ClientDisconnect,
    /// The server disconnected the socket (`socket.disconnect()` on the server).
    ServerDisconnect,
    /// The server closed the session gracefully without a Socket.IO DISCONNECT (`io.close()`,
    /// forced close, shutdown).
    ServerShutdown,
    /// A heartbeat was not answered within `pingTimeout`.
    PingTimeout,
    /// The transport (TCP) closed under the session without a protocol close.
    TransportClose,
    /// The transport failed with an error the capture shows (close code, reset after data).
    TransportError,
    /// The receiver could not inflate a permessage-deflate message (close 1007).
    DeflateError,
    /// A message exceeded `maxPayload` / `maxHttpBufferSize` (close 1009, HTTP 413).
    MessageTooLarge,
    /// Requests named a session id the server did not know (no sticky sessions).
    SessionUnknown,
    /// WebSocket frames stopped flowing after `101 Switching Protocols`.
    WebsocketBlocked,
    /// The polling → WebSocket upgrade did not complete.
    UpgradeFailed,
    /// A peer could not decode a packet.
    ParseError,
    /// The capture ended before the session did.
    StillOpen,
    /// The server refused the Socket.IO CONNECT (CONNECT_ERROR from a namespace middleware).
    ConnectRefused,
    /// Client and server speak different Engine.IO revisions (an EIO 4 client on an EIO 3-only
    /// server), so the session could not work.
    EioMismatch,
}

impl Cause {
    /// The name used in output (`deflate-error`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Cause::ClientDisconnect => "client-disconnect",
            Cause::ServerDisconnect => "server-disconnect",
            Cause::ServerShutdown => "server-shutdown",
            Cause::PingTimeout => "ping-timeout",
            Cause::TransportClose => "transport-close",
            Cause::TransportError => "transport-error",
            Cause::DeflateError => "deflate-error",
            Cause::MessageTooLarge => "message-too-large",
            Cause::SessionUnknown => "session-unknown",
            Cause::WebsocketBlocked => "websocket-blocked",
            Cause::UpgradeFailed => "upgrade-failed",
            Cause::ParseError => "parse-error",
            Cause::StillOpen => "still-open",
            Cause::ConnectRefused => "connect-refused",
            Cause::EioMismatch => "eio-mismatch",
        }
    }

    /// Parses a cause name.
    pub fn parse(s: &str) -> Option<Cause> {
        ALL.iter().copied().find(|c| c.as_str() == s)
    }

    /// True for ends nobody wanted: everything but a deliberate disconnect and an open session.
    pub fn is_abnormal(self) -> bool {
        !matches!(
            self,
            Cause::ClientDisconnect | Cause::ServerDisconnect | Cause::StillOpen
        )
    }
}

/// Every cause, for parsing and documentation.
pub const ALL: [Cause; 15] = [
    Cause::ClientDisconnect,
    Cause::ServerDisconnect,
    Cause::ServerShutdown,
    Cause::PingTimeout,
    Cause::TransportClose,
    Cause::TransportError,
    Cause::DeflateError,
    Cause::MessageTooLarge,
    Cause::SessionUnknown,
    Cause::WebsocketBlocked,
    Cause::UpgradeFailed,
    Cause::ParseError,
    Cause::StillOpen,
    Cause::ConnectRefused,
    Cause::EioMismatch,
];

/// Who ended the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Initiator {
    /// The client.
    Client,
    /// The server.
    Server,
    /// Something in between (a proxy, the network), or neither peer on purpose.
    Network,
    /// The capture does not tell.
    Unknown,
}
