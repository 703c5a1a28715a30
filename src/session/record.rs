//! What the tracker remembers about connections, sessions and sockets.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::sync::Arc;

use serde::Serialize;

use super::connect_auth::ConnectAuth;
use crate::event::{Dir, Timestamp};

/// A point in the capture: frame number, time and direction, with a short description.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Mark {
    /// Frame number (1-based, as tshark counts).
    pub frame: u64,
    /// Capture time.
    pub ts: Timestamp,
    /// Connection id.
    pub conn: u64,
    /// Direction, when the fact travels one way.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dir: Option<Dir>,
    /// What is there, in words (most marks name a fixed thing, `FIN`, `ping`, and own no text).
    pub what: Cow<'static, str>,
}

/// How many recent packets per direction a session remembers (`SessionRecord::recent_packets`).
pub const RECENT_PACKETS: usize = 16;

/// A WebSocket close frame.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CloseFrame {
    /// Where.
    pub at: Mark,
    /// Status code (absent: the peer reports 1005).
    pub code: Option<u16>,
    /// Reason text.
    pub reason: String,
}

/// A WebSocket data message remembered as possible evidence (compressed ones, large ones).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WsMessageMark {
    /// Where it completed.
    pub at: Mark,
    /// Where it began, for fragmented messages.
    pub first_frame: Option<u64>,
    /// Frames in the message.
    pub frames: u32,
    /// RSV1 (permessage-deflate).
    pub compressed: bool,
    /// Bytes on the wire.
    pub wire_len: u64,
    /// Bytes after inflation (what sioscope got).
    pub len: u64,
    /// sioscope's own inflate failure, in zlib's words.
    pub inflate_error: Option<String>,
}

/// Progress of the polling → WebSocket upgrade (engine.io-protocol "Upgrade").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum UpgradeState {
    /// No upgrade attempted.
    #[default]
    None,
    /// `101 Switching Protocols` received for the upgrade request.
    Switched,
    /// The client sent `2probe` over the WebSocket.
    ProbeSent,
    /// The server answered `3probe`.
    ProbeAnswered,
    /// The client sent `5` (upgrade): the session now runs on WebSocket.
    Upgraded,
}

/// A transport change in a session's life.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Transition {
    /// Where.
    pub at: Mark,
    /// `polling`, `websocket`.
    pub transport: String,
}

/// A Socket.IO socket: one namespace on one Engine.IO session.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SocketRecord {
    /// Namespace.
    pub nsp: String,
    /// Socket id (from the CONNECT answer, or derived for protocol v4).
    pub socket_id: Option<String>,
    /// The client's CONNECT.
    pub connect: Option<Mark>,
    /// The server's answer (CONNECT or CONNECT_ERROR).
    pub connected: Option<Mark>,
    /// Whether the server refused (CONNECT_ERROR).
    pub refused: bool,
    /// Connection-state-recovery private id offered by the client (`pid`).
    pub recovery_pid: Option<String>,
    /// What the client's CONNECT carried besides `pid`/`offset` (its `auth`), as a digest
    /// (evidence for reconnect chains, not part of the JSON output).
    #[serde(skip)]
    pub auth: Option<ConnectAuth>,
    /// The server's `pid` for this socket (v5 with recovery enabled).
    pub pid: Option<String>,
    /// A DISCONNECT packet, and who sent it.
    pub disconnect: Option<Mark>,
    /// Event names seen, with counts (room-like events noted for reports).
    pub events: u64,
}

/// One TCP connection.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConnRecord {
    /// Connection id.
    pub conn: u64,
    /// Client address.
    pub client: String,
    /// Server address.
    pub server: String,
    /// First packet.
    pub opened: Mark,
    /// The capture did not start mid-connection.
    pub syn_seen: bool,
    /// First FIN and who sent it.
    pub fin: Option<Mark>,
    /// First RST and who sent it.
    pub rst: Option<Mark>,
    /// The end (close, or end of capture).
    pub closed: Option<Mark>,
    /// True when the capture ended with the connection still open.
    pub open_at_eof: bool,
    /// The last bytes seen in each direction (c2s, s2c).
    pub last_data: [Option<Mark>; 2],
    /// True once `101 Switching Protocols` was seen.
    pub websocket: bool,
    /// The `101` response.
    pub switched: Option<Mark>,
    /// WebSocket frames/messages seen after the `101`, per direction.
    pub ws_messages: [u64; 2],
    /// Sessions seen on this connection, sorted, without repeats (a `Vec`: most connections
    /// carry one, and a one-element `BTreeSet` allocates a node of eleven).
    pub sids: Vec<String>,
    /// Client `User-Agent` (one allocation shared by every connection and session that sent
    /// the same one, `SessionTracker`'s interned agents).
    pub user_agent: Option<Arc<str>>,
}

