//! Whether an Engine.IO session carries Socket.IO is established from evidence: a bare engine.io
//! app (engine.io used alone) echoing `hello <i>` decodes as Engine.IO messages, never as broken
//! Socket.IO packets, and `check --capture` raises no `sio-packets` violation on it. Two real
//! captures shaped by others: the corpus' bare app (engine.io 6.6.12 + engine.io-client 6.6.8, the
//! server logged 6 messages each way) and the official engine.io-protocol suite recorded through
//! the proxy. Socket.IO captures keep decoding as Socket.IO.

use sioscope::event::{Body, Dir, Event};

use crate::common::{decode, root, sioscope, truth};

fn events(name: &str) -> Vec<Event> {
    decode(&root().join(format!("fixtures/pcap/{name}")))
}

fn no_sio(name: &str, ev: &[Event]) {
    for e in ev {
        match &e.body {
            Body::Sio { .. } => panic!("{name}: a Socket.IO packet in a bare Engine.IO app: {e:?}"),
            Body::Anomaly(a) if a.at == "sio" => panic!("{name}: {a:?}"),
            _ => {}
        }
    }
}

fn messages(ev: &[Event], dir: Dir) -> usize {
    ev.iter()
        .filter(|e| {
            e.dir == Some(dir) && matches!(&e.body, Body::Eio { eio } if eio.kind == "message")
        })
        .count()
}

#[test]
fn bare_engineio_messages_are_engineio_messages() {
    let ev = events("eio-bare.pcap");
    no_sio("eio-bare", &ev);
    let t = truth(&root().join("fixtures/pcap/eio-bare.pcap"));
    // What the server and the clients logged receiving.
    assert_eq!(
        messages(&ev, Dir::C2S) as u64,
        t["messages"]["c2s"].as_u64().unwrap()
    );
    assert_eq!(
        messages(&ev, Dir::S2C) as u64,
        t["messages"]["s2c"].as_u64().unwrap()
    );
    assert!(ev.iter().any(|e| matches!(&e.body,
        Body::Eio { eio } if eio.kind == "message" && eio.text.as_deref() == Some("hello 0"))));

    let suite = events("suite-eio.pcapng");
    no_sio("suite-eio", &suite);
    assert!(messages(&suite, Dir::C2S) > 0 && messages(&suite, Dir::S2C) > 0);
}

#[test]
fn check_capture_raises_no_sio_packets_violation_on_bare_engineio() {
    for cap in ["eio-bare.pcap", "suite-eio.pcapng"] {
        let out = sioscope(&[
            "check",
            "--capture",
            &format!("fixtures/pcap/{cap}"),
            "--format",
            "json",
        ]);
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        for r in v["rules"].as_array().expect("rules") {
            if r["rule"] == "sio-packets" || r["rule"] == "connect-first" {
                assert_eq!(r["violations"], 0, "{cap}: {r}");
            }
        }
    }
}

/// Socket.IO sessions stay Socket.IO: on the Socket.IO path, and by their first CONNECT.
#[test]
fn socketio_captures_still_decode_as_socketio() {
    for cap in [
        "v4-ws-only.pcap",
        "v2-ws-upgrade.pcap",
        "node-server-py-client.pcap",
    ] {
        let ev = events(cap);
        assert!(
            ev.iter().any(|e| matches!(&e.body,
                Body::Sio { sio, .. } if sio.kind == "CONNECT")),
            "{cap}"
        );
        assert!(
            !ev.iter()
                .any(|e| matches!(&e.body, Body::Eio { eio } if eio.kind == "message")),
            "{cap}: every message is a Socket.IO packet"
        );
    }
}
