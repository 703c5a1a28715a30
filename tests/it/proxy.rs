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
    let recorded = sio_events(&json_lines(&String::from_utf8_lossy(&out.stdout)));
    assert_eq!(live_sio, recorded, "live view and recording differ");
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
