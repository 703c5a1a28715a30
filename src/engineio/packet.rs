//! One Engine.IO packet: its wire form in a WebSocket message, decode and encode.
//!
//! A text packet is the packet type digit followed by optional data:
//!
//! ```text
//! 0{"sid":…}   open (server → client), JSON handshake data
//! 1            close
//! 2 / 2probe   ping (`probe` during the upgrade)
//! 3 / 3probe   pong
//! 4hello       message "hello"
//! 5            upgrade
//! 6            noop
//! ```
//!
//! Binary WebSocket messages differ by revision: in v4 the whole message is the data of a
//! message packet (no type); in v3 the first byte is the packet type as a number (`0x04`) and
//! the rest is the data. In v3 text, a `b` followed by the type digit and base64 carries binary
//! data where the transport cannot (`b4AQIDBA==`).

use base64::alphabet::STANDARD;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine as _;

use super::error::{excerpt, excerpt_str, EioError};
use super::handshake::Handshake;
use super::version::Version;

/// base64 as the JS reference writes it (padded) but read leniently about padding.
pub(crate) const B64: GeneralPurpose = GeneralPurpose::new(
    &STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// The data a ping, pong or message packet carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Data {
    /// No data at all (`2`, `4`).
    Empty,
    /// Text data (`4hello` → `hello`).
    Text(String),
    /// Binary data (a binary WebSocket message or a `b…` base64 packet).
    Binary(Vec<u8>),
}

impl Data {
    /// The data as text, when it is text.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Data::Text(s) => Some(s),
            _ => None,
        }
    }

    /// Length in bytes (UTF-8 for text).
    pub fn len(&self) -> usize {
        match self {
            Data::Empty => 0,
            Data::Text(s) => s.len(),
            Data::Binary(b) => b.len(),
        }
    }

    /// Whether there is no data.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn from_text(s: &str) -> Data {
        if s.is_empty() {
            Data::Empty
        } else {
            Data::Text(s.to_string())
        }
    }
}

/// The seven Engine.IO packet types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PacketType {
    /// 0: open (handshake).
    Open,
    /// 1: close.
    Close,
    /// 2: ping.
    Ping,
    /// 3: pong.
    Pong,
    /// 4: message.
    Message,
    /// 5: upgrade.
    Upgrade,
    /// 6: noop.
    Noop,
}

impl PacketType {
    /// The type number (0–6).
    pub fn number(self) -> u8 {
        match self {
            PacketType::Open => 0,
            PacketType::Close => 1,
            PacketType::Ping => 2,
            PacketType::Pong => 3,
            PacketType::Message => 4,
            PacketType::Upgrade => 5,
            PacketType::Noop => 6,
        }
    }

    /// The type for a number 0–6.
    pub fn from_number(n: u8) -> Option<Self> {
        Some(match n {
            0 => PacketType::Open,
            1 => PacketType::Close,
            2 => PacketType::Ping,
            3 => PacketType::Pong,
            4 => PacketType::Message,
            5 => PacketType::Upgrade,
            6 => PacketType::Noop,
            _ => return None,
        })
    }

    /// The type for an ASCII digit `'0'`–`'6'`.
    pub fn from_digit(b: u8) -> Option<Self> {
        b.checked_sub(b'0').and_then(Self::from_number)
    }

    /// The name the specification uses (`open`, `close`, …).
    pub fn name(self) -> &'static str {
        match self {
            PacketType::Open => "open",
            PacketType::Close => "close",
            PacketType::Ping => "ping",
            PacketType::Pong => "pong",
            PacketType::Message => "message",
            PacketType::Upgrade => "upgrade",
            PacketType::Noop => "noop",
        }
    }
}

/// An Engine.IO packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Packet {
    /// 0: the server's open packet with its handshake data.
    Open(Handshake),
    /// 1: close the transport/session.
    Close,
    /// 2: ping, with optional data (`2probe` during the upgrade).
    Ping(Data),
    /// 3: pong, echoing the ping's data (`3probe`).
    Pong(Data),
    /// 4: a message, which carries one Socket.IO packet when Socket.IO runs on top.
    Message(Data),
    /// 5: upgrade (the client switches to the probed WebSocket).
    Upgrade,
    /// 6: noop (ends a pending poll during the upgrade).
    Noop,
}

