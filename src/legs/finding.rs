//! `HopFinding`: what comparing the two legs of a relay showed, one fact per value.

use serde::Serialize;

use crate::event::{ConnId, Dir, Timestamp};

/// One TCP connection of a relayed session, with its endpoints as the capture shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Leg {
    /// The connection.
    pub conn: ConnId,
    /// Its client side (`address:port`).
    pub client: String,
    /// Its server side (`address:port`).
    pub server: String,
}

/// A byte that differs between the copy of a frame that entered the relay and the copy that left.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ByteChange {
    /// Offset in the unmasked payload (0 = first payload byte).
    pub offset: u64,
    /// The byte as it entered the relay.
    pub before: u8,
    /// The byte as it left.
    pub after: u8,
}

/// Who sent a connection's first FIN or RST, as seen on the two legs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Hop {
    /// The client, on the client leg.
    Client,
    /// The relay, towards the client (on the client leg).
    RelayToClient,
    /// The relay, towards the server (on the server leg).
    RelayToServer,
    /// The server, on the server leg.
    Server,
}

impl Hop {
    /// `client`, `relay-to-client`, `relay-to-server`, `server`.
    pub fn as_str(self) -> &'static str {
        match self {
            Hop::Client => "client",
            Hop::RelayToClient => "relay-to-client",
            Hop::RelayToServer => "relay-to-server",
            Hop::Server => "server",
        }
    }
    /// The relay itself (not an endpoint) originated it.
    pub fn is_relay(self) -> bool {
        matches!(self, Hop::RelayToClient | Hop::RelayToServer)
    }
}

/// FIN or RST.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CloseKind {
    /// An orderly close of one direction.
    Fin,
    /// A reset.
    Rst,
}

/// What the comparison found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum HopKind {
    /// A WebSocket frame left the relay with the same header but a different payload.
    Altered {
        /// Direction it travelled.
        dir: Dir,
        /// 1-based position of the frame among this direction's frames on the entry leg.
        index: u64,
        /// Capture frame where it entered the relay.
        entry_frame: u64,
        /// Capture frame where it left.
        exit_frame: u64,
        /// Its opcode.
        opcode: String,
        /// Payload length (the same on both legs).
        len: u64,
        /// The first differing byte, when it lies in the bytes kept per frame
        /// ([`crate::ws::digest::DIGEST_HEAD`]); `None`: it lies after them.
        change: Option<ByteChange>,
    },
    /// WebSocket frames entered the relay and never left it on the other leg.
    Swallowed {
        /// Direction they travelled.
        dir: Dir,
        /// How many.
        count: u64,
        /// Capture frames where the first of them entered (at most 16).
        entry_frames: Vec<u64>,
        /// The exit leg had already been closed in that direction (FIN/RST) when the first entered.
        exit_closed_first: bool,
        /// The capture ended with both connections still open.
        capture_ended: bool,
    },
    /// WebSocket frames left the relay that never entered it.
    Injected {
        /// Direction they travelled.
        dir: Dir,
        /// How many.
        count: u64,
        /// Capture frames where the first of them left (at most 16).
        exit_frames: Vec<u64>,
    },
    /// The first FIN or RST on either leg: who ended the relayed connection.
    FirstClose {
        /// Who sent it.
        hop: Hop,
        /// FIN or RST.
        close: CloseKind,
        /// Its sender's address.
        from: String,
        /// Capture frame.
        frame: u64,
        /// When.
        ts: Timestamp,
    },
    /// `Sec-WebSocket-Extensions` left the relay different from how it entered.
    ExtensionsChanged {
        /// `c2s`: the client's offer (request); `s2c`: the server's answer (`101`).
        dir: Dir,
        /// As it entered (`None`: absent).
        before: Option<String>,
        /// As it left (`None`: stripped).
        after: Option<String>,
    },
}

/// One finding about a relayed connection: the two legs and what differed between them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HopFinding {
    /// The Engine.IO session, when either leg shows it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// The connection nearer the client (client ↔ relay).
    pub client_leg: Leg,
    /// The connection nearer the server (relay ↔ server).
    pub server_leg: Leg,
    /// What was found.
    #[serde(flatten)]
    pub kind: HopKind,
}

impl HopFinding {
    /// The relay hop in words: `127.0.0.1:A → 127.0.0.1:B` (in the direction of `dir`).
    pub fn hop(&self, dir: Dir) -> String {
        match dir {
            Dir::C2S => format!("{} → {}", self.client_leg.server, self.server_leg.client),
            Dir::S2C => format!("{} → {}", self.server_leg.client, self.client_leg.server),
        }
    }

    /// One line in plain words, for text reports.
    pub fn describe(&self) -> String {
        match &self.kind {
            HopKind::Altered {
                dir,
                index,
                entry_frame,
                exit_frame,
                opcode,
                len,
                change,
            } => {
                let what = match change {
                    Some(c) => format!(
                        "payload byte {} changed 0x{:02x} → 0x{:02x}",
                        c.offset, c.before, c.after
                    ),
                    None => format!(
                        "payload differs after its first {} bytes",
                        crate::ws::digest::DIGEST_HEAD
                    ),
                };
                format!(
                    "the hop {} altered {} WebSocket frame #{index} ({opcode}, {len} bytes): frame {entry_frame} in, frame {exit_frame} out, {what}",
                    self.hop(*dir),
                    dir.as_str(),
                )
            }
            HopKind::Swallowed {
                dir,
                count,
                entry_frames,
                exit_closed_first,
                capture_ended,
            } => {
                let frames: Vec<String> = entry_frames.iter().map(u64::to_string).collect();
                let why = if *exit_closed_first {
                    " (the other leg was already closed)"
                } else if *capture_ended {
                    " (before the capture ended)"
                } else {
                    ""
                };
                format!(
                    "the hop {} swallowed {count} {} WebSocket frame(s): entered at frame(s) {}{}, never left{why}",
                    self.hop(*dir),
                    dir.as_str(),
                    frames.join(", "),
                    if *count > entry_frames.len() as u64 { ", …" } else { "" },
                )
            }
            HopKind::Injected {
                dir,
                count,
                exit_frames,
            } => {
                let frames: Vec<String> = exit_frames.iter().map(u64::to_string).collect();
                format!(
                    "the hop {} sent {count} {} WebSocket frame(s) that never entered it: frame(s) {}",
                    self.hop(*dir),
                    dir.as_str(),
                    frames.join(", ")
                )
            }
            HopKind::FirstClose {
                hop,
                close,
                from,
                frame,
                ..
            } => {
                let k = match close {
                    CloseKind::Fin => "FIN",
                    CloseKind::Rst => "RST",
                };
                let who = match hop {
                    Hop::Client => format!("the client {from}"),
                    Hop::Server => format!("the server {from}"),
                    Hop::RelayToClient => format!("the relay ({from}, towards the client)"),
                    Hop::RelayToServer => format!("the relay ({from}, towards the server)"),
                };
                format!("first {k} of the relayed connection: {who}, frame {frame}")
            }
            HopKind::ExtensionsChanged { dir, before, after } => {
                let what = if *dir == Dir::C2S {
                    "the client's offer"
                } else {
                    "the server's answer"
                };
                format!(
                    "the hop {} changed Sec-WebSocket-Extensions ({what}): {} → {}",
                    self.hop(*dir),
                    before.as_deref().unwrap_or("(absent)"),
                    after.as_deref().unwrap_or("(stripped)")
                )
            }
        }
    }
}
