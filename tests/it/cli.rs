//! The command-line conventions of issue 13, one test each: a closed pipe is a quiet exit, empty
//! results say why, one flag vocabulary, generated completions and man page, compressed and
//! merged inputs, the time column.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};

use sioscope::capture::writer::PcapNgWriter;
use sioscope::capture::CaptureReader;

use crate::common::{root, sioscope};

const NAMESPACES: &str = "fixtures/pcap/v4-namespaces.pcap";
const LARGE: &str = "fixtures/pcap/v1-deflate-large.pcap";

fn stdout(args: &[&str]) -> String {
    String::from_utf8_lossy(&sioscope(args).stdout).into_owned()
}

fn stderr(args: &[&str]) -> String {
    String::from_utf8_lossy(&sioscope(args).stderr).into_owned()
}

/// Runs sioscope, reads its first line and closes the pipe, as `| head -1` does.
fn head_1(args: &[&str]) -> (Option<i32>, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sioscope"))
        .current_dir(root())
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let out = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(out)
        .read_line(&mut line)
        .expect("first line");
    // The reader is dropped here: the pipe is closed while sioscope still writes.
    let done = child.wait_with_output().expect("wait");
    assert!(!line.is_empty(), "{args:?} printed nothing");
    (
        done.status.code(),
        String::from_utf8_lossy(&done.stderr).into_owned(),
    )
}

#[test]
fn a_closed_pipe_is_a_quiet_exit_for_every_command_and_format() {
    for format in ["text", "json", "ndjson"] {
        let decode = [
            "decode", LARGE, "--layer", "all", "--full", "--format", format,
        ];
        let (code, err) = head_1(&decode);
        assert_eq!(code, Some(0), "{decode:?}: {err}");
        assert_eq!(err, "", "{decode:?}");
        // explain and sessions print less than a pipe holds: the exit code is their verdict
        // unless the write failed, and nothing is said about a pipe either way.
        for cmd in ["explain", "sessions"] {
            let args = [cmd, LARGE, "--format", format];
            let (code, err) = head_1(&args);
            let verdict = sioscope(&args).status.code();
            assert!(
                code == Some(0) || code == verdict,
                "{args:?}: {code:?} {err}"
            );
            assert_eq!(err, "", "{args:?}");
        }
    }
}

#[test]
fn a_closed_pipe_during_a_long_json_report_exits_0_quietly() {
    // Every committed capture merged: the JSON documents of explain and sessions are over 100 KB,
    // more than a pipe holds, so the write fails once the reader is gone.
    let mut all: Vec<String> = std::fs::read_dir(root().join("fixtures/pcap"))
        .expect("fixtures")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "pcap"))
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    all.sort();
    for cmd in ["explain", "sessions"] {
        let mut args = vec![cmd, "--format", "json"];
        args.extend(all.iter().map(String::as_str));
        let full = sioscope(&args).stdout.len();
        assert!(full > 100_000, "{cmd}: only {full} bytes");
        let (code, err) = head_1(&args);
        assert_eq!(code, Some(0), "{cmd}: {err}");
        assert_eq!(err, "", "{cmd}");
    }
}

/// A capture with the same TCP connections as a real one but none of its payload: only the
/// segments that carry no bytes (handshakes, ACKs, FINs), copied packet for packet.
fn tcp_only_capture(from: &str, to: &Path) {
    let bytes = std::fs::read(root().join(from)).expect("read fixture");
    let mut reader = CaptureReader::new(&bytes[..]).expect("capture");
    let mut w = PcapNgWriter::new(Vec::new()).expect("writer");
    while let Some(p) = reader.next_packet().expect("packet") {
        let seg = sioscope::capture::link::parse_tcp(&p).expect("tcp");
        if seg.payload.is_empty() {
            w.packet(p.ts, p.data, None).expect("write");
        }
    }
    std::fs::write(to, w.into_inner()).expect("write capture");
}

