//! # legs: the two TCP connections of one relayed session, compared
//!
//! On a relay host (a reverse proxy, a load balancer, `sioscope proxy`, a test relay) every
//! connection appears twice: client ↔ relay (the *client leg*) and relay ↔ server (the *server
//! leg*). A transparent relay forwards the same bytes, so the request head that opens the server
//! leg is the one that opened the client leg: the same method and target (the Engine.IO query
//! with its `sid` and cache-busting `t`) and, for WebSocket, the same `Sec-WebSocket-Key`
//! (RFC 6455 §4.1: "a nonce consisting of a randomly selected 16-byte value", one per handshake).
//! That identical first request, on connections to different servers, seen within
//! [`PAIR_WITHIN_NS`], pairs two connections; the one whose request came first is the client leg.
//!
//! For each pair [`LegComparer`] reports ([`HopFinding`]):
//! * WebSocket frames altered between the legs (which frame on each leg, which payload byte,
//!   old → new value), frames that entered and never left (swallowed), frames that left without
//!   entering (injected) — [`frames::FrameMatcher`], per direction;
//! * which hop sent the first FIN or RST (the client, the server, or the relay itself);
//! * `Sec-WebSocket-Extensions` stripped or changed (offer and answer).
//!
//! It is a sink beside the session tracker: feed it every event in order ([`LegComparer::event`]),
//! then [`LegComparer::finish`]; or call [`compare`] on a slice. Memory: per open connection its
//! first request's key and, per paired direction, a window of frame fingerprints
//! ([`frames::WINDOW`]); a pair is finalised and dropped when both its connections close.
//!
//! Not compared: HTTP polling bodies (only the pairing and the FIN/RST of polling connections), and
//! relays that multiplex several client connections over one upstream connection (only the first
//! request of a connection pairs it).

pub mod finding;
pub mod frames;

use std::collections::{BTreeMap, HashMap};

pub use finding::{ByteChange, CloseKind, Hop, HopFinding, HopKind, Leg};
use frames::{FrameMatcher, FrameSeen};

use crate::event::{Body, ConnId, Dir, Event, HttpInfo, TcpInfo, Timestamp, WsInfo};
use crate::http::header_value;

/// Two connections pair only if their identical first requests are this close in time (a relay
/// forwards a request within milliseconds; a client repeating a request target takes longer).
pub const PAIR_WITHIN_NS: u64 = 2_000_000_000;

/// What a connection's first request looked like (the pairing key).
type Key = (String, String, Option<String>);

/// A header as seen on one leg: `None` until the message was seen, then its value or absence.
type SeenHeader = Option<Option<String>>;

#[derive(Debug, Default)]
struct ConnInfo {
    client: String,
    server: String,
    /// The first request was seen.
    requested: bool,
    /// The pair this connection belongs to, and whether it is the client leg.
    pair: Option<(usize, bool)>,
    key: Option<Key>,
    closed: bool,
    at_eof: bool,
}

#[derive(Debug)]
struct Pair {
    client_leg: ConnId,
    server_leg: ConnId,
    sid: Option<String>,
    /// Frames travelling c2s (enter on the client leg) and s2c (enter on the server leg).
    frames: [FrameMatcher; 2],
    /// `Sec-WebSocket-Extensions` per direction: (entered, left), each Some(value-or-absent) once
    /// the message was seen on that leg.
    ext: [(SeenHeader, SeenHeader); 2],
    first_close: Option<(Hop, CloseKind, u64, Timestamp)>,
}

fn di(dir: Dir) -> usize {
    match dir {
        Dir::C2S => 0,
        Dir::S2C => 1,
    }
}

/// Compares the legs of relayed connections; a sink over the event stream.
#[derive(Debug, Default)]
pub struct LegComparer {
    conns: HashMap<ConnId, ConnInfo>,
    /// First requests of connections not paired yet, by key: (conn, when).
    waiting: HashMap<Key, Vec<(ConnId, Timestamp)>>,
    pairs: BTreeMap<usize, Pair>,
    next_pair: usize,
    found: Vec<HopFinding>,
}

/// Every hop finding of an event sequence (a relay capture), in the order the pairs ended.
pub fn compare<'a>(events: impl IntoIterator<Item = &'a Event>) -> Vec<HopFinding> {
    let mut c = LegComparer::default();
    for ev in events {
        c.event(ev);
    }
    c.finish()
}

