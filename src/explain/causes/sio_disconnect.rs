//! `client-disconnect` / `server-disconnect` by Socket.IO DISCONNECT packets.
//!
//! What the wire shows: a DISCONNECT (`41`, `41/nsp,`; socket.io 0.9 `0::` / `0::/nsp`) for
//! every namespace the session still had. The first sender decides the cause. What each side
//! reports: node socket.io `client namespace disconnect` / `server namespace disconnect`
//! (`socket.io@4.8.4/dist/socket.js:509`, `:596`), its client `io client disconnect` / `io
//! server disconnect`; python-socketio `client disconnect` / `server disconnect`; socket.io 0.9
//! `booted` for `0::` and `packet` for a namespace. A node server that gets the `41` and the
//! Engine.IO close `1` in one polling payload (python-socketio's `disconnect()`) reports
//! `transport close` (`close_in_same_payload`). It is a statement on the wire: `certain`.
//! What to do: nothing, it was asked for (a server-side disconnect stops the client's retries).

use crate::event::Dir;
use crate::explain::cause::{Cause, Initiator};
use crate::explain::certainty::Certainty;
use crate::explain::facts::{end, side, Facts};
use crate::explain::finding::FindingEnd;
use crate::explain::implementation::Implementation;

/// Whether the client's DISCONNECT `c` and its Engine.IO close `1` came in one polling payload
/// (one POST body: same connection and frame). node's engine.io acts on the `1` while it decodes
/// the payload (`engine.io@6.6.12/build/transports/polling.js:166-173`: `onClose()` at once, so
/// the engine closes with "transport close", `build/socket.js:200`), while socket.io hands every
/// other packet, the `41` too, to its socket only on the next tick (`socket.io@4.8.4/dist/
/// client.js:210-215`; the same `process.nextTick` in `socket.io@2.5.1/lib/client.js:212` and
/// `socket.io@1.7.4/lib/client.js:194`). By then the socket is closed with the engine's reason:
/// node reports "transport close", not "client namespace disconnect". python-socketio's client
/// sends exactly that: `disconnect()` queues a DISCONNECT per namespace and then the close
/// (`socketio/async_client.py:327-330`, `engineio/async_client.py:166`), and its write loop sends
/// what is queued as one payload (`engineio/async_client.py:660-685`); socket.io-client sends
/// them in separate requests (`engine.io-client@6.6.8/build/cjs/socket.js:585-610`: `close()`
/// waits for the `drain` of the `41`).
fn close_in_same_payload(f: &Facts, c: &Option<crate::session::Mark>) -> bool {
    match (c, f.engine_close()) {
        (Some(c), Some(close)) => {
            close.dir == Some(Dir::C2S) && close.conn == c.conn && close.frame == c.frame
        }
        _ => false,
    }
}

