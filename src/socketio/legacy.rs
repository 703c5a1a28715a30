//! Legacy socket.io 0.9 (protocol 1), which predates Engine.IO.
//!
//! **Handshake**: `GET /socket.io/1/?t=…` answers `sid:heartbeat:close:transports`, the two
//! timeouts in seconds (empty when disabled):
//!
//! ```text
//! 4d4f185e96a7b:15:10:websocket,xhr-polling
//! ```
//!
//! **Transports** then live at `/socket.io/1/<transport>/<sid>` (`websocket`, `flashsocket`,
//! `htmlfile`, `xhr-polling`, `jsonp-polling`), see [`parse_path`].
//!
//! **Messages** are `type:id:endpoint[:data]`; a trailing `+` on the id asks for an ack
//! carrying data:
//!
//! ```text
//! 0::/chat                      disconnect (endpoint /chat)
//! 1::/chat:?token=1             connect, with a query
//! 2::                           heartbeat
//! 3:1::hello                    message "hello", id 1
//! 4:::{"a":1}                   JSON message
//! 5:2+::{"name":"ev","args":[1]}   event, ack with data requested
//! 6:::4+["a"]                   ack of message 4 with arguments
//! 7:::reason+advice             error (indexes: 0 transport not supported, 1 client not
//!                               handshaken, 2 unauthorized; advice 0 reconnect)
//! 8::                           noop
//! ```
//!
//! **Polling bodies** with several messages frame each as `\u{fffd}<len>\u{fffd}<message>`,
//! `len` counted in UTF-16 code units; a body with one message is just that message.

use std::ops::Range;

use serde_json::Value;

use super::error::{excerpt, SioError};

/// The kind of a legacy message (its type digit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LegacyKind {
    /// 0: disconnect from an endpoint (or the whole socket).
    Disconnect,
    /// 1: connect to an endpoint.
    Connect,
    /// 2: heartbeat.
    Heartbeat,
    /// 3: a text message.
    Message,
    /// 4: a JSON message.
    Json,
    /// 5: an event `{"name":…,"args":[…]}`.
    Event,
    /// 6: an ack.
    Ack,
    /// 7: an error `reason+advice`.
    Error,
    /// 8: noop.
    Noop,
}

impl LegacyKind {
    /// The type number 0–8.
    pub fn number(self) -> u8 {
        match self {
            LegacyKind::Disconnect => 0,
            LegacyKind::Connect => 1,
            LegacyKind::Heartbeat => 2,
            LegacyKind::Message => 3,
            LegacyKind::Json => 4,
            LegacyKind::Event => 5,
            LegacyKind::Ack => 6,
            LegacyKind::Error => 7,
            LegacyKind::Noop => 8,
        }
    }

    fn from_text(s: &str) -> Option<Self> {
        Some(match s {
            "0" => LegacyKind::Disconnect,
            "1" => LegacyKind::Connect,
            "2" => LegacyKind::Heartbeat,
            "3" => LegacyKind::Message,
            "4" => LegacyKind::Json,
            "5" => LegacyKind::Event,
            "6" => LegacyKind::Ack,
            "7" => LegacyKind::Error,
            "8" => LegacyKind::Noop,
            _ => return None,
        })
    }

    /// The name socket.io 0.9's parser uses.
    pub fn name(self) -> &'static str {
        match self {
            LegacyKind::Disconnect => "disconnect",
            LegacyKind::Connect => "connect",
            LegacyKind::Heartbeat => "heartbeat",
            LegacyKind::Message => "message",
            LegacyKind::Json => "json",
            LegacyKind::Event => "event",
            LegacyKind::Ack => "ack",
            LegacyKind::Error => "error",
            LegacyKind::Noop => "noop",
        }
    }
}

/// A legacy message, split into its fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegacyMessage {
    /// The message kind.
    pub kind: LegacyKind,
    /// The message id, when the sender wants an ack.
    pub id: Option<u64>,
    /// The id had a trailing `+`: the ack should carry data.
    pub data_ack: bool,
    /// The endpoint (namespace), empty for the default one.
    pub endpoint: String,
    /// The data after the third colon, when present.
    pub data: Option<String>,
}

