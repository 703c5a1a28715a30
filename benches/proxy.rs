//! `cargo bench --bench proxy`: throughput and small-message latency through three paths on
//! 127.0.0.1 — a direct connection, a plain tokio relay (`copy_bidirectional_with_sizes` with
//! 128 KiB buffers), and `sioscope proxy` with decoding on — and the ratios against the plain
//! relay measured in the same run. Targets: at most 10 % throughput loss and at most 50 µs added
//! p50 latency against the plain relay.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use sioscope::event::Event;
use sioscope::explain::Finding;
use sioscope::pipeline::PipelineOptions;
use sioscope::proxy::{serve, LiveSink, ProxyConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const BULK: usize = 256 << 20;
const ROUND_TRIPS: usize = 5000;
const ROUNDS: usize = 5;

struct Null;
impl LiveSink for Null {
    fn event(&mut self, _: &Event) {}
    fn finding(&mut self, _: &Finding) {}
    fn message(&mut self, _: u64, _: &str) {}
    fn idle(&mut self) {}
}

/// A server that drains each connection and answers one byte at EOF, or echoes 64-byte messages.
async fn server() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let a = l.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((mut s, _)) = l.accept().await {
            let _ = s.set_nodelay(true);
            tokio::spawn(async move {
                let mut buf = vec![0u8; 128 * 1024];
                let mut first = [0u8; 1];
                if s.read_exact(&mut first).await.is_err() {
                    return;
                }
                if first[0] == b'B' {
                    // bulk: drain to EOF, then answer
                    while let Ok(n) = s.read(&mut buf).await {
                        if n == 0 {
                            break;
                        }
                    }
                    let _ = s.write_all(b"k").await;
                } else {
                    // echo 64-byte messages
                    let mut m = [0u8; 64];
                    while s.read_exact(&mut m).await.is_ok() {
                        if s.write_all(&m).await.is_err() {
                            break;
                        }
                    }
                }
            });
        }
    });
    a
}

async fn plain_relay(up: SocketAddr) -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let a = l.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((mut c, _)) = l.accept().await {
            tokio::spawn(async move {
                let Ok(mut u) = TcpStream::connect(up).await else {
                    return;
                };
                let _ = c.set_nodelay(true);
                let _ = u.set_nodelay(true);
                let _ = tokio::io::copy_bidirectional_with_sizes(
                    &mut c,
                    &mut u,
                    128 * 1024,
                    128 * 1024,
                )
                .await;
            });
        }
    });
    a
}

type Running = (
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<Result<sioscope::proxy::Summary, sioscope::proxy::ProxyError>>,
);

async fn sioscope_proxy(up: SocketAddr) -> (SocketAddr, Running) {
    let l = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let a = l.local_addr().expect("addr");
    let cfg = ProxyConfig {
        upstream: up.to_string(),
        ..ProxyConfig::default()
    };
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let h = tokio::spawn(serve::<Vec<u8>, _>(
        l,
        cfg,
        None,
        None,
        PipelineOptions::default(),
        Box::new(Null),
        async move {
            let _ = rx.await;
        },
    ));
    (a, (tx, h))
}

async fn throughput(addr: SocketAddr) -> f64 {
    let mut s = TcpStream::connect(addr).await.expect("connect");
    let chunk = vec![0x5au8; 128 * 1024];
    let t = Instant::now();
    s.write_all(b"B").await.expect("write");
    let mut sent = 0;
    while sent < BULK {
        s.write_all(&chunk).await.expect("write");
        sent += chunk.len();
    }
    s.shutdown().await.expect("shutdown");
    let mut k = [0u8; 1];
    s.read_exact(&mut k).await.expect("answer");
    BULK as f64 / t.elapsed().as_secs_f64() / f64::from(1u32 << 20)
}

async fn latency(addr: SocketAddr) -> (Duration, Duration) {
    let mut s = TcpStream::connect(addr).await.expect("connect");
    s.set_nodelay(true).expect("nodelay");
    s.write_all(b"E").await.expect("write");
    let m = [7u8; 64];
    let mut r = [0u8; 64];
    let mut v = Vec::with_capacity(ROUND_TRIPS);
    for i in 0..ROUND_TRIPS + 200 {
        let t = Instant::now();
        s.write_all(&m).await.expect("write");
        s.read_exact(&mut r).await.expect("read");
        if i >= 200 {
            v.push(t.elapsed());
        }
    }
    v.sort();
    (v[v.len() / 2], v[v.len() * 99 / 100])
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let up = server().await;
        let (ours, running) = sioscope_proxy(up).await;
        let paths = [
            ("direct", up),
            ("plain relay", plain_relay(up).await),
            ("sioscope proxy", ours),
        ];
        // Rounds alternate the paths so that load from elsewhere on the machine hits them alike;
        // each figure is the median over the rounds.
        let mut samples: Vec<Vec<(f64, Duration, Duration)>> = vec![vec![]; paths.len()];
        for _round in 0..ROUNDS {
            for (i, (_, addr)) in paths.iter().enumerate() {
                let work = async {
                    let mbps = throughput(*addr).await;
                    let (p50, p99) = latency(*addr).await;
                    (mbps, p50, p99)
                };
                let r = tokio::time::timeout(Duration::from_secs(300), work)
                    .await
                    .expect("bench path took more than 5 minutes");
                samples[i].push(r);
            }
        }
        let rows: Vec<(&str, f64, Duration, Duration)> = paths
            .iter()
            .zip(&samples)
            .map(|((name, _), v)| {
                let mut t: Vec<f64> = v.iter().map(|x| x.0).collect();
                t.sort_by(f64::total_cmp);
                let mut p50: Vec<Duration> = v.iter().map(|x| x.1).collect();
                p50.sort();
                let mut p99: Vec<Duration> = v.iter().map(|x| x.2).collect();
                p99.sort();
                (*name, t[t.len() / 2], p50[p50.len() / 2], p99[p99.len() / 2])
            })
            .collect();
        println!("median of {ROUNDS} rounds; {} MiB bulk, {ROUND_TRIPS} round trips of 64 bytes", BULK >> 20);
        println!("{:<16} {:>12} {:>10} {:>10}", "path", "MiB/s", "p50 µs", "p99 µs");
        for (name, mbps, p50, p99) in &rows {
            println!(
                "{name:<16} {mbps:>12.0} {:>10.1} {:>10.1}",
                p50.as_secs_f64() * 1e6,
                p99.as_secs_f64() * 1e6
            );
        }
        let (stop, handle) = running;
        let _ = stop.send(());
        if let Ok(Ok(Ok(s))) = tokio::time::timeout(Duration::from_secs(30), handle).await {
            println!(
                "sioscope proxy: {} MiB relayed, {} chunks ({} MiB) not decoded (printer overloaded)",
                (s.bytes[0] + s.bytes[1]) >> 20,
                s.undecoded.0,
                s.undecoded.1 >> 20
            );
        }
        let plain = rows[1];
        let ours = rows[2];
        println!(
            "sioscope vs plain relay: throughput {:.1} % of plain ({:+.1} %), p50 {:+.1} µs, p99 {:+.1} µs",
            ours.1 / plain.1 * 100.0,
            (ours.1 / plain.1 - 1.0) * 100.0,
            (ours.2.as_secs_f64() - plain.2.as_secs_f64()) * 1e6,
            (ours.3.as_secs_f64() - plain.3.as_secs_f64()) * 1e6
        );
    });
}
