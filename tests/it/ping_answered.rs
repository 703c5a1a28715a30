//! `ping-answered` in `check --capture` judges every unanswered ping → close the same way: a
//! session ended by its pinging side with a ping outstanding is that ping unanswered, whether the
//! close was captured just before or just after ping + pingTimeout (capture jitter; engine.io
//! starts its timer as it queues the ping). Before, only the closes captured after the deadline
//! counted (suite: 201-208 ms flagged, 189.6-199.9 ms not, for pingTimeout 200). Real captures:
//! the official engine.io-protocol and socket.io-protocol suites recorded through the proxy; the
//! truth is the server's own close reason per session.

use serde_json::Value;

use crate::common::{root, sioscope, truth};

fn check(cap: &str) -> Value {
    let out = sioscope(&[
        "check",
        "--capture",
        &format!("fixtures/pcap/{cap}"),
        "--format",
        "json",
    ]);
    serde_json::from_slice(&out.stdout).expect("json")
}

fn server_reason<'a>(t: &'a Value, sid: &str) -> Option<&'a str> {
    t["expected"]
        .as_array()?
        .iter()
        .find(|e| e["sid"] == sid)
        .and_then(|e| e["reason"].as_str())
}

#[test]
fn every_unanswered_ping_then_close_is_judged_alike() {
    for (cap, expected) in [("suite-eio.pcapng", 3), ("suite-sio.pcapng", 12)] {
        let v = check(cap);
        let t = truth(&root().join(format!("fixtures/pcap/{cap}")));
        let rule = v["rules"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["side"] == "client" && r["rule"] == "ping-answered")
            .expect("client ping-answered")
            .clone();
        assert_eq!(rule["violations"], expected, "{cap}: {rule}");
        for f in rule["first"].as_array().unwrap() {
            let sid = f["sid"].as_str().expect("sid");
            assert_eq!(
                server_reason(&t, sid),
                Some("ping timeout"),
                "{cap}: the server itself reported the ping timeout of {sid}"
            );
        }
    }
    // engine.io-protocol suite, "heartbeat/upgrade" tests: three pings closed at 198.3, 199.8
    // (before the deadline) and 199.9 ms are flagged alike; the WebSocket on which the client
    // never sent a frame stays a note (a silent path cannot be told from a silent peer), and the
    // session the client closed itself (EIO close, "forcefully closes the session") owes no pong.
    let v = check("suite-eio.pcapng");
    let rule = v["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["side"] == "client" && r["rule"] == "ping-answered")
        .unwrap()
        .clone();
    let frames: Vec<u64> = rule["first"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["frame"].as_u64().unwrap())
        .collect();
    assert_eq!(frames, [439, 440, 441]);
    assert!(v["notes"]
        .as_array()
        .unwrap()
        .iter()
        .any(|n| n["frame"] == 322 && n["rule"] == "ping-over-silent-websocket"));
}

/// The library fixtures' ping timeouts stay flagged once each.
#[test]
fn library_ping_timeouts_stay_flagged() {
    for cap in ["v4-ping-timeout.pcap", "v4-ping-timeout-polling.pcap"] {
        let v = check(cap);
        let rule = v["rules"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["side"] == "client" && r["rule"] == "ping-answered")
            .unwrap()
            .clone();
        assert_eq!(rule["violations"], 1, "{cap}");
    }
}