/// The meaning of a legacy message's data.
#[derive(Debug, Clone, PartialEq)]
pub enum LegacyPayload {
    /// No data.
    None,
    /// Text (message, or the query of a connect).
    Text(String),
    /// A JSON message.
    Json(Value),
    /// An event.
    Event {
        /// The event name.
        name: String,
        /// Its arguments.
        args: Vec<Value>,
    },
    /// An ack of message `id`, with arguments when the sender asked for data.
    Ack {
        /// The acknowledged message id.
        id: u64,
        /// The arguments, if any.
        args: Option<Vec<Value>>,
    },
    /// An error with its reason and advice (index names resolved).
    Error {
        /// The reason (`unauthorized`, …, or the raw text).
        reason: String,
        /// The advice (`reconnect`, or the raw text), if any.
        advice: Option<String>,
    },
}

const REASONS: &[&str] = &[
    "transport not supported",
    "client not handshaken",
    "unauthorized",
];
const ADVICE: &[&str] = &["reconnect"];

fn index_name(text: &str, names: &[&str]) -> String {
    text.parse::<usize>()
        .ok()
        .and_then(|i| names.get(i))
        .map_or_else(|| text.to_string(), |s| (*s).to_string())
}

/// Decodes one legacy message.
pub fn decode_message(text: &str) -> Result<LegacyMessage, SioError> {
    let malformed = || SioError::LegacyMalformed {
        found: excerpt(text),
    };
    // socket.io-spec (protocol 1): "[message type] ':' [message id ('+')] ':'
    // [message endpoint] (':' [message data])".
    let (kind_text, rest) = text.split_once(':').ok_or_else(malformed)?;
    let kind = LegacyKind::from_text(kind_text).ok_or_else(|| SioError::LegacyUnknownType {
        found: excerpt(kind_text),
    })?;
    let (id_text, rest) = rest.split_once(':').ok_or_else(malformed)?;
    let (endpoint, data) = match rest.split_once(':') {
        Some((e, d)) => (e, Some(d.to_string())),
        None => (rest, None),
    };
    let (digits, data_ack) = match id_text.strip_suffix('+') {
        Some(d) => (d, true),
        None => (id_text, false),
    };
    let bad_id = || SioError::LegacyBadId {
        found: excerpt(id_text),
    };
    let id = if digits.is_empty() {
        if data_ack {
            return Err(bad_id());
        }
        None
    } else if digits.bytes().all(|b| b.is_ascii_digit()) {
        Some(digits.parse::<u64>().map_err(|_| bad_id())?)
    } else {
        return Err(bad_id());
    };
    Ok(LegacyMessage {
        kind,
        id,
        data_ack,
        endpoint: endpoint.to_string(),
        data,
    })
}

/// Encodes a legacy message.
pub fn encode_message(m: &LegacyMessage) -> String {
    let mut out = format!("{}:", m.kind.number());
    if let Some(id) = m.id {
        out.push_str(&id.to_string());
    }
    if m.data_ack {
        out.push('+');
    }
    out.push(':');
    out.push_str(&m.endpoint);
    if let Some(d) = &m.data {
        out.push(':');
        out.push_str(d);
    }
    out
}

