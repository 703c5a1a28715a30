//! Order across connections: a later connection's first bytes never overtake an earlier one's.
//!
//! Every relayed connection does some work of its own before its first client bytes can go
//! upstream (the upstream TCP connect, a TLS handshake). Without care, a connection accepted later
//! whose connect happens to finish first forwards its request first: issue #14 saw the official
//! engine.io-protocol suite's "forcefully closes the session" (a GET poll pending, then a POST of
//! the close packet `1` on another connection) fail 36 times in 150 through the proxy because the
//! POST reached the server first and the server then answered the GET with 400.
//!
//! The [`Sequencer`] puts the first chunk of every connection in one queue, in the order the proxy
//! saw the bytes, and lets a connection write its first chunk upstream only when every chunk ahead
//! of it was written (or its connection ended). The queue position is decided under one lock, at
//! the moment a connection reads its first bytes:
//!
//! * every connection already queued (it read earlier) stays ahead;
//! * every connection accepted earlier whose first bytes are already waiting in its socket (seen
//!   with a non-consuming peek) but not read yet by its task is queued ahead too: the bytes were
//!   there together, and the earlier connection goes first. This is what makes the order
//!   independent of which task the runtime happens to poll first;
//! * bytes arriving after that read arrived after ours and queue behind.
//!
//! Only first chunks are sequenced: once a connection's upstream is up, its later chunks are
//! relayed as they come, on the same path as before (no lock, no wait), so the steady state costs
//! nothing. A wait is bounded ([`Sequencer::new`]'s `max_wait`): a connection whose turn does not
//! come within it goes anyway and is counted ([`Sequencer::expired`]).

use std::collections::{BTreeMap, VecDeque};
use std::mem::MaybeUninit;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::net::TcpStream;
use tokio::sync::Notify;

/// The accept-order sequencer of first chunks, shared by every connection of a run.
#[derive(Debug)]
pub struct Sequencer {
    inner: Mutex<Inner>,
    released: Notify,
    max_wait: Duration,
    waited: AtomicU64,
    expired: AtomicU64,
}

#[derive(Debug, Default)]
struct Inner {
    /// Accepted connections that have not read their first bytes yet, by accept number; the
    /// socket is kept to peek at.
    fresh: BTreeMap<u64, Arc<TcpStream>>,
    /// Connections whose first chunk is not written yet, in the order they must be written.
    queue: VecDeque<u64>,
}

/// What reading a fresh connection's first bytes gave.
#[derive(Debug, PartialEq, Eq)]
pub enum FirstRead {
    /// This many bytes were appended to the buffer; the connection is queued.
    Bytes(usize),
    /// The client closed without sending anything.
    Eof,
    /// Nothing to read after all (a spurious wake-up): wait for readiness again.
    WouldBlock,
    /// Reading failed.
    Failed,
}

