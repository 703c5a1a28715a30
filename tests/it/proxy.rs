//! `sioscope proxy` against real components: a byte-exact relay under load, the real socket.io
//! 4.8.4 server and client through it (WebSocket with permessage-deflate, and polling), the
//! recording against the live view and tshark, each fault, and the error paths.

use std::net::SocketAddr;
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use sioscope::event::Event;
use sioscope::explain::Finding;
use sioscope::pipeline::PipelineOptions;
use sioscope::proxy::{serve, LiveSink, ProxyConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[path = "proxy_load.rs"]
mod load;
#[path = "proxy_order.rs"]
mod order;
#[path = "proxy_support.rs"]
mod support;

use crate::common::sioscope;
use support::{free_port, json_lines, node_client, node_server, proxy, wait_bounded};

const DEFLATE: &str = r#"{"perMessageDeflate":{"threshold":0}}"#;

struct Count(Arc<AtomicU64>);

impl LiveSink for Count {
    fn event(&mut self, _: &Event) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
    fn finding(&mut self, _: &Finding) {}
    fn message(&mut self, _: u64, _: &str) {}
    fn idle(&mut self) {}
}

fn fnv(h: &mut u64, data: &[u8]) {
    for &b in data {
        *h ^= u64::from(b);
        *h = h.wrapping_mul(0x100_0000_01b3);
    }
}

/// Deterministic pseudo-random bytes (xorshift).
fn noise(seed: u64, n: usize) -> Vec<u8> {
    let mut x = seed | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

#[test]
fn relay_is_byte_exact_under_200_concurrent_connections() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        // An echo server.
        let echo = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let echo_addr = echo.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut s, _)) = echo.accept().await {
                tokio::spawn(async move {
                    let (mut r, mut w) = s.split();
                    let _ = tokio::io::copy(&mut r, &mut w).await;
                    let _ = w.shutdown().await;
                });
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let proxy_addr: SocketAddr = listener.local_addr().unwrap();
        let events = Arc::new(AtomicU64::new(0));
        let cfg = ProxyConfig {
            upstream: echo_addr.to_string(),
            max_connections: Some(200),
            ..ProxyConfig::default()
        };
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(serve::<Vec<u8>, _>(
            listener,
            cfg,
            None,
            None,
            PipelineOptions::default(),
            Box::new(Count(events.clone())),
            async move {
                let _ = stop_rx.await;
            },
        ));
        let mut clients = vec![];
        for i in 0..200u64 {
            clients.push(tokio::spawn(async move {
                let data = noise(i + 1, 20_000 + (i as usize * 997) % 50_000);
                let s = tokio::net::TcpStream::connect(proxy_addr).await.unwrap();
                let (mut r, mut w) = s.into_split();
                let sent = data.clone();
                let writer = tokio::spawn(async move {
                    // Uneven write sizes.
                    let mut at = 0;
                    let mut k = 1usize;
                    while at < sent.len() {
                        let n = (k * 1237 % 9000 + 1).min(sent.len() - at);
                        w.write_all(&sent[at..at + n]).await.unwrap();
                        at += n;
                        k += 1;
                    }
                    w.shutdown().await.unwrap();
                });
                let mut got = Vec::with_capacity(data.len());
                r.read_to_end(&mut got).await.unwrap();
                writer.await.unwrap();
                let (mut a, mut b) = (0xcbf2_9ce4_8422_2325u64, 0xcbf2_9ce4_8422_2325u64);
                fnv(&mut a, &data);
                fnv(&mut b, &got);
                (a == b, got.len() == data.len())
            }));
        }
        let all = tokio::time::timeout(Duration::from_secs(60), async {
            let mut ok = 0;
            for c in clients {
                let (same, len) = c.await.unwrap();
                assert!(same && len, "a connection's bytes differ");
                ok += 1;
            }
            ok
        })
        .await
        .expect("relay test took too long");
        assert_eq!(all, 200);
        let summary = tokio::time::timeout(Duration::from_secs(20), server)
            .await
            .expect("proxy did not end after max-connections")
            .unwrap()
            .unwrap();
        drop(stop_tx);
        assert_eq!(summary.connections, 200);
        assert_eq!(summary.bytes[0], summary.bytes[1]);
        // Every connection opened and closed as seen by the decoder, whatever was dropped.
        assert!(events.load(Ordering::Relaxed) >= 400);
    });
}

fn lines(path: &std::path::Path) -> Vec<Value> {
    json_lines(&std::fs::read_to_string(path).unwrap_or_default())
}