impl LegacyMessage {
    /// Interprets the data according to the message kind.
    pub fn payload(&self) -> Result<LegacyPayload, SioError> {
        let kind = self.kind.name();
        let data = match self.data.as_deref() {
            None | Some("") => {
                return match self.kind {
                    LegacyKind::Json | LegacyKind::Event | LegacyKind::Ack => {
                        Err(SioError::LegacyBadData {
                            kind,
                            reason: "missing data".into(),
                            found: String::new(),
                        })
                    }
                    LegacyKind::Message | LegacyKind::Connect if self.data.is_some() => {
                        Ok(LegacyPayload::Text(String::new()))
                    }
                    _ => Ok(LegacyPayload::None),
                }
            }
            Some(d) => d,
        };
        let bad = |reason: String| SioError::LegacyBadData {
            kind,
            reason,
            found: excerpt(data),
        };
        let json = |s: &str| serde_json::from_str::<Value>(s).map_err(|e| bad(e.to_string()));
        match self.kind {
            LegacyKind::Message | LegacyKind::Connect => Ok(LegacyPayload::Text(data.into())),
            LegacyKind::Json => json(data).map(LegacyPayload::Json),
            LegacyKind::Event => {
                let Value::Object(mut map) = json(data)? else {
                    return Err(bad("not an object".into()));
                };
                let name = match map.remove("name") {
                    Some(Value::String(s)) => s,
                    _ => return Err(bad("no string \"name\"".into())),
                };
                let args = match map.remove("args") {
                    Some(Value::Array(a)) => a,
                    None => Vec::new(),
                    Some(_) => return Err(bad("\"args\" is not an array".into())),
                };
                Ok(LegacyPayload::Event { name, args })
            }
            LegacyKind::Ack => {
                let digits = data.bytes().take_while(u8::is_ascii_digit).count();
                let id = data
                    .get(..digits)
                    .and_then(|d| d.parse::<u64>().ok())
                    .ok_or_else(|| bad("no ack id".into()))?;
                let rest = data.get(digits..).unwrap_or_default();
                let args = match rest.strip_prefix('+') {
                    Some(json_text) => match json(json_text)? {
                        Value::Array(a) => Some(a),
                        _ => return Err(bad("ack arguments are not an array".into())),
                    },
                    None if rest.is_empty() => None,
                    None => return Err(bad("unexpected text after the ack id".into())),
                };
                Ok(LegacyPayload::Ack { id, args })
            }
            LegacyKind::Error => {
                let (reason, advice) = match data.split_once('+') {
                    Some((r, a)) => (r, Some(a)),
                    None => (data, None),
                };
                Ok(LegacyPayload::Error {
                    reason: index_name(reason, REASONS),
                    advice: advice.map(|a| index_name(a, ADVICE)),
                })
            }
            LegacyKind::Disconnect | LegacyKind::Heartbeat | LegacyKind::Noop => {
                Ok(LegacyPayload::Text(data.into()))
            }
        }
    }
}

/// The answer to a legacy handshake request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegacyHandshake {
    /// The session id.
    pub sid: String,
    /// Heartbeat timeout in seconds (`None` when heartbeats are off).
    pub heartbeat_timeout: Option<u64>,
    /// Close timeout in seconds.
    pub close_timeout: Option<u64>,
    /// The transports the server offers, in its order of preference.
    pub transports: Vec<String>,
}

/// Parses a legacy handshake body `sid:heartbeat:close:transports`.
pub fn parse_handshake(body: &str) -> Result<LegacyHandshake, SioError> {
    let bad = || SioError::LegacyBadHandshake {
        found: excerpt(body),
    };
    let mut parts = body.trim_end().splitn(4, ':');
    let (Some(sid), Some(hb), Some(close), Some(transports)) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad());
    };
    let secs = |s: &str| -> Result<Option<u64>, SioError> {
        if s.is_empty() {
            Ok(None)
        } else {
            s.parse().map(Some).map_err(|_| bad())
        }
    };
    if sid.is_empty() {
        return Err(bad());
    }
    Ok(LegacyHandshake {
        sid: sid.to_string(),
        heartbeat_timeout: secs(hb)?,
        close_timeout: secs(close)?,
        transports: transports
            .split(',')
            .filter(|t| !t.is_empty())
            .map(str::to_string)
            .collect(),
    })
}

/// The transports socket.io 0.9 knows.
pub const TRANSPORTS: &[&str] = &[
    "websocket",
    "flashsocket",
    "htmlfile",
    "xhr-polling",
    "jsonp-polling",
];

/// Parses a request path `/…/1/<transport>/<sid>` (query ignored) into (transport, sid).
/// `None` for other paths, including the handshake path `/socket.io/1/`.
pub fn parse_path(path: &str) -> Option<(String, String)> {
    let path = path.split(['?', '#']).next().unwrap_or_default();
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let n = segments.len();
    let (proto, transport, sid) = (
        segments.get(n.checked_sub(3)?)?,
        segments.get(n.checked_sub(2)?)?,
        segments.get(n.checked_sub(1)?)?,
    );
    (*proto == "1" && TRANSPORTS.contains(transport))
        .then(|| (transport.to_string(), sid.to_string()))
}

/// Whether a request path is the legacy handshake (`/…/1/` with no transport).
pub fn is_handshake_path(path: &str) -> bool {
    let path = path.split(['?', '#']).next().unwrap_or_default();
    path.split('/').rfind(|s| !s.is_empty()) == Some("1")
}

/// The frame delimiter of multi-message polling bodies.
pub const FRAME: char = '\u{fffd}';

/// One message of a legacy polling body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegacyFrame {
    /// The bytes of the body this message covers (frame header included).
    pub range: Range<usize>,
    /// The message, or the rule it broke.
    pub message: Result<LegacyMessage, SioError>,
}

