//! Limits where input decides a size (issue #14): each one hit on a real capture through the
//! real binary, with a small limit, seen as its named anomaly, and a clean exit.

use serde_json::Value;

use crate::common::sioscope;

const NAMESPACES: &str = "fixtures/pcap/v4-namespaces.pcap";

/// `sioscope <args> --format ndjson`: exit code and the events.
fn ndjson(args: &[&str]) -> (Option<i32>, Vec<Value>) {
    let mut all = args.to_vec();
    all.extend(["--format", "ndjson"]);
    let out = sioscope(&all);
    let events = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    (out.status.code(), events)
}

/// `(frame, rule)` of every anomaly.
fn anomalies(events: &[Value]) -> Vec<(u64, String)> {
    events
        .iter()
        .filter(|e| e["layer"] == "anomaly")
        .map(|e| {
            (
                e["frame"].as_u64().unwrap_or(0),
                e["rule"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

#[test]
fn max_header_count_names_the_first_head_with_more_fields() {
    // The capture's first request has 4 header fields, its first response 5.
    let (code, events) = ndjson(&[
        "decode",
        NAMESPACES,
        "--layer",
        "all",
        "--max-header-count",
        "4",
    ]);
    assert_eq!(code, Some(0));
    let first_http: Vec<(u64, &str)> = events
        .iter()
        .filter(|e| e["layer"] == "http" || e["layer"] == "anomaly")
        .take(2)
        .map(|e| {
            (
                e["frame"].as_u64().unwrap_or(0),
                e["layer"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(first_http, [(4, "http"), (6, "anomaly")]);
    assert_eq!(
        anomalies(&events).first(),
        Some(&(6, "http-too-many-headers".to_string()))
    );
    let detail = events
        .iter()
        .find(|e| e["layer"] == "anomaly")
        .map(|e| e["detail"].clone());
    assert_eq!(
        detail,
        Some(Value::from("HTTP head with more than 4 header fields"))
    );
}

#[test]
fn max_header_size_names_the_first_longer_head_and_the_default_sees_none() {
    let (code, events) = ndjson(&["decode", NAMESPACES, "--max-header-size", "40"]);
    assert_eq!(code, Some(0));
    assert_eq!(
        anomalies(&events).first(),
        Some(&(4, "http-head-too-long".to_string()))
    );
    let (code, events) = ndjson(&["decode", NAMESPACES]);
    assert_eq!(code, Some(0));
    assert!(
        anomalies(&events)
            .iter()
            .all(|(_, r)| !r.starts_with("http-")),
        "{:?}",
        anomalies(&events)
    );
}

/// The same flags mean the same on every command that decodes a capture.
#[test]
fn header_limits_are_one_vocabulary_across_commands() {
    for cmd in [
        vec!["sessions", NAMESPACES],
        vec!["explain", NAMESPACES],
        vec!["check", "--capture", NAMESPACES],
    ] {
        let mut args = cmd.clone();
        args.extend([
            "--max-header-count",
            "2",
            "--max-header-size",
            "1k",
            "--max-json-depth",
            "3",
        ]);
        let out = sioscope(&args);
        assert_ne!(
            out.status.code(),
            Some(2),
            "{cmd:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn max_json_depth_cuts_deep_values_and_keeps_the_packet() {
    // Frame 47 is the server's ACK `[{"ok":true}]`: its object is at depth 2.
    let (code, events) = ndjson(&["decode", NAMESPACES, "--max-json-depth", "1"]);
    assert_eq!(code, Some(0));
    let at47: Vec<&Value> = events.iter().filter(|e| e["frame"] == 47).collect();
    assert_eq!(at47.len(), 2, "{at47:#?}");
    assert_eq!(at47[0]["rule"], "sio-json-too-deep");
    assert_eq!(
        at47[0]["detail"],
        "JSON payload nested more than 1 deep: the deeper values are shown as null"
    );
    assert_eq!(
        at47[1]["sio"],
        serde_json::json!({"type": "ACK", "nsp": "/", "id": 0, "data": [null], "version": 5})
    );
    // At the default depth the same packet is whole and nothing is cut.
    let (_, events) = ndjson(&["decode", NAMESPACES]);
    let ack = events
        .iter()
        .find(|e| e["frame"] == 47 && e["layer"] == "sio")
        .map(|e| e["sio"]["data"].clone());
    assert_eq!(ack, Some(serde_json::json!([{"ok": true}])));
    assert!(anomalies(&events)
        .iter()
        .all(|(_, r)| r != "sio-json-too-deep"));
    let out = sioscope(&["decode", NAMESPACES, "--max-json-depth", "128"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not a depth from 1 to 127"));
}

#[test]
fn every_decoding_command_takes_the_limit_flags() {
    for cmd in [
        "decode", "explain", "sessions", "annotate", "check", "proxy",
    ] {
        let out = sioscope(&[cmd, "--help"]);
        let help = String::from_utf8_lossy(&out.stdout);
        for flag in [
            "--max-header-count",
            "--max-header-size",
            "--max-json-depth",
            "--max-tracked-sessions",
        ] {
            assert!(help.contains(flag), "{cmd} --help lacks {flag}");
        }
        // Every command that reads a capture file (a HAR among them); the proxy reads none.
        assert_eq!(
            help.contains("--max-har-entry"),
            cmd != "proxy",
            "{cmd} --help and --max-har-entry"
        );
    }
}

#[test]
fn max_log_line_cuts_long_lines_and_says_how_many() {
    let args = [
        "decode",
        "fixtures/har/clean.pcap",
        "--log",
        "fixtures/log/clean-server.log",
        "--format",
        "ndjson",
    ];
    let mut small = args.to_vec();
    small.extend(["--max-log-line", "60"]);
    let out = sioscope(&small);
    assert_eq!(out.status.code(), Some(0));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(
            "fixtures/log/clean-server.log: 101 log lines, 88 tied to a session; 90 lines longer than 60 bytes cut (--max-log-line);"
        ),
        "{err}"
    );
    let out = sioscope(&args);
    assert_eq!(out.status.code(), Some(0));
    assert!(!String::from_utf8_lossy(&out.stderr).contains("cut"));
    for cmd in ["decode", "explain", "report"] {
        let help = sioscope(&[cmd, "--help"]);
        assert!(
            String::from_utf8_lossy(&help.stdout).contains("--max-log-line"),
            "{cmd} --help lacks --max-log-line"
        );
    }
}

#[test]
fn max_tracked_connections_evicts_the_least_recently_active_and_picks_it_up_again() {
    let (code, events) = ndjson(&[
        "decode",
        NAMESPACES,
        "--layer",
        "all",
        "--max-tracked-connections",
        "2",
    ]);
    assert_eq!(code, Some(0));
    let first = events
        .iter()
        .find(|e| e["rule"] == "tcp-connection-table-full")
        .cloned()
        .unwrap_or_default();
    // Connection 2 (opened at frame 11, last seen at 13) is the least recently active when
    // connection 4's SYN (frame 17) needs room, not connection 3 (last seen at 16); its next
    // segment, the POST at frame 20, opens connection 5 mid-stream.
    assert_eq!(
        (&first["frame"], &first["conn"], &first["at"]),
        (&17.into(), &2.into(), &"tcp".into())
    );
    let reopened = events
        .iter()
        .find(|e| e["conn"] == 5 && e["layer"] == "tcp")
        .cloned()
        .unwrap_or_default();
    assert_eq!(reopened["frame"], 20);
    assert_eq!(reopened["client"], "127.0.0.1:35782");
    assert_eq!(reopened["syn_seen"], false, "{reopened}");
    let (_, events) = ndjson(&["decode", NAMESPACES, "--layer", "all"]);
    assert!(anomalies(&events)
        .iter()
        .all(|(_, r)| r != "tcp-connection-table-full"));
    for cmd in ["decode", "explain", "sessions", "annotate", "check"] {
        let help = sioscope(&[cmd, "--help"]);
        assert!(
            String::from_utf8_lossy(&help.stdout).contains("--max-tracked-connections"),
            "{cmd} --help lacks --max-tracked-connections"
        );
    }
}

/// `sioscope explain <capture> --format json <args>`: exit code and the document.
fn explain_json(capture: &str, args: &[&str]) -> (Option<i32>, Value) {
    let mut all = vec!["explain", capture, "--format", "json"];
    all.extend(args);
    let out = sioscope(&all);
    let doc = serde_json::from_slice(&out.stdout).unwrap_or_default();
    (out.status.code(), doc)
}

#[test]
fn max_tracked_sessions_folds_the_oldest_ended_sessions_and_keeps_their_causes_and_exit_code() {
    // Four sessions of four clients, ended by the server's shutdown: two while they were
    // connected (server-shutdown), two by a client's own close (client-disconnect).
    const SHUTDOWN: &str = "fixtures/pcap/v4-server-shutdown.pcap";
    let (code, doc) = explain_json(SHUTDOWN, &[]);
    assert_eq!(code, Some(1));
    assert_eq!(doc["summary"]["sessions"], 4);
    assert!(doc["summary"].get("folded").is_none(), "{}", doc["summary"]);

    let (limited, doc) = explain_json(SHUTDOWN, &["--max-tracked-sessions", "1"]);
    assert_eq!(limited, code, "folding keeps the exit code");
    let folded = &doc["summary"]["folded"];
    assert_eq!(folded["rule"], "session-table-full");
    assert_eq!((&folded["limit"], &folded["count"]), (&1.into(), &3.into()));
    // The handshake of the second session is where the table overflowed first.
    assert_eq!(folded["first"]["frame"], 126);
    assert_eq!(doc["summary"]["sessions"], 1);
    assert_eq!(doc["sessions"].as_array().map(Vec::len), Some(1));
    // Each folded session was explained alone when it was folded: its cause is in the totals
    // (a session explained without the later ones as context may get another cause: here one
    // reads transport-close where the whole capture shows client-disconnect).
    assert_eq!(
        folded["causes"],
        serde_json::json!([
            {"name": "server-shutdown", "count": 2},
            {"name": "transport-close", "count": 1}
        ])
    );
    let total: u64 = doc["summary"]["causes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["count"].as_u64())
        .sum();
    assert_eq!(total, 4, "{}", doc["summary"]["causes"]);

    let text = sioscope(&[
        "explain",
        SHUTDOWN,
        "--color",
        "never",
        "--max-tracked-sessions",
        "1",
    ]);
    assert_eq!(text.status.code(), code);
    assert!(
        String::from_utf8_lossy(&text.stdout).contains(
            "session-table-full: 3 ended sessions folded into a count and not explained (the \
             table holds 1 session, full from frame 126; --max-tracked-sessions raises it)"
        ),
        "{}",
        String::from_utf8_lossy(&text.stdout)
    );
    let sessions = sioscope(&[
        "sessions",
        SHUTDOWN,
        "--format",
        "json",
        "--max-tracked-sessions",
        "1",
    ]);
    let doc: Value = serde_json::from_slice(&sessions.stdout).unwrap_or_default();
    assert_eq!(doc["folded"]["count"], 3);
    assert_eq!(doc["sessions"].as_array().map(Vec::len), Some(1));
}

#[test]
fn max_tracked_sessions_folds_each_ended_session_and_the_default_none() {
    // eio-bare: three sessions one after the other, each ended before the next opens; all but
    // the last are folded at 1, and the default folds none.
    const BARE: &str = "fixtures/pcap/eio-bare.pcap";
    let (code, doc) = explain_json(BARE, &[]);
    assert_eq!((code, &doc["summary"]["sessions"]), (Some(0), &3.into()));
    assert!(doc["summary"].get("folded").is_none());
    let (limited, doc) = explain_json(BARE, &["--max-tracked-sessions", "1"]);
    assert_eq!(limited, code);
    assert_eq!(doc["summary"]["folded"]["count"], 2);
    assert_eq!(doc["summary"]["folded"]["abnormal"], 0);
    assert_eq!(doc["sessions"][0]["end"]["cause"], "client-disconnect");
}

/// The Socket.IO packets without their frame numbers: type, namespace, data.
fn socketio_packets(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .filter(|e| e["layer"] == "sio")
        .map(|e| {
            format!(
                "{} {} {}",
                e["sio"]["type"], e["sio"]["nsp"], e["sio"]["data"]
            )
        })
        .collect()
}

#[test]
fn max_har_entry_skips_the_larger_entries_and_keeps_the_socketio_traffic_of_the_rest() {
    // A real Chromium HAR (fixtures/har/record): its largest entry is the 162 287-byte download
    // of socket.io.js; the Engine.IO entries are 2–5 KB each.
    let har = "fixtures/har/clean.har";
    let (code, all) = ndjson(&["decode", har]);
    assert_eq!(code, Some(0));
    assert!(anomalies(&all)
        .iter()
        .all(|(_, r)| r != "har-entry-too-large"));
    let (code, cut) = ndjson(&["decode", har, "--max-har-entry", "100KiB"]);
    assert_eq!(code, Some(0));
    let skipped: Vec<&Value> = cut
        .iter()
        .filter(|e| e["rule"] == "har-entry-too-large")
        .collect();
    assert_eq!(skipped.len(), 1, "{skipped:?}");
    let detail = skipped[0]["detail"].as_str().unwrap_or("");
    assert!(
        detail.contains(" is 162287 bytes of JSON, more than 102400 (--max-har-entry raises it)"),
        "{detail}"
    );
    assert!(!socketio_packets(&all).is_empty());
    assert_eq!(socketio_packets(&cut), socketio_packets(&all));
    let out = sioscope(&["sessions", har, "--max-har-entry", "100KiB"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("; 1 entry skipped as longer than --max-har-entry (a `har-entry-too-large` anomaly each)"),
        "{err}"
    );
    // 4 000 bytes also skips the WebSocket entry (4 274 bytes): its packets are gone, the
    // polling ones stay.
    let (code, small) = ndjson(&["decode", har, "--max-har-entry", "4000"]);
    assert_eq!(code, Some(0));
    let skipped = anomalies(&small)
        .iter()
        .filter(|(_, r)| r == "har-entry-too-large")
        .count();
    assert_eq!(skipped, 2);
    let kept = socketio_packets(&small).len();
    assert!(kept > 0 && kept < socketio_packets(&all).len(), "{kept}");
}
