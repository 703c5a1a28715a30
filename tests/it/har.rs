//! HAR input: every HAR fixture (headless chromium against socket.io 4.8.4, recorded by
//! `fixtures/har/record` with tcpdump on the same session) gives the same Socket.IO events, sids,
//! chains and causes as the pcap of that session, where a HAR can show them.

use std::collections::BTreeMap;
use std::fs::File;

use sioscope::capture::{replay, ReplayOptions};
use sioscope::event::{Body, Event};
use sioscope::explain::{apply_har_limits, explain, Cause, Certainty, Explanation};
use sioscope::har::{self, Dialect};
use sioscope::session::SessionTracker;

/// The `pw-` ones were written by Playwright's own `recordHar` (playwright-core 1.65.1), the
/// others by `fixtures/lab/browser/record.js` in the DevTools shape.
const SCENARIOS: [&str; 7] = [
    "clean",
    "blocked",
    "restart",
    "colors",
    "python",
    "pw-clean",
    "pw-restart",
];

fn path(s: &str, ext: &str) -> String {
    format!("{}/fixtures/har/{s}.{ext}", env!("CARGO_MANIFEST_DIR"))
}

type SioKey = (String, String, Option<String>, String);

fn sio_counts(events: &[Event]) -> BTreeMap<SioKey, usize> {
    let mut m = BTreeMap::new();
    for e in events {
        if let Body::Sio { sio: s, .. } = &e.body {
            let dir = e.dir.map(|d| d.as_str().to_string()).unwrap_or_default();
            *m.entry((s.kind.clone(), s.nsp.clone(), s.event.clone(), dir))
                .or_default() += 1;
        }
    }
    m
}

fn from_pcap(s: &str) -> (Vec<Event>, SessionTracker, Explanation) {
    let mut events = vec![];
    let mut t = SessionTracker::new();
    replay(
        File::open(path(s, "pcap")).unwrap(),
        &ReplayOptions::default(),
        &mut |e| {
            t.event(&e);
            events.push(e);
        },
    )
    .unwrap();
    let x = explain(&t);
    (events, t, x)
}

fn from_har(s: &str) -> (Vec<Event>, SessionTracker, Explanation, har::HarSummary) {
    let mut events = vec![];
    let mut t = SessionTracker::new();
    let sum = har::replay(
        File::open(path(s, "har")).unwrap(),
        &ReplayOptions::default(),
        &mut |e| {
            t.event(&e);
            events.push(e);
        },
    )
    .unwrap();
    let mut x = explain(&t);
    apply_har_limits(&t, &mut x, &sum);
    (events, t, x, sum)
}

#[test]
fn har_fixtures_decode_to_the_same_socketio_events_as_their_pcap() {
    for s in SCENARIOS {
        let (pe, _, _) = from_pcap(s);
        let (he, _, _, sum) = from_har(s);
        let (p, h) = (sio_counts(&pe), sio_counts(&he));
        assert!(!p.is_empty(), "{s}: the pcap shows Socket.IO packets");
        assert_eq!(p, h, "{s}: Socket.IO events (type, nsp, name, dir) → count");
        let dialect = if s.starts_with("pw-") {
            Dialect::Playwright
        } else {
            Dialect::ChromeDevTools
        };
        assert_eq!(sum.dialect, dialect, "{s}");
        assert!(sum.ws_without_messages.is_empty(), "{s}");
        assert!(
            !sum.time_unit_mismatch,
            "{s}: message times in the dialect's unit"
        );
        assert!(
            sum.ws_messages > 0,
            "{s}: the WebSocket's messages were read"
        );
    }
}