pub(crate) fn rule(f: &Facts) -> Option<FindingEnd> {
    // The session ends by DISCONNECT only when every namespace's latest socket was disconnected
    // (a namespace that disconnects and connects again keeps the session going).
    let mut latest: Vec<&crate::session::SocketRecord> = vec![];
    for k in &f.s.sockets {
        match latest.iter_mut().find(|l| l.nsp == k.nsp) {
            Some(l) => *l = k,
            None => latest.push(k),
        }
    }
    // socket.io 0.9 joins "/" implicitly for a client of another namespace: leaving that
    // namespace (`0::/chat`) is the whole disconnect when "/" itself was never used.
    let legacy = f.peers.server == Implementation::SocketIo09;
    if legacy && latest.iter().any(|k| k.nsp != "/") {
        latest.retain(|k| k.nsp != "/" || k.disconnect.is_some());
    }
    if latest.is_empty() || latest.iter().any(|k| k.disconnect.is_none()) {
        return None;
    }
    let server = f.disconnect(Dir::S2C);
    let client = f.disconnect(Dir::C2S);
    let (m, cause) = match (server, client) {
        (Some(s), Some(c)) if s.frame < c.frame => (s, Cause::ServerDisconnect),
        (_, Some(c)) => (c, Cause::ClientDisconnect),
        (Some(s), None) => (s, Cause::ServerDisconnect),
        (None, None) => return None,
    };
    let nsps: Vec<&str> =
        f.s.sockets
            .iter()
            .filter(|k| k.disconnect.is_some())
            .map(|k| k.nsp.as_str())
            .collect();
    let mut at = m.clone();
    at.what = format!(
        "{} sends Socket.IO DISCONNECT for {}",
        side(m.dir),
        nsps.join(", ")
    )
    .into();
    let mut evidence = vec![at];
    if let Some(t) = &f.transport_end {
        if t.frame > m.frame {
            evidence.push(t.clone());
        }
    }
    let root = nsps.contains(&"/");
    // The client's DISCONNECT of its last socket ("/" when joined): the one whose payload decides
    // what node reports.
    let c_root =
        f.s.sockets
            .iter()
            .rev()
            .filter_map(|k| k.disconnect.as_ref().map(|m| (k.nsp == "/", m)))
            .filter(|(_, m)| m.dir == Some(Dir::C2S))
            .max_by_key(|(is_root, m)| (*is_root, m.frame))
            .map(|(_, m)| m.clone());
    let server_reason = match (f.peers.server, cause) {
        // socket.io 0.9: `0::` ends the transport, "booted" (socket.io@0.9.19/lib/transport.js:190);
        // `0::/nsp` leaves a namespace, "packet" (socket.io@0.9.19/lib/namespace.js:343)
        (Implementation::SocketIo09, _) if root => "booted",
        (Implementation::SocketIo09, _) => "packet",
        // python-engineio@4.15.1/engineio/base_server.py:25-27 (reasons of python-socketio 5)
        (Implementation::PythonSocketio, Cause::ServerDisconnect) => "server disconnect",
        (Implementation::PythonSocketio, _) => "client disconnect",
        // socket.io@4.8.4/dist/socket.js:509 and :596
        (Implementation::NodeSocketIo, Cause::ServerDisconnect) => "server namespace disconnect",
        // `41` and `1` in one polling payload: the close wins (see `close_in_same_payload`)
        (Implementation::NodeSocketIo, _) if close_in_same_payload(f, &c_root) => "transport close",
        (Implementation::NodeSocketIo, _) => "client namespace disconnect",
    };
    let client_reason = match (f.peers.client, cause) {
        // socket.io-client@0.9.16/lib/socket.js:346, :374; a namespace socket that leaves on
        // its own emits no disconnect on the client
        (Implementation::SocketIo09, _) if root => Some("booted"),
        (Implementation::SocketIo09, _) => None,
        // python-engineio@4.15.1/engineio/base_client.py:36-38
        (Implementation::PythonSocketio, Cause::ServerDisconnect) => Some("server disconnect"),
        (Implementation::PythonSocketio, _) => Some("client disconnect"),
        // socket.io-client@4.8.4/build/cjs/socket.js:638-656 and :683
        (Implementation::NodeSocketIo, Cause::ServerDisconnect) => Some("io server disconnect"),
        (Implementation::NodeSocketIo, _) => Some("io client disconnect"),
    };
    Some(match cause {
        Cause::ServerDisconnect => end(
            m,
            cause,
            Some(server_reason),
            client_reason,
            Initiator::Server,
            evidence,
            "The server disconnected the socket on purpose (`socket.disconnect()` on the server). The client does not reconnect by itself after this reason.".to_string(),
            None,
        ),
        _ => end(
            m,
            cause,
            Some(server_reason),
            client_reason,
            Initiator::Client,
            evidence,
            "The client disconnected on purpose (`socket.disconnect()`).".to_string(),
            None,
        ),
    }
    .with_certainty(
        Certainty::Certain,
        "a Socket.IO DISCONNECT packet for every namespace of the session is on the wire",
    ))
}

#[cfg(test)]
mod tests {
    use crate::explain::fixture_tests::{explained, s, session, verdict};

    #[test]
    fn a_second_websocket_on_the_sid_closed_by_the_server_is_not_the_end() {
        // engine.io@6.6.12/build/server.js:632-635 closes a second WebSocket for an upgraded
        // session and leaves the session; a real client then disconnects over the first one.
        assert_eq!(
            verdict("v4-second-ws-same-sid.pcap", "naWlWo"),
            (
                "client-disconnect",
                s("client namespace disconnect"),
                s("io client disconnect"),
                "certain"
            )
        );
        let x = explained("v4-second-ws-same-sid.pcap");
        let f = session(&x, "naWlWo");
        assert!(f
            .end
            .evidence
            .iter()
            .all(|m| !m.what.contains("close") || m.conn == f.end.at.conn));
    }

    #[test]
    fn words_per_implementation_node_python_and_0_9() {
        assert_eq!(
            verdict("v4-one-of-two-server-disconnect.pcap", "ew3MiG"),
            (
                "server-disconnect",
                s("server namespace disconnect"),
                s("io server disconnect"),
                "certain"
            )
        );
        assert_eq!(
            verdict("py-server-node-client.pcap", "RiGiV6"),
            (
                "server-disconnect",
                s("server disconnect"),
                s("io server disconnect"),
                "certain"
            )
        );
        assert_eq!(
            verdict("v09-xhr-namespace.pcap", "J88D_U"),
            ("client-disconnect", s("packet"), None, "certain")
        );
    }

    /// python-socketio's `disconnect()` over polling sends `41␞1` in one POST: node acts on the
    /// `1` at once and on the `41` a tick later, so it reports "transport close"; node's own
    /// client sends them apart and gets "client namespace disconnect" (`v4-polling-only`).
    #[test]
    fn a_disconnect_and_close_in_one_polling_payload_is_transport_close_on_node() {
        for (pcap, sid) in [
            ("py-client-disconnect-polling.pcap", "LfABmR"),
            ("py-clients-disconnect-polling.pcap", "iLRNn9"),
            ("py-clients-disconnect-polling.pcap", "WVXWFj"),
        ] {
            assert_eq!(
                verdict(pcap, sid),
                (
                    "client-disconnect",
                    s("transport close"),
                    s("client disconnect"),
                    "certain"
                ),
                "{pcap} {sid}"
            );
        }
        let x = explained("v4-polling-only.pcap");
        assert_eq!(
            x.sessions[0].end.reason.as_deref(),
            Some("client namespace disconnect")
        );
    }
}