/// Splits a legacy polling body into its messages and decodes each.
pub fn decode_frames(body: &[u8]) -> Vec<LegacyFrame> {
    let text = match std::str::from_utf8(body) {
        Ok(t) => t,
        Err(e) => {
            return vec![LegacyFrame {
                range: 0..body.len(),
                message: Err(SioError::LegacyInvalidUtf8 {
                    offset: e.valid_up_to(),
                }),
            }]
        }
    };
    if !text.starts_with(FRAME) {
        return vec![LegacyFrame {
            range: 0..body.len(),
            message: decode_message(text),
        }];
    }
    let mut out = Vec::new();
    let mut pos = 0usize;
    while pos < text.len() {
        let rest = text.get(pos..).unwrap_or_default();
        let bad = || LegacyFrame {
            range: pos..text.len(),
            message: Err(SioError::LegacyBadFrame {
                offset: pos,
                found: excerpt(rest),
            }),
        };
        // socket.io-spec: "\ufffd[message len]\ufffd[message]".
        let Some(after) = rest.strip_prefix(FRAME) else {
            out.push(bad());
            return out;
        };
        let digits = after.bytes().take_while(u8::is_ascii_digit).count();
        let declared = after.get(..digits).and_then(|d| d.parse::<usize>().ok());
        let Some(msg_text) = after.get(digits..).and_then(|a| a.strip_prefix(FRAME)) else {
            out.push(bad());
            return out;
        };
        let Some(declared) = declared else {
            out.push(bad());
            return out;
        };
        // The length counts UTF-16 code units, as JavaScript's String.length does.
        let mut units = 0usize;
        let mut len = 0usize;
        for c in msg_text.chars() {
            if units >= declared {
                break;
            }
            units = units.saturating_add(c.len_utf16());
            len = len.saturating_add(c.len_utf8());
        }
        if units != declared {
            out.push(bad());
            return out;
        }
        let header = rest.len().saturating_sub(msg_text.len());
        let end = pos.saturating_add(header).saturating_add(len);
        out.push(LegacyFrame {
            range: pos..end,
            message: decode_message(msg_text.get(..len).unwrap_or_default()),
        });
        pos = end;
    }
    out
}

