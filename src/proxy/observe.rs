//! The observers: everything the proxy does with a copy of the traffic, off the relay's path.
//!
//! ```text
//! relay tasks ──notes──▶ [front thread] ──numbered notes──▶ [decoder thread] ──▶ LiveSink
//!   (bounded tokio mpsc)   frame numbers,    (bounded std channel)  Pipeline, SessionTracker,
//!                          --record pcapng                          explain as sessions end
//! ```
//!
//! The front thread numbers every note: with `--record` a note's frame number is the number of
//! its packet in the recording (so live output and the recording cite the same frames); without,
//! it is the note's arrival number ("frame" means chunk number in proxy output). The decoder
//! thread turns notes into [`TcpEvent`]s for the same [`Pipeline`] `decode` uses.
//!
//! Neither thread may slow the relay. Data notes are offered with `try_send`: when a channel is
//! full (or more than [`MAX_INFLIGHT`] bytes wait), the chunk is not decoded and only counted; the
//! decoder then sees a gap in that direction. With `--record` the relay waits for the front thread
//! instead (a recording with holes would be worse than a slower relay; writing is fast), but the
//! front thread still only offers data to the decoder. Lifecycle notes (open, FIN, close, faults)
//! are never dropped.
//!
//! Findings are incremental: a closing connection gets only its own sessions explained (plus
//! those waiting to settle), and a reported session is counted ([`SessionCounts`]) and forgotten
//! by the tracker after `GRACE` (10 s), with its closed connections. The tracker therefore holds the
//! sessions that are open or recently ended, however long the run.

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};
use std::io::{self, Write};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TryRecvError, TrySendError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::note::Note;
use super::record::{Frames, Recorder};
use crate::event::{AnomalyInfo, Body, ConnId, Dir, Event, Origin, Timestamp};
use crate::explain::{explain, explain_sessions, Cause, Explanation, Finding};
use crate::pipeline::{Pipeline, PipelineOptions};
use crate::session::SessionTracker;
use crate::tcp::{ConnInfo, GapReason, TcpEvent};

/// Bytes of chunk copies allowed to wait for the observers; more are dropped to counting.
pub const MAX_INFLIGHT: usize = 64 << 20;

/// How long a session's end must stay unchanged before it is reported live.
const SETTLE: Duration = Duration::from_millis(1500);

/// How long a reported session (and a closed connection) stays in the live tracker, so that late
/// traffic of the session (a refused POST, a close frame) still finds it.
const GRACE: Duration = Duration::from_secs(10);

/// Where the decoder thread's results go (the CLI prints them).
pub trait LiveSink: Send {
    /// A decoded event (already in order for its connection).
    fn event(&mut self, ev: &Event);
    /// A session ended: how and why.
    fn finding(&mut self, f: &Finding);
    /// Something the proxy itself has to say about a client connection (upstream unreachable,
    /// ...); `conn` is the accept number.
    fn message(&mut self, conn: u64, text: &str);
    /// Nothing is waiting: a good moment to flush.
    fn idle(&mut self);
    /// The run is over: close the output (a JSON document's end).
    fn finish(&mut self) {}
}

/// Read buffers kept for reuse.
const POOL: usize = 64;

/// Counters shared by the relay and the observers, and the pool of read buffers.
///
/// Large chunks are handed to the observers without a copy: the relay gives away the buffer it
/// read into and takes a recycled one (the decoder gives buffers back), so a busy relay neither
/// copies nor allocates per chunk.
#[derive(Debug, Default)]
pub struct Counters {
    /// Recycled read buffers.
    pool: std::sync::Mutex<Vec<Vec<u8>>>,
    /// Data chunks not decoded because the printer was behind.
    pub undecoded: AtomicU64,
    /// Bytes of those chunks.
    pub undecoded_bytes: AtomicU64,
    /// Bytes of chunk copies waiting in the channels.
    pub inflight: AtomicUsize,
}

