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
