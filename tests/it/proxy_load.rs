//! `sioscope proxy` under load and faults (issue #14), on 127.0.0.1 only, bounded.
//!
//! The peer is a fast raw one in this process, not a real socket.io server: 10 000 connections
//! through node would take minutes on the project's 2 shared cores. Both ends follow one script
//! per connection (derived from its number) made of Engine.IO-shaped traffic: HTTP long-polling
//! (handshake, CONNECT, EVENT payloads, a POST), WebSocket (upgrade, masked client frames, server
//! frames) and WebSocket with permessage-deflate (server frames compressed, RSV1). Each side hashes
//! what it sent and what it got: the relay must deliver every byte unchanged. The proxy runs as
//! its own process (the real binary), so its descriptors and memory are read from
//! `/proc/PID/{fd,status}`.
//!
//! Faults mixed in: clients that never read (a flood they do not drain), an upstream that resets
//! mid-response, every client half-closing and then reading the upstream's last bytes, an upstream
//! that is down (second proxy), and Ctrl-C while transfers are in flight (with a recording that
//! must then decode to the live view's events).

use std::collections::HashMap;
use std::io::Write as _;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use flate2::{Compress, Compression, FlushCompress};
use serde_json::Value;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::support::{free_port, json_lines, proxy, Kill};
use crate::common::sioscope;

/// FNV-1a, 64 bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Hash(u64, u64);

impl Hash {
    fn new() -> Self {
        Hash(0xcbf2_9ce4_8422_2325, 0)
    }
    fn add(&mut self, data: &[u8]) {
        for b in data {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x100_0000_01b3);
        }
        self.1 += data.len() as u64;
    }
    fn of(parts: &[Vec<u8>]) -> Self {
        let mut h = Hash::new();
        for p in parts {
            h.add(p);
        }
        h
    }
}

/// Deterministic printable text of `n` bytes.
fn text(seed: u64, n: usize) -> String {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            char::from(b'a' + (x % 26) as u8)
        })
        .collect()
}