impl Counters {
    /// Reserves room for `n` bytes in flight; false when over [`MAX_INFLIGHT`].
    pub fn reserve(&self, n: usize) -> bool {
        let before = self.inflight.fetch_add(n, Ordering::AcqRel);
        if before.saturating_add(n) > MAX_INFLIGHT {
            self.inflight.fetch_sub(n, Ordering::AcqRel);
            return false;
        }
        true
    }
    /// Gives back room for `n` bytes.
    pub fn release(&self, n: usize) {
        self.inflight.fetch_sub(n, Ordering::AcqRel);
    }
    /// An empty buffer with at least `size` bytes of capacity, recycled when one is free.
    pub fn take_buffer(&self, size: usize) -> Vec<u8> {
        let recycled = self.pool.lock().ok().and_then(|mut p| p.pop());
        match recycled {
            Some(mut v) if v.capacity() >= size => {
                v.clear();
                v
            }
            _ => Vec::with_capacity(size),
        }
    }

    /// Gives a buffer back for reuse (small ones and extras are freed).
    pub fn give_back(&self, v: Vec<u8>) {
        if v.capacity() < 64 * 1024 {
            return;
        }
        if let Ok(mut p) = self.pool.lock() {
            if p.len() < POOL {
                p.push(v);
            }
        }
    }

    /// Counts a chunk that will not be decoded.
    pub fn dropped(&self, n: usize) {
        self.undecoded.fetch_add(1, Ordering::Relaxed);
        self.undecoded_bytes.fetch_add(n as u64, Ordering::Relaxed);
    }
}

/// How the observer threads wait for work: they poll their channel and nap when it is empty,
/// 1 ms after recent work, doubling to [`Nap::MAX`] when idle. A thread parked on a channel would
/// make every send on the relay's path a wake-up system call; a napping one costs the relay
/// nothing, and live output is at most [`Nap::MAX`] late.
#[derive(Debug)]
struct Nap(Duration);

impl Default for Nap {
    fn default() -> Self {
        Nap(Nap::MIN)
    }
}

impl Nap {
    const MIN: Duration = Duration::from_millis(1);
    const MAX: Duration = Duration::from_millis(8);

    fn busy(&mut self) {
        self.0 = Nap::MIN;
    }

    fn sleep(&mut self) {
        std::thread::sleep(self.0);
        self.0 = (self.0 * 2).min(Nap::MAX);
    }
}

/// A note with the frame numbers it was given.
#[derive(Debug)]
pub struct Numbered {
    note: Note,
    frames: Frames,
}

/// The front thread: numbers notes, records them, offers them to the decoder.
///
/// Returns the packets written to the recording (0 without one).
pub fn front<W: Write>(
    mut rx: tokio::sync::mpsc::Receiver<Note>,
    mut recorder: Option<Recorder<W>>,
    tx: SyncSender<Numbered>,
    counters: Arc<Counters>,
) -> io::Result<u64> {
    let mut chunk_no = 0u64;
    let mut write_err: Option<io::Error> = None;
    // Connections are numbered in the order their Open notes arrive here, which is the order of
    // their first packets in the recording: `decode` of the recording numbers them the same.
    let mut ids: HashMap<u64, u64> = HashMap::new();
    let mut next_id = 0u64;
    let mut nap = Nap::default();
    // Ends when every relay task has dropped its sender.
    loop {
        let mut note = match rx.try_recv() {
            Ok(n) => {
                nap.busy();
                n
            }
            Err(tokio::sync::mpsc::error::TryRecvError::Empty) => {
                if let Some(r) = &mut recorder {
                    if let Err(e) = r.flush() {
                        write_err.get_or_insert(e);
                    }
                }
                nap.sleep();
                continue;
            }
            Err(tokio::sync::mpsc::error::TryRecvError::Disconnected) => break,
        };
        let is_open = matches!(note, Note::Open { .. });
        let is_close = matches!(note, Note::Close { .. });
        if let Some(c) = note.conn_mut() {
            if is_open {
                next_id += 1;
                ids.insert(*c, next_id);
            }
            let relay_id = *c;
            *c = ids.get(&relay_id).copied().unwrap_or(0);
            if is_close {
                ids.remove(&relay_id);
            }
        }
        let frames = match (&mut recorder, &write_err) {
            (Some(r), None) => match r.note(&note) {
                Ok(f) => f,
                Err(e) => {
                    write_err = Some(e);
                    Frames::None
                }
            },
            _ => {
                chunk_no += 1;
                match &note {
                    Note::Data { .. } => Frames::Pieces(vec![(chunk_no, 0)]),
                    _ => Frames::One(chunk_no),
                }
            }
        };
        let len = note.weight();
        let lifecycle = note.is_lifecycle();
        let msg = Numbered { note, frames };
        if lifecycle {
            // Never dropped; waits only if the decoder is far behind.
            if tx.send(msg).is_err() {
                break;
            }
        } else {
            match tx.try_send(msg) {
                Ok(()) => {}
                Err(TrySendError::Full(_)) => {
                    counters.release(len);
                    counters.dropped(len);
                }
                Err(TrySendError::Disconnected(_)) => break,
            }
        }
    }
    let frames = recorder.as_ref().map_or(0, Recorder::frames);
    if let Some(r) = &mut recorder {
        if let Err(e) = r.flush() {
            write_err.get_or_insert(e);
        }
    }
    match write_err {
        Some(e) => Err(e),
        None => Ok(frames),
    }
}

