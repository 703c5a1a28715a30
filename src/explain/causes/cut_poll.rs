//! `transport-error` (a cut long-poll): the connection carrying a pending polling request was
//! closed or reset, and the client's Engine.IO close that follows is a consequence, not a leave.
//!
//! What the wire shows: a polling request of the session (typically the long-poll GET) waiting
//! for its response when its TCP connection ends by FIN or RST (a relay, proxy or middlebox
//! cutting it), then the client's close packet `1` in a POST, which the server answers `400
//! {"code":1,"message":"Session ID unknown"}`: the session was already gone when the close
//! arrived. What each side reports: node engine.io takes the closed pending request as an
//! error, "poll connection closed prematurely" (`engine.io@6.6.12/build/transports/polling.js:
//! 67-69`, `engine.io@3.6.2/lib/transports/polling.js:96-98`), and closes the session with
//! "transport error"; the client's request fails ("xhr poll error",
//! `engine.io-client@6.6.8/build/cjs/transports/polling-xhr.js:64`; `engine.io-client@3.5.6/
//! lib/transports/polling-xhr.js:132`) and it closes with "transport error"
//! (`engine.io-client@6.6.8/build/cjs/socket.js:627-638`, `@3.5.6/lib/socket.js:685-691`). On
//! that close the client tries to shut its transport (`socket.js:654`), and an open polling
//! transport writes the close packet `1` (`engine.io-client@6.6.8/build/cjs/transports/
//! polling.js:116-124`): that `1` is what made the cut look like a deliberate leave (issue #11
//! holdout). What to do: look at whatever sits between the peers (its idle timeout, its
//! restarts); the Socket.IO client reconnects by itself.

use crate::event::Dir;
use crate::explain::cause::Cause;
use crate::explain::certainty::Certainty;
use crate::explain::facts::{end, initiator_of, side, Facts};
use crate::explain::finding::FindingEnd;
use crate::explain::implementation::Implementation;
use crate::session::Mark;

/// The session ended when a pending polling request was cut; the client's `1` came after.
pub(crate) fn rule(f: &Facts) -> Option<FindingEnd> {
    let Some(close) = f.engine_close().filter(|m| m.dir == Some(Dir::C2S)) else {
        return refused_after_cut(f);
    };
    let refused =
        f.s.http_errors.iter().find(|m| {
            m.conn == close.conn && m.frame > close.frame && m.what.contains("\"code\":1")
        })?;
    let (cut, rst) = f.cut_request(close.frame)?;
    let node = |i| i == Implementation::NodeSocketIo;
    let first = cut_mark(&cut, rst);
    let mut then = close.clone();
    then.what = "client's Engine.IO close `1`, sent after its request failed".into();
    let mut answer = refused.clone();
    answer.what = format!(
        "server answers the close with {}: the session was already gone",
        refused.what
    )
    .into();
    Some(
        end(
            cut.clone(),
            Cause::TransportError,
            node(f.peers.server).then_some("transport error"),
            node(f.peers.client).then_some("transport error"),
            initiator_of(cut.dir),
            vec![first, then, answer],
            format!(
                "The TCP connection carrying a pending polling request was {} by the {} side (a proxy, relay or middlebox in between, or the peer's process). Both sides take a long-poll cut before its response as an error and close the session with \"transport error\"; the client's close packet `1` that follows is its library shutting the failed transport, and the server's \"Session ID unknown\" answer to it shows the session had already ended.",
                if rst { "reset" } else { "closed" },
                side(cut.dir)
            ),
            Some("Look at what sits between the peers (an idle timeout, a restart, a firewall dropping state); the Socket.IO client reconnects by itself."),
        )
        .with_certainty(
            Certainty::Likely,
            "the cut of the pending request and the server's refusal of the later close are on the wire; why the connection was cut is not",
        )
        .with_candidate(
            Cause::ClientDisconnect,
            "the client app's log: a deliberate `engine.close()` would come before any request failed",
        ),
    )
}

