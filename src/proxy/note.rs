//! What the relay tells the observers: one [`Note`] per thing that happened on a connection.
//!
//! Notes travel over bounded channels from the relay tasks to the recorder and the decoder
//! thread. A connection's notes arrive in order (each direction is one task; the two directions'
//! notes interleave as they happened). Stream offsets count forwarded bytes per direction, so a
//! `Data` note's bytes are exactly what the other side received.

use std::net::SocketAddr;

use crate::event::{Dir, Timestamp};

/// The current wall-clock time as a capture timestamp.
pub fn now() -> Timestamp {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    Timestamp(u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

/// One thing that happened on a relayed connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Note {
    /// The client connected and the upstream answered.
    Open {
        /// Connection number, from 1.
        conn: u64,
        /// The client's address.
        client: SocketAddr,
        /// The upstream's address.
        server: SocketAddr,
        /// When the upstream connection was established.
        ts: Timestamp,
    },
    /// Bytes forwarded in one direction.
    Data {
        /// Connection number.
        conn: u64,
        /// Direction.
        dir: Dir,
        /// Stream offset of the first byte (forwarded bytes before it, this direction).
        offset: u64,
        /// The bytes as forwarded.
        bytes: Vec<u8>,
        /// When they were read.
        ts: Timestamp,
        /// Faults that acted on these bytes (pcapng packet comment).
        comment: Option<String>,
    },
    /// A fault acted without forwarding bytes (a held pong, a cut).
    Injected {
        /// Connection number.
        conn: u64,
        /// The direction it acted on.
        dir: Dir,
        /// Stream offset where it acted.
        offset: u64,
        /// When.
        ts: Timestamp,
        /// What it did.
        comment: String,
    },
    /// One side finished sending (the proxy forwarded the half-close).
    Fin {
        /// Connection number.
        conn: u64,
        /// The direction that ended.
        dir: Dir,
        /// Bytes forwarded in that direction.
        offset: u64,
        /// When.
        ts: Timestamp,
    },
    /// One side's socket failed (reset); the proxy closed the connection.
    Rst {
        /// Connection number.
        conn: u64,
        /// The direction whose sender failed.
        dir: Dir,
        /// Bytes forwarded in that direction.
        offset: u64,
        /// When.
        ts: Timestamp,
    },
    /// The connection is over.
    Close {
        /// Connection number.
        conn: u64,
        /// When.
        ts: Timestamp,
        /// True when the proxy ended it because the run ended (Ctrl-C, `--duration`).
        at_shutdown: bool,
    },
    /// A client connected but the upstream could not be reached; the client was closed.
    Failed {
        /// Connection number.
        conn: u64,
        /// The client's address.
        client: SocketAddr,
        /// When.
        ts: Timestamp,
        /// Why.
        error: String,
    },
}

impl Note {
    /// True for notes that are never dropped (everything but data).
    pub fn is_lifecycle(&self) -> bool {
        !matches!(self, Note::Data { .. })
    }

    /// The connection number, for notes of a relayed connection (not `Failed`).
    pub fn conn_mut(&mut self) -> Option<&mut u64> {
        match self {
            Note::Open { conn, .. }
            | Note::Data { conn, .. }
            | Note::Injected { conn, .. }
            | Note::Fin { conn, .. }
            | Note::Rst { conn, .. }
            | Note::Close { conn, .. } => Some(conn),
            Note::Failed { .. } => None,
        }
    }

    /// Memory held by the payload (its allocation, which may exceed its length).
    pub fn weight(&self) -> usize {
        match self {
            Note::Data { bytes, .. } => bytes.capacity(),
            _ => 0,
        }
    }
}
