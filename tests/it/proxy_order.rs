//! The proxy keeps the order of requests across connections (issue #14).
//!
//! The official engine.io-protocol suite's "forcefully closes the session" sends, on two
//! connections, a GET poll (left pending) and then a POST of the close packet `1`. The server's own
//! answers tell which reached it first. engine.io 6.6.12 (under socket.io 4.8.4) answers the pending
//! GET with a noop `6` when the POST closes the session after it (`engine.io@6.6.12/build/
//! transports/polling.js:186-190`, `onClose`: "close pending poll request" with a noop) and with
//! 400 when the POST came first and the session is already gone (`engine.io@6.6.12/build/
//! server.js:129-133`: an unknown sid is `UNKNOWN_SID`; `server.js:722`: answered 400). Before
//! the sequencer, the proxy forwarded the POST first in 44 of 150 runs (issue #14).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Command, Stdio};
use std::time::Duration;

use super::support::{free_port, proxy, wait_listening, Kill};
use crate::common::root;

/// The suite's reference server (socket.io 4.8.4, Engine.IO v4 at `/engine.io/`) on `port`.
fn suite_server(port: u16) -> Kill {
    assert!(
        root()
            .join("fixtures/lab/node-v4/node_modules/engine.io")
            .is_dir(),
        "run `npm ci` in fixtures/lab/node-v4 (.ci/run does)"
    );
    let child = Command::new("node")
        .arg("fixtures/lab/suite/node-v4.js")
        .arg(port.to_string())
        .current_dir(root())
        // It exits when its stdin closes: the pipe stays open while the child is alive.
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("node fixtures/lab/suite/node-v4.js");
    let k = Kill(child);
    wait_listening(port, 10);
    k
}

fn connect(port: u16) -> TcpStream {
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let s = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.set_nodelay(true).unwrap();
    s
}

fn get(sid: Option<&str>) -> Vec<u8> {
    let sid = sid.map(|s| format!("&sid={s}")).unwrap_or_default();
    format!(
        "GET /engine.io/?EIO=4&transport=polling{sid} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .into_bytes()
}

fn post_close(sid: &str) -> Vec<u8> {
    format!(
        "POST /engine.io/?EIO=4&transport=polling&sid={sid} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain;charset=UTF-8\r\nContent-Length: 1\r\nConnection: close\r\n\r\n1"
    )
    .into_bytes()
}

/// Reads one `Connection: close` response: status and body.
fn response(mut s: TcpStream) -> (u16, String) {
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

/// Which request the server saw first, by its own answers.
#[derive(Debug, PartialEq, Eq)]
enum Seen {
    /// GET answered `6` (noop) and POST `ok`: the GET came first.
    InOrder,
    /// GET answered 400: the POST came first and closed the session.
    PostFirst,
    /// Anything else (printed in the failure).
    Other(String),
}

/// One force-close sequence through `port`. `connect_both_first`: both connections are accepted
/// before either sends (the later one's upstream connect may then finish first); otherwise the
/// POST's connection is opened only after the GET was sent.
fn force_close(port: u16, connect_both_first: bool) -> Seen {
    let mut h = connect(port);
    h.write_all(&get(None)).unwrap();
    let (st, body) = response(h);
    let Some(sid) = body
        .split("\"sid\":\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .map(str::to_string)
    else {
        return Seen::Other(format!("handshake {st} {body}"));
    };
    let (mut a, mut b);
    if connect_both_first {
        a = connect(port);
        b = connect(port);
        a.write_all(&get(Some(&sid))).unwrap();
        b.write_all(&post_close(&sid)).unwrap();
    } else {
        a = connect(port);
        a.write_all(&get(Some(&sid))).unwrap();
        b = connect(port);
        b.write_all(&post_close(&sid)).unwrap();
    }
    let ga = response(a);
    let pb = response(b);
    match (ga.0, ga.1.as_str(), pb.0, pb.1.as_str()) {
        (200, "6", 200, "ok") => Seen::InOrder,
        (400, _, _, _) => Seen::PostFirst,
        _ => Seen::Other(format!("GET {ga:?} POST {pb:?}")),
    }
}

fn run(port: u16, n: usize) -> (usize, Vec<String>) {
    let mut reordered = 0;
    let mut other = vec![];
    for i in 0..n {
        match force_close(port, i % 2 == 0) {
            Seen::InOrder => {}
            Seen::PostFirst => reordered += 1,
            Seen::Other(o) => other.push(o),
        }
    }
    (reordered, other)
}

#[test]
fn force_close_sequence_keeps_its_order_through_the_proxy_200_times() {
    let dir = tempfile::tempdir().unwrap();
    let up = free_port();
    let _server = suite_server(up);
    // Direct first: the sequence itself is in order on this machine.
    let (direct, other) = run(up, 40);
    assert_eq!(
        (direct, other),
        (0, vec![]),
        "direct runs were not in order"
    );
    let listen = free_port();
    let mut p = proxy(dir.path(), listen, up, &["--format", "ndjson"]);
    let (reordered, other) = run(listen, 200);
    let status = p.interrupt(10);
    let err = std::fs::read_to_string(dir.path().join("proxy.err")).unwrap_or_default();
    assert_eq!(
        (reordered, other),
        (0, vec![]),
        "the proxy let a POST overtake the GET before it; proxy stderr:\n{err}"
    );
    assert!(status.is_some_and(|s| s.success()), "{err}");
    assert!(!err.contains("out of turn"), "{err}");
}
