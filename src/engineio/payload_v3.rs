//! Engine.IO v2/v3 polling payloads: length-prefixed strings and the XHR2 binary framing.
//!
//! **String payloads** (`Content-Type: text/plain`) chain packets as `<len>:<packet>`:
//!
//! ```text
//! 6:4hello6:4world         two messages
//! 2:4€10:b4AQIDBA==        "€" (2 UTF-16 code units: '4' and '€') and bytes 01 02 03 04
//! 3:4😀                    the emoji counts 2 UTF-16 code units
//! 0:                       an empty payload (what the reference encoder writes for no packets)
//! ```
//!
//! `len` counts *characters* of the packet string as JavaScript counts them, that is UTF-16
//! code units, not bytes. A packet starting with `b` carries binary data in base64 after its
//! type digit (v3 only).
//!
//! socket.io 1.x (engine.io-parser 1.x) UTF-8-encoded each packet string before framing it, so
//! every byte of the UTF-8 form became one character, and the HTTP layer then encoded those
//! characters in UTF-8 again: `€` travels as `4:4â\u{82}¬`. The decoder recognises such a
//! packet (only characters up to U+00FF, some above U+007F, and together valid UTF-8), decodes
//! the original text and flags the item ([`super::PayloadItem::utf8_double_encoded`]).
//!
//! **The XHR2 binary framing** (`Content-Type: application/octet-stream`, v3 only) prefixes
//! every packet with a kind byte (`0x00` string, `0x01` binary), the decimal digits of its
//! length as bytes `0x00`–`0x09`, and `0xff`:
//!
//! ```text
//! 00 04 ff 34 e2 82 ac          string "4€" (4 bytes: the length counts UTF-8 bytes here)
//! 01 05 ff 04 01 02 03 04       binary message 01 02 03 04 (type byte 0x04, then the data)
//! ```

use std::ops::Range;

use super::error::{excerpt, EioError};
use super::packet::{decode_binary_at, decode_text_at, encode_base64_v3, encode_text, Packet};
use super::payload::PayloadItem;
use super::version::Version;

/// More length digits than this cannot be a real length (the JS reference gives up at 310).
const MAX_LENGTH_DIGITS: usize = 20;

fn error_item(range: Range<usize>, error: EioError) -> PayloadItem {
    PayloadItem {
        range,
        packet: Err(error),
        utf8_double_encoded: false,
    }
}

/// Reverses engine.io-parser 1.x's extra UTF-8 encoding of a packet string, when the string
/// has that shape. `None` when it does not.
pub fn undo_double_utf8(s: &str) -> Option<String> {
    if s.is_ascii() || s.chars().any(|c| u32::from(c) > 0xff) {
        return None;
    }
    let bytes: Vec<u8> = s
        .chars()
        .filter_map(|c| u8::try_from(u32::from(c)).ok())
        .collect();
    String::from_utf8(bytes).ok()
}

/// Decodes a `<len>:<packet>` string payload. `base` is added to every range and offset (the
/// payload may sit inside a larger body).
pub(crate) fn decode_text_payload(version: Version, body: &[u8], base: usize) -> Vec<PayloadItem> {
    let mut out = Vec::new();
    let at = |o: usize| o.saturating_add(base);
    let (text, valid_len) = match std::str::from_utf8(body) {
        Ok(s) => (s, body.len()),
        Err(e) => {
            let valid = e.valid_up_to();
            (
                std::str::from_utf8(body.get(..valid).unwrap_or_default()).unwrap_or_default(),
                valid,
            )
        }
    };
    let invalid_utf8 = |o: usize| EioError::InvalidUtf8 {
        offset: at(o),
        found: excerpt(body.get(o..).unwrap_or_default()),
    };
    if body.is_empty() {
        return vec![error_item(at(0)..at(0), EioError::EmptyPayload)];
    }
    let mut pos = 0usize;
    while pos < text.len() {
        let rest = text.get(pos..).unwrap_or_default();
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        // engine.io-protocol v3: "<length1>:<packet1>[<length2>:<packet2>[...]]".
        let length = if digits == 0
            || digits > MAX_LENGTH_DIGITS
            || rest.as_bytes().get(digits) != Some(&b':')
        {
            None
        } else {
            rest.bytes().take(digits).try_fold(0usize, |n, d| {
                n.checked_mul(10)?
                    .checked_add(usize::from(d.saturating_sub(b'0')))
            })
        };
        let Some(declared) = length else {
            out.push(error_item(
                at(pos)..at(body.len()),
                EioError::BadLengthPrefix {
                    offset: at(pos),
                    found: excerpt(rest.as_bytes()),
                },
            ));
            return out;
        };
        let start = pos.saturating_add(digits).saturating_add(1);
        // engine.io-protocol v3: "length: length of the packet in __characters__" — UTF-16
        // code units as JavaScript's String.length counts them.
        let mut units = 0usize;
        let mut end = start;
        for (i, c) in text.get(start..).unwrap_or_default().char_indices() {
            if units >= declared {
                break;
            }
            units = units.saturating_add(c.len_utf16());
            end = start.saturating_add(i).saturating_add(c.len_utf8());
        }
        if units < declared {
            let error = if valid_len < body.len() {
                invalid_utf8(valid_len)
            } else {
                EioError::LengthPastEnd {
                    offset: at(start),
                    declared,
                    available: units,
                }
            };
            out.push(error_item(at(pos)..at(body.len()), error));
            return out;
        }
        if units > declared {
            out.push(error_item(
                at(pos)..at(body.len()),
                EioError::LengthSplitsCharacter {
                    offset: at(start),
                    declared,
                },
            ));
            return out;
        }
        if declared > 0 {
            let packet_text = text.get(start..end).unwrap_or_default();
            let (packet, double) = match undo_double_utf8(packet_text) {
                Some(fixed) => (decode_text_at(version, &fixed, at(start)), true),
                None => (decode_text_at(version, packet_text, at(start)), false),
            };
            out.push(PayloadItem {
                range: at(pos)..at(end),
                packet,
                utf8_double_encoded: double,
            });
        }
        pos = end;
    }
    if valid_len < body.len() {
        out.push(error_item(
            at(valid_len)..at(body.len()),
            invalid_utf8(valid_len),
        ));
    }
    out
}

