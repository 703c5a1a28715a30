//! `sioscope doctor` against a real socket.io 4.8.4 server (fixtures/lab/node-v4/server.js):
//! all good with the settings printed; through a relay that swallows every byte after `101`,
//! the blocked WebSocket named; with the server down, the clear sentence. Every process is
//! killed by a Drop guard, every wait is bounded.

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::common::root;

/// Kills the child when dropped, whatever happened.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// Starts the real socket.io 4.8.4 server and waits for it.
fn server(opts: &str) -> (Guard, u16) {
    lab_server("node-v4", opts)
}

/// Starts a real server of `fixtures/lab/<line>` and waits (at most 15 s) for its
/// `listening <port>` line.
fn lab_server(line: &str, opts: &str) -> (Guard, u16) {
    let dir = root().join("fixtures/lab").join(line);
    let mut cmd = Command::new("node");
    cmd.arg("server.js").env("SIO_OPTS", opts).current_dir(&dir);
    start(cmd, &dir.join("node_modules"))
}

/// Runs a node script with the modules of `node_modules`, as [`lab_server`] does.
fn node_script(script: &std::path::Path, node_modules: std::path::PathBuf) -> (Guard, u16) {
    let mut cmd = Command::new("node");
    cmd.arg(script).env("NODE_PATH", &node_modules);
    start(cmd, &node_modules)
}

fn start(mut cmd: Command, node_modules: &std::path::Path) -> (Guard, u16) {
    assert!(
        node_modules.join("socket.io").is_dir(),
        "run `npm ci` in {} first (.ci/run does)",
        node_modules.display()
    );
    let port = free_port();
    let mut child = cmd
        .arg(port.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("node must be installed to run the doctor tests");
    let stdout = child.stdout.take().expect("stdout");
    let guard = Guard(child);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        // Drain to the end: a closed pipe would kill the server at its next log line.
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(l) if l.starts_with("listening") => return (guard, port),
            Ok(_) => {}
            Err(e) => panic!("the node server did not start: {e}"),
        }
    }
}

