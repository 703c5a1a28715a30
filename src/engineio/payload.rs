//! Engine.IO polling payloads: several packets in one HTTP body.
//!
//! v4 separates packets with the record separator `\x1e` and writes binary data as `b` followed
//! by base64 (always a message):
//!
//! ```text
//! 4hello\x1e2\x1e4world     message "hello", ping, message "world"
//! 4hello\x1ebAQIDBA==       message "hello", message with bytes 01 02 03 04
//! ```
//!
//! v2/v3 use length prefixes and, for `application/octet-stream` bodies, the XHR2 binary
//! framing (see [`super::payload_v3`]). JSONP bodies (`___eio[N]("…");` responses and `d=…`
//! form POSTs) are recognised by their first bytes in every revision and unwrapped first (see
//! [`super::jsonp`]).
//!
//! [`decode_payload`] never stops at the first bad packet: every packet becomes a
//! [`PayloadItem`] with its byte range in the body and either the packet or the rule it broke.
//! Decoding goes on with the next item wherever the framing still says where that starts (the
//! `\x1e` separator, or a length prefix that was itself intact).

use std::ops::Range;

use base64::Engine as _;

use super::error::{excerpt, EioError};
use super::jsonp;
use super::packet::{decode_b64, decode_text_at, encode_text, Data, Packet, B64};
use super::payload_v3;
use super::version::Version;

/// The v4 record separator between packets of a payload.
pub const RECORD_SEPARATOR: u8 = 0x1e;

/// One packet of a polling payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayloadItem {
    /// The bytes of the body this item covers (length prefix included). For a JSONP body every
    /// item covers the whole wrapped string (escapes make finer ranges meaningless) and error
    /// offsets count in the unwrapped payload text.
    pub range: Range<usize>,
    /// The decoded packet, or the rule it broke.
    pub packet: Result<Packet, EioError>,
    /// The packet text was UTF-8-encoded twice (socket.io 1.x polling) and has been repaired.
    pub utf8_double_encoded: bool,
}

/// Decodes an HTTP polling body into its packets.
///
/// `binary_framing` is true when the body's `Content-Type` is `application/octet-stream`: the
/// body then uses the v3 XHR2 binary framing, whatever `version` says (only v3 peers send it).
pub fn decode_payload(version: Version, body: &[u8], binary_framing: bool) -> Vec<PayloadItem> {
    if body.starts_with(jsonp::RESPONSE_PREFIX) {
        return match jsonp::decode_response(body) {
            Ok((_, range, text)) => rewrap(decode_text_body(version, text.as_bytes()), range),
            Err(e) => vec![whole_body_error(body, e)],
        };
    }
    if body.starts_with(b"d=") {
        return match jsonp::decode_form(body) {
            Ok(text) => rewrap(decode_text_body(version, text.as_bytes()), 0..body.len()),
            Err(e) => vec![whole_body_error(body, e)],
        };
    }
    if binary_framing {
        return payload_v3::decode_binary_payload(body, 0);
    }
    decode_text_body(version, body)
}

fn whole_body_error(body: &[u8], error: EioError) -> PayloadItem {
    PayloadItem {
        range: 0..body.len(),
        packet: Err(error),
        utf8_double_encoded: false,
    }
}

fn rewrap(items: Vec<PayloadItem>, range: Range<usize>) -> Vec<PayloadItem> {
    items
        .into_iter()
        .map(|item| PayloadItem {
            range: range.clone(),
            ..item
        })
        .collect()
}

fn decode_text_body(version: Version, body: &[u8]) -> Vec<PayloadItem> {
    match version {
        Version::V4 => decode_v4(body),
        Version::V2 | Version::V3 => payload_v3::decode_text_payload(version, body, 0),
    }
}

/// Decodes a v4 `\x1e`-separated payload.
fn decode_v4(body: &[u8]) -> Vec<PayloadItem> {
    if body.is_empty() {
        return vec![whole_body_error(body, EioError::EmptyPayload)];
    }
    let mut out = Vec::new();
    let mut start = 0usize;
    // engine.io-protocol v4: "The packets are separated by the record separator character:
    // \x1e". The separator never occurs inside a UTF-8 sequence, so splitting bytes is safe.
    for segment in body.split(|&b| b == RECORD_SEPARATOR) {
        let end = start.saturating_add(segment.len());
        out.push(PayloadItem {
            range: start..end,
            packet: decode_v4_segment(segment, start),
            utf8_double_encoded: false,
        });
        start = end.saturating_add(1);
    }
    out
}

