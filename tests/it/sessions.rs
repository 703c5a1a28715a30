//! `sessions`: the table and chains of a real reconnect capture, and `--diff`.

use crate::common::sioscope;

#[test]
fn sessions_table_shows_the_chain_and_the_changed_socket_id() {
    let out = sioscope(&["sessions", "fixtures/pcap/v4-server-killed.pcap"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    insta::assert_snapshot!("sessions_server_killed", text);
    assert!(text.contains("transport-close"));
    assert!(text.contains("│ changed │"), "{text}");
    assert!(text
        .contains("changed: state keyed by the old socket id (rooms, maps) does not carry over"));
    assert!(text.lines().all(|l| l.chars().count() <= 100), "{text}");
}

#[test]
fn sessions_diff_compares_two_sessions_and_rejects_ambiguous_ids() {
    let json = sioscope(&[
        "sessions",
        "--format",
        "json",
        "fixtures/pcap/v4-server-killed.pcap",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).expect("json");
    let a = v["sessions"][0]["sid"].as_str().expect("sid a").to_string();
    let b = v["sessions"][1]["sid"].as_str().expect("sid b").to_string();
    let out = sioscope(&[
        "sessions",
        "fixtures/pcap/v4-server-killed.pcap",
        "--diff",
        &a[..6],
        &b[..6],
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("end cause"));
    assert!(text.contains("transport-close"));
    let bad = sioscope(&[
        "sessions",
        "fixtures/pcap/v4-server-killed.pcap",
        "--diff",
        "zzzz",
        &b,
    ]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("no session id starts with"));
}