#[test]
fn no_socketio_traffic_is_said_on_stderr_and_checking_commands_exit_1() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cap = dir.path().join("tcp-only.pcapng");
    tcp_only_capture(NAMESPACES, &cap);
    let cap = cap.to_string_lossy().into_owned();
    // `tshark -r fixtures/pcap/v4-namespaces.pcap -z conv,tcp` lists the same 4 conversations.
    let expected = "sioscope: no Socket.IO traffic found: 4 TCP connections, none HTTP\n";
    let out = sioscope(&["decode", &cap]);
    assert_eq!(String::from_utf8_lossy(&out.stderr), expected);
    assert_eq!(out.status.code(), Some(0));
    let out = sioscope(&["explain", &cap]);
    assert_eq!(String::from_utf8_lossy(&out.stderr), expected);
    assert_eq!(out.status.code(), Some(1));
    let out = sioscope(&["sessions", &cap]);
    assert_eq!(String::from_utf8_lossy(&out.stderr), expected);
    let out = sioscope(&["check", "--capture", &cap, "--color", "never"]);
    assert_eq!(out.status.code(), Some(1), "not a pass");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains("PASS"), "{text}");
    assert!(
        text.contains("NOTHING CHECKED: no Socket.IO traffic found"),
        "{text}"
    );
}

#[test]
fn a_filter_that_matches_nothing_names_what_was_seen() {
    assert_eq!(
        stderr(&["decode", NAMESPACES, "--event", "FOO"]),
        "sioscope: no event named FOO; events seen: chat, cmd, news, ünïcödé✓\n"
    );
    assert_eq!(
        stderr(&["decode", NAMESPACES, "--nsp", "nope"]),
        "sioscope: no namespace /nope; namespaces seen: /, /admin, /ñamespace™\n"
    );
    let err = stderr(&["decode", NAMESPACES, "--sid", "zzz"]);
    assert!(
        err.starts_with("sioscope: no session id starts with \"zzz\"; sessions seen: "),
        "{err}"
    );
    let err = stderr(&["decode", NAMESPACES, "--conn", "c99"]);
    assert!(
        err.starts_with("sioscope: no connection c99; connections seen: c1, "),
        "{err}"
    );
    let err = stderr(&["sessions", NAMESPACES, "--nsp", "/nope"]);
    assert!(
        err.starts_with("sioscope: no session matches the filters"),
        "{err}"
    );
}

#[test]
fn type_is_validated_against_the_real_packet_types() {
    let out = sioscope(&["decode", NAMESPACES, "--type", "FOO"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "sioscope: --type: unknown packet type \"FOO\"; valid types: open, close, ping, pong, \
         message, upgrade, noop, CONNECT, DISCONNECT, EVENT, ACK, CONNECT_ERROR, BINARY_EVENT, \
         BINARY_ACK, heartbeat, json, error\n"
    );
    assert!(stdout(&["decode", NAMESPACES, "--type", "event"]).contains("EVENT \"chat\""));
}

#[test]
fn nsp_without_slash_and_sid_as_printed_select_the_same_lines() {
    let with_slash = stdout(&["decode", NAMESPACES, "--nsp", "/admin"]);
    assert!(!with_slash.is_empty());
    assert_eq!(
        stdout(&["decode", NAMESPACES, "--nsp", "admin"]),
        with_slash
    );
    // The sid exactly as the text output prints it, ellipsis included.
    let first = stdout(&["decode", NAMESPACES]);
    let printed = first
        .split_whitespace()
        .find(|w| w.starts_with("sid="))
        .expect("a sid column")
        .to_string();
    let by_printed = stdout(&["decode", NAMESPACES, "--sid", &printed]);
    let bare = printed.trim_start_matches("sid=").trim_end_matches('…');
    assert!(!by_printed.is_empty());
    assert_eq!(stdout(&["decode", NAMESPACES, "--sid", bare]), by_printed);
    assert!(!stdout(&["sessions", NAMESPACES, "--sid", &printed]).is_empty());
}

#[test]
fn sizes_and_durations_take_units_and_a_negative_size_is_refused_in_words() {
    let out = sioscope(&["decode", NAMESPACES, "--max-message", "-1"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("\"-1\" is negative; give a size or duration of 0 or more"),
        "{err}"
    );
    assert!(!err.contains("tip:"), "{err}");
    for size in ["1k", "64KiB", "64MiB", "1000000"] {
        let out = sioscope(&["decode", NAMESPACES, "--max-message", size]);
        assert_eq!(out.status.code(), Some(0), "{size}");
    }
}

#[test]
fn completions_and_man_page_are_generated() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = stdout(&["completions", shell]);
        assert!(out.contains("sioscope"), "{shell}");
        assert!(out.contains("max-message"), "{shell}: flags of subcommands");
    }
    let man = stdout(&["man"]);
    assert!(man.contains(".TH sioscope 1"), "{man}");
    assert!(man.contains("decode"), "{man}");
}

