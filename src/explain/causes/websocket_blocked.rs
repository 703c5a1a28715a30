//! `websocket-blocked`: `101 Switching Protocols`, then no WebSocket frame gets through.
//!
//! What the wire shows: the upgrade's 101, then silence in one or both directions while the TCP
//! connection stays up (security software or a proxy on port 80 swallowing the frames). A
//! WebSocket torn down right after its 101 is `upgrade-failed` instead, and one that carried
//! frames before a heartbeat deadline passed is `ping-timeout` (issue #11 class 9: a 4 ms
//! client-closed WebSocket and a textbook ping timeout are not blocked). What the libraries
//! report: node socket.io `ping timeout` on the server, `connect_error: timeout` on a
//! WebSocket-only client (`socket.io-client@4.8.4/build/cjs/manager.js:178-187`); socket.io 0.9
//! nothing while the socket stays open. What to do: TLS (wss on 443), or polling only.

use crate::event::Dir;
use crate::explain::cause::{Cause, Initiator};
use crate::explain::causes::ping_timeout;
use crate::explain::certainty::Certainty;
use crate::explain::facts::{end, ms, Facts};
use crate::explain::finding::FindingEnd;
use crate::explain::implementation::Implementation;
use crate::session::{ConnRecord, Mark, UpgradeState};

pub(crate) fn rule(f: &Facts) -> Option<FindingEnd> {
    // Only when the session never got onto its WebSocket: a session that stayed on polling
    // ends for another reason, and the blocked WebSocket is a note.
    // socket.io 0.9 has no upgrade: its handshake is a plain GET and the client then tries
    // its transports in turn, so "polling first" says nothing there. What counts is whether the
    // session ever got a packet from the server outside the dead WebSocket.
    let legacy = f.peers.server == Implementation::SocketIo09;
    let worked_elsewhere = f.s.last_packet[1]
        .as_ref()
        .is_some_and(|p| f.conns.iter().any(|c| !c.websocket && c.conn == p.conn));
    if f.s.upgrade == UpgradeState::Upgraded
        || (legacy && worked_elsewhere)
        || (!legacy
            && f.s
                .transports
                .first()
                .is_some_and(|t| t.transport == "polling"))
    {
        return None;
    }
    // The client's frames got through once and the heartbeat deadline passed later: the path
    // carried WebSocket traffic, so a peer that stopped answering (ping-timeout) is the better
    // reading; that rule names it. A client whose WebSocket never carried a frame at all stays
    // here, with ping-timeout as the candidate: one side's capture cannot tell them apart.
    let client_spoke = f.conns.iter().any(|c| c.websocket && c.ws_messages[0] > 0);
    if client_spoke && ping_timeout::expiry(f).is_some() {
        return None;
    }
    let mut e = rule_blocked_any(f)?;
    if legacy {
        // socket.io 0.9 reports nothing while the WebSocket is silent but open (the server's
        // close timeout only starts on a disconnect), and its client only "connect_failed".
        e.reason = None;
        e.client_reason = None;
    }
    Some(e)
}

/// A WebSocket connection of the session that was torn down (FIN/RST) within 2 s of its `101`
/// without carrying a single frame: the upgrade failed rather than being silently swallowed.
pub(crate) fn torn_down<'a>(f: &Facts<'a>) -> Option<(&'a ConnRecord, Mark)> {
    f.conns
        .iter()
        .copied()
        .find_map(|c| conn_torn(c).map(|m| (c, m)))
}

/// The FIN/RST that ended a WebSocket connection within 2 s of its `101`, with no frame.
pub(crate) fn conn_torn(c: &ConnRecord) -> Option<Mark> {
    let switched = c.switched.as_ref()?;
    let end = [c.rst.clone(), c.fin.clone()]
        .into_iter()
        .flatten()
        .min_by_key(|m| m.frame)?;
    (c.ws_messages == [0, 0] && ms(switched.ts, end.ts) <= 2000.0).then_some(end)
}

