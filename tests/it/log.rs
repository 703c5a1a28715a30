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
    assert!(lines.iter().all(|l| l.writer == LogWriter::NodeDebugIso));
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
            if let Some(i) = p.session.session() {
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
fn explain_log_quotes_the_servers_reason_beside_the_wire() {
    for s in ["clean", "blocked", "restart"] {
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
                    && m.what.contains(" after the end in frame ")),
            "{s}: {:#?}",
            note.evidence
        );
        assert!(
            note.text.contains("log clock"),
            "{s}: the clock offset is shown"
        );
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