#[test]
fn help_examples_are_one_per_line() {
    for (cmd, example) in [
        ("decode", "\n  sioscope decode app.pcapng\n"),
        ("doctor", "\n  sioscope doctor http://127.0.0.1:3000\n"),
        ("explain", "\n  sioscope explain app.pcapng\n"),
        ("sessions", "\n  sioscope sessions app.pcapng\n"),
    ] {
        let help = stdout(&[cmd, "--help"]);
        assert!(help.contains(example), "{cmd}: {help}");
    }
    assert!(stdout(&["--help"]).contains("\nExamples:\n  sioscope decode app.pcapng"));
}

#[test]
fn gzip_and_zstd_captures_decode_as_the_plain_one() {
    let plain = std::fs::read(root().join(NAMESPACES)).expect("fixture");
    let dir = tempfile::tempdir().expect("tempdir");
    let gz = dir.path().join("a.pcap.gz");
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(&plain).expect("gzip");
    std::fs::write(&gz, enc.finish().expect("gzip")).expect("write");
    let zst = dir.path().join("a.pcap.zst");
    std::fs::write(&zst, zstd::encode_all(&plain[..], 3).expect("zstd")).expect("write");
    let want = stdout(&["decode", NAMESPACES, "--format", "ndjson"]);
    assert!(!want.is_empty());
    for f in [&gz, &zst] {
        let got = stdout(&["decode", &f.to_string_lossy(), "--format", "ndjson"]);
        assert_eq!(got, want, "{}", f.display());
    }
}

#[test]
fn several_captures_are_merged_by_time() {
    let a = "fixtures/pcap/v4-ws-only.pcap";
    let b = "fixtures/pcap/v4-polling-only.pcap";
    let lines = |args: &[&str]| -> Vec<serde_json::Value> {
        stdout(args)
            .lines()
            .map(|l| serde_json::from_str(l).expect("ndjson"))
            .collect()
    };
    let la = lines(&["decode", a, "--format", "ndjson"]);
    let lb = lines(&["decode", b, "--format", "ndjson"]);
    let merged = lines(&["decode", a, b, "--format", "ndjson"]);
    assert_eq!(merged.len(), la.len() + lb.len());
    let ts: Vec<f64> = merged
        .iter()
        .map(|e| e["ts"].as_f64().expect("ts"))
        .collect();
    assert!(ts.windows(2).all(|w| w[0] <= w[1]), "merged by time");
    let frames = |v: &[serde_json::Value]| v.iter().map(|e| e["frame"].as_u64()).max().flatten();
    assert!(
        frames(&merged) > frames(&la).max(frames(&lb)),
        "frames renumbered in merged order"
    );
    let sessions = stdout(&["sessions", a, b, "--format", "ndjson"])
        .lines()
        .count();
    let alone = stdout(&["sessions", a, "--format", "ndjson"])
        .lines()
        .count()
        + stdout(&["sessions", b, "--format", "ndjson"])
            .lines()
            .count();
    assert_eq!(sessions, alone);
}

