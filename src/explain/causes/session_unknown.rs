//! `session-unknown`: requests named a session id the server did not know.
//!
//! What the wire shows: an HTTP 400 `{"code":1,"message":"Session ID unknown"}` for a request
//! carrying a sid this capture saw opened (`engine.io@6.6.12/build/server.js:130-135`). Behind a
//! load balancer without sticky sessions, the polls of one session land on processes that never
//! issued it. The process that owns the session never hears from the client again and reports
//! `ping timeout`; the client reports `transport error` (`xhr poll error` / `xhr post error`,
//! `engine.io-client@6.6.8/build/cjs/transports/polling-xhr.js:50-64`). A 400 that comes after
//! the session's heartbeat deadline is the aftermath of a ping timeout instead (that rule), and
//! one after the client's side cut a pending poll of the session is the aftermath of that cut
//! (the cut-poll rule).
//! What to do: sticky sessions at the load balancer, or WebSocket only.

use crate::explain::cause::{Cause, Initiator};
use crate::explain::causes::{parse_error, ping_timeout};
use crate::explain::certainty::Certainty;
use crate::explain::facts::{end, Facts};
use crate::explain::finding::FindingEnd;

pub(crate) fn rule(f: &Facts) -> Option<FindingEnd> {
    let e =
        f.s.http_errors
            .iter()
            .find(|m| m.what.contains("\"code\":1") || m.what.contains("Session ID unknown"))?;
    // A 400 for a session that had already been closed on the wire (an Engine.IO close packet,
    // a close frame) answers a late request of a finished session: the close is the end.
    let closed_before = f.engine_close().iter().any(|m| m.frame < e.frame)
        || f.s.ws_closes.iter().any(|c| c.at.frame < e.frame);
    if closed_before {
        return None;
    }
    // A 400 after the client's side cut a pending poll of the session (a relay's FIN on the
    // server's leg, the client's RST): node engine.io ended the session on that cut, "poll
    // connection closed prematurely" (`engine.io@6.6.12/build/transports/polling.js:67-69`),
    // and the 400 answers a later request of the dead session (the cut-poll rule).
    if f.client_cut_request(e.frame).is_some() {
        return None;
    }
    // A 400 soon after the client's undecodable Engine.IO packet: the server dropped the
    // session over that packet (the parse-error rule), it did not lose it.
    if f.s
        .anomalies
        .iter()
        .any(|a| parse_error::dropped_after(f, a).is_some_and(|m| m.frame == e.frame))
    {
        return None;
    }
    // A 400 after a heartbeat deadline passed is the aftermath of a ping timeout: the server
    // had already dropped the session when the (frozen) client came back.
    if ping_timeout::expiry(f).is_some_and(|x| x.at.frame <= e.frame) {
        return None;
    }
    Some(end(
        e.clone(),
        Cause::SessionUnknown,
        // the server that owns the session never hears from the client again
        Some("ping timeout"),
        Some("transport error"),
        Initiator::Server,
        vec![e.clone()],
        "A request carried this session id to a server that did not know it (HTTP 400, code 1 \"Session ID unknown\"). Behind a load balancer without sticky sessions, the requests of one session land on different server processes.".to_string(),
        Some("Enable sticky sessions (cookie or IP hash) in the load balancer, or use `transports: [\"websocket\"]` on the client."),
    )
    .with_certainty(
        Certainty::Likely,
        "the 400 code 1 body is the server's own words, but the capture does not show whether another process owned the session or this one had already dropped it",
    )
    .with_candidate(
        Cause::PingTimeout,
        "the server's DEBUG=engine log: a \"ping timeout\" close of this sid before the 400 means it expired, not that it lived elsewhere",
    ))
}

#[cfg(test)]
mod tests {
    use crate::explain::fixture_tests::{s, verdict};

    #[test]
    fn code_1_without_sticky_sessions() {
        assert_eq!(
            verdict("v4-sticky-fail.pcap", "K-mj9f"),
            (
                "session-unknown",
                s("ping timeout"),
                s("transport error"),
                "likely"
            )
        );
        assert_eq!(
            verdict("v4-sticky-fail.pcap", "6Jsb8j"),
            (
                "session-unknown",
                s("ping timeout"),
                s("transport error"),
                "likely"
            )
        );
    }

    /// A 400 code 1 that answers the resent GET of a session whose pending poll the relay cut
    /// (on the server's leg: the client's side) is not a request that reached the wrong process.
    #[test]
    fn not_when_the_clients_side_cut_a_pending_poll_before_the_400() {
        let (cause, ..) = verdict("py-client-polling-relay-cut.pcap", "5pwlZo");
        assert_ne!(cause, "session-unknown");
    }
}
