//! Property tests of the Socket.IO codecs: encode → decode round trips with random Unicode
//! namespaces and strings, and decoders that never panic.

use proptest::prelude::*;
use serde_json::{json, Value};

use super::legacy::{self, LegacyKind, LegacyMessage};
use super::*;

fn arb_nsp() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("/".to_string()),
        // Any Unicode except the `,` that ends a namespace on the wire.
        any::<String>().prop_map(|s| format!("/{}", s.replace(',', ""))),
    ]
}

fn arb_scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<String>().prop_map(Value::from),
    ]
}

fn arb_json() -> impl Strategy<Value = Value> {
    arb_scalar().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::vec((any::<String>(), inner), 0..4)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

fn arb_object() -> impl Strategy<Value = Value> {
    proptest::collection::vec((any::<String>(), arb_json()), 0..4)
        .prop_map(|kv| Value::Object(kv.into_iter().collect()))
}

fn arb_event_data() -> impl Strategy<Value = Option<Value>> {
    (any::<String>(), proptest::collection::vec(arb_json(), 0..4)).prop_map(|(name, args)| {
        let mut v = vec![Value::String(name)];
        v.extend(args);
        Some(Value::Array(v))
    })
}

fn arb_ack_data() -> impl Strategy<Value = Option<Value>> {
    proptest::collection::vec(arb_json(), 0..4).prop_map(|a| Some(Value::Array(a)))
}

fn arb_packet() -> impl Strategy<Value = Packet> {
    let typed = prop_oneof![
        proptest::option::of(arb_object()).prop_map(|d| (PacketType::Connect, d)),
        Just((PacketType::Disconnect, None)),
        arb_event_data().prop_map(|d| (PacketType::Event, d)),
        arb_ack_data().prop_map(|d| (PacketType::Ack, d)),
        prop_oneof![
            any::<String>().prop_map(|s| Some(json!(s))),
            arb_object().prop_map(Some)
        ]
        .prop_map(|d| (PacketType::ConnectError, d)),
        arb_event_data().prop_map(|d| (PacketType::BinaryEvent, d)),
        arb_ack_data().prop_map(|d| (PacketType::BinaryAck, d)),
    ];
    (
        typed,
        arb_nsp(),
        proptest::option::of(any::<u64>()),
        0u32..5,
    )
        .prop_map(|((ty, data), nsp, id, n)| Packet {
            ty,
            nsp,
            id,
            attachments: ty.is_binary().then_some(n),
            data,
        })
}

fn arb_legacy() -> impl Strategy<Value = LegacyMessage> {
    (
        0u8..9,
        proptest::option::of(any::<u64>()),
        any::<bool>(),
        "[^:]{0,12}",
        proptest::option::of(any::<String>()),
    )
        .prop_map(|(k, id, ack, endpoint, data)| LegacyMessage {
            kind: [
                LegacyKind::Disconnect,
                LegacyKind::Connect,
                LegacyKind::Heartbeat,
                LegacyKind::Message,
                LegacyKind::Json,
                LegacyKind::Event,
                LegacyKind::Ack,
                LegacyKind::Error,
                LegacyKind::Noop,
            ][usize::from(k)],
            id,
            data_ack: ack && id.is_some(),
            endpoint,
            data,
        })
}

proptest! {
    #[test]
    fn packet_round_trip(p in arb_packet()) {
        prop_assert_eq!(decode(&encode(&p)), Ok(p));
    }

    #[test]
    fn decode_never_panics(s: String) {
        let _ = decode(&s);
        let _ = decode_with(Version::V4, &s);
        let _ = decode_with(Version::V5, &s);
    }

    #[test]
    fn decode_shaped_never_panics(s in "[0-6][0-9-]{0,4}(/[a-z™,]{0,4})?[0-9]{0,25}[\\[\\]{}\"a-z0-9,:]{0,12}") {
        if let Ok(p) = decode(&s) {
            let mut a = AttachmentAssembler::with_max_attachments(8);
            for step in a.push_packet(p) {
                let _ = step;
            }
            let _ = a.push_binary(&[1, 2]);
        }
    }

    #[test]
    fn legacy_round_trip(m in arb_legacy()) {
        prop_assert_eq!(legacy::decode_message(&legacy::encode_message(&m)), Ok(m));
    }

    #[test]
    fn legacy_frames_round_trip(ms in proptest::collection::vec(arb_legacy(), 2..5)) {
        let body = legacy::encode_frames(&ms);
        let back: Vec<_> = legacy::decode_frames(body.as_bytes())
            .into_iter()
            .map(|f| f.message)
            .collect();
        prop_assert_eq!(back, ms.into_iter().map(Ok).collect::<Vec<_>>());
    }

    #[test]
    fn legacy_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..100), s: String) {
        let _ = legacy::decode_frames(&bytes);
        if let Ok(m) = legacy::decode_message(&s) {
            let _ = m.payload();
        }
        let _ = legacy::parse_handshake(&s);
        let _ = legacy::parse_path(&s);
    }
}