impl Packet {
    /// The packet's type.
    pub fn packet_type(&self) -> PacketType {
        match self {
            Packet::Open(_) => PacketType::Open,
            Packet::Close => PacketType::Close,
            Packet::Ping(_) => PacketType::Ping,
            Packet::Pong(_) => PacketType::Pong,
            Packet::Message(_) => PacketType::Message,
            Packet::Upgrade => PacketType::Upgrade,
            Packet::Noop => PacketType::Noop,
        }
    }

    /// Whether this is the upgrade probe (`2probe` or `3probe`).
    pub fn is_probe(&self) -> bool {
        matches!(self, Packet::Ping(Data::Text(s)) | Packet::Pong(Data::Text(s)) if s == "probe")
    }

    /// The data of a ping, pong or message packet.
    pub fn data(&self) -> Option<&Data> {
        match self {
            Packet::Ping(d) | Packet::Pong(d) | Packet::Message(d) => Some(d),
            _ => None,
        }
    }
}

/// A WebSocket message as the encoder produces it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WsMessage {
    /// A text message.
    Text(String),
    /// A binary message.
    Binary(Vec<u8>),
}

/// Builds a packet of type `ty` from its data; `offset` is where the data starts.
fn with_data(ty: PacketType, data: Data, offset: usize) -> Result<Packet, EioError> {
    let no_data = |p: Packet| {
        if data.is_empty() {
            Ok(p)
        } else {
            let found = match &data {
                Data::Text(s) => excerpt(s.as_bytes()),
                Data::Binary(b) => excerpt(b),
                Data::Empty => Vec::new(),
            };
            // engine.io-protocol: close, upgrade and noop are bare `<packet type>` packets.
            Err(EioError::UnexpectedData {
                offset,
                packet_type: ty.number(),
                found,
            })
        }
    };
    match ty {
        PacketType::Open => match data {
            Data::Text(s) => Handshake::parse(&s, offset).map(Packet::Open),
            Data::Empty => Handshake::parse("", offset).map(Packet::Open),
            Data::Binary(_) => Err(EioError::UnexpectedBinary {
                offset: offset.saturating_sub(1),
                packet_type: 0,
            }),
        },
        PacketType::Close => no_data(Packet::Close),
        PacketType::Upgrade => no_data(Packet::Upgrade),
        PacketType::Noop => no_data(Packet::Noop),
        PacketType::Ping => Ok(Packet::Ping(data)),
        PacketType::Pong => Ok(Packet::Pong(data)),
        PacketType::Message => Ok(Packet::Message(data)),
    }
}

/// Decodes a v3 `b<type digit><base64>` packet; `text` starts after the `b`, `offset` is where
/// the `b` is.
pub(crate) fn decode_base64_packet(text: &str, offset: usize) -> Result<Packet, EioError> {
    let first = text.as_bytes().first().copied();
    // engine.io-protocol v3: "an identifier `b` is put before a packet encoding that contains
    // binary data" — `b`, then the packet type, then the data in base64.
    let ty = first
        .and_then(PacketType::from_digit)
        .ok_or_else(|| EioError::UnknownPacketType {
            offset: offset.saturating_add(1),
            found: first.map(|b| vec![b]).unwrap_or_default(),
        })?;
    let b64 = text.get(1..).unwrap_or_default();
    let bytes = decode_b64(b64, offset.saturating_add(2))?;
    with_data(ty, Data::Binary(bytes), offset.saturating_add(2))
}

/// Decodes base64 text; `offset` is where it starts.
pub(crate) fn decode_b64(b64: &str, offset: usize) -> Result<Vec<u8>, EioError> {
    B64.decode(b64).map_err(|e| EioError::BadBase64 {
        offset,
        reason: e.to_string(),
        found: excerpt_str(b64),
    })
}

