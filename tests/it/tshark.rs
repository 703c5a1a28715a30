//! tshark is the peer: on every real capture, the WebSocket frames sioscope finds (frame
//! number, opcode, payload length) are exactly those tshark dissects, and every message tshark
//! shows as text has the same (inflated) text in sioscope.
//!
//! Known, documented differences (docs/tshark-differences.md): tshark 4.0 does not inflate
//! fragmented compressed messages, and leaves payloads beyond 256 KiB masked; such messages are
//! compared by frame and length only.

use std::collections::BTreeMap;
use std::process::Command;

use serde_json::Value;
use sioscope::event::{Body, WsInfo};

use crate::common::{decode, fixtures, truth};

/// (capture frame number, WebSocket opcode, payload length).
type WireFrame = (u64, u64, u64);

/// (frame, opcode, payload length) of every WebSocket frame, and text by frame where tshark
/// shows exactly one text PDU.
fn tshark_frames(pcap: &std::path::Path, ports: &[u64]) -> (Vec<WireFrame>, BTreeMap<u64, String>) {
    let mut cmd = Command::new("tshark");
    cmd.arg("-r").arg(pcap);
    for p in ports {
        cmd.arg("-d").arg(format!("tcp.port=={p},http"));
    }
    cmd.args([
        "-Y",
        "websocket",
        "-T",
        "json",
        "-e",
        "frame.number",
        "-e",
        "websocket.opcode",
        "-e",
        "websocket.payload_length",
        "-e",
        "websocket.payload_length_ext_16",
        "-e",
        "websocket.payload_length_ext_64",
        "-e",
        "websocket.payload.text",
    ]);
    let out = cmd
        .output()
        .expect("tshark is required for this test (.ci/run installs it: apt-get install tshark)");
    assert!(
        out.status.success(),
        "tshark failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: Value = serde_json::from_slice(&out.stdout).expect("tshark json");
    let mut frames = vec![];
    let mut texts = BTreeMap::new();
    for pkt in json.as_array().into_iter().flatten() {
        let layers = &pkt["_source"]["layers"];
        let num = |v: &Value| v.as_str().and_then(|s| s.parse::<u64>().ok()).unwrap_or(0);
        let frame = layers["frame.number"].get(0).map(num).unwrap_or(0);
        let ops: Vec<u64> = layers["websocket.opcode"]
            .as_array()
            .into_iter()
            .flatten()
            .map(num)
            .collect();
        let lens: Vec<u64> = layers["websocket.payload_length"]
            .as_array()
            .into_iter()
            .flatten()
            .map(num)
            .collect();
        // The 7-bit length field says 126 or 127 when a 16- or 64-bit length follows; those
        // are separate fields, listed in the order of the PDUs that have them.
        let field = |name: &str| -> Vec<u64> {
            layers[name]
                .as_array()
                .into_iter()
                .flatten()
                .map(num)
                .collect()
        };
        let mut ext16 = field("websocket.payload_length_ext_16").into_iter();
        let mut ext64 = field("websocket.payload_length_ext_64").into_iter();
        for (op, len) in ops.iter().zip(lens.iter()) {
            let len = match len {
                126 => ext16.next().unwrap_or(126),
                127 => ext64.next().unwrap_or(127),
                n => *n,
            };
            frames.push((frame, *op, len));
        }
        let t: Vec<&str> = layers["websocket.payload.text"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str())
            .collect();
        if ops.len() == 1 && t.len() == 1 {
            texts.insert(frame, t[0].to_string());
        }
    }
    (frames, texts)
}

fn opcode_number(name: &str) -> u64 {
    match name {
        "continuation" => 0,
        "text" => 1,
        "binary" => 2,
        "close" => 8,
        "ping" => 9,
        "pong" => 10,
        _ => 99,
    }
}

#[test]
fn websocket_frames_and_texts_match_tshark() {
    let mut problems = vec![];
    let mut compared_texts = 0;
    for pcap in fixtures() {
        let t = truth(&pcap);
        let ports: Vec<u64> = ["server_ports", "relay_ports"]
            .iter()
            .flat_map(|k| t[*k].as_array().cloned().unwrap_or_default())
            .filter_map(|p| p.as_u64())
            .collect();
        let (theirs, their_texts) = tshark_frames(&pcap, &ports);
        let events = decode(&pcap);
        let mut ours = vec![];
        let mut our_texts: BTreeMap<u64, (String, u32, bool)> = BTreeMap::new();
        for e in &events {
            match &e.body {
                Body::Ws(WsInfo::Frame { opcode, len, .. }) => {
                    ours.push((e.frame, opcode_number(opcode), *len));
                }
                Body::Ws(WsInfo::Message {
                    text: Some(text),
                    frames,
                    compressed,
                    ..
                }) => {
                    our_texts.insert(e.frame, (text.clone(), *frames, *compressed));
                }
                _ => {}
            }
        }
        ours.sort();
        // An HTTP response a server wrote after its 101 (engine.io refusing the session): tshark
        // dissects its text as WebSocket frames, sioscope as the HTTP response it is
        // (`http-after-upgrade`, docs/tshark-differences.md). Those capture frames are not compared.
        let http_after_upgrade: Vec<u64> = events
            .iter()
            .filter(|e| matches!(&e.body, Body::Anomaly(a) if a.rule == "http-after-upgrade"))
            .map(|e| e.frame)
            .collect();
        let mut theirs: Vec<_> = theirs
            .into_iter()
            .filter(|f| !http_after_upgrade.contains(&f.0))
            .collect();
        theirs.sort();
        let name = pcap
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .to_string();
        if ours != theirs {
            let only_ours: Vec<_> = ours
                .iter()
                .filter(|f| !theirs.contains(f))
                .take(5)
                .collect();
            let only_theirs: Vec<_> = theirs
                .iter()
                .filter(|f| !ours.contains(f))
                .take(5)
                .collect();
            problems.push(format!(
                "{name}: {} frames vs tshark {}; only sioscope: {only_ours:?}; only tshark: {only_theirs:?}",
                ours.len(),
                theirs.len()
            ));
        }
        for (frame, text) in &their_texts {
            match our_texts.get(frame) {
                Some((ours, _, _)) if ours == text => compared_texts += 1,
                // tshark 4.0 does not inflate fragmented compressed messages
                Some((_, frames, true)) if *frames > 1 => {}
                Some((ours, _, _)) => problems.push(format!(
                    "{name} frame {frame}: text differs: sioscope {:?} tshark {:?}",
                    ours.chars().take(80).collect::<String>(),
                    text.chars().take(80).collect::<String>()
                )),
                None => {
                    // tshark shows control-frame payloads (e.g. close reasons) as text too
                    let is_control = events.iter().any(|e| {
                        e.frame == *frame
                            && matches!(
                                e.body,
                                Body::Ws(
                                    WsInfo::Close { .. }
                                        | WsInfo::Ping { .. }
                                        | WsInfo::Pong { .. }
                                )
                            )
                    });
                    if !is_control {
                        problems.push(format!(
                            "{name} frame {frame}: tshark text {:?}, no sioscope message",
                            text.chars().take(80).collect::<String>()
                        ));
                    }
                }
            }
        }
    }
    assert!(
        problems.is_empty(),
        "differences with tshark:\n{}",
        problems.join("\n")
    );
    assert!(
        compared_texts > 20,
        "too few texts compared ({compared_texts})"
    );
}