/// Decodes an XHR2 binary payload (`application/octet-stream`, v3).
pub(crate) fn decode_binary_payload(body: &[u8], base: usize) -> Vec<PayloadItem> {
    let at = |o: usize| o.saturating_add(base);
    if body.is_empty() {
        return vec![error_item(at(0)..at(0), EioError::EmptyPayload)];
    }
    let mut out = Vec::new();
    let mut pos = 0usize;
    while let Some(&kind) = body.get(pos) {
        let rest_range = at(pos)..at(body.len());
        // engine.io-protocol v3: "<0 for string data, 1 for binary data><Any number of numbers
        // between 0 and 9><The number 255><packet1 (first type, then data)>[...]".
        if kind > 1 {
            out.push(error_item(
                rest_range,
                EioError::BadFrameKind {
                    offset: at(pos),
                    found: kind,
                },
            ));
            return out;
        }
        let digits_at = pos.saturating_add(1);
        let digit_bytes = body.get(digits_at..).unwrap_or_default();
        let digits = digit_bytes.iter().take_while(|&&b| b <= 9).count();
        let length = if digits == 0
            || digits > MAX_LENGTH_DIGITS
            || digit_bytes.get(digits) != Some(&0xff)
        {
            None
        } else {
            digit_bytes.iter().take(digits).try_fold(0usize, |n, &d| {
                n.checked_mul(10)?.checked_add(usize::from(d))
            })
        };
        let Some(declared) = length else {
            out.push(error_item(
                rest_range,
                EioError::BadLengthPrefix {
                    offset: at(digits_at),
                    found: excerpt(digit_bytes),
                },
            ));
            return out;
        };
        let start = digits_at.saturating_add(digits).saturating_add(1);
        let available = body.len().saturating_sub(start);
        let Some(data) = start
            .checked_add(declared)
            .and_then(|end| body.get(start..end))
        else {
            out.push(error_item(
                rest_range,
                EioError::LengthPastEnd {
                    offset: at(start),
                    declared,
                    available,
                },
            ));
            return out;
        };
        let end = start.saturating_add(declared);
        let packet = if kind == 0 {
            // "the string values are represented so that each character is written as a
            // character code into a byte": the UTF-8 bytes of the packet string.
            match std::str::from_utf8(data) {
                Ok(s) => decode_text_at(Version::V3, s, at(start)),
                Err(e) => Err(EioError::InvalidUtf8 {
                    offset: at(start.saturating_add(e.valid_up_to())),
                    found: excerpt(data.get(e.valid_up_to()..).unwrap_or_default()),
                }),
            }
        } else {
            decode_binary_at(Version::V3, data, at(start))
        };
        out.push(PayloadItem {
            range: at(pos)..at(end),
            packet,
            utf8_double_encoded: false,
        });
        pos = end;
    }
    out
}

