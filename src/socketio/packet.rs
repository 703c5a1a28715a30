//! Socket.IO packets of protocol v4 (socket.io 1.x/2.x) and v5 (socket.io 3.x/4.x).
//!
//! Every Socket.IO packet travels as the data of one Engine.IO message packet (`4…`), so
//! `42["hello"]` on the wire is the Socket.IO packet `2["hello"]`. Its text form is:
//!
//! ```text
//! <type>[<attachments>-][<namespace>,][<ack id>][<JSON payload>]
//!
//! 0                                  CONNECT to "/"
//! 0/admin,{"sid":"oSO0OpakMV_3jnilAAAA"}   CONNECT answer (v5) on /admin
//! 0{"pid":"…","offset":"…"}          CONNECT with connection-state recovery (v5, 4.6+)
//! 0/nsp?x=1,                         CONNECT with a query (v4 clients put it in the namespace)
//! 1/admin,                           DISCONNECT
//! 2["foo"]   212["foo"]              EVENT, with ack id 12
//! 3/admin,13["bar"]                  ACK 13 on /admin
//! 4{"message":"Not authorized"}      CONNECT_ERROR (v5); v4 calls it ERROR: 4"Not authorized"
//! 51-["baz",{"_placeholder":true,"num":0}]   BINARY_EVENT with one attachment
//! 61-15["bar",{"_placeholder":true,"num":0}] BINARY_ACK 15 with one attachment
//! ```
//!
//! The namespace is written only when it is not `/`; it runs from the `/` to the first `,` (or
//! the end). The ack id is the digits that follow. Binary attachments follow the packet as
//! separate binary messages (see [`super::binary`]).
//!
//! Payload rules (socket.io-protocol v5, and the reference parser): CONNECT carries an object
//! or nothing (v4: nothing), DISCONNECT nothing, EVENT a non-empty array whose first element
//! is the event name (a string, or a number in the reference parser), ACK an array,
//! CONNECT_ERROR an object or a string.

use serde_json::Value;

use super::error::{excerpt, SioError};
use super::json_depth::{cut_deep, MAX_JSON_DEPTH};
use crate::engineio;

/// A Socket.IO protocol revision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Version {
    /// Protocol v4: socket.io 1.x and 2.x, over Engine.IO v3 (`EIO=3`). The server connects
    /// the client to `/` by itself; type 4 is called ERROR.
    V4,
    /// Protocol v5: socket.io 3.x and 4.x, over Engine.IO v4 (`EIO=4`). The client sends
    /// CONNECT for every namespace and the answer carries the socket id.
    V5,
}

impl Version {
    /// The Socket.IO revision that runs over an Engine.IO revision: v3 → v4, v4 → v5. Engine.IO
    /// v2 only ever carried pre-1.0 Socket.IO, whose packets match v4 best.
    pub fn from_engineio(version: engineio::Version) -> Self {
        match version {
            engineio::Version::V2 | engineio::Version::V3 => Version::V4,
            engineio::Version::V4 => Version::V5,
        }
    }
}

/// The seven Socket.IO packet types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PacketType {
    /// 0: connect to a namespace (request and answer).
    Connect,
    /// 1: disconnect from a namespace.
    Disconnect,
    /// 2: an event.
    Event,
    /// 3: an acknowledgement.
    Ack,
    /// 4: connection to a namespace refused (`ERROR` in protocol v4).
    ConnectError,
    /// 5: an event with binary attachments.
    BinaryEvent,
    /// 6: an acknowledgement with binary attachments.
    BinaryAck,
}

impl PacketType {
    /// The type number 0–6.
    pub fn number(self) -> u8 {
        match self {
            PacketType::Connect => 0,
            PacketType::Disconnect => 1,
            PacketType::Event => 2,
            PacketType::Ack => 3,
            PacketType::ConnectError => 4,
            PacketType::BinaryEvent => 5,
            PacketType::BinaryAck => 6,
        }
    }

