//! `message-too-large`: a message over the server's `maxHttpBufferSize`.
//!
//! What the wire shows: a close frame 1009 (message too big) over WebSocket, or HTTP 413 on a
//! polling POST. What the libraries report: over WebSocket the server `transport error`
//! (`RangeError: Max payload size exceeded`, `ws@8.21.3/lib/receiver.js:444-447`) and the client
//! `transport close`; over polling the server answers 413 and keeps the session
//! (`engine.io@6.6.12/build/transports/polling.js:121-126`), the client reports `transport error`
//! (`xhr post error`) and the server `transport close` when the client then closes. What to do:
//! raise `maxHttpBufferSize`, or send large data in chunks.

use crate::explain::cause::{Cause, Initiator};
use crate::explain::certainty::Certainty;
use crate::explain::facts::{close_text, end, side, Facts};
use crate::explain::finding::FindingEnd;

pub(crate) fn rule(f: &Facts) -> Option<FindingEnd> {
    let s = f.s;
    let close = f.close_with(&[1009]);
    let http413 = s
        .http_errors
        .iter()
        .find(|m| m.what.starts_with("HTTP 413"));
    if close.is_none() && http413.is_none() {
        return None;
    }
    let mut evidence = vec![];
    let big = s.big_messages[0].as_ref().or(s.big_messages[1].as_ref());
    if let Some(m) = big {
        let mut at = m.at.clone();
        at.what = format!(
            "{} message of {} bytes",
            side(at.dir),
            m.len.max(m.wire_len)
        )
        .into();
        evidence.push(at);
    }
    let limit = s
        .max_payload
        .map(|p| format!(" (the open packet's maxPayload is {p} bytes)"))
        .unwrap_or_default();
    if let Some(c) = close {
        let mut at = c.at.clone();
        at.what = format!(
            "{} sends {} (message too big){limit}",
            side(at.dir),
            close_text(c)
        )
        .into();
        evidence.push(at);
    }
    if let Some(h) = http413 {
        let mut at = h.clone();
        at.what = format!("{}{limit}", h.what).into();
        evidence.push(at);
    }
    let largest = s.largest[0].max(s.largest[1]);
    Some(end(
        close.map(|c| c.at.clone()).or_else(|| http413.cloned()).unwrap_or_else(|| f.end_mark()),
        Cause::MessageTooLarge,
        // ws: the receiver errors out (1009); polling: the client closes after the 413
        Some(if close.is_some() { "transport error" } else { "transport close" }),
        // polling: engine.io-client reports the 413 as "transport error" (xhr post error,
        // engine.io-client@6.6.8/build/cjs/transports/polling-xhr.js:50-51)
        Some(if close.is_some() { "transport close" } else { "transport error" }),
        Initiator::Server,
        evidence,
        format!(
            "A message of {largest} bytes exceeded the server's limit{limit}, so the server closed the transport. The client reconnects with a new session id; the message is lost."
        ),
        Some("Raise `maxHttpBufferSize` on the server, or send large data in chunks (or over HTTP)."),
    )
    .with_certainty(
        Certainty::Certain,
        if close.is_some() {
            "close code 1009 (message too big) is on the wire"
        } else {
            "the server answered HTTP 413 (payload too large)"
        },
    ))
}

#[cfg(test)]
mod tests {
    use crate::explain::fixture_tests::{s, verdict};

    #[test]
    fn close_1009_over_websocket_and_413_over_polling() {
        assert_eq!(
            verdict("v4-too-large.pcap", "LFc2PW"),
            (
                "message-too-large",
                s("transport error"),
                s("transport close"),
                "certain"
            )
        );
        assert_eq!(
            verdict("v4-too-large.pcap", "Hwt3RH"),
            (
                "message-too-large",
                s("transport close"),
                s("transport error"),
                "certain"
            )
        );
    }
}