fn http_ok(body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// A WebSocket frame: FIN, `opcode`, RSV1 when `rsv1`, masked with `mask` when given.
fn ws_frame(opcode: u8, rsv1: bool, payload: &[u8], mask: Option<[u8; 4]>) -> Vec<u8> {
    let mut f = vec![0x80 | opcode | if rsv1 { 0x40 } else { 0 }];
    let m = if mask.is_some() { 0x80 } else { 0 };
    match payload.len() {
        n @ 0..=125 => f.push(m | n as u8),
        n @ 126..=65535 => {
            f.push(m | 126);
            f.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            f.push(m | 127);
            f.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    match mask {
        Some(k) => {
            f.extend_from_slice(&k);
            f.extend(payload.iter().enumerate().map(|(i, b)| b ^ k[i % 4]));
        }
        None => f.extend_from_slice(payload),
    }
    f
}

/// One message compressed as permessage-deflate does (RFC 7692 §7.2.1: a sync flush, and the
/// trailing `00 00 ff ff` removed), with a fresh context (no context takeover).
fn deflate(msg: &[u8]) -> Vec<u8> {
    let mut c = Compress::new(Compression::default(), false);
    let mut out = Vec::with_capacity(msg.len() + 64);
    // Bounded: each call either consumes input or fills output.
    for _ in 0..64 {
        let before = c.total_in() as usize;
        let _ = c.compress_vec(&msg[before..], &mut out, FlushCompress::Sync);
        if c.total_in() as usize == msg.len() && out.ends_with(&[0, 0, 0xff, 0xff]) {
            break;
        }
        out.reserve(1024);
    }
    out.truncate(out.len().saturating_sub(4));
    out
}

/// What both ends of connection `id` send: rounds of (client bytes, server bytes), and the
/// server's bytes after the client's FIN.
struct Script {
    rounds: Vec<(Vec<u8>, Vec<u8>)>,
    tail: Vec<u8>,
}

const KINDS: u64 = 3;

fn script(id: u64) -> Script {
    let sid = format!("s{id:019}");
    let n = 2 + (id % 4) as usize;
    let size = |r: usize| 20 + (id as usize).wrapping_mul(7919).wrapping_add(r * 104_729) % 6000;
    let mut rounds = vec![];
    match id % KINDS {
        0 => {
            for r in 0..n {
                let q = format!("/socket.io/?EIO=4&transport=polling&t={id}");
                let (c, s) = match r {
                    0 => (
                        format!("GET {q} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").into_bytes(),
                        http_ok(&format!(
                            "0{{\"sid\":\"{sid}\",\"upgrades\":[],\"pingInterval\":25000,\"pingTimeout\":20000,\"maxPayload\":1000000}}"
                        )),
                    ),
                    r if r + 1 == n => {
                        let body = format!("42[\"up\",\"{}\"]", text(id + r as u64, size(r)));
                        (
                            format!(
                                "POST {q}&sid={sid} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain;charset=UTF-8\r\nContent-Length: {}\r\n\r\n{body}",
                                body.len()
                            )
                            .into_bytes(),
                            http_ok("ok"),
                        )
                    }
                    1 => (
                        format!("GET {q}&sid={sid} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                            .into_bytes(),
                        http_ok(&format!("40{{\"sid\":\"n{id}\"}}")),
                    ),
                    r => (
                        format!("GET {q}&sid={sid} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                            .into_bytes(),
                        http_ok(&format!(
                            "42[\"down\",\"{}\"]\u{1e}42[\"more\",{r}]",
                            text(id ^ r as u64, size(r))
                        )),
                    ),
                };
                rounds.push((c, s));
            }
            Script {
                rounds,
                tail: vec![],
            }
        }
        kind => {
            let deflated = kind == 2;
            let ext = if deflated {
                "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
            } else {
                ""
            };
            rounds.push((
                format!(
                    "GET /socket.io/?EIO=4&transport=websocket&t={id} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n{ext}\r\n"
                )
                .into_bytes(),
                {
                    let mut s = format!(
                        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n{}\r\n",
                        if deflated {
                            "Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; client_no_context_takeover\r\n"
                        } else {
                            ""
                        }
                    )
                    .into_bytes();
                    let open = format!(
                        "0{{\"sid\":\"{sid}\",\"upgrades\":[],\"pingInterval\":25000,\"pingTimeout\":20000,\"maxPayload\":1000000}}"
                    );
                    s.extend(ws_frame(1, false, open.as_bytes(), None));
                    s
                },
            ));
            let mask = [id as u8, 0x5a, (id >> 8) as u8, 0xa5];
            for r in 1..n {
                let up = format!("42[\"up\",\"{}\"]", text(id + r as u64, size(r)));
                let down = format!("42[\"down\",\"{}\"]", text(id ^ r as u64, size(r)));
                let s = if deflated {
                    ws_frame(1, true, &deflate(down.as_bytes()), None)
                } else {
                    ws_frame(1, false, down.as_bytes(), None)
                };
                rounds.push((ws_frame(1, false, up.as_bytes(), Some(mask)), s));
            }
            // The client closes; the server answers the close after the client's FIN.
            rounds.push((ws_frame(8, false, &[0x03, 0xe8], Some(mask)), vec![]));
            Script {
                rounds,
                tail: ws_frame(8, false, &[0x03, 0xe8], None),
            }
        }
    }
}

/// What the peer saw of one connection.
#[derive(Debug, Clone, Copy)]
struct Seen {
    got: Hash,
    sent: Hash,
}

#[derive(Default)]
struct Peer {
    seen: Mutex<HashMap<u64, Seen>>,
    open: AtomicUsize,
    peak_open: AtomicUsize,
    accepted: AtomicU64,
}

/// Reads up to and including the first `\r\n\r\n` (bounded), hashing it.
async fn read_head<R: AsyncRead + Unpin>(r: &mut R, h: &mut Hash) -> Option<Vec<u8>> {
    let mut head = Vec::new();
    let mut b = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() > 16 * 1024 || r.read(&mut b).await.ok()? == 0 {
            return None;
        }
        head.push(b[0]);
    }
    h.add(&head);
    Some(head)
}

fn id_of(head: &[u8]) -> Option<u64> {
    let line = std::str::from_utf8(head).ok()?.lines().next()?;
    let t = line
        .split(['?', '&', ' '])
        .find_map(|p| p.strip_prefix("t="))?;
    t.parse().ok()
}

/// The raw upstream: follows each connection's script, or floods (`/flood`), or resets
/// mid-response (`/reset`).
async fn peer_conn(peer: Arc<Peer>, mut s: TcpStream) {
    let now = peer.open.fetch_add(1, Ordering::SeqCst) + 1;
    peer.peak_open.fetch_max(now, Ordering::SeqCst);
    let _ = s.set_nodelay(true);
    let mut got = Hash::new();
    let mut sent = Hash::new();
    if let Some(head) = read_head(&mut s, &mut got).await {
        let id = id_of(&head).unwrap_or(u64::MAX);
        if head.starts_with(b"GET /flood") {
            // Writes until the client's side stops taking bytes for 3 s, or 64 MiB.
            let chunk = vec![b'x'; 64 * 1024];
            for _ in 0..1024 {
                match tokio::time::timeout(Duration::from_secs(3), s.write_all(&chunk)).await {
                    Ok(Ok(())) => sent.add(&chunk),
                    _ => break,
                }
            }
        } else if head.starts_with(b"GET /reset") {
            let part = text(id, 10_000).into_bytes();
            if s.write_all(&part).await.is_ok() {
                sent.add(&part);
            }
            // Give the bytes time to leave, then reset (SO_LINGER 0 makes close send RST).
            tokio::time::sleep(Duration::from_millis(20)).await;
            let _ = socket2::SockRef::from(&s).set_linger(Some(Duration::ZERO));
            drop(s);
            peer.seen.lock().unwrap().insert(id, Seen { got, sent });
            peer.open.fetch_sub(1, Ordering::SeqCst);
            return;
        } else {
            let sc = script(id);
            let mut ok = true;
            for (i, (c, sv)) in sc.rounds.iter().enumerate() {
                if i > 0 {
                    let mut buf = vec![0u8; c.len()];
                    if s.read_exact(&mut buf).await.is_err() {
                        ok = false;
                        break;
                    }
                    got.add(&buf);
                } else if head.len() != c.len() {
                    ok = false;
                    break;
                }
                if s.write_all(sv).await.is_err() {
                    ok = false;
                    break;
                }
                sent.add(sv);
            }
            if ok {
                // After the client's FIN (anything more is hashed and will not match).
                let mut rest = Vec::new();
                let _ = s.read_to_end(&mut rest).await;
                got.add(&rest);
                if s.write_all(&sc.tail).await.is_ok() {
                    sent.add(&sc.tail);
                }
                let _ = s.shutdown().await;
            }
        }
        peer.seen.lock().unwrap().insert(id, Seen { got, sent });
    }
    peer.open.fetch_sub(1, Ordering::SeqCst);
}

async fn start_peer() -> (SocketAddr, Arc<Peer>) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    let peer = Arc::new(Peer::default());
    let p = peer.clone();
    tokio::spawn(async move {
        while let Ok((s, _)) = l.accept().await {
            p.accepted.fetch_add(1, Ordering::Relaxed);
            tokio::spawn(peer_conn(p.clone(), s));
        }
    });
    (addr, peer)
}

/// One scripted connection through the proxy; returns (sent, got) hashes. `hold` waits after the
/// first round (the connections that are open at once).
async fn client(
    proxy: SocketAddr,
    id: u64,
    hold: Option<Arc<tokio::sync::Barrier>>,
) -> (Hash, Hash) {
    let sc = script(id);
    let mut s = TcpStream::connect(proxy).await.unwrap();
    let _ = s.set_nodelay(true);
    let (mut sent, mut got) = (Hash::new(), Hash::new());
    for (i, (c, sv)) in sc.rounds.iter().enumerate() {
        s.write_all(c).await.unwrap();
        sent.add(c);
        let mut buf = vec![0u8; sv.len()];
        s.read_exact(&mut buf).await.unwrap();
        got.add(&buf);
        if i == 0 {
            if let Some(b) = &hold {
                b.wait().await;
            }
        }
    }
    // Half-close, then read what the upstream still sends.
    s.shutdown().await.unwrap();
    let mut rest = Vec::new();
    s.read_to_end(&mut rest).await.unwrap();
    got.add(&rest);
    (sent, got)
}

fn fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count())
}

/// A `/proc/PID/status` field in KiB (`VmRSS`, `VmHWM`).
fn status_kib(pid: u32, field: &str) -> u64 {
    let st = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    st.lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// Waits (bounded) until `f` holds.
async fn settle(secs: u64, mut f: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < end {
        if f() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    f()
}

const TOTAL: u64 = 10_000;
const AT_ONCE: usize = 1_000;
const NEVER_READ: u64 = 8;
const RESET_EVERY: u64 = 50;

/// Every 50th connection after the first 1 000 meets an upstream that resets.
fn is_reset(id: u64) -> bool {
    id >= AT_ONCE as u64 && id % RESET_EVERY == 0
}

/// This process's connected TCP sockets (not listeners) with an end on one of `ports`, from
/// `/proc/self/fd` and `/proc/net/tcp{,6}`: other tests in the same process do not count.
fn my_sockets_on(ports: &[u16]) -> usize {
    let mine: std::collections::HashSet<String> = std::fs::read_dir("/proc/self/fd")
        .map(|d| {
            d.filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
                .filter_map(|l| {
                    let l = l.to_string_lossy().into_owned();
                    Some(l.strip_prefix("socket:[")?.strip_suffix(']')?.to_string())
                })
                .collect()
        })
        .unwrap_or_default();
    let port_of = |a: &str| {
        a.rsplit(':')
            .next()
            .and_then(|p| u16::from_str_radix(p, 16).ok())
    };
    ["/proc/net/tcp", "/proc/net/tcp6"]
        .iter()
        .flat_map(|f| {
            std::fs::read_to_string(f)
                .unwrap_or_default()
                .lines()
                .skip(1)
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .filter(|l| {
            let c: Vec<&str> = l.split_whitespace().collect();
            let (Some(local), Some(remote), Some(st), Some(inode)) =
                (c.get(1), c.get(2), c.get(3), c.get(9))
            else {
                return false;
            };
            *st != "0A"
                && mine.contains(*inode)
                && [port_of(local), port_of(remote)]
                    .iter()
                    .flatten()
                    .any(|p| ports.contains(p))
        })
        .count()
}

#[test]
fn ten_thousand_connections_with_faults_relay_every_byte_and_give_back_fds_and_memory() {
    let dir = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let t0 = Instant::now();
    let (report, proxy_pid) = rt.block_on(async {
        let (up, peer) = start_peer().await;
        let listen = free_port();
        let fds_self_before = my_sockets_on(&[listen, up.port()]);
        let mut px = proxy(dir.path(), listen, up.port(), &["--format", "ndjson"]);
        let pid = px.0.id();
        let paddr: SocketAddr = ([127, 0, 0, 1], listen).into();
        let (fds_before, rss_before) = (fds(pid), status_kib(pid, "VmRSS"));

        // Clients that never read: a flood each, left undrained for the whole run.
        let mut stalled = vec![];
        for i in 0..NEVER_READ {
            let mut s = TcpStream::connect(paddr).await.unwrap();
            s.write_all(format!("GET /flood?t={} HTTP/1.1\r\n\r\n", 9_000_000 + i).as_bytes())
                .await
                .unwrap();
            stalled.push(s);
        }

        // 1 000 open at once (held after their first round), then the rest 1 000 at a time.
        let barrier = Arc::new(tokio::sync::Barrier::new(AT_ONCE));
        let sem = Arc::new(tokio::sync::Semaphore::new(AT_ONCE));
        let resets = Arc::new(AtomicU64::new(0));
        let slowest_reset = Arc::new(AtomicU64::new(0));
        let mut tasks = vec![];
        for id in 0..TOTAL {
            let permit = sem.clone().acquire_owned().await.unwrap();
            let hold = (id < AT_ONCE as u64).then(|| barrier.clone());
            let resets = resets.clone();
            let slowest_reset = slowest_reset.clone();
            tasks.push(tokio::spawn(async move {
                let _permit = permit;
                if is_reset(id) {
                    // The upstream resets mid-response: the client gets a prefix, then the end.
                    let mut s = TcpStream::connect(paddr).await.unwrap();
                    s.write_all(format!("GET /reset?t={id} HTTP/1.1\r\n\r\n").as_bytes())
                        .await
                        .unwrap();
                    let mut got = Vec::new();
                    let t = Instant::now();
                    let r = tokio::time::timeout(Duration::from_secs(60), s.read_to_end(&mut got))
                        .await
                        .expect("a reset upstream ends the client connection");
                    let full = text(id, 10_000).into_bytes();
                    assert!(full.starts_with(&got), "connection {id}: not a prefix ({r:?})");
                    resets.fetch_add(1, Ordering::Relaxed);
                    slowest_reset.fetch_max(t.elapsed().as_millis() as u64, Ordering::Relaxed);
                    return None;
                }
                Some((id, client(paddr, id, hold).await))
            }));
        }
        let mut results = vec![];
        for t in tasks {
            if let Some(r) = tokio::time::timeout(Duration::from_secs(60), t)
                .await
                .expect("a connection hung")
                .expect("a client failed")
            {
                results.push(r);
            }
        }
        let relay_done = t0.elapsed();
        let peak_open = peer.peak_open.load(Ordering::SeqCst);
        // The peer records a connection just after its last FIN or reset, so a client can see
        // its end before the peer's task has recorded it (that task's thread preempted right
        // after the syscall, on a loaded machine). Wait for every one of these connections by
        // id, not for a count: `seen` also holds the never-read floods, and a count reached
        // with them in it once let the check run with connection 9851 not recorded yet.
        let n_resets = (0..TOTAL).filter(|i| is_reset(*i)).count();
        let expected: Vec<u64> = results
            .iter()
            .map(|(id, _)| *id)
            .chain((0..TOTAL).filter(|i| is_reset(*i)))
            .collect();
        let all_recorded = settle(120, || {
            let seen = peer.seen.lock().unwrap();
            expected.iter().all(|id| seen.contains_key(id))
        })
        .await;
        let seen = peer.seen.lock().unwrap().clone();
        if !all_recorded {
            let missing: Vec<&u64> = expected.iter().filter(|id| !seen.contains_key(id)).collect();
            panic!("the peer never finished {} connections within 120 s: {missing:?}", missing.len());
        }
        let mut bytes = [0u64; 2];
        for (id, (sent, got)) in &results {
            let sc = script(*id);
            let expect_got = Hash::of(
                &sc.rounds
                    .iter()
                    .map(|r| r.1.clone())
                    .chain(std::iter::once(sc.tail.clone()))
                    .collect::<Vec<_>>(),
            );
            let p = seen.get(id).unwrap_or_else(|| panic!("peer never finished connection {id}"));
            assert_eq!(*sent, p.got, "connection {id}: client→server bytes differ");
            assert_eq!(*got, p.sent, "connection {id}: server→client bytes differ");
            assert_eq!(*got, expect_got, "connection {id}: not the script");
            bytes[0] += sent.1;
            bytes[1] += got.1;
        }
        // With the never-readers still stalled: the proxy holds at most its buffers for them.
        let rss_stalled = status_kib(pid, "VmRSS");
        let hwm = status_kib(pid, "VmHWM");
        drop(stalled);
        let fds_back = settle(15, || fds(pid) <= fds_before).await;
        let (fds_after, rss_after) = (fds(pid), status_kib(pid, "VmRSS"));

        // Ctrl-C in mid-transfer: 50 connections stopped after their first round.
        let gate = Arc::new(tokio::sync::Notify::new());
        let midway = Arc::new(AtomicUsize::new(0));
        let mut mid = vec![];
        for id in 0..50u64 {
            let g = gate.clone();
            let midway = midway.clone();
            mid.push(tokio::spawn(async move {
                let id = 5_000_000 + id;
                let sc = script(id);
                let mut s = TcpStream::connect(paddr).await.unwrap();
                s.write_all(&sc.rounds[0].0).await.unwrap();
                let mut buf = vec![0u8; sc.rounds[0].1.len()];
                s.read_exact(&mut buf).await.unwrap();
                let waiting = g.notified();
                midway.fetch_add(1, Ordering::SeqCst);
                waiting.await;
                // The proxy closes it: EOF or reset, within the grace time.
                let mut rest = Vec::new();
                tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut rest))
                    .await
                    .is_ok()
            }));
        }
        assert!(settle(20, || midway.load(Ordering::SeqCst) == 50).await);
        let status = tokio::task::spawn_blocking(move || {
            let st = px.interrupt(15);
            (st, px)
        });
        let (st, px) = status.await.unwrap();
        gate.notify_waiters();
        let mut closed = 0;
        for m in mid {
            if m.await.unwrap() {
                closed += 1;
            }
        }
        drop(px);
        let fds_self_after_ok = settle(15, || my_sockets_on(&[listen, up.port()]) <= fds_self_before).await;
        let err = std::fs::read_to_string(dir.path().join("proxy.err")).unwrap_or_default();
        let report = format!(
            "connections {} (+{NEVER_READ} never-read, +50 at Ctrl-C), resets {} (slowest closed after {} ms), peak open at the peer {peak_open}, \
             relayed {} B c2s / {} B s2c checked in {:.1} s; proxy fds {fds_before} before / {fds_after} after; \
             proxy VmRSS {rss_before} KiB before, {rss_stalled} KiB with {NEVER_READ} stalled floods, {rss_after} KiB after, VmHWM {hwm} KiB; \
             test process fds {fds_self_before} before, back: {fds_self_after_ok}; Ctrl-C exit {st:?}, {closed}/50 mid-transfer clients closed\n{err}",
            results.len() + n_resets,
            resets.load(Ordering::Relaxed),
            slowest_reset.load(Ordering::Relaxed),
            bytes[0],
            bytes[1],
            relay_done.as_secs_f64(),
        );
        eprintln!("{report}");
        assert!(peak_open >= AT_ONCE, "{report}");
        assert_eq!(results.len() + n_resets, TOTAL as usize);
        assert!(fds_back, "proxy fds did not come back: {report}");
        assert!(fds_self_after_ok, "test fds did not come back: {report}");
        assert!(st.is_some_and(|s| s.success()), "{report}");
        assert_eq!(closed, 50, "{report}");
        // Bounded memory: 8 never-reading clients hold no more than their relay buffers.
        assert!(rss_stalled < rss_before + 200 * 1024, "{report}");
        let accepted = TOTAL + NEVER_READ + 50;
        assert!(err.contains(&format!("sioscope proxy: {accepted} connections ")), "{report}");
        (report, pid)
    });
    let _ = proxy_pid;
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(std::env::temp_dir().join("sioscope-proxy-load.txt"))
        .unwrap();
    let _ = writeln!(f, "{report}");
}

#[test]
fn an_upstream_that_is_down_closes_each_client_and_leaks_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let down = free_port();
        let listen = free_port();
        let mut px: Kill = proxy(dir.path(), listen, down, &[]);
        let pid = px.0.id();
        let fds_before = fds(pid);
        let paddr: SocketAddr = ([127, 0, 0, 1], listen).into();
        for i in 0..200u64 {
            let mut s = TcpStream::connect(paddr).await.unwrap();
            let _ = s.write_all(&script(i).rounds[0].0).await;
            let mut rest = Vec::new();
            let r = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut rest)).await;
            assert!(r.is_ok() && rest.is_empty(), "client {i}: {r:?} {rest:?}");
        }
        assert!(
            settle(5, || fds(pid) <= fds_before).await,
            "fds {} > {fds_before}",
            fds(pid)
        );
        let st = px.interrupt(10);
        assert!(st.is_some_and(|s| s.success()));
        let err = std::fs::read_to_string(dir.path().join("proxy.err")).unwrap();
        assert!(
            err.contains("200 connections (200 upstream unreachable)"),
            "{err}"
        );
        assert_eq!(err.matches("Connection refused").count(), 200, "{err}");
    });
}

