//! `parse-error`: the receiver could not take a packet and closed the connection.
//!
//! What the wire shows: a packet sioscope cannot decode either and the other side's close soon
//! after; a close 1002/1003; or socket.io 4.8.4's "invalid state" (a namespace's DISCONNECT and
//! CONNECT in one tick). What the libraries report: socket.io 3/4 `forced close`
//! (`socket.io@4.8.4/dist/client.js:189-197`, `:210-219`); engine.io `parse error` for an invalid
//! Engine.IO packet (`engine.io@6.6.12/build/socket.js:141-142`). What to do: fix the sender's
//! encoding, or wait for a namespace's disconnect before connecting it again.

use crate::event::Dir;
use crate::explain::cause::Cause;
use crate::explain::causes::ping_timeout;
use crate::explain::certainty::Certainty;
use crate::explain::facts::{close_text, end, initiator_of, ms, side, Facts};
use crate::explain::finding::FindingEnd;
use crate::explain::implementation::Implementation;
use crate::session::Mark;

/// The client's DISCONNECT and CONNECT of one namespace within one tick (10 ms), and the
/// server's close of the whole connection within a second after: socket.io 4.8.4 decodes the
/// CONNECT while the namespace's socket is still being torn down, finds the packet in a state
/// it cannot be in and closes the connection (`socket.io@4.8.4/dist/client.js:210-219`,
/// `:148-152`; the server reports "forced close", its client "transport close").
fn invalid_state(f: &Facts) -> Option<(Mark, Mark, Mark)> {
    let s = f.s;
    for (i, k) in s.sockets.iter().enumerate() {
        let Some(d) = k.disconnect.as_ref().filter(|d| d.dir == Some(Dir::C2S)) else {
            continue;
        };
        let Some(c) = s
            .sockets
            .iter()
            .skip(i + 1)
            .find(|n| n.nsp == k.nsp)
            .and_then(|n| n.connect.clone())
        else {
            continue;
        };
        if ms(d.ts, c.ts) > 10.0 {
            continue;
        }
        let mut closes: Vec<Mark> = vec![];
        closes.extend(f.engine_close());
        closes.extend(s.ws_closes.iter().map(|w| w.at.clone()));
        closes.extend(f.transport_end.clone());
        let close = closes
            .into_iter()
            .filter(|m| m.dir == Some(Dir::S2C) && m.frame >= c.frame && ms(c.ts, m.ts) <= 1000.0)
            .min_by_key(|m| m.frame)?;
        return Some((d.clone(), c, close));
    }
    None
}

/// Over polling a server that gave up on a client's undecodable Engine.IO packet closes the
/// session, not the connection: its close packet `1` on the pending poll, or (no poll pending)
/// `400 {"code":1}` for the session's next request, within 2 s of the bad packet
/// (`engine.io@6.6.12/build/socket.js:141-142` closes with "parse error").
pub(crate) fn dropped_after(f: &Facts, bad: &Mark) -> Option<Mark> {
    if !bad.what.starts_with("eio-") || bad.dir != Some(Dir::C2S) {
        return None;
    }
    let soon = |m: &Mark| m.frame > bad.frame && ms(bad.ts, m.ts) <= 2000.0;
    let close = f
        .engine_close()
        .filter(|m| m.dir == Some(Dir::S2C) && soon(m));
    let refused =
        f.s.http_errors
            .iter()
            .find(|m| m.dir == Some(Dir::S2C) && m.what.contains("\"code\":1") && soon(m))
            .cloned();
    [close, refused]
        .into_iter()
        .flatten()
        .min_by_key(|m| m.frame)
}

