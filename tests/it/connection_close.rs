//! A polling exchange whose request says `Connection: close` ends its TCP connection by agreement
//! (RFC 9112 §9.6): both HTTP events carry `connection_close`, so a FIN after the response is not
//! a dead server. Real captures: the corpus' bare engine.io app, whose server logged each
//! session's `Connection` header (`connection_headers`: `close` for the `agent: false` and the
//! upgrading client), and the official engine.io-protocol suite, whose node-fetch 3.2.0 sets
//! `Connection: close` when no agent is given (node-fetch@3.2.0/src/request.js:289-290).

use sioscope::event::{Body, Dir, Event, HttpInfo};
use sioscope::http::header_value;

use crate::common::{decode, root, truth};

/// Every (request, its response) of a connection, in order.
fn exchanges(ev: &[Event]) -> Vec<(&HttpInfo, Option<&HttpInfo>, &Event)> {
    let mut out = Vec::new();
    for (i, e) in ev.iter().enumerate() {
        let Body::Http(req) = &e.body else { continue };
        if req.kind != "request" {
            continue;
        }
        let resp = ev.iter().skip(i + 1).find_map(|x| match &x.body {
            Body::Http(h) if x.conn == e.conn && x.dir == Some(Dir::S2C) => Some(h),
            _ => None,
        });
        out.push((req, resp, e));
    }
    out
}

#[test]
fn connection_close_exchanges_are_flagged_on_request_and_response() {
    let p = root().join("fixtures/pcap/eio-bare.pcap");
    let ev = decode(&p);
    let t = truth(&p);
    // The server's own log: the clients that asked for Connection: close.
    let closing: Vec<&str> = t["connection_headers"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, v)| v.as_str() == Some("close"))
        .map(|(k, _)| k.as_str())
        .collect();
    assert_eq!(closing.len(), 2);
    let mut polling = 0;
    for (req, resp, e) in exchanges(&ev) {
        let said_close = header_value(&req.headers, "connection")
            .is_some_and(|v| v.eq_ignore_ascii_case("close"));
        assert_eq!(req.connection_close, said_close, "frame {}", e.frame);
        if said_close {
            polling += 1;
            let resp = resp.expect("answered");
            assert!(
                resp.connection_close,
                "frame {}: the response ends it too",
                e.frame
            );
        }
    }
    assert!(polling > 0);

    let ev = decode(&root().join("fixtures/pcap/suite-eio.pcapng"));
    let mut fetches = 0;
    for (req, resp, e) in exchanges(&ev) {
        if header_value(&req.headers, "user-agent") == Some("node-fetch") {
            fetches += 1;
            assert!(req.connection_close, "frame {}", e.frame);
            if let Some(r) = resp {
                assert!(r.connection_close, "frame {}", e.frame);
            }
        }
    }
    assert!(fetches > 10, "{fetches}");
}

/// Keep-alive polling carries no flag (and no `connection_close` key in JSON).
#[test]
fn keep_alive_polling_is_not_flagged() {
    let ev = decode(&root().join("fixtures/pcap/v4-polling-only.pcap"));
    for e in &ev {
        if let Body::Http(h) = &e.body {
            assert!(!h.connection_close, "frame {}", e.frame);
            let json = serde_json::to_value(e).unwrap();
            assert!(json.get("connection_close").is_none());
        }
    }
}