fn decode_v4_segment(segment: &[u8], offset: usize) -> Result<Packet, EioError> {
    let text = std::str::from_utf8(segment).map_err(|e| EioError::InvalidUtf8 {
        offset: offset.saturating_add(e.valid_up_to()),
        found: excerpt(segment.get(e.valid_up_to()..).unwrap_or_default()),
    })?;
    if let Some(b64) = text.strip_prefix('b') {
        // engine.io-protocol v4: "Binary payloads MUST be base64-encoded and prefixed with a b
        // character" — and are always message packets.
        let bytes = decode_b64(b64, offset.saturating_add(1))?;
        return Ok(Packet::Message(Data::Binary(bytes)));
    }
    decode_text_at(Version::V4, text, offset)
}

/// Encodes packets as a polling body of the given revision.
///
/// `binary_framing` selects the v3 XHR2 binary framing (the body is then sent as
/// `application/octet-stream`); it is an error for v2 and v4. With no packets v3 writes `0:`
/// as the reference encoder does; v4 and the XHR2 framing write nothing.
pub fn encode_payload(
    version: Version,
    packets: &[Packet],
    binary_framing: bool,
) -> Result<Vec<u8>, EioError> {
    if binary_framing {
        if version != Version::V3 {
            return Err(EioError::NotEncodable {
                reason: format!("the XHR2 binary framing does not exist in {version}"),
            });
        }
        return payload_v3::encode_binary_payload(packets);
    }
    match version {
        Version::V2 | Version::V3 => {
            payload_v3::encode_text_payload(version, packets).map(String::into_bytes)
        }
        Version::V4 => {
            let mut out = Vec::new();
            for (i, packet) in packets.iter().enumerate() {
                if i > 0 {
                    out.push(RECORD_SEPARATOR);
                }
                match packet {
                    Packet::Message(Data::Binary(b)) => {
                        out.push(b'b');
                        out.extend_from_slice(B64.encode(b).as_bytes());
                    }
                    _ if matches!(packet.data(), Some(Data::Binary(_))) => {
                        return Err(EioError::NotEncodable {
                            reason: "v4 payloads carry binary data only in message packets".into(),
                        })
                    }
                    _ => out.extend_from_slice(encode_text(packet)?.as_bytes()),
                }
            }
            Ok(out)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(s: &str) -> Packet {
        Packet::Message(Data::Text(s.into()))
    }

    fn packets(items: &[PayloadItem]) -> Vec<Packet> {
        items.iter().map(|i| i.packet.clone().unwrap()).collect()
    }

    #[test]
    fn spec_v4_examples() {
        // engine.io-protocol v4: "4hello\x1e2\x1e4world".
        let body = b"4hello\x1e2\x1e4world";
        let items = decode_payload(Version::V4, body, false);
        assert_eq!(
            packets(&items),
            vec![msg("hello"), Packet::Ping(Data::Empty), msg("world")]
        );
        assert_eq!(items[0].range, 0..6);
        assert_eq!(items[1].range, 7..8);
        assert_eq!(items[2].range, 9..15);
        assert_eq!(
            encode_payload(Version::V4, &packets(&items), false).unwrap(),
            body
        );

        // "4hello\x1ebAQIDBA==".
        let body = b"4hello\x1ebAQIDBA==";
        let items = decode_payload(Version::V4, body, false);
        assert_eq!(
            packets(&items),
            vec![
                msg("hello"),
                Packet::Message(Data::Binary(vec![1, 2, 3, 4]))
            ]
        );
        assert_eq!(
            encode_payload(Version::V4, &packets(&items), false).unwrap(),
            body
        );
    }

    #[test]
    fn spec_v4_test_suite_bodies() {
        let body = b"4test1\x1e4test2\x1e4test3";
        let items = decode_payload(Version::V4, body, false);
        assert_eq!(
            packets(&items),
            vec![msg("test1"), msg("test2"), msg("test3")]
        );
        for (body, packet) in [
            (&b"2"[..], Packet::Ping(Data::Empty)),
            (b"3", Packet::Pong(Data::Empty)),
            (b"1", Packet::Close),
            (b"6", Packet::Noop),
        ] {
            assert_eq!(
                packets(&decode_payload(Version::V4, body, false)),
                vec![packet]
            );
        }
        // "closes the session upon invalid packet format": "abc".
        let items = decode_payload(Version::V4, b"abc", false);
        assert_eq!(
            items[0].packet,
            Err(EioError::UnknownPacketType {
                offset: 0,
                found: b"a".to_vec()
            })
        );
    }

    #[test]
    fn spec_socketio_sample_session_bodies() {
        // socket.io-protocol v5 sample session.
        let body = br#"0{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":5000,"maxPayload":1000000}"#;
        let items = decode_payload(Version::V4, body, false);
        assert!(
            matches!(&items[0].packet, Ok(Packet::Open(hs)) if hs.max_payload == Some(1_000_000))
        );
        assert_eq!(
            encode_payload(Version::V4, &packets(&items), false).unwrap(),
            body
        );
        let body = b"42[\"hello\"]\x1e42[\"world\"]";
        let items = decode_payload(Version::V4, body, false);
        assert_eq!(
            packets(&items),
            vec![msg("2[\"hello\"]"), msg("2[\"world\"]")]
        );
    }

    #[test]
    fn engine_io_parser_5_reference_body() {
        // engine.io-parser 5.2.2 encodePayload([message "€", message <01 02 03 04>]).
        let body = b"4\xe2\x82\xac\x1ebAQIDBA==";
        let items = decode_payload(Version::V4, body, false);
        assert_eq!(
            packets(&items),
            vec![msg("€"), Packet::Message(Data::Binary(vec![1, 2, 3, 4]))]
        );
        assert_eq!(
            encode_payload(Version::V4, &packets(&items), false).unwrap(),
            body
        );
    }

    #[test]
    fn v4_errors_continue_after_separator() {
        let body = b"4a\x1e\x1e9x\x1eb!!\x1e4\xff\x1e4b";
        let items = decode_payload(Version::V4, body, false);
        assert_eq!(items.len(), 6);
        assert_eq!(items[0].packet, Ok(msg("a")));
        assert_eq!(items[1].packet, Err(EioError::EmptyPacket { offset: 3 }));
        assert_eq!(items[1].range, 3..3);
        assert!(matches!(
            items[2].packet,
            Err(EioError::UnknownPacketType { offset: 4, .. })
        ));
        assert!(matches!(
            items[3].packet,
            Err(EioError::BadBase64 { offset: 8, .. })
        ));
        assert!(matches!(
            items[4].packet,
            Err(EioError::InvalidUtf8 { offset: 12, .. })
        ));
        assert_eq!(items[5].packet, Ok(msg("b")));
        assert_eq!(
            decode_payload(Version::V4, b"", false)[0].packet,
            Err(EioError::EmptyPayload)
        );
        // Multibyte text around separators.
        let items = decode_payload(Version::V4, "4€😀\x1e4ñ".as_bytes(), false);
        assert_eq!(packets(&items), vec![msg("€😀"), msg("ñ")]);
    }

    #[test]
    fn jsonp_bodies() {
        let body = br#"___eio[4]("6:4hello2:4\u20ac");"#;
        let items = decode_payload(Version::V3, body, false);
        assert_eq!(packets(&items), vec![msg("hello"), msg("€")]);
        assert_eq!(items[0].range, 10..body.len() - 2);
        let items = decode_payload(Version::V4, br#"___eio[0]("4a\u001e4b");"#, false);
        assert_eq!(packets(&items), vec![msg("a"), msg("b")]);
        let items = decode_payload(Version::V3, b"d=6%3A4hello", false);
        assert_eq!(packets(&items), vec![msg("hello")]);
        assert_eq!(items[0].range, 0..12);
        let items = decode_payload(Version::V3, b"___eio[x]", false);
        assert!(matches!(items[0].packet, Err(EioError::BadJsonp { .. })));
    }

    #[test]
    fn encode_rules() {
        assert!(encode_payload(Version::V4, &[msg("a")], true).is_err());
        assert!(
            encode_payload(Version::V4, &[Packet::Ping(Data::Binary(vec![1]))], false).is_err()
        );
        assert_eq!(encode_payload(Version::V4, &[], false).unwrap(), b"");
    }
}
