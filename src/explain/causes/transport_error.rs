//! `transport-error`: engine.io refused a polling request of a live session with an empty
//! `400` and closed the session itself.
//!
//! What the wire shows: a `400 Bad Request` with no body for a request carrying the session's
//! `sid`, and the server's Engine.IO close `1` on the session's pending poll at the same moment.
//! engine.io answers this way to a second GET while a poll is pending ("request overlap":
//! `engine.io@6.6.12/build/transports/polling.js:57-62`), to a second POST while one is being
//! read (`polling.js:92-95`) and to an invalid body (`polling.js:99-101`); each calls
//! `onError`, and the socket closes with "transport error" (`engine.io@6.6.12/build/socket.js:
//! 156-158`). Its handshake and session errors carry a JSON body (`{"code":…}`), so an empty
//! `400` is the transport's. The close packet reaches the client on its pending poll: a node
//! client reads it as the server's close (`engine.io-client@6.6.8/build/cjs/transports/
//! polling.js:89-91`, then `socket.js:233`) and reports "transport close" (said only when the
//! client is identified from evidence: engine.io-client's `node-XMLHttpRequest` User-Agent);
//! what another client reports is not on the wire. What to do: make the
//! client send one poll (and one POST) at a time: a custom transport or a proxy that retries
//! requests causes this.

use crate::event::Dir;
use crate::explain::cause::{Cause, Initiator};
use crate::explain::certainty::Certainty;
use crate::explain::facts::{end, ms, Facts};
use crate::explain::finding::FindingEnd;
use crate::explain::implementation::Implementation;

/// How far apart the empty `400` and the server's close may be: both are written in the same
/// tick of the server.
const SAME_TICK_MS: f64 = 50.0;

/// The session ended on engine.io's own polling-transport error.
pub(crate) fn rule(f: &Facts) -> Option<FindingEnd> {
    if f.peers.server != Implementation::NodeSocketIo {
        return None;
    }
    let refused =
        f.s.http_errors
            .iter()
            .find(|m| m.what.trim_end() == "HTTP 400 Bad Request")?;
    let close = f
        .engine_close()
        .filter(|c| c.dir == Some(Dir::S2C) && ms(refused.ts, c.ts).abs() <= SAME_TICK_MS)?;
    let mut first = refused.clone();
    first.what = format!("server refuses a polling request: {}", refused.what).into();
    let mut then = close.clone();
    then.what = "server closes the session on its pending poll (Engine.IO `1`)".into();
    let mut evidence = vec![first, then];
    evidence.sort_by_key(|m| m.frame);
    let at = if close.frame < refused.frame {
        close.clone()
    } else {
        refused.clone()
    };
    Some(
        end(
            at,
            Cause::TransportError,
            Some("transport error"),
            // only for a client identified from evidence, not assumed (see the module doc)
            (f.peers.client == Implementation::NodeSocketIo
                && f.s.eio == Some(4)
                && f.peers.client_by.starts_with("from "))
            .then_some("transport close"),
            Initiator::Server,
            evidence,
            "engine.io refused a polling request of this live session with an empty 400 (a second GET while a poll was pending, a second POST while one was being read, or an invalid body) and closed the session with \"transport error\". The client's own report is not on the wire.".into(),
            Some("Send one poll and one POST at a time per session; look for a custom transport or a proxy that retries requests."),
        )
        .with_certainty(
            Certainty::Likely,
            "an empty 400 together with the server's close is how engine.io's polling transport fails; which of its three checks fired is not on the wire",
        ),
    )
}

#[cfg(test)]
mod tests {
    use crate::explain::fixture_tests::{s, verdict};

    #[test]
    fn duplicate_poll_refused_with_empty_400_is_the_servers_transport_error() {
        // The official suite's "closes the session upon duplicate poll requests".
        assert_eq!(
            verdict("suite-eio.pcapng", "rcS46t"),
            ("transport-error", s("transport error"), None, "likely")
        );
        // A lab capture of another shape: a real socket.io-client 4.8.4 polling, a hand-written
        // duplicate GET on its sid; the real client reads the server's `1` on its pending poll.
        assert_eq!(
            verdict("v4-duplicate-poll.pcap", "5ozh8T"),
            (
                "transport-error",
                s("transport error"),
                s("transport close"),
                "likely"
            )
        );
    }
}