#[test]
fn ctrl_c_mid_transfer_leaves_a_recording_that_decodes_to_the_live_view() {
    let dir = tempfile::tempdir().unwrap();
    let rec = dir.path().join("rec.pcapng");
    let rec_s = rec.to_str().unwrap().to_string();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let st = rt.block_on(async {
        let (up, _peer) = start_peer().await;
        let listen = free_port();
        let mut px = proxy(
            dir.path(),
            listen,
            up.port(),
            &["--format", "ndjson", "--record", &rec_s],
        );
        let paddr: SocketAddr = ([127, 0, 0, 1], listen).into();
        // 60 connections of the three kinds, each stopped after a random number of rounds.
        let mut held = vec![];
        for id in 0..60u64 {
            let sc = script(id);
            let stop_at = 1 + (id as usize * 7) % sc.rounds.len();
            let mut s = TcpStream::connect(paddr).await.unwrap();
            for (c, sv) in sc.rounds.iter().take(stop_at) {
                s.write_all(c).await.unwrap();
                let mut buf = vec![0u8; sv.len()];
                s.read_exact(&mut buf).await.unwrap();
            }
            held.push(s);
        }
        let st = tokio::task::spawn_blocking(move || px.interrupt(15))
            .await
            .unwrap();
        drop(held);
        st
    });
    assert!(st.is_some_and(|s| s.success()), "{st:?}");
    let err = std::fs::read_to_string(dir.path().join("proxy.err")).unwrap();
    assert!(!err.contains("not decoded"), "{err}");
    let live = json_lines(&std::fs::read_to_string(dir.path().join("proxy.out")).unwrap());
    let out = sioscope(&["decode", &rec_s, "--format", "ndjson"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let recorded = json_lines(&String::from_utf8_lossy(&out.stdout));
    let above_tcp = |v: &[Value]| -> Vec<Value> {
        v.iter()
            .filter(|e| e["layer"] != "tcp" && e["layer"] != "finding")
            .cloned()
            .collect()
    };
    let (l, r) = (above_tcp(&live), above_tcp(&recorded));
    assert!(
        l.iter().filter(|e| e["layer"] == "eio").count() >= 60,
        "{l:#?}"
    );
    assert!(l.iter().any(|e| e["layer"] == "sio"), "{l:#?}");
    assert_eq!(
        l, r,
        "the recording after Ctrl-C decodes differently from the live view"
    );
    // tshark reads the file to its end without complaint.
    let t = std::process::Command::new("tshark")
        .args(["-r", &rec_s, "-q", "-z", "io,stat,0"])
        .output()
        .expect("tshark");
    assert!(t.status.success(), "{}", String::from_utf8_lossy(&t.stderr));
}
