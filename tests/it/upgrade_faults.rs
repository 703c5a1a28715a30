//! A server that answers `101 Switching Protocols` and then writes an HTTP response into the
//! upgraded stream (engine.io 6.6 refusing an `EIO` it does not speak, after `ws` already sent the
//! 101): one `http-after-upgrade` server fault and the HTTP response decoded as HTTP, never
//! WebSocket frames (`ws-fragmented-control`, close code 21584, `deflate-*`). Two real captures
//! shaped by others: socket.io-client 1.7.4 (EIO=3, websocket only) against socket.io 4.8.4, and
//! the official engine.io-protocol suite's `EIO=abc` websocket test recorded through the proxy.
//! The truth is the server's own `connection_error` report (`http_errors` in the truth file).

use sioscope::event::{Body, Dir, Event, HttpInfo};

use crate::common::{decode, root, server_ports, sioscope, truth};

fn case(name: &str) -> (Vec<Event>, serde_json::Value) {
    let p = root().join(format!("fixtures/pcap/{name}"));
    let stem = name.split('.').next().unwrap_or(name);
    (decode(&p), truth(&p.with_file_name(format!("{stem}.pcap"))))
}

#[test]
fn http_after_upgrade_is_one_server_fault_and_an_http_response() {
    for name in ["v4-eio3-rejected-v1-ws.pcap", "suite-eio.pcapng"] {
        let (events, t) = case(name);
        let server_port = t["server_ports"][0].as_u64().unwrap();
        let ports = server_ports(&events);
        let to_server = |e: &Event| u64::from(ports[&e.conn.0]) == server_port;
        // What the server library reported: websocket handshakes it refused.
        let refused: Vec<&serde_json::Value> = t["http_errors"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| {
                e["url"]
                    .as_str()
                    .unwrap_or("")
                    .contains("transport=websocket")
            })
            .collect();
        assert!(!refused.is_empty(), "{name}");
        let faults: Vec<&Event> = events
            .iter()
            .filter(|e| {
                to_server(e)
                    && matches!(&e.body, Body::Anomaly(a) if a.rule == "http-after-upgrade")
            })
            .collect();
        assert_eq!(faults.len(), refused.len(), "{name}: one fault per refusal");
        for f in &faults {
            assert_eq!(f.dir, Some(Dir::S2C), "{name}: the server's fault");
            // On that connection: the 101, then the 400 as HTTP with the server's words.
            let on_conn: Vec<&Event> = events.iter().filter(|e| e.conn == f.conn).collect();
            let statuses: Vec<u16> = on_conn
                .iter()
                .filter_map(|e| match &e.body {
                    Body::Http(HttpInfo {
                        status: Some(s), ..
                    }) => Some(*s),
                    _ => None,
                })
                .collect();
            assert_eq!(statuses, vec![101, 400], "{name} conn {:?}", f.conn);
            let body = on_conn.iter().find_map(|e| match &e.body {
                Body::Http(HttpInfo {
                    status: Some(400),
                    body_text,
                    ..
                }) => body_text.clone(),
                _ => None,
            });
            assert_eq!(
                body.as_deref(),
                refused[0]["message"].as_str(),
                "{name}: the server's own message"
            );
            for e in &on_conn {
                if let Body::Anomaly(a) = &e.body {
                    assert!(
                        a.rule == "http-after-upgrade"
                            || (e.dir == Some(Dir::C2S) && !a.rule.starts_with("deflate")),
                        "{name}: no frame anomaly decoded from the HTTP text: {a:?}"
                    );
                }
                assert!(
                    !(e.dir == Some(Dir::S2C) && matches!(e.body, Body::Ws(_))),
                    "{name}: nothing from the server decoded as WebSocket: {e:?}"
                );
            }
        }
    }
}

/// `check --capture` flags it against the server, under `http-messages`.
#[test]
fn check_capture_flags_http_after_upgrade() {
    let out = sioscope(&[
        "check",
        "--capture",
        "fixtures/pcap/v4-eio3-rejected-v1-ws.pcap",
        "--format",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let rules = v["rules"].as_array().expect("rules");
    let http = rules
        .iter()
        .find(|r| r["side"] == "server" && r["rule"] == "http-messages")
        .expect("server http-messages");
    assert_eq!(http["violations"], 3, "{http}");
    assert!(http["first"][0]["detail"]
        .as_str()
        .unwrap()
        .starts_with("http-after-upgrade"));
    for r in rules {
        if r["rule"] == "deflate" || r["rule"] == "ws-frames" && r["side"] == "server" {
            assert_eq!(r["violations"], 0, "{r}");
        }
    }
}

/// Over the whole corpus: a `deflate` anomaly only on a connection whose `101` accepted an
/// extension (or that was picked up mid-stream, where the parameters are unknown).
#[test]
fn deflate_anomalies_only_where_compression_was_negotiated() {
    for p in crate::common::fixtures() {
        let events = decode(&p);
        let mut negotiated = std::collections::HashMap::new();
        for e in &events {
            match &e.body {
                Body::Http(h) if h.status == Some(101) => {
                    let ext = sioscope::http::header_value(&h.headers, "sec-websocket-extensions");
                    negotiated.insert(e.conn, ext.is_some());
                }
                Body::Anomaly(a) if a.at == "deflate" => {
                    assert!(
                        negotiated.get(&e.conn).copied().unwrap_or(true),
                        "{}: frame {} {} without a negotiated extension",
                        p.display(),
                        e.frame,
                        a.rule
                    );
                }
                _ => {}
            }
        }
    }
}
