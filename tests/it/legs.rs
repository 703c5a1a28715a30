//! Both legs of a relay compared (`sioscope::legs`) on the real relay fixtures. The truth is what
//! the relay scripts themselves logged (`relay_actions` in the truth files) and what they are
//! written to do (fixtures/lab/relays/*.js), never the capture.

use sioscope::event::{Body, Dir, Event, WsInfo};
use sioscope::legs::{compare, CloseKind, Hop, HopFinding, HopKind};

use crate::common::{decode, root, server_ports, truth};

fn load(name: &str) -> (Vec<Event>, Vec<HopFinding>, serde_json::Value) {
    let p = root().join(format!("fixtures/pcap/{name}.pcap"));
    let events = decode(&p);
    let found = compare(&events);
    (events, found, truth(&p))
}

fn port(addr: &str) -> u64 {
    addr.rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .unwrap_or(0)
}

fn relay_port(t: &serde_json::Value) -> u64 {
    t["relay_ports"][0].as_u64().expect("relay port")
}

fn first_closes(found: &[HopFinding]) -> Vec<(Hop, CloseKind)> {
    found
        .iter()
        .filter_map(|f| match f.kind {
            HopKind::FirstClose { hop, close, .. } => Some((hop, close)),
            _ => None,
        })
        .collect()
}

/// corrupt-deflate.js sets bits 1-2 of the first payload byte of the first compressed c2s frame
/// and logs the frame's length and the byte before/after: the comparison must name exactly that
/// frame, on the relay's hop, and that byte.
#[test]
fn relay_corrupt_deflate_names_the_altered_frame_and_byte() {
    for name in ["v4-corrupt-deflate", "v1-corrupt-deflate"] {
        let (events, found, t) = load(name);
        let act = &t["relay_actions"][0];
        assert_eq!(act["action"], "corrupted", "{name}");
        let altered: Vec<&HopFinding> = found
            .iter()
            .filter(|f| matches!(f.kind, HopKind::Altered { .. }))
            .collect();
        assert_eq!(altered.len(), 1, "{name}: {found:#?}");
        let f = altered[0];
        let HopKind::Altered {
            dir,
            entry_frame,
            exit_frame,
            len,
            change,
            ..
        } = &f.kind
        else {
            unreachable!()
        };
        assert_eq!(*dir, Dir::C2S, "{name}");
        assert_eq!(Some(*len), act["payload_len"].as_u64(), "{name}");
        let c = change.expect("the changed byte is in the kept head");
        assert_eq!(c.offset, 0, "{name}");
        assert_eq!(Some(u64::from(c.before)), act["first_byte_before"].as_u64());
        assert_eq!(Some(u64::from(c.after)), act["first_byte_after"].as_u64());
        assert_eq!(port(&f.client_leg.server), relay_port(&t), "{name}");
        assert!(t["server_ports"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p.as_u64() == Some(port(&f.server_leg.server))));
        assert!(
            entry_frame < exit_frame,
            "{name}: the frame enters before it leaves"
        );
        // The frame numbers point at the compressed frames on each leg.
        for (n, conn) in [
            (*entry_frame, f.client_leg.conn),
            (*exit_frame, f.server_leg.conn),
        ] {
            assert!(
                events.iter().any(|e| e.frame == n
                    && e.conn == conn
                    && matches!(e.body, Body::Ws(WsInfo::Frame { rsv1: true, .. }))),
                "{name}: frame {n} is a compressed frame on conn {conn:?}"
            );
        }
        assert!(f.sid.is_some(), "{name}: the session is named");
        assert!(
            f.describe().contains("payload byte 0 changed 0x04 → 0x06"),
            "{}",
            f.describe()
        );
        assert!(
            !found
                .iter()
                .any(|f| matches!(f.kind, HopKind::Swallowed { .. } | HopKind::Injected { .. })),
            "{name}: the relay passes every other frame: {found:#?}"
        );
    }
}