impl LegComparer {
    /// An empty comparer.
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes the next event (every event, unfiltered, in order).
    pub fn event(&mut self, ev: &Event) {
        match &ev.body {
            Body::Tcp(TcpInfo::Open { client, server, .. }) => {
                self.conns.insert(
                    ev.conn,
                    ConnInfo {
                        client: client.clone(),
                        server: server.clone(),
                        ..ConnInfo::default()
                    },
                );
            }
            Body::Http(h) => self.http(ev, h),
            Body::Ws(WsInfo::Frame {
                fin,
                rsv1,
                opcode,
                len,
                digest,
                ..
            }) => {
                let Some(dir) = ev.dir else { return };
                let Some((p, client_leg)) = self.conns.get(&ev.conn).and_then(|c| c.pair) else {
                    return;
                };
                let Some(pair) = self.pairs.get_mut(&p) else {
                    return;
                };
                let seen = FrameSeen {
                    frame: ev.frame,
                    opcode: opcode.clone(),
                    fin: *fin,
                    rsv1: *rsv1,
                    len: *len,
                    digest: digest.clone(),
                };
                let m = &mut pair.frames[di(dir)];
                // c2s frames enter on the client leg, s2c frames on the server leg.
                if client_leg == (dir == Dir::C2S) {
                    m.entered(seen);
                } else {
                    m.left(seen);
                }
            }
            Body::Ws(WsInfo::Message { sid: Some(s), .. }) => self.note_sid(ev.conn, s),
            Body::Eio { eio } | Body::Sio { eio, .. } => {
                if let Some(s) = &eio.sid {
                    self.note_sid(ev.conn, s);
                }
            }
            Body::Tcp(TcpInfo::Fin) | Body::Tcp(TcpInfo::Rst) => {
                let Some(dir) = ev.dir else { return };
                let kind = if matches!(ev.body, Body::Tcp(TcpInfo::Fin)) {
                    CloseKind::Fin
                } else {
                    CloseKind::Rst
                };
                self.close(ev, dir, kind);
            }
            Body::Tcp(TcpInfo::Close { at_eof }) => {
                let pair = match self.conns.get_mut(&ev.conn) {
                    Some(c) => {
                        c.closed = true;
                        c.at_eof = *at_eof;
                        c.pair
                    }
                    None => None,
                };
                if let Some(key) = self.conns.get(&ev.conn).and_then(|c| c.key.clone()) {
                    if let Some(v) = self.waiting.get_mut(&key) {
                        v.retain(|(c, _)| *c != ev.conn);
                        if v.is_empty() {
                            self.waiting.remove(&key);
                        }
                    }
                }
                match pair {
                    Some((p, _)) => {
                        let both = self.pairs.get(&p).is_some_and(|pr| {
                            [pr.client_leg, pr.server_leg]
                                .iter()
                                .all(|c| self.conns.get(c).is_none_or(|i| i.closed))
                        });
                        if both {
                            self.finalise(p);
                        }
                    }
                    None => {
                        self.conns.remove(&ev.conn);
                    }
                }
            }
            _ => {}
        }
    }

    fn note_sid(&mut self, conn: ConnId, sid: &str) {
        if let Some((p, _)) = self.conns.get(&conn).and_then(|c| c.pair) {
            if let Some(pair) = self.pairs.get_mut(&p) {
                pair.sid.get_or_insert_with(|| sid.to_string());
            }
        }
    }

    fn http(&mut self, ev: &Event, h: &HttpInfo) {
        let ext = header_value(&h.headers, "sec-websocket-extensions").map(str::to_string);
        if h.kind == "request" {
            self.first_request(ev, h);
        }
        if let Some(s) = &h.sid {
            self.note_sid(ev.conn, s);
        }
        let Some(dir) = ev.dir else { return };
        let is_upgrade = header_value(&h.headers, "upgrade")
            .is_some_and(|u| u.eq_ignore_ascii_case("websocket"))
            || h.status == Some(101);
        if !is_upgrade {
            return;
        }
        let Some((p, client_leg)) = self.conns.get(&ev.conn).and_then(|c| c.pair) else {
            return;
        };
        if let Some(pair) = self.pairs.get_mut(&p) {
            let slot = &mut pair.ext[di(dir)];
            if client_leg == (dir == Dir::C2S) {
                slot.0.get_or_insert(ext);
            } else {
                slot.1.get_or_insert(ext);
            }
        }
    }

