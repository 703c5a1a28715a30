//! Secondary findings: what else a session shows beside (or behind) its end.

use super::cause::Cause;
use super::causes::{connect_refused, upgrade_failed, websocket_blocked};
use super::facts::{ms, Facts};
use super::finding::{FindingEnd, Note};
use crate::event::Dir;

/// Secondary findings of one session.
pub(crate) fn notes(f: &Facts, end: &FindingEnd) -> Vec<Note> {
    let s = f.s;
    let mut out = vec![];
    if end.cause != Cause::WebsocketBlocked {
        if let Some(b) = websocket_blocked::rule_blocked_any(f) {
            out.push(Note {
                kind: "websocket-blocked",
                text: b.explanation,
                evidence: b.evidence,
            });
        }
    }
    if end.cause != Cause::UpgradeFailed {
        if let Some(u) = upgrade_failed::rule(f) {
            out.push(Note {
                kind: "upgrade-failed",
                text: u.explanation,
                evidence: u.evidence,
            });
        }
    }
    // A namespace refused by the server while the session went on (or ended for another reason).
    if end.cause != Cause::ConnectRefused {
        let refused: Vec<_> = s.sockets.iter().filter(|k| k.refused).collect();
        if let Some(k) = refused.first() {
            let words = connect_refused::refusal_message(k)
                .map(|m| format!(" with {m:?}"))
                .unwrap_or_default();
            out.push(Note {
                kind: "connect-refused",
                text: format!(
                    "The server refused the Socket.IO CONNECT to {}{words} (a namespace middleware); the session itself went on.",
                    k.nsp
                ),
                evidence: refused.iter().filter_map(|k| k.connected.clone()).collect(),
            });
        }
    }
    // An open packet advertising pingInterval 0: python-engineio 4.15.1 writes
    // `int(ping_interval + grace) * 1000` (`engineio/async_server.py:485-486`), 0 for any
    // sub-second interval, and still pings at the real interval; a node client's deadline is
    // then pingTimeout alone (`engine.io-client@6.6.8/build/cjs/socket.js:426-431`).
    if s.ping_interval == Some(0) {
        let mut m = s.opened.clone();
        m.what = "open packet advertises pingInterval 0".into();
        out.push(Note {
            kind: "advertised-ping-interval-zero",
            text: "The server advertised pingInterval 0 (python-engineio truncates a sub-second ping_interval to whole seconds in its open packet) while it pings at its real interval: a client's heartbeat deadline becomes pingTimeout alone, and a node client times out on its own whenever that is shorter than the real interval. Use a ping_interval of at least 1 s.".into(),
            evidence: vec![m],
        });
    }
    // The client left without a Socket.IO DISCONNECT packet (python-socketio does this).
    if end.cause == Cause::ClientDisconnect && f.disconnect(Dir::C2S).is_none() {
        out.push(Note {
            kind: "no-sio-disconnect-packet",
            text: "The client closed the transport without sending a Socket.IO DISCONNECT packet first, so the server reports \"transport close\" instead of \"client namespace disconnect\".".to_string(),
            evidence: end.evidence.clone(),
        });
    }
    // One namespace disconnected and connected again within a few ms (one tick of the client).
    for (i, k) in s.sockets.iter().enumerate() {
        let Some(d) = k.disconnect.as_ref().filter(|d| d.dir == Some(Dir::C2S)) else {
            continue;
        };
        let again = s
            .sockets
            .iter()
            .skip(i + 1)
            .find(|n| n.nsp == k.nsp)
            .and_then(|n| n.connect.clone());
        if let Some(c) = again {
            if ms(d.ts, c.ts) <= 10.0 {
                let mut dm = d.clone();
                dm.what = format!("client DISCONNECT {}", k.nsp).into();
                let mut cm = c.clone();
                cm.what = format!(
                    "client CONNECT {} again {:.1} ms later",
                    k.nsp,
                    ms(d.ts, c.ts)
                )
                .into();
                out.push(Note {
                    kind: "same-tick-namespace-reconnect",
                    text: format!(
                        "The client disconnected and reconnected namespace {} in the same tick. socket.io 4.8 answers this by closing the whole Engine.IO connection, so every namespace sharing this Manager dropped with it ({} namespace(s)).",
                        k.nsp,
                        s.sockets.iter().map(|x| x.nsp.as_str()).collect::<std::collections::BTreeSet<_>>().len()
                    ),
                    evidence: vec![dm, cm],
                });
                break;
            }
        }
    }
    // Several namespaces on one Engine.IO session dropped together (shared Manager).
    let nsps: std::collections::BTreeSet<&str> = s.sockets.iter().map(|k| k.nsp.as_str()).collect();
    if nsps.len() > 1 && end.cause.is_abnormal() && end.cause != Cause::StillOpen {
        out.push(Note {
            kind: "shared-manager-drop",
            text: format!(
                "{} namespaces ({}) share this Engine.IO connection (one Manager): they all dropped together when it ended.",
                nsps.len(),
                nsps.iter().copied().collect::<Vec<_>>().join(", ")
            ),
            evidence: vec![end.at.clone()],
        });
    }
    if !s.lost_after_close.is_empty() {
        out.push(Note {
            kind: "lost-messages",
            text: format!(
                "{} message(s) were sent after the session had ended (after a close frame, or refused because the session was gone) and never processed by the peer.",
                s.lost_after_close.len()
            ),
            evidence: s.lost_after_close.iter().take(5).cloned().collect(),
        });
    }
    out
}
