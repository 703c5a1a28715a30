//! `--log`: the server DEBUG logs written by socket.io 4.8.4 while `fixtures/har/record` captured
//! the same sessions are placed on the right session and quoted beside the wire evidence.

use std::fs::File;

use sioscope::capture::{replay, ReplayOptions};
use sioscope::explain::{attach_log_evidence, explain};
use sioscope::log::{attach, parse, Attribution, LogWriter};
use sioscope::session::SessionTracker;

fn fixture(p: &str) -> String {
    format!("{}/fixtures/{p}", env!("CARGO_MANIFEST_DIR"))
}

fn run(
    s: &str,
) -> (
    SessionTracker,
    sioscope::explain::Explanation,
    sioscope::log::LogTimeline,
) {
    let mut t = SessionTracker::new();
    replay(
        File::open(fixture(&format!("har/{s}.pcap"))).unwrap(),
        &ReplayOptions::default(),
        &mut |e| t.event(&e),
    )
    .unwrap();
    let mut x = explain(&t);
    let text = std::fs::read_to_string(fixture(&format!("log/{s}-server.log"))).unwrap();
    let (lines, unrecognised) = parse(&text);
    assert_eq!(
        unrecognised, 0,
        "{s}: every line is a debug record or its continuation"
    );
    let writers: &[LogWriter] = match s {
        "colors" => &[LogWriter::NodeDebugRelative],
        "python" => &[LogWriter::Python, LogWriter::Bare],
        _ => &[LogWriter::NodeDebugIso],
    };
    assert!(
        lines.iter().all(|l| writers.contains(&l.writer)),
        "{s}: read as {writers:?}"
    );
    let ends: Vec<_> = x.sessions.iter().map(|f| f.end.at.ts).collect();
    let tl = attach(s, lines, unrecognised, &t, &ends);
    attach_log_evidence(&mut x, &tl);
    (t, x, tl)
}

#[test]
fn every_log_line_is_placed_and_lines_naming_a_sid_go_to_that_session() {
    for s in ["clean", "blocked", "restart"] {
        let (t, _, tl) = run(s);
        let off = tl.offset_ms.expect("a handshake matched");
        assert!(
            off.abs() < 50.0,
            "{s}: same machine, the clocks agree within 50 ms ({off})"
        );
        assert_eq!(
            tl.matched,
            t.sessions().len(),
            "{s}: every session's handshake is in the log"
        );
        for p in &tl.lines {
            assert!(
                p.at.is_some(),
                "{s}: line {} is placed on the timeline",
                p.log.line
            );
            let named: Vec<usize> = t
                .sessions()
                .iter()
                .enumerate()
                .filter(|(_, r)| {
                    p.log.text.contains(&r.sid)
                        || r.sockets.iter().any(|k| {
                            k.socket_id
                                .as_deref()
                                .is_some_and(|id| p.log.text.contains(id))
                        })
                })
                .map(|(i, _)| i)
                .collect();
            if let [i] = named.as_slice() {
                assert_eq!(p.session, Attribution::Sid(*i), "{s}: line {}", p.log.line);
            }
            if let Attribution::OnlyOpen(i) = p.session {
                let r = &t.sessions()[i];
                let at = p.at.unwrap();
                assert!(
                    at.0 + 100_000_000 >= r.opened.ts.0,
                    "{s}: line {} is not before its session opened",
                    p.log.line
                );
            }
        }
    }
}

#[test]
fn relative_debug_lines_are_placed_from_the_first_handshake_on() {
    let (t, _, tl) = run("colors");
    assert_eq!(
        tl.offset_ms, None,
        "the `+Nms` form has no clock to compare"
    );
    assert!(tl.relative_anchors >= 1);
    let first = tl
        .lines
        .iter()
        .position(|p| p.log.text.contains(&t.sessions()[0].sid))
        .unwrap();
    assert!(
        tl.lines[..3].iter().all(|p| p.at.is_none()),
        "server start-up lines stay unplaced"
    );
    assert!(tl.lines[first..].iter().all(|p| p.at.is_some()));
    assert!(
        tl.lines
            .windows(2)
            .all(|w| w[0].at.is_none() || w[0].at <= w[1].at),
        "file order is time order"
    );
}