#[test]
fn har_fixtures_explain_the_same_sids_chains_and_causes_as_their_pcap() {
    for s in SCENARIOS {
        let (_, _, px) = from_pcap(s);
        let (_, _, hx, _) = from_har(s);
        let ends = |x: &Explanation| -> Vec<(String, &'static str, String)> {
            x.sessions
                .iter()
                .map(|f| {
                    (
                        f.sid.clone(),
                        f.end.cause.as_str(),
                        format!("{:?}", f.end.initiator),
                    )
                })
                .collect()
        };
        assert_eq!(
            ends(&px),
            ends(&hx),
            "{s}: sid, cause, initiator per session"
        );
        let chains = |x: &Explanation| x.chains.iter().map(|c| c.sids.clone()).collect::<Vec<_>>();
        assert_eq!(chains(&px), chains(&hx), "{s}: reconnect chains");
        let notes = |x: &Explanation| {
            x.sessions
                .iter()
                .map(|f| {
                    f.notes
                        .iter()
                        .map(|n| n.kind)
                        .filter(|k| *k != "har-limits")
                        .collect::<Vec<_>>()
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(
            notes(&px),
            notes(&hx),
            "{s}: notes (websocket-blocked, upgrade-failed, …)"
        );
        assert!(
            hx.sessions
                .iter()
                .all(|f| f.notes.iter().any(|n| n.kind == "har-limits")),
            "{s}: says what a HAR cannot show"
        );
    }
}

#[test]
fn har_restart_ends_as_a_likely_server_loss_never_a_certain_tcp_cause() {
    // DevTools writes a failed request's error as `_error`, Playwright as `_failureText`.
    for (s, key) in [("restart", "_error"), ("pw-restart", "_failureText")] {
        restart_is_a_likely_server_loss(s, key);
    }
}

fn restart_is_a_likely_server_loss(s: &str, key: &str) {
    let (_, _, x, sum) = from_har(s);
    let har: serde_json::Value =
        serde_json::from_slice(&std::fs::read(path(s, "har")).unwrap()).unwrap();
    let refused = har["log"]["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["response"][key] == "net::ERR_CONNECTION_REFUSED")
        .count();
    assert!(
        refused >= 2,
        "the browser retried while the server was down"
    );
    assert_eq!(sum.refused.len(), refused, "every refused attempt is read");
    let first = &x.sessions[0].end;
    assert!(
        first.explanation.starts_with("Likely the server went away"),
        "{}",
        first.explanation
    );
    assert!(first.explanation.contains(
        "whether the server closed or reset the connection, and exactly when, is unknown"
    ));
    assert!(first
        .evidence
        .iter()
        .any(|m| m.what.contains("net::ERR_CONNECTION_REFUSED")));
    assert_eq!(
        first.certainty,
        Certainty::Likely,
        "{}",
        first.certainty_reason
    );
    assert!(
        first.certainty_reason.contains("a HAR holds no TCP"),
        "{}",
        first.certainty_reason
    );
    assert!(
        first
            .candidates
            .iter()
            .any(|c| c.cause == Cause::TransportError),
        "a capture would decide FIN against RST"
    );
}

#[test]
fn a_playwright_har_without_websocket_messages_says_the_websocket_is_unknown_not_blocked() {
    // pw-noframes: pw-clean recorded with PLAYWRIGHT_HAR_NO_WEBSOCKET_FRAMES=1, a real export
    // whose WebSocket entry has no `_webSocketMessages`; its pcap shows the messages.
    let (pe, _, px) = from_pcap("pw-noframes");
    let (he, _, hx, sum) = from_har("pw-noframes");
    assert_eq!(sum.dialect, Dialect::Playwright);
    assert_eq!(sum.ws_without_messages.len(), 1);
    assert_eq!(sum.ws_messages, 0);
    let (p, h) = (sio_counts(&pe), sio_counts(&he));
    // What went over polling is in both; what went over the WebSocket only in the pcap.
    assert!(
        h.iter().all(|(k, n)| p.get(k).is_some_and(|m| m >= n)),
        "{p:?} {h:?}"
    );
    assert!(p.values().sum::<usize>() > h.values().sum::<usize>());
    assert_eq!(px.sessions.len(), 1);
    assert_eq!(px.sessions[0].end.cause, Cause::ClientDisconnect);
    let f = &hx.sessions[0];
    assert_eq!(f.sid, px.sessions[0].sid);
    assert!(
        f.notes.iter().all(|n| n.kind != "websocket-blocked"),
        "a 101 and no messages in the HAR is no blocked WebSocket"
    );
    let note = f.notes.iter().find(|n| n.kind == "har-ws-unknown").unwrap();
    assert!(note.text.contains("holds no messages"), "{}", note.text);
    assert_ne!(f.end.certainty, Certainty::Certain);
    let out = crate::common::sioscope(&["decode", "fixtures/har/pw-noframes.har"]);
    assert!(out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("exported by Playwright (Playwright 1.65.1")
            && err.contains(
                "1 WebSocket entry without `_webSocketMessages`: what travelled over it is unknown"
            ),
        "{err}"
    );
}

#[test]
fn a_real_firefox_har_is_read_and_its_missing_websocket_messages_said() {
    // ff-clean: clean in Firefox ESR 153.8.0, the HAR of its own devtools auto-export, with the
    // same session captured by tcpdump. Firefox writes the WebSocket entry without messages.
    let (pe, _, px) = from_pcap("ff-clean");
    let (he, _, hx, sum) = from_har("ff-clean");
    assert_eq!(sum.dialect, Dialect::Firefox);
    assert!(sum.creator.starts_with("Firefox 153."), "{}", sum.creator);
    assert_eq!(sum.ws_without_messages.len(), 1);
    let (p, h) = (sio_counts(&pe), sio_counts(&he));
    assert!(!h.is_empty(), "the polling part is in the HAR");
    assert!(
        h.iter().all(|(k, n)| p.get(k).is_some_and(|m| m >= n)),
        "{p:?} {h:?}"
    );
    assert_eq!(px.sessions.len(), 1);
    assert_eq!(px.sessions[0].end.cause, Cause::ClientDisconnect);
    assert_eq!(hx.sessions.len(), 1);
    let f = &hx.sessions[0];
    assert_eq!(f.sid, px.sessions[0].sid, "the same sid");
    assert!(f.notes.iter().all(|n| n.kind != "websocket-blocked"));
    let note = f.notes.iter().find(|n| n.kind == "har-ws-unknown").unwrap();
    assert!(
        note.text
            .contains("Firefox's HAR export writes no WebSocket messages"),
        "{}",
        note.text
    );
    assert_ne!(f.end.certainty, Certainty::Certain);
}

#[test]
fn har_ends_are_certain_only_when_the_payloads_state_them() {
    for s in SCENARIOS {
        let (_, _, x, _) = from_har(s);
        for f in &x.sessions {
            if f.end.certainty == Certainty::Certain {
                assert!(
                    matches!(
                        f.end.cause,
                        Cause::ClientDisconnect
                            | Cause::ServerDisconnect
                            | Cause::ServerShutdown
                            | Cause::ConnectRefused
                            | Cause::SessionUnknown
                            | Cause::MessageTooLarge
                    ),
                    "{s} {}: {} certain from a HAR ({})",
                    f.sid,
                    f.end.cause.as_str(),
                    f.end.certainty_reason
                );
            }
        }
    }
}

#[test]
fn every_reading_command_takes_a_har_through_the_one_input_path() {
    let har = path("restart", "har");
    let out = crate::common::sioscope(&["explain", &har, "--format", "json"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("read as a HAR 1.2 exported by Chrome DevTools"),
        "{err}"
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["har"]["dialect"], "chrome-dev-tools", "{}", doc["har"]);
    assert!(doc.get("logs").is_none(), "no --log given");
    let log = format!(
        "{}/fixtures/log/restart-server.log",
        env!("CARGO_MANIFEST_DIR")
    );
    let out = crate::common::sioscope(&["explain", &har, "--format", "json", "--log", &log]);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["logs"].as_array().map(Vec::len), Some(1));
    for cmd in [&["decode"][..], &["sessions"], &["check", "--capture"]] {
        let mut args = cmd.to_vec();
        args.push(&har);
        let out = crate::common::sioscope(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("read as a HAR 1.2"), "{cmd:?}: {err}");
        assert!(!out.stdout.is_empty(), "{cmd:?} printed nothing");
    }
    let pcap = path("restart", "pcap");
    let out = crate::common::sioscope(&["decode", &pcap, &har]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("a HAR cannot be merged with other inputs"),
        "{err}"
    );
}

#[test]
fn har_detection_is_by_content() {
    let har = std::fs::read(path("clean", "har")).unwrap();
    let pcap = std::fs::read(path("clean", "pcap")).unwrap();
    assert!(har::looks_like_har(&har[..64]));
    assert!(!har::looks_like_har(&pcap[..64]));
}

#[test]
fn malformed_har_is_a_clear_error_not_a_panic() {
    for bad in [
        &b"{\"log\": 3}"[..],
        b"{\"log\": {\"entries\": [{\"request\": 1}]}}",
        b"{\"log\"",
        b"{\"log\": {\"entries\": [{\"startedDateTime\": \"x\", \"request\": {}}]}}",
    ] {
        let r = har::replay(bad, &ReplayOptions::default(), &mut |_| {});
        match r {
            Err(e) => assert!(e.to_string().starts_with("not a HAR 1.2 document"), "{e}"),
            Ok(s) => assert_eq!(s.undated, 1),
        }
    }
}

/// `explain --format json` is written field by field (`JsonDoc`), not built as one value: its
/// keys keep the order the document always had, `har` and `logs` only when there are some, and
/// `--only-abnormal` narrows `sessions` alone (the summary still counts every session).
#[test]
fn the_explain_document_keeps_its_key_order_and_only_abnormal_narrows_sessions_alone() {
    let keys = |doc: &serde_json::Value| -> Vec<String> {
        doc.as_object()
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default()
    };
    let base = [
        "capture",
        "summary",
        "rule_order",
        "sessions",
        "chains",
        "sessionless_errors",
        "refusals",
        "hops",
    ];
    let pcap = path("restart", "pcap");
    let out = crate::common::sioscope(&["explain", &pcap, "--format", "json"]);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(keys(&doc), base);
    let har = path("restart", "har");
    let log = format!(
        "{}/fixtures/log/restart-server.log",
        env!("CARGO_MANIFEST_DIR")
    );
    let out = crate::common::sioscope(&["explain", &har, "--format", "json", "--log", &log]);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut with = base.to_vec();
    with.extend(["har", "logs"]);
    assert_eq!(keys(&doc), with);
    let all = doc["sessions"].as_array().map(Vec::len).unwrap_or(0);
    let out = crate::common::sioscope(&[
        "explain",
        &har,
        "--format",
        "json",
        "--log",
        &log,
        "--only-abnormal",
    ]);
    let narrowed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(keys(&narrowed), with);
    assert_eq!(narrowed["summary"], doc["summary"]);
    let abnormal = narrowed["sessions"].as_array().cloned().unwrap_or_default();
    assert!(
        abnormal.len() < all,
        "restart has clean sessions too: {all}"
    );
    assert!(!abnormal.is_empty(), "restart's server restart is abnormal");
    let kept: Vec<&serde_json::Value> = doc["sessions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| abnormal.iter().any(|a| a["sid"] == f["sid"]))
        .collect();
    assert_eq!(kept, abnormal.iter().collect::<Vec<_>>());
}
