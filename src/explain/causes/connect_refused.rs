//! `connect-refused`: the server refused the Socket.IO CONNECT, and no namespace was left.
//!
//! What the wire shows: the client's `40` CONNECT answered by CONNECT_ERROR `44{"message":m}`
//! (`socket.io@4.8.4/dist/namespace.js:226-237`: a middleware calling `next(new Error(m))`;
//! `socket.io@4.8.4/dist/client.js:83-93`: `Invalid namespace`). The refusal, in the server's
//! words `m`, is the cause (issue #11 class 3); a stalled upgrade or the engine close that
//! follows are its consequences. What each side reports: the server's socket never connected,
//! so it reports nothing but the message it sent; the node client's socket gets `connect_error`
//! with `m` and, with no socket of the Manager left, closes its engine itself: `forced close`
//! (`socket.io-client@4.8.4/build/cjs/manager.js:291-300`). What to do: send what the middleware
//! wants (auth token, origin), or fix the middleware.

use serde_json::Value;

use crate::explain::cause::{Cause, Initiator};
use crate::explain::causes::ping_timeout;
use crate::explain::certainty::Certainty;
use crate::explain::facts::{end, Facts};
use crate::explain::finding::FindingEnd;
use crate::explain::implementation::Implementation;
use crate::session::SocketRecord;

/// The server's message in a CONNECT_ERROR mark (`CONNECT_ERROR {"message":"…"}`), or its data.
pub(crate) fn refusal_message(k: &SocketRecord) -> Option<String> {
    let m = k.connected.as_ref().filter(|_| k.refused)?;
    let data = m.what.strip_prefix("CONNECT_ERROR")?.trim();
    let v: Value = serde_json::from_str(data).unwrap_or(Value::String(data.to_string()));
    Some(match &v {
        Value::Object(o) => o
            .get("message")
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| v.to_string()),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    })
}

/// Every namespace's latest socket was refused: the session never got a connected socket back.
pub(crate) fn rule(f: &Facts) -> Option<FindingEnd> {
    let mut latest: Vec<&SocketRecord> = vec![];
    for k in &f.s.sockets {
        match latest.iter_mut().find(|l| l.nsp == k.nsp) {
            Some(l) => *l = k,
            None => latest.push(k),
        }
    }
    if latest.is_empty() || !latest.iter().all(|k| k.refused) {
        return None;
    }
    // The session went on until a heartbeat deadline passed: the refusal did not end it (a
    // client that kept its engine open, as the protocol suite's does); ping-timeout names the
    // end and the refusal becomes a note.
    if ping_timeout::expiry(f).is_some() {
        return None;
    }
    let first = latest.iter().find_map(|k| k.connected.as_ref())?;
    let message = latest.iter().find_map(|k| refusal_message(k));
    let mut evidence = vec![];
    for k in &latest {
        if let Some(m) = &k.connected {
            let mut m = m.clone();
            m.what = format!("server refuses CONNECT {}: {}", k.nsp, m.what).into();
            evidence.push(m);
        }
    }
    let client_reason = match f.peers.client {
        Implementation::NodeSocketIo => Some("forced close"),
        _ => None,
    };
    let words = message
        .as_deref()
        .map(|m| format!(" with {m:?}"))
        .unwrap_or_default();
    Some(
        end(
            first.clone(),
            Cause::ConnectRefused,
            message.as_deref(),
            client_reason,
            Initiator::Server,
            evidence,
            format!(
                "The server refused the Socket.IO CONNECT{words} (a namespace middleware calling `next(new Error(…))`, or an unknown namespace). The client's `connect_error` handler gets that message; with no namespace left, the client closed the Engine.IO connection itself. Whatever the upgrade or the transport did afterwards follows from the refusal."
            ),
            Some("Send what the server's middleware checks (the auth token in `auth`, the origin), or fix the middleware."),
        )
        .with_certainty(
            Certainty::Certain,
            "the server's CONNECT_ERROR packet is on the wire, with its message",
        ),
    )
}

#[cfg(test)]
mod tests {
    use crate::explain::fixture_tests::{s, verdict};

    #[test]
    fn the_refusal_in_the_server_words_is_the_cause() {
        assert_eq!(
            verdict("v4-auth-refused.pcap", "A34gXr"),
            (
                "connect-refused",
                s("not authorized"),
                s("forced close"),
                "certain"
            )
        );
        // Another shape: polling only, refused twice (two sessions) before the good token.
        for sid in ["jwCAHY", "UWbFCC"] {
            assert_eq!(
                verdict("v4-auth-refused-polling.pcap", sid),
                (
                    "connect-refused",
                    s("not authorized"),
                    s("forced close"),
                    "certain"
                )
            );
        }
    }
}