pub(crate) fn rule_blocked_any(f: &Facts) -> Option<FindingEnd> {
    // A 101 for this session after which frames stopped in at least one direction, while the
    // connection stayed up (a connection torn down at once is a failed upgrade instead).
    // A close frame from the silent side got through, so nothing swallows its frames: it just
    // sent none before closing (a client that closes 4 ms after its open, issue #11 class 9).
    let closed_by = |c: &ConnRecord, i: usize| {
        let dir = if i == 0 { Dir::C2S } else { Dir::S2C };
        f.s.ws_closes
            .iter()
            .chain(&f.s.probe_closes)
            .any(|w| w.at.conn == c.conn && w.at.dir == Some(dir))
    };
    let c = f.conns.iter().find(|c| {
        c.websocket
            && ((c.ws_messages[0] == 0 && !closed_by(c, 0))
                || (c.ws_messages[1] == 0 && !closed_by(c, 1)))
            && conn_torn(c).is_none()
    })?;
    if f.s.upgrade == UpgradeState::Upgraded {
        return None;
    }
    let switched = c.switched.clone()?;
    let mut evidence = vec![switched.clone()];
    for (i, name) in [(0usize, "client"), (1, "server")] {
        let what = match &c.last_data[i] {
            Some(m) if m.frame > switched.frame || (i == 1 && m.frame == switched.frame) => {
                format!("last bytes from the {name}: {} (frame {})", m.what, m.frame)
            }
            _ => format!("no WebSocket frame from the {name} after the 101"),
        };
        // Cite the last bytes when they came after the 101, else the 101 itself.
        let mut m = c.last_data[i]
            .clone()
            .filter(|d| d.frame >= switched.frame)
            .unwrap_or_else(|| switched.clone());
        m.what = what.into();
        m.dir = Some(if i == 0 { Dir::C2S } else { Dir::S2C });
        evidence.push(m);
    }
    let end_at = c.closed.clone().unwrap_or_else(|| f.s.last.clone());
    let silence = ms(switched.ts, end_at.ts) / 1000.0;
    let mut e = end_at.clone();
    e.what = format!(
        "{:.1} s of silence after the 101, then {}",
        silence,
        if c.open_at_eof {
            "the capture ends".to_string()
        } else {
            "the connection closes".to_string()
        }
    )
    .into();
    evidence.push(e);
    let stayed_polling = f
        .conns
        .iter()
        .any(|k| !k.websocket && k.opened.frame > switched.frame);
    Some(end(
        f.end_mark(),
        Cause::WebsocketBlocked,
        Some(if stayed_polling { "transport close" } else { "ping timeout" }),
        Some(if stayed_polling { "transport close" } else { "connect_error: timeout" }),
        Initiator::Network,
        evidence,
        format!(
            "The server answered 101 Switching Protocols, then no WebSocket frame got through{}. Something between the client and the server (security software, a proxy on port 80) swallows WebSocket traffic after the upgrade.{}",
            if c.ws_messages == [0, 0] { " in either direction" } else { " in one direction" },
            if stayed_polling { " The session kept working over HTTP long-polling." } else { "" }
        ),
        Some("Serve over TLS (wss on 443) so middleboxes cannot inspect the frames, or keep clients on polling (`transports: [\"polling\"]`)."),
    )
    .with_certainty(
        Certainty::Likely,
        "frames stop after the 101 while TCP stays up; a capture on one side cannot show what swallowed them",
    )
    .with_candidate(
        Cause::PingTimeout,
        "a capture on the server host: if the frames reach it, a frozen peer rather than a middlebox is to blame",
    ))
}

#[cfg(test)]
mod tests {
    use crate::explain::fixture_tests::{s, verdict};

    #[test]
    fn swallowed_after_the_101_on_v4_and_on_0_9() {
        // Both legs of the relay are in these captures (socket.io 4.8.4 and 0.9.19): the frames
        // that entered it and never left settle the cause (explain/hops.rs).
        assert_eq!(
            verdict("v4-ws-blocked-wsonly.pcap", "t9D1KF"),
            (
                "websocket-blocked",
                s("ping timeout"),
                s("connect_error: timeout"),
                "certain"
            )
        );
        assert_eq!(
            verdict("v09-ws-blocked.pcap", "LPulLS"),
            ("websocket-blocked", None, None, "certain")
        );
    }
}
