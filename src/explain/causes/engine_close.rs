//! Engine.IO-level closes without a Socket.IO DISCONNECT: `client-disconnect` when the client
//! sent the close, `server-shutdown` when the server closed many sessions at once,
//! `server-disconnect` when it closed just this one.
//!
//! What the wire shows: an Engine.IO close packet `1` (acted upon on polling only:
//! `engine.io@6.6.12/build/transports/polling.js:167-169`), or a WebSocket close frame, and no
//! `41` before it. The server's engine reports `transport close` when the client closed
//! (`engine.io@6.6.12/build/socket.js:200`) and `forced close` when the app closed it
//! (`socket.js:487`); `io.close()` reports `server shutting down` to every socket. Shutdown needs
//! its own evidence (issue #11 class 2): every session on that server ending at once, a refused
//! connection afterwards, or (node socket.io, whose own closes of a connected socket send `41`
//! first except `io.close()`) no session of that server going on or opening afterwards. What to do:
//! nothing when it was meant; otherwise read the closing side's code path.

use crate::event::Dir;
use crate::explain::cause::{Cause, Initiator};
use crate::explain::certainty::Certainty;
use crate::explain::facts::{close_text, end, side, Facts};
use crate::explain::finding::FindingEnd;
use crate::explain::implementation::Implementation;
use crate::session::Mark;