#[test]
fn python_logging_lines_are_placed_and_bare_copies_dropped() {
    let (t, x, tl) = run("python");
    let off = tl.offset_ms.expect("a handshake matched");
    assert!(off.abs() < 50.0, "{off}");
    assert_eq!(tl.matched, t.sessions().len());
    // python-engineio with logger=True writes each message twice (its own bare handler and the
    // root's formatted one): the formatted copy is kept.
    assert!(
        tl.lines
            .iter()
            .filter(|p| p.log.writer == LogWriter::Bare)
            .count()
            <= 1
    );
    let note = x.sessions[0]
        .notes
        .iter()
        .find(|n| n.kind == "log")
        .expect("a log note");
    assert!(
        note.evidence
            .iter()
            .any(|m| m.what.contains("`engineio.server ")
                && m.what.contains("Received packet MESSAGE data 1`")),
        "{:#?}",
        note.evidence
    );
    assert!(note.text.contains("No line near the end names a reason"));
}

#[test]
fn explain_log_quotes_the_servers_reason_beside_the_wire() {
    for s in ["clean", "blocked", "restart", "colors"] {
        let (_, x, _) = run(s);
        let last = x.sessions.last().unwrap();
        assert_eq!(last.end.cause.as_str(), "client-disconnect", "{s}");
        let note = last
            .notes
            .iter()
            .find(|n| n.kind == "log")
            .expect("a log note");
        assert!(
            note.evidence
                .iter()
                .any(|m| m.what.starts_with("server log ")
                    && m.what.contains(
                        "`socket.io:socket closing socket - reason client namespace disconnect`"
                    )
                    // within the clock offset's accuracy (tens of ms under load) of the end frame
                    && (m.what.contains(" after the end in frame ")
                        || m.what.contains(" before the end in frame "))),
            "{s}: {:#?}",
            note.evidence
        );
        // The `+Nms` form has no clock: the note says how its times were reconstructed instead.
        let clock = if s == "colors" {
            "`+Nms` times summed per namespace"
        } else {
            "log clock"
        };
        assert!(note.text.contains(clock), "{s}: the clock offset is shown");
    }
}

#[test]
fn a_killed_server_leaves_no_line_about_the_end() {
    let (_, x, _) = run("restart");
    let first = &x.sessions[0];
    assert_eq!(first.end.cause.as_str(), "transport-close");
    let note = first
        .notes
        .iter()
        .find(|n| n.kind == "log")
        .expect("a log note");
    assert!(
        note.text
            .contains("has no line about the end of this session"),
        "{}",
        note.text
    );
    assert!(note.text.contains("likely"));
}

/// `decode --log … --format ndjson` of fixture `s` (capture `cap`): the stream's objects.
fn decode_with_log(cap: &str, s: &str, extra: &[&str]) -> (Vec<serde_json::Value>, String) {
    let cap = format!("fixtures/har/{cap}");
    let log = format!("fixtures/log/{s}-server.log");
    let mut args = vec!["decode", &cap, "--log", &log, "--format", "ndjson"];
    args.extend_from_slice(extra);
    let out = crate::common::sioscope(&args);
    assert!(out.status.success(), "{s}: {out:?}");
    let v = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    (v, String::from_utf8(out.stderr).unwrap())
}

#[test]
fn decode_log_interleaves_every_timed_line_by_time_with_the_sid_it_names() {
    for s in ["clean", "blocked", "restart", "colors", "python"] {
        let (t, _, tl) = run(s);
        let timed = tl.lines.iter().filter(|p| p.at.is_some()).count();
        assert!(timed > 0, "{s}");
        let (v, _) = decode_with_log(&format!("{s}.pcap"), s, &[]);
        let logs: Vec<_> = v.iter().filter(|o| o["layer"] == "log").collect();
        assert_eq!(
            logs.len(),
            timed,
            "{s}: every line with a time is shown once"
        );
        // File order of the lines is kept where times tie; every line sits between the packet
        // events before and after it.
        let mut prev_event: Option<f64> = None;
        let mut pending: Vec<f64> = Vec::new();
        for o in &v {
            let ts = o["ts"].as_f64().unwrap();
            if o["layer"] == "log" {
                if let Some(p) = prev_event {
                    assert!(ts > p, "{s}: a log line after an earlier event: {o}");
                }
                pending.push(ts);
            } else {
                for l in pending.drain(..) {
                    assert!(l <= ts, "{s}: a log line before a later event: {o}");
                }
                prev_event = Some(ts);
            }
        }
        // A line naming a session's sid carries that sid; one tied by no id names none.
        let sids: Vec<&str> = t.sessions().iter().map(|x| x.sid.as_str()).collect();
        for o in &logs {
            let text = o["text"].as_str().unwrap();
            match o["tied"].as_str().unwrap() {
                "sid" => {
                    let sid = o["sid"].as_str().unwrap();
                    assert!(sids.contains(&sid), "{s}: {o}");
                    if let Some(named) = sids.iter().find(|x| text.contains(**x)) {
                        assert_eq!(*named, sid, "{s}: {o}");
                    }
                }
                "only-open" => assert!(o["sid"].is_string(), "{s}: {o}"),
                _ => assert!(o["sid"].is_null(), "{s}: {o}"),
            }
            // Server logs: the server's namespaces, and `socket.io-parser` (used by both sides).
            assert!(o["side"] == "server" || o["side"] == "unknown", "{s}: {o}");
        }
        assert!(
            logs.iter().filter(|o| o["tied"] == "none").count() * 4 < logs.len(),
            "{s}: most lines are tied to a session"
        );
        assert!(logs.iter().any(|o| o["tied"] == "sid"), "{s}");
    }
}

