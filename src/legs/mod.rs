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

use std::collections::BTreeMap;

use foldhash::HashMap;

pub use finding::{ByteChange, CloseKind, Hop, HopFinding, HopKind, Leg};
use frames::{FrameMatcher, FrameSeen};

use crate::event::{Body, ConnId, Dir, Event, HttpInfo, TcpInfo, Timestamp, WsInfo};
use crate::http::header_value;

/// Two connections pair only if their identical first requests are this close in time (a relay
/// forwards a request within milliseconds; a client repeating a request target takes longer).
pub const PAIR_WITHIN_NS: u64 = 2_000_000_000;

/// Findings kept; later ones are counted in [`LegComparer::dropped`] (memory stays bounded on
/// captures with very many relayed connections).
pub const MAX_FINDINGS: usize = 10_000;

/// What a connection's first request looked like (the pairing key).
type Key = (String, String, Option<String>);

/// A header as seen on one leg: `None` until the message was seen, then its value or absence.
type SeenHeader = Option<Option<String>>;

#[derive(Debug, Default, Clone)]
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
    /// `Sec-WebSocket-Extensions` of the upgrade request (c2s) and of the `101` (s2c).
    ext: [SeenHeader; 2],
}

#[derive(Debug, Clone)]
struct Pair {
    client_leg: ConnId,
    server_leg: ConnId,
    sid: Option<String>,
    /// Frames travelling c2s (enter on the client leg) and s2c (enter on the server leg).
    frames: [FrameMatcher; 2],
    first_close: Option<(Hop, CloseKind, u64, Timestamp)>,
}

/// Compares the legs of relayed connections; a sink over the event stream.
#[derive(Debug, Default, Clone)]
pub struct LegComparer {
    conns: HashMap<ConnId, ConnInfo>,
    /// First requests of connections not paired yet, by key: (conn, when).
    waiting: HashMap<Key, Vec<(ConnId, Timestamp)>>,
    pairs: BTreeMap<usize, Pair>,
    next_pair: usize,
    found: Vec<HopFinding>,
    dropped: u64,
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
                let m = &mut pair.frames[dir.index()];
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
        if let Some(c) = self.conns.get_mut(&ev.conn) {
            let ext = header_value(&h.headers, "sec-websocket-extensions").map(str::to_string);
            c.ext[dir.index()].get_or_insert(ext);
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
            pair.frames[dir.index()].exit_closed();
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
        let ext = |c: ConnId, d: Dir| self.conns.get(&c).and_then(|i| i.ext[d.index()].clone());
        // c2s: the offer enters on the client leg; s2c: the answer enters on the server leg.
        let exts = [
            (
                Dir::C2S,
                ext(pair.client_leg, Dir::C2S),
                ext(pair.server_leg, Dir::C2S),
            ),
            (
                Dir::S2C,
                ext(pair.server_leg, Dir::S2C),
                ext(pair.client_leg, Dir::S2C),
            ),
        ];
        for c in [pair.client_leg, pair.server_leg] {
            self.conns.remove(&c);
        }
        let mut kinds = Vec::new();
        for (dir, before, after) in exts {
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
            if self.found.len() >= MAX_FINDINGS {
                self.dropped = self.dropped.saturating_add(1);
                continue;
            }
            self.found.push(HopFinding {
                sid: pair.sid.clone(),
                client_leg: client_leg.clone(),
                server_leg: server_leg.clone(),
                kind,
            });
        }
    }

    /// The other leg of `conn`'s relay pair, while the pair is open: the same connection seen
    /// on the relay's other side (the same request head, the same `Sec-WebSocket-Key`).
    pub fn partner(&self, conn: ConnId) -> Option<ConnId> {
        let (p, _) = self.conns.get(&conn)?.pair?;
        let pair = self.pairs.get(&p)?;
        Some(if pair.client_leg == conn {
            pair.server_leg
        } else {
            pair.client_leg
        })
    }