/// One Engine.IO session (or socket.io 0.9 session).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SessionRecord {
    /// Session id.
    pub sid: String,
    /// Engine.IO revision (none for socket.io 0.9).
    pub eio: Option<u8>,
    /// Client address (ip:port of the first connection).
    pub client: String,
    /// Client IP without port.
    pub client_ip: String,
    /// Server address.
    pub server: String,
    /// `User-Agent` of the first request (shared with its connection's).
    pub user_agent: Option<Arc<str>>,
    /// The server's `Server` header (tells python-socketio's aiohttp from node), when sent.
    pub server_software: Option<String>,
    /// The request path and query minus the per-request keys (`t`, `sid`, `transport`): a
    /// fingerprint of the app's client.
    pub fingerprint: String,
    /// The handshake (open packet or socket.io 0.9 handshake).
    pub opened: Mark,
    /// `pingInterval` in ms.
    pub ping_interval: Option<u64>,
    /// `pingTimeout` in ms.
    pub ping_timeout: Option<u64>,
    /// `maxPayload` in bytes.
    pub max_payload: Option<u64>,
    /// Transport timeline.
    pub transports: Vec<Transition>,
    /// Upgrade progress.
    pub upgrade: UpgradeState,
    /// Where the upgrade stalled or progressed last.
    pub upgrade_mark: Option<Mark>,
    /// Connections that carried this session.
    pub conns: BTreeSet<u64>,
    /// Sockets (namespaces).
    pub sockets: Vec<SocketRecord>,
    /// Last activity of any kind.
    pub last: Mark,
    /// Last packet in each direction (c2s, s2c).
    pub last_packet: [Option<Mark>; 2],
    /// The last [`RECENT_PACKETS`] packets in each direction (c2s, s2c), oldest first: heartbeat
    /// deadlines are measured against the last packet *before* an end, and a frozen peer's late
    /// packets after the end must not hide it.
    pub recent_packets: [std::collections::VecDeque<Mark>; 2],
    /// Pings and pongs: the last ping sent by the pinging side and whether it was answered.
    pub last_ping: Option<Mark>,
    /// The answer to `last_ping`.
    pub last_pong: Option<Mark>,
    /// The last ping that was not answered before the session ended.
    pub unanswered_ping: Option<Mark>,
    /// Engine.IO close packets.
    pub eio_close: Option<Mark>,
    /// WebSocket close frames on the session's connection, in order.
    pub ws_closes: Vec<CloseFrame>,
    /// The last compressed or large WebSocket messages per direction (c2s, s2c).
    pub big_messages: [Option<WsMessageMark>; 2],
    /// sioscope's own inflate failures.
    pub inflate_failures: Vec<WsMessageMark>,
    /// Close frames on an upgrade probe: a WebSocket of a session opened on polling, before the
    /// upgrade packet `5`. A failed probe is dropped and the session stays on polling
    /// (`engine.io@6.6.12/build/socket.js:293-305` "client did not complete upgrade",
    /// `engine.io-client@6.6.8/build/cjs/socket.js:296-305` "probe error"; the same in
    /// engine.io 1.8.5 `lib/socket.js:240-243`), so these are not the session's end.
    pub probe_closes: Vec<CloseFrame>,
    /// sioscope's own inflate failures on an upgrade probe (see `probe_closes`).
    pub probe_inflate_failures: Vec<WsMessageMark>,
    /// HTTP error responses (status >= 400) carrying this sid, with their bodies.
    pub http_errors: Vec<Mark>,
    /// Data messages sent after a close frame on the connection (lost).
    pub lost_after_close: Vec<Mark>,
    /// Anomalies tied to this session.
    pub anomalies: Vec<Mark>,
    /// Largest message seen per direction.
    pub largest: [u64; 2],
    /// Events (Socket.IO EVENT/BINARY_EVENT) per direction.
    pub events: [u64; 2],
}

impl SessionRecord {
    /// Whether this session's WebSocket traffic is an upgrade probe at this point: the session
    /// was opened on polling by an Engine.IO revision that upgrades (socket.io 0.9 does not) and
    /// the client has not yet sent the upgrade packet `5`.
    pub fn on_probe(&self) -> bool {
        self.eio.is_some()
            && self
                .transports
                .first()
                .is_some_and(|t| t.transport == "polling")
            && self.upgrade != UpgradeState::Upgraded
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The tracker boxes every connection record and keeps it to the end of the capture (about
    /// six per session on polling): at 520 bytes each took jemalloc's 640-byte size class, at
    /// 512 its 512-byte one (docs/performance.md, sixth round).
    #[test]
    #[cfg(target_pointer_width = "64")]
    fn a_connection_record_fits_the_512_byte_allocation_class() {
        assert!(std::mem::size_of::<ConnRecord>() <= 512);
    }
}