pub(crate) fn rule(f: &Facts) -> Option<FindingEnd> {
    let s = f.s;
    // An Engine.IO close packet, or a close frame, without a Socket.IO DISCONNECT before it.
    let eio = f.engine_close();
    let first_close = s.ws_closes.first().map(|c| {
        let mut m = c.at.clone();
        m.what = format!("{} sends {}", side(m.dir), close_text(c)).into();
        m
    });
    let m = match (eio, first_close) {
        (Some(a), Some(b)) => {
            if a.frame <= b.frame {
                a
            } else {
                b
            }
        }
        (Some(a), None) => a,
        (None, Some(b)) => b,
        (None, None) => return None,
    };
    // What this client reports when the server closed it (its library's words).
    let cw = client_words(f, &m);
    match m.dir {
        Some(Dir::C2S) => {
            // python-engineio@4.15.1/engineio/base_client.py:36 "client disconnect";
            // socket.io-client's `socket.disconnect()` sends `41` first (that rule), so a bare
            // engine close from a node client is the app closing its Manager / engine.
            let (client_reason, who) = match f.peers.client {
                Implementation::PythonSocketio => (
                    "client disconnect",
                    "python-socketio's client `disconnect()` closes the transport this way",
                ),
                Implementation::SocketIo09 => ("booted", "the socket.io 0.9 client closed it"),
                Implementation::NodeSocketIo => (
                    "forced close",
                    "the app closed the client's Engine.IO connection (`manager.engine.close()`, `socket.io.engine.close()`)",
                ),
            };
            Some(
                end(
                    m.clone(),
                    Cause::ClientDisconnect,
                    Some("transport close"),
                    Some(client_reason),
                    Initiator::Client,
                    vec![m],
                    format!(
                        "The client closed the transport itself without a Socket.IO DISCONNECT ({who}); the server reports \"transport close\" although the client left on purpose.",
                    ),
                    None,
                )
                .with_certainty(
                    Certainty::Likely,
                    "the client sent the close (Engine.IO close packet or close frame); that it meant to leave is the usual reading, not a statement on the wire",
                ),
            )
        }
        // The server closed the session and then refused a new connection to the same port:
        // nothing listened any more, the server was going down (`io.close()` closes the HTTP
        // server after the engine: socket.io@4.8.4/dist/index.js:510-534).
        _ if f.survivors == 0 && f.refused_after.is_some() => {
            let refused = f.refused_after.clone().unwrap_or_else(|| m.clone());
            let certainty = if f.simultaneous > 1 {
                (Certainty::Certain, "several sessions closed by the server at once, then the server's port refused a new connection: it stopped listening")
            } else {
                (Certainty::Likely, "the server closed the session, then its port refused a new connection; a process that crashed right after closing one session would look the same")
            };
            Some(
                end(
                    m.clone(),
                    Cause::ServerShutdown,
                    Some(shutdown_words(f)),
                    Some(cw),
                    Initiator::Server,
                    vec![m, refused],
                    format!("The server closed this session without a Socket.IO DISCONNECT and then stopped listening: the next connection to its port was refused. The server was shutting down (`io.close()` closes every session, then the HTTP server). The client reports {cw:?} and reconnects once a server listens again."),
                    None,
                )
                .with_certainty(certainty.0, certainty.1),
            )
        }
        _ if f.simultaneous > 1 && f.survivors == 0 => Some(
            end(
                m.clone(),
                Cause::ServerShutdown,
                // socket.io@4.8.4/dist/index.js io.close(): "server shutting down"
                Some(shutdown_words(f)),
                Some(cw),
                Initiator::Server,
                vec![m],
                format!(
                    "The server closed this session without a Socket.IO DISCONNECT together with {} other session(s) within 100 ms: the server was shutting down (`io.close()`). The client reports {cw:?} and reconnects.",
                    f.simultaneous - 1
                ),
                None,
            )
            .with_certainty(
                Certainty::Likely,
                "several sessions on the server ended at the same moment; a refused reconnect or a new process afterwards would make it certain",
            )
            .with_candidate(
                Cause::ServerDisconnect,
                "whether the server process stayed up: a reconnect it accepts at once means it closed the sessions one by one",
            ),
        ),
        // node socket.io never closes a connected socket's engine without a `41` of its own
        // except in `io.close()`: `socket.disconnect(true)` and `disconnectSockets(true)` send
        // the `41` first (`socket.io@4.8.4/dist/socket.js:591-592` → `client.js:121-127`, each
        // socket's `disconnect()` writes the packet; `socket.io@2.5.1/lib/client.js:113-121`),
        // a ping timeout, an invalid packet or an oversized message have rules of their own
        // before this one, and `io.close()` closes every socket with "server shutting down" and
        // then the engine, with no packet (`socket.io@4.8.4/dist/index.js:510-517`,
        // `engine.io@6.6.12/build/server.js:218-222`). With no other session of the server left
        // open and no handshake it accepted afterwards, that is the reading; the app closing one
        // engine itself (`socket.conn.close()`) looks the same and stays the candidate.
        _ if f.peers.server == Implementation::NodeSocketIo
            && s.eio.is_some()
            && connected_socket(f)
            && f.survivors == 0
            && f.reopened == 0 =>
        {
            Some(
                end(
                    m.clone(),
                    Cause::ServerShutdown,
                    Some(shutdown_words(f)),
                    Some(cw),
                    Initiator::Server,
                    vec![m],
                    format!("The server closed this session without a Socket.IO DISCONNECT, and no session of that server went on or opened afterwards. node socket.io closes a connected socket this way only in `io.close()` (`disconnect(true)` sends the DISCONNECT first): the server was shutting down. The client reports {cw:?}."),
                    None,
                )
                .with_certainty(
                    Certainty::Likely,
                    "node socket.io's own closes of a connected socket all send a DISCONNECT first except io.close(); the app closing the engine directly looks the same",
                )
                .with_candidate(
                    Cause::ServerDisconnect,
                    "whether the app called `socket.conn.close()` on this one connection (the server's code or log), or the port still accepted connections afterwards",
                ),
            )
        }
        _ => Some(
            end(
                m.clone(),
                Cause::ServerDisconnect,
                // engine.io@6.6.12/build/socket.js:487: `socket.close()` from the app or Socket.IO
                Some("forced close"),
                Some(cw),
                Initiator::Server,
                vec![m],
                format!(
                    "The server closed this one session without a Socket.IO DISCONNECT (`socket.conn.close()`, `disconnect(true)` racing a namespace reconnect, a middleware closing the connection); {}. The client reports {cw:?} and reconnects.",
                    if f.survivors > 0 {
                        "other sessions of the server went on, so it did not shut down"
                    } else {
                        "no other session ended with it (no other session of this server was open to show whether it stayed up)"
                    }
                ),
                None,
            )
            .with_certainty(
                Certainty::Likely,
                "the server sent the close and no other session ended with it; the server's code path is not on the wire",
            )
            .with_candidate(
                Cause::ServerShutdown,
                "whether the server process stayed up (a capture that continues after the close, the server's log)",
            ),
        ),
    }
}

/// Whether a socket of the session was connected when it ended (accepted, never refused, no
/// DISCONNECT of its own).
fn connected_socket(f: &Facts) -> bool {
    f.s.sockets
        .iter()
        .any(|k| k.connected.is_some() && !k.refused && k.disconnect.is_none())
}

