//! Handshakes the server refused: no session ever opened, and that is the finding.
//!
//! engine.io answers a request it will not serve with an HTTP error and a JSON body naming the
//! reason by code (`engine.io@6.6.12/build/server.js:112-177` for codes 0–4, `:248-258` for
//! code 5; `:721-740` writes the body, 403 only for code 4). No session id is issued, so these
//! answers belong to no session; the client's library reports them only as `connect_error`
//! (`xhr poll error` on polling, `websocket error` on WebSocket), never with the server's words,
//! which is why quoting the body is the useful part.

use serde::Serialize;

use super::certainty::Certainty;
use crate::engineio::server_error::{parse_server_error, ServerErrorCode};
use crate::session::Mark;

/// Identical refused requests (same status and body), counted once.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Refusal {
    /// A stable name: `unsupported-protocol-version`, `transport-unknown`, `forbidden`,
    /// `bad-request`, `bad-handshake-method`, `session-id-unknown`, `http-error`.
    pub kind: &'static str,
    /// HTTP status line and body, as the server sent them.
    pub response: String,
    /// How many requests got this answer.
    pub count: usize,
    /// The first and last of them.
    pub first: Mark,
    /// The last one.
    pub last: Mark,
    /// The error body's code is the server's own statement, so a refusal is always certain.
    pub certainty: Certainty,
    /// What it means.
    pub explanation: String,
    /// What to change.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

/// What a server error code means and what to do about it.
fn meaning(code: Option<ServerErrorCode>) -> (&'static str, &'static str, Option<&'static str>) {
    match code {
        Some(ServerErrorCode::UnsupportedProtocolVersion) => (
            "unsupported-protocol-version",
            "The client speaks an Engine.IO revision the server does not accept (an EIO=3 client, socket.io-client 2.x, against a socket.io 3/4 server without `allowEIO3`), so no session was ever opened.",
            Some("Set `allowEIO3: true` on the server, or upgrade the client to socket.io-client 3 or later."),
        ),
        Some(ServerErrorCode::TransportUnknown) => (
            "transport-unknown",
            "The client asked for a transport the server does not enable (e.g. `transports: [\"websocket\"]` on the client against a server with `transports: [\"polling\"]`), so no session was ever opened.",
            Some("Align `transports` on the client and the server."),
        ),
        Some(ServerErrorCode::Forbidden) => (
            "forbidden",
            "The server's `allowRequest` (or a CORS / origin check in it) refused the handshake.",
            Some("Check the server's `allowRequest` function and its CORS settings for this origin."),
        ),
        Some(ServerErrorCode::BadRequest) => (
            "bad-request",
            "The server refused the request as malformed (transport or protocol mismatch, bad Origin, a failing `generateId` or middleware).",
            None,
        ),
        Some(ServerErrorCode::BadHandshakeMethod) => (
            "bad-handshake-method",
            "A handshake was attempted with a method other than GET.",
            None,
        ),
        Some(ServerErrorCode::SessionIdUnknown) => (
            "session-id-unknown",
            "Requests named a session id this capture never saw opened: it was issued by another server process (no sticky sessions), or before the capture began.",
            Some("Enable sticky sessions at the load balancer, or capture from the start of the session."),
        ),
        _ => (
            "http-error",
            "The server answered with an HTTP error outside any session.",
            None,
        ),
    }
}

/// python-engineio's refusals carry no `{code,message}`: its `_bad_request` writes the message
/// as a bare JSON string (`python-engineio@4.15.1/engineio/base_server.py:260-267`). A transport
/// it does not enable is answered `400 "Invalid transport"` (`async_server.py:245-250`): the same
/// refusal as engine.io's code 0.
fn python_code(response: &str) -> Option<ServerErrorCode> {
    response
        .ends_with(" \"Invalid transport\"")
        .then_some(ServerErrorCode::TransportUnknown)
}

/// Groups the tracker's session-less HTTP errors into refusals.
pub(crate) fn refusals(errors: &[Mark]) -> Vec<Refusal> {
    let mut out: Vec<Refusal> = vec![];
    for m in errors {
        if let Some(r) = out.iter_mut().find(|r| r.response == m.what) {
            r.count += 1;
            r.last = m.clone();
            continue;
        }
        let code = m
            .what
            .find('{')
            .and_then(|i| m.what.get(i..))
            .and_then(|body| parse_server_error(body.as_bytes()))
            .map(|e| e.code)
            .or_else(|| python_code(&m.what));
        let (kind, explanation, fix) = meaning(code);
        out.push(Refusal {
            kind,
            response: m.what.clone().into(),
            count: 1,
            first: m.clone(),
            last: m.clone(),
            certainty: Certainty::Certain,
            explanation: explanation.to_string(),
            fix: fix.map(str::to_string),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Timestamp;

    fn mark(frame: u64, what: &str) -> Mark {
        Mark {
            frame,
            ts: Timestamp(frame),
            conn: 1,
            dir: None,
            what: what.to_string().into(),
        }
    }

    #[test]
    fn code_5_refusals_are_one_finding_with_the_allow_eio3_fix() {
        let body = r#"HTTP 400 Bad Request {"code":5,"message":"Unsupported protocol version"}"#;
        let r = refusals(&[mark(4, body), mark(9, body)]);
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].kind, "unsupported-protocol-version");
        assert_eq!(r[0].count, 2);
        assert_eq!(r[0].last.frame, 9);
        assert!(r[0]
            .fix
            .as_deref()
            .unwrap_or("")
            .contains("allowEIO3: true"));
    }

    #[test]
    fn code_0_is_a_transport_mismatch_and_a_non_json_body_a_plain_http_error() {
        let r = refusals(&[
            mark(
                1,
                r#"HTTP 400 Bad Request {"code":0,"message":"Transport unknown"}"#,
            ),
            mark(2, "HTTP 502 Bad Gateway"),
        ]);
        assert_eq!(r[0].kind, "transport-unknown");
        assert_eq!(r[1].kind, "http-error");
    }

    #[test]
    fn python_engineios_invalid_transport_string_is_the_transport_mismatch_with_its_fix() {
        // the body python-engineio 4.15.1 wrote in py-server-transport-unknown.pcap
        let r = refusals(&[mark(6, r#"HTTP 400 Bad Request "Invalid transport""#)]);
        assert_eq!(r[0].kind, "transport-unknown");
        assert_eq!(
            r[0].fix.as_deref(),
            Some("Align `transports` on the client and the server.")
        );
        // any other bare string stays a plain HTTP error
        let r = refusals(&[mark(6, r#"HTTP 400 Bad Request "Not connected""#)]);
        assert_eq!(r[0].kind, "http-error");
    }
}
