//! The relay: a transparent TCP proxy on tokio, one task per connection, two directions each.
//!
//! Each direction reads into its own buffer ([`ProxyConfig::buffer_size`], 128 KiB by default: a
//! relay with 8 KiB buffers moved half the bytes per second on this kind of machine), writes the
//! whole chunk to the other side before reading again (so a slow reader slows its writer through
//! TCP flow control instead of making the proxy buffer: memory is two buffers per connection),
//! then offers a copy of the chunk to the observers without waiting (see [`super::observe`]).
//! Bytes go through unchanged unless a `--fault` says otherwise; WebSocket and
//! permessage-deflate are not terminated.
//!
//! A connection ends when both directions ended (FIN forwarded as a half-close), when either
//! side's socket fails (the other is then closed too), when a fault cuts it, or when the run ends
//! (Ctrl-C, `--duration`): then every connection is closed and reported as ended at shutdown.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;
use tokio::time::{timeout, Instant};
use tokio_rustls::rustls::pki_types::ServerName;
use tokio_rustls::TlsConnector;

use super::fault::FaultPlan;
use super::note::{now, Note};
use super::observe::Counters;
use super::order::{FirstRead, Sequencer, Ticket};
use super::shaper::{C2sShaper, ConnFaultState, S2cShaper, Shaped};
use crate::event::Dir;

/// Settings of the relay.
#[derive(Debug, Clone)]
pub struct ProxyConfig {
    /// The upstream as `host:port`.
    pub upstream: String,
    /// Faults to inject.
    pub faults: FaultPlan,
    /// Stop accepting after this many connections (and end when they are done).
    pub max_connections: Option<u64>,
    /// Read buffer per direction.
    pub buffer_size: usize,
    /// How long connecting to the upstream (TCP and TLS) may take.
    pub connect_timeout: Duration,
    /// Wait for the recorder instead of dropping chunks (set when recording).
    pub lossless: bool,
    /// How long connections may take to close at the end of the run.
    pub shutdown_grace: Duration,
}

impl Default for ProxyConfig {
    fn default() -> Self {
        ProxyConfig {
            upstream: String::new(),
            faults: FaultPlan::default(),
            max_connections: None,
            buffer_size: 128 * 1024,
            connect_timeout: Duration::from_secs(10),
            lossless: false,
            shutdown_grace: Duration::from_secs(3),
        }
    }
}

/// Totals of a run.
#[derive(Debug, Default)]
pub struct RelayStats {
    /// Client connections accepted.
    pub accepted: AtomicU64,
    /// Connections whose upstream could not be reached.
    pub failed: AtomicU64,
    /// Bytes forwarded client→server.
    pub c2s_bytes: AtomicU64,
    /// Bytes forwarded server→client.
    pub s2c_bytes: AtomicU64,
    /// First chunks that waited for an earlier connection's to be written (order kept).
    pub order_waited: AtomicU64,
    /// First chunks whose wait for an earlier connection's ran out (order possibly not kept).
    pub order_expired: AtomicU64,
}

/// Upstream TLS, ready to use.
#[derive(Clone)]
pub struct TlsUpstream {
    /// The connector.
    pub connector: TlsConnector,
    /// The server name sent and verified.
    pub name: ServerName<'static>,
}

struct Ctx {
    cfg: ProxyConfig,
    tls: Option<TlsUpstream>,
    notes: mpsc::Sender<Note>,
    counters: Arc<Counters>,
    stats: Arc<RelayStats>,
}

impl Ctx {
    /// Lifecycle notes always arrive (they wait for room).
    async fn lifecycle(&self, n: Note) {
        let _ = self.notes.send(n).await;
    }