/// How many sessions ended, by cause: what the end-of-run summary counts, kept as counters
/// because the live tracker forgets sessions once they are reported.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionCounts {
    /// Sessions seen (reported, or still open at the end).
    pub sessions: u64,
    /// Sessions that ended abnormally.
    pub abnormal: u64,
    /// Sessions per cause, in order of first appearance.
    pub by_cause: Vec<(Cause, u64)>,
}

impl SessionCounts {
    /// Counts one session.
    pub fn add(&mut self, f: &Finding) {
        self.sessions += 1;
        if f.abnormal() {
            self.abnormal += 1;
        }
        let c = f.end.cause;
        match self.by_cause.iter_mut().find(|(k, _)| *k == c) {
            Some((_, n)) => *n += 1,
            None => self.by_cause.push((c, 1)),
        }
    }
}

/// What the decoder thread leaves at the end.
#[derive(Debug)]
pub struct DecodeOutcome {
    /// The sessions the live tracker still held at the end (reported sessions are forgotten
    /// after `GRACE`; [`DecodeOutcome::counts`] counts them all).
    pub explanation: Explanation,
    /// Every session of the run, counted by how it ended.
    pub counts: SessionCounts,
    /// Events decoded.
    pub events: u64,
    /// Connections whose upstream could not be reached.
    pub failed_upstream: u64,
    /// Faults that acted.
    pub injected: u64,
}

struct Decoder<'s> {
    recycle: &'s Counters,
    pipe: Pipeline,
    tracker: SessionTracker,
    sink: &'s mut dyn LiveSink,
    /// Next expected stream offset per connection and direction.
    expect: HashMap<(u64, bool), u64>,
    reported: HashSet<String>,
    /// Ended sessions waiting to settle: since when, and the frame of their end.
    pending: HashMap<String, (Instant, u64)>,
    /// Reported sessions, in order, with the time after which the tracker forgets them.
    forget: VecDeque<(Instant, String)>,
    /// Closed connections, in order, with the time after which the tracker may forget them.
    closed: VecDeque<(Instant, u64)>,
    counts: SessionCounts,
    settle: Duration,
    grace: Duration,
    events: u64,
    failed: u64,
    injected: u64,
}

fn injected_event(conn: u64, dir: Dir, origin: Origin, comment: &str) -> Event {
    Event {
        frame: origin.frame,
        ts: origin.ts,
        first_frame: None,
        conn: ConnId(conn),
        dir: Some(dir),
        body: Body::Anomaly(AnomalyInfo {
            at: "capture",
            rule: "injected-fault".to_string(),
            detail: comment.to_string(),
            bytes: None,
        }),
    }
}

impl<'s> Decoder<'s> {
    fn new(opts: PipelineOptions, sink: &'s mut dyn LiveSink, recycle: &'s Counters) -> Self {
        let tracker = SessionTracker::with_max_sessions(opts.max_sessions);
        Decoder {
            recycle,
            pipe: Pipeline::new(opts),
            tracker,
            sink,
            expect: HashMap::new(),
            reported: HashSet::new(),
            pending: HashMap::new(),
            forget: VecDeque::new(),
            closed: VecDeque::new(),
            counts: SessionCounts::default(),
            settle: SETTLE,
            grace: GRACE,
            events: 0,
            failed: 0,
            injected: 0,
        }
    }

