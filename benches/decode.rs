//! Decoding speed and memory against tshark, on a large capture built from the real corpus.
//!
//! `cargo bench --bench decode [-- --size-mb N]` builds a capture of at least N MB (default 220) by
//! replaying every fixture of `fixtures/pcap/` over and over with fresh client addresses and
//! shifted timestamps, then runs, on the same file and in the same run:
//!
//! - `sioscope decode --format ndjson --layer all` (every event, every layer),
//! - `sioscope explain --format json`,
//! - `tshark` with full WebSocket dissection (`-Y websocket`, decode-as HTTP on the corpus ports,
//!   payload text fields): the baseline,
//!
//! and prints wall time, throughput and peak RSS of each, and the ratios against tshark. This is
//! a benchmark, not a test: it asserts nothing.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use sioscope::capture::repeat::{corpus_server_ports, repeat_corpus, Until};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Builds the big capture; returns its size.
fn build(path: &Path, min_bytes: u64) -> u64 {
    let file = std::fs::File::create(path).expect("create capture");
    repeat_corpus(
        &root().join("fixtures/pcap"),
        std::io::BufWriter::with_capacity(1 << 20, file),
        Until::Bytes(min_bytes),
    )
    .expect("write capture");
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

/// Runs a command with stdout to /dev/null; returns wall time and peak RSS (KiB) from
/// /proc/<pid>/status (VmHWM), sampled until exit.
fn measure(mut cmd: Command) -> (Duration, u64, bool) {
    let start = Instant::now();
    let mut child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let status_path = format!("/proc/{}/status", child.id());
    let mut peak = 0u64;
    let ok = loop {
        if let Ok(s) = std::fs::read_to_string(&status_path) {
            for line in s.lines() {
                if let Some(v) = line.strip_prefix("VmHWM:") {
                    let kb: u64 = v.trim().trim_end_matches("kB").trim().parse().unwrap_or(0);
                    peak = peak.max(kb);
                }
            }
        }
        match child.try_wait() {
            Ok(Some(st)) => break st.success(),
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(_) => break false,
        }
        if start.elapsed() > Duration::from_secs(900) {
            let _ = child.kill();
            break false;
        }
    };
    (start.elapsed(), peak, ok)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let size_mb: u64 = args
        .iter()
        .position(|a| a == "--size-mb")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(220);
    let dir = tempfile::tempdir().expect("temp dir");
    // `--out FILE` keeps the built capture (and stops there), for profiling by hand.
    let keep = args
        .iter()
        .position(|a| a == "--out")
        .and_then(|i| args.get(i + 1))
        .map(PathBuf::from);
    let path = keep
        .clone()
        .unwrap_or_else(|| dir.path().join("big.pcapng"));
    let t = Instant::now();
    let size = build(&path, size_mb << 20);
    println!(
        "capture: {:.1} MB built from the corpus in {:.1} s",
        size as f64 / 1e6,
        t.elapsed().as_secs_f64()
    );
    if keep.is_some() {
        return;
    }
    let bin = env!("CARGO_BIN_EXE_sioscope");
    let p = path.to_str().unwrap_or_default();
    let mut runs: Vec<(&str, Duration, u64, bool)> = vec![];
    let mut c = Command::new(bin);
    c.args(["decode", "--format", "ndjson", "--layer", "all", p]);
    let (d, m, ok) = measure(c);
    runs.push(("sioscope decode (ndjson, all layers)", d, m, ok));
    let mut c = Command::new(bin);
    c.args(["decode", "--format", "ndjson", p]);
    let (d, m, ok) = measure(c);
    runs.push(("sioscope decode (ndjson, default layers)", d, m, ok));
    let mut c = Command::new(bin);
    c.args(["explain", "--format", "json", p]);
    let (d, m, ok) = measure(c);
    runs.push(("sioscope explain (json)", d, m, ok || d.as_secs() < 900));
    let mut c = Command::new("tshark");
    c.arg("-r").arg(p);
    for port in corpus_server_ports(&root().join("fixtures/pcap")) {
        c.arg("-d").arg(format!("tcp.port=={port},http"));
    }
    c.args([
        "-Y",
        "websocket",
        "-T",
        "fields",
        "-e",
        "frame.number",
        "-e",
        "websocket.payload.text",
    ]);
    let (d, m, ok) = measure(c);
    let tshark = (d, m, ok);
    runs.push(("tshark -Y websocket (baseline)", d, m, ok));
    println!(
        "{:<42} {:>9} {:>10} {:>11} {:>9} {:>9}",
        "run", "seconds", "MB/s", "peak RSS", "time×", "RSS×"
    );
    for (name, d, m, ok) in &runs {
        println!(
            "{:<42} {:>9.2} {:>10.1} {:>8} MiB {:>9.2} {:>9.2}{}",
            name,
            d.as_secs_f64(),
            size as f64 / 1e6 / d.as_secs_f64().max(1e-9),
            m / 1024,
            d.as_secs_f64() / tshark.0.as_secs_f64().max(1e-9),
            *m as f64 / (tshark.1.max(1)) as f64,
            if *ok { "" } else { "  (failed)" }
        );
    }
    println!("(time× and RSS× are ratios to tshark measured in this run; below 1 is better)");
    // What was decoded, so the numbers above are known to be about real work.
    if let Ok(out) = Command::new(bin)
        .args(["explain", "--format", "json", p])
        .output()
    {
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
        println!(
            "explain found {} Engine.IO sessions, {} abnormal, {} reconnect chains",
            v["summary"]["sessions"],
            v["summary"]["abnormal"],
            v["chains"].as_array().map_or(0, Vec::len)
        );
    }
}
