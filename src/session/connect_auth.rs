//! `ConnectAuth`: a bounded digest of what a client sent in its Socket.IO CONNECT payload, the
//! evidence a reconnect carries about which client it is.
//!
//! socket.io-client sends its `auth` option in the CONNECT of every session of a Manager, the
//! object itself again on each reconnect, or what an `auth` function hands back
//! (`socket.io-client@4.8.4/build/cjs/socket.js:425-431`), with `pid` and `offset` put in front
//! of it when connection state recovery gave it a `pid` (`socket.js:440-445`). So, `pid` and
//! `offset` left out, a reconnect's payload is the same object as before, or (an `auth`
//! function, e.g. one that fetches a fresh token) an object of the same keys. The digest keeps
//! the key names (at most [`MAX_KEYS`], each at most [`MAX_KEY_LEN`] bytes) and a fingerprint
//! of the rest of the payload, never the values: tokens stay out of sioscope's memory and
//! output.

use serde::Serialize;
use serde_json::Value;

use crate::ws::FrameDigest;

/// Key names kept per payload.
pub const MAX_KEYS: usize = 16;
/// Bytes kept of each key name.
pub const MAX_KEY_LEN: usize = 64;

/// What a CONNECT carried, minus the recovery keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConnectAuth {
    /// The payload's top-level key names in wire order, `pid` and `offset` left out (empty for a
    /// CONNECT without payload or with a non-object one).
    pub keys: Vec<String>,
    /// More keys than [`MAX_KEYS`] were sent.
    pub more_keys: bool,
    /// FNV-1a 64 of the payload as JSON (wire key order) without `pid` and `offset`; the same
    /// for every CONNECT without payload.
    pub digest: u64,
}

impl ConnectAuth {
    /// The digest of a CONNECT's payload (`None`: no payload).
    pub fn of(data: Option<&Value>) -> ConnectAuth {
        let rest = match data {
            Some(Value::Object(m)) => {
                let kept: serde_json::Map<String, Value> = m
                    .iter()
                    .filter(|(k, _)| !matches!(k.as_str(), "pid" | "offset"))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                Value::Object(kept)
            }
            Some(other) => other.clone(),
            None => Value::Null,
        };
        let (keys, more_keys) = match &rest {
            Value::Object(m) => (
                m.keys()
                    .take(MAX_KEYS)
                    .map(|k| truncate(k, MAX_KEY_LEN).to_string())
                    .collect(),
                m.len() > MAX_KEYS,
            ),
            _ => (vec![], false),
        };
        let mut fp = FrameDigest::default();
        // An empty object is what a client without `auth` would send as much as no payload.
        let empty = matches!(&rest, Value::Object(m) if m.is_empty()) || rest.is_null();
        if !empty {
            fp.update(rest.to_string().as_bytes());
        }
        ConnectAuth {
            keys,
            more_keys,
            digest: fp.finish(),
        }
    }

    /// Whether `other` can be the CONNECT of the same socket.io-client Manager: the same key
    /// names (an `auth` object is sent again as it is; an `auth` function may change the values,
    /// not, in one app, which fields it sends).
    pub fn same_shape(&self, other: &ConnectAuth) -> bool {
        self.keys == other.keys && self.more_keys == other.more_keys
    }
}

/// The longest prefix of `s` of at most `max` bytes that ends on a character boundary.
fn truncate(s: &str, max: usize) -> &str {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.get(..end).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn recovery_keys_are_left_out_and_values_only_change_the_digest() {
        let first = ConnectAuth::of(Some(&json!({"token": "123"})));
        let reconnect = ConnectAuth::of(Some(&json!({"pid": "p", "offset": "o", "token": "123"})));
        assert_eq!(first, reconnect);
        assert_eq!(first.keys, vec!["token".to_string()]);
        let refreshed = ConnectAuth::of(Some(&json!({"token": "456"})));
        assert!(first.same_shape(&refreshed));
        assert_ne!(first.digest, refreshed.digest);
        let none = ConnectAuth::of(None);
        assert_eq!(none, ConnectAuth::of(Some(&json!({}))));
        assert_eq!(
            none,
            ConnectAuth::of(Some(&json!({"pid": "p", "offset": "o"})))
        );
        assert!(!none.same_shape(&first));
    }

    #[test]
    fn key_names_are_bounded() {
        let mut m = serde_json::Map::new();
        for i in 0..40 {
            m.insert(format!("{}{i}", "é".repeat(40)), json!(i));
        }
        let a = ConnectAuth::of(Some(&Value::Object(m)));
        assert_eq!(a.keys.len(), MAX_KEYS);
        assert!(a.more_keys);
        assert!(a.keys.iter().all(|k| k.len() <= MAX_KEY_LEN));
    }
}