    /// Sessions the live tracker holds now (bounded: reported ones go after the grace period).
    #[cfg(test)]
    fn tracked(&self) -> usize {
        self.tracker.sessions().len()
    }

    fn emit(&mut self, ev: Event) {
        self.events += 1;
        self.tracker.event(&ev);
        self.sink.event(&ev);
    }

    fn tcp(&mut self, ev: TcpEvent<'_>) {
        let mut out: Vec<Event> = Vec::new();
        self.pipe.tcp(ev, &mut |e| out.push(e));
        for e in out {
            self.emit(e);
        }
    }

    /// Reports sessions that ended, among `sids` (`None`: every session, at the end of the run).
    /// A session is only reported once its end has stayed the same for [`SETTLE`] (a polling
    /// session's connection may close while the session goes on with the next request): a
    /// closing connection's sessions are explained and start to wait, and [`Self::tick`] explains
    /// each waiting one again when its time is up. At the end of the run every ended session is
    /// reported now.
    ///
    /// Only these sessions are explained, so the work per closed connection does not grow with
    /// the length of the run, nor with the number of sessions waiting to settle (re-explaining
    /// every waiting session at each close made 10 000 connections decode at 65 a second). A reported session is counted in [`SessionCounts`] and forgotten
    /// by the tracker [`GRACE`] later.
    fn findings(&mut self, sids: Option<BTreeSet<String>>) {
        if self.tracker.sessions().is_empty() {
            return;
        }
        let all = sids.is_none();
        let now = Instant::now();
        let x = match sids {
            None => explain(&self.tracker),
            Some(sids) => {
                if sids.is_empty() {
                    return;
                }
                explain_sessions(&self.tracker, &sids)
            }
        };
        for f in &x.sessions {
            if f.end.cause == Cause::StillOpen || self.reported.contains(&f.sid) {
                self.pending.remove(&f.sid);
                continue;
            }
            let settled = match self.pending.get(&f.sid) {
                Some(&(since, frame)) if frame == f.end.at.frame => {
                    now.duration_since(since) >= self.settle
                }
                _ => {
                    self.pending.insert(f.sid.clone(), (now, f.end.at.frame));
                    false
                }
            };
            if settled || all {
                self.pending.remove(&f.sid);
                self.reported.insert(f.sid.clone());
                self.counts.add(f);
                self.forget.push_back((now + self.grace, f.sid.clone()));
                self.sink.finding(f);
            }
        }
    }

    /// Called now and then: reports sessions whose end has settled, and forgets what is over.
    fn tick(&mut self) {
        let settle = self.settle;
        let due: BTreeSet<String> = self
            .pending
            .iter()
            .filter(|(_, &(since, _))| since.elapsed() >= settle)
            .map(|(sid, _)| sid.clone())
            .collect();
        if !due.is_empty() {
            self.findings(Some(due));
        }
        self.sweep(Instant::now());
    }

    /// Forgets sessions reported more than [`GRACE`] ago, and closed connections whose sessions
    /// are all forgotten. Bounded: each queue is walked at most once.
    fn sweep(&mut self, now: Instant) {
        while self.forget.front().is_some_and(|(at, _)| *at <= now) {
            if let Some((_, sid)) = self.forget.pop_front() {
                self.tracker.forget_session(&sid);
                self.reported.remove(&sid);
            }
        }
        for _ in 0..self.closed.len() {
            match self.closed.front() {
                Some(&(at, _)) if at <= now => {}
                _ => break,
            }
            let Some((_, conn)) = self.closed.pop_front() else {
                break;
            };
            let busy = self
                .tracker
                .conns()
                .get(&conn)
                .is_some_and(|c| c.sids.iter().any(|s| self.tracker.knows_session(s)));
            if busy {
                self.closed.push_back((now + self.grace, conn));
            } else {
                self.tracker.forget_conn(conn);
            }
        }
    }