/// A packet the receiver could not take, and the receiver closing the connection for it.
pub(crate) fn rule(f: &Facts) -> Option<FindingEnd> {
    if f.peers.server == Implementation::NodeSocketIo {
        if let Some((d, c, close)) = invalid_state(f) {
            let mut dm = d.clone();
            dm.what = "client DISCONNECT of a namespace".to_string().into();
            let mut cm = c.clone();
            cm.what = format!(
                "client CONNECT of the same namespace {:.1} ms later, in the same tick",
                ms(d.ts, c.ts)
            )
            .into();
            let mut em = close.clone();
            em.what = format!("server closes the whole connection: {}", em.what).into();
            return Some(
                end(
                    close.clone(),
                    Cause::ParseError,
                    Some("forced close"),
                    Some("transport close"),
                    initiator_of(close.dir),
                    vec![dm, cm, em],
                    "The client disconnected a namespace and connected it again in the same tick; the server got the CONNECT while that socket was still being torn down, took it as a packet in an impossible state and closed the whole Engine.IO connection, so every namespace of this Manager dropped with it.".to_string(),
                    Some("Wait for the namespace's disconnect to complete (next tick, or the `disconnect` event) before connecting it again."),
                )
                .with_certainty(
                    Certainty::Likely,
                    "the DISCONNECT, the CONNECT and the server's close follow each other on the wire; that the server closed for this reason is socket.io 4.8.4's behaviour, not a statement in the bytes",
                ),
            );
        }
    }
    // A packet sioscope could not decode either, followed (within 2 s) by the other side ending
    // the transport: the receiver gave up on it. Or an explicit protocol-error close code.
    let parse_anomaly =
        f.s.anomalies
            .iter()
            .find(|m| m.what.starts_with("eio-") || m.what.starts_with("sio-"));
    let coded = f.close_with(&[1002, 1003]).map(|c| {
        let mut m = c.at.clone();
        m.what = format!("{} sends {}", side(m.dir), close_text(c)).into();
        m
    });
    let after_bad = parse_anomaly.and_then(|a| {
        f.transport_end
            .clone()
            .filter(|t| {
                t.frame >= a.frame && t.dir.is_some() && t.dir != a.dir && ms(a.ts, t.ts) <= 2000.0
            })
            .or_else(|| dropped_after(f, a))
    });
    // An undecodable packet the receiver ignored, then a heartbeat deadline that passed: the
    // close answers the silence, not the packet (engine.io-protocol test suite traffic).
    if coded.is_none() && ping_timeout::expiry(f).is_some() {
        return None;
    }
    let close = coded.clone().or(after_bad)?;
    let mut evidence = vec![];
    if let Some(a) = parse_anomaly {
        let mut a = a.clone();
        a.what = format!(
            "{} sends a packet that cannot be decoded: {}",
            side(a.dir),
            a.what
        )
        .into();
        evidence.push(a);
    }
    let mut at = close.clone();
    if !at.what.contains("sends") {
        at.what = format!("{} ends the transport: {}", side(at.dir), at.what).into();
    }
    evidence.push(at);
    // socket.io 3/4 report a Socket.IO decoding failure as "forced close" (socket.io-parser
    // throws, `socket.io@4.8.4/dist/client.js:189-197`); an undecodable *Engine.IO* packet
    // never reaches Socket.IO: engine.io-parser turns it into an error packet and engine.io
    // closes with "parse error" (`engine.io-parser@5.2.3/build/cjs/decodePacket.js`,
    // `engine.io@6.6.12/build/socket.js:141-142`).
    let eio_level = parse_anomaly.is_some_and(|a| a.what.starts_with("eio-"));
    let reason = match (f.peers.server, f.s.eio) {
        (Implementation::NodeSocketIo, Some(4)) if !eio_level => "forced close",
        _ => "parse error",
    };
    Some(end(
        close.clone(),
        Cause::ParseError,
        Some(reason),
        Some("transport close"),
        initiator_of(close.dir),
        evidence,
        format!(
            "The {} sent a packet that does not decode (sioscope cannot decode it either), and the {} closed the connection right after. Fix the sender's encoding; a custom parser on one side only also looks like this.",
            side(parse_anomaly.and_then(|a| a.dir)),
            side(close.dir)
        ),
        None,
    )
    .with_certainty(
        if coded.is_some() { Certainty::Certain } else { Certainty::Likely },
        if coded.is_some() {
            "a protocol-error close code (1002/1003) is on the wire"
        } else {
            "the other side closed within 2 s of a packet sioscope cannot decode either; the capture does not say that packet was why"
        },
    )
    .with_candidate(Cause::TransportClose, "the closing side's own log (DEBUG=engine,socket.io*) names the reason"))
}

#[cfg(test)]
mod tests {
    use crate::explain::fixture_tests::{s, verdict};

    #[test]
    fn an_undecodable_engine_io_packet_is_engine_io_s_parse_error() {
        // an unknown Engine.IO packet type: the lab's raw client ("9hello") on a socket.io
        // server, and the official engine.io-protocol suite's invalid packet on a bare one
        for (pcap, sid) in [
            ("v4-eio-parse-error.pcap", "lelazJ"),
            ("suite-eio.pcapng", "ngERvH"),
            // over polling: the server's `1` on the pending poll, or a 400 code 1 after it
            ("v4-eio-parse-error-polling.pcap", "XfQt5X"),
        ] {
            assert_eq!(
                verdict(pcap, sid),
                (
                    "parse-error",
                    s("parse error"),
                    s("transport close"),
                    "likely"
                ),
                "{pcap}"
            );
        }
    }

    #[test]
    fn an_undecodable_engine_io_post_then_session_id_unknown_is_a_parse_error() {
        // the official suite's "closes the session upon invalid packet format" over polling
        assert_eq!(verdict("suite-eio.pcapng", "bmGRuL").0, "parse-error");
    }

    #[test]
    fn undecodable_packet_and_the_same_tick_namespace_race() {
        assert_eq!(
            verdict("v4-parse-error.pcap", "yfetk6"),
            (
                "parse-error",
                s("forced close"),
                s("transport close"),
                "likely"
            )
        );
        assert_eq!(
            verdict("v4-race-one-session.pcap", "et8L5h"),
            (
                "parse-error",
                s("forced close"),
                s("transport close"),
                "likely"
            )
        );
    }
}
