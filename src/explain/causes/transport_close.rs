//! `transport-close` / `transport-error`: the TCP connection under the session ended (FIN or
//! RST) with no Socket.IO or Engine.IO close before it.
//!
//! What the wire shows: the last connection of the session ends by FIN or RST, with no `41`,
//! no close packet `1` and no close frame. Over WebSocket both node sides report `transport
//! close` (a reset too: ws reports 1006, `ws@8.21.3/lib/websocket.js:1397-1405`); over polling a
//! request cut before its response is `transport error` on both sides. Who sent the FIN/RST is
//! on the wire; why (process exit, proxy idle timeout, a middlebox) is not, so this is `likely`
//! with candidates. When the server's process was gone (its port refused the next connection),
//! it reported nothing, and the end is named in the client's words (`transport-error` for a
//! python-socketio client on WebSocket). What to do: look at the side that closed (its process,
//! its proxy).

use crate::explain::cause::Cause;
use crate::explain::certainty::Certainty;
use crate::explain::facts::{end, initiator_of, ms, side, Facts};
use crate::explain::finding::FindingEnd;
use crate::explain::implementation::Implementation;

pub(crate) fn rule(f: &Facts) -> Option<FindingEnd> {
    let t = f.transport_end.clone()?;
    let c = f.last_conn?;
    let rst = c.rst.as_ref().is_some_and(|r| r.frame == t.frame);
    let mut m = t.clone();
    m.what = format!(
        "{} sends {} without any Socket.IO/Engine.IO close",
        side(t.dir),
        if rst { "TCP RST" } else { "TCP FIN" }
    )
    .into();
    let idle = c
        .last_data
        .iter()
        .flatten()
        .filter(|d| d.frame < t.frame)
        .map(|d| d.ts)
        .max();
    let mut evidence = vec![m];
    let mut extra = String::new();
    if let Some(idle_since) = idle {
        let gap = ms(idle_since, t.ts) / 1000.0;
        if gap > 5.0 {
            extra = format!(" The connection was idle for {gap:.1} s before it closed: an idle timeout in a proxy or load balancer in between would look like this.");
        }
    }
    if let Some(last) = c
        .last_data
        .iter()
        .flatten()
        .filter(|d| d.frame < t.frame)
        .max_by_key(|d| d.frame)
    {
        let mut l = last.clone();
        l.what = format!("last data before the end: {}", l.what).into();
        evidence.insert(0, l);
    }
    // Over WebSocket, ws turns a reset into a plain close (1006): both node sides report
    // "transport close" (ws@8.21.3/lib/websocket.js:1397-1405); python-engineio's client reports
    // the broken socket as "transport error" (python-engineio@4.15.1/engineio/base_client.py:40).
    // Over polling, a request left without its response is an error on both sides
    // (engine.io@6.6.12/build/transports/polling.js:67-69 "poll connection closed prematurely";
    // engine.io-client@6.6.8/build/cjs/transports/polling-xhr.js:50-51 "xhr poll error").
    // Any polling connection of the session counts: the pending GET and the last POST travel
    // on different connections (python-engineio, node clients without keep-alive).
    let pending = !c.websocket && f.cut_request(u64::MAX).is_some();
    let (cause, reason, client_reason) = if c.websocket {
        // python-engineio's client reports any end of its read loop while connected as
        // "transport error", a FIN as much as a reset (`engineio/async_client.py:641-643`).
        let client = match f.peers.client {
            Implementation::PythonSocketio => "transport error",
            _ => "transport close",
        };
        (Cause::TransportClose, "transport close", client)
    } else if pending {
        (Cause::TransportError, "transport error", "transport error")
    } else if f.refused_after.is_some() {
        // No poll was pending, but the client's next request could not connect: its transport
        // fails on that request, "xhr poll error" → "transport error"
        // (engine.io-client@6.6.8/build/cjs/transports/polling-xhr.js:64, socket.js:638), and
        // python-engineio's polling loop ends the same way (`async_client.py:586-588`).
        (Cause::TransportError, "transport error", "transport error")
    } else {
        (Cause::TransportClose, "transport close", "transport close")
    };
    if pending {
        extra.push_str(" A polling request was still waiting for its response when the connection ended, so both sides report it as an error.");
    }
    // The server's side closed without a goodbye and then its port refused a new connection:
    // nothing listened any more, so the server's process was gone and reported nothing (a
    // process that shuts down through `io.close()` sends its close first: the engine-close rule).
    let mut reason = Some(reason);
    // Over polling a FIN from the client may end one request only (`Connection: close`): what
    // matters is that the server's port refused the next one.
    if t.dir == Some(crate::event::Dir::S2C) || !c.websocket {
        if let Some(r) = &f.refused_after {
            evidence.push(r.clone());
            reason = None;
            extra.push_str(" Right after, the server's port refused a new connection: the server process was gone (killed or crashed), so the server reported nothing.");
        }
    }
    // A server that reported nothing leaves the client's words to name the end: python-engineio's
    // client reports a WebSocket whose server went away as "transport error"
    // (`engineio/async_client.py:641-643`), as the truth of `py-client-ws-server-killed` records.
    let cause = if reason.is_none() && client_reason == "transport error" {
        Cause::TransportError
    } else {
        cause
    };
    let found = end(
        t.clone(),
        cause,
        reason,
        Some(client_reason),
        initiator_of(t.dir),
        evidence,
        format!(
            "The TCP connection was {} by the {} with no protocol-level goodbye: the {} process died or closed its socket, or something in between cut the connection.{extra}",
            if rst { "reset" } else { "closed" },
            side(t.dir),
            side(t.dir)
        ),
        None,
    )
    .with_certainty(
        Certainty::Likely,
        "who closed the TCP connection is on the wire; why (process exit, a proxy timeout, a network cut) is not",
    )
    .with_candidate(
        Cause::ServerShutdown,
        "a capture on the other side of any proxy, or the peer's log, shows whether its process exited",
    );
    // The client's side ended the connection: a client library whose connection something in
    // between cut reports these words; a client whose process exited (killed, crashed) reports
    // nothing, and the wire at the server looks the same (`v4-polling-relay-client-killed`: the
    // killed client's truth has no words). The words stand, with their condition.
    Some(if t.dir == Some(crate::event::Dir::C2S) {
        found.with_client_reason_if(
            "if its process was still running (a middlebox cut the connection)",
        )
    } else {
        found
    })
}