/// Decodes a text packet found at `offset` of a larger input (errors point into that input).
pub(crate) fn decode_text_at(
    version: Version,
    text: &str,
    offset: usize,
) -> Result<Packet, EioError> {
    let Some(&first) = text.as_bytes().first() else {
        return Err(EioError::EmptyPacket { offset });
    };
    if first == b'b' && version == Version::V3 {
        return decode_base64_packet(text.get(1..).unwrap_or_default(), offset);
    }
    // engine.io-protocol: "<packet type>[<data>]" with the packet type 0–6.
    let ty = PacketType::from_digit(first).ok_or_else(|| EioError::UnknownPacketType {
        offset,
        found: vec![first],
    })?;
    let rest = text.get(1..).unwrap_or_default();
    with_data(ty, Data::from_text(rest), offset.saturating_add(1))
}

/// Decodes a WebSocket text message into a packet.
///
/// v3 also accepts a `b<type><base64>` message (a client that asked for `b64=1`).
pub fn decode_text(version: Version, text: &str) -> Result<Packet, EioError> {
    decode_text_at(version, text, 0)
}

/// Decodes a binary packet found at `offset` of a larger input.
pub(crate) fn decode_binary_at(
    version: Version,
    bytes: &[u8],
    offset: usize,
) -> Result<Packet, EioError> {
    match version {
        // engine.io-protocol v4: "Binary payloads are sent as is, without modification."
        Version::V4 => Ok(Packet::Message(if bytes.is_empty() {
            Data::Empty
        } else {
            Data::Binary(bytes.to_vec())
        })),
        Version::V3 | Version::V2 => {
            let Some((&first, rest)) = bytes.split_first() else {
                return Err(EioError::EmptyPacket { offset });
            };
            // engine.io-protocol v3: "the packet type id is sent in the first byte of the
            // binary contents, followed by the actual packet data".
            let ty = PacketType::from_number(first).ok_or_else(|| EioError::UnknownPacketType {
                offset,
                found: vec![first],
            })?;
            let data = if rest.is_empty() {
                Data::Empty
            } else {
                Data::Binary(rest.to_vec())
            };
            with_data(ty, data, offset.saturating_add(1))
        }
    }
}

/// Decodes a WebSocket binary message into a packet.
///
/// v4: the whole message is the data of a message packet. v3/v2: the first byte is the packet
/// type (`0x04` for message) and the rest is the data.
pub fn decode_binary(version: Version, bytes: &[u8]) -> Result<Packet, EioError> {
    decode_binary_at(version, bytes, 0)
}

/// Encodes a packet as the text form `<type digit>[<data>]`; binary data is refused.
pub(crate) fn encode_text(packet: &Packet) -> Result<String, EioError> {
    let digit = char::from(b'0'.saturating_add(packet.packet_type().number()));
    let mut out = String::new();
    out.push(digit);
    match packet {
        Packet::Open(hs) => out.push_str(&hs.to_json()),
        Packet::Ping(d) | Packet::Pong(d) | Packet::Message(d) => match d {
            Data::Empty => {}
            Data::Text(s) => out.push_str(s),
            Data::Binary(_) => {
                return Err(EioError::NotEncodable {
                    reason: "binary data in a text packet".into(),
                })
            }
        },
        Packet::Close | Packet::Upgrade | Packet::Noop => {}
    }
    Ok(out)
}

/// Encodes a packet with binary data as `b<type digit><base64>` (v3 text payloads).
pub(crate) fn encode_base64_v3(packet: &Packet) -> Option<String> {
    match packet.data() {
        Some(Data::Binary(b)) => Some(format!(
            "b{}{}",
            packet.packet_type().number(),
            B64.encode(b)
        )),
        _ => None,
    }
}

