//! A replay on several threads: connections decoded in parallel, events out in capture order.
//!
//! The connection layer of the pipeline (HTTP, WebSocket framing, permessage-deflate) keeps state
//! per TCP connection only; what is shared between the connections of a session id (attachments,
//! whether a session carries Socket.IO, a WebSocket's sid) is the Engine.IO layer's, which the
//! connection layer reaches only through the [`Step`]s it emits (`pipeline::step`). So:
//!
//! - the calling thread reads the capture and reassembles TCP ([`read_segments`]), numbers
//!   what it gives in batches, and hands each connection's events to one worker (the one given
//!   the fewest bytes when the connection appeared);
//! - each worker decodes its connections (a [`Connections`] of its own) and gives back, per
//!   numbered event, the steps it completed;
//! - the calling thread takes the finished batches in order, merges the steps of every worker
//!   by number (the capture layer's own events in their place), applies them with one
//!   [`EioLayer`] and gives the events to the sink (a reporter, the session tracker, the
//!   checker), between batches of reading.
//!
//! The calling thread waits only when it has [`IN_FLIGHT`] batches out: with N threads there
//! are N − 1 workers and nothing spins for work beside them.
//!
//! Each connection's steps come out in its own order and the numbers restore the frontend's
//! order between connections, so the Engine.IO layer sees exactly the sequence of a one-thread
//! replay: the events are the same, in the same order, with any number of workers.

use std::collections::VecDeque;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TryRecvError};

use foldhash::HashMap;

use super::merge::PacketSource;
use super::replay::{read_segments, replay_packets, Fed, ReplayOptions, ReplayStats};
use super::CaptureError;
use crate::event::{ConnId, Dir, Event, Origin};
use crate::pipeline::{Connections, EioLayer, Step};
use crate::tcp::TcpEvent;

/// Frontend events per batch (one channel message per worker each).
///
/// With 512 events a batch (the fourth round's choice) each of the two threads of a 2-core run
/// was busy about 79 % of the wall time: a batch with a large compressed message kept the worker
/// while the calling thread, 2 048 events ahead at most, waited, and the other way round. 4 096
/// lets either run ahead by 16 384 events, still at most [`IN_FLIGHT`] batches of at most
/// [`BATCH_BYTES`] of payload each: `decode --format ndjson` about 10 % faster on the bench
/// capture and its 4× one, with the same bound on what a slow sink leaves in flight
/// (docs/performance.md, sixth round).
const BATCH: usize = 4096;

/// A batch is also handed over once it holds this many payload bytes (bounded memory with
/// large segments).
const BATCH_BYTES: usize = 256 << 10;

/// Batches in flight at most on each channel: how far reading may run ahead of decoding, and
/// decoding ahead of the consumer (bounded memory).
const IN_FLIGHT: usize = 4;

/// Most workers started, whatever `--threads` asks (the calling thread is busy enough with
/// reading and the Engine.IO layer that more would wait).
const MAX_WORKERS: usize = 64;

/// A reassembly event that owns its bytes, to cross to a worker.
enum Owned {
    /// In-order bytes, copied out of the reassembler's buffer.
    Data {
        conn: ConnId,
        dir: Dir,
        offset: u64,
        bytes: Vec<u8>,
        origin: Origin,
    },
    /// Every other event (they borrow nothing).
    Other(TcpEvent<'static>),
}

impl Owned {
    fn new(ev: TcpEvent<'_>) -> Self {
        use TcpEvent as T;
        Owned::Other(match ev {
            T::Data {
                conn,
                dir,
                offset,
                bytes,
                origin,
            } => {
                return Owned::Data {
                    conn,
                    dir,
                    offset,
                    bytes: bytes.to_vec(),
                    origin,
                }
            }
            T::Open { info, origin } => T::Open { info, origin },
            T::Gap {
                conn,
                dir,
                start,
                end,
                origin,
                reason,
            } => T::Gap {
                conn,
                dir,
                start,
                end,
                origin,
                reason,
            },
            T::Fin { conn, dir, origin } => T::Fin { conn, dir, origin },
            T::Rst { conn, dir, origin } => T::Rst { conn, dir, origin },
            T::Evicted {
                conn,
                origin,
                limit,
            } => T::Evicted {
                conn,
                origin,
                limit,
            },
            T::Close {
                conn,
                origin,
                at_eof,
            } => T::Close {
                conn,
                origin,
                at_eof,
            },
        })
    }

    fn conn(&self) -> ConnId {
        match self {
            Owned::Data { conn, .. } => *conn,
            Owned::Other(ev) => ev.conn(),
        }
    }

    fn len(&self) -> usize {
        match self {
            Owned::Data { bytes, .. } => bytes.len(),
            Owned::Other(_) => 0,
        }
    }

