//! `explain` on every fixture names, for each Engine.IO session, the cause and the reason that
//! the fixture's truth file records (from the libraries' own reports), with evidence frames that
//! exist in the capture; captures without abnormal ends produce no abnormal finding.

use sioscope::explain::{explain, Cause};
use sioscope::session::SessionTracker;

use crate::common::{decode, fixtures, sioscope, truth};

#[test]
fn every_session_is_explained_as_the_truth_file_says() {
    let mut failures = vec![];
    let mut checked = 0;
    for pcap in fixtures() {
        let name = pcap
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .to_string();
        let t = truth(&pcap);
        let events = decode(&pcap);
        let last_frame = events.iter().map(|e| e.frame).max().unwrap_or(0);
        let mut tracker = SessionTracker::new();
        for e in &events {
            tracker.event(e);
        }
        let x = explain(&tracker);
        let expected = t["expected"].as_array().cloned().unwrap_or_default();
        let truth_sessions = t["sessions"].as_array().map_or(0, Vec::len);
        if expected.is_empty() {
            // No session ever existed (e.g. a refused handshake): explain must say so.
            assert_eq!(
                truth_sessions, 0,
                "{name}: truth has sessions but no expected causes"
            );
            if !x.sessions.is_empty() || x.sessionless_errors.is_empty() {
                failures.push(format!(
                    "{name}: expected no session and the refusals listed"
                ));
            }
        }
        for exp in &expected {
            let sid = exp["sid"].as_str().unwrap_or_default();
            let Some(f) = x.sessions.iter().find(|f| f.sid == sid) else {
                failures.push(format!("{name}: session {sid} not found"));
                continue;
            };
            checked += 1;
            let want_cause = exp["cause"].as_str().unwrap_or_default();
            if f.end.cause.as_str() != want_cause {
                failures.push(format!(
                    "{name} {sid}: cause {} (expected {want_cause})",
                    f.end.cause.as_str()
                ));
            }
            if let Some(want_reason) = exp["reason"].as_str() {
                if f.end.reason.as_deref() != Some(want_reason) {
                    failures.push(format!(
                        "{name} {sid}: reason {:?} (expected {want_reason:?})",
                        f.end.reason
                    ));
                }
            }
            for want in exp["findings"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|v| v.as_str())
            {
                if !f.notes.iter().any(|n| n.kind == want) {
                    failures.push(format!(
                        "{name} {sid}: no {want:?} note (notes: {:?})",
                        f.notes.iter().map(|n| n.kind).collect::<Vec<_>>()
                    ));
                }
            }
            for m in &f.end.evidence {
                if m.frame == 0 || m.frame > last_frame {
                    failures.push(format!(
                        "{name} {sid}: evidence frame {} not in the capture",
                        m.frame
                    ));
                }
            }
            if f.end.evidence.is_empty() {
                failures.push(format!("{name} {sid}: no evidence"));
            }
        }
        // A refused handshake (no session at all) is a problem too.
        let any_abnormal_expected = expected.is_empty()
            || expected.iter().any(|e| {
                Cause::parse(e["cause"].as_str().unwrap_or("")).is_some_and(|c| c.is_abnormal())
            });
        let code = sioscope(&["explain", pcap.to_str().unwrap_or_default()])
            .status
            .code();
        let want = if any_abnormal_expected {
            Some(1)
        } else {
            Some(0)
        };
        if code != want {
            failures.push(format!(
                "{name}: explain exit code {code:?}, expected {want:?}"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "explain disagrees with the truth files:\n{}",
        failures.join("\n")
    );
    assert!(checked > 0);
}

#[test]
fn issue_6_seed_bug_deflate_error_chain_shows_frame_zlib_close_and_new_sid() {
    let pcap = "fixtures/pcap/v1-3-deflate-fragmented.pcap";
    let out = sioscope(&["explain", "--color", "never", pcap]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    insta::assert_snapshot!("explain_seed_bug", text);
    let json = sioscope(&["explain", "--format", "json", pcap]);
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).expect("json");
    let first = &v["sessions"][0];
    assert_eq!(first["end"]["cause"], "deflate-error");
    assert_eq!(first["end"]["initiator"], "server");
    let chain = &v["chains"][0];
    assert_eq!(chain["links"][0]["cause"], "deflate-error");
    assert_ne!(
        chain["links"][0]["sockets"][0]["from"],
        chain["links"][0]["sockets"][0]["to"]
    );
}
