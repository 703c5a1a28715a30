//! Helpers for the proxy tests: child processes that die with the test, free ports, bounded
//! waits, and the real node peers of `fixtures/lab/node-v4`.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::common::root;

/// A child process killed when dropped (also when the test fails).
pub struct Kill(pub Child);

impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Kill {
    /// Sends SIGINT (Ctrl-C) and waits up to `secs` for the exit; kills it after that.
    pub fn interrupt(&mut self, secs: u64) -> Option<std::process::ExitStatus> {
        let _ = Command::new("kill")
            .args(["-INT", &self.0.id().to_string()])
            .status();
        wait_bounded(&mut self.0, secs)
    }
}

/// Waits for a child up to `secs`; kills it when it takes longer.
pub fn wait_bounded(c: &mut Child, secs: u64) -> Option<std::process::ExitStatus> {
    let end = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < end {
        if let Ok(Some(st)) = c.try_wait() {
            return Some(st);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = c.kill();
    let _ = c.wait();
    None
}

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// Waits until something accepts on `port` (bounded).
pub fn wait_listening(port: u16, secs: u64) {
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let end = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < end {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(30));
    }
    panic!("nothing listens on {port} after {secs} s");
}

/// Runs a command to completion, killing it after `secs`.
pub fn run_bounded(mut cmd: Command, secs: u64) -> Output {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let end = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Ok(Some(_)) = child.try_wait() {
            break;
        }
        if Instant::now() > end {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().expect("output")
}

fn lab() -> PathBuf {
    root().join("fixtures/lab/node-v4")
}

/// Starts the real socket.io 4.8.4 server on `port` with `SIO_OPTS`, logging to `log`.
pub fn node_server(port: u16, sio_opts: &str, log: &Path) -> Kill {
    assert!(
        lab().join("node_modules/socket.io").is_dir(),
        "run `npm ci` in fixtures/lab/node-v4 (.ci/run does)"
    );
    let out = std::fs::File::create(log).expect("log");
    let child = Command::new("node")
        .arg("server.js")
        .arg(port.to_string())
        .current_dir(lab())
        .env("SIO_OPTS", sio_opts)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(Stdio::null())
        .spawn()
        .expect("node server.js");
    let k = Kill(child);
    wait_listening(port, 10);
    k
}

/// Runs the real socket.io-client 4.8.4 script against `url` (bounded); returns its JSON lines.
pub fn node_client(url: &str, mgr_opts: &str, script: &str) -> Vec<serde_json::Value> {
    let mut cmd = Command::new("node");
    cmd.arg("client.js")
        .current_dir(lab())
        .env("URL", url)
        .env("MGR_OPTS", mgr_opts)
        .env("SCRIPT", script)
        .stdin(Stdio::null());
    let out = run_bounded(cmd, 20);
    json_lines(&String::from_utf8_lossy(&out.stdout))
}

/// Parses JSON lines, skipping anything else.
pub fn json_lines(text: &str) -> Vec<serde_json::Value> {
    text.lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// Starts `sioscope proxy` with `args`; stdout and stderr go to files in `dir`.
pub fn proxy(dir: &Path, listen: u16, upstream: u16, args: &[&str]) -> Kill {
    let stdout = std::fs::File::create(dir.join("proxy.out")).expect("out");
    let stderr = std::fs::File::create(dir.join("proxy.err")).expect("err");
    let child = Command::new(env!("CARGO_BIN_EXE_sioscope"))
        .current_dir(root())
        .arg("proxy")
        .arg("--listen")
        .arg(format!("127.0.0.1:{listen}"))
        .arg("--upstream")
        .arg(format!("127.0.0.1:{upstream}"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr)
        .spawn()
        .expect("sioscope proxy");
    let k = Kill(child);
    // Not a test connection (it would show in the output): wait for the banner instead.
    let end = Instant::now() + Duration::from_secs(10);
    while Instant::now() < end {
        let err = std::fs::read_to_string(dir.join("proxy.err")).unwrap_or_default();
        if err.contains('→') {
            return k;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("sioscope proxy did not start");
}