    fn note(&mut self, n: Numbered) {
        let first = match &n.frames {
            Frames::One(f) => *f,
            Frames::Pieces(p) => p.first().map_or(0, |x| x.0),
            Frames::None => 0,
        };
        match n.note {
            Note::Open {
                conn,
                client,
                server,
                ts,
            } => self.tcp(TcpEvent::Open {
                info: ConnInfo {
                    id: ConnId(conn),
                    client,
                    server,
                    syn_seen: true,
                },
                origin: Origin { frame: first, ts },
            }),
            Note::Data {
                conn,
                dir,
                offset,
                bytes,
                ts,
                comment,
            } => {
                let key = (conn, dir == Dir::C2S);
                let expect = self.expect.get(&key).copied().unwrap_or(0);
                if offset > expect {
                    self.tcp(TcpEvent::Gap {
                        conn: ConnId(conn),
                        dir,
                        start: expect,
                        end: offset,
                        origin: Origin { frame: first, ts },
                        reason: GapReason::Missing,
                    });
                }
                self.expect.insert(key, offset + bytes.len() as u64);
                if let Some(c) = &comment {
                    self.injected += 1;
                    self.emit(injected_event(conn, dir, Origin { frame: first, ts }, c));
                }
                let pieces = match n.frames {
                    Frames::Pieces(p) => p,
                    _ => vec![(first, 0)],
                };
                for (i, &(frame, start)) in pieces.iter().enumerate() {
                    let end = pieces.get(i + 1).map_or(bytes.len(), |x| x.1);
                    let Some(slice) = bytes.get(start..end) else {
                        continue;
                    };
                    self.tcp(TcpEvent::Data {
                        conn: ConnId(conn),
                        dir,
                        offset: offset + start as u64,
                        bytes: slice,
                        origin: Origin { frame, ts },
                    });
                }
                self.recycle.give_back(bytes);
            }
            Note::Injected {
                conn,
                dir,
                ts,
                comment,
                ..
            } => {
                self.injected += 1;
                self.emit(injected_event(
                    conn,
                    dir,
                    Origin { frame: first, ts },
                    &comment,
                ));
            }
            Note::Fin { conn, dir, ts, .. } => self.tcp(TcpEvent::Fin {
                conn: ConnId(conn),
                dir,
                origin: Origin { frame: first, ts },
            }),
            Note::Rst { conn, dir, ts, .. } => self.tcp(TcpEvent::Rst {
                conn: ConnId(conn),
                dir,
                origin: Origin { frame: first, ts },
            }),
            Note::Close {
                conn,
                ts,
                at_shutdown,
            } => {
                self.expect.remove(&(conn, true));
                self.expect.remove(&(conn, false));
                self.tcp(TcpEvent::Close {
                    conn: ConnId(conn),
                    origin: Origin { frame: first, ts },
                    at_eof: at_shutdown,
                });
                let sids = self
                    .tracker
                    .conns()
                    .get(&conn)
                    .map(|c| c.sids.iter().cloned().collect())
                    .unwrap_or_default();
                self.closed.push_back((Instant::now() + self.grace, conn));
                self.findings(Some(sids));
            }
            Note::Failed { conn, error, .. } => {
                self.failed += 1;
                self.sink.message(conn, &error);
            }
        }
    }
}

/// The decoder thread: numbered notes in, events and findings to `sink`, until the front thread
/// ends.
pub fn decode(
    rx: Receiver<Numbered>,
    opts: PipelineOptions,
    sink: &mut dyn LiveSink,
    counters: &Counters,
) -> DecodeOutcome {
    let mut d = Decoder::new(opts, sink, counters);
    let mut nap = Nap::default();
    loop {
        let msg = match rx.try_recv() {
            Ok(m) => {
                nap.busy();
                m
            }
            Err(TryRecvError::Empty) => {
                d.sink.idle();
                d.tick();
                nap.sleep();
                continue;
            }
            Err(TryRecvError::Disconnected) => break,
        };
        counters.release(msg.note.weight());
        d.note(msg);
        d.tick();
    }
    d.findings(None);
    d.sink.finish();
    let explanation = explain(&d.tracker);
    // Sessions never reported (still open at the end) are counted too.
    for f in &explanation.sessions {
        if !d.reported.contains(&f.sid) {
            d.counts.add(f);
        }
    }
    DecodeOutcome {
        explanation,
        counts: d.counts,
        events: d.events,
        failed_upstream: d.failed,
        injected: d.injected,
    }
}