    /// Offers forwarded bytes to the observers: a copy or, for large chunks, the read buffer
    /// itself (the reader gets a recycled one).
    async fn data(
        &self,
        conn: u64,
        dir: Dir,
        offset: u64,
        bytes: Chunk<'_>,
        comment: Option<String>,
    ) {
        let ts = now();
        if self.cfg.lossless {
            let bytes = bytes.into_vec(&self.counters, self.cfg.buffer_size);
            self.counters
                .inflight
                .fetch_add(bytes.capacity(), Ordering::AcqRel);
            let note = Note::Data {
                conn,
                dir,
                offset,
                bytes,
                ts,
                comment,
            };
            let _ = self.notes.send(note).await;
            return;
        }
        // Never await here: no room means the chunk is counted, not decoded.
        let permit = match self.notes.try_reserve() {
            Ok(p) if self.counters.reserve(bytes.weight()) => p,
            _ => {
                self.counters.dropped(bytes.len());
                if comment.is_some() {
                    // A fault must still be told: lifecycle path.
                    self.lifecycle(Note::Injected {
                        conn,
                        dir,
                        offset,
                        ts,
                        comment: comment.unwrap_or_default(),
                    })
                    .await;
                }
                return;
            }
        };
        let bytes = bytes.into_vec(&self.counters, self.cfg.buffer_size);
        permit.send(Note::Data {
            conn,
            dir,
            offset,
            bytes,
            ts,
            comment,
        });
    }
}

/// Chunks at least this large are handed over by swapping buffers instead of copying.
const SWAP_MIN: usize = 16 * 1024;

/// Bytes to hand to the observers.
enum Chunk<'a> {
    /// Copy these.
    Copy(&'a [u8]),
    /// Take this read buffer (its content is the chunk); the reader gets a recycled one.
    Swap(&'a mut Vec<u8>),
}

impl Chunk<'_> {
    fn len(&self) -> usize {
        match self {
            Chunk::Copy(b) => b.len(),
            Chunk::Swap(v) => v.len(),
        }
    }
    fn weight(&self) -> usize {
        match self {
            Chunk::Copy(b) => b.len(),
            Chunk::Swap(v) => v.capacity(),
        }
    }
    fn into_vec(self, pool: &Counters, size: usize) -> Vec<u8> {
        match self {
            Chunk::Copy(b) => b.to_vec(),
            Chunk::Swap(v) => std::mem::replace(v, pool.take_buffer(size)),
        }
    }
}

/// How one direction ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    /// The sender closed (FIN), forwarded.
    Eof,
    /// Reading or writing failed.
    Failed,
    /// Cut by a fault or by the other direction's failure.
    Cut,
    /// The run ended.
    Shutdown,
}

enum Shaper {
    C2s(C2sShaper),
    S2c(S2cShaper),
}

impl Shaper {
    fn shape(&mut self, plan: &FaultPlan, st: &ConnFaultState, chunk: &[u8]) -> Shaped {
        match self {
            Shaper::C2s(s) => s.shape(plan, st, chunk),
            Shaper::S2c(s) => s.shape(plan, st, chunk),
        }
    }
}

struct Pump<'a> {
    ctx: &'a Ctx,
    conn: u64,
    dir: Dir,
    faults: &'a ConnFaultState,
    cut: &'a watch::Sender<bool>,
    /// Subscribed before either direction runs, so that a cut is never missed.
    cut_rx: watch::Receiver<bool>,
    deadline: Option<Instant>,
}