    /// The type for an ASCII digit `'0'`–`'6'`.
    pub fn from_digit(c: char) -> Option<Self> {
        Some(match c {
            '0' => PacketType::Connect,
            '1' => PacketType::Disconnect,
            '2' => PacketType::Event,
            '3' => PacketType::Ack,
            '4' => PacketType::ConnectError,
            '5' => PacketType::BinaryEvent,
            '6' => PacketType::BinaryAck,
            _ => return None,
        })
    }

    /// The specification's name (v5 names; type 4 is `ERROR` in v4).
    pub fn name(self) -> &'static str {
        match self {
            PacketType::Connect => "CONNECT",
            PacketType::Disconnect => "DISCONNECT",
            PacketType::Event => "EVENT",
            PacketType::Ack => "ACK",
            PacketType::ConnectError => "CONNECT_ERROR",
            PacketType::BinaryEvent => "BINARY_EVENT",
            PacketType::BinaryAck => "BINARY_ACK",
        }
    }

    /// Whether binary attachments follow the packet (`<n>-` in the header).
    pub fn is_binary(self) -> bool {
        matches!(self, PacketType::BinaryEvent | PacketType::BinaryAck)
    }
}

/// Event names socket.io 3+/4.x refuses to receive (socket.io-parser's reserved events).
pub const RESERVED_EVENTS: &[&str] = &[
    "connect",
    "connect_error",
    "disconnect",
    "disconnecting",
    "newListener",
    "removeListener",
];

/// A Socket.IO packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet {
    /// The packet type.
    pub ty: PacketType,
    /// The namespace, `/` when absent on the wire. A v4 CONNECT may carry a query here
    /// (`/nsp?x=1`, see [`Packet::namespace_path`]).
    pub nsp: String,
    /// The ack id, if any.
    pub id: Option<u64>,
    /// The announced number of binary attachments (BINARY_EVENT/BINARY_ACK only).
    pub attachments: Option<u32>,
    /// The JSON payload, if any.
    pub data: Option<Value>,
}

impl Packet {
    /// A packet of type `ty` on namespace `nsp` with optional data.
    pub fn new(ty: PacketType, nsp: impl Into<String>, data: Option<Value>) -> Self {
        Packet {
            ty,
            nsp: nsp.into(),
            id: None,
            attachments: None,
            data,
        }
    }

    /// The event name of an EVENT/BINARY_EVENT (its first array element, when a string).
    pub fn event_name(&self) -> Option<&str> {
        match (self.ty, &self.data) {
            (PacketType::Event | PacketType::BinaryEvent, Some(Value::Array(items))) => {
                items.first().and_then(Value::as_str)
            }
            _ => None,
        }
    }

    /// The arguments: after the name for events, the whole array for acks, empty otherwise.
    pub fn args(&self) -> &[Value] {
        match (self.ty, &self.data) {
            (PacketType::Event | PacketType::BinaryEvent, Some(Value::Array(items))) => {
                items.get(1..).unwrap_or_default()
            }
            (PacketType::Ack | PacketType::BinaryAck, Some(Value::Array(items))) => items,
            _ => &[],
        }
    }

    /// The namespace without a query (`/nsp?x=1` → `/nsp`).
    pub fn namespace_path(&self) -> &str {
        self.nsp
            .split_once('?')
            .map_or(self.nsp.as_str(), |(p, _)| p)
    }

    /// The query a v4 client appended to the namespace of a CONNECT (`/nsp?x=1` → `x=1`).
    pub fn namespace_query(&self) -> Option<&str> {
        self.nsp.split_once('?').map(|(_, q)| q)
    }

    /// The socket id in a v5 CONNECT answer (`40{"sid":"…"}`).
    pub fn connect_sid(&self) -> Option<&str> {
        match (self.ty, &self.data) {
            (PacketType::Connect, Some(Value::Object(m))) => m.get("sid").and_then(Value::as_str),
            _ => None,
        }
    }

    /// The connection-state-recovery fields of a v5 CONNECT (`{"pid":…,"offset":…}`).
    pub fn recovery(&self) -> Option<(&str, &str)> {
        match (self.ty, &self.data) {
            (PacketType::Connect, Some(Value::Object(m))) => Some((
                m.get("pid").and_then(Value::as_str)?,
                m.get("offset").and_then(Value::as_str)?,
            )),
            _ => None,
        }
    }