/// block-after-101.js drops every byte after the 101 in both directions: every WebSocket frame
/// that entered the relay is swallowed, none is forwarded, none is altered.
#[test]
fn relay_block_after_101_swallows_every_frame_after_the_upgrade() {
    for name in ["v4-ws-blocked", "v4-ws-blocked-wsonly"] {
        let (events, found, t) = load(name);
        let relay = relay_port(&t);
        let ports = server_ports(&events);
        let count = |want_relay: bool, d: Dir| {
            events
                .iter()
                .filter(|e| {
                    e.dir == Some(d)
                        && matches!(e.body, Body::Ws(WsInfo::Frame { .. }))
                        && (u64::from(ports[&e.conn.0]) == relay) == want_relay
                })
                .count() as u64
        };
        // c2s frames enter on the client leg (relay port), s2c frames on the server leg.
        let entered_c2s = count(true, Dir::C2S);
        let entered_s2c = count(false, Dir::S2C);
        assert!(entered_c2s > 0 && entered_s2c + entered_c2s >= 2, "{name}");
        assert_eq!(
            count(false, Dir::C2S),
            0,
            "{name}: nothing reached the server"
        );
        assert_eq!(
            count(true, Dir::S2C),
            0,
            "{name}: nothing reached the client"
        );
        let swallowed = |d: Dir| -> u64 {
            found
                .iter()
                .filter_map(|f| match &f.kind {
                    HopKind::Swallowed { dir, count, .. } if *dir == d => Some(*count),
                    _ => None,
                })
                .sum()
        };
        assert_eq!(swallowed(Dir::C2S), entered_c2s, "{name}");
        assert_eq!(swallowed(Dir::S2C), entered_s2c, "{name}");
        for f in &found {
            assert!(
                !matches!(f.kind, HopKind::Altered { .. } | HopKind::Injected { .. }),
                "{name}: {f:?}"
            );
            if let HopKind::Swallowed { dir, .. } = f.kind {
                assert!(f.describe().contains("swallowed"), "{name}");
                let hop = f.hop(dir);
                assert!(hop.contains(&format!(":{relay}")), "{name}: {hop}");
            }
        }
    }
}

/// cut.js destroys both legs on command (`cut`, 1 connection) and block-after-101.js in reset mode
/// resets the client leg right after the 101 (`resetting after 101`): the first FIN/RST of those
/// connections is the relay's own, and every other relayed connection was ended by an endpoint.
#[test]
fn relay_cut_names_the_relay_as_the_first_closer() {
    for (name, action) in [
        ("v4-recovery", "cut"),
        ("v4-upgrade-failed", "resetting after 101"),
    ] {
        let (_, found, t) = load(name);
        let acts = t["relay_actions"].as_array().unwrap();
        assert!(acts.iter().all(|a| a["action"] == action), "{name}");
        let by_relay: Vec<(Hop, CloseKind)> = first_closes(&found)
            .into_iter()
            .filter(|(h, _)| h.is_relay())
            .collect();
        let expected: usize = acts
            .iter()
            .map(|a| a["connections"].as_u64().unwrap_or(1) as usize)
            .sum();
        assert_eq!(by_relay.len(), expected, "{name}: {found:#?}");
        if action == "resetting after 101" {
            // "RST to client, FIN to server" (the relay's header comment): the RST comes first.
            assert_eq!(
                by_relay,
                vec![(Hop::RelayToClient, CloseKind::Rst)],
                "{name}"
            );
        }
    }
}

/// round-robin.js routes each client connection to the next backend and logs the route: one pair
/// per routed connection, to the logged backend, and nothing altered, swallowed or cut.
#[test]
fn relay_round_robin_pairs_every_connection_with_its_backend() {
    let (_, found, t) = load("v4-sticky-fail");
    let routes: Vec<u64> = t["relay_actions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["action"] == "route")
        .map(|a| a["backend"].as_u64().unwrap())
        .collect();
    let mut pairs: Vec<(u64, u64)> = found
        .iter()
        .map(|f| (f.client_leg.conn.0, port(&f.server_leg.server)))
        .collect();
    pairs.sort();
    pairs.dedup();
    let backends: Vec<u64> = pairs.iter().map(|p| p.1).collect();
    assert_eq!(backends, routes);
    for f in &found {
        match f.kind {
            HopKind::FirstClose { hop, .. } => assert!(!hop.is_relay(), "{f:?}"),
            _ => panic!("unexpected finding {f:?}"),
        }
    }
}

/// A capture without a relay has no pairs.
#[test]
fn no_relay_no_hop_findings() {
    let (_, found, _) = load("v4-ws-upgrade-deflate");
    assert!(found.is_empty(), "{found:#?}");
}