#[test]
fn decode_log_keeps_the_sid_filter_and_every_format() {
    let (all, _) = decode_with_log("clean.pcap", "clean", &[]);
    let sid = all
        .iter()
        .find_map(|o| o["sid"].as_str().filter(|_| o["layer"] == "log"))
        .unwrap()
        .to_string();
    let (one, _) = decode_with_log("clean.pcap", "clean", &["--sid", &sid]);
    let logs: Vec<_> = one.iter().filter(|o| o["layer"] == "log").collect();
    assert!(!logs.is_empty());
    assert!(logs.iter().all(|o| o["sid"] == sid.as_str()));
    assert_eq!(
        logs.len(),
        all.iter()
            .filter(|o| o["layer"] == "log" && o["sid"] == sid.as_str())
            .count()
    );
    // `--format json`: one document holding the same objects in the same order.
    let out = crate::common::sioscope(&[
        "decode",
        "fixtures/har/clean.pcap",
        "--log",
        "fixtures/log/clean-server.log",
        "--format",
        "json",
    ]);
    assert!(out.status.success());
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["events"].as_array().unwrap(), &all);
    // Text: one `log` line per log object, the sid shortened as on packet lines.
    let out = crate::common::sioscope(&[
        "decode",
        "fixtures/har/clean.pcap",
        "--log",
        "fixtures/log/clean-server.log",
        "--color",
        "never",
    ]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| l.split_whitespace().nth(1) == Some("log"))
        .collect();
    assert_eq!(
        lines.len(),
        all.iter().filter(|o| o["layer"] == "log").count()
    );
    let short: String = sid.chars().take(6).collect();
    assert!(lines
        .iter()
        .any(|l| l.contains(&format!("sid={short}…  server log engine"))
            && l.ends_with(")")
            && l.contains("(clean-server.log:")));
}

#[test]
fn decode_log_reads_a_har_twice_and_announces_it_once() {
    let (v, err) = decode_with_log("restart.har", "restart", &[]);
    assert_eq!(err.matches("read as a HAR 1.2").count(), 1, "{err}");
    assert!(
        err.contains("fixtures/log/restart-server.log: 167 log lines"),
        "{err}"
    );
    assert!(v.iter().any(|o| o["layer"] == "log"));
    assert!(v.iter().any(|o| o["layer"] == "sio"));
}