    /// Findings not kept because [`MAX_FINDINGS`] were already kept.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// The findings so far, as if the capture ended now (the comparer goes on).
    pub fn findings(&self) -> Vec<HopFinding> {
        self.clone().finish()
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Body, HttpInfo, Origin, TcpInfo};

    fn ev(frame: u64, conn: u64, dir: Option<Dir>, body: Body) -> Event {
        let o = Origin {
            frame,
            ts: Timestamp(frame * 1_000_000),
        };
        Event {
            frame: o.frame,
            ts: o.ts,
            first_frame: None,
            conn: ConnId(conn),
            dir,
            body,
        }
    }

    fn open(frame: u64, conn: u64, client: &str, server: &str) -> Event {
        ev(
            frame,
            conn,
            None,
            Body::Tcp(TcpInfo::Open {
                client: client.into(),
                server: server.into(),
                syn_seen: true,
            }),
        )
    }

    fn http(frame: u64, conn: u64, request: bool, ext: Option<&str>) -> Event {
        let mut headers = vec![
            ("Upgrade".to_string(), "websocket".to_string()),
            (
                "Sec-WebSocket-Key".to_string(),
                "dGhlIHNhbXBsZSBub25jZQ==".to_string(),
            ),
        ];
        if let Some(e) = ext {
            headers.push(("Sec-WebSocket-Extensions".to_string(), e.to_string()));
        }
        ev(
            frame,
            conn,
            Some(if request { Dir::C2S } else { Dir::S2C }),
            Body::Http(HttpInfo {
                kind: if request { "request" } else { "response" },
                method: request.then(|| "GET".to_string()),
                target: request.then(|| "/socket.io/?EIO=4&transport=websocket".to_string()),
                path: None,
                query: serde_json::Map::new(),
                status: (!request).then_some(101),
                reason: None,
                headers,
                body_len: 0,
                content_encoding: None,
                body_text: None,
                body_base64: None,
                sid: None,
                connection_close: false,
            }),
        )
    }

    /// RFC 7692 §5: the client offers `permessage-deflate` in `Sec-WebSocket-Extensions`; a hop
    /// that drops the offer on its way to the server turns compression off without either end
    /// knowing why.
    #[test]
    fn stripped_extension_offer_is_named_with_both_values() {
        let pmd = "permessage-deflate; client_max_window_bits";
        let events = [
            open(1, 1, "127.0.0.1:40000", "127.0.0.1:8080"),
            http(2, 1, true, Some(pmd)),
            open(3, 2, "127.0.0.1:50000", "127.0.0.1:3000"),
            http(4, 2, true, None),
            http(5, 2, false, None),
            http(6, 1, false, None),
            ev(7, 1, None, Body::Tcp(TcpInfo::Close { at_eof: false })),
            ev(8, 2, None, Body::Tcp(TcpInfo::Close { at_eof: false })),
        ];
        let found = compare(&events);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(
            found[0].kind,
            HopKind::ExtensionsChanged {
                dir: Dir::C2S,
                before: Some(pmd.to_string()),
                after: None,
            }
        );
        assert_eq!(found[0].client_leg.conn, ConnId(1));
        assert_eq!(found[0].server_leg.conn, ConnId(2));
        assert_eq!(
            found[0].describe(),
            "the hop 127.0.0.1:8080 → 127.0.0.1:50000 changed Sec-WebSocket-Extensions (the client's offer): permessage-deflate; client_max_window_bits → (stripped)"
        );
    }

    #[test]
    fn connections_to_the_same_server_never_pair() {
        let events = [
            open(1, 1, "127.0.0.1:40000", "127.0.0.1:3000"),
            http(2, 1, true, None),
            open(3, 2, "127.0.0.1:40002", "127.0.0.1:3000"),
            http(4, 2, true, None),
        ];
        assert!(compare(&events).is_empty());
    }
}