    /// Gives the event to the connection layer.
    fn decode(self, conns: &mut Connections, sink: &mut dyn FnMut(Step)) {
        match self {
            Owned::Data {
                conn,
                dir,
                offset,
                bytes,
                origin,
            } => conns.tcp(
                TcpEvent::Data {
                    conn,
                    dir,
                    offset,
                    bytes: &bytes,
                    origin,
                },
                sink,
            ),
            Owned::Other(ev) => conns.tcp(ev, sink),
        }
    }
}

/// One worker's share of a batch: numbered frontend events of its connections.
type Jobs = Vec<(u32, Owned)>;

/// What a worker made of its share: the steps of all its events, and for each event its number
/// and where its steps end in `steps`.
#[derive(Default)]
struct Done {
    steps: Vec<Step>,
    ends: Vec<(u32, usize)>,
}

/// A batch handed to the workers: how many numbered items it has, the capture layer's own
/// events among them, and the workers' results as they come back.
struct Batch {
    items: u32,
    direct: Vec<(u32, Event)>,
    done: Vec<Option<Done>>,
}

/// [`replay_packets`] with `threads` threads: 1 runs everything on the calling thread; N ≥ 2
/// decodes connections on N − 1 workers (at most 64) while the calling thread reads the capture, reassembles
/// TCP, merges the workers' steps in capture order, applies the Engine.IO layer and gives the
/// events to `sink`. `sink` sees the same events in the same order whatever `threads` is.
pub fn replay_packets_threaded(
    reader: &mut (dyn PacketSource + Send),
    opts: &ReplayOptions,
    threads: usize,
    sink: &mut dyn FnMut(Event),
) -> Result<ReplayStats, CaptureError> {
    if threads < 2 {
        return replay_packets(reader, opts, sink);
    }
    let workers = (threads - 1).min(MAX_WORKERS);
    std::thread::scope(|scope| {
        let mut job_tx: Vec<SyncSender<Jobs>> = Vec::with_capacity(workers);
        let mut done_rx: Vec<Receiver<Done>> = Vec::with_capacity(workers);
        let mut pool = Vec::with_capacity(workers);
        for _ in 0..workers {
            // Never full: the calling thread waits for results before it has more than
            // IN_FLIGHT batches out.
            let (jtx, jrx) = sync_channel::<Jobs>(IN_FLIGHT + 1);
            let (dtx, drx) = sync_channel::<Done>(IN_FLIGHT + 1);
            job_tx.push(jtx);
            done_rx.push(drx);
            let popts = opts.pipeline.clone();
            pool.push(scope.spawn(move || work(Connections::new(popts), jrx, dtx)));
        }
        let mut front = Front {
            eio: EioLayer::new(&opts.pipeline),
            done_rx,
            out: VecDeque::new(),
            broken: false,
        };
        // A connection goes to the worker that was given the fewest bytes so far, and stays
        // there (which worker decodes a connection does not change its events).
        let mut owner: HashMap<ConnId, usize> = HashMap::default();
        let mut given = vec![0u64; workers];
        let mut jobs: Vec<Jobs> = (0..workers).map(|_| Vec::new()).collect();
        let mut batch = Batch {
            items: 0,
            direct: Vec::new(),
            done: Vec::new(),
        };
        let mut bytes = 0usize;
        let mut send = |jobs: &mut Vec<Jobs>, batch: &mut Batch, front: &mut Front| {
            for (tx, j) in job_tx.iter().zip(jobs.iter_mut()) {
                front.broken |= tx.send(std::mem::take(j)).is_err();
            }
            let mut full = std::mem::replace(
                batch,
                Batch {
                    items: 0,
                    direct: Vec::new(),
                    done: Vec::new(),
                },
            );
            full.done = (0..workers).map(|_| None).collect();
            front.out.push_back(full);
            // Merge what is finished; wait for the oldest batch only with too many out.
            while front.out.len() > IN_FLIGHT {
                front.finish_oldest(true, sink);
            }
            while !front.out.is_empty() && front.finish_oldest(false, sink) {}
        };
        let res = read_segments(reader, opts, &mut |fed| {
            if front.broken {
                return; // a worker is gone: read to the end, its join says why
            }
            let n = batch.items;
            batch.items += 1;
            match fed {
                Fed::Event(ev) => batch.direct.push((n, *ev)),
                Fed::Tcp(ev) => {
                    let ev = Owned::new(ev);
                    bytes += ev.len();
                    let conn = ev.conn();
                    let w = *owner.entry(conn).or_insert_with(|| {
                        (0..given.len()).min_by_key(|&w| given.get(w)).unwrap_or(0)
                    });
                    if let Some(g) = given.get_mut(w) {
                        *g += ev.len() as u64;
                    }
                    if matches!(ev, Owned::Other(TcpEvent::Close { .. })) {
                        owner.remove(&conn);
                    }
                    if let Some(j) = jobs.get_mut(w) {
                        j.push((n, ev));
                    }
                }
            }
            if batch.items as usize >= BATCH || bytes >= BATCH_BYTES {
                bytes = 0;
                send(&mut jobs, &mut batch, &mut front);
            }
        });
        if batch.items > 0 && !front.broken {
            send(&mut jobs, &mut batch, &mut front);
        }
        while !front.out.is_empty() && !front.broken {
            front.finish_oldest(true, sink);
        }
        drop(job_tx);
        drop(front);
        for w in pool {
            if let Err(panic) = w.join() {
                std::panic::resume_unwind(panic);
            }
        }
        res
    })
}

/// The calling thread's end of the pool: the batches out, in order, and the Engine.IO layer.
struct Front {
    eio: EioLayer,
    done_rx: Vec<Receiver<Done>>,
    out: VecDeque<Batch>,
    /// A worker is gone (it panicked).
    broken: bool,
}

impl Front {
    /// Collects the oldest batch's results (waiting for them when `wait`), and once every
    /// worker's is in, merges its steps by number, applies them and gives the events to
    /// `sink`. True when the batch was finished.
    fn finish_oldest(&mut self, wait: bool, sink: &mut dyn FnMut(Event)) -> bool {
        let Some(batch) = self.out.front_mut() else {
            return false;
        };
        for (slot, rx) in batch.done.iter_mut().zip(&self.done_rx) {
            if slot.is_some() {
                continue;
            }
            let got = if wait {
                rx.recv().ok()
            } else {
                match rx.try_recv() {
                    Ok(d) => Some(d),
                    Err(TryRecvError::Empty) => return false,
                    Err(TryRecvError::Disconnected) => None,
                }
            };
            match got {
                Some(d) => *slot = Some(d),
                None => {
                    self.broken = true;
                    self.out.clear();
                    return false;
                }
            }
        }
        let Some(batch) = self.out.pop_front() else {
            return false;
        };
        let mut done: Vec<_> = batch
            .done
            .into_iter()
            .flatten()
            .map(|d| (d.steps.into_iter(), d.ends, 0usize, 0usize))
            .collect();
        let mut direct = batch.direct.into_iter().peekable();
        for n in 0..batch.items {
            if direct.peek().is_some_and(|(i, _)| *i == n) {
                if let Some((_, ev)) = direct.next() {
                    sink(ev);
                }
                continue;
            }
            for (steps, ends, next, from) in done.iter_mut() {
                let Some(&(i, end)) = ends.get(*next) else {
                    continue;
                };
                if i != n {
                    continue;
                }
                for step in steps.by_ref().take(end - *from) {
                    self.eio.apply(step, sink);
                }
                *from = end;
                *next += 1;
                break;
            }
        }
        true
    }
}

/// A worker: decodes the connections it is given, batch by batch.
fn work(mut conns: Connections, jobs: Receiver<Jobs>, done: SyncSender<Done>) {
    // The steps of a batch start with room for as many as the batch before made: grown from
    // empty, every doubling copied the steps so far (3.6 % of a worker's instructions on the
    // bench capture, docs/performance.md).
    let mut room = 0;
    for batch in jobs.iter() {
        let mut out = Done {
            steps: Vec::with_capacity(room),
            ends: Vec::with_capacity(batch.len()),
        };
        for (n, ev) in batch {
            ev.decode(&mut conns, &mut |s| out.steps.push(s));
            out.ends.push((n, out.steps.len()));
        }
        room = out.steps.len();
        if done.send(out).is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::CaptureReader;

    /// Every event of a fixture, as NDJSON, replayed with `threads` threads.
    fn ndjson(path: &str, threads: usize) -> Vec<u8> {
        let bytes = std::fs::read(path).unwrap_or_default();
        let Ok(mut reader) = CaptureReader::new(std::io::Cursor::new(bytes)) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        let _ =
            replay_packets_threaded(&mut reader, &ReplayOptions::default(), threads, &mut |ev| {
                out.extend(serde_json::to_vec(&ev).unwrap_or_default());
                out.push(b'\n');
            });
        out
    }

    #[test]
    fn two_threads_give_the_events_of_one() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/pcap/v4-ws-upgrade-deflate.pcap"
        );
        let one = ndjson(path, 1);
        assert!(one.len() > 1000, "the fixture decodes to events");
        assert_eq!(ndjson(path, 2), one);
        assert_eq!(ndjson(path, 8), one);
    }
}