    /// The refusal message of a CONNECT_ERROR: the string (v4) or the object's `message` (v5).
    pub fn error_message(&self) -> Option<&str> {
        match (self.ty, &self.data) {
            (PacketType::ConnectError, Some(Value::String(s))) => Some(s),
            (PacketType::ConnectError, Some(Value::Object(m))) => {
                m.get("message").and_then(Value::as_str)
            }
            _ => None,
        }
    }
}

/// Reads leading ASCII digits of `s` as a number; `None` on overflow. Returns the value and the
/// number of digits (0 digits gives `Some((0, 0))`).
fn leading_number(s: &str) -> Option<(u64, usize)> {
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    let n = s.bytes().take(digits).try_fold(0u64, |n, d| {
        n.checked_mul(10)?
            .checked_add(u64::from(d.saturating_sub(b'0')))
    })?;
    Some((n, digits))
}

/// Decodes a Socket.IO packet (the data of an Engine.IO message), accepting what either
/// protocol revision allows. See [`decode_with`] for revision-specific rules.
pub fn decode(text: &str) -> Result<Packet, SioError> {
    decode_nested(text, MAX_JSON_DEPTH)
}

/// [`decode`] keeping JSON payloads to `max_depth` levels (at most
/// [`MAX_JSON_DEPTH`](super::json_depth::MAX_JSON_DEPTH)): deeper values are cut to `null` and
/// the result is [`SioError::JsonTooDeep`] carrying the packet.
fn decode_nested(text: &str, max_depth: usize) -> Result<Packet, SioError> {
    let max_depth = max_depth.min(MAX_JSON_DEPTH);
    let mut chars = text.chars();
    let first = chars.next().ok_or(SioError::Empty)?;
    // socket.io-protocol: "<packet type>[<# of binary attachments>-][<namespace>,]
    // [<acknowledgment id>][JSON-stringified payload without binary]".
    let ty = PacketType::from_digit(first).ok_or_else(|| SioError::UnknownPacketType {
        found: first.to_string(),
    })?;
    let mut rest = chars.as_str();
    let mut attachments = None;
    if ty.is_binary() {
        let bad = || SioError::BadAttachmentCount {
            found: excerpt(text),
        };
        let (count, digits) = leading_number(rest).ok_or_else(bad)?;
        if digits == 0 || rest.as_bytes().get(digits) != Some(&b'-') {
            return Err(bad());
        }
        attachments = Some(u32::try_from(count).map_err(|_| bad())?);
        rest = rest.get(digits.saturating_add(1)..).unwrap_or_default();
    }
    let mut nsp = "/".to_string();
    if rest.starts_with('/') {
        // The namespace runs to the first `,` or to the end of the packet.
        match rest.split_once(',') {
            Some((n, after)) => {
                nsp = n.to_string();
                rest = after;
            }
            None => {
                nsp = rest.to_string();
                rest = "";
            }
        }
    }
    let (id_value, id_digits) = leading_number(rest).ok_or_else(|| SioError::BadAckId {
        found: excerpt(text),
    })?;
    let id = (id_digits > 0).then_some(id_value);
    rest = rest.get(id_digits..).unwrap_or_default();
    let cut = cut_deep(rest, max_depth);
    let data = if rest.is_empty() {
        None
    } else {
        Some(
            serde_json::from_str::<Value>(cut.as_deref().unwrap_or(rest)).map_err(|e| {
                SioError::BadJson {
                    reason: e.to_string(),
                    found: excerpt(rest),
                }
            })?,
        )
    };
    let packet = Packet {
        ty,
        nsp,
        id,
        attachments,
        data,
    };
    check_payload(&packet, rest)?;
    match cut {
        Some(_) => Err(SioError::JsonTooDeep {
            limit: max_depth,
            packet: Box::new(packet),
        }),
        None => Ok(packet),
    }
}