/// A timestamp for notes made by the relay.
pub fn stamp() -> Timestamp {
    super::note::now()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Findings(Vec<String>);

    impl LiveSink for Findings {
        fn event(&mut self, _: &Event) {}
        fn finding(&mut self, f: &Finding) {
            self.0.push(format!("{} {}", f.sid, f.end.cause.as_str()));
        }
        fn message(&mut self, _: u64, _: &str) {}
        fn idle(&mut self) {}
    }

    fn numbered(note: Note) -> Numbered {
        Numbered {
            note,
            frames: Frames::One(1),
        }
    }

    fn data(conn: u64, dir: Dir, offset: u64, bytes: Vec<u8>) -> Numbered {
        numbered(Note::Data {
            conn,
            dir,
            offset,
            bytes,
            ts: stamp(),
            comment: None,
        })
    }

    /// One WebSocket session on connection `conn`: handshake, open packet, the client's close
    /// frame, FINs and close.
    fn session(d: &mut Decoder<'_>, conn: u64) {
        let client = "127.0.0.1:40000".parse().unwrap();
        let server = "127.0.0.1:3000".parse().unwrap();
        d.note(numbered(Note::Open {
            conn,
            client,
            server,
            ts: stamp(),
        }));
        let req = b"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n".to_vec();
        let mut resp = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n".to_vec();
        let open = format!(
            r#"0{{"sid":"sid{conn:05}","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}}"#
        );
        resp.push(0x81);
        resp.push(u8::try_from(open.len()).unwrap());
        resp.extend_from_slice(open.as_bytes());
        let close = [0x88, 0x82, 0, 0, 0, 0, 0x03, 0xe8];
        let (rl, sl) = (req.len() as u64, resp.len() as u64);
        d.note(data(conn, Dir::C2S, 0, req));
        d.note(data(conn, Dir::S2C, 0, resp));
        d.note(data(conn, Dir::C2S, rl, close.to_vec()));
        for (dir, offset) in [(Dir::C2S, rl + 8), (Dir::S2C, sl)] {
            d.note(numbered(Note::Fin {
                conn,
                dir,
                offset,
                ts: stamp(),
            }));
        }
        d.note(numbered(Note::Close {
            conn,
            ts: stamp(),
            at_shutdown: false,
        }));
    }

    #[test]
    fn ended_sessions_are_counted_then_forgotten() {
        let counters = Counters::default();
        let mut sink = Findings::default();
        let mut d = Decoder::new(PipelineOptions::default(), &mut sink, &counters);
        d.settle = Duration::ZERO;
        d.grace = Duration::ZERO;
        for conn in 1..=200 {
            session(&mut d, conn);
            d.tick();
            assert!(
                d.tracked() <= 1,
                "conn {conn}: {} sessions kept",
                d.tracked()
            );
        }
        assert_eq!(d.tracked(), 0);
        assert!(d.tracker.conns().is_empty());
        assert!(d.reported.is_empty() && d.pending.is_empty());
        assert_eq!(d.counts.sessions, 200);
        let causes = d.counts.by_cause.clone();
        assert_eq!(causes.len(), 1, "{causes:?}");
        drop(d);
        assert_eq!(sink.0.len(), 200);
        assert!(sink.0[0].starts_with("sid00001 "), "{:?}", sink.0[0]);
    }

    #[test]
    fn reported_sessions_stay_for_the_grace_period() {
        let counters = Counters::default();
        let mut sink = Findings::default();
        let mut d = Decoder::new(PipelineOptions::default(), &mut sink, &counters);
        d.settle = Duration::ZERO;
        for conn in 1..=3 {
            session(&mut d, conn);
            d.tick();
        }
        assert_eq!(d.counts.sessions, 3);
        assert_eq!(d.tracked(), 3, "kept for the grace period");
        d.sweep(Instant::now() + GRACE + Duration::from_millis(1));
        assert_eq!(d.tracked(), 0);
        assert!(d.tracker.conns().is_empty());
    }
}