/// Encodes a packet as one WebSocket message of the given revision.
///
/// Binary data becomes a binary message: v4 carries only message data that way; v3 prefixes
/// the type byte; v2 has no binary at all.
pub fn encode_packet(version: Version, packet: &Packet) -> Result<WsMessage, EioError> {
    match packet.data() {
        Some(Data::Binary(bytes)) => match version {
            Version::V4 => match packet {
                Packet::Message(_) => Ok(WsMessage::Binary(bytes.clone())),
                _ => Err(EioError::NotEncodable {
                    reason: format!(
                        "v4 binary WebSocket messages carry only message data, not {}",
                        packet.packet_type().name()
                    ),
                }),
            },
            Version::V3 => {
                let mut out = Vec::with_capacity(bytes.len().saturating_add(1));
                out.push(packet.packet_type().number());
                out.extend_from_slice(bytes);
                Ok(WsMessage::Binary(out))
            }
            Version::V2 => Err(EioError::NotEncodable {
                reason: "Engine.IO v2 has no binary data".into(),
            }),
        },
        _ => encode_text(packet).map(WsMessage::Text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> Data {
        Data::Text(s.into())
    }

    #[test]
    fn every_packet_type_v4_text() {
        let open = decode_text(Version::V4, r#"0{"sid":"abc","upgrades":[],"pingInterval":300,"pingTimeout":200,"maxPayload":1000000}"#).unwrap();
        let Packet::Open(hs) = &open else {
            panic!("{open:?}")
        };
        assert_eq!(hs.sid, "abc");
        assert_eq!(hs.upgrades, Some(vec![]));
        assert_eq!(decode_text(Version::V4, "1"), Ok(Packet::Close));
        assert_eq!(decode_text(Version::V4, "2"), Ok(Packet::Ping(Data::Empty)));
        assert_eq!(decode_text(Version::V4, "3"), Ok(Packet::Pong(Data::Empty)));
        assert_eq!(
            decode_text(Version::V4, "4hello"),
            Ok(Packet::Message(text("hello")))
        );
        assert_eq!(
            decode_text(Version::V4, "4"),
            Ok(Packet::Message(Data::Empty))
        );
        assert_eq!(decode_text(Version::V4, "5"), Ok(Packet::Upgrade));
        assert_eq!(decode_text(Version::V4, "6"), Ok(Packet::Noop));
    }

    #[test]
    fn probes() {
        for v in [Version::V2, Version::V3, Version::V4] {
            let ping = decode_text(v, "2probe").unwrap();
            assert_eq!(ping, Packet::Ping(text("probe")));
            assert!(ping.is_probe());
            let pong = decode_text(v, "3probe").unwrap();
            assert_eq!(pong, Packet::Pong(text("probe")));
            assert!(pong.is_probe());
            assert!(!decode_text(v, "2").unwrap().is_probe());
        }
    }

    #[test]
    fn spec_v3_examples() {
        // engine.io-protocol v3: "4HelloWorld" and the open packet of the WebSocket-only session.
        assert_eq!(
            decode_text(Version::V3, "4HelloWorld"),
            Ok(Packet::Message(text("HelloWorld")))
        );
        let open = r#"0{"sid":"lv_VI97HAXpY6yYWAAAC","pingInterval":25000,"pingTimeout":5000}"#;
        let p = decode_text(Version::V3, open).unwrap();
        assert_eq!(
            encode_packet(Version::V3, &p),
            Ok(WsMessage::Text(open.into()))
        );
        // v3 binary message: `4|0|1|2|3|4|5` is a message with bytes 0..=5.
        assert_eq!(
            decode_binary(Version::V3, &[4, 0, 1, 2, 3, 4, 5]),
            Ok(Packet::Message(Data::Binary(vec![0, 1, 2, 3, 4, 5])))
        );
    }

    #[test]
    fn binary_messages_per_version() {
        // v4 (engine.io-protocol test suite): the frame is the data, no type byte.
        assert_eq!(
            decode_binary(Version::V4, &[1, 2, 3, 4]),
            Ok(Packet::Message(Data::Binary(vec![1, 2, 3, 4])))
        );
        assert_eq!(
            encode_packet(
                Version::V4,
                &Packet::Message(Data::Binary(vec![1, 2, 3, 4]))
            ),
            Ok(WsMessage::Binary(vec![1, 2, 3, 4]))
        );
        assert_eq!(
            encode_packet(Version::V3, &Packet::Message(Data::Binary(vec![1, 2]))),
            Ok(WsMessage::Binary(vec![4, 1, 2]))
        );
        assert_eq!(
            decode_binary(Version::V3, &[0x04]),
            Ok(Packet::Message(Data::Empty))
        );
        assert_eq!(
            decode_binary(Version::V3, &[0x02, 0xff]),
            Ok(Packet::Ping(Data::Binary(vec![0xff])))
        );
    }

    #[test]
    fn v3_base64_text_message() {
        assert_eq!(
            decode_text(Version::V3, "b4AQIDBA=="),
            Ok(Packet::Message(Data::Binary(vec![1, 2, 3, 4])))
        );
        // v4 text messages have no `b` form (binary goes in binary frames).
        assert_eq!(
            decode_text(Version::V4, "b4AQIDBA=="),
            Err(EioError::UnknownPacketType {
                offset: 0,
                found: b"b".to_vec()
            })
        );
    }

    #[test]
    fn engine_io_parser_2_websocket_literals() {
        // engine.io-parser 2.2.1 encodePacket(message <01 02 03>): binary 04 01 02 03, or the
        // text "b4AQID" for a transport without binary support.
        let p = Packet::Message(Data::Binary(vec![1, 2, 3]));
        assert_eq!(decode_binary(Version::V3, &[4, 1, 2, 3]), Ok(p.clone()));
        assert_eq!(decode_text(Version::V3, "b4AQID"), Ok(p.clone()));
        assert_eq!(
            encode_packet(Version::V3, &p),
            Ok(WsMessage::Binary(vec![4, 1, 2, 3]))
        );
    }

    #[test]
    fn malformed_packets() {
        // engine.io-protocol test suite: "abc" is an invalid packet format.
        assert_eq!(
            decode_text(Version::V4, "abc"),
            Err(EioError::UnknownPacketType {
                offset: 0,
                found: b"a".to_vec()
            })
        );
        // engine.io-protocol v2 parser tests: ':::' and '94103'.
        assert!(matches!(
            decode_text(Version::V2, ":::"),
            Err(EioError::UnknownPacketType { .. })
        ));
        assert_eq!(
            decode_text(Version::V2, "94103"),
            Err(EioError::UnknownPacketType {
                offset: 0,
                found: b"9".to_vec()
            })
        );
        assert_eq!(
            decode_text(Version::V4, ""),
            Err(EioError::EmptyPacket { offset: 0 })
        );
        assert_eq!(
            decode_binary(Version::V3, &[]),
            Err(EioError::EmptyPacket { offset: 0 })
        );
        assert_eq!(
            decode_binary(Version::V3, &[7, 1]),
            Err(EioError::UnknownPacketType {
                offset: 0,
                found: vec![7]
            })
        );
        assert_eq!(
            decode_binary(Version::V3, &[0, 1]),
            Err(EioError::UnexpectedBinary {
                offset: 0,
                packet_type: 0
            })
        );
        assert_eq!(
            decode_text(Version::V4, "1bye"),
            Err(EioError::UnexpectedData {
                offset: 1,
                packet_type: 1,
                found: b"bye".to_vec()
            })
        );
        assert!(matches!(
            decode_text(Version::V4, "0"),
            Err(EioError::BadOpenJson { offset: 1, .. })
        ));
        assert!(matches!(
            decode_text(Version::V4, "0{\"sid\""),
            Err(EioError::BadOpenJson { offset: 1, .. })
        ));
        assert!(matches!(
            decode_text(Version::V3, "b4!!"),
            Err(EioError::BadBase64 { offset: 2, .. })
        ));
        assert!(matches!(
            decode_text(Version::V3, "b9AA=="),
            Err(EioError::UnknownPacketType { offset: 1, .. })
        ));
    }

    #[test]
    fn encoding_rules() {
        assert_eq!(
            encode_packet(Version::V4, &Packet::Ping(text("probe"))),
            Ok(WsMessage::Text("2probe".into()))
        );
        assert_eq!(
            encode_packet(Version::V4, &Packet::Noop),
            Ok(WsMessage::Text("6".into()))
        );
        assert!(encode_packet(Version::V4, &Packet::Ping(Data::Binary(vec![1]))).is_err());
        assert!(encode_packet(Version::V2, &Packet::Message(Data::Binary(vec![1]))).is_err());
        assert_eq!(
            encode_base64_v3(&Packet::Message(Data::Binary(vec![1, 2, 3, 4]))),
            Some("b4AQIDBA==".into())
        );
    }

    #[test]
    fn multibyte_text() {
        assert_eq!(
            decode_text(Version::V4, "4€😀"),
            Ok(Packet::Message(text("€😀")))
        );
    }
}