impl Pump<'_> {
    /// Relays one direction. `buf` already holds `pre` bytes read before the relay started (the
    /// first chunk, read by the connection's set-up); `gate` is the connection's place in the
    /// cross-connection order, waited for before that first chunk is written and then released.
    async fn run<R, W>(
        &self,
        mut r: R,
        mut w: W,
        mut stop: watch::Receiver<bool>,
        start: Start,
    ) -> End
    where
        R: AsyncRead + Unpin,
        W: AsyncWrite + Unpin,
    {
        let plan = &self.ctx.cfg.faults;
        let inspect = plan.inspects_bytes();
        let mut shaper = match self.dir {
            Dir::C2S => Shaper::C2s(C2sShaper::default()),
            Dir::S2C => Shaper::S2c(S2cShaper::default()),
        };
        let mut cut_rx = self.cut_rx.clone();
        let Start {
            mut buf,
            mut pre,
            mut gate,
        } = start;
        let mut offset = 0u64;
        let end = loop {
            let deadline = self.deadline;
            let read = if let Some(n) = pre.take() {
                Ok(n)
            } else {
                tokio::select! {
                biased;
                _ = stop.changed() => break End::Shutdown,
                _ = cut_rx.changed() => break End::Cut,
                _ = sleep_opt(deadline) => {
                    // Whichever direction notices first reports the cut, once.
                    let first = self.cut.send_if_modified(|v| !std::mem::replace(v, true));
                    if first {
                        self.ctx.lifecycle(Note::Injected {
                            conn: self.conn,
                            dir: self.dir,
                            offset,
                            ts: now(),
                            comment: format!(
                                "sioscope injected fault: drop-after:{}ms — connection cut",
                                plan.drop_after_time.map_or(0, |d| d.as_millis())
                            ),
                        }).await;
                    }
                    break End::Cut;
                }
                r = {
                    buf.clear();
                    r.read_buf(&mut buf)
                } => r,
                }
            };
            let n = match read {
                Ok(0) => {
                    let _ = timeout(Duration::from_secs(1), w.shutdown()).await;
                    break End::Eof;
                }
                Ok(n) => n,
                Err(_) => break End::Failed,
            };
            let chunk = buf.get(..n).unwrap_or(&[]);
            if let Some(d) = plan.delay {
                tokio::select! {
                    _ = stop.changed() => break End::Shutdown,
                    _ = tokio::time::sleep(d) => {}
                }
            }
            let shaped;
            let (out, injected, cut): (&[u8], _, bool) = if inspect {
                shaped = shaper.shape(plan, self.faults, chunk);
                (&shaped.bytes, shaped.injected.as_slice(), shaped.cut)
            } else {
                (chunk, &[][..], false)
            };
            // Only the first chunk has a gate; dropping it lets the next connection's go.
            let gate_now = gate.take();
            if !out.is_empty() {
                if let Some(g) = &gate_now {
                    tokio::select! {
                        biased;
                        _ = stop.changed() => break End::Shutdown,
                        _ = cut_rx.changed() => break End::Cut,
                        _ = g.turn() => {}
                    }
                }
                let wrote = tokio::select! {
                    _ = stop.changed() => break End::Shutdown,
                    _ = cut_rx.changed() => break End::Cut,
                    w = async {
                        w.write_all(out).await?;
                        if gate_now.is_some() {
                            // Out of any TLS buffer and into the socket before the next goes.
                            w.flush().await?;
                        }
                        Ok::<(), std::io::Error>(())
                    } => w,
                };
                if wrote.is_err() {
                    break End::Failed;
                }
            }
            drop(gate_now);
            let counter = match self.dir {
                Dir::C2S => &self.ctx.stats.c2s_bytes,
                Dir::S2C => &self.ctx.stats.s2c_bytes,
            };
            counter.fetch_add(out.len() as u64, Ordering::Relaxed);
            // Faults that acted with no bytes forwarded are notes of their own.
            let (with_bytes, without): (Vec<_>, Vec<_>) = injected
                .iter()
                .partition(|i| !out.is_empty() && i.offset_in_chunk < out.len());
            for i in without {
                self.ctx
                    .lifecycle(Note::Injected {
                        conn: self.conn,
                        dir: self.dir,
                        offset: offset + i.offset_in_chunk.min(out.len()) as u64,
                        ts: now(),
                        comment: i.comment.clone(),
                    })
                    .await;
            }
            if !out.is_empty() {
                let comment = (!with_bytes.is_empty()).then(|| {
                    with_bytes
                        .iter()
                        .map(|i| i.comment.as_str())
                        .collect::<Vec<_>>()
                        .join("; ")
                });
                let len = out.len() as u64;
                let chunk = if !inspect && out.len() >= SWAP_MIN {
                    buf.truncate(n);
                    Chunk::Swap(&mut buf)
                } else {
                    Chunk::Copy(out)
                };
                self.ctx
                    .data(self.conn, self.dir, offset, chunk, comment)
                    .await;
                offset += len;
            }
            if cut {
                let _ = self.cut.send(true);
                break End::Cut;
            }
        };
        // Close this direction's sockets before telling the observers: a lifecycle note may wait
        // for a decoder that is behind, and the peers must not wait for it.
        drop(r);
        drop(w);
        match end {
            End::Eof | End::Cut | End::Shutdown => {
                self.ctx
                    .lifecycle(Note::Fin {
                        conn: self.conn,
                        dir: self.dir,
                        offset,
                        ts: now(),
                    })
                    .await
            }
            End::Failed => {
                // One side failed: close the other too.
                let _ = self.cut.send(true);
                self.ctx
                    .lifecycle(Note::Rst {
                        conn: self.conn,
                        dir: self.dir,
                        offset,
                        ts: now(),
                    })
                    .await
            }
        }
        end
    }
}

