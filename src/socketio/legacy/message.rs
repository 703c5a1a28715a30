//! Legacy socket.io 0.9 messages: `type:id:endpoint[:data]`.
//!
//! ```text
//! 0::/chat                      disconnect (endpoint /chat)
//! 1::/chat:?token=1             connect, with a query
//! 2::                           heartbeat
//! 3:1::hello                    message "hello", id 1
//! 4:::{"a":1}                   JSON message
//! 5:2+::{"name":"ev","args":[1]}   event, ack with data requested
//! 6:::4+["a"]                   ack of message 4 with arguments
//! 7:::reason+advice             error
//! 8::                           noop
//! ```
//!
//! The id is digits with an optional trailing `+` (the ack should carry data); the endpoint is
//! the namespace (empty for the default one); the data runs to the end and may hold colons.

use serde_json::Value;

use crate::socketio::error::{excerpt, SioError};

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

    /// The kind for a type number 0–8.
    pub fn from_number(n: u8) -> Option<Self> {
        Self::from_text(&n.to_string())
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
}