impl Sequencer {
    /// A sequencer whose waits last at most `max_wait`.
    pub fn new(max_wait: Duration) -> Self {
        Sequencer {
            inner: Mutex::new(Inner::default()),
            released: Notify::new(),
            max_wait,
            waited: AtomicU64::new(0),
            expired: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave `Inner` half-updated in a way that matters
        // (every update is one insert or remove), so a poisoned lock is used as is.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Registers a connection just accepted (call in accept order, before its task runs). The
    /// returned ticket removes it from the sequencer when dropped.
    pub fn register(self: &Arc<Self>, conn: u64, client: Arc<TcpStream>) -> Ticket {
        self.lock().fresh.insert(conn, client);
        Ticket {
            seq: self.clone(),
            conn,
            done: false,
        }
    }

    /// First chunks that had to wait for an earlier connection's.
    pub fn waited(&self) -> u64 {
        self.waited.load(Ordering::Relaxed)
    }

    /// Waits that ran out (`max_wait`): the first chunk went without its turn.
    pub fn expired(&self) -> u64 {
        self.expired.load(Ordering::Relaxed)
    }

    /// Connections registered and not done yet (for tests: back to 0 after a run).
    pub fn pending(&self) -> usize {
        let g = self.lock();
        g.fresh.len() + g.queue.len()
    }

    fn remove(&self, conn: u64) {
        {
            let mut g = self.lock();
            g.fresh.remove(&conn);
            g.queue.retain(|c| *c != conn);
        }
        self.released.notify_waiters();
    }
}

/// Whether `sock` has bytes waiting (a peek: nothing is consumed, tokio's readiness untouched).
fn has_bytes(sock: &TcpStream) -> bool {
    let mut one = [MaybeUninit::<u8>::uninit(); 1];
    matches!(socket2::SockRef::from(sock).peek(&mut one), Ok(n) if n > 0)
}

/// One connection's place in the [`Sequencer`] until its first chunk is written.
#[derive(Debug)]
pub struct Ticket {
    seq: Arc<Sequencer>,
    conn: u64,
    done: bool,
}

impl Ticket {
    /// Reads the connection's first bytes into `buf` (without blocking; call when the socket is
    /// readable) and, when there are some, queues the connection behind every first chunk seen
    /// before, and behind earlier-accepted connections whose bytes are already waiting.
    pub fn read_first(&self, client: &TcpStream, buf: &mut Vec<u8>) -> FirstRead {
        let mut g = self.seq.lock();
        let read = client.try_read_buf(buf);
        match read {
            Ok(0) => FirstRead::Eof,
            Ok(n) => {
                let Inner { fresh, queue } = &mut *g;
                fresh.remove(&self.conn);
                if !queue.contains(&self.conn) {
                    let earlier: Vec<u64> = fresh
                        .range(..self.conn)
                        .filter(|(_, s)| has_bytes(s))
                        .map(|(c, _)| *c)
                        .collect();
                    for c in earlier {
                        fresh.remove(&c);
                        queue.push_back(c);
                    }
                    queue.push_back(self.conn);
                }
                FirstRead::Bytes(n)
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => FirstRead::WouldBlock,
            Err(_) => FirstRead::Failed,
        }
    }

    /// Waits until every first chunk queued ahead of this connection's was written (bounded).
    pub async fn turn(&self) {
        let deadline = tokio::time::Instant::now() + self.seq.max_wait;
        let mut counted = false;
        loop {
            let notified = self.seq.released.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let first = {
                let g = self.seq.lock();
                g.queue.front().is_none_or(|c| *c == self.conn) || !g.queue.contains(&self.conn)
            };
            if first {
                return;
            }
            if !counted {
                counted = true;
                self.seq.waited.fetch_add(1, Ordering::Relaxed);
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                self.seq.expired.fetch_add(1, Ordering::Relaxed);
                return;
            }
        }
    }

    /// The first chunk was written (or will never be): the next connection may go.
    pub fn release(mut self) {
        self.done = true;
        self.seq.remove(self.conn);
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        if !self.done {
            self.seq.remove(self.conn);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;

    /// One accepted connection under test: the client end, the proxy's end and its ticket.
    struct Conn {
        c: TcpStream,
        s: Arc<TcpStream>,
        t: Ticket,
    }

    impl Conn {
        /// The client sends `bytes` and the proxy reads them as the first chunk.
        async fn send_first(&mut self, bytes: &[u8]) {
            self.c.write_all(bytes).await.unwrap();
            assert_eq!(
                read_ready(&self.t, &self.s).await,
                FirstRead::Bytes(bytes.len())
            );
        }
    }

    /// A sequencer with two connections accepted and registered in order (1, then 2).
    async fn two(max_wait: Duration) -> (Arc<Sequencer>, Conn, Conn) {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let seq = Arc::new(Sequencer::new(max_wait));
        let mut conns = Vec::new();
        for n in 1..=2 {
            let c = TcpStream::connect(l.local_addr().unwrap()).await.unwrap();
            let (s, _) = l.accept().await.unwrap();
            let s = Arc::new(s);
            let t = seq.register(n, s.clone());
            conns.push(Conn { c, s, t });
        }
        let c2 = conns.pop().unwrap();
        let c1 = conns.pop().unwrap();
        (seq, c1, c2)
    }

    async fn read_ready(t: &Ticket, s: &TcpStream) -> FirstRead {
        loop {
            s.readable().await.unwrap();
            let mut buf = Vec::with_capacity(64);
            match t.read_first(s, &mut buf) {
                FirstRead::WouldBlock => continue,
                r => return r,
            }
        }
    }

    /// Waits for `t`'s turn, failing the test if it does not come within 500 ms.
    async fn turn_soon(t: &Ticket, why: &str) {
        tokio::time::timeout(Duration::from_millis(500), t.turn())
            .await
            .expect(why);
    }

    /// Whether `t`'s turn is still not there after 100 ms.
    async fn still_waiting(t: &Ticket) -> bool {
        tokio::time::timeout(Duration::from_millis(100), t.turn())
            .await
            .is_err()
    }

    /// The issue-14 race: connection 1's bytes arrive first, but connection 2's task reads first.
    /// Connection 2 must still wait for connection 1's first chunk.
    #[tokio::test]
    async fn bytes_waiting_on_an_earlier_connection_go_first_whoever_reads_first() {
        let (seq, mut c1, mut c2) = two(Duration::from_secs(5)).await;
        c1.c.write_all(b"GET").await.unwrap();
        // Let both arrive before anyone reads.
        c1.s.readable().await.unwrap();
        c2.send_first(b"POST").await;
        assert!(
            still_waiting(&c2.t).await,
            "connection 2 went before connection 1"
        );
        assert_eq!(read_ready(&c1.t, &c1.s).await, FirstRead::Bytes(3));
        c1.t.turn().await;
        c1.t.release();
        turn_soon(&c2.t, "connection 2 may go once 1 was written").await;
        c2.t.release();
        assert_eq!(seq.pending(), 0);
        assert_eq!(seq.expired(), 0);
    }

    /// An earlier connection that has sent nothing does not hold a later one back.
    #[tokio::test]
    async fn an_idle_earlier_connection_does_not_block_a_later_one() {
        let (seq, _c1, mut c2) = two(Duration::from_secs(5)).await;
        c2.send_first(b"POST").await;
        turn_soon(&c2.t, "nothing ahead").await;
        c2.t.release();
        assert_eq!(seq.pending(), 1);
        assert_eq!(seq.waited(), 0);
    }

    /// A connection that read first but is not written yet holds back one that reads later, and
    /// a dropped ticket (its connection failed) lets the next one go.
    #[tokio::test]
    async fn queued_first_chunks_go_in_read_order_and_a_dropped_ticket_releases() {
        let (seq, mut c1, mut c2) = two(Duration::from_secs(5)).await;
        c2.send_first(b"a").await;
        c1.send_first(b"b").await;
        // 2 read first: 1 waits for it.
        assert!(still_waiting(&c1.t).await);
        drop(c2);
        turn_soon(&c1.t, "2 is gone").await;
        c1.t.release();
        assert_eq!(seq.pending(), 0);
    }

    /// A wait is bounded: past `max_wait` the chunk goes and the expiry is counted.
    #[tokio::test]
    async fn a_wait_is_bounded_and_counted() {
        let (seq, mut c1, mut c2) = two(Duration::from_millis(50)).await;
        c1.send_first(b"x").await;
        c2.send_first(b"y").await;
        c2.t.turn().await;
        assert_eq!((seq.waited(), seq.expired()), (1, 1));
        drop((c1, c2));
        assert_eq!(seq.pending(), 0);
    }
}
