//! Legacy socket.io 0.9 transport plumbing: the handshake answer, the URL shape and the
//! polling body framing.
//!
//! ```text
//! GET /socket.io/1/?t=1400000000000        → 4d4f185e96a7b:15:10:websocket,xhr-polling
//! GET /socket.io/1/websocket/4d4f185e96a7b   (the WebSocket of that session)
//! \u{fffd}3\u{fffd}2::\u{fffd}6\u{fffd}3:::😀  (two messages in one polling body)
//! ```

use std::ops::Range;

use super::message::{decode_message, encode_message, LegacyMessage};
use crate::socketio::error::{excerpt, SioError};

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
    use super::super::message::{LegacyKind, LegacyPayload};
    use super::*;
    use serde_json::json;

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