/// The packet of a decoding that only cut a too-deep payload ([`SioError::JsonTooDeep`]), as
/// decoded; any other result as it is.
pub fn kept(r: Result<Packet, SioError>) -> Result<Packet, SioError> {
    match r {
        Err(SioError::JsonTooDeep { packet, .. }) => Ok(*packet),
        r => r,
    }
}

/// Checks the payload rules both revisions share; `raw` is the payload text for errors.
fn check_payload(p: &Packet, raw: &str) -> Result<(), SioError> {
    let found = || excerpt(raw);
    match (p.ty, &p.data) {
        // socket.io-protocol v5: the CONNECT payload is an object (auth, or the answer's sid).
        (PacketType::Connect, Some(v)) if !v.is_object() => {
            Err(SioError::ConnectPayloadNotObject { found: found() })
        }
        (PacketType::Disconnect, Some(_)) => {
            Err(SioError::DisconnectWithPayload { found: found() })
        }
        // v5: "the payload CONNECT_ERROR packet is now an object instead of a plain string".
        (PacketType::ConnectError, Some(v)) if !(v.is_object() || v.is_string()) => {
            Err(SioError::ConnectErrorPayload { found: found() })
        }
        (PacketType::Event | PacketType::BinaryEvent, None)
        | (PacketType::Ack | PacketType::BinaryAck, None) => Err(SioError::MissingPayload {
            packet_type: p.ty.name(),
        }),
        // "The payload is mandatory and MUST be a non-empty array."
        (PacketType::Event | PacketType::BinaryEvent, Some(v)) => match v {
            Value::Array(items) => match items.first() {
                None => Err(SioError::EventPayloadEmpty),
                Some(Value::String(_) | Value::Number(_)) => Ok(()),
                Some(other) => Err(SioError::EventNameNotString {
                    found: excerpt(&other.to_string()),
                }),
            },
            _ => Err(SioError::EventPayloadNotArray { found: found() }),
        },
        // ACK: "The payload is mandatory and MUST be an array (possibly empty)."
        (PacketType::Ack | PacketType::BinaryAck, Some(v)) if !v.is_array() => {
            Err(SioError::AckPayloadNotArray { found: found() })
        }
        _ => Ok(()),
    }
}

/// Decodes a packet and applies the rules of one revision on top of [`decode`]: v4 CONNECT
/// packets carry no payload; v5 events may not use a reserved name.
pub fn decode_with(version: Version, text: &str) -> Result<Packet, SioError> {
    decode_with_depth(version, text, MAX_JSON_DEPTH)
}

/// [`decode_with`] keeping JSON payloads to `max_depth` levels (at most
/// [`MAX_JSON_DEPTH`](super::json_depth::MAX_JSON_DEPTH), `--max-json-depth`): a deeper payload
/// gives [`SioError::JsonTooDeep`] with the packet, its deep values cut to `null`.
pub fn decode_with_depth(
    version: Version,
    text: &str,
    max_depth: usize,
) -> Result<Packet, SioError> {
    let decoded = decode_nested(text, max_depth);
    let too_deep = match &decoded {
        Err(SioError::JsonTooDeep { limit, .. }) => Some(*limit),
        _ => None,
    };
    let packet = kept(decoded)?;
    match version {
        Version::V4 => {
            if let (PacketType::Connect, Some(v)) = (packet.ty, &packet.data) {
                return Err(SioError::ConnectPayloadInV4 {
                    found: excerpt(&v.to_string()),
                });
            }
        }
        Version::V5 => {
            if let Some(name) = packet.event_name() {
                if RESERVED_EVENTS.contains(&name) {
                    return Err(SioError::ReservedEventName {
                        name: name.to_string(),
                    });
                }
            }
        }
    }
    if let Some(limit) = too_deep {
        return Err(SioError::JsonTooDeep {
            limit,
            packet: Box::new(packet),
        });
    }
    Ok(packet)
}