#[cfg(test)]
mod tests {
    use crate::explain::fixture_tests::{s, verdict};

    #[test]
    fn websocket_rst_is_transport_close_and_a_cut_poll_transport_error() {
        assert_eq!(
            verdict("rst-v4-ws.pcap", "U9QGUk"),
            (
                "transport-close",
                s("transport close"),
                s("transport close"),
                "likely"
            )
        );
        assert_eq!(
            verdict("v4-many-clients-server-killed.pcap", "GNZxH1"),
            (
                "transport-error",
                // SIGKILLed: the server reported nothing, and its port refused the reconnects
                None,
                s("transport error"),
                "likely"
            )
        );
    }

    /// No poll was pending when the server was SIGKILLed; the client's next request was refused
    /// (nothing listened): its transport failed on it, "transport error", and the dead server
    /// reported nothing (py-client-server-killed-polling; the holdout's node client too).
    #[test]
    fn a_refused_next_poll_is_a_transport_error_and_a_dead_server_says_nothing() {
        assert_eq!(
            verdict("py-client-server-killed-polling.pcap", "ZctwNy"),
            ("transport-error", None, s("transport error"), "likely")
        );
    }

    /// A node server SIGKILLed under an upgraded python-socketio client: FIN, no close frame,
    /// refused SYNs. The server said nothing; the end is named in python's words.
    #[test]
    fn a_dead_server_under_a_python_websocket_client_is_its_transport_error() {
        for (pcap, sid) in [
            ("py-client-ws-server-killed.pcap", "NvlaRE"),
            ("py-client-ws-server-killed-idle.pcap", "xk_T8P"),
        ] {
            assert_eq!(
                verdict(pcap, sid),
                ("transport-error", None, s("transport error"), "likely"),
                "{pcap}"
            );
        }
        // node's client says "transport close" for the same kill (`v4-killed-restarted-ws`)
        assert_eq!(
            verdict("v4-killed-restarted-ws.pcap", "ivqsgW"),
            ("transport-close", None, s("transport close"), "likely")
        );
    }

    /// A client killed under a pending poll (through a relay, node client, socket.io 4 and 2):
    /// its FIN reaches the server like a middlebox's cut, so its words are stated with their
    /// condition; the truth of both captures has none (a killed process reports nothing). A
    /// server-side end keeps unconditional words.
    #[test]
    fn a_client_side_cut_states_the_clients_words_only_if_it_was_still_running() {
        use crate::explain::fixture_tests::{explained, session};
        for (pcap, sid) in [
            ("v4-polling-relay-client-killed.pcap", "umRirR"),
            ("v2-polling-relay-client-killed.pcap", "ooiZyJ"),
        ] {
            let x = explained(pcap);
            let e = &session(&x, sid).end;
            assert_eq!(
                e.client_reason.as_deref(),
                Some("transport error"),
                "{pcap}"
            );
            assert_eq!(
                e.client_reason_if.as_deref(),
                Some("if its process was still running (a middlebox cut the connection)"),
                "{pcap}"
            );
        }
        let x = explained("v4-many-clients-server-killed.pcap");
        assert_eq!(session(&x, "GNZxH1").end.client_reason_if, None);
    }
}
