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

use std::collections::{HashMap, HashSet};
use std::io::{self, Write};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TryRecvError, TrySendError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::note::Note;
use super::record::{Frames, Recorder};
use crate::event::{AnomalyInfo, Body, ConnId, Dir, Event, Origin, Timestamp};
use crate::explain::{explain, Cause, Explanation, Finding};
use crate::pipeline::{Pipeline, PipelineOptions};
use crate::session::SessionTracker;
use crate::tcp::{ConnInfo, GapReason, TcpEvent};

/// Bytes of chunk copies allowed to wait for the observers; more are dropped to counting.
pub const MAX_INFLIGHT: usize = 64 << 20;

/// How long a session's end must stay unchanged before it is reported live.
const SETTLE: Duration = Duration::from_millis(1500);

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

/// What the decoder thread leaves at the end.
#[derive(Debug)]
pub struct DecodeOutcome {
    /// Every session and how it ended.
    pub explanation: Explanation,
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

impl Decoder<'_> {
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

    /// Reports sessions that ended. A session is only reported once its end has stayed the same
    /// for [`SETTLE`] (a polling session's connection may close while the session goes on with
    /// the next request); `all` reports every ended session now (the end of the run).
    fn findings(&mut self, all: bool) {
        if self.tracker.sessions().is_empty() {
            return;
        }
        let now = Instant::now();
        let x = explain(&self.tracker);
        for f in &x.sessions {
            if f.end.cause == Cause::StillOpen || self.reported.contains(&f.sid) {
                self.pending.remove(&f.sid);
                continue;
            }
            let settled = match self.pending.get(&f.sid) {
                Some(&(since, frame)) if frame == f.end.at.frame => {
                    now.duration_since(since) >= SETTLE
                }
                _ => {
                    self.pending.insert(f.sid.clone(), (now, f.end.at.frame));
                    false
                }
            };
            if settled || all {
                self.pending.remove(&f.sid);
                self.reported.insert(f.sid.clone());
                self.sink.finding(f);
            }
        }
    }

    /// Called now and then: reports sessions whose end has settled.
    fn tick(&mut self) {
        let due = self
            .pending
            .values()
            .any(|&(since, _)| since.elapsed() >= SETTLE);
        if due {
            self.findings(false);
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
                self.findings(false);
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
    let mut d = Decoder {
        recycle: counters,
        pipe: Pipeline::new(opts),
        tracker: SessionTracker::new(),
        sink,
        expect: HashMap::new(),
        reported: HashSet::new(),
        pending: HashMap::new(),
        events: 0,
        failed: 0,
        injected: 0,
    };
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
    d.findings(true);
    d.sink.finish();
    DecodeOutcome {
        explanation: explain(&d.tracker),
        events: d.events,
        failed_upstream: d.failed,
        injected: d.injected,
    }
}

/// A timestamp for notes made by the relay.
pub fn stamp() -> Timestamp {
    super::note::now()
}
