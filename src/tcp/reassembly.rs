//! The connection table: segments to per-connection, per-direction events.

use std::collections::VecDeque;

use foldhash::HashMap;
use std::net::SocketAddr;

use super::stream::{HalfStream, Piece};
use crate::capture::link::TcpSegment;
use crate::event::{ConnId, Dir, Origin};

/// Memory limits of reassembly.
#[derive(Debug, Clone, Copy)]
pub struct ReassemblyLimits {
    /// Out-of-order bytes held per direction before the hole is given up as a gap.
    pub max_pending: usize,
    /// Connections tracked at once; a new one beyond ends the least recently active
    /// ([`TcpEvent::Evicted`], then its `Close` as at the end of the capture).
    pub max_conns: usize,
}

/// Connections tracked at once by default (`--max-tracked-connections`).
pub const DEFAULT_MAX_CONNS: usize = 100_000;

impl Default for ReassemblyLimits {
    fn default() -> Self {
        ReassemblyLimits {
            max_pending: 16 << 20,
            max_conns: DEFAULT_MAX_CONNS,
        }
    }
}

/// Who is who on a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnInfo {
    /// Stable id, from 1 in order of first appearance.
    pub id: ConnId,
    /// The side that opened the connection (sent the SYN), or the best guess without one.
    pub client: SocketAddr,
    /// The other side.
    pub server: SocketAddr,
    /// True when the three-way handshake was seen (the capture did not start mid-connection).
    pub syn_seen: bool,
}

/// What reassembly reports, in capture order.
#[derive(Debug)]
pub enum TcpEvent<'a> {
    /// A connection appeared.
    Open {
        /// The connection.
        info: ConnInfo,
        /// The packet that showed it first.
        origin: Origin,
    },
    /// In-order bytes of one direction.
    Data {
        /// The connection.
        conn: ConnId,
        /// The direction.
        dir: Dir,
        /// Stream offset of the first byte.
        offset: u64,
        /// The bytes.
        bytes: &'a [u8],
        /// The packet that carried them.
        origin: Origin,
    },
    /// Bytes of one direction that will never arrive (lost, not captured, or given up).
    Gap {
        /// The connection.
        conn: ConnId,
        /// The direction.
        dir: Dir,
        /// First missing stream offset.
        start: u64,
        /// One past the last missing stream offset.
        end: u64,
        /// The packet after which the gap was noticed.
        origin: Origin,
        /// Why it is reported.
        reason: GapReason,
    },
    /// A FIN, once every byte before it was handed out.
    Fin {
        /// The connection.
        conn: ConnId,
        /// The direction whose sender sent it.
        dir: Dir,
        /// The packet with the FIN.
        origin: Origin,
    },
    /// A RST.
    Rst {
        /// The connection.
        conn: ConnId,
        /// The direction whose sender sent it.
        dir: Dir,
        /// The packet with the RST.
        origin: Origin,
    },
    /// The connection table is full: this connection, the least recently active, stops being
    /// tracked to make room (its `Close` follows, as at the end of the capture; a later segment
    /// of it starts a new connection, picked up mid-stream).
    Evicted {
        /// The connection.
        conn: ConnId,
        /// The packet that needed the room.
        origin: Origin,
        /// The limit ([`ReassemblyLimits::max_conns`]).
        limit: usize,
    },
    /// The connection is over (both FINs, a RST, or the end of the capture).
    Close {
        /// The connection.
        conn: ConnId,
        /// The last packet seen on it.
        origin: Origin,
        /// True when the capture ended before the connection did.
        at_eof: bool,
    },
}

impl TcpEvent<'_> {
    /// The connection the event is about.
    pub fn conn(&self) -> ConnId {
        match self {
            TcpEvent::Open { info, .. } => info.id,
            TcpEvent::Data { conn, .. }
            | TcpEvent::Gap { conn, .. }
            | TcpEvent::Fin { conn, .. }
            | TcpEvent::Rst { conn, .. }
            | TcpEvent::Evicted { conn, .. }
            | TcpEvent::Close { conn, .. } => *conn,
        }
    }
}

/// Why a gap was reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GapReason {
    /// The packet was cut by the snap length, or a segment never arrived.
    Missing,
    /// Too many out-of-order bytes were held: the hole was given up.
    BufferFull,
}

