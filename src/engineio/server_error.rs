//! The JSON body of an Engine.IO server's HTTP 400/403 answer, and the transport names of the
//! query string.
//!
//! When the reference server refuses a polling request or a WebSocket upgrade it answers with
//! a small JSON object naming the reason by code:
//!
//! ```text
//! HTTP/1.1 400 Bad Request
//! {"code":1,"message":"Session ID unknown"}
//! ```
//!
//! | code | message                      | typical cause                                   |
//! |------|------------------------------|-------------------------------------------------|
//! | 0    | Transport unknown            | `transport=` not enabled on the server          |
//! | 1    | Session ID unknown           | no sticky sessions, or the session timed out    |
//! | 2    | Bad handshake method         | a handshake that is not a GET                   |
//! | 3    | Bad request                  | a second concurrent poll, a bad upgrade         |
//! | 4    | Forbidden                    | `allowRequest` refused                          |
//! | 5    | Unsupported protocol version | `EIO=3` against a v4 server without `allowEIO3` |

use serde_json::Value;

/// The reason codes of the reference server's error answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ServerErrorCode {
    /// 0: Transport unknown.
    TransportUnknown,
    /// 1: Session ID unknown.
    SessionIdUnknown,
    /// 2: Bad handshake method.
    BadHandshakeMethod,
    /// 3: Bad request.
    BadRequest,
    /// 4: Forbidden.
    Forbidden,
    /// 5: Unsupported protocol version.
    UnsupportedProtocolVersion,
    /// Any other code.
    Other(u64),
}

impl ServerErrorCode {
    /// The code for a number.
    pub fn from_number(n: u64) -> Self {
        match n {
            0 => ServerErrorCode::TransportUnknown,
            1 => ServerErrorCode::SessionIdUnknown,
            2 => ServerErrorCode::BadHandshakeMethod,
            3 => ServerErrorCode::BadRequest,
            4 => ServerErrorCode::Forbidden,
            5 => ServerErrorCode::UnsupportedProtocolVersion,
            n => ServerErrorCode::Other(n),
        }
    }

    /// The message the reference server sends with this code.
    pub fn reference_message(self) -> Option<&'static str> {
        Some(match self {
            ServerErrorCode::TransportUnknown => "Transport unknown",
            ServerErrorCode::SessionIdUnknown => "Session ID unknown",
            ServerErrorCode::BadHandshakeMethod => "Bad handshake method",
            ServerErrorCode::BadRequest => "Bad request",
            ServerErrorCode::Forbidden => "Forbidden",
            ServerErrorCode::UnsupportedProtocolVersion => "Unsupported protocol version",
            ServerErrorCode::Other(_) => return None,
        })
    }
}

/// A parsed server error answer.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerError {
    /// The reason code.
    pub code: ServerErrorCode,
    /// The `message` field, if any.
    pub message: Option<String>,
    /// The whole JSON object (servers may add fields such as `context`).
    pub body: Value,
}

/// Parses an HTTP error body `{"code":N,"message":"…"}`; `None` when it is not one.
pub fn parse_server_error(body: &[u8]) -> Option<ServerError> {
    let value: Value = serde_json::from_slice(body).ok()?;
    let code = value.get("code")?.as_u64()?;
    let message = value
        .get("message")
        .and_then(Value::as_str)
        .map(str::to_string);
    Some(ServerError {
        code: ServerErrorCode::from_number(code),
        message,
        body: value,
    })
}

/// An Engine.IO transport, as named in the `transport=` query parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transport {
    /// `polling`: HTTP long-polling (XHR, or JSONP when the query has `j=`).
    Polling,
    /// `websocket`.
    WebSocket,
    /// `webtransport` (engine.io 6.5+).
    WebTransport,
    /// `flashsocket` (old engine.io).
    FlashSocket,
}

impl Transport {
    /// The transport for a query value.
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "polling" => Transport::Polling,
            "websocket" => Transport::WebSocket,
            "webtransport" => Transport::WebTransport,
            "flashsocket" => Transport::FlashSocket,
            _ => return None,
        })
    }

    /// Finds `transport=<name>` in a raw query string.
    pub fn from_query(query: &str) -> Option<Self> {
        query
            .trim_start_matches('?')
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .find(|(k, _)| *k == "transport")
            .and_then(|(_, v)| Transport::from_name(v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_error_bodies() {
        let e = parse_server_error(br#"{"code":1,"message":"Session ID unknown"}"#).unwrap();
        assert_eq!(e.code, ServerErrorCode::SessionIdUnknown);
        assert_eq!(e.message.as_deref(), e.code.reference_message());
        let e =
            parse_server_error(br#"{"code":5,"message":"Unsupported protocol version"}"#).unwrap();
        assert_eq!(e.code, ServerErrorCode::UnsupportedProtocolVersion);
        let e = parse_server_error(
            br#"{"code":3,"message":"Bad request","context":{"name":"TRANSPORT_MISMATCH"}}"#,
        )
        .unwrap();
        assert_eq!(e.code, ServerErrorCode::BadRequest);
        assert!(e.body.get("context").is_some());
        assert_eq!(
            parse_server_error(br#"{"code":42}"#).map(|e| e.code),
            Some(ServerErrorCode::Other(42))
        );
        assert!(parse_server_error(b"ok").is_none());
        assert!(parse_server_error(br#"{"message":"x"}"#).is_none());
    }

    #[test]
    fn transports() {
        assert_eq!(
            Transport::from_query("EIO=4&transport=polling&t=N8hyd6w"),
            Some(Transport::Polling)
        );
        assert_eq!(
            Transport::from_query("?EIO=4&transport=websocket&sid=x"),
            Some(Transport::WebSocket)
        );
        assert_eq!(Transport::from_query("EIO=4&transport=abc"), None);
        assert_eq!(Transport::from_query("EIO=4"), None);
    }
}