/// Encodes a packet in its text form (without the Engine.IO `4` in front).
pub fn encode(packet: &Packet) -> String {
    let mut out = String::new();
    out.push(char::from(b'0'.saturating_add(packet.ty.number())));
    if packet.ty.is_binary() {
        out.push_str(&packet.attachments.unwrap_or(0).to_string());
        out.push('-');
    }
    // "the namespace is only included if it is different from the main namespace (/)".
    if !packet.nsp.is_empty() && packet.nsp != "/" {
        out.push_str(&packet.nsp);
        out.push(',');
    }
    if let Some(id) = packet.id {
        out.push_str(&id.to_string());
    }
    if let Some(data) = &packet.data {
        out.push_str(&data.to_string());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pk(ty: PacketType, nsp: &str, id: Option<u64>, data: Option<Value>) -> Packet {
        Packet {
            ty,
            nsp: nsp.into(),
            id,
            attachments: if ty.is_binary() { Some(0) } else { None },
            data,
        }
    }

    /// decode(wire) == packet and encode(packet) == wire.
    fn both_ways(wire: &str, packet: Packet) {
        assert_eq!(decode(wire), Ok(packet.clone()), "decoding {wire}");
        assert_eq!(encode(&packet), wire, "encoding {packet:?}");
    }

    #[test]
    fn spec_v5_examples() {
        use PacketType::*;
        both_ways("0", pk(Connect, "/", None, None));
        both_ways(
            r#"0/admin,{"sid":"oSO0OpakMV_3jnilAAAA"}"#,
            pk(
                Connect,
                "/admin",
                None,
                Some(json!({"sid":"oSO0OpakMV_3jnilAAAA"})),
            ),
        );
        both_ways(
            r#"4{"message":"Not authorized"}"#,
            pk(
                ConnectError,
                "/",
                None,
                Some(json!({"message":"Not authorized"})),
            ),
        );
        both_ways(r#"2["foo"]"#, pk(Event, "/", None, Some(json!(["foo"]))));
        both_ways(
            r#"2/admin,["bar"]"#,
            pk(Event, "/admin", None, Some(json!(["bar"]))),
        );
        let mut p = pk(
            BinaryEvent,
            "/",
            None,
            Some(json!(["baz",{"_placeholder":true,"num":0}])),
        );
        p.attachments = Some(1);
        both_ways(r#"51-["baz",{"_placeholder":true,"num":0}]"#, p);
        let mut p = pk(
            BinaryEvent,
            "/admin",
            None,
            Some(json!(["baz",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}])),
        );
        p.attachments = Some(2);
        both_ways(
            r#"52-/admin,["baz",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#,
            p,
        );
        both_ways(
            r#"212["foo"]"#,
            pk(Event, "/", Some(12), Some(json!(["foo"]))),
        );
        both_ways(
            r#"3/admin,13["bar"]"#,
            pk(Ack, "/admin", Some(13), Some(json!(["bar"]))),
        );
        let mut p = pk(
            BinaryAck,
            "/",
            Some(15),
            Some(json!(["bar",{"_placeholder":true,"num":0}])),
        );
        p.attachments = Some(1);
        both_ways(r#"61-15["bar",{"_placeholder":true,"num":0}]"#, p);
        both_ways("1", pk(Disconnect, "/", None, None));
        both_ways("1/admin,", pk(Disconnect, "/admin", None, None));
    }

    #[test]
    fn spec_v5_sample_session_and_test_suite() {
        let p = decode(r#"0{"sid":"wZX3oN0bSVIhsaknAAAI"}"#).unwrap();
        assert_eq!(p.connect_sid(), Some("wZX3oN0bSVIhsaknAAAI"));
        let p = decode(r#"2["hey","Jude"]"#).unwrap();
        assert_eq!(p.event_name(), Some("hey"));
        assert_eq!(p.args(), &[json!("Jude")]);
        let p = decode(r#"0/admin,{"sid":"-G5j-67EZFp-q59rADQM"}"#).unwrap();
        assert_eq!(
            (p.nsp.as_str(), p.connect_sid()),
            ("/admin", Some("-G5j-67EZFp-q59rADQM"))
        );
        let p = decode(r#"2/admin,1["tellme"]"#).unwrap();
        assert_eq!((p.id, p.event_name()), (Some(1), Some("tellme")));
        let p = decode(r#"61-/admin,1[{"_placeholder":true,"num":0}]"#).unwrap();
        assert_eq!(
            (p.ty, p.attachments, p.id),
            (PacketType::BinaryAck, Some(1), Some(1))
        );
        // Test suite: "40/custom" without a trailing comma; auth payloads; refusal.
        assert_eq!(decode("0/custom").unwrap().nsp, "/custom");
        assert_eq!(decode("1/custom").unwrap().nsp, "/custom");
        let p = decode(r#"0/custom,{"token":"abc"}"#).unwrap();
        assert_eq!(p.data, Some(json!({"token":"abc"})));
        let p = decode(r#"4/random,{"message":"Invalid namespace"}"#).unwrap();
        assert_eq!(p.error_message(), Some("Invalid namespace"));
        let p = decode(r#"2456["message-with-ack",1,"2",{"3":[false]}]"#).unwrap();
        assert_eq!(p.id, Some(456));
        let p = decode(r#"3456[1,"2",{"3":[false]}]"#).unwrap();
        assert_eq!(p.args().len(), 3);
        let p = decode(r#"52-789["message-with-ack",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#).unwrap();
        assert_eq!((p.attachments, p.id), (Some(2), Some(789)));
        assert_eq!(
            encode(&p),
            r#"52-789["message-with-ack",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#
        );
    }

    #[test]
    fn spec_v4_examples() {
        use PacketType::*;
        both_ways("0/admin,", pk(Connect, "/admin", None, None));
        both_ways(
            r#"2["hello",1]"#,
            pk(Event, "/", None, Some(json!(["hello", 1]))),
        );
        both_ways(
            r#"2/admin,456["project:delete",123]"#,
            pk(
                Event,
                "/admin",
                Some(456),
                Some(json!(["project:delete", 123])),
            ),
        );
        both_ways(
            "3/admin,456[]",
            pk(Ack, "/admin", Some(456), Some(json!([]))),
        );
        both_ways(
            r#"4/admin,"Not authorized""#,
            pk(ConnectError, "/admin", None, Some(json!("Not authorized"))),
        );
        let p = decode(r#"51-/admin,456["project:delete",{"_placeholder":true,"num":0}]"#).unwrap();
        assert_eq!(
            (p.attachments, p.id, p.nsp.as_str()),
            (Some(1), Some(456), "/admin")
        );
        let p = decode(r#"61-/admin,456[{"_placeholder":true,"num":0}]"#).unwrap();
        assert_eq!(p.args().len(), 1);
        // A v4 CONNECT with a query in the namespace.
        let p = decode_with(Version::V4, "0/admin?token=1234&uid=abcd,").unwrap();
        assert_eq!(p.namespace_path(), "/admin");
        assert_eq!(p.namespace_query(), Some("token=1234&uid=abcd"));
        assert_eq!(encode(&p), "0/admin?token=1234&uid=abcd,");
        let p = decode("0/nsp?x=1,").unwrap();
        assert_eq!(
            (p.namespace_path(), p.namespace_query()),
            ("/nsp", Some("x=1"))
        );
        assert_eq!(p.error_message(), None);
        assert!(matches!(
            decode_with(Version::V4, r#"0{"token":"1"}"#),
            Err(SioError::ConnectPayloadInV4 { .. })
        ));
    }

    #[test]
    fn multibyte_namespaces() {
        use PacketType::*;
        both_ways(
            r#"0/admin™,{"sid":"x"}"#,
            pk(Connect, "/admin™", None, Some(json!({"sid":"x"}))),
        );
        both_ways("1/admin™,", pk(Disconnect, "/admin™", None, None));
        both_ways(
            r#"2/admin™,1["event",{"data":"value™"}]"#,
            pk(
                Event,
                "/admin™",
                Some(1),
                Some(json!(["event",{"data":"value™"}])),
            ),
        );
        both_ways(
            r#"3/ñ,54["data"]"#,
            pk(Ack, "/ñ", Some(54), Some(json!(["data"]))),
        );
        let mut p = pk(
            BinaryEvent,
            "/admin™",
            Some(254),
            Some(json!(["event",{"_placeholder":true,"num":0}])),
        );
        p.attachments = Some(1);
        both_ways(
            r#"51-/admin™,254["event",{"_placeholder":true,"num":0}]"#,
            p,
        );
        both_ways(r#"2/😀,["é"]"#, pk(Event, "/😀", None, Some(json!(["é"]))));
    }

    #[test]
    fn connection_state_recovery() {
        let p = decode(r#"0{"pid":"Uq3ktxW8nD4yHAxJAAAB","offset":"MzUPkW0"}"#).unwrap();
        assert_eq!(p.recovery(), Some(("Uq3ktxW8nD4yHAxJAAAB", "MzUPkW0")));
        assert_eq!(p.connect_sid(), None);
        assert_eq!(
            encode(&p),
            r#"0{"pid":"Uq3ktxW8nD4yHAxJAAAB","offset":"MzUPkW0"}"#
        );
    }

    #[test]
    fn malformed_packets() {
        // socket.io-protocol test suite: "abc" (unknown type), "2{}" (bad payload), bad ack id.
        assert_eq!(
            decode("abc"),
            Err(SioError::UnknownPacketType { found: "a".into() })
        );
        assert!(matches!(
            decode("2{}"),
            Err(SioError::EventPayloadNotArray { .. })
        ));
        assert!(matches!(
            decode(r#"2abc["message-with-ack",1,"2",{"3":[false]}]"#),
            Err(SioError::BadJson { .. })
        ));
        assert_eq!(decode(""), Err(SioError::Empty));
        assert!(matches!(
            decode("7"),
            Err(SioError::UnknownPacketType { .. })
        ));
        assert!(matches!(
            decode("5[\"a\"]"),
            Err(SioError::BadAttachmentCount { .. })
        ));
        assert!(matches!(
            decode("5-[\"a\"]"),
            Err(SioError::BadAttachmentCount { .. })
        ));
        assert!(matches!(
            decode("51[\"a\"]"),
            Err(SioError::BadAttachmentCount { .. })
        ));
        assert!(matches!(
            decode("599999999999-[\"a\"]"),
            Err(SioError::BadAttachmentCount { .. })
        ));
        assert!(matches!(
            decode("2123456789012345678901[\"a\"]"),
            Err(SioError::BadAckId { .. })
        ));
        assert!(matches!(
            decode("0[1]"),
            Err(SioError::ConnectPayloadNotObject { .. })
        ));
        assert!(matches!(
            decode("1{}"),
            Err(SioError::DisconnectWithPayload { .. })
        ));
        assert!(matches!(
            decode("4[1]"),
            Err(SioError::ConnectErrorPayload { .. })
        ));
        assert_eq!(
            decode("2"),
            Err(SioError::MissingPayload {
                packet_type: "EVENT"
            })
        );
        assert_eq!(
            decode("3/a,1"),
            Err(SioError::MissingPayload { packet_type: "ACK" })
        );
        assert_eq!(decode("2[]"), Err(SioError::EventPayloadEmpty));
        assert!(matches!(
            decode("2[{}]"),
            Err(SioError::EventNameNotString { .. })
        ));
        assert!(matches!(
            decode("3{}"),
            Err(SioError::AckPayloadNotArray { .. })
        ));
        assert!(matches!(decode("2[\"a\"]x"), Err(SioError::BadJson { .. })));
        // Numbers as event names pass the reference parser; reserved names fail in v5 only.
        assert!(decode("2[1]").is_ok());
        assert_eq!(decode("2[1]").unwrap().event_name(), None);
        assert_eq!(
            decode_with(Version::V5, r#"2["disconnect"]"#),
            Err(SioError::ReservedEventName {
                name: "disconnect".into()
            })
        );
        assert!(decode_with(Version::V4, r#"2["disconnect"]"#).is_ok());
    }

    #[test]
    fn socket_io_parser_reference_literals() {
        use PacketType::*;
        // Written by socket.io-parser 4.2.4 (v5) and 3.3.3 (v4) Encoder.encode.
        both_ways(
            r#"2/admin™,7["ev",{"a":"ñ"}]"#,
            pk(Event, "/admin™", Some(7), Some(json!(["ev", {"a": "ñ"}]))),
        );
        let mut p = pk(
            BinaryEvent,
            "/",
            None,
            Some(json!(["up",{"_placeholder":true,"num":0},{"x":{"_placeholder":true,"num":1}}])),
        );
        p.attachments = Some(2);
        both_ways(
            r#"52-["up",{"_placeholder":true,"num":0},{"x":{"_placeholder":true,"num":1}}]"#,
            p,
        );
        let mut p = pk(
            BinaryAck,
            "/ñ",
            Some(3),
            Some(json!([{"_placeholder":true,"num":0}])),
        );
        p.attachments = Some(1);
        both_ways(r#"61-/ñ,3[{"_placeholder":true,"num":0}]"#, p);
        both_ways(
            r#"4{"message":"Not authorized","data":{"a":1}}"#,
            pk(
                ConnectError,
                "/",
                None,
                Some(json!({"message":"Not authorized","data":{"a":1}})),
            ),
        );
        both_ways(
            r#"4/x,"Not authorized""#,
            pk(ConnectError, "/x", None, Some(json!("Not authorized"))),
        );
        both_ways("0/nsp?x=1,", pk(Connect, "/nsp?x=1", None, None));
        // What socket.io-parser 4.2.4's Decoder accepts: leading zeros in ids, ids on CONNECT.
        assert_eq!(decode(r#"2007["a"]"#).unwrap().id, Some(7));
        assert_eq!(
            decode("0/a,5"),
            Ok(Packet {
                id: Some(5),
                ..pk(Connect, "/a", None, None)
            })
        );
    }

    #[test]
    fn fuzz_regression_long_float_round_trip() {
        // Found by the socketio fuzz target: a float with many digits re-parses one ulp away
        // (serde_json without `float_roundtrip`); the packet structure survives.
        let wire = format!("3[24444{}4.44442]", "6".repeat(113));
        let p = decode(&wire).unwrap();
        let back = decode(&encode(&p)).unwrap();
        assert_eq!(
            (back.ty, back.nsp.as_str(), back.id),
            (PacketType::Ack, "/", None)
        );
        assert!(back.args()[0].is_f64());
    }

    /// A payload deeper than the decoder parses is cut, not lost: type, namespace, ack id and
    /// event name survive, and the cut is its own error carrying the packet.
    #[test]
    fn a_too_deep_payload_keeps_the_packet_with_its_deep_values_cut() {
        let deep = format!("2/chat,7[\"ev\",1,{}0{}]", "[".repeat(500), "]".repeat(500));
        let Err(SioError::JsonTooDeep { limit, packet }) = decode(&deep) else {
            panic!("not cut: {:?}", decode(&deep));
        };
        assert_eq!(limit, MAX_JSON_DEPTH);
        assert_eq!(
            (packet.ty, packet.nsp.as_str(), packet.id),
            (PacketType::Event, "/chat", Some(7))
        );
        assert_eq!(packet.event_name(), Some("ev"));
        let data = packet.data.clone().unwrap();
        assert_eq!(data[1], 1);
        let r = decode_with_depth(Version::V5, "2[\"ev\",{\"a\":[1]}]", 2);
        assert_eq!(
            r.as_ref().err().map(ToString::to_string).as_deref(),
            Some("JSON payload nested more than 2 deep: the deeper values are shown as null")
        );
        assert_eq!(
            kept(r).unwrap().data,
            Some(serde_json::json!(["ev", {"a": null}]))
        );
        // Within the limit nothing changes; rule checks still apply to a cut packet.
        assert!(decode_with_depth(Version::V5, "2[\"ev\",{\"a\":[1]}]", 3).is_ok());
        assert!(matches!(
            decode_with_depth(Version::V5, "2[\"connect\",[[1]]]", 1),
            Err(SioError::ReservedEventName { .. })
        ));
    }

    #[test]
    fn version_mapping() {
        assert_eq!(Version::from_engineio(engineio::Version::V3), Version::V4);
        assert_eq!(Version::from_engineio(engineio::Version::V4), Version::V5);
        assert_eq!(Version::from_engineio(engineio::Version::V2), Version::V4);
    }
}