/// Encodes packets as a `<len>:<packet>` string payload (v2/v3).
pub(crate) fn encode_text_payload(
    version: Version,
    packets: &[Packet],
) -> Result<String, EioError> {
    if packets.is_empty() {
        return Ok("0:".into());
    }
    let mut out = String::new();
    for packet in packets {
        let s = match encode_base64_v3(packet) {
            Some(_) if version == Version::V2 => {
                return Err(EioError::NotEncodable {
                    reason: "Engine.IO v2 has no binary data".into(),
                })
            }
            Some(s) => s,
            None => encode_text(packet)?,
        };
        out.push_str(&s.encode_utf16().count().to_string());
        out.push(':');
        out.push_str(&s);
    }
    Ok(out)
}

/// Encodes packets in the XHR2 binary framing (v3).
pub(crate) fn encode_binary_payload(packets: &[Packet]) -> Result<Vec<u8>, EioError> {
    let mut out = Vec::new();
    for packet in packets {
        let (kind, bytes) = match packet.data() {
            Some(super::Data::Binary(b)) => {
                let mut v = Vec::with_capacity(b.len().saturating_add(1));
                v.push(packet.packet_type().number());
                v.extend_from_slice(b);
                (1u8, v)
            }
            _ => (0u8, encode_text(packet)?.into_bytes()),
        };
        out.push(kind);
        out.extend(
            bytes
                .len()
                .to_string()
                .bytes()
                .map(|d| d.saturating_sub(b'0')),
        );
        out.push(0xff);
        out.extend_from_slice(&bytes);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::super::{decode_payload, encode_payload, Data};
    use super::*;

    fn ok(items: &[PayloadItem]) -> Vec<Packet> {
        items.iter().map(|i| i.packet.clone().unwrap()).collect()
    }

    fn msg(s: &str) -> Packet {
        Packet::Message(Data::Text(s.into()))
    }

    #[test]
    fn spec_v3_sample_session() {
        let open = br#"96:0{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":5000}"#;
        let items = decode_payload(Version::V3, open, false);
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].range, 0..open.len());
        let Ok(Packet::Open(hs)) = &items[0].packet else {
            panic!("{items:?}")
        };
        assert_eq!(hs.ping_timeout, Some(5000));
        assert_eq!(
            encode_payload(Version::V3, &ok(&items), false).unwrap(),
            open.to_vec()
        );

        let items = decode_payload(Version::V3, b"4:4hey", false);
        assert_eq!(ok(&items), vec![msg("hey")]);

        let body = b"6:4hello6:4world";
        let items = decode_payload(Version::V3, body, false);
        assert_eq!(ok(&items), vec![msg("hello"), msg("world")]);
        assert_eq!(items[0].range, 0..8);
        assert_eq!(items[1].range, 8..16);
        assert_eq!(
            encode_payload(Version::V3, &ok(&items), false).unwrap(),
            body.to_vec()
        );
    }

    #[test]
    fn spec_v3_characters_not_bytes() {
        // "6:4hello2:4€" — 2 (1 + 1) instead of 4 (1 + 3).
        let body = "6:4hello2:4€".as_bytes();
        let items = decode_payload(Version::V3, body, false);
        assert_eq!(ok(&items), vec![msg("hello"), msg("€")]);
        assert_eq!(items[1].range, 8..body.len());
        assert_eq!(
            encode_payload(Version::V3, &ok(&items), false).unwrap(),
            body
        );
    }

    #[test]
    fn spec_v3_base64_example() {
        // "2:4€10:b4AQIDBA==".
        let body = "2:4€10:b4AQIDBA==".as_bytes();
        let items = decode_payload(Version::V3, body, false);
        assert_eq!(
            ok(&items),
            vec![msg("€"), Packet::Message(Data::Binary(vec![1, 2, 3, 4]))]
        );
        assert_eq!(
            encode_payload(Version::V3, &ok(&items), false).unwrap(),
            body
        );
    }

    #[test]
    fn spec_v3_xhr2_example() {
        let body = [
            0x00, 0x04, 0xff, 0x34, 0xe2, 0x82, 0xac, 0x01, 0x05, 0xff, 0x04, 0x01, 0x02, 0x03,
            0x04,
        ];
        let items = decode_payload(Version::V3, &body, true);
        assert_eq!(
            ok(&items),
            vec![msg("€"), Packet::Message(Data::Binary(vec![1, 2, 3, 4]))]
        );
        assert_eq!(items[0].range, 0..7);
        assert_eq!(items[1].range, 7..15);
        assert_eq!(
            encode_payload(Version::V3, &ok(&items), true).unwrap(),
            body
        );
    }

    #[test]
    fn xhr2_multi_digit_lengths() {
        let text = format!("4{}", "x".repeat(11));
        let mut body = vec![0x00, 0x01, 0x02, 0xff];
        body.extend_from_slice(text.as_bytes());
        let items = decode_payload(Version::V3, &body, true);
        assert_eq!(ok(&items), vec![msg(&"x".repeat(11))]);
    }

    #[test]
    fn emoji_counts_two_units() {
        let body = "3:4😀3:4ab".as_bytes();
        let items = decode_payload(Version::V3, body, false);
        assert_eq!(ok(&items), vec![msg("😀"), msg("ab")]);
        assert_eq!(items[0].range, 0..7);
        // A length that ends between the two halves of the emoji.
        let items = decode_payload(Version::V3, "2:4😀".as_bytes(), false);
        assert_eq!(
            items[0].packet,
            Err(EioError::LengthSplitsCharacter {
                offset: 2,
                declared: 2
            })
        );
        assert_eq!(
            encode_payload(Version::V3, &[msg("😀é")], false).unwrap(),
            "4:4😀é".as_bytes()
        );
    }

    #[test]
    fn socket_io_1x_double_utf8() {
        // engine.io-parser 1.x: "€" is UTF-8-encoded into 3 characters, then UTF-8 again.
        let body = "4:4\u{e2}\u{82}\u{ac}".as_bytes();
        assert_eq!(body, b"4:4\xc3\xa2\xc2\x82\xc2\xac");
        let items = decode_payload(Version::V3, body, false);
        assert_eq!(items[0].packet, Ok(msg("€")));
        assert!(items[0].utf8_double_encoded);
        // Plain Latin-1 text that is not UTF-8 underneath stays as it is.
        let items = decode_payload(Version::V3, "5:4café".as_bytes(), false);
        assert_eq!(items[0].packet, Ok(msg("café")));
        assert!(!items[0].utf8_double_encoded);
    }

    #[test]
    fn engine_io_parser_reference_bodies() {
        // encodePayload([message "€", message "😀", ping "probe"]) as the HTTP body bytes.
        let ping = Packet::Ping(Data::Text("probe".into()));
        // engine.io-parser 2.2.1 (socket.io 2.x): lengths in UTF-16 units.
        let body = b"2:4\xe2\x82\xac3:4\xf0\x9f\x98\x806:2probe";
        let items = decode_payload(Version::V3, body, false);
        assert_eq!(ok(&items), vec![msg("€"), msg("😀"), ping.clone()]);
        assert!(items.iter().all(|i| !i.utf8_double_encoded));
        assert_eq!(
            encode_payload(Version::V3, &ok(&items), false).unwrap(),
            body
        );
        // engine.io-parser 1.3.2 (socket.io 1.x): every packet UTF-8-encoded twice.
        let body = b"4:4\xc3\xa2\xc2\x82\xc2\xac5:4\xc3\xb0\xc2\x9f\xc2\x98\xc2\x806:2probe";
        let items = decode_payload(Version::V3, body, false);
        assert_eq!(ok(&items), vec![msg("€"), msg("😀"), ping]);
        let flags: Vec<bool> = items.iter().map(|i| i.utf8_double_encoded).collect();
        assert_eq!(flags, vec![true, true, false]);
        // 1.3.2 with binary and base64: "4:4â\u{82}¬10:b4AQIDBA==".
        let body = b"4:4\xc3\xa2\xc2\x82\xc2\xac10:b4AQIDBA==";
        let items = decode_payload(Version::V3, body, false);
        assert_eq!(
            ok(&items),
            vec![msg("€"), Packet::Message(Data::Binary(vec![1, 2, 3, 4]))]
        );
        // XHR2 framing is the same in 1.3.2 and 2.2.1: 0004ff34e282ac0105ff0401020304.
        let body = [
            0x00, 0x04, 0xff, 0x34, 0xe2, 0x82, 0xac, 0x01, 0x05, 0xff, 0x04, 1, 2, 3, 4,
        ];
        assert_eq!(ok(&decode_payload(Version::V3, &body, true)).len(), 2);
    }

    #[test]
    fn spec_v2_parser_error_cases() {
        // engine.io-protocol v2 tests: "1!", "", "))", "1:", "3:99:", "1:aa", "1:a2:b".
        let items = decode_payload(Version::V2, b"1!", false);
        assert!(matches!(
            items[0].packet,
            Err(EioError::BadLengthPrefix { offset: 0, .. })
        ));
        assert_eq!(
            decode_payload(Version::V2, b"", false)[0].packet,
            Err(EioError::EmptyPayload)
        );
        assert!(matches!(
            decode_payload(Version::V2, b"))", false)[0].packet,
            Err(EioError::BadLengthPrefix { .. })
        ));
        assert_eq!(
            decode_payload(Version::V2, b"1:", false)[0].packet,
            Err(EioError::LengthPastEnd {
                offset: 2,
                declared: 1,
                available: 0
            })
        );
        let items = decode_payload(Version::V2, b"3:99:", false);
        assert!(matches!(
            items[0].packet,
            Err(EioError::UnknownPacketType { offset: 2, .. })
        ));
        let items = decode_payload(Version::V2, b"1:aa", false);
        assert!(matches!(
            items[0].packet,
            Err(EioError::UnknownPacketType { offset: 2, .. })
        ));
        assert!(matches!(
            items[1].packet,
            Err(EioError::BadLengthPrefix { offset: 3, .. })
        ));
        let items = decode_payload(Version::V2, b"1:a2:b", false);
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].range, 0..3);
        assert_eq!(items[1].range, 3..6);
        assert!(items[1].packet.is_err());
    }

    #[test]
    fn empty_payload_and_errors_continue() {
        assert!(decode_payload(Version::V3, b"0:", false).is_empty());
        assert_eq!(
            encode_payload(Version::V3, &[], false).unwrap(),
            b"0:".to_vec()
        );
        // A bad packet inside good framing does not stop the next one.
        let items = decode_payload(Version::V3, b"2:9x6:4hello", false);
        assert!(items[0].packet.is_err());
        assert_eq!(items[1].packet, Ok(msg("hello")));
        // A huge length never allocates and reports what is there.
        let items = decode_payload(Version::V3, b"99999999999999999:4a", false);
        assert_eq!(
            items[0].packet,
            Err(EioError::LengthPastEnd {
                offset: 18,
                declared: 99_999_999_999_999_999,
                available: 2
            })
        );
        let items = decode_payload(Version::V3, b"999999999999999999999999:4a", false);
        assert!(matches!(
            items[0].packet,
            Err(EioError::BadLengthPrefix { .. })
        ));
        // Invalid UTF-8 after a good packet.
        let items = decode_payload(Version::V3, b"2:4a\xff\xfe", false);
        assert_eq!(items[0].packet, Ok(msg("a")));
        assert_eq!(items[1].range, 4..6);
        assert!(matches!(
            items[1].packet,
            Err(EioError::InvalidUtf8 { offset: 4, .. })
        ));
        let items = decode_payload(Version::V3, b"3:4a\xff", false);
        assert!(matches!(
            items[0].packet,
            Err(EioError::InvalidUtf8 { offset: 4, .. })
        ));
        // v2 has no `b` packets.
        let items = decode_payload(Version::V2, b"6:b4AQID", false);
        assert!(items[0].packet.is_err());
        assert!(encode_payload(
            Version::V2,
            &[Packet::Message(Data::Binary(vec![1]))],
            false
        )
        .is_err());
    }

    #[test]
    fn xhr2_errors() {
        let items = decode_payload(Version::V3, &[0x02, 0x01, 0xff, 0x34], true);
        assert_eq!(
            items[0].packet,
            Err(EioError::BadFrameKind {
                offset: 0,
                found: 2
            })
        );
        let items = decode_payload(Version::V3, &[0x00, 0x09, 0xff, 0x34], true);
        assert_eq!(
            items[0].packet,
            Err(EioError::LengthPastEnd {
                offset: 3,
                declared: 9,
                available: 1
            })
        );
        let items = decode_payload(Version::V3, &[0x00, 0x01, 0x34], true);
        assert!(matches!(
            items[0].packet,
            Err(EioError::BadLengthPrefix { offset: 1, .. })
        ));
        let items = decode_payload(Version::V3, &[0x00, 0xff, 0x34], true);
        assert!(matches!(
            items[0].packet,
            Err(EioError::BadLengthPrefix { .. })
        ));
        let items = decode_payload(
            Version::V3,
            &[0x00, 0x01, 0xff, 0xc3, 0x01, 0x01, 0xff, 0x06],
            true,
        );
        assert!(matches!(
            items[0].packet,
            Err(EioError::InvalidUtf8 { offset: 3, .. })
        ));
        assert_eq!(items[1].packet, Ok(Packet::Noop));
        let mut huge = vec![0x01];
        huge.extend([9u8; 19]);
        huge.push(0xff);
        let items = decode_payload(Version::V3, &huge, true);
        assert!(matches!(
            items[0].packet,
            Err(EioError::LengthPastEnd { .. }) | Err(EioError::BadLengthPrefix { .. })
        ));
    }
}