impl GapReason {
    /// A short name for reports.
    pub fn as_str(self) -> &'static str {
        match self {
            GapReason::Missing => "missing",
            GapReason::BufferFull => "reassembly-buffer-full",
        }
    }
}

struct Conn {
    info: ConnInfo,
    c2s: HalfStream,
    s2c: HalfStream,
    last: Origin,
    /// When a segment of it was last seen (the reassembler's segment count): its live entry
    /// in [`Reassembler::by_activity`].
    touched: u64,
    rst: bool,
    /// The first segment's sequence number of the client's SYN, to tell port reuse.
    client_isn: Option<u32>,
}

impl Conn {
    fn half(&mut self, dir: Dir) -> &mut HalfStream {
        match dir {
            Dir::C2S => &mut self.c2s,
            Dir::S2C => &mut self.s2c,
        }
    }
}

/// A connection's two endpoints, the same whichever direction a segment travels. Two IPv4
/// endpoints are packed into one integer (address and port, 48 bits each, the smaller first):
/// hashing it is a few instructions where a pair of `SocketAddr`s, hashed field by field,
/// cost some seventy on each of the several lookups a segment makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Key {
    V4(u128),
    Other(SocketAddr, SocketAddr),
}

fn key(a: SocketAddr, b: SocketAddr) -> Key {
    let packed =
        |v4: std::net::SocketAddrV4| (u64::from(u32::from(*v4.ip())) << 16) | u64::from(v4.port());
    match (a, b) {
        (SocketAddr::V4(x), SocketAddr::V4(y)) => {
            let (x, y) = (packed(x), packed(y));
            let (lo, hi) = if x <= y { (x, y) } else { (y, x) };
            Key::V4((u128::from(lo) << 64) | u128::from(hi))
        }
        _ if a <= b => Key::Other(a, b),
        _ => Key::Other(b, a),
    }
}

/// How many recently closed connections are remembered, so that their trailing ACKs and
/// retransmissions do not look like new connections picked up mid-stream.
const CLOSED_MEMORY: usize = 65_536;

/// How long, in capture time, a closed connection is remembered: Linux's TIME-WAIT
/// (`TCP_TIMEWAIT_LEN`, 60 s, `include/net/tcp.h`; RFC 9293 §3.3.2's TIME-WAIT state, in which
/// an ended connection waits for its peer's last acknowledgment and stray segments to die out).
/// After it the same addresses and ports may carry a new connection, whose segments are then
/// picked up like any other; and a long capture's memory of closed connections is what closed
/// in the last minute, not the last 65 536.
const CLOSED_LINGER_NS: u64 = 60_000_000_000;

/// TCP reassembly over every connection of a capture.
pub struct Reassembler {
    conns: HashMap<Key, Conn>,
    /// Open connections by when they were last active, least recent first: each segment
    /// appends (tick, key), and an entry whose tick is no longer its connection's `touched`
    /// is stale and skipped (a queue instead of a tree re-keyed on every segment; stale
    /// entries are swept once they outnumber the live ones, so its length stays within twice
    /// the open connections).
    by_activity: VecDeque<(u64, Key)>,
    /// Segments seen so far.
    ticks: u64,
    /// Recently closed connections, with the capture time of their close.
    closed: HashMap<Key, u64>,
    /// The same in the order they closed (an entry whose time no longer matches `closed` is
    /// stale: the connection was reopened, or closed again later).
    closed_order: VecDeque<(Key, u64)>,
    next_id: u64,
    limits: ReassemblyLimits,
    pieces: Vec<Piece>,
}

impl Reassembler {
    /// A reassembler with the given limits.
    pub fn new(limits: ReassemblyLimits) -> Self {
        Reassembler {
            conns: HashMap::default(),
            by_activity: VecDeque::new(),
            ticks: 0,
            closed: HashMap::default(),
            closed_order: VecDeque::new(),
            next_id: 1,
            limits,
            pieces: Vec::new(),
        }
    }

    /// Connections currently tracked.
    pub fn open_connections(&self) -> usize {
        self.conns.len()
    }