#[test]
fn time_is_since_the_capture_start_and_takes_tshark_modes() {
    let all = stdout(&["decode", NAMESPACES]);
    let filtered = stdout(&["decode", NAMESPACES, "--nsp", "/admin"]);
    let first_time =
        |s: &str| -> String { s.split_whitespace().next().unwrap_or_default().to_string() };
    // Filtering does not shift the clock: the /admin line keeps the time it has unfiltered.
    let admin_line = filtered.lines().next().expect("a line");
    assert!(all.lines().any(|l| l == admin_line), "{admin_line}");
    assert_ne!(first_time(&filtered), "0.000");
    let delta = stdout(&["decode", NAMESPACES, "--nsp", "/admin", "--time", "delta"]);
    assert_eq!(first_time(&delta), "0.000000");
    let abs = stdout(&["decode", NAMESPACES, "--time", "absolute"]);
    let t = first_time(&abs);
    assert!(t.len() == 27 && t.ends_with('Z') && t.contains('T'), "{t}");
}

#[test]
fn a_har_file_or_a_log_is_named_as_such() {
    let dir = tempfile::tempdir().expect("tempdir");
    let har = dir.path().join("session.har");
    std::fs::write(
        &har,
        "{\n  \"log\": {\n    \"version\": \"1.2\",\n    \"entries\": []\n  }\n}\n",
    )
    .expect("write");
    let log = dir.path().join("server.log");
    std::fs::write(
        &log,
        "2026-12-01T10:00:00.000Z socket.io:socket joined room\n",
    )
    .expect("write");
    // decode reads a HAR (issue #17); annotate writes a pcapng back and still needs a capture.
    let err = stderr(&["decode", &har.to_string_lossy()]);
    assert!(err.contains("read as a HAR 1.2"), "{err}");
    let out = dir.path().join("out.pcapng");
    let err = stderr(&[
        "annotate",
        &har.to_string_lossy(),
        "-o",
        &out.to_string_lossy(),
    ]);
    assert!(err.contains("it looks like a HAR file"), "{err}");
    let err = stderr(&["explain", &log.to_string_lossy()]);
    assert!(err.contains("it looks like a text file (a log?)"), "{err}");
    assert!(err.contains("explain --log FILE"), "{err}");
}

#[test]
fn refused_handshakes_are_named_as_such_and_check_does_not_pass_them() {
    // socket.io 4 refusing an EIO=3 client: three 400s with code 5, never an open packet.
    let cap = "fixtures/pcap/v4-eio3-rejected.pcap";
    let expected = "sioscope: no Engine.IO session opened: 3 HTTP requests to an Engine.IO path, \
                    none answered with an open packet (3 HTTP error responses; `sioscope explain` \
                    says why)\n";
    assert_eq!(stderr(&["decode", cap]), expected);
    assert_eq!(sioscope(&["explain", cap]).status.code(), Some(1));
    let out = sioscope(&["check", "--capture", cap, "--color", "never"]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("NOTHING CHECKED: no Engine.IO session opened"),
        "{text}"
    );
}

