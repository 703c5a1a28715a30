//! Decoding speed and memory, as ratios measured in one run on one file: against tshark and
//! against the floor of the job.
//!
//! ```text
//! nice -n 19 cargo bench --bench decode [-- --size-mb N] [--repeat R] [--scales 1,2,4] [--out FILE]
//! ```
//!
//! builds a capture of at least N MB (default 60; `--size-mb 230` is the issue's 1× capture)
//! with the generator of `benches/support/capture_gen.rs` (real fixtures replayed round after
//! round), checks what sioscope decodes of it against the generator's truth, then measures,
//! interleaved R times (default 3) in rotating order so that the machine's other load falls on
//! every subject alike:
//!
//! - end to end: `decode --format ndjson`, `decode` (pretty), `explain`, `sessions`,
//!   `check --capture` (each with the default `--threads`, every core; `decode --format ndjson`
//!   and `explain` also with `--threads 1`, for the gain of the second thread), and tshark (`-d tcp.port==<port>,http -Y websocket -T fields -e
//!   websocket.payload.text`), each with stdout to /dev/null;
//! - the floor, in process: a bare read of every record, plus inflating the permessage-deflate
//!   messages of the capture with the same backend (flate2 on zlib-rs): the decoded texts of the
//!   compressed messages, compressed again per connection and direction the way the peers do
//!   (sync flush per message, context takeover), so the volume in and out is the capture's;
//! - per layer, in process: read, TCP reassembly, the whole pipeline with events dropped
//!   (HTTP, WebSocket, inflate, Engine.IO, Socket.IO), WebSocket frame parse + unmask alone,
//!   inflate alone, Engine.IO + Socket.IO parse alone, and NDJSON serialisation.
//!
//! It prints medians and ratios (to tshark, to the floor), then the peak RSS of `decode`,
//! `explain` (text and `--format json`) and `sessions` at each scale of `--scales` (times N MB) and its growth from the
//! first scale. `--out FILE` writes the capture and its truth (`FILE.truth.json`) and stops.
//! This is a benchmark: it exits 1 only when the decoded counts do not match the truth.

#[path = "support/capture_gen.rs"]
mod capture_gen;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress};
use sioscope::capture::{link, replay, CaptureReader, ReplayOptions};
use sioscope::event::{Body, Dir, Event, Origin, TcpInfo, WsInfo};
use sioscope::report::{NdjsonReporter, Reporter};
use sioscope::tcp::Reassembler;
use sioscope::ws::frame::encode_frame;
use sioscope::ws::{WsConfig, WsDecoder, WsOutput};

use capture_gen::{build, ports, Truth};

fn arg<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(String::as_str)
}

