//! `eio-mismatch`: the client speaks Engine.IO 4 and the server only Engine.IO 3, so the
//! session cannot work whatever else happens.
//!
//! What the wire shows. An Engine.IO 4 client (socket.io-client 3/4, python-socketio 5 with
//! python-engineio 4, which always asks `EIO=4`: `python-engineio@4.15.1/engineio/
//! base_client.py:155`) against a socket.io 2.x server (engine.io 3.x): engine.io 3.6.2 never
//! checks the `EIO` query (`engine.io@3.6.2/lib/server.js:135-170`), so it opens a session and
//! answers in its own revision:
//!
//! - **over polling** the handshake response is an Engine.IO 3 payload, `<length>:0{…}`
//!   (`engine.io-parser@2.2.1/lib/index.js:213-240`), which the decoder flags as
//!   `eio-revision-mismatch`; python-engineio 4.15.1 cannot read it and its `connect()` fails
//!   with "OPEN packet not returned by server" (`engineio/async_client.py:274-276`): the client
//!   never had a session, it reports no close;
//! - **over WebSocket** the open packet reads the same in both revisions, but the server's
//!   Socket.IO CONNECT carries no `sid` (socket.io 2.5.1 `lib/socket.js:306-318`; a Socket.IO v5
//!   server always sends `{"sid":…}`: `socket.io@4.8.4/dist/socket.js:406-419`), and nobody
//!   pings: the revision 3 server waits for the client's pings, the revision 4 client for the
//!   server's. python-engineio's read loop gives up after `pingInterval + pingTimeout`
//!   (`engineio/async_client.py:600-616`) and reports "transport error" (`:641-643`).
//!
//! Either way the server drops the session it opened when its heartbeat deadline passes:
//! engine.io 3.6.2 closes it with "ping timeout" (`lib/socket.js:136-142` `setPingTimeout`, armed
//! at open, `:77`, and restarted only by packets from the client, `:93-95`). What to do: use a client of the server's generation
//! (python-socketio 4.x / python-engineio 3.x, or socket.io-client 2.x, for a socket.io 2.x
//! server), or upgrade the server to socket.io 3+ (`allowEIO3: true` lets a new server accept
//! old clients; nothing lets an old server accept new ones).

use crate::event::Dir;
use crate::explain::cause::{Cause, Initiator};
use crate::explain::certainty::Certainty;
use crate::explain::facts::{end, ms, Facts};
use crate::explain::finding::FindingEnd;
use crate::explain::implementation::Implementation;
use crate::session::Mark;

const FIX: &str = "Use a client of the server's generation (python-socketio 4.x / python-engineio 3.x, or socket.io-client 2.x, for a socket.io 2.x server), or upgrade the server to socket.io 3 or later; `allowEIO3: true` lets a new server accept old clients, nothing lets an old server accept new ones.";

/// The decoder's flag: an `EIO=4` handshake answered in Engine.IO 3 framing.
fn v3_framed_answer<'a>(f: &Facts<'a>) -> Option<&'a Mark> {
    f.s.anomalies
        .iter()
        .find(|m| m.what.starts_with("eio-revision-mismatch"))
}

/// An `EIO=4` session whose server answered the Socket.IO CONNECT of `/` without a `sid`
/// (Socket.IO v4 protocol, socket.io 1.x/2.x) and in which nobody ever pinged.
fn connect_without_sid<'a>(f: &Facts<'a>) -> Option<&'a Mark> {
    if f.s.eio != Some(4) || f.s.last_ping.is_some() || f.s.unanswered_ping.is_some() {
        return None;
    }
    f.s.sockets
        .iter()
        .find(|k| k.nsp == "/" && !k.refused && k.socket_id.is_none())
        .and_then(|k| k.connected.as_ref())
        .filter(|m| m.dir == Some(Dir::S2C))
}

/// The session could not work: the server answered an Engine.IO 4 client in revision 3.
pub(crate) fn rule(f: &Facts) -> Option<FindingEnd> {
    let framed = v3_framed_answer(f);
    let (shown, certainty, why) = match (framed, connect_without_sid(f)) {
        (Some(m), _) => (
            m,
            Certainty::Certain,
            "the server's own handshake response is in Engine.IO 3 framing, answering a request for EIO=4",
        ),
        (None, Some(m)) => (
            m,
            Certainty::Likely,
            "the server answered CONNECT without a sid (Socket.IO v4 protocol) on an EIO=4 session and nobody pinged; the server's version (its package.json, or a polling handshake) would make it certain",
        ),
        (None, None) => return None,
    };
    let window = (f.s.ping_interval.unwrap_or(0) + f.s.ping_timeout.unwrap_or(0)) as f64;
    let end_mark = f.end_mark();
    // The revision 3 server waits pingInterval + pingTimeout for a client packet that never
    // comes. Over polling the client never sends another request (it could not read the
    // handshake), so that timer is the only way the session can end, even after the capture.
    let lasted = ms(f.s.opened.ts, end_mark.ts).max(ms(f.s.opened.ts, f.capture_end));
    let server_timed_out = framed.is_some() || (window > 0.0 && lasted >= window * 0.9);
    let client_reason = match (f.peers.client, framed.is_some()) {
        // python-engineio's WebSocket read loop gave up: "transport error".
        (Implementation::PythonSocketio, false) => Some("transport error"),
        _ => None,
    };
    let mut first = shown.clone();
    first.what = if framed.is_some() {
        "the server answers the EIO=4 handshake in Engine.IO 3 framing (`<length>:0{…}`)".into()
    } else {
        "the server answers CONNECT without a sid: Socket.IO v4 protocol (socket.io 1.x/2.x) on an EIO=4 session".into()
    };
    let mut evidence = vec![first];
    if end_mark.frame != shown.frame {
        evidence.push(end_mark.clone());
    }
    let how = if framed.is_some() {
        match f.peers.client {
            Implementation::PythonSocketio => " python-engineio 4 cannot read that handshake: its connect() fails with \"OPEN packet not returned by server\", so the client never had a session.",
            _ => " An Engine.IO 4 client cannot read that handshake, so it never had a session.",
        }
    } else {
        " Over WebSocket the session seems to open, but neither side ever pings: the revision 3 server waits for the client's pings, the revision 4 client for the server's."
    };
    Some(
        end(
            shown.clone(),
            Cause::EioMismatch,
            server_timed_out.then_some("ping timeout"),
            client_reason,
            Initiator::Server,
            evidence,
            format!(
                "The client speaks Engine.IO 4 (it asked EIO=4) and the server only Engine.IO 3 (engine.io 3.x, socket.io 2.x), which does not check the revision and answers in its own.{how} The server drops the session it opened when its heartbeat deadline passes (\"ping timeout\")."
            ),
            Some(FIX),
        )
        .with_certainty(certainty, why),
    )
}

#[cfg(test)]
mod tests {
    use crate::explain::fixture_tests::{s, verdict};

    #[test]
    fn a_python_engineio_4_client_on_a_socket_io_2_server_over_polling() {
        assert_eq!(
            verdict("py-client-v2-server-polling.pcap", "fW7Ujh"),
            ("eio-mismatch", s("ping timeout"), None, "certain")
        );
    }

    #[test]
    fn a_python_engineio_4_client_on_a_socket_io_2_server_over_websocket() {
        assert_eq!(
            verdict("py-client-v2-server-ws.pcap", "AVHeeX"),
            (
                "eio-mismatch",
                s("ping timeout"),
                s("transport error"),
                "likely"
            )
        );
    }
}