/// `explain` on a many-session capture built the way the decode benchmark builds its 2 000-session
/// one (`sioscope::capture::repeat`, the whole corpus replayed with fresh client addresses): the
/// summary comes within the first 10 lines, and each distinct finding gets one paragraph however
/// many rounds there are: the findings section does not grow with the number of sessions.
#[test]
fn explain_on_a_many_session_capture_prints_the_summary_first_and_each_finding_once() {
    use sioscope::capture::repeat::{repeat_corpus, Until};
    let dir = tempfile::tempdir().expect("tempdir");
    let headers = |rounds: u32| -> (usize, Vec<String>, String) {
        let path = dir.path().join(format!("many-{rounds}.pcapng"));
        let file = std::fs::File::create(&path).expect("create");
        let done = repeat_corpus(
            &root().join("fixtures/pcap"),
            std::io::BufWriter::new(file),
            Until::Rounds(rounds),
        )
        .expect("build the capture");
        assert_eq!(done.rounds, rounds);
        let p = path.to_string_lossy().into_owned();
        let text = stdout(&["explain", &p, "--color", "never"]);
        let json: serde_json::Value =
            serde_json::from_str(&stdout(&["explain", &p, "--format", "json"])).expect("json");
        let sessions = json["summary"]["sessions"].as_u64().unwrap_or(0) as usize;
        // A finding's paragraph opens with `  ✗ cause · certainty · N sessions: …` (or ✓).
        let heads: Vec<String> = text
            .lines()
            .filter(|l| l.starts_with("  ✗ ") || l.starts_with("  ✓ "))
            .map(|l| l.split(" · ").take(2).collect::<Vec<_>>().join(" · "))
            .collect();
        // A distinct finding: cause, both sides' words, certainty and fix (`summary.findings`).
        let rows = json["summary"]["findings"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let mut keys: Vec<String> = rows
            .iter()
            .map(|r| {
                ["cause", "reason", "client_reason", "certainty", "fix"]
                    .map(|k| r[k].to_string())
                    .join("|")
            })
            .collect();
        keys.sort();
        keys.dedup();
        assert_eq!(
            keys.len(),
            rows.len(),
            "summary rows repeat a finding: {rows:#?}"
        );
        // Refused requests have paragraphs of their own (`N requests (frames …)`), not rows.
        let session_heads = heads
            .iter()
            .zip(
                text.lines()
                    .filter(|l| l.starts_with("  ✗ ") || l.starts_with("  ✓ ")),
            )
            .filter(|(_, l)| l.contains(" session: ") || l.contains(" sessions: "))
            .count();
        assert_eq!(
            session_heads,
            rows.len(),
            "one paragraph per distinct finding:\n{text}"
        );
        (sessions, heads, text)
    };
    let (one, heads_one, _) = headers(1);
    let (many, heads_many, text) = headers(3);
    // Each round renames the sids (a few, only inside compressed messages, repeat), so the count
    // of Engine.IO sessions nearly triples; the sessions the text header counts is the JSON
    // summary's.
    assert!(many >= one && one > 20, "{one} then {many} sessions");
    let first10: Vec<&str> = text.lines().take(10).collect();
    assert!(
        first10.iter().any(|l| l.trim() == "summary"),
        "no summary in the first 10 lines:\n{}",
        first10.join("\n")
    );
    let header = first10.first().copied().unwrap_or_default();
    assert!(
        header.contains(&format!("{many} Engine.IO sessions")),
        "{header}"
    );
    // Three times the traffic and sessions, not more findings (the few sessions whose sid
    // repeats merge across rounds, so a group may merge or split between 1 and 3 rounds).
    assert!(
        heads_many.len() <= heads_one.len(),
        "{heads_one:#?}\n{heads_many:#?}"
    );
    let lines = text.lines().count();
    eprintln!(
        "{many} sessions: {lines} lines, {} findings",
        heads_many.len()
    );
}

/// `check --capture` colours its result column after the table is laid out: with the colour
/// sequences taken out, `--color always` prints exactly what `--color never` prints.
#[test]
fn check_capture_colours_keep_the_table_aligned() {
    let run = |color: &str| stdout(&["check", "--capture", LARGE, "--color", color]);
    let (always, never) = (run("always"), run("never"));
    assert!(always.contains("\u{1b}[32mpass\u{1b}[0m"), "{always}");
    let mut plain = String::new();
    let mut chars = always.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            chars.by_ref().find(|&c| c == 'm');
        } else {
            plain.push(c);
        }
    }
    assert_eq!(plain, never);
}