#[test]
fn decode_log_refuses_standard_input() {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_sioscope"))
        .current_dir(crate::common::root())
        .args(["decode", "-", "--log", "fixtures/log/clean-server.log"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pcap = std::fs::read(fixture("har/clean.pcap")).unwrap();
    // The refusal may come before the whole capture is written: a broken pipe is fine.
    let _ = child.stdin.take().unwrap().write_all(&pcap);
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("standard input cannot be read twice"), "{err}");
    assert!(out.stdout.is_empty());
}

/// A client-side fixture of `fixtures/log/record-client`: the pcap and the node client's own
/// `DEBUG=socket.io-client*,engine.io-client*` log of the same run.
fn run_client(
    s: &str,
) -> (
    SessionTracker,
    sioscope::explain::Explanation,
    sioscope::log::LogTimeline,
) {
    let mut t = SessionTracker::new();
    replay(
        File::open(fixture(&format!("log/{s}.pcap"))).unwrap(),
        &ReplayOptions::default(),
        &mut |e| t.event(&e),
    )
    .unwrap();
    let mut x = explain(&t);
    let text = std::fs::read_to_string(fixture(&format!("log/{s}-client.log"))).unwrap();
    let (lines, unrecognised) = parse(&text);
    assert_eq!(unrecognised, 0, "{s}");
    assert!(
        lines.iter().all(|l| l.writer == LogWriter::NodeDebugIso),
        "{s}"
    );
    let ends: Vec<_> = x.sessions.iter().map(|f| f.end.at.ts).collect();
    let tl = attach(s, lines, unrecognised, &t, &ends);
    attach_log_evidence(&mut x, &tl);
    (t, x, tl)
}

#[test]
fn client_log_lines_are_placed_on_the_session_they_belong_to() {
    use sioscope::log::LogSide;
    for s in ["v4-server-killed", "v4-ping-timeout"] {
        let (t, x, tl) = run_client(s);
        let off = tl.offset_ms.expect("a handshake matched");
        assert!(off.abs() < 50.0, "{s}: same machine ({off})");
        assert_eq!(tl.matched, 2, "{s}: both sessions' handshakes matched");
        assert!(
            tl.lines
                .iter()
                .all(|p| p.log.side() == LogSide::Client && p.at.is_some()),
            "{s}: every line is the client's and has a time"
        );
        for p in &tl.lines {
            let at = p.at.unwrap().0;
            match p.session {
                Attribution::Sid(i) => {
                    let sid = &t.sessions()[i].sid;
                    // A line naming the sid is that session's, and no other session's sid.
                    assert!(
                        t.sessions()
                            .iter()
                            .all(|o| o.sid == *sid || !p.log.text.contains(&o.sid)),
                        "{s}: {p:?}"
                    );
                }
                Attribution::OnlyOpen(i) => {
                    // Inside that session's life (50 ms of clock slack), and only that one.
                    let f = &x.sessions[i];
                    assert!(
                        f.start.ts.0 <= at + 50_000_000 && at <= f.end.at.ts.0 + 50_000_000,
                        "{s}: {p:?}"
                    );
                }
                Attribution::None => {
                    // Untied: between sessions (the reconnect attempts while none is open).
                    assert!(
                        x.sessions.iter().all(|f| !(f.start.ts.0 + 50_000_000 < at
                            && at + 50_000_000 < f.end.at.ts.0)),
                        "{s}: an untied line inside a session: {p:?}"
                    );
                }
            }
        }
        assert!(
            tl.lines
                .iter()
                .filter(|p| p.session.session().is_some())
                .count()
                * 2
                > tl.lines.len(),
            "{s}: most lines are tied to a session"
        );
    }
}

#[test]
fn explain_log_quotes_the_clients_own_reason_beside_the_wire() {
    for (s, cause, reason) in [
        ("v4-server-killed", "transport-close", "transport close"),
        ("v4-ping-timeout", "ping-timeout", "ping timeout"),
    ] {
        let (_, x, _) = run_client(s);
        assert_eq!(x.sessions.len(), 2, "{s}");
        let first = &x.sessions[0];
        assert_eq!(first.end.cause.as_str(), cause, "{s}");
        let note = first
            .notes
            .iter()
            .find(|n| n.kind == "log")
            .expect("a log note");
        assert!(
            note.text.contains(&format!(
                "The client reported \"{reason}\", as the wire reading expects"
            )),
            "{s}: {}",
            note.text
        );
        assert!(
            note.evidence
                .iter()
                .any(|m| m.what.starts_with("client log ")
                    && m.what
                        .contains(&format!("socket.io-client:socket close ({reason})"))
                    && m.what.contains(" the end in frame ")),
            "{s}: {:#?}",
            note.evidence
        );
        // The client's words never settle what the server did.
        assert!(
            !first.end.certainty_reason.contains("server's own log"),
            "{s}"
        );
        let last = &x.sessions[1];
        assert_eq!(last.end.cause.as_str(), "client-disconnect", "{s}");
        assert!(last.notes.iter().any(|n| n.kind == "log"
            && n.text
                .contains("The client reported \"io client disconnect\"")));
    }
    // ping timeout: the client's event loop was blocked for 3 s, so it reports the end late, with
    // no session open: tied as the last session to end.
    let (_, x, _) = run_client("v4-ping-timeout");
    let note = x.sessions[0]
        .notes
        .iter()
        .find(|n| n.kind == "log")
        .unwrap();
    assert!(note
        .evidence
        .iter()
        .any(|m| m.what.contains("after the end in frame")
            && m.what
                .contains("the last session to end before it, none opened since")));
}
