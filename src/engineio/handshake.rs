//! The Engine.IO open packet's handshake data.
//!
//! On the wire the server's first packet is `0` followed by a JSON object, for example (v4):
//!
//! ```text
//! 0{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}
//! ```
//!
//! v3 has no `maxPayload`; a WebSocket-only v3 session may even omit `upgrades`; v2 servers
//! may omit `pingInterval`. The values set the heartbeat deadlines that sioscope's ping-timeout
//! verdicts use, so they are kept as the server sent them: known keys with an unexpected type
//! and unknown keys stay in [`Handshake::extra`], in their wire order. Only `sid` is required.

use serde_json::{Map, Value};

use super::error::{excerpt_str, EioError};

/// The handshake data of an open packet.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Handshake {
    /// The session id (`sid`), sent back by the client in every later request's query.
    pub sid: String,
    /// Transports the session may upgrade to (`upgrades`), absent in some v3 WebSocket opens.
    pub upgrades: Option<Vec<String>>,
    /// `pingInterval` in milliseconds.
    pub ping_interval: Option<u64>,
    /// `pingTimeout` in milliseconds.
    pub ping_timeout: Option<u64>,
    /// `maxPayload` in bytes (v4 only).
    pub max_payload: Option<u64>,
    /// Every other key, and known keys whose value had an unexpected type, in wire order.
    pub extra: Map<String, Value>,
}

impl Handshake {
    /// Parses the JSON text after the `0` type digit. `offset` is where that text starts in the
    /// decoder's input and is only used for error positions.
    pub fn parse(json: &str, offset: usize) -> Result<Self, EioError> {
        let bad = |reason: String| EioError::BadOpenJson {
            offset,
            reason,
            found: excerpt_str(json),
        };
        let value: Value = serde_json::from_str(json).map_err(|e| bad(e.to_string()))?;
        // engine.io-protocol: "the server MUST respond with an open packet with the following
        // JSON-encoded payload" — an object whose `sid` is a string.
        let Value::Object(map) = value else {
            return Err(bad("not a JSON object".into()));
        };
        let mut hs = Handshake::default();
        let mut sid = None;
        for (key, value) in map {
            match (key.as_str(), value) {
                ("sid", Value::String(s)) if sid.is_none() => sid = Some(s),
                ("upgrades", Value::Array(items))
                    if hs.upgrades.is_none() && items.iter().all(Value::is_string) =>
                {
                    hs.upgrades = Some(
                        items
                            .into_iter()
                            .filter_map(|v| match v {
                                Value::String(s) => Some(s),
                                _ => None,
                            })
                            .collect(),
                    );
                }
                ("pingInterval", Value::Number(n)) if n.is_u64() && hs.ping_interval.is_none() => {
                    hs.ping_interval = n.as_u64();
                }
                ("pingTimeout", Value::Number(n)) if n.is_u64() && hs.ping_timeout.is_none() => {
                    hs.ping_timeout = n.as_u64();
                }
                ("maxPayload", Value::Number(n)) if n.is_u64() && hs.max_payload.is_none() => {
                    hs.max_payload = n.as_u64();
                }
                (_, value) => {
                    hs.extra.insert(key, value);
                }
            }
        }
        hs.sid = sid.ok_or_else(|| bad("no string \"sid\"".into()))?;
        Ok(hs)
    }

    /// Serialises the handshake as the JSON text of an open packet (known keys first, in the
    /// order the reference server uses, then [`Handshake::extra`]).
    pub fn to_json(&self) -> String {
        let mut map = Map::new();
        map.insert("sid".into(), Value::String(self.sid.clone()));
        if let Some(upgrades) = &self.upgrades {
            map.insert(
                "upgrades".into(),
                Value::Array(upgrades.iter().cloned().map(Value::String).collect()),
            );
        }
        if let Some(v) = self.ping_interval {
            map.insert("pingInterval".into(), Value::from(v));
        }
        if let Some(v) = self.ping_timeout {
            map.insert("pingTimeout".into(), Value::from(v));
        }
        if let Some(v) = self.max_payload {
            map.insert("maxPayload".into(), Value::from(v));
        }
        for (k, v) in &self.extra {
            if !map.contains_key(k) {
                map.insert(k.clone(), v.clone());
            }
        }
        Value::Object(map).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_v4_example() {
        // engine.io-protocol (v4) handshake example.
        let json = r#"{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#;
        let hs = Handshake::parse(json, 1).unwrap();
        assert_eq!(hs.sid, "lv_VI97HAXpY6yYWAAAC");
        assert_eq!(hs.upgrades, Some(vec!["websocket".to_string()]));
        assert_eq!(hs.ping_interval, Some(25000));
        assert_eq!(hs.ping_timeout, Some(20000));
        assert_eq!(hs.max_payload, Some(1_000_000));
        assert!(hs.extra.is_empty());
        assert_eq!(hs.to_json(), json);
    }

    #[test]
    fn spec_v3_websocket_only_example_has_no_upgrades() {
        let json = r#"{"sid":"lv_VI97HAXpY6yYWAAAC","pingInterval":25000,"pingTimeout":5000}"#;
        let hs = Handshake::parse(json, 0).unwrap();
        assert_eq!(hs.upgrades, None);
        assert_eq!(hs.max_payload, None);
        assert_eq!(hs.to_json(), json);
    }

    #[test]
    fn unknown_and_mistyped_keys_are_kept() {
        let json = r#"{"sid":"x","pingInterval":"25000","cookie":false,"pingTimeout":-1}"#;
        let hs = Handshake::parse(json, 0).unwrap();
        assert_eq!(hs.ping_interval, None);
        assert_eq!(hs.ping_timeout, None);
        assert_eq!(
            serde_json::to_string(&hs.extra).unwrap(),
            r#"{"pingInterval":"25000","cookie":false,"pingTimeout":-1}"#
        );
        assert_eq!(
            hs.to_json(),
            r#"{"sid":"x","pingInterval":"25000","cookie":false,"pingTimeout":-1}"#
        );
    }

    #[test]
    fn errors() {
        assert!(matches!(
            Handshake::parse("{", 1),
            Err(EioError::BadOpenJson { offset: 1, .. })
        ));
        assert!(matches!(
            Handshake::parse("[1]", 1),
            Err(EioError::BadOpenJson { ref reason, .. }) if reason == "not a JSON object"
        ));
        assert!(matches!(
            Handshake::parse(r#"{"sid":5}"#, 1),
            Err(EioError::BadOpenJson { ref reason, .. }) if reason.contains("sid")
        ));
        assert!(Handshake::parse("{}", 0).is_err());
    }
}
