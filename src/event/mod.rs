//! Identity and provenance shared by every layer: where a byte came from (capture frame number and
//! timestamp), which TCP connection it belongs to and in which direction it travelled.

use serde::Serialize;

/// A capture timestamp in nanoseconds since the Unix epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize)]
#[serde(into = "f64")]
pub struct Timestamp(pub u64);

impl Timestamp {
    /// Seconds since the epoch as a float (the `ts` key of the JSON output).
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1e9
    }
    /// Builds a timestamp from whole seconds and a nanosecond fraction.
    pub fn from_parts(secs: u64, nanos: u64) -> Self {
        Timestamp(secs.saturating_mul(1_000_000_000).saturating_add(nanos))
    }
}

impl From<Timestamp> for f64 {
    fn from(t: Timestamp) -> f64 {
        t.as_secs_f64()
    }
}

/// Where a piece of data was observed: the 1-based capture frame number (as tshark numbers them,
/// or the proxy's chunk number) and its timestamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
pub struct Origin {
    /// 1-based frame (packet) number in the capture, or chunk number in the proxy.
    pub frame: u64,
    /// When the frame was captured.
    pub ts: Timestamp,
}

/// A stable id for one TCP connection, numbered from 1 in the order connections were first seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct ConnId(pub u64);

/// The direction bytes travelled on a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Dir {
    /// From the client (the side that opened the connection) to the server.
    #[serde(rename = "c2s")]
    C2S,
    /// From the server to the client.
    #[serde(rename = "s2c")]
    S2C,
}

impl Dir {
    /// 0 for c2s, 1 for s2c: the index of per-direction pairs (`[c2s, s2c]`).
    pub fn index(self) -> usize {
        match self {
            Dir::C2S => 0,
            Dir::S2C => 1,
        }
    }

    /// The other direction.
    pub fn flip(self) -> Dir {
        match self {
            Dir::C2S => Dir::S2C,
            Dir::S2C => Dir::C2S,
        }
    }
    /// `c2s` or `s2c`.
    pub fn as_str(self) -> &'static str {
        match self {
            Dir::C2S => "c2s",
            Dir::S2C => "s2c",
        }
    }
}

/// One decoded fact about the traffic, at one layer, with where it came from.
///
/// Serialized (JSON/NDJSON) as one flat object: `frame`, `ts`, `conn`, `dir`, `layer` and the
/// layer's own fields (see `docs/json-schema.md`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event {
    /// The frame that completed this event (for a message spread over several packets, the last).
    pub frame: u64,
    /// When that frame was captured.
    pub ts: Timestamp,
    /// The first frame of a multi-packet event, when it differs from `frame`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_frame: Option<u64>,
    /// The TCP connection.
    pub conn: ConnId,
    /// The direction, for events that travel one way.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dir: Option<Dir>,
    /// The layer and its fields.
    #[serde(flatten)]
    pub body: Body,
}

impl Event {
    /// Where the event was completed.
    pub fn origin(&self) -> Origin {
        Origin {
            frame: self.frame,
            ts: self.ts,
        }
    }

    /// The Engine.IO session id the event names, where it carries one (an Engine.IO or
    /// Socket.IO packet, an HTTP message, a WebSocket message).
    pub fn sid(&self) -> Option<&str> {
        match &self.body {
            Body::Eio { eio } | Body::Sio { eio, .. } => eio.sid.as_deref(),
            Body::Http(h) => h.sid.as_deref(),
            Body::Ws(WsInfo::Message { sid, .. }) => sid.as_deref(),
            _ => None,
        }
    }
}

mod body;
pub use body::*;