/// CPU seconds (user + system) of a running process, from `/proc/<pid>/stat` (clock ticks,
/// assumed 100 per second as on Linux x86-64).
fn cpu_seconds(stat_path: &str) -> Option<f64> {
    let s = std::fs::read_to_string(stat_path).ok()?;
    // Fields after the command name (which is in parentheses and may hold spaces).
    let rest = s.rsplit_once(')')?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = f.get(11)?.parse().ok()?;
    let stime: f64 = f.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

/// Runs a command with stdout to /dev/null; returns wall time, peak RSS (KiB, VmHWM sampled
/// until exit) and whether it exited 0 or 1 (1 = "problem found" is a normal answer). The CPU
/// time it used (sampled until exit, so short by at most one sampling period) goes to `cpu`.
fn measure_cpu(mut cmd: Command, cpu: &mut f64) -> (Duration, u64, bool) {
    let start = Instant::now();
    let Ok(mut child) = cmd.stdout(Stdio::null()).stderr(Stdio::null()).spawn() else {
        return (start.elapsed(), 0, false);
    };
    let status_path = format!("/proc/{}/status", child.id());
    let stat_path = format!("/proc/{}/stat", child.id());
    let mut peak = 0u64;
    let ok = loop {
        if let Some(c) = cpu_seconds(&stat_path) {
            *cpu = cpu.max(c);
        }
        if let Ok(s) = std::fs::read_to_string(&status_path) {
            for line in s.lines() {
                if let Some(v) = line.strip_prefix("VmHWM:") {
                    let kb: u64 = v.trim().trim_end_matches("kB").trim().parse().unwrap_or(0);
                    peak = peak.max(kb);
                }
            }
        }
        match child.try_wait() {
            Ok(Some(st)) => break matches!(st.code(), Some(0 | 1)),
            Ok(None) => std::thread::sleep(Duration::from_millis(2)),
            Err(_) => break false,
        }
    };
    (start.elapsed(), peak, ok)
}

/// [`measure_cpu`] without the CPU time.
fn measure(cmd: Command) -> (Duration, u64, bool) {
    measure_cpu(cmd, &mut 0.0)
}

/// The end-to-end subjects.
fn subjects(p: &str) -> Vec<(&'static str, Command)> {
    let bin = env!("CARGO_BIN_EXE_sioscope");
    let sio = |args: &[&str]| {
        let mut c = Command::new(bin);
        c.args(args);
        c
    };
    let mut tshark = Command::new("tshark");
    tshark.arg("-r").arg(p);
    for port in ports() {
        tshark.arg("-d").arg(format!("tcp.port=={port},http"));
    }
    tshark.args([
        "-Y",
        "websocket",
        "-T",
        "fields",
        "-e",
        "websocket.payload.text",
    ]);
    vec![
        ("tshark", tshark),
        (
            "decode --format ndjson",
            sio(&["decode", "--format", "ndjson", p]),
        ),
        (
            "  ndjson, --threads 1",
            sio(&["decode", "--format", "ndjson", "--threads", "1", p]),
        ),
        ("decode (pretty)", sio(&["decode", "--color", "never", p])),
        ("explain", sio(&["explain", "--color", "never", p])),
        (
            "  explain, --threads 1",
            sio(&["explain", "--color", "never", "--threads", "1", p]),
        ),
        ("sessions", sio(&["sessions", "--color", "never", p])),
        ("check --capture", sio(&["check", "--capture", p])),
    ]
}

/// Messages of the capture kept for the per-layer runs.
#[derive(Default)]
struct Corpus {
    /// Compressed again per (connection, direction): each message's raw deflate bytes (the
    /// `00 00 ff ff` tail removed, as on the wire).
    deflated: Vec<Vec<Vec<u8>>>,
    /// Bytes the compressed messages inflate to.
    inflated_bytes: u64,
    /// Every text message, as masked WebSocket frames (client to server) or bare ones.
    frames_c2s: Vec<u8>,
    frames_s2c: Vec<u8>,
    /// Engine.IO version and text of every WebSocket text message.
    texts: Vec<String>,
}

/// One frame with minimal length encoding, masked with a fixed key when `mask`.
fn frame(out: &mut Vec<u8>, payload: &[u8], mask: bool) {
    encode_frame(out, 0x81, payload, mask.then_some([0x37, 0xfa, 0x21, 0x3d]));
}

/// Decodes the capture once and keeps what the per-layer runs need; returns the counts
/// compared with the truth.
fn collect(path: &Path) -> (Corpus, Counts) {
    let mut c = Corpus::default();
    let mut counts = Counts::default();
    let mut streams: HashMap<(u64, bool), (Compress, usize)> = HashMap::new();
    let mut sids = std::collections::HashSet::new();
    // The client address of each connection (the generator gives every round and fixture its
    // own): a session is a (client address, sid) pair, as a few sids repeat from round to round.
    let mut clients: HashMap<u64, String> = HashMap::new();
    let f = std::fs::File::open(path).map(|f| std::io::BufReader::with_capacity(1 << 16, f));
    let Ok(f) = f else {
        return (c, counts);
    };
    let _ = replay(f, &ReplayOptions::default(), &mut |ev: Event| {
        counts.events += 1;
        match &ev.body {
            Body::Tcp(TcpInfo::Open { client, .. }) => {
                counts.tcp_connections += 1;
                let ip = client.rsplit_once(':').map_or(&client[..], |(a, _)| a);
                clients.insert(ev.conn.0, ip.to_string());
            }
            Body::Eio { eio } | Body::Sio { eio, .. } => {
                if let Some(s) = &eio.sid {
                    let ip = clients.get(&ev.conn.0).cloned().unwrap_or_default();
                    sids.insert((ip, s.clone()));
                }
            }
            Body::Ws(WsInfo::Message {
                text: Some(t),
                compressed,
                ..
            }) => {
                counts.ws_messages += 1;
                let c2s = ev.dir == Some(Dir::C2S);
                frame(
                    if c2s {
                        &mut c.frames_c2s
                    } else {
                        &mut c.frames_s2c
                    },
                    t.as_bytes(),
                    c2s,
                );
                c.texts.push(t.clone());
                if *compressed {
                    c.inflated_bytes += t.len() as u64;
                    let n = streams.len();
                    let (z, idx) = streams
                        .entry((ev.conn.0, c2s))
                        .or_insert_with(|| (Compress::new(Compression::default(), false), n));
                    if c.deflated.len() <= *idx {
                        c.deflated.resize_with(*idx + 1, Vec::new);
                    }
                    let mut out = Vec::with_capacity(t.len() / 2 + 64);
                    let mut input = t.as_bytes();
                    loop {
                        let before = z.total_in();
                        if out.capacity() - out.len() < 64 {
                            out.reserve(out.capacity().max(1024));
                        }
                        if z.compress_vec(input, &mut out, FlushCompress::Sync)
                            .is_err()
                        {
                            break;
                        }
                        let used = (z.total_in() - before) as usize;
                        input = input.get(used..).unwrap_or_default();
                        if input.is_empty() && out.ends_with(&[0, 0, 0xff, 0xff]) {
                            break;
                        }
                    }
                    out.truncate(out.len().saturating_sub(4));
                    if let Some(s) = c.deflated.get_mut(*idx) {
                        s.push(out);
                    }
                }
            }
            Body::Ws(WsInfo::Message { .. }) => counts.ws_messages += 1,
            _ => {}
        }
    });
    counts.eio_sessions = sids.len() as u64;
    (c, counts)
}

/// What sioscope decoded of the capture.
#[derive(Default, Debug)]
struct Counts {
    events: u64,
    tcp_connections: u64,
    ws_messages: u64,
    eio_sessions: u64,
}

fn open(path: &Path) -> std::io::BufReader<std::fs::File> {
    match std::fs::File::open(path) {
        Ok(f) => std::io::BufReader::with_capacity(1 << 16, f),
        Err(e) => panic!("cannot open {}: {e}", path.display()),
    }
}

/// Bare read of every record.
fn layer_read(path: &Path) -> u64 {
    let Ok(mut r) = CaptureReader::new(open(path)) else {
        return 0;
    };
    let mut n = 0u64;
    while let Ok(Some(p)) = r.next_packet() {
        n = n.wrapping_add(p.data.len() as u64);
    }
    n
}

/// Read + link parse + TCP reassembly.
fn layer_reassembly(path: &Path) -> u64 {
    let Ok(mut r) = CaptureReader::new(open(path)) else {
        return 0;
    };
    let mut tcp = Reassembler::new(Default::default());
    let mut n = 0u64;
    while let Ok(Some(p)) = r.next_packet() {
        let origin = Origin {
            frame: p.frame,
            ts: p.ts,
        };
        if let Ok(seg) = link::parse_tcp(&p) {
            tcp.segment(&seg, origin, &mut |_| n += 1);
        }
    }
    tcp.finish(&mut |_| n += 1);
    n
}

/// The whole pipeline, events dropped.
fn layer_pipeline(path: &Path) -> u64 {
    let mut n = 0u64;
    let _ = replay(open(path), &ReplayOptions::default(), &mut |_| n += 1);
    n
}

/// The whole pipeline, every event serialised as NDJSON into a sink.
fn layer_ndjson(path: &Path) -> u64 {
    let mut out = NdjsonReporter::new(std::io::sink());
    let mut n = 0u64;
    let _ = replay(open(path), &ReplayOptions::default(), &mut |ev| {
        n += 1;
        let _ = out.event(&ev);
    });
    n
}

/// Inflates every compressed message with a fresh inflater per stream, into one reused buffer.
fn layer_inflate(c: &Corpus) -> u64 {
    let mut buf: Vec<u8> = Vec::with_capacity(1 << 20);
    let mut total = 0u64;
    for stream in &c.deflated {
        let mut d = Decompress::new(false);
        for msg in stream {
            for input in [&msg[..], &[0, 0, 0xff, 0xff][..]] {
                let mut input = input;
                loop {
                    buf.clear();
                    let before = d.total_in();
                    if d.decompress_vec(input, &mut buf, FlushDecompress::Sync)
                        .is_err()
                    {
                        break;
                    }
                    total += buf.len() as u64;
                    let used = (d.total_in() - before) as usize;
                    input = input.get(used..).unwrap_or_default();
                    if input.is_empty() && buf.len() < buf.capacity() {
                        break;
                    }
                }
            }
        }
    }
    total
}

/// WebSocket frame parse + unmask of every text message (uncompressed, one frame each).
fn layer_frames(c: &Corpus) -> u64 {
    let mut n = 0u64;
    for (bytes, from_client) in [(&c.frames_c2s, true), (&c.frames_s2c, false)] {
        let mut d = WsDecoder::new(WsConfig {
            from_client,
            extensions: vec![],
            max_message: 64 << 20,
            midstream: false,
        });
        for chunk in bytes.chunks(64 << 10) {
            d.push(chunk);
            while let Some(o) = d.poll() {
                if let WsOutput::Message(_) = o {
                    n += 1;
                }
            }
        }
    }
    n
}

/// Engine.IO + Socket.IO parse of every WebSocket text message.
fn layer_parse(c: &Corpus) -> u64 {
    let mut n = 0u64;
    for t in &c.texts {
        if let Ok(p) = sioscope::engineio::decode_text(sioscope::engineio::Version::V4, t) {
            n += 1;
            if let sioscope::engineio::Packet::Message(sioscope::engineio::Data::Text(s)) = &p {
                if sioscope::socketio::decode(s).is_ok() {
                    n += 1;
                }
            }
        }
    }
    n
}

fn time<T>(f: impl FnOnce() -> T) -> (Duration, T) {
    let t = Instant::now();
    let v = std::hint::black_box(f());
    (t.elapsed(), v)
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

fn check_truth(truth: &Truth, counts: &Counts, explain_sessions: Option<u64>) -> bool {
    let mut ok = true;
    let mut line = |what: &str, want: u64, got: u64| {
        let good = want == got;
        ok &= good;
        println!(
            "  {what:<28} truth {want:>9}  decoded {got:>9}  {}",
            if good { "ok" } else { "MISMATCH" }
        );
    };
    line(
        "TCP connections",
        truth.tcp_connections,
        counts.tcp_connections,
    );
    line(
        "Engine.IO sessions (sids)",
        truth.eio_sessions,
        counts.eio_sessions,
    );
    if let Some(s) = explain_sessions {
        // explain keys sessions by sid; the sids that travel only compressed repeat each round.
        line("explain: sessions (by sid)", truth.distinct_sids, s);
        println!(
            "  ({} sessions per round keep their sid: it travels only inside compressed messages)",
            truth.sids_kept
        );
    }
    ok
}

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let size_mb: u64 = arg(&args, "--size-mb")
        .and_then(|v| v.parse().ok())
        .unwrap_or(60);
    let repeat: usize = arg(&args, "--repeat")
        .and_then(|v| v.parse().ok())
        .unwrap_or(3)
        .max(1);
    let scales: Vec<u64> = arg(&args, "--scales")
        .unwrap_or("1,2,4")
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let dir = match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => {
            eprintln!("temp dir: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let keep = arg(&args, "--out").map(PathBuf::from);
    let path = keep
        .clone()
        .unwrap_or_else(|| dir.path().join("big.pcapng"));
    println!("load average at start: {}", loadavg());
    let t = Instant::now();
    let truth = match build(&path, size_mb << 20) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("building the capture: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    println!(
        "capture: {:.1} MB, {} records, {} rounds of {} fixtures ({} with permessage-deflate), built in {:.1} s",
        truth.bytes as f64 / 1e6,
        truth.records,
        truth.rounds,
        truth.fixtures,
        truth.deflate_fixtures,
        t.elapsed().as_secs_f64()
    );
    if let Some(k) = &keep {
        let tp = PathBuf::from(format!("{}.truth.json", k.display()));
        let _ = std::fs::write(&tp, serde_json::to_vec_pretty(&truth).unwrap_or_default());
        println!("wrote {} and {}", k.display(), tp.display());
        return std::process::ExitCode::SUCCESS;
    }
    let p = path.to_str().unwrap_or_default().to_string();

    // What sioscope decodes, against the truth.
    let (corpus, counts) = collect(&path);
    let explain_sessions = Command::new(env!("CARGO_BIN_EXE_sioscope"))
        .args(["explain", "--format", "json", &p])
        .output()
        .ok()
        .and_then(|o| serde_json::from_slice::<serde_json::Value>(&o.stdout).ok())
        .and_then(|v| v["summary"]["sessions"].as_u64());
    println!(
        "truth check ({} events, {} WebSocket messages decoded):",
        counts.events, counts.ws_messages
    );
    let truth_ok = check_truth(&truth, &counts, explain_sessions);

    // Interleaved runs: per round, every subject once, in rotating order.
    let mb = truth.bytes as f64 / 1e6;
    let names: Vec<&str> = subjects(&p).iter().map(|(n, _)| *n).collect();
    let mut wall: HashMap<&str, Vec<f64>> = HashMap::new();
    let mut cpu: HashMap<&str, Vec<f64>> = HashMap::new();
    let mut failed: Vec<&str> = vec![];
    let layers: [(&str, &dyn Fn() -> u64); 7] = [
        ("read every record", &|| layer_read(&path)),
        ("read + TCP reassembly", &|| layer_reassembly(&path)),
        ("whole pipeline, events dropped", &|| layer_pipeline(&path)),
        ("whole pipeline + NDJSON to a sink", &|| layer_ndjson(&path)),
        ("inflate alone", &|| layer_inflate(&corpus)),
        ("WS frame parse + unmask alone", &|| layer_frames(&corpus)),
        ("EIO + SIO parse alone", &|| layer_parse(&corpus)),
    ];
    let mut layer_t: HashMap<&str, Vec<f64>> = HashMap::new();
    for round in 0..repeat {
        let mut subs = subjects(&p);
        let k = round % subs.len();
        subs.rotate_left(k);
        for (name, cmd) in subs {
            let mut c = 0.0;
            let (d, _, ok) = measure_cpu(cmd, &mut c);
            if !ok {
                failed.push(name);
            }
            wall.entry(name).or_default().push(d.as_secs_f64());
            cpu.entry(name).or_default().push(c);
            // The in-process layers between subjects, so they share the load too.
            if name == "tshark" || name == "decode --format ndjson" {
                for (ln, f) in &layers {
                    let (d, _) = time(f);
                    layer_t.entry(ln).or_default().push(d.as_secs_f64());
                }
            }
        }
    }
    let med =
        |m: &mut HashMap<&str, Vec<f64>>, k: &str| m.get_mut(k).map_or(f64::NAN, |v| median(v));
    let t_read = med(&mut layer_t, "read every record");
    let t_inflate = med(&mut layer_t, "inflate alone");
    let floor = t_read + t_inflate;
    let t_tshark = med(&mut wall, "tshark");
    println!(
        "\nend to end, median of {repeat} interleaved runs ({mb:.1} MB; floor = read {t_read:.3} s + inflate {t_inflate:.3} s = {floor:.3} s):"
    );
    let c_tshark = med(&mut cpu, "tshark");
    println!(
        "  {:<26} {:>8} {:>9} {:>12} {:>10} {:>9} {:>12}",
        "subject", "seconds", "MB/s", "× tshark", "× floor", "CPU s", "CPU× tshark"
    );
    for n in &names {
        let s = med(&mut wall, n);
        let c = med(&mut cpu, n);
        println!(
            "  {:<26} {:>8.3} {:>9.1} {:>11.1}x {:>9.2}x {:>9.2} {:>11.1}x{}",
            n,
            s,
            mb / s,
            t_tshark / s,
            s / floor,
            c,
            c_tshark / c.max(0.01),
            if failed.contains(n) { "  (failed)" } else { "" }
        );
    }
    println!("  (CPU s: user + system seconds of the process, from /proc, 10 ms ticks: less sensitive to the machine's other load than wall time)");
    println!(
        "  (× tshark: how many times faster than tshark; × floor: how many times the floor's time)"
    );
    println!("\nper layer, median, in process:");
    let infl_mb = corpus.inflated_bytes as f64 / 1e6;
    let frames_mb = (corpus.frames_c2s.len() + corpus.frames_s2c.len()) as f64 / 1e6;
    let text_mb = corpus.texts.iter().map(String::len).sum::<usize>() as f64 / 1e6;
    for (ln, _) in &layers {
        let s = med(&mut layer_t, ln);
        let (vol, unit) = match *ln {
            "inflate alone" => (infl_mb, "MB out"),
            "WS frame parse + unmask alone" => (frames_mb, "MB frames"),
            "EIO + SIO parse alone" => (text_mb, "MB text"),
            _ => (mb, "MB capture"),
        };
        println!(
            "  {ln:<36} {s:>8.3} s {:>9.1} MB/s of {vol:.1} {unit}",
            vol / s
        );
    }
    let pipe = med(&mut layer_t, "whole pipeline, events dropped");
    let reas = med(&mut layer_t, "read + TCP reassembly");
    let nd = med(&mut layer_t, "whole pipeline + NDJSON to a sink");
    println!(
        "  by difference: reassembly {:.3} s, decoding above TCP {:.3} s, NDJSON serialisation {:.3} s",
        reas - t_read,
        pipe - reas,
        nd - pipe
    );

    // Peak RSS by scale.
    println!("\npeak RSS by capture size:");
    let mut rss: Vec<(u64, Vec<(&str, u64)>)> = vec![];
    for &s in &scales {
        let sp = dir.path().join(format!("scale{s}.pcapng"));
        let st = if s == 1 {
            let _ = std::fs::copy(&path, &sp);
            truth.clone()
        } else {
            match build(&sp, (size_mb * s) << 20) {
                Ok(t) => t,
                Err(_) => continue,
            }
        };
        let sps = sp.to_str().unwrap_or_default().to_string();
        let mut row = vec![];
        for (name, cmd) in subjects(&sps) {
            if matches!(name, "decode --format ndjson" | "explain" | "sessions") {
                let (_, kb, _) = measure(cmd);
                row.push((name, kb));
            }
        }
        // Memory only (its time is explain's): the one document of every finding.
        let mut json = Command::new(env!("CARGO_BIN_EXE_sioscope"));
        json.args(["explain", "--format", "json", &sps]);
        let (_, kb, _) = measure(json);
        row.push(("explain --format json", kb));
        println!(
            "  {s}x ({:.1} MB, {} sessions): {}",
            st.bytes as f64 / 1e6,
            st.eio_sessions,
            row.iter()
                .map(|(n, kb)| format!("{n} {} MiB", kb / 1024))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let _ = std::fs::remove_file(&sp);
        rss.push((s, row));
    }
    if let (Some((s0, r0)), Some((s1, r1))) = (rss.first(), rss.last()) {
        if s0 != s1 {
            let g: Vec<String> = r0
                .iter()
                .zip(r1)
                .map(|((n, a), (_, b))| {
                    format!(
                        "{n} {:+.0} %",
                        (*b as f64 / (*a).max(1) as f64 - 1.0) * 100.0
                    )
                })
                .collect();
            println!("  growth {s0}x -> {s1}x: {}", g.join(", "));
        }
    }
    println!("\nload average at end: {}", loadavg());
    if truth_ok {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::from(1)
    }
}
