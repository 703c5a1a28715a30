//! The session tracker: folds the event stream into TCP connections, Engine.IO sessions (one sid
//! across many polling requests and its WebSocket upgrade) and Socket.IO sockets (namespace and
//! socket id), keeping for each session the facts that tell how it ended.
//!
//! ## What identifies what
//!
//! - A TCP connection is one `conn` id. A polling session spans many of them (one per request,
//!   or keep-alive reuse); a WebSocket session lives on one.
//! - An Engine.IO session is its `sid`: named by the server in the open packet, then carried in
//!   the `sid` query parameter of every polling request and of the WebSocket upgrade request
//!   (engine.io-protocol: "the sid ... MUST be included in the query of all subsequent
//!   requests").
//! - A Socket.IO socket is a namespace on a session. Socket.IO v5 names it in the server's answer
//!   to CONNECT (`40{"sid":"<socket id>"}`); v4 (socket.io 1.x/2.x) uses the engine sid for `/`
//!   and `/<nsp>#<sid>` for other namespaces.
//!
//! The tracker is a pure fold: same events in, same records out. It keeps per session only
//! bounded facts (counters, the last few frames of interest), so it streams over large captures.

mod connect_auth;
mod folded;
mod interned;
mod record;
mod tracker;

pub use connect_auth::ConnectAuth;
pub use folded::{
    ExplainEnd, FoldedCause, FoldedEnd, FoldedSessions, DEFAULT_MAX_SESSIONS, SESSION_TABLE_FULL,
};
pub use record::{
    CloseFrame, ConnRecord, Mark, SessionRecord, SocketRecord, Transition, UpgradeState,
    WsMessageMark, RECENT_PACKETS,
};
pub use tracker::SessionTracker;
