//! `deflate-error`: a permessage-deflate message the receiver could not inflate.
//!
//! What the wire shows: a close frame 1007 (invalid payload data) after a compressed message
//! (RSV1), or a message sioscope cannot inflate either. sioscope inflates the same bytes with the
//! negotiated parameters: if it succeeds the receiver's inflater is at fault (ws < 1.0.1 on
//! fragmented compressed messages), if not the bytes were corrupted on the path (zlib's words
//! quoted). What the libraries report: the failing side `transport error` with the zlib Error
//! (`ws@8.21.3/lib/permessage-deflate.js:528`, `ws/lib/receiver.js:624`); its peer `transport
//! close`, or `ping timeout` when TCP outlives its heartbeat deadline (ws 1.x). What to do:
//! upgrade ws / socket.io, find what rewrites frames, or `perMessageDeflate: false`.

use crate::event::Dir;
use crate::explain::cause::{Cause, Initiator};
use crate::explain::certainty::Certainty;
use crate::explain::facts::{close_text, end, initiator_of, ms, side, Facts};
use crate::explain::finding::FindingEnd;

pub(crate) fn rule(f: &Facts) -> Option<FindingEnd> {
    let s = f.s;
    let close = f.close_with(&[1007]);
    let own_failure = s.inflate_failures.first();
    if close.is_none() && own_failure.is_none() {
        return None;
    }
    // The failing message travelled towards the side that sent 1007.
    let closer = close.and_then(|c| c.at.dir);
    let msg_dir = match closer {
        Some(Dir::S2C) | None => 0,
        Some(Dir::C2S) => 1,
    };
    let failing = own_failure.or(s.big_messages[msg_dir].as_ref().filter(|m| m.compressed));
    let mut evidence = vec![];
    let mut story = String::new();
    if let Some(m) = failing {
        let mut at = m.at.clone();
        at.what = format!(
            "{} compressed message: {} bytes on the wire in {} frame{}{}",
            side(at.dir),
            m.wire_len,
            m.frames,
            if m.frames == 1 {
                ""
            } else {
                "s (RSV1 on the first, continuation frames after: one deflate stream)"
            },
            m.first_frame
                .map(|f| format!(", frames {f}–{}", at.frame))
                .unwrap_or_default()
        )
        .into();
        evidence.push(at);
        match &m.inflate_error {
            Some(e) => story.push_str(&format!(
                "sioscope could not inflate it either ({e}): the compressed bytes on the wire are corrupt. "
            )),
            None => story.push_str(&format!(
                "sioscope inflated the same message with the negotiated parameters: OK, {} bytes. The bytes on the wire are valid; the receiver's inflater failed{}. ",
                m.len,
                if m.frames > 1 { " on a fragmented compressed message (a known bug of old ws versions, fixed in ws 1.0.1 / socket.io 1.4)" } else { "" }
            )),
        }
    }
    if let Some(c) = close {
        let mut at = c.at.clone();
        at.what = format!(
            "{} sends {} (invalid payload data: it could not inflate the message)",
            side(at.dir),
            close_text(c)
        )
        .into();
        evidence.push(at);
    }
    // The peer of the failing side reports the 1007 close as "transport close" once its ws
    // emits `close`, which happens when the TCP connection ends (ws@8.21.3/lib/websocket.js:
    // 1180-1181 answers at once). When TCP stays open past the client's own heartbeat deadline
    // (pingInterval + pingTimeout), the client's heartbeat fires first: "ping timeout"
    // (socket.io-client 1.7.4 with ws 1.1 in v1-corrupt-deflate).
    let outlived_heartbeat = close.is_some_and(|c| {
        let window = s.ping_interval.unwrap_or(0) + s.ping_timeout.unwrap_or(0);
        f.last_conn
            .and_then(|k| k.fin.as_ref().or(k.rst.as_ref()))
            .is_some_and(|fin| window > 0 && ms(c.at.ts, fin.ts) >= window as f64)
    });
    let client_reason = if outlived_heartbeat {
        "ping timeout"
    } else {
        "transport close"
    };
    let corrupt = failing.is_some_and(|m| m.inflate_error.is_some());
    let receiver = if msg_dir == 0 { "server" } else { "client" };
    let mut explanation = format!(
        "The {receiver} failed to inflate a permessage-deflate message and closed the WebSocket with 1007. Engine.IO reports this only as \"transport error\"; the client then reconnects with a new session id, and state keyed by the old socket id is lost. "
    );
    explanation.push_str(&story);
    if let Some(c) = f.last_conn {
        if c.fin
            .as_ref()
            .zip(close)
            .is_some_and(|(fin, cl)| ms(cl.at.ts, fin.ts) > 1000.0)
        {
            explanation.push_str(&format!(
                "The TCP connection stayed open {:.1} s after the close frame; everything sent in that window was lost. ",
                c.fin.as_ref().zip(close).map(|(fin, cl)| ms(cl.at.ts, fin.ts) / 1000.0).unwrap_or(0.0)
            ));
        }
    }
    let fix = if corrupt {
        "Find what corrupts the compressed frames on the path (a proxy or security software rewriting WebSocket payloads); meanwhile `perMessageDeflate: false` on the server avoids compression altogether."
    } else {
        "Upgrade the server's ws / socket.io, or set `perMessageDeflate: false` on the server."
    };
    Some(end(
        close.map(|c| c.at.clone()).unwrap_or_else(|| f.end_mark()),
        Cause::DeflateError,
        Some("transport error"),
        Some(client_reason),
        close.map_or(Initiator::Unknown, |c| initiator_of(c.at.dir)),
        evidence,
        explanation,
        Some(fix),
    )
    .with_certainty(
        if close.is_some() { Certainty::Certain } else { Certainty::Likely },
        if close.is_some() {
            "close code 1007 is on the wire: the receiver's own statement that it could not use the message"
        } else {
            "sioscope could not inflate a message, but no close 1007 shows that the receiver failed too"
        },
    ))
}

#[cfg(test)]
mod tests {
    use crate::explain::fixture_tests::{s, verdict};

    #[test]
    fn close_1007_with_ws_8_and_ws_1_peers() {
        assert_eq!(
            verdict("v4-corrupt-deflate.pcap", "vQqGH2"),
            (
                "deflate-error",
                s("transport error"),
                s("transport close"),
                "certain"
            )
        );
        assert_eq!(
            verdict("v1-corrupt-deflate.pcap", "dNiMBB"),
            (
                "deflate-error",
                s("transport error"),
                s("ping timeout"),
                "certain"
            )
        );
    }
}