/// What the client reports when the server closed the session without a `41`. node
/// socket.io-client: `transport close` (`engine.io-client@6.6.8/build/cjs/socket.js`, the
/// transport's close). python-socketio's client: `server disconnect` for an Engine.IO close
/// packet `1` (`python-engineio@4.15.1/engineio/async_client.py:446-448`), `transport error`
/// for a transport that just ended under it, a WebSocket close frame included (its read loop
/// ends while still connected: `async_client.py:586-588` polling, `:641-643` WebSocket).
fn client_words(f: &Facts, m: &Mark) -> &'static str {
    match f.peers.client {
        Implementation::PythonSocketio if f.engine_close().is_some_and(|e| e.frame == m.frame) => {
            "server disconnect"
        }
        Implementation::PythonSocketio => "transport error",
        _ => "transport close",
    }
}

/// What the server's socket reports when `io.close()` closes it. socket.io 3.x/4.x: `server
/// shutting down` (`socket.io@4.8.4/dist/index.js:510-517`); socket.io 1.x/2.x: the `/` sockets
/// get no reason and the engine says `forced close` (`socket.io@2.5.1/lib/index.js:485-492`,
/// `engine.io@3.6.2/lib/server.js:191-196`). Those servers' open packets carry no `maxPayload`
/// (engine.io 3 `lib/socket.js:50-57`), which tells them apart on the wire.
fn shutdown_words(f: &Facts) -> &'static str {
    if f.s.eio.is_some()
        && f.s.max_payload.is_none()
        && f.peers.server == Implementation::NodeSocketIo
    {
        "forced close"
    } else {
        "server shutting down"
    }
}

#[cfg(test)]
mod tests {
    use crate::explain::fixture_tests::{s, verdict};

    #[test]
    fn shutdown_needs_simultaneous_ends_and_a_client_close_speaks_its_library() {
        assert_eq!(
            verdict("v4-server-shutdown.pcap", "rvM21_"),
            (
                "server-shutdown",
                s("server shutting down"),
                s("transport close"),
                // several sessions closed at once, then the port refused the reconnects
                "certain"
            )
        );
        assert_eq!(
            verdict("node-server-py-client.pcap", "leIiyn"),
            (
                "client-disconnect",
                s("transport close"),
                s("client disconnect"),
                "likely"
            )
        );
        assert_eq!(
            verdict("eio-bare.pcap", "XWeJnF"),
            (
                "client-disconnect",
                s("transport close"),
                s("forced close"),
                "likely"
            )
        );
    }

    /// One session cannot show "several closed at once"; the refused reconnect to the same port
    /// is what says the server went down (v4-shutdown-one-client-ws; the holdout's python client
    /// against a node server showed the same). Without a refused connection (reconnection off)
    /// the single close stays server-disconnect with server-shutdown as the candidate.
    #[test]
    fn a_refused_reconnect_after_a_single_server_close_reads_as_shutdown() {
        assert_eq!(
            verdict("v4-shutdown-one-client-ws.pcap", "kP25k4"),
            (
                "server-shutdown",
                s("server shutting down"),
                s("transport close"),
                "likely"
            )
        );
    }

    /// python-engineio's client reports a server close frame as "transport error": its read
    /// loop ends while connected (async_client.py:641-643).
    #[test]
    fn a_python_client_reports_the_servers_close_frame_as_a_transport_error() {
        assert_eq!(
            verdict("py-clients-server-shutdown-ws.pcap", "9m7ICk"),
            (
                "server-shutdown",
                s("server shutting down"),
                s("transport error"),
                "likely"
            )
        );
    }

    /// node socket.io closes a connected socket without `41` only in `io.close()`: one python
    /// client that never retries, on polling (the server's `1`) and on WebSocket (a close frame
    /// without code, the server process still up), is a shutdown, stated `likely`.
    #[test]
    fn a_node_close_without_disconnect_of_a_lone_connected_socket_reads_as_io_close() {
        assert_eq!(
            verdict("py-client-io-close-polling.pcap", "JQWNRC"),
            (
                "server-shutdown",
                s("server shutting down"),
                s("server disconnect"),
                "likely"
            )
        );
        assert_eq!(
            verdict("py-client-io-close-ws.pcap", "7mVgNb"),
            (
                "server-shutdown",
                s("server shutting down"),
                s("transport error"),
                "likely"
            )
        );
    }
}