    fn first_request(&mut self, ev: &Event, h: &HttpInfo) {
        let Some(info) = self.conns.get_mut(&ev.conn) else {
            return;
        };
        if info.requested {
            return;
        }
        info.requested = true;
        let key: Key = (
            h.method.clone().unwrap_or_default(),
            h.target.clone().unwrap_or_default(),
            header_value(&h.headers, "sec-websocket-key").map(str::to_string),
        );
        info.key = Some(key.clone());
        let server = info.server.clone();
        let waiting = self.waiting.entry(key.clone()).or_default();
        // The earliest waiting connection to another server, recent enough, is the client leg.
        let partner = waiting.iter().position(|(c, t)| {
            ev.ts.0.saturating_sub(t.0) <= PAIR_WITHIN_NS
                && self
                    .conns
                    .get(c)
                    .is_some_and(|i| i.server != server && i.pair.is_none())
        });
        match partner {
            Some(i) => {
                let (client_leg, _) = waiting.remove(i);
                if waiting.is_empty() {
                    self.waiting.remove(&key);
                }
                let p = self.next_pair;
                self.next_pair = self.next_pair.saturating_add(1);
                self.pairs.insert(
                    p,
                    Pair {
                        client_leg,
                        server_leg: ev.conn,
                        sid: None,
                        frames: [FrameMatcher::new(Dir::C2S), FrameMatcher::new(Dir::S2C)],
                        ext: [(None, None), (None, None)],
                        first_close: None,
                    },
                );
                if let Some(c) = self.conns.get_mut(&client_leg) {
                    c.pair = Some((p, true));
                }
                if let Some(c) = self.conns.get_mut(&ev.conn) {
                    c.pair = Some((p, false));
                }
            }
            None => waiting.push((ev.conn, ev.ts)),
        }
    }

    fn close(&mut self, ev: &Event, dir: Dir, kind: CloseKind) {
        let Some((p, client_leg)) = self.conns.get(&ev.conn).and_then(|c| c.pair) else {
            return;
        };
        let Some(pair) = self.pairs.get_mut(&p) else {
            return;
        };
        let hop = match (client_leg, dir) {
            (true, Dir::C2S) => Hop::Client,
            (true, Dir::S2C) => Hop::RelayToClient,
            (false, Dir::C2S) => Hop::RelayToServer,
            (false, Dir::S2C) => Hop::Server,
        };
        if pair.first_close.is_none() {
            pair.first_close = Some((hop, kind, ev.frame, ev.ts));
        }
        // A FIN/RST on the exit leg of a direction: nothing more can leave that way.
        if client_leg != (dir == Dir::C2S) {
            pair.frames[di(dir)].exit_closed();
        }
    }

    fn finalise(&mut self, p: usize) {
        let Some(pair) = self.pairs.remove(&p) else {
            return;
        };
        let leg = |c: ConnId, conns: &HashMap<ConnId, ConnInfo>| {
            let i = conns.get(&c);
            Leg {
                conn: c,
                client: i.map(|i| i.client.clone()).unwrap_or_default(),
                server: i.map(|i| i.server.clone()).unwrap_or_default(),
            }
        };
        let client_leg = leg(pair.client_leg, &self.conns);
        let server_leg = leg(pair.server_leg, &self.conns);
        let capture_ended = [pair.client_leg, pair.server_leg]
            .iter()
            .any(|c| self.conns.get(c).is_some_and(|i| i.at_eof || !i.closed));
        for c in [pair.client_leg, pair.server_leg] {
            self.conns.remove(&c);
        }
        let mut kinds = Vec::new();
        for (i, (before, after)) in pair.ext.into_iter().enumerate() {
            let dir = if i == 0 { Dir::C2S } else { Dir::S2C };
            if let (Some(before), Some(after)) = (before, after) {
                if before != after {
                    kinds.push(HopKind::ExtensionsChanged { dir, before, after });
                }
            }
        }
        for m in pair.frames {
            kinds.extend(m.finish(capture_ended));
        }
        if let Some((hop, close, frame, ts)) = pair.first_close {
            let from = match hop {
                Hop::Client => client_leg.client.clone(),
                Hop::RelayToClient => client_leg.server.clone(),
                Hop::RelayToServer => server_leg.client.clone(),
                Hop::Server => server_leg.server.clone(),
            };
            kinds.push(HopKind::FirstClose {
                hop,
                close,
                from,
                frame,
                ts,
            });
        }
        for kind in kinds {
            self.found.push(HopFinding {
                sid: pair.sid.clone(),
                client_leg: client_leg.clone(),
                server_leg: server_leg.clone(),
                kind,
            });
        }
    }

    /// Ends the comparison (pairs still open are finalised as the capture left them) and returns
    /// every finding.
    pub fn finish(mut self) -> Vec<HopFinding> {
        let open: Vec<usize> = self.pairs.keys().copied().collect();
        for p in open {
            self.finalise(p);
        }
        self.found
    }
}