fn sio_events(v: &[Value]) -> Vec<Value> {
    v.iter().filter(|e| e["layer"] == "sio").cloned().collect()
}

#[test]
fn live_view_of_the_real_app_matches_the_recording_and_tshark() {
    let dir = tempfile::tempdir().unwrap();
    let (sp, pp) = (free_port(), free_port());
    let _server = node_server(sp, DEFLATE, &dir.path().join("server.log"));
    let rec = dir.path().join("rec.pcapng");
    let rec_s = rec.to_str().unwrap();
    let mut px = proxy(
        dir.path(),
        pp,
        sp,
        &["--format", "ndjson", "--record", rec_s],
    );
    let url = format!("http://127.0.0.1:{pp}");
    let script = r#"[{"op":"connect"},{"op":"emit","event":"chat","count":3,"ack":true},{"op":"emit","event":"big","spec":{"size":3000},"ack":true},{"op":"disconnect"}]"#;
    let ws = node_client(&url, r#"{"transports":["websocket"]}"#, script);
    let poll = node_client(&url, r#"{"transports":["polling"]}"#, script);
    for log in [&ws, &poll] {
        assert_eq!(
            log.iter().filter(|l| l["k"] == "ack").count(),
            4,
            "client through the proxy: {log:#?}"
        );
    }
    let st = px.interrupt(10).expect("proxy ends on Ctrl-C");
    assert!(st.success(), "{st:?}");
    let err = std::fs::read_to_string(dir.path().join("proxy.err")).unwrap();
    assert!(err.contains("sessions (0 abnormal)"), "{err}");
    let live = lines(&dir.path().join("proxy.out"));
    let live_sio = sio_events(&live);
    let chats = live_sio
        .iter()
        .filter(|e| e["sio"]["type"] == "EVENT" && e["sio"]["event"] == "chat")
        .count();
    assert_eq!(chats, 6, "{live_sio:#?}");
    // The WebSocket session was compressed and decoded through the inflater.
    assert!(live.iter().any(|e| e["layer"] == "finding"));
    let out = sioscope(&["decode", rec_s, "--format", "ndjson"]);
    assert!(out.status.success());
    let recorded_all = json_lines(&String::from_utf8_lossy(&out.stdout));
    let recorded = sio_events(&recorded_all);
    assert_eq!(live_sio, recorded, "live view and recording differ");
    // Every other layer too, down to HTTP and WebSocket (TCP closes differ only in whether the
    // run's end closed them).
    let above_tcp = |v: &[Value]| -> Vec<Value> {
        v.iter()
            .filter(|e| e["layer"] != "tcp" && e["layer"] != "finding")
            .cloned()
            .collect()
    };
    assert_eq!(above_tcp(&live), above_tcp(&recorded_all));
    let ws_conn = live_sio
        .iter()
        .find(|e| e["eio"]["transport"] == "websocket")
        .expect("websocket events");
    assert!(ws_conn["frame"].as_u64().unwrap() > 0);
    // tshark opens the recording and finds WebSocket frames.
    let t = Command::new("tshark")
        .args([
            "-r",
            rec_s,
            "-d",
            &format!("tcp.port=={sp},http"),
            "-Y",
            "websocket",
        ])
        .output()
        .expect("tshark");
    assert!(t.status.success(), "{}", String::from_utf8_lossy(&t.stderr));
    assert!(String::from_utf8_lossy(&t.stdout).contains("WebSocket"));
}

#[test]
fn corrupt_deflate_makes_the_server_close_1007_and_explain_says_injected() {
    let dir = tempfile::tempdir().unwrap();
    let (sp, pp) = (free_port(), free_port());
    let _server = node_server(sp, DEFLATE, &dir.path().join("server.log"));
    let rec = dir.path().join("rec.pcapng");
    let rec_s = rec.to_str().unwrap();
    let mut px = proxy(
        dir.path(),
        pp,
        sp,
        &[
            "--format",
            "ndjson",
            "--record",
            rec_s,
            "--fault",
            "corrupt-deflate",
        ],
    );
    let log = node_client(
        &format!("http://127.0.0.1:{pp}"),
        r#"{"transports":["websocket"]}"#,
        r#"[{"op":"connect"},{"op":"emit","event":"big","spec":{"size":3000}},{"op":"waitConnect","count":2},{"op":"emit","event":"chat","ack":true},{"op":"disconnect"}]"#,
    );
    let closes: Vec<_> = log.iter().filter(|l| l["k"] == "ws_close").collect();
    assert_eq!(
        closes.first().map(|c| c["code"].clone()),
        Some(1007.into()),
        "{log:#?}"
    );
    let sids: Vec<_> = log
        .iter()
        .filter(|l| l["k"] == "engine_open")
        .map(|l| l["sid"].clone())
        .collect();
    assert_eq!(sids.len(), 2);
    assert_ne!(sids[0], sids[1], "the client reconnects with a new sid");
    assert!(px.interrupt(10).is_some_and(|s| s.success()));
    let live = lines(&dir.path().join("proxy.out"));
    assert!(live
        .iter()
        .any(|e| e["layer"] == "anomaly" && e["rule"] == "injected-fault"));
    let x = sioscope(&["explain", rec_s, "--color", "never"]);
    assert_eq!(x.status.code(), Some(1));
    let text = String::from_utf8_lossy(&x.stdout);
    assert!(text.contains("deflate-error"), "{text}");
    assert!(
        text.contains("injected") && text.contains("corrupt-deflate"),
        "{text}"
    );
}

#[test]
fn block_websocket_keeps_the_client_on_polling() {
    let dir = tempfile::tempdir().unwrap();
    let (sp, pp) = (free_port(), free_port());
    let _server = node_server(sp, "{}", &dir.path().join("server.log"));
    let mut px = proxy(
        dir.path(),
        pp,
        sp,
        &["--format", "ndjson", "--fault", "block-websocket"],
    );
    let log = node_client(
        &format!("http://127.0.0.1:{pp}"),
        "{}",
        r#"[{"op":"connect"},{"op":"sleep","ms":800},{"op":"emit","event":"chat","ack":true},{"op":"disconnect"}]"#,
    );
    assert!(log.iter().any(|l| l["k"] == "ack"), "{log:#?}");
    assert!(!log.iter().any(|l| l["k"] == "upgrade"), "{log:#?}");
    assert!(px.interrupt(10).is_some_and(|s| s.success()));
    let live = lines(&dir.path().join("proxy.out"));
    assert!(live.iter().any(|e| e["rule"] == "injected-fault"
        && e["detail"]
            .as_str()
            .unwrap_or("")
            .contains("block-websocket")));
    let chat = sio_events(&live)
        .into_iter()
        .find(|e| e["sio"]["event"] == "chat")
        .expect("chat decoded");
    assert_eq!(chat["eio"]["transport"], "polling");
}

#[test]
fn drop_after_cuts_the_connection_transport_close() {
    let dir = tempfile::tempdir().unwrap();
    let (sp, pp) = (free_port(), free_port());
    let _server = node_server(sp, "{}", &dir.path().join("server.log"));
    let mut px = proxy(dir.path(), pp, sp, &["--fault", "drop-after:700ms"]);
    let log = node_client(
        &format!("http://127.0.0.1:{pp}"),
        r#"{"transports":["websocket"],"reconnection":false}"#,
        r#"[{"op":"connect"},{"op":"waitDisconnect","count":1,"timeout":5000}]"#,
    );
    let d = log
        .iter()
        .find(|l| l["k"] == "disconnect")
        .expect("disconnect");
    assert_eq!(d["reason"], "transport close", "{log:#?}");
    assert!(px.interrupt(10).is_some_and(|s| s.success()));
    let err = std::fs::read_to_string(dir.path().join("proxy.err")).unwrap();
    assert!(err.contains("1 fault injected"), "{err}");
}

#[test]
fn stall_pongs_makes_the_server_time_out() {
    let dir = tempfile::tempdir().unwrap();
    let (sp, pp) = (free_port(), free_port());
    let slog = dir.path().join("server.log");
    let _server = node_server(sp, r#"{"pingInterval":300,"pingTimeout":200}"#, &slog);
    let rec = dir.path().join("rec.pcapng");
    let rec_s = rec.to_str().unwrap();
    let mut px = proxy(
        dir.path(),
        pp,
        sp,
        &["--record", rec_s, "--fault", "stall-pongs"],
    );
    let _log = node_client(
        &format!("http://127.0.0.1:{pp}"),
        r#"{"transports":["websocket"],"reconnection":false}"#,
        r#"[{"op":"connect"},{"op":"waitDisconnect","count":1,"timeout":5000}]"#,
    );
    assert!(px.interrupt(10).is_some_and(|s| s.success()));
    let server = json_lines(&std::fs::read_to_string(&slog).unwrap());
    let close = server
        .iter()
        .find(|l| l["k"] == "engine_close")
        .expect("server closed the session");
    assert_eq!(close["reason"], "ping timeout", "{server:#?}");
    let x = sioscope(&["explain", rec_s, "--format", "json"]);
    let doc: Value = serde_json::from_slice(&x.stdout).unwrap();
    assert_eq!(
        doc["sessions"][0]["end"]["cause"], "ping-timeout",
        "{doc:#}"
    );
    assert!(doc["sessions"][0]["injected"][0]["what"]
        .as_str()
        .unwrap_or("")
        .contains("stall-pongs"));
}

#[test]
fn stall_pongs_over_polling_makes_the_server_time_out() {
    let dir = tempfile::tempdir().unwrap();
    let (sp, pp) = (free_port(), free_port());
    let slog = dir.path().join("server.log");
    let _server = node_server(
        sp,
        r#"{"pingInterval":300,"pingTimeout":200,"transports":["polling"]}"#,
        &slog,
    );
    let rec = dir.path().join("rec.pcapng");
    let rec_s = rec.to_str().unwrap();
    let mut px = proxy(
        dir.path(),
        pp,
        sp,
        &["--record", rec_s, "--fault", "stall-pongs"],
    );
    let _log = node_client(
        &format!("http://127.0.0.1:{pp}"),
        r#"{"transports":["polling"],"reconnection":false}"#,
        r#"[{"op":"connect"},{"op":"waitDisconnect","count":1,"timeout":5000}]"#,
    );
    assert!(px.interrupt(10).is_some_and(|s| s.success()));
    let server = json_lines(&std::fs::read_to_string(&slog).unwrap());
    let close = server
        .iter()
        .find(|l| l["k"] == "engine_close")
        .expect("server closed the session");
    assert_eq!(close["reason"], "ping timeout", "{server:#?}");
    let out = std::fs::read_to_string(dir.path().join("proxy.out")).unwrap();
    assert!(
        out.contains("polling POST carrying an Engine.IO pong"),
        "{out}"
    );
    let x = sioscope(&["explain", rec_s, "--format", "json"]);
    let doc: Value = serde_json::from_slice(&x.stdout).unwrap();
    let s0 = &doc["sessions"][0];
    assert_eq!(s0["end"]["cause"], "ping-timeout", "{doc:#}");
    assert_eq!(s0["transports"], serde_json::json!(["polling"]), "{doc:#}");
    assert!(
        s0["injected"][0]["what"]
            .as_str()
            .unwrap_or("")
            .contains("stall-pongs"),
        "{doc:#}"
    );
}

#[test]
fn unreachable_upstream_taken_port_and_bad_flags_are_clear() {
    let dir = tempfile::tempdir().unwrap();
    // Upstream refuses: the client is closed, the proxy says so and keeps running.
    let (dead, pp) = (free_port(), free_port());
    let mut px = proxy(dir.path(), pp, dead, &["--max-connections", "1"]);
    let mut c = std::net::TcpStream::connect(("127.0.0.1", pp)).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut buf = [0u8; 16];
    let n = std::io::Read::read(&mut c, &mut buf).unwrap_or(0);
    assert_eq!(n, 0, "client side closed");
    let st = wait_bounded(&mut px.0, 10).expect("ends after 1 connection");
    assert!(st.success());
    let err = std::fs::read_to_string(dir.path().join("proxy.err")).unwrap();
    assert!(
        err.contains(": upstream 127.0.0.1:") && err.contains("unreachable"),
        "{err}"
    );
    assert!(err.contains("1 upstream unreachable"), "{err}");

    // The listen port is taken: exit 2, one line.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let out = sioscope(&[
        "proxy",
        "--listen",
        &format!("127.0.0.1:{port}"),
        "--upstream",
        "127.0.0.1:9",
        "--duration",
        "2s",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(
        e.contains("cannot listen on") && e.trim().lines().count() == 1,
        "{e}"
    );

    // Bad flags: clap's exit 2 with the reason.
    for (args, says) in [
        (
            vec!["proxy", "--upstream", "127.0.0.1:9", "--fault", "explode"],
            "unknown fault",
        ),
        (
            vec![
                "proxy",
                "--upstream",
                "127.0.0.1:9",
                "--fault",
                "delay:soon",
            ],
            "duration",
        ),
        (vec!["proxy", "--upstream", "nohostport"], "needs a port"),
        (
            vec![
                "proxy",
                "--listen",
                "0.0.0.0:0",
                "--upstream",
                "127.0.0.1:9",
            ],
            "--allow-remote",
        ),
    ] {
        let out = sioscope(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(says),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

struct Collect(
    Arc<std::sync::Mutex<Vec<Event>>>,
    Arc<std::sync::Mutex<Vec<String>>>,
);

impl LiveSink for Collect {
    fn event(&mut self, ev: &Event) {
        if let Ok(mut v) = self.0.lock() {
            v.push(ev.clone());
        }
    }
    fn finding(&mut self, _: &Finding) {}
    fn message(&mut self, _: u64, text: &str) {
        if let Ok(mut v) = self.1.lock() {
            v.push(text.to_string());
        }
    }
    fn idle(&mut self) {}
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// A TLS server (self-signed certificate for `localhost`) answering one Engine.IO handshake.
async fn tls_engineio_server() -> SocketAddr {
    use tokio_rustls::rustls::crypto::ring;
    use tokio_rustls::rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
    use tokio_rustls::rustls::ServerConfig;
    let ck = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(ck.signing_key.serialize_der()));
    let config = ServerConfig::builder_with_provider(Arc::new(ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![ck.cert.der().clone()], key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((s, _)) = l.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(s).await else {
                    return;
                };
                let mut buf = vec![0u8; 4096];
                let mut got = Vec::new();
                while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tls.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => got.extend_from_slice(&buf[..n]),
                    }
                }
                let body = r#"0{"sid":"tlsSID","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#;
                let resp = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = tls.write_all(resp.as_bytes()).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    addr
}

#[test]
fn upstream_tls_shows_the_plaintext_and_refuses_unknown_certificates() {
    use sioscope::proxy::{tls, TlsUpstream, UpstreamTls};
    runtime().block_on(async {
        let up = tls_engineio_server().await;
        for insecure in [true, false] {
            let (connector, name) = tls::connector(
                &UpstreamTls {
                    sni: Some("localhost".into()),
                    insecure,
                },
                "127.0.0.1",
            )
            .unwrap();
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let events = Arc::new(std::sync::Mutex::new(vec![]));
            let msgs = Arc::new(std::sync::Mutex::new(vec![]));
            let cfg = ProxyConfig {
                upstream: up.to_string(),
                max_connections: Some(1),
                ..ProxyConfig::default()
            };
            let proxy = tokio::spawn(serve::<Vec<u8>, _>(
                listener,
                cfg,
                Some(TlsUpstream { connector, name }),
                None,
                PipelineOptions::default(),
                Box::new(Collect(events.clone(), msgs.clone())),
                tokio::time::sleep(Duration::from_secs(10)),
            ));
            let mut c = tokio::net::TcpStream::connect(addr).await.unwrap();
            c.write_all(
                b"GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: localhost\r\n\r\n",
            )
            .await
            .unwrap();
            let mut answer = Vec::new();
            tokio::time::timeout(Duration::from_secs(5), c.read_to_end(&mut answer))
                .await
                .expect("bounded")
                .ok();
            drop(c);
            let summary = tokio::time::timeout(Duration::from_secs(10), proxy)
                .await
                .expect("proxy ends")
                .unwrap()
                .unwrap();
            let text = String::from_utf8_lossy(&answer).to_string();
            if insecure {
                assert!(text.contains("tlsSID"), "{text}");
                let evs = events.lock().unwrap();
                let json: Vec<Value> = evs
                    .iter()
                    .map(|e| serde_json::to_value(e).unwrap())
                    .collect();
                assert!(
                    json.iter()
                        .any(|e| e["layer"] == "eio" && e["eio"]["sid"] == "tlsSID"),
                    "{json:#?}"
                );
                assert_eq!(summary.failed_upstream, 0);
            } else {
                assert!(answer.is_empty(), "{text}");
                assert_eq!(summary.failed_upstream, 1);
                let m = msgs.lock().unwrap();
                assert!(m.iter().any(|m| m.contains("TLS handshake")), "{m:?}");
            }
        }
    });
}

/// A printer stuck for 5 s on its first event (a terminal nobody reads, a paused pager).
/// A printer that stalls once, on its first event, for `stall` (zero: a printer that keeps up).
struct Stuck {
    stall: Duration,
    stalled: bool,
}

impl LiveSink for Stuck {
    fn event(&mut self, _: &Event) {
        if !self.stalled {
            self.stalled = true;
            std::thread::sleep(self.stall);
        }
    }
    fn finding(&mut self, _: &Finding) {}
    fn message(&mut self, _: u64, _: &str) {}
    fn idle(&mut self) {}
}

/// Relays 4 connections of 12 MiB each through a proxy whose printer is `printer`, to a sink
/// that answers how many bytes it got. How long the relay took, and the proxy's summary.
async fn relay_48_mib(printer: Stuck) -> (Duration, sioscope::proxy::Summary) {
    let sink = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sink_addr = sink.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = sink.accept().await {
            tokio::spawn(async move {
                let mut buf = vec![0u8; 65536];
                let mut n = 0u64;
                while let Ok(k) = s.read(&mut buf).await {
                    if k == 0 {
                        break;
                    }
                    n += k as u64;
                }
                let _ = s.write_all(&n.to_be_bytes()).await;
            });
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let cfg = ProxyConfig {
        upstream: sink_addr.to_string(),
        max_connections: Some(4),
        buffer_size: 4096,
        ..ProxyConfig::default()
    };
    let proxy = tokio::spawn(serve::<Vec<u8>, _>(
        listener,
        cfg,
        None,
        None,
        PipelineOptions::default(),
        Box::new(printer),
        tokio::time::sleep(Duration::from_secs(60)),
    ));
    let t = std::time::Instant::now();
    let mut conns = vec![];
    for i in 0..4u64 {
        conns.push(tokio::spawn(async move {
            let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
            let data = noise(i + 7, 12 << 20);
            s.write_all(&data).await.unwrap();
            s.shutdown().await.unwrap();
            let mut n = [0u8; 8];
            s.read_exact(&mut n).await.unwrap();
            u64::from_be_bytes(n)
        }));
    }
    for c in conns {
        let n = tokio::time::timeout(Duration::from_secs(60), c)
            .await
            .expect("bounded")
            .unwrap();
        assert_eq!(n, 12 << 20);
    }
    let took = t.elapsed();
    let summary = tokio::time::timeout(Duration::from_secs(60), proxy)
        .await
        .expect("proxy ends")
        .unwrap()
        .unwrap();
    assert_eq!(summary.bytes[0], 4 * (12 << 20));
    (took, summary)
}

#[test]
fn a_stuck_printer_drops_chunks_to_counting_and_never_slows_the_relay() {
    runtime().block_on(async {
        // The same relay with a printer that keeps up gives this machine's speed right now.
        let keeps_up = Stuck {
            stall: Duration::ZERO,
            stalled: true,
        };
        let (baseline, _) = relay_48_mib(keeps_up).await;
        // A printer stuck from its first event for longer than that relay took (at least 5 s):
        // a relay that waited for it could not finish before the printer woke up.
        let stall = (baseline * 4).max(Duration::from_secs(5));
        let stuck = Stuck {
            stall,
            stalled: false,
        };
        let (took, summary) = relay_48_mib(stuck).await;
        // 12 000+ chunks of 4 KiB, more than both channels hold, while the printer is stuck:
        // the relay finished without waiting for it.
        assert!(
            took < stall,
            "relay took {took:?} with the printer stuck for {stall:?} (baseline {baseline:?})"
        );
        assert!(summary.undecoded.0 > 0, "{summary:?}");
    });
}

#[test]
fn a_reader_that_never_reads_stalls_its_writer_instead_of_filling_the_proxy() {
    runtime().block_on(async {
        // A server that writes as fast as it can and counts what the kernel took.
        let fire = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let fire_addr = fire.local_addr().unwrap();
        let written = Arc::new(AtomicU64::new(0));
        let w2 = written.clone();
        tokio::spawn(async move {
            if let Ok((mut s, _)) = fire.accept().await {
                let chunk = vec![1u8; 65536];
                while s.write_all(&chunk).await.is_ok() {
                    w2.fetch_add(chunk.len() as u64, Ordering::Relaxed);
                }
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let cfg = ProxyConfig {
            upstream: fire_addr.to_string(),
            ..ProxyConfig::default()
        };
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let proxy = tokio::spawn(serve::<Vec<u8>, _>(
            listener,
            cfg,
            None,
            None,
            PipelineOptions::default(),
            Box::new(Count(Arc::new(AtomicU64::new(0)))),
            async move {
                let _ = stop_rx.await;
            },
        ));
        let client = tokio::net::TcpStream::connect(addr).await.unwrap();
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let a = written.load(Ordering::Relaxed);
        tokio::time::sleep(Duration::from_millis(500)).await;
        let b = written.load(Ordering::Relaxed);
        assert_eq!(a, b, "the writer still makes progress: nothing pushes back");
        // Kernel socket buffers on both legs (autotuned up to tcp_rmem max) plus one 128 KiB relay
        // buffer, nothing more.
        assert!(b < 128 << 20, "{b} bytes accepted from the writer");
        drop(client);
        let _ = stop_tx.send(());
        tokio::time::timeout(Duration::from_secs(10), proxy)
            .await
            .expect("proxy ends")
            .unwrap()
            .unwrap();
    });
}

#[test]
fn delay_holds_chunks_and_drop_after_bytes_cuts_at_the_byte() {
    use sioscope::proxy::{Fault, FaultPlan};
    runtime().block_on(async {
        let echo = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let echo_addr = echo.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut s, _)) = echo.accept().await {
                tokio::spawn(async move {
                    let (mut r, mut w) = s.split();
                    let _ = tokio::io::copy(&mut r, &mut w).await;
                });
            }
        });
        for (fault, expect_len, min_rtt) in [
            (
                Fault::Delay(Duration::from_millis(200)),
                64usize,
                Duration::from_millis(400),
            ),
            (Fault::DropAfterBytes(1000), 500, Duration::ZERO),
        ] {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let cfg = ProxyConfig {
                upstream: echo_addr.to_string(),
                faults: FaultPlan::new(std::slice::from_ref(&fault)),
                max_connections: Some(1),
                ..ProxyConfig::default()
            };
            let proxy = tokio::spawn(serve::<Vec<u8>, _>(
                listener,
                cfg,
                None,
                None,
                PipelineOptions::default(),
                Box::new(Count(Arc::new(AtomicU64::new(0)))),
                tokio::time::sleep(Duration::from_secs(10)),
            ));
            let mut c = tokio::net::TcpStream::connect(addr).await.unwrap();
            let t = std::time::Instant::now();
            // delay:200ms: 64 bytes out and back wait 200 ms each way. drop-after:1000 counts
            // both directions together: 500 out and 500 echoed back reach the budget, and the
            // proxy cuts the connection after forwarding the echo.
            let n = if expect_len == 64 { 64 } else { 500 };
            c.write_all(&vec![b'x'; n]).await.unwrap();
            let mut got = vec![0u8; n];
            tokio::time::timeout(Duration::from_secs(5), c.read_exact(&mut got))
                .await
                .expect("bounded")
                .unwrap();
            assert!(t.elapsed() >= min_rtt, "{fault}: {:?}", t.elapsed());
            if expect_len == 500 {
                let _ = c.write_all(b"y").await;
                let mut rest = Vec::new();
                let r = tokio::time::timeout(Duration::from_secs(5), c.read_to_end(&mut rest))
                    .await
                    .expect("cut within the bound");
                assert!(r.is_err() || rest.is_empty(), "{rest:?}");
            } else {
                drop(c);
            }
            let summary = tokio::time::timeout(Duration::from_secs(10), proxy)
                .await
                .expect("proxy ends")
                .unwrap()
                .unwrap();
            let injected = u64::from(expect_len == 500);
            assert_eq!(summary.injected, injected, "{fault}");
            assert!(summary.bytes[0] + summary.bytes[1] <= 1000, "{summary:?}");
        }
    });
}

/// Issue 7: "a real app's behaviour through the proxy equals without it" — the same scripted
/// real client, directly and through the proxy (with decoding on), over WebSocket (compressed)
/// and polling, reports the same things (events, acks, connects, disconnect reasons).
#[test]
fn the_real_app_behaves_the_same_through_the_proxy_as_without_it() {
    let dir = tempfile::tempdir().unwrap();
    let (sp, pp) = (free_port(), free_port());
    let _server = node_server(sp, DEFLATE, &dir.path().join("server.log"));
    let _px = proxy(dir.path(), pp, sp, &["--format", "ndjson"]);
    let script = r#"[{"op":"connect"},{"op":"emit","event":"chat","count":3,"ack":true},{"op":"emit","event":"echo","count":2},{"op":"emit","event":"big","spec":{"size":20000},"ack":true},{"op":"sleep","ms":200},{"op":"disconnect"}]"#;
    // What a run reports, without ids and timings.
    let shape = |log: Vec<Value>| -> Vec<String> {
        let mut v: Vec<String> = log
            .iter()
            .map(|l| {
                let keep = [
                    "k", "event", "nsp", "reason", "dir", "side", "count", "binary",
                ];
                let o: serde_json::Map<String, Value> = keep
                    .iter()
                    .filter_map(|k| l.get(*k).map(|v| ((*k).to_string(), v.clone())))
                    .collect();
                Value::Object(o).to_string()
            })
            .collect();
        v.sort();
        v
    };
    for transports in [
        r#"{"transports":["websocket"]}"#,
        r#"{"transports":["polling"]}"#,
    ] {
        let direct = shape(node_client(
            &format!("http://127.0.0.1:{sp}"),
            transports,
            script,
        ));
        let proxied = shape(node_client(
            &format!("http://127.0.0.1:{pp}"),
            transports,
            script,
        ));
        assert!(direct.iter().any(|l| l.contains("\"ack\"")), "{direct:#?}");
        // the script ran to its end: the client's own disconnect is reported
        assert!(
            direct.iter().any(|l| l.contains("io client disconnect")),
            "{direct:#?}"
        );
        assert_eq!(
            direct, proxied,
            "{transports}: behaviour differs through the proxy"
        );
    }
}

/// An upstream answering every HTTP request on its connection with an Engine.IO open packet.
fn open_answering_upstream() -> u16 {
    use std::io::{Read, Write};
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = l.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for conn in l.incoming() {
            let Ok(mut conn) = conn else { continue };
            std::thread::spawn(move || {
                let open = r#"0{"sid":"timecol","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#;
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                loop {
                    match conn.read(&mut chunk) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(chunk.get(..n).unwrap_or_default()),
                    }
                    while let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        buf.drain(..end + 4);
                        let resp = format!(
                            "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Length: {}\r\n\r\n{open}",
                            open.len()
                        );
                        if conn.write_all(resp.as_bytes()).is_err() {
                            return;
                        }
                    }
                }
            });
        }
    });
    port
}

/// The time column of each text line (its first field), in seconds.
fn time_column(text: &str) -> Vec<f64> {
    text.lines()
        .filter_map(|l| l.split_whitespace().next()?.parse().ok())
        .collect()
}

/// One polling handshake on a fresh connection to the proxy at `port`.
fn handshake_through(port: u16) {
    use std::io::{Read, Write};
    let mut c = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    let req = format!(
        "GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n"
    );
    c.write_all(req.as_bytes()).expect("request");
    c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut got = [0u8; 512];
    let n = c.read(&mut got).expect("answer");
    assert!(String::from_utf8_lossy(got.get(..n).unwrap_or_default()).contains("timecol"));
}

/// The proxy's relative time column counts from the first connection, not from the first line
/// printed: a filter that hides the first connection does not shift the times of the second
/// (400 ms later), and they agree with `decode` of the recording under the same filter (which
/// counts from the capture's first packet).
#[test]
fn proxy_time_column_counts_from_the_first_connection_like_decode_of_the_recording() {
    let dir = tempfile::tempdir().unwrap();
    let (up, pp) = (open_answering_upstream(), free_port());
    let rec = dir.path().join("rec.pcapng");
    let rec_s = rec.to_str().unwrap();
    let filter = ["--layer", "http", "--conn", "2", "--color", "never"];
    let mut args = vec!["--record", rec_s];
    args.extend(filter);
    let mut px = proxy(dir.path(), pp, up, &args);
    handshake_through(pp);
    std::thread::sleep(Duration::from_millis(400));
    handshake_through(pp);
    std::thread::sleep(Duration::from_millis(200));
    assert!(px.interrupt(10).is_some_and(|s| s.success()));
    let live = std::fs::read_to_string(dir.path().join("proxy.out")).unwrap();
    let live_t = time_column(&live);
    assert!(live.contains("GET /socket.io/"), "{live}");
    let first = live_t.first().copied().unwrap_or(0.0);
    assert!(
        first >= 0.35,
        "first printed line at {first} s, not counted from the first connection: {live}"
    );
    let mut decode = vec!["decode", rec_s];
    decode.extend(filter);
    let out = sioscope(&decode);
    assert!(out.status.success());
    let recorded = String::from_utf8_lossy(&out.stdout);
    let rec_t = time_column(&recorded);
    assert_eq!(
        live_t.len(),
        rec_t.len(),
        "live:\n{live}\nrecorded:\n{recorded}"
    );
    for (l, r) in live_t.iter().zip(&rec_t) {
        assert!(
            (l - r).abs() < 0.002,
            "live {l} s, recording {r} s:\n{live}\n{recorded}"
        );
    }
}
