//! Every fixture decodes to the Socket.IO events its truth file records, counted by name and
//! direction on the connections to the real server (relay legs excluded).

use std::collections::BTreeMap;

use serde_json::Value;
use sioscope::event::{Body, Dir};

use crate::common::{decode, fixtures, server_ports, truth};

type Counts = BTreeMap<(String, String), u64>;

fn truth_counts(t: &Value, which: &str) -> Counts {
    let mut out = Counts::new();
    for dir in ["c2s", "s2c"] {
        if let Some(m) = t["events"][which][dir].as_object() {
            for (name, n) in m {
                out.insert((dir.to_string(), name.clone()), n.as_u64().unwrap_or(0));
            }
        }
    }
    out
}

#[test]
fn every_fixture_has_a_truth_file() {
    for pcap in fixtures() {
        let t = truth(&pcap);
        assert!(
            t["events"].is_object(),
            "{}: truth has no events",
            pcap.display()
        );
    }
}

#[test]
fn events_by_name_match_what_the_apps_sent_and_received() {
    let mut failures = vec![];
    for pcap in fixtures() {
        let t = truth(&pcap);
        let ports: Vec<u16> = t["server_ports"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|p| p.as_u64())
                    .map(|p| p as u16)
                    .collect()
            })
            .unwrap_or_default();
        let events = decode(&pcap);
        let conn_port = server_ports(&events);
        let mut got = Counts::new();
        for e in &events {
            if !conn_port.get(&e.conn.0).is_some_and(|p| ports.contains(p)) {
                continue;
            }
            if let Body::Sio { sio, .. } = &e.body {
                let is_event = matches!(sio.kind.as_str(), "EVENT" | "BINARY_EVENT" | "event");
                if let (true, Some(name)) = (is_event, &sio.event) {
                    let dir = if e.dir == Some(Dir::C2S) {
                        "c2s"
                    } else {
                        "s2c"
                    };
                    *got.entry((dir.to_string(), name.clone())).or_default() += 1;
                }
            }
        }
        let sent = truth_counts(&t, "sent");
        let received = truth_counts(&t, "received");
        let keys: std::collections::BTreeSet<_> = sent
            .keys()
            .chain(received.keys())
            .chain(got.keys())
            .cloned()
            .collect();
        for k in keys {
            let g = got.get(&k).copied().unwrap_or(0);
            let s = sent.get(&k).copied().unwrap_or(0);
            let r = received.get(&k).copied().unwrap_or(0);
            // What crossed the wire lies between what the receiver's handlers got and what the
            // sender's app emitted (emits can die in a buffer; wire data can fail to decode).
            if g < r || g > s.max(r) {
                failures.push(format!(
                    "{}: {} {:?}: decoded {g}, app sent {s}, peer received {r}",
                    pcap.file_name().unwrap_or_default().to_string_lossy(),
                    k.0,
                    k.1
                ));
            }
        }
    }
    assert!(failures.is_empty(), "mismatches:\n{}", failures.join("\n"));
}