/// Runs the binary with a hard deadline; returns (exit code, stdout).
fn doctor(args: &[&str], limit: Duration) -> (Option<i32>, String) {
    let child = Command::new(env!("CARGO_BIN_EXE_sioscope"))
        .current_dir(root())
        .arg("doctor")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run sioscope");
    let mut g = Guard(child);
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = g.0.try_wait().expect("wait") {
            let mut out = String::new();
            if let Some(mut s) = g.0.stdout.take() {
                std::io::Read::read_to_string(&mut s, &mut out).ok();
            }
            let mut err = String::new();
            if let Some(mut s) = g.0.stderr.take() {
                std::io::Read::read_to_string(&mut s, &mut err).ok();
            }
            return (status.code(), out + &err);
        }
        assert!(
            Instant::now() < deadline,
            "doctor ran longer than {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn all_good_prints_the_settings_and_exits_0() {
    let (_srv, port) = server(
        r#"{"pingInterval":1500,"pingTimeout":1200,"maxHttpBufferSize":50000,"perMessageDeflate":{"threshold":0}}"#,
    );
    let url = format!("http://127.0.0.1:{port}");
    let (code, out) = doctor(
        &[&url, "--timeout", "3", "--color", "never"],
        Duration::from_secs(40),
    );
    assert_eq!(code, Some(0), "{out}");
    for want in [
        "ok      polling",
        "ok      websocket          WebSocket works",
        "ok      websocket+deflate  WebSocket with permessage-deflate works",
        "negotiated: permessage-deflate",
        "ok      upgrade            the upgrade from polling to WebSocket completes",
        "ok      upgrade+deflate    the upgrade from polling to WebSocket completes, with permessage-deflate",
        "Engine.IO 4 (socket.io 3.x/4.x), Socket.IO protocol 5, refuses Engine.IO 3 clients",
        "pingInterval 1500 ms, pingTimeout 1200 ms, maxPayload 50000 bytes",
        "Server header: (none sent)",
        "all good",
    ] {
        assert!(out.contains(want), "missing {want:?} in:\n{out}");
    }
    let (code, out) = doctor(
        &[&url, "--format", "json", "--timeout", "3"],
        Duration::from_secs(40),
    );
    assert_eq!(code, Some(0), "{out}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(v["ok"], true);
    assert_eq!(v["server"]["eio"], 4);
    assert_eq!(v["server"]["sio"], 5);
    assert_eq!(v["server"]["ping_interval"], 1500);
    assert_eq!(v["probes"].as_array().map(Vec::len), Some(5));
}

#[test]
fn eio3_acceptance_and_default_compression_are_reported() {
    let (_srv, port) = server(r#"{"allowEIO3":true}"#);
    let url = format!("127.0.0.1:{port}");
    let (code, out) = doctor(
        &[&url, "--timeout", "3", "--color", "never"],
        Duration::from_secs(40),
    );
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("also accepts Engine.IO 3 clients (allowEIO3)"),
        "{out}"
    );
    assert!(
        out.contains("the server declined permessage-deflate"),
        "{out}"
    );
    assert!(
        out.contains("pingInterval 25000 ms, pingTimeout 20000 ms"),
        "{out}"
    );
}

#[test]
fn an_engine_io_3_server_is_recognised_from_what_answers() {
    // socket.io 2.5.1 ignores EIO=4 and answers in Engine.IO 3 framing; its client pings.
    let (_srv, port) = lab_server("node-v2", "{}");
    let url = format!("http://127.0.0.1:{port}");
    let (code, out) = doctor(
        &[&url, "--timeout", "3", "--color", "never", "-v"],
        Duration::from_secs(40),
    );
    assert_eq!(code, Some(0), "{out}");
    for want in [
        "answered in Engine.IO 3 framing (the server ignores EIO=4)",
        "GET: pong received",
        "ok      upgrade            the upgrade from polling to WebSocket completes",
        "Engine.IO 3 (socket.io 1.x/2.x), Socket.IO protocol 4",
        "all good",
    ] {
        assert!(out.contains(want), "missing {want:?} in:\n{out}");
    }
}

#[test]
fn a_socket_io_0_9_server_is_recognised() {
    // socket.io 0.9.19 answers "Welcome to socket.io." on its path; its handshake is under 1/.
    let (_srv, port) = lab_server("node-v09", "{}");
    let url = format!("http://127.0.0.1:{port}");
    let (code, out) = doctor(
        &[&url, "--timeout", "2", "--color", "never"],
        Duration::from_secs(30),
    );
    assert_eq!(code, Some(1), "{out}");
    for want in [
        "this is a socket.io 0.9 server (protocol 1, before Engine.IO): socket.io 1.0+ clients cannot connect to it",
        "socket.io 0.9 (protocol 1): heartbeat timeout 60 s, close timeout 60 s, transports websocket",
        "skipped websocket          not an Engine.IO server",
    ] {
        assert!(out.contains(want), "missing {want:?} in:\n{out}");
    }
}

#[test]
fn an_auth_middleware_refusing_connect_is_a_note_not_a_blocked_path() {
    // The real socket.io 4.8.4 with a middleware that refuses every CONNECT: the frames flow,
    // the answer is CONNECT_ERROR; doctor must not read that as frames being dropped.
    let dir = tempfile::tempdir().expect("tempdir");
    let script = dir.path().join("auth.js");
    std::fs::write(
        &script,
        "const http = require('http'); const { Server } = require('socket.io');\n\
         const port = Number(process.argv[2]); const srv = http.createServer();\n\
         const io = new Server(srv, {});\n\
         io.use((socket, next) => next(new Error('not authorized')));\n\
         srv.listen(port, '127.0.0.1', () => console.log('listening ' + port));\n",
    )
    .expect("write script");
    let (_srv, port) = node_script(&script, root().join("fixtures/lab/node-v4/node_modules"));
    let url = format!("http://127.0.0.1:{port}");
    let (code, out) = doctor(
        &[&url, "--timeout", "2", "--color", "never"],
        Duration::from_secs(30),
    );
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains(r#"refuses a Socket.IO CONNECT to / without credentials (CONNECT_ERROR {"message":"not authorized"})"#), "{out}");
    assert!(
        out.contains("Engine.IO 4 (socket.io 3.x/4.x), Socket.IO protocol 5"),
        "{out}"
    );
    assert!(!out.contains("drops client"), "{out}");
}

#[test]
fn a_web_server_without_socket_io_is_told_apart_with_its_server_header() {
    // Python's stdlib HTTP server: 404 on /socket.io/, and a Server header.
    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let child = Command::new("python3")
        .args([
            "-m",
            "http.server",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
        ])
        .current_dir(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("python3 must be installed");
    let _g = Guard(child);
    let deadline = Instant::now() + Duration::from_secs(15);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "python http.server did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let url = format!("http://127.0.0.1:{port}");
    let (code, out) = doctor(
        &[&url, "--timeout", "2", "--color", "never"],
        Duration::from_secs(30),
    );
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("polling: nothing answers Engine.IO at this path (HTTP 404 File not found, an HTML page)"), "{out}");
    assert!(out.contains("Server header: SimpleHTTP/"), "{out}");
    assert!(out.contains("use --path"), "{out}");
}

/// A relay on 127.0.0.1 that passes HTTP but swallows every byte after a `101` response head
/// (in both directions), keeping the connections open: what some security software does.
async fn swallowing_relay(listener: tokio::net::TcpListener, upstream: SocketAddr) {
    loop {
        let Ok((client, _)) = listener.accept().await else {
            return;
        };
        tokio::spawn(async move {
            let Ok(server) = tokio::net::TcpStream::connect(upstream).await else {
                return;
            };
            let (mut cr, mut cw) = client.into_split();
            let (mut sr, mut sw) = server.into_split();
            let switched = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
            let sw_flag = switched.clone();
            let up = tokio::spawn(async move {
                let mut buf = vec![0u8; 16 << 10];
                while let Ok(n) = cr.read(&mut buf).await {
                    if n == 0 {
                        break;
                    }
                    if sw_flag.load(std::sync::atomic::Ordering::SeqCst) {
                        continue; // swallowed
                    }
                    if sw.write_all(&buf[..n]).await.is_err() {
                        break;
                    }
                }
            });
            let mut buf = vec![0u8; 16 << 10];
            let mut head = Vec::new();
            while let Ok(n) = sr.read(&mut buf).await {
                if n == 0 {
                    break;
                }
                if switched.load(std::sync::atomic::Ordering::SeqCst) {
                    continue; // swallowed
                }
                head.extend_from_slice(&buf[..n]);
                if head.starts_with(b"HTTP/1.1 101") {
                    if let Some(end) = head.windows(4).position(|w| w == b"\r\n\r\n") {
                        switched.store(true, std::sync::atomic::Ordering::SeqCst);
                        if cw.write_all(&head[..end + 4]).await.is_err() {
                            break;
                        }
                    }
                    continue;
                }
                head.clear();
                if cw.write_all(&buf[..n]).await.is_err() {
                    break;
                }
            }
            up.abort();
        });
    }
}

#[test]
fn a_path_that_swallows_frames_after_101_is_named() {
    let (_srv, port) = server("{}");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind relay");
    let relay_port = listener.local_addr().expect("addr").port();
    let upstream: SocketAddr = ([127, 0, 0, 1], port).into();
    rt.spawn(swallowing_relay(listener, upstream));
    let url = format!("http://127.0.0.1:{relay_port}/socket.io/");
    let (code, out) = doctor(
        &[&url, "--timeout", "1", "--color", "never"],
        Duration::from_secs(30),
    );
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("ok      polling"), "{out}");
    assert!(
        out.contains("websocket: 101 received, then no frame in 1 s: something between you and the server swallows WebSocket frames"),
        "{out}"
    );
    assert!(
        out.contains("upgrade: 101 received, then no frame in 1 s: something between you and the server swallows WebSocket frames; the upgrade never completes"),
        "{out}"
    );
    assert!(out.contains("use wss:// on port 443"), "{out}");
    assert!(
        out.contains("clients with default transports keep working over polling"),
        "{out}"
    );
    rt.shutdown_timeout(Duration::from_secs(1));
}

#[test]
fn a_server_that_is_down_gets_one_clear_sentence() {
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let (code, out) = doctor(&[&url, "--color", "never"], Duration::from_secs(20));
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains(&format!("nothing accepts connections on 127.0.0.1:{port}: the server is down, or listens on another port or address")),
        "{out}"
    );
    let (code, out) = doctor(&["ftp://127.0.0.1/"], Duration::from_secs(20));
    assert_eq!(code, Some(2), "{out}");
    assert!(
        out.contains("the scheme must be http, https, ws or wss"),
        "{out}"
    );
}

#[test]
fn an_untrusted_certificate_is_named() {
    use std::sync::Arc;
    use tokio_rustls::rustls::{self, pki_types::PrivateKeyDer, pki_types::PrivatePkcs8KeyDer};
    let ck = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()]).expect("cert");
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(ck.signing_key.serialize_der()));
    let cfg = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("versions")
    .with_no_client_auth()
    .with_single_cert(vec![ck.cert.der().clone()], key)
    .expect("server config");
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(cfg));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    rt.spawn(async move {
        while let Ok((s, _)) = listener.accept().await {
            let a = acceptor.clone();
            tokio::spawn(async move {
                let _ = a.accept(s).await;
            });
        }
    });
    let url = format!("https://127.0.0.1:{port}");
    let (code, out) = doctor(
        &[&url, "--timeout", "2", "--color", "never"],
        Duration::from_secs(20),
    );
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains(&format!(
            "cannot connect to 127.0.0.1:{port}: TLS: invalid peer certificate"
        )),
        "{out}"
    );
    rt.shutdown_timeout(Duration::from_secs(1));
}

#[test]
fn a_transport_disabled_on_purpose_is_a_note_and_a_wrong_path_a_problem() {
    let (_srv, port) = server(r#"{"transports":["polling"]}"#);
    let url = format!("http://127.0.0.1:{port}");
    let (code, out) = doctor(
        &[&url, "--timeout", "2", "--color", "never"],
        Duration::from_secs(30),
    );
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains(r#"off     websocket          WebSocket is disabled on the server (HTTP 400 Bad Request {"code":0,"message":"Transport unknown"})"#),
        "{out}"
    );
    assert!(
        out.contains("skipped upgrade            the server offers no upgrade to WebSocket"),
        "{out}"
    );
    // node's http server leaves paths nobody handles unanswered: a timeout, and the path named.
    let (code, out) = doctor(
        &[
            &url,
            "--path",
            "/nope/",
            "--timeout",
            "0.5",
            "--color",
            "never",
        ],
        Duration::from_secs(30),
    );
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("polling: no answer to the polling handshake within 0.5 s"),
        "{out}"
    );
    assert!(out.contains("check --path"), "{out}");
}