/// The same cut without a close `1` after it: the client's side cut the pending poll (a relay's
/// FIN on the server's leg), and a later request of the session (an HTTP client's retry of the
/// cut GET: aiohttp resends it with the same `t`) got `400 {"code":1}` from node engine.io, which
/// had already closed the session with "transport error" (`engine.io@6.6.12/build/transports/
/// polling.js:67-69`, then `build/socket.js:156-158`). A python-engineio client's polling loop
/// ends on the failed request with "transport error" (`python-engineio@4.15.1/engineio/
/// async_client.py:586-588`), a node client's with "xhr poll error" → "transport error".
fn refused_after_cut(f: &Facts) -> Option<FindingEnd> {
    if f.peers.server != Implementation::NodeSocketIo {
        return None;
    }
    let refused =
        f.s.http_errors
            .iter()
            .find(|m| m.what.contains("\"code\":1"))?;
    let (cut, rst) = f.client_cut_request(refused.frame)?;
    let client = matches!(
        f.peers.client,
        Implementation::NodeSocketIo | Implementation::PythonSocketio
    );
    let first = cut_mark(&cut, rst);
    let mut answer = refused.clone();
    answer.what = format!(
        "server answers a later request of the session with {}: the session was already gone",
        refused.what
    )
    .into();
    Some(
        end(
            cut.clone(),
            Cause::TransportError,
            Some("transport error"),
            client.then_some("transport error"),
            initiator_of(cut.dir),
            vec![first, answer],
            format!(
                "The TCP connection carrying a pending polling request was {} from the client's side (the client, or a proxy or relay in between). node engine.io takes a long-poll cut before its response as an error and closes the session with \"transport error\"; the \"Session ID unknown\" answer to the session's next request is a consequence of that close, not a request that reached the wrong server.",
                if rst { "reset" } else { "closed" },
            ),
            Some("Look at what sits between the peers (an idle timeout, a restart, a firewall dropping state); the Socket.IO client reconnects by itself."),
        )
        .with_certainty(
            Certainty::Likely,
            "the cut of the pending request and the server's refusal of the next one are on the wire; why the connection was cut is not",
        )
        .with_candidate(
            Cause::SessionUnknown,
            "the server's DEBUG=engine log: \"poll connection closed prematurely\" for this sid before the 400 settles it",
        ),
    )
}

/// The cut itself as evidence: who closed (FIN) or reset (RST) a connection whose poll was pending.
fn cut_mark(cut: &Mark, rst: bool) -> Mark {
    let mut m = cut.clone();
    m.what = format!(
        "{} {} a connection whose polling request was still waiting for its response",
        side(cut.dir),
        if rst {
            "resets (TCP RST)"
        } else {
            "closes (TCP FIN)"
        }
    )
    .into();
    m
}

#[cfg(test)]
mod tests {
    use crate::explain::fixture_tests::{s, verdict};

    #[test]
    fn a_relay_cut_of_the_pending_long_poll_is_a_transport_error_not_a_leave() {
        for (pcap, sid) in [
            ("cut-v4-pending-poll.pcap", "-MVzFh"),
            ("rst-v2-pending-poll.pcap", "bXPw_e"),
        ] {
            assert_eq!(
                verdict(pcap, sid),
                (
                    "transport-error",
                    s("transport error"),
                    s("transport error"),
                    "likely"
                ),
                "{pcap}"
            );
        }
    }

    /// python-socketio through a relay that cut its pending GET: aiohttp resent the GET and
    /// node engine.io, which had closed the session on the cut, answered `400 {"code":1}`.
    #[test]
    fn a_400_code_1_after_the_client_side_cut_a_pending_poll_is_the_cuts_transport_error() {
        assert_eq!(
            verdict("py-client-polling-relay-cut.pcap", "5pwlZo"),
            (
                "transport-error",
                s("transport error"),
                s("transport error"),
                "likely"
            )
        );
    }
}