    /// The connection currently tracked between two endpoints (either order), if any.
    pub fn conn_of(&self, a: SocketAddr, b: SocketAddr) -> Option<ConnInfo> {
        self.conns.get(&key(a, b)).map(|c| c.info)
    }

    /// Stops tracking the connection of `k`.
    fn take(&mut self, k: &Key) -> Option<Conn> {
        self.conns.remove(k)
    }

    /// Makes room for one more connection: the least recently active one ends (not remembered
    /// as closed, so that its later segments are picked up again).
    fn evict_for(&mut self, origin: Origin, out: &mut dyn FnMut(TcpEvent<'_>)) {
        while self.conns.len() >= self.limits.max_conns.max(1) {
            let Some((tick, k)) = self.by_activity.pop_front() else {
                return;
            };
            if self.conns.get(&k).is_none_or(|c| c.touched != tick) {
                continue; // stale: touched again later, or gone
            }
            let Some(c) = self.conns.remove(&k) else {
                continue;
            };
            out(TcpEvent::Evicted {
                conn: c.info.id,
                origin,
                limit: self.limits.max_conns,
            });
            let last = c.last;
            self.finish_conn(c, last, true, out);
        }
    }

    /// Takes one segment (in capture order) and reports what it completes.
    pub fn segment(
        &mut self,
        seg: &TcpSegment<'_>,
        origin: Origin,
        out: &mut dyn FnMut(TcpEvent<'_>),
    ) {
        let k = key(seg.src, seg.dst);
        self.forget_closed_before(origin.ts.0.saturating_sub(CLOSED_LINGER_NS));
        self.ticks += 1;
        let tick = self.ticks;
        let is_new_syn = seg.flags.syn && !seg.flags.ack;
        // Port reuse: a fresh SYN on a flow whose connection is over, or with another ISN.
        if is_new_syn {
            let reuse = match self.conns.get(&k) {
                Some(c) => c.rst || c.client_isn.is_some_and(|isn| isn != seg.seq),
                None => false,
            };
            if reuse {
                if let Some(c) = self.take(&k) {
                    self.finish_conn(c, origin, false, out);
                }
            }
            self.closed.remove(&k);
        }
        if !self.conns.contains_key(&k) {
            let has_data = !seg.payload.is_empty() || seg.missing > 0;
            let wanted = seg.flags.syn || (has_data && !self.closed.contains_key(&k));
            if !wanted {
                return; // a trailing ACK/FIN/RST of a connection we do not (or no longer) track
            }
            let src_is_client = if seg.flags.syn {
                !seg.flags.ack
            } else {
                guess_src_is_client(seg)
            };
            let (client, server) = if src_is_client {
                (seg.src, seg.dst)
            } else {
                (seg.dst, seg.src)
            };
            self.evict_for(origin, out);
            let info = ConnInfo {
                id: ConnId(self.next_id),
                client,
                server,
                syn_seen: seg.flags.syn,
            };
            self.next_id += 1;
            out(TcpEvent::Open { info, origin });
            self.conns.insert(
                k,
                Conn {
                    info,
                    c2s: HalfStream::default(),
                    s2c: HalfStream::default(),
                    last: origin,
                    touched: tick,
                    rst: false,
                    client_isn: is_new_syn.then_some(seg.seq),
                },
            );
        }
        self.sweep_activity();
        let Some(conn) = self.conns.get_mut(&k) else {
            return;
        };
        conn.last = origin;
        conn.touched = tick;
        self.by_activity.push_back((tick, k));
        let id = conn.info.id;
        let dir = if seg.src == conn.info.client {
            Dir::C2S
        } else {
            Dir::S2C
        };
        if seg.flags.syn {
            conn.half(dir).syn(seg.seq);
            if seg.flags.ack && dir == Dir::S2C {
                conn.info.syn_seen = true;
            }
        }
        let (seq, payload) = if seg.flags.syn {
            (seg.seq.wrapping_add(1), seg.payload)
        } else {
            (seg.seq, seg.payload)
        };
        let max_pending = self.limits.max_pending;
        let pieces = &mut self.pieces;
        pieces.clear();
        let half = conn.half(dir);
        let had_fin = half.fin_done;
        half.segment(seq, payload, seg.missing, seg.flags.fin, origin, pieces);
        let mut overflow = false;
        while half.pending_bytes() > max_pending {
            overflow = true;
            if !half.skip_hole(pieces) {
                break;
            }
        }
        emit(id, dir, pieces, payload, overflow, out);
        if half.fin_reached() && !had_fin {
            half.fin_done = true;
            out(TcpEvent::Fin {
                conn: id,
                dir,
                origin,
            });
        }
        if seg.flags.rst {
            conn.rst = true;
            out(TcpEvent::Rst {
                conn: id,
                dir,
                origin,
            });
        }
        let done = conn.rst || (conn.c2s.fin_done && conn.s2c.fin_done);
        if done {
            if let Some(c) = self.take(&k) {
                self.finish_conn(c, origin, false, out);
            }
            self.remember_closed(k, origin.ts.0);
        }
    }

    /// Drops the stale entries of [`Reassembler::by_activity`] once they outnumber the live
    /// ones (amortised: a sweep follows at least as many segments as it visits entries).
    fn sweep_activity(&mut self) {
        if self.by_activity.len() > 2 * self.conns.len() + 64 {
            let conns = &self.conns;
            self.by_activity
                .retain(|(t, k)| conns.get(k).is_some_and(|c| c.touched == *t));
        }
    }

    /// The end of the capture: flushes every connection, reporting holes as gaps.
    pub fn finish(&mut self, out: &mut dyn FnMut(TcpEvent<'_>)) {
        self.by_activity.clear();
        let mut conns: Vec<Conn> = self.conns.drain().map(|(_, c)| c).collect();
        conns.sort_by_key(|c| c.info.id);
        for c in conns {
            let last = c.last;
            self.finish_conn(c, last, true, out);
        }
    }

    fn finish_conn(
        &mut self,
        mut c: Conn,
        origin: Origin,
        at_eof: bool,
        out: &mut dyn FnMut(TcpEvent<'_>),
    ) {
        let id = c.info.id;
        for dir in [Dir::C2S, Dir::S2C] {
            let pieces = &mut self.pieces;
            pieces.clear();
            let half = c.half(dir);
            half.flush(origin, pieces);
            emit(id, dir, pieces, &[], false, out);
            if half.fin_reached() && !half.fin_done {
                half.fin_done = true;
                out(TcpEvent::Fin {
                    conn: id,
                    dir,
                    origin,
                });
            }
        }
        out(TcpEvent::Close {
            conn: id,
            origin,
            at_eof,
        });
    }

    fn remember_closed(&mut self, k: Key, at: u64) {
        self.closed.insert(k, at);
        self.closed_order.push_back((k, at));
        while self.closed_order.len() > CLOSED_MEMORY {
            self.forget_oldest_closed();
        }
    }

    /// Forgets the connections that closed before `t` (capture time). Times that go backwards
    /// (merged or reordered captures) only make a connection remembered longer.
    fn forget_closed_before(&mut self, t: u64) {
        while self.closed_order.front().is_some_and(|&(_, at)| at < t) {
            self.forget_oldest_closed();
        }
    }

    fn forget_oldest_closed(&mut self) {
        if let Some((k, at)) = self.closed_order.pop_front() {
            if self.closed.get(&k) == Some(&at) {
                self.closed.remove(&k);
            }
        }
    }
}

/// Reports `pieces`; `payload` is the segment that made them (what their
/// `PieceBytes::Given` ranges are ranges of; empty when none came from a segment).
fn emit(
    conn: ConnId,
    dir: Dir,
    pieces: &[Piece],
    payload: &[u8],
    overflow: bool,
    out: &mut dyn FnMut(TcpEvent<'_>),
) {
    for p in pieces {
        match p {
            Piece::Data {
                offset,
                bytes,
                origin,
            } => out(TcpEvent::Data {
                conn,
                dir,
                offset: *offset,
                bytes: bytes.of(payload),
                origin: *origin,
            }),
            Piece::Gap { start, end, origin } => out(TcpEvent::Gap {
                conn,
                dir,
                start: *start,
                end: *end,
                origin: *origin,
                reason: if overflow {
                    GapReason::BufferFull
                } else {
                    GapReason::Missing
                },
            }),
        }
    }
}

/// Without a SYN: the side whose first bytes look like an HTTP request is the client, one that
/// answers `HTTP/1.x` is the server; otherwise the lower port is taken as the server's.
fn guess_src_is_client(seg: &TcpSegment<'_>) -> bool {
    if crate::http::REQUEST_STARTS
        .iter()
        .any(|m| seg.payload.starts_with(m))
    {
        return true;
    }
    if seg.payload.starts_with(crate::http::RESPONSE_START) {
        return false;
    }
    seg.src.port() > seg.dst.port()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::link::TcpFlags;
    use crate::event::Timestamp;

    fn seg<'a>(src: u16, dst: u16, seq: u32, f: &str, payload: &'a [u8]) -> TcpSegment<'a> {
        TcpSegment {
            src: SocketAddr::from(([127, 0, 0, 1], src)),
            dst: SocketAddr::from(([127, 0, 0, 1], dst)),
            seq,
            flags: TcpFlags {
                syn: f.contains('S'),
                ack: f.contains('A'),
                fin: f.contains('F'),
                rst: f.contains('R'),
            },
            payload,
            missing: 0,
        }
    }

    fn run(segs: &[TcpSegment<'_>]) -> Vec<String> {
        run_with(ReassemblyLimits::default(), segs)
    }

    fn run_with(limits: ReassemblyLimits, segs: &[TcpSegment<'_>]) -> Vec<String> {
        let timed: Vec<(u64, TcpSegment<'_>)> = segs
            .iter()
            .enumerate()
            .map(|(i, s)| (i as u64, s.clone()))
            .collect();
        run_timed(limits, &timed)
    }

    /// Each segment at its capture time (nanoseconds).
    fn run_timed(limits: ReassemblyLimits, segs: &[(u64, TcpSegment<'_>)]) -> Vec<String> {
        let mut r = Reassembler::new(limits);
        let mut log = vec![];
        let mut f = |e: TcpEvent<'_>| {
            log.push(match e {
                TcpEvent::Open { info, .. } => format!(
                    "open {} c={} syn={}",
                    info.id.0,
                    info.client.port(),
                    info.syn_seen
                ),
                TcpEvent::Data {
                    conn,
                    dir,
                    offset,
                    bytes,
                    ..
                } => format!(
                    "data {} {} @{} {}",
                    conn.0,
                    dir.as_str(),
                    offset,
                    String::from_utf8_lossy(bytes)
                ),
                TcpEvent::Gap {
                    conn,
                    dir,
                    start,
                    end,
                    ..
                } => format!("gap {} {} {}..{}", conn.0, dir.as_str(), start, end),
                TcpEvent::Fin { conn, dir, origin } => {
                    format!("fin {} {} #{}", conn.0, dir.as_str(), origin.frame)
                }
                TcpEvent::Rst { conn, dir, .. } => format!("rst {} {}", conn.0, dir.as_str()),
                TcpEvent::Evicted {
                    conn,
                    origin,
                    limit,
                } => format!("evicted {} #{} limit={limit}", conn.0, origin.frame),
                TcpEvent::Close { conn, at_eof, .. } => format!("close {} eof={}", conn.0, at_eof),
            })
        };
        for (i, (ts, s)) in segs.iter().enumerate() {
            let o = Origin {
                frame: i as u64 + 1,
                ts: Timestamp(*ts),
            };
            r.segment(s, o, &mut f);
        }
        r.finish(&mut f);
        log
    }

    /// A closed connection is remembered for TIME-WAIT's 60 s of capture time: a late data
    /// segment of it within that is a straggler and ignored; after it, the same addresses and
    /// ports are a new connection, picked up mid-stream.
    #[test]
    fn a_closed_connection_is_forgotten_sixty_seconds_after_its_close() {
        let s = 1_000_000_000;
        let log = run_timed(
            ReassemblyLimits::default(),
            &[
                (0, seg(40001, 80, 100, "S", b"")),
                (1, seg(80, 40001, 900, "SA", b"")),
                (2, seg(40001, 80, 101, "RA", b"")),
                // 59 s after the reset: still the old connection's straggler.
                (59 * s, seg(40001, 80, 101, "A", b"late")),
                // 60 s and a nanosecond after it: a connection of its own.
                (60 * s + 3, seg(40001, 80, 5000, "A", b"next")),
            ],
        );
        assert_eq!(
            log,
            [
                "open 1 c=40001 syn=true",
                "rst 1 c2s",
                "close 1 eof=false",
                "open 2 c=40001 syn=false",
                "data 2 c2s @0 next",
                "close 2 eof=true",
            ]
        );
    }

    /// `--max-tracked-connections`: a new connection past the limit ends the least recently
    /// active one (not the oldest), and that one's next segment is a new, mid-stream connection.
    #[test]
    fn a_full_table_evicts_the_least_recently_active_connection() {
        let limits = ReassemblyLimits {
            max_conns: 2,
            ..ReassemblyLimits::default()
        };
        let log = run_with(
            limits,
            &[
                seg(40001, 80, 100, "S", b""),
                seg(40002, 80, 500, "S", b""),
                // Connection 1 speaks again: connection 2 is now the least recently active.
                seg(40001, 80, 101, "A", b"one"),
                seg(40003, 80, 900, "S", b""),
                seg(40002, 80, 501, "A", b"two"),
            ],
        );
        assert_eq!(
            log,
            [
                "open 1 c=40001 syn=true",
                "open 2 c=40002 syn=true",
                "data 1 c2s @0 one",
                "evicted 2 #4 limit=2",
                "close 2 eof=true",
                "open 3 c=40003 syn=true",
                "evicted 1 #5 limit=2",
                "close 1 eof=true",
                "open 4 c=40002 syn=false",
                "data 4 c2s @0 two",
                "close 3 eof=true",
                "close 4 eof=true",
            ]
        );
    }

    proptest::proptest! {
        /// A connection's key is the same in both directions and names one pair of endpoints:
        /// two pairs share a key exactly when they hold the same two endpoints.
        #[test]
        fn a_key_is_the_unordered_pair_of_endpoints(
            a in proptest::prelude::any::<SocketAddr>(),
            b in proptest::prelude::any::<SocketAddr>(),
            c in proptest::prelude::any::<SocketAddr>(),
            v4 in proptest::prelude::any::<([u8; 4], u16, [u8; 4], u16)>(),
        ) {
            proptest::prop_assert_eq!(key(a, b), key(b, a));
            let same = |x: (SocketAddr, SocketAddr), y: (SocketAddr, SocketAddr)| {
                x == y || x == (y.1, y.0)
            };
            proptest::prop_assert_eq!(key(a, b) == key(a, c), same((a, b), (a, c)));
            let (ip1, p1, ip2, p2) = v4;
            let x = SocketAddr::from((ip1, p1));
            let y = SocketAddr::from((ip2, p2));
            proptest::prop_assert_eq!(key(x, y), key(y, x));
            let near = SocketAddr::from((ip2, p2.wrapping_add(1)));
            proptest::prop_assert_eq!(key(x, y) == key(x, near), same((x, y), (x, near)));
        }
    }

    /// The activity queue keeps one entry per segment and sweeps the stale ones once they
    /// outnumber the live: after hundreds of segments (several sweeps) the connection evicted
    /// is still the one least recently active, whichever spoke last.
    #[test]
    fn eviction_follows_the_last_activity_across_sweeps_of_the_activity_queue() {
        let limits = ReassemblyLimits {
            max_conns: 2,
            ..ReassemblyLimits::default()
        };
        for last in [40001u16, 40002] {
            let mut segs = vec![seg(40001, 80, 100, "S", b""), seg(40002, 80, 500, "S", b"")];
            let (mut s1, mut s2) = (101u32, 501u32);
            for i in 0..300 {
                // 300 segments alternating, then the chosen one once more.
                if i % 2 == 0 {
                    segs.push(seg(40001, 80, s1, "A", b"x"));
                    s1 += 1;
                } else {
                    segs.push(seg(40002, 80, s2, "A", b"y"));
                    s2 += 1;
                }
            }
            segs.push(if last == 40001 {
                seg(40001, 80, s1, "A", b"x")
            } else {
                seg(40002, 80, s2, "A", b"y")
            });
            segs.push(seg(40003, 80, 900, "S", b""));
            let log = run_with(limits, &segs);
            let evicted = if last == 40001 { 2 } else { 1 };
            let n = segs.len();
            assert!(
                log.iter()
                    .any(|l| *l == format!("evicted {evicted} #{n} limit=2")),
                "{last} spoke last, so {evicted} goes: {:?}",
                log.iter()
                    .filter(|l| l.starts_with("evicted"))
                    .collect::<Vec<_>>()
            );
            assert_eq!(log.iter().filter(|l| l.starts_with("evicted")).count(), 1);
        }
    }

    #[test]
    fn handshake_data_and_fins_in_both_directions() {
        let log = run(&[
            seg(40000, 80, 100, "S", b""),
            seg(80, 40000, 900, "SA", b""),
            seg(40000, 80, 101, "A", b""),
            seg(40000, 80, 101, "A", b"GET /"),
            seg(80, 40000, 901, "A", b"HTTP/1.1 200"),
            seg(40000, 80, 106, "FA", b""),
            seg(80, 40000, 913, "FA", b""),
            seg(40000, 80, 107, "A", b""),
        ]);
        assert_eq!(
            log,
            [
                "open 1 c=40000 syn=true",
                "data 1 c2s @0 GET /",
                "data 1 s2c @0 HTTP/1.1 200",
                "fin 1 c2s #6",
                "fin 1 s2c #7",
                "close 1 eof=false",
            ]
        );
    }

    #[test]
    fn server_reset_first_is_attributed_to_the_server() {
        let log = run(&[
            seg(40000, 80, 100, "S", b""),
            seg(80, 40000, 900, "SA", b""),
            seg(80, 40000, 901, "RA", b""),
        ]);
        assert_eq!(log[1], "rst 1 s2c");
        assert_eq!(log[2], "close 1 eof=false");
    }

    #[test]
    fn midstream_pickup_guesses_roles_from_http() {
        let log = run(&[seg(80, 40000, 5000, "A", b"HTTP/1.1 200 OK\r\n")]);
        assert_eq!(log[0], "open 1 c=40000 syn=false");
        assert_eq!(log[2], "close 1 eof=true");
    }

    #[test]
    fn trailing_ack_after_close_does_not_open_a_ghost_connection() {
        let log = run(&[
            seg(40000, 80, 100, "S", b""),
            seg(80, 40000, 900, "SA", b""),
            seg(40000, 80, 101, "RA", b""),
            seg(80, 40000, 901, "A", b""),
        ]);
        assert_eq!(log.iter().filter(|l| l.starts_with("open")).count(), 1);
    }

    #[test]
    fn port_reuse_makes_a_new_connection() {
        let log = run(&[
            seg(40000, 80, 100, "S", b""),
            seg(80, 40000, 900, "SA", b""),
            seg(40000, 80, 101, "RA", b""),
            seg(40000, 80, 5000, "S", b""),
            seg(40000, 80, 5001, "A", b"x"),
        ]);
        assert!(log.contains(&"open 2 c=40000 syn=true".to_string()));
        assert!(log.contains(&"data 2 c2s @0 x".to_string()));
    }

    #[test]
    fn gap_before_fin_is_reported_at_the_end() {
        let log = run(&[
            seg(40000, 80, 100, "S", b""),
            seg(40000, 80, 101, "A", b"ab"),
            seg(40000, 80, 105, "FA", b"ef"),
        ]);
        assert!(log.contains(&"gap 1 c2s 2..4".to_string()), "{log:?}");
        assert!(log.contains(&"data 1 c2s @4 ef".to_string()));
    }

    #[test]
    fn pending_cap_gives_up_the_hole_instead_of_growing() {
        let mut r = Reassembler::new(ReassemblyLimits {
            max_pending: 4,
            ..ReassemblyLimits::default()
        });
        let mut gaps = 0;
        let mut f = |e: TcpEvent<'_>| {
            if let TcpEvent::Gap { reason, .. } = e {
                assert_eq!(reason, GapReason::BufferFull);
                gaps += 1;
            }
        };
        let o = Origin::default();
        r.segment(&seg(40000, 80, 100, "S", b""), o, &mut f);
        r.segment(&seg(40000, 80, 111, "A", b"abc"), o, &mut f);
        r.segment(&seg(40000, 80, 121, "A", b"def"), o, &mut f);
        assert_eq!(gaps, 1);
    }
}
