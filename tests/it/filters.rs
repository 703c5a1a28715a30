//! `decode` filters and the revision override, on real captures (issue 4).

use serde_json::Value;

use crate::common::{root, sioscope};

fn ndjson(args: &[&str]) -> Vec<Value> {
    let out = sioscope(args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect()
}

#[test]
fn nsp_event_type_sid_and_conn_filters_select_exactly_what_they_name() {
    let f = "fixtures/pcap/v4-namespaces.pcap";
    let all = ndjson(&["decode", "--format", "ndjson", f]);
    let sio: Vec<&Value> = all.iter().filter(|e| e["layer"] == "sio").collect();
    let nsps: std::collections::BTreeSet<String> = sio
        .iter()
        .filter_map(|e| e["sio"]["nsp"].as_str().map(String::from))
        .collect();
    assert!(nsps.len() >= 3, "{nsps:?}");
    assert!(
        nsps.iter().any(|n| !n.is_ascii()),
        "the multibyte namespace decodes: {nsps:?}"
    );
    for nsp in &nsps {
        let got = ndjson(&["decode", "--format", "ndjson", "--nsp", nsp, f]);
        let want = sio
            .iter()
            .filter(|e| e["sio"]["nsp"] == nsp.as_str())
            .count();
        assert_eq!(got.len(), want, "--nsp {nsp}");
        assert!(got.iter().all(|e| e["sio"]["nsp"] == nsp.as_str()));
    }
    let events: Vec<&Value> = sio
        .iter()
        .copied()
        .filter(|e| e["sio"]["type"] == "EVENT")
        .collect();
    let name = events[0]["sio"]["event"].as_str().expect("an event name");
    let got = ndjson(&["decode", "--format", "ndjson", "--event", name, f]);
    assert_eq!(
        got.len(),
        events.iter().filter(|e| e["sio"]["event"] == name).count()
    );
    let got = ndjson(&["decode", "--format", "ndjson", "--type", "connect", f]);
    assert!(!got.is_empty() && got.iter().all(|e| e["sio"]["type"] == "CONNECT"));
    let sid = sio[0]["eio"]["sid"].as_str().expect("sid");
    let got = ndjson(&["decode", "--format", "ndjson", "--sid", &sid[..6], f]);
    // every shown event that names the session: packets (eio.sid), HTTP and WebSocket (sid)
    let want = all
        .iter()
        .filter(|e| e["eio"]["sid"] == sid || e["sid"] == sid)
        .count();
    assert_eq!(got.len(), want);
    assert!(got
        .iter()
        .all(|e| e["eio"]["sid"] == sid || e["sid"] == sid));
    let conn = sio[0]["conn"].as_u64().expect("conn");
    let got = ndjson(&[
        "decode",
        "--format",
        "ndjson",
        "--layer",
        "all",
        "--conn",
        &format!("c{conn}"),
        f,
    ]);
    assert!(!got.is_empty() && got.iter().all(|e| e["conn"] == conn));
    let bad = sioscope(&["decode", "--layer", "bogus", f]);
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn a_capture_that_starts_mid_websocket_decodes_with_eio_override() {
    // Drop the handshake packets of a WebSocket-only v4 capture: what remains starts inside the
    // WebSocket connection (no SYN, no upgrade request, no 101).
    let bytes = std::fs::read(root().join("fixtures/pcap/v4-ws-only.pcap")).expect("fixture");
    let mut r = sioscope::capture::CaptureReader::new(&bytes[..]).expect("reader");
    let mut w = sioscope::capture::writer::PcapNgWriter::new(Vec::new()).expect("writer");
    let mut n = 0;
    let mut after_101 = false;
    while let Some(p) = r.next_packet().expect("packet") {
        n += 1;
        if after_101 {
            w.packet(p.ts, p.data, None).expect("write");
        } else if p.data.windows(12).any(|x| x == b"HTTP/1.1 101") {
            after_101 = true;
        }
    }
    assert!(after_101 && n > 10);
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("mid.pcapng");
    std::fs::write(&path, w.into_inner()).expect("write");
    let p = path.to_str().unwrap_or_default();
    let events = ndjson(&["decode", "--format", "ndjson", "--eio", "4", p]);
    assert!(events
        .iter()
        .any(|e| e["layer"] == "anomaly" && e["rule"] == "ws-midstream"));
    let sio: Vec<&Value> = events.iter().filter(|e| e["layer"] == "sio").collect();
    assert!(
        sio.iter().any(|e| e["sio"]["type"] == "EVENT"),
        "events decode without the handshake"
    );
    assert!(sio.iter().all(|e| e["eio"]["version"] == 4));
}