/// Both addresses in one family: a v4 address beside a v6 one becomes v4-mapped v6
/// (`::ffff:a.b.c.d`), so that the recording's packets of both directions belong to one flow.
fn same_family(a: SocketAddr, b: SocketAddr) -> (SocketAddr, SocketAddr) {
    let mapped = |x: SocketAddr| match x {
        SocketAddr::V4(v4) => SocketAddr::from((v4.ip().to_ipv6_mapped(), v4.port())),
        v6 => v6,
    };
    if a.is_ipv4() == b.is_ipv4() {
        (a, b)
    } else {
        (mapped(a), mapped(b))
    }
}

async fn sleep_opt(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

/// An upstream connection as the accept loop started it.
enum Dial {
    /// The connect was issued on accept (the upstream is an address): it completes in the task.
    Started(std::io::Result<TcpStream>, SocketAddr),
    /// The upstream is a name: the task resolves it and connects.
    Lookup,
}

/// `connect(2)` of a non-blocking socket: "The socket is nonblocking and the connection cannot be
/// completed immediately" (`ErrorKind::InProgress` is not stable yet).
#[cfg(target_os = "linux")]
const EINPROGRESS: i32 = 115;
#[cfg(not(target_os = "linux"))]
const EINPROGRESS: i32 = 36;

/// Issues a non-blocking connect to `addr` now, so that the upstream sees connections in the
/// order the proxy accepted them (a server accepts, then reads, in SYN order; a later
/// connection dialled first could be served first even though its bytes are written later).
fn dial(addr: SocketAddr) -> std::io::Result<TcpStream> {
    let sock = socket2::Socket::new(
        socket2::Domain::for_address(addr),
        socket2::Type::STREAM,
        Some(socket2::Protocol::TCP),
    )?;
    sock.set_nonblocking(true)?;
    match sock.connect(&addr.into()) {
        Ok(()) => {}
        Err(e)
            if e.raw_os_error() == Some(EINPROGRESS)
                || e.kind() == std::io::ErrorKind::WouldBlock => {}
        Err(e) => return Err(e),
    }
    TcpStream::from_std(std::net::TcpStream::from(sock))
}

/// Waits for a connect issued by [`dial`] to complete.
async fn dialled(s: TcpStream) -> std::io::Result<TcpStream> {
    s.writable().await?;
    if let Some(e) = s.take_error()? {
        return Err(e);
    }
    s.peer_addr()?;
    Ok(s)
}

async fn connect_upstream(ctx: &Ctx, dial: Dial) -> Result<(TcpStream, SocketAddr), String> {
    let up = &ctx.cfg.upstream;
    let fut = async {
        if let Dial::Started(s, a) = dial {
            return match s {
                Ok(s) => dialled(s).await,
                Err(e) => Err(e),
            }
            .map(|s| (s, a))
            .map_err(|e| format!("upstream {a} unreachable: {e}"));
        }
        let addrs: Vec<SocketAddr> = tokio::net::lookup_host(up.as_str())
            .await
            .map_err(|e| format!("cannot resolve upstream {up}: {e}"))?
            .take(8)
            .collect();
        let mut last = format!("upstream {up} has no address");
        for a in addrs {
            match TcpStream::connect(a).await {
                Ok(s) => return Ok((s, a)),
                Err(e) => last = format!("upstream {a} unreachable: {e}"),
            }
        }
        Err(last)
    };
    match timeout(ctx.cfg.connect_timeout, fut).await {
        Ok(r) => r,
        Err(_) => Err(format!(
            "upstream {up} unreachable: no answer within {} s",
            ctx.cfg.connect_timeout.as_secs()
        )),
    }
}

/// What a direction starts with: its buffer, bytes already read into it, the first-chunk gate.
struct Start {
    buf: Vec<u8>,
    pre: Option<usize>,
    gate: Option<Ticket>,
}

/// The upstream, once connected (and TLS done).
enum Upstream {
    Plain(TcpStream),
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
}

/// Connects to the upstream and does the TLS handshake when asked; the error is the log line.
async fn open_upstream(ctx: &Ctx, dial: Dial) -> Result<(Upstream, SocketAddr), String> {
    let (upstream, server_addr) = connect_upstream(ctx, dial).await?;
    let Some(tls) = &ctx.tls else {
        return Ok((Upstream::Plain(upstream), server_addr));
    };
    let hs = timeout(
        ctx.cfg.connect_timeout,
        tls.connector.connect(tls.name.clone(), upstream),
    )
    .await;
    match hs {
        Ok(Ok(s)) => Ok((Upstream::Tls(Box::new(s)), server_addr)),
        Ok(Err(e)) => Err(format!(
            "TLS handshake with upstream {server_addr} failed: {e}"
        )),
        Err(_) => Err(format!(
            "TLS handshake with upstream {server_addr}: no answer within {} s",
            ctx.cfg.connect_timeout.as_secs()
        )),
    }
}

/// Reads the client's first bytes when they come (`Some(n)` once read; `None` while there are
/// none, and also after the client closed or failed: the relay's own read then sees that again).
async fn first_bytes(ticket: &Ticket, client: &TcpStream, buf: &mut Vec<u8>) -> Option<usize> {
    loop {
        if client.readable().await.is_err() {
            return None;
        }
        match ticket.read_first(client, buf) {
            FirstRead::Bytes(n) => return Some(n),
            FirstRead::WouldBlock => continue,
            FirstRead::Eof | FirstRead::Failed => return None,
        }
    }
}

/// Reads the upstream's first bytes, for a server that speaks first (`Some(n)` once read; `None`
/// when it closed or failed).
async fn upstream_first<U: AsyncRead + Unpin>(up: &mut U, buf: &mut Vec<u8>) -> Option<usize> {
    match up.read_buf(buf).await {
        Ok(n) if n > 0 => Some(n),
        _ => None,
    }
}

async fn connection(
    ctx: Arc<Ctx>,
    conn: u64,
    client: Arc<TcpStream>,
    ticket: Ticket,
    dial: Dial,
    client_addr: SocketAddr,
    mut stop: watch::Receiver<bool>,
) {
    let size = ctx.cfg.buffer_size.max(1024);
    let mut c2s = ctx.counters.take_buffer(size);
    let mut s2c = ctx.counters.take_buffer(size);
    // Set-up: connect upstream while the client's first bytes are read (and queued in the
    // cross-connection order, see `super::order`), then, if the client has said nothing yet, wait
    // for whichever side speaks first.
    let mut c2s_pre = None;
    let mut client_done = false;
    let opened = {
        let opening = open_upstream(&ctx, dial);
        tokio::pin!(opening);
        loop {
            tokio::select! {
                _ = stop.changed() => return,
                r = &mut opening => break r,
                n = first_bytes(&ticket, &client, &mut c2s), if !client_done => {
                    c2s_pre = n;
                    client_done = true;
                }
            }
        }
    };
    let (mut upstream, server_addr) = match opened {
        Ok(x) => x,
        Err(error) => {
            ctx.stats.failed.fetch_add(1, Ordering::Relaxed);
            let error = format!("client {client_addr}: {error}; closed the client connection");
            ctx.lifecycle(Note::Failed {
                conn,
                client: client_addr,
                ts: now(),
                error,
            })
            .await;
            // Dropping the client socket closes it.
            return;
        }
    };
    let mut s2c_pre = None;
    if !client_done {
        let server_first = async {
            match &mut upstream {
                Upstream::Plain(s) => upstream_first(s, &mut s2c).await,
                Upstream::Tls(s) => upstream_first(s, &mut s2c).await,
            }
        };
        tokio::select! {
            _ = stop.changed() => return,
            n = first_bytes(&ticket, &client, &mut c2s) => c2s_pre = n,
            n = server_first => s2c_pre = n,
        }
    }
    // Without first client bytes there is nothing to keep in order.
    let gate = c2s_pre.is_some().then_some(ticket);
    let Ok(client) = Arc::try_unwrap(client) else {
        // Unreachable: the sequencer gives the socket back once the first bytes are read or
        // the ticket is dropped.
        return;
    };
    let _ = client.set_nodelay(true);
    let (client_addr, server_addr) = same_family(client_addr, server_addr);
    ctx.lifecycle(Note::Open {
        conn,
        client: client_addr,
        server: server_addr,
        ts: now(),
    })
    .await;
    let faults = ConnFaultState::default();
    let (cut, _) = watch::channel(false);
    let deadline = ctx.cfg.faults.drop_after_time.map(|d| Instant::now() + d);
    let pump = |dir| Pump {
        ctx: &ctx,
        conn,
        dir,
        faults: &faults,
        cut: &cut,
        cut_rx: cut.subscribe(),
        deadline,
    };
    let (p1, p2) = (pump(Dir::C2S), pump(Dir::S2C));
    let c2s = Start {
        buf: c2s,
        pre: c2s_pre,
        gate,
    };
    let s2c = Start {
        buf: s2c,
        pre: s2c_pre,
        gate: None,
    };
    let (cr, cw) = client.into_split();
    match upstream {
        Upstream::Plain(upstream) => {
            let _ = upstream.set_nodelay(true);
            let (ur, uw) = upstream.into_split();
            tokio::join!(
                p1.run(cr, uw, stop.clone(), c2s),
                p2.run(ur, cw, stop.clone(), s2c)
            );
        }
        Upstream::Tls(stream) => {
            let _ = stream.get_ref().0.set_nodelay(true);
            let (ur, uw) = tokio::io::split(*stream);
            tokio::join!(
                p1.run(cr, uw, stop.clone(), c2s),
                p2.run(ur, cw, stop.clone(), s2c)
            );
        }
    }
    let at_shutdown = *stop.borrow();
    ctx.lifecycle(Note::Close {
        conn,
        ts: now(),
        at_shutdown,
    })
    .await;
}

/// Accepts and relays connections until `stop` completes (or `max_connections` were accepted and
/// are done), then closes every connection within the configured grace time.
///
/// `notes` is dropped at the end, which ends the observers.
pub async fn relay<F>(
    listener: TcpListener,
    cfg: ProxyConfig,
    tls: Option<TlsUpstream>,
    notes: mpsc::Sender<Note>,
    counters: Arc<Counters>,
    stop: F,
) -> Arc<RelayStats>
where
    F: std::future::Future<Output = ()>,
{
    let stats = Arc::new(RelayStats::default());
    let grace = cfg.shutdown_grace;
    let max = cfg.max_connections;
    // A first chunk waits at most as long as an earlier connection's set-up and delay may take.
    let max_wait =
        cfg.connect_timeout * 2 + cfg.faults.delay.unwrap_or_default() + Duration::from_secs(1);
    let order = Arc::new(Sequencer::new(max_wait));
    // An address upstream is dialled on accept, in accept order; a name is resolved per connection.
    let literal: Option<SocketAddr> = cfg.upstream.parse().ok();
    let ctx = Arc::new(Ctx {
        cfg,
        tls,
        notes,
        counters,
        stats: stats.clone(),
    });
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut tasks = JoinSet::new();
    let mut next = 0u64;
    tokio::pin!(stop);
    loop {
        if max.is_some_and(|m| next >= m) {
            // Every allowed connection was accepted: wait for them (or the stop).
            tokio::select! {
                _ = &mut stop => break,
                r = tasks.join_next() => if r.is_none() { break },
            }
            continue;
        }
        tokio::select! {
            _ = &mut stop => break,
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
            acc = listener.accept() => match acc {
                Ok((sock, addr)) => {
                    next += 1;
                    stats.accepted.fetch_add(1, Ordering::Relaxed);
                    // Registered here, in accept order, before the task runs.
                    let sock = Arc::new(sock);
                    let ticket = order.register(next, sock.clone());
                    let dial = match literal {
                        Some(a) => Dial::Started(dial(a), a),
                        None => Dial::Lookup,
                    };
                    tasks.spawn(connection(ctx.clone(), next, sock, ticket, dial, addr, stop_rx.clone()));
                }
                Err(_) => {
                    // Out of descriptors and the like: wait a little instead of spinning.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
        }
    }
    drop(listener);
    let _ = stop_tx.send(true);
    let _ = timeout(grace, async { while tasks.join_next().await.is_some() {} }).await;
    tasks.abort_all();
    while tasks.join_next().await.is_some() {}
    stats.order_waited.store(order.waited(), Ordering::Relaxed);
    stats
        .order_expired
        .store(order.expired(), Ordering::Relaxed);
    stats
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mixed_families_become_v4_mapped_v6() {
        let c: SocketAddr = "127.0.0.1:5000".parse().unwrap();
        let s: SocketAddr = "[::1]:3000".parse().unwrap();
        let (a, b) = same_family(c, s);
        assert_eq!(a, "[::ffff:127.0.0.1]:5000".parse::<SocketAddr>().unwrap());
        assert_eq!(b, s);
        let s4: SocketAddr = "127.0.0.1:3000".parse().unwrap();
        assert_eq!(same_family(c, s4), (c, s4));
    }
}
