//! Property tests of the Engine.IO codecs: encode → decode round trips for every revision and
//! framing, and decoders that never panic on arbitrary input.

use proptest::prelude::*;

use super::*;

fn arb_text() -> impl Strategy<Value = String> {
    // Any Unicode, but no record separator (v4 payloads cannot carry it, see the spec note).
    any::<String>().prop_map(|s| s.replace('\u{1e}', ""))
}

fn arb_data(binary: bool) -> impl Strategy<Value = Data> {
    let text = arb_text().prop_map(|s| {
        if s.is_empty() {
            Data::Empty
        } else {
            Data::Text(s)
        }
    });
    if binary {
        prop_oneof![
            text,
            proptest::collection::vec(any::<u8>(), 1..40).prop_map(Data::Binary)
        ]
        .boxed()
    } else {
        text.boxed()
    }
}

fn arb_handshake() -> impl Strategy<Value = Handshake> {
    (
        "[A-Za-z0-9_-]{1,20}",
        proptest::option::of(proptest::collection::vec("[a-z]{1,10}", 0..3)),
        proptest::option::of(any::<u32>()),
        proptest::option::of(any::<u32>()),
        proptest::option::of(any::<u64>()),
    )
        .prop_map(|(sid, upgrades, pi, pt, mp)| Handshake {
            sid,
            upgrades,
            ping_interval: pi.map(u64::from),
            ping_timeout: pt.map(u64::from),
            max_payload: mp,
            extra: Default::default(),
        })
}

/// Packets a revision can carry; `binary_messages_only` restricts binary data to messages (v4).
fn arb_packet(binary: bool, binary_messages_only: bool) -> impl Strategy<Value = Packet> {
    let other_data = if binary_messages_only {
        arb_data(false).boxed()
    } else {
        arb_data(binary).boxed()
    };
    prop_oneof![
        arb_handshake().prop_map(Packet::Open),
        Just(Packet::Close),
        other_data.clone().prop_map(Packet::Ping),
        other_data.prop_map(Packet::Pong),
        arb_data(binary).prop_map(Packet::Message),
        Just(Packet::Upgrade),
        Just(Packet::Noop),
    ]
}

fn decoded(items: Vec<PayloadItem>) -> Vec<Packet> {
    items
        .into_iter()
        .map(|i| i.packet.expect("round trip decodes"))
        .collect()
}

/// Text that engine.io-parser 1.x's double UTF-8 detection would rewrite is not stable under a
/// round trip by design; keep it out of text-payload round trips.
fn no_double_utf8(p: &Packet) -> bool {
    match p.data() {
        Some(Data::Text(s)) => payload_v3::undo_double_utf8(&format!("4{s}")).is_none(),
        _ => true,
    }
}

proptest! {
    #[test]
    fn websocket_round_trip_v4(p in arb_packet(true, true)) {
        let msg = encode_packet(Version::V4, &p).unwrap();
        let back = match msg {
            WsMessage::Text(t) => decode_text(Version::V4, &t),
            WsMessage::Binary(b) => decode_binary(Version::V4, &b),
        };
        prop_assert_eq!(back, Ok(p));
    }

    #[test]
    fn websocket_round_trip_v3(p in arb_packet(true, false)) {
        let msg = encode_packet(Version::V3, &p).unwrap();
        let back = match msg {
            WsMessage::Text(t) => decode_text(Version::V3, &t),
            WsMessage::Binary(b) => decode_binary(Version::V3, &b),
        };
        prop_assert_eq!(back, Ok(p));
    }

    #[test]
    fn websocket_round_trip_v2(p in arb_packet(false, false)) {
        let WsMessage::Text(t) = encode_packet(Version::V2, &p).unwrap() else {
            panic!("v2 is text only");
        };
        prop_assert_eq!(decode_text(Version::V2, &t), Ok(p));
    }

    #[test]
    fn payload_round_trip_v4(ps in proptest::collection::vec(arb_packet(true, true), 1..6)) {
        let body = encode_payload(Version::V4, &ps, false).unwrap();
        prop_assert_eq!(decoded(decode_payload(Version::V4, &body, false)), ps);
    }

    #[test]
    fn payload_round_trip_v3_text(
        ps in proptest::collection::vec(arb_packet(true, false), 1..6)
            .prop_filter("double utf-8 shape", |ps| ps.iter().all(no_double_utf8))
    ) {
        let body = encode_payload(Version::V3, &ps, false).unwrap();
        let items = decode_payload(Version::V3, &body, false);
        // Ranges tile the body.
        let mut at = 0;
        for item in &items {
            prop_assert_eq!(item.range.start, at);
            at = item.range.end;
        }
        prop_assert_eq!(at, body.len());
        prop_assert_eq!(decoded(items), ps);
    }

    #[test]
    fn payload_round_trip_v2_text(
        ps in proptest::collection::vec(arb_packet(false, false), 1..6)
            .prop_filter("double utf-8 shape", |ps| ps.iter().all(no_double_utf8))
    ) {
        let body = encode_payload(Version::V2, &ps, false).unwrap();
        prop_assert_eq!(decoded(decode_payload(Version::V2, &body, false)), ps);
    }

    #[test]
    fn payload_round_trip_v3_xhr2(ps in proptest::collection::vec(arb_packet(true, false), 1..6)) {
        let body = encode_payload(Version::V3, &ps, true).unwrap();
        prop_assert_eq!(decoded(decode_payload(Version::V3, &body, true)), ps);
    }

    #[test]
    fn payloads_never_panic(body in proptest::collection::vec(any::<u8>(), 0..200), framing: bool) {
        for v in [Version::V2, Version::V3, Version::V4] {
            for item in decode_payload(v, &body, framing) {
                prop_assert!(item.range.start <= item.range.end);
                prop_assert!(item.range.end <= body.len());
            }
        }
    }

    #[test]
    fn length_prefixed_text_never_panics(s in "[0-9:b4😀é\u{1e}]{0,40}") {
        for v in [Version::V2, Version::V3, Version::V4] {
            let _ = decode_payload(v, s.as_bytes(), false);
            let _ = decode_text(v, &s);
        }
    }

    #[test]
    fn packets_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..100), s: String) {
        for v in [Version::V2, Version::V3, Version::V4] {
            let _ = decode_binary(v, &bytes);
            let _ = decode_text(v, &s);
        }
    }
}