/// Encodes messages as a polling body: one message as itself, several framed.
pub fn encode_frames(messages: &[LegacyMessage]) -> String {
    if let [one] = messages {
        return encode_message(one);
    }
    let mut out = String::new();
    for m in messages {
        let text = encode_message(m);
        out.push(FRAME);
        out.push_str(&text.encode_utf16().count().to_string());
        out.push(FRAME);
        out.push_str(&text);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn msg(
        kind: LegacyKind,
        id: Option<u64>,
        ack: bool,
        ep: &str,
        data: Option<&str>,
    ) -> LegacyMessage {
        LegacyMessage {
            kind,
            id,
            data_ack: ack,
            endpoint: ep.into(),
            data: data.map(str::to_string),
        }
    }

    fn both_ways(wire: &str, m: LegacyMessage) {
        assert_eq!(decode_message(wire), Ok(m.clone()), "decoding {wire}");
        assert_eq!(encode_message(&m), wire);
    }

    #[test]
    fn every_message_type() {
        use LegacyKind::*;
        both_ways("0::/chat", msg(Disconnect, None, false, "/chat", None));
        both_ways("0::", msg(Disconnect, None, false, "", None));
        both_ways(
            "1::/test:?my=param",
            msg(Connect, None, false, "/test", Some("?my=param")),
        );
        both_ways("2::", msg(Heartbeat, None, false, "", None));
        both_ways(
            "3:1::blabla",
            msg(Message, Some(1), false, "", Some("blabla")),
        );
        both_ways(
            "4:1::{\"a\":\"b\"}",
            msg(Json, Some(1), false, "", Some("{\"a\":\"b\"}")),
        );
        both_ways(
            r#"5:::{"name":"ev","args":[1,"x"]}"#,
            msg(
                Event,
                None,
                false,
                "",
                Some(r#"{"name":"ev","args":[1,"x"]}"#),
            ),
        );
        both_ways(
            r#"5:2+:/chat:{"name":"ev"}"#,
            msg(Event, Some(2), true, "/chat", Some(r#"{"name":"ev"}"#)),
        );
        both_ways(
            r#"6:::4+["a"]"#,
            msg(Ack, None, false, "", Some(r#"4+["a"]"#)),
        );
        both_ways("7:::1+0", msg(Error, None, false, "", Some("1+0")));
        both_ways("8::", msg(Noop, None, false, "", None));
    }

    #[test]
    fn socket_io_0_9_19_parser_literals() {
        // Wire strings written by socket.io 0.9.19's lib/parser.js encodePacket/encodePayload.
        let p = |s: &str| decode_message(s).unwrap().payload().unwrap();
        assert_eq!(
            p(r#"5:::{"name":"ev","args":[1,"x"]}"#),
            LegacyPayload::Event {
                name: "ev".into(),
                args: vec![json!(1), json!("x")]
            }
        );
        let m = decode_message(r#"5:2+:/chat:{"name":"ev","args":[1]}"#).unwrap();
        assert_eq!(
            (m.id, m.data_ack, m.endpoint.as_str()),
            (Some(2), true, "/chat")
        );
        assert_eq!(p("6:::4"), LegacyPayload::Ack { id: 4, args: None });
        let m = decode_message("1::/test:?my=param").unwrap();
        assert_eq!(m.payload(), Ok(LegacyPayload::Text("?my=param".into())));
        assert_eq!(p("3:1::héllo😀"), LegacyPayload::Text("héllo😀".into()));
        assert_eq!(p(r#"4:::{"a":"b"}"#), LegacyPayload::Json(json!({"a":"b"})));
        assert_eq!(decode_message("8::").unwrap().kind, LegacyKind::Noop);
        assert_eq!(decode_message("0::/chat").unwrap().endpoint, "/chat");
        let frames = decode_frames("\u{fffd}3\u{fffd}2::\u{fffd}6\u{fffd}3:::😀".as_bytes());
        assert_eq!(frames.len(), 2);
        assert_eq!(
            frames[1].message.as_ref().map(|m| m.data.as_deref()),
            Ok(Some("😀"))
        );
    }

    #[test]
    fn payloads() {
        let p = |s: &str| decode_message(s).unwrap().payload().unwrap();
        assert_eq!(
            p(r#"5:::{"name":"ev","args":[1,"x"]}"#),
            LegacyPayload::Event {
                name: "ev".into(),
                args: vec![json!(1), json!("x")]
            }
        );
        assert_eq!(
            p(r#"6:::4+["a"]"#),
            LegacyPayload::Ack {
                id: 4,
                args: Some(vec![json!("a")])
            }
        );
        assert_eq!(p("6:::4"), LegacyPayload::Ack { id: 4, args: None });
        assert_eq!(
            p("7:::reason+advice"),
            LegacyPayload::Error {
                reason: "reason".into(),
                advice: Some("advice".into())
            }
        );
        assert_eq!(
            p("7:::2+0"),
            LegacyPayload::Error {
                reason: "unauthorized".into(),
                advice: Some("reconnect".into())
            }
        );
        assert_eq!(p("3:::héllo™"), LegacyPayload::Text("héllo™".into()));
        assert_eq!(p("4:::[1]"), LegacyPayload::Json(json!([1])));
        assert_eq!(p("2::"), LegacyPayload::None);
        assert_eq!(p("3:::"), LegacyPayload::Text(String::new()));
        // Data containing colons stays whole.
        assert_eq!(p("3:::a:b:c"), LegacyPayload::Text("a:b:c".into()));
    }

    #[test]
    fn malformed_messages() {
        assert!(matches!(
            decode_message("2"),
            Err(SioError::LegacyMalformed { .. })
        ));
        assert!(matches!(
            decode_message("2:"),
            Err(SioError::LegacyMalformed { .. })
        ));
        assert!(matches!(
            decode_message("9::"),
            Err(SioError::LegacyUnknownType { .. })
        ));
        assert!(matches!(
            decode_message(":::"),
            Err(SioError::LegacyUnknownType { .. })
        ));
        assert!(matches!(
            decode_message("3:x::a"),
            Err(SioError::LegacyBadId { .. })
        ));
        assert!(matches!(
            decode_message("3:+::a"),
            Err(SioError::LegacyBadId { .. })
        ));
        assert!(matches!(
            decode_message("3:99999999999999999999999::a"),
            Err(SioError::LegacyBadId { .. })
        ));
        let bad = |s: &str| decode_message(s).unwrap().payload();
        assert!(matches!(
            bad("5:::[1]"),
            Err(SioError::LegacyBadData { kind: "event", .. })
        ));
        assert!(matches!(
            bad("5:::{\"args\":[]}"),
            Err(SioError::LegacyBadData { .. })
        ));
        assert!(matches!(
            bad("5:::{\"name\":\"a\",\"args\":1}"),
            Err(SioError::LegacyBadData { .. })
        ));
        assert!(matches!(bad("5:::"), Err(SioError::LegacyBadData { .. })));
        assert!(matches!(
            bad("4:::{"),
            Err(SioError::LegacyBadData { kind: "json", .. })
        ));
        assert!(matches!(
            bad("6:::x"),
            Err(SioError::LegacyBadData { kind: "ack", .. })
        ));
        assert!(matches!(
            bad("6:::4+{}"),
            Err(SioError::LegacyBadData { .. })
        ));
        assert!(matches!(bad("6:::4x"), Err(SioError::LegacyBadData { .. })));
    }

    #[test]
    fn handshake() {
        let hs = parse_handshake("4d4f185e96a7b:15:10:websocket,xhr-polling").unwrap();
        assert_eq!(
            hs,
            LegacyHandshake {
                sid: "4d4f185e96a7b".into(),
                heartbeat_timeout: Some(15),
                close_timeout: Some(10),
                transports: vec!["websocket".into(), "xhr-polling".into()],
            }
        );
        let hs = parse_handshake("abc::25:websocket").unwrap();
        assert_eq!(hs.heartbeat_timeout, None);
        assert!(parse_handshake("abc:15").is_err());
        assert!(parse_handshake(":15:10:websocket").is_err());
        assert!(parse_handshake("abc:x:10:websocket").is_err());
    }

    #[test]
    fn paths() {
        assert_eq!(
            parse_path("/socket.io/1/websocket/4d4f185e96a7b"),
            Some(("websocket".into(), "4d4f185e96a7b".into()))
        );
        assert_eq!(
            parse_path("/socket.io/1/xhr-polling/abc?t=1400000000000"),
            Some(("xhr-polling".into(), "abc".into()))
        );
        assert_eq!(parse_path("/socket.io/1/?t=1"), None);
        assert_eq!(parse_path("/socket.io/1/bogus/abc"), None);
        assert_eq!(parse_path("/"), None);
        assert_eq!(parse_path(""), None);
        assert!(is_handshake_path("/socket.io/1/?t=123"));
        assert!(!is_handshake_path("/socket.io/1/websocket/abc"));
    }

    #[test]
    fn polling_frames() {
        // Two messages, lengths in UTF-16 code units ("3:::😀" is 6 units).
        let body = "\u{fffd}3\u{fffd}2::\u{fffd}6\u{fffd}3:::😀";
        let frames = decode_frames(body.as_bytes());
        assert_eq!(frames.len(), 2);
        assert_eq!(frames[0].message, decode_message("2::"));
        assert_eq!(frames[0].range, 0..10);
        assert_eq!(frames[1].message, decode_message("3:::😀"));
        assert_eq!(frames[1].range, 10..body.len());
        let ms: Vec<_> = frames.into_iter().map(|f| f.message.unwrap()).collect();
        assert_eq!(encode_frames(&ms), body);
        // One message, unframed.
        let frames = decode_frames(b"5:::{\"name\":\"ev\"}");
        assert_eq!(frames.len(), 1);
        assert_eq!(frames[0].range, 0..17);
        assert_eq!(
            encode_frames(&[frames[0].message.clone().unwrap()]),
            "5:::{\"name\":\"ev\"}"
        );
        // Broken frames.
        for body in [
            "\u{fffd}9\u{fffd}2::",
            "\u{fffd}x\u{fffd}2::",
            "\u{fffd}3",
            "\u{fffd}\u{fffd}2::",
            "\u{fffd}3\u{fffd}2::x",
            "\u{fffd}5\u{fffd}3:::😀",
        ] {
            let frames = decode_frames(body.as_bytes());
            assert!(
                frames
                    .iter()
                    .any(|f| matches!(f.message, Err(SioError::LegacyBadFrame { .. }))),
                "{body:?}: {frames:?}"
            );
        }
        assert!(matches!(
            decode_frames(b"\xff")[0].message,
            Err(SioError::LegacyInvalidUtf8 { offset: 0 })
        ));
    }
}
