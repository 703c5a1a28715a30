//! Engine.IO-level closes without a Socket.IO DISCONNECT: `client-disconnect` when the client
//! sent the close, `server-shutdown` when the server closed many sessions at once,
//! `server-disconnect` when it closed just this one.
//!
//! What the wire shows: an Engine.IO close packet `1` (acted upon on polling only:
//! `engine.io@6.6.12/build/transports/polling.js:167-169`), or a WebSocket close frame, and no
//! `41` before it. The server's engine reports `transport close` when the client closed
//! (`engine.io@6.6.12/build/socket.js:200`) and `forced close` when the app closed it
//! (`socket.js:487`); `io.close()` reports `server shutting down` to every socket. Shutdown needs
//! its own evidence (issue #11 class 2): every session on that server ending at once. What to do:
//! nothing when it was meant; otherwise read the closing side's code path.

use crate::event::Dir;
use crate::explain::cause::{Cause, Initiator};
use crate::explain::certainty::Certainty;
use crate::explain::facts::{close_text, end, side, Facts};
use crate::explain::finding::FindingEnd;
use crate::explain::implementation::Implementation;

pub(crate) fn rule(f: &Facts) -> Option<FindingEnd> {
    let s = f.s;
    // An Engine.IO close packet, or a close frame, without a Socket.IO DISCONNECT before it.
    let eio = f.engine_close();
    let first_close = s.ws_closes.first().map(|c| {
        let mut m = c.at.clone();
        m.what = format!("{} sends {}", side(m.dir), close_text(c));
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
        _ if f.simultaneous > 1 && f.survivors == 0 => Some(
            end(
                m.clone(),
                Cause::ServerShutdown,
                // socket.io@4.8.4/dist/index.js io.close(): "server shutting down"
                Some("server shutting down"),
                Some("transport close"),
                Initiator::Server,
                vec![m],
                format!(
                    "The server closed this session without a Socket.IO DISCONNECT together with {} other session(s) within 100 ms: the server was shutting down (`io.close()`). Clients see \"transport close\" and reconnect.",
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
        _ => Some(
            end(
                m.clone(),
                Cause::ServerDisconnect,
                // engine.io@6.6.12/build/socket.js:487: `socket.close()` from the app or Socket.IO
                Some("forced close"),
                Some("transport close"),
                Initiator::Server,
                vec![m],
                "The server closed this one session without a Socket.IO DISCONNECT (`socket.conn.close()`, `disconnect(true)` racing a namespace reconnect, a middleware closing the connection); other sessions went on, so it did not shut down. The client sees \"transport close\" and reconnects.".to_string(),
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
                "likely"
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
}
