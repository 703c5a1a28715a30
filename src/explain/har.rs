//! What `explain` can and cannot conclude when the input is a HAR (see `crate::har`).
//!
//! A HAR holds no TCP and no WebSocket close frames, so a session whose end the rules find no
//! protocol goodbye for would read "the capture shows no end" — true of the file, but the browser
//! did report something: connection attempts it saw refused (`net::ERR_CONNECTION_REFUSED`, the
//! OS error for a TCP RST to the SYN) right after the session went quiet mean nothing listened on
//! the server's port any more. That makes "the server went away" likely, never certain: whether it
//! closed (FIN) or reset (RST), and exactly when, is not in the file.
//!
//! Certainty: an end is `certain` from a HAR only when the statement itself is in the HAR's
//! payloads (a Socket.IO DISCONNECT or CONNECT_ERROR packet, an Engine.IO close, an HTTP error
//! body); every other `certain` end rests on TCP or close-frame evidence a HAR does not carry
//! and is lowered to `likely`, with the reason and the candidates that evidence would decide.

use super::cause::{Cause, Initiator};
use super::certainty::{Candidate, Certainty};
use super::chains::build_chains;
use super::finding::{Explanation, Note};
use crate::har::HarSummary;
use crate::session::{SessionRecord, SessionTracker};

/// Refused attempts this long after a session's last record still speak for its end.
const REFUSED_WINDOW_NS: u64 = 30_000_000_000;

/// True for causes whose proof is a statement in the payloads a HAR keeps (Socket.IO and
/// Engine.IO packets, HTTP responses), so a HAR can show them as well as a capture.
fn settled_by_payload(c: Cause) -> bool {
    matches!(
        c,
        Cause::ClientDisconnect
            | Cause::ServerDisconnect
            | Cause::ServerShutdown
            | Cause::ConnectRefused
            | Cause::SessionUnknown
            | Cause::MessageTooLarge
    )
}

fn candidate(cause: Cause, decide: &str) -> Candidate {
    Candidate {
        cause,
        decide: decide.to_string(),
    }
}

/// Rewrites what a HAR cannot show: ends without evidence become "unknown from a HAR", or a likely
/// server loss when the browser saw the server's port refuse connections afterwards; every session
/// gets the `har-limits` note. Chains are rebuilt, since a settled end can link a reconnect.
pub fn apply_har_limits(t: &SessionTracker, x: &mut Explanation, har: &HarSummary) {
    for (i, f) in x.sessions.iter_mut().enumerate() {
        let next_open = t.sessions().get(i + 1).map(|s| s.opened.ts);
        if f.end.cause == Cause::StillOpen {
            let quiet = f.end.at.ts;
            let refused: Vec<_> = har
                .refused
                .iter()
                .filter(|r| r.ts >= quiet && r.ts.0 <= quiet.0.saturating_add(REFUSED_WINDOW_NS))
                .filter(|r| {
                    f.server
                        .ends_with(&format!(":{}", r.server.rsplit(':').next().unwrap_or("")))
                })
                .collect();
            if let Some(first) = refused.first() {
                let mut ev = vec![f.end.at.clone()];
                ev[0].what = format!("last record of the session in the HAR: {}", ev[0].what)
                    .trim_end_matches(": ")
                    .to_string()
                    .into();
                for r in refused.iter().take(3) {
                    ev.push(crate::session::Mark {
                        frame: r.frame,
                        ts: r.ts,
                        conn: 0,
                        dir: None,
                        what: format!("browser: net::ERR_CONNECTION_REFUSED for {}", r.url).into(),
                    });
                }
                f.end.cause = Cause::TransportClose;
                f.end.initiator = Initiator::Server;
                f.end.reason = Some("transport close".into());
                f.end.client_reason = Some("transport close".into());
                f.end.explanation = format!(
                    "Likely the server went away: the session's last record is followed {:.1} s later by {} connection attempt(s) to {} that the browser reported refused (nothing listened on the port){}. A HAR holds no TCP, so whether the server closed or reset the connection, and exactly when, is unknown; \"transport close\" is what a client sees when the server process dies.",
                    (first.ts.0.saturating_sub(quiet.0)) as f64 / 1e9,
                    refused.len(),
                    first.server,
                    if next_open.is_some_and(|n| n > first.ts) { ", then a new session was opened: the server came back" } else { "" },
                );
                f.end.evidence = ev;
                f.end.certainty = Certainty::Likely;
                f.end.certainty_reason = "the browser reported the server's port refusing connections after the session went quiet; a HAR holds no TCP, so the close itself is not in the file".into();
                f.end.candidates = vec![
                    candidate(Cause::TransportError, "a capture of the same traffic: an RST from the server instead of a FIN"),
                    candidate(Cause::PingTimeout, "a capture or the server's log: the session's last ping unanswered for pingTimeout before the server went away"),
                ];
            } else {
                f.end.explanation = "Unknown from a HAR: it holds no TCP FIN/RST and no WebSocket close frames, so how this session's transport ended is not in the file (a capture of the same session would show it).".into();
                f.end.certainty = Certainty::Unknown;
                f.end.certainty_reason =
                    "a HAR holds no TCP FIN/RST and no WebSocket close frames".into();
                f.end.candidates = vec![
                    candidate(Cause::StillOpen, "a capture of the same traffic: no FIN, RST or close frame before it ends"),
                    candidate(Cause::TransportClose, "a capture of the same traffic: a FIN or RST with no protocol close before it"),
                    candidate(Cause::PingTimeout, "a capture or the server's log: a ping unanswered for pingTimeout"),
                ];
            }
        } else if f.end.certainty == Certainty::Certain && !settled_by_payload(f.end.cause) {
            f.end.certainty = Certainty::Likely;
            f.end.certainty_reason = format!(
                "from a HAR: {} is certain only with TCP or WebSocket close-frame evidence, which a HAR does not hold (the rule read: {})",
                f.end.cause.as_str(),
                f.end.certainty_reason
            );
            if f.end.candidates.is_empty() {
                f.end.candidates.push(candidate(
                    Cause::TransportClose,
                    "a capture of the same traffic: how the connection itself closed",
                ));
            }
        }
        // A WebSocket entry exported without its messages looks, on the timeline, like a 101
        // and silence: not a blocked WebSocket, an unknown one.
        let silent = |c: u64| har.ws_without_messages.iter().any(|w| w.0 == c);
        let unknown: Vec<u64> = f
            .notes
            .iter()
            .filter(|n| matches!(n.kind, "websocket-blocked" | "upgrade-failed"))
            .flat_map(|n| n.evidence.iter().map(|m| m.conn))
            .filter(|c| silent(*c))
            .collect();
        if let Some(&c) = unknown.first() {
            f.notes.retain(|n| {
                !(matches!(n.kind, "websocket-blocked" | "upgrade-failed")
                    && n.evidence.iter().any(|m| silent(m.conn)))
            });
            f.notes.push(Note {
                kind: "har-ws-unknown",
                text: format!(
                    "The HAR's WebSocket entry for this session (c{c}) holds no messages (`_webSocketMessages` absent: {}): whether the upgrade completed, what travelled over it and how it ended are unknown. The 101 followed by nothing is not evidence of a blocked WebSocket here.",
                    match har.dialect {
                        crate::har::Dialect::Firefox => "Firefox's HAR export writes no WebSocket messages",
                        crate::har::Dialect::Playwright => "Playwright leaves them out under PLAYWRIGHT_HAR_NO_WEBSOCKET_FRAMES or without `content: 'embed'`",
                        _ => "this exporter did not write them",
                    }
                ),
                evidence: vec![],
            });
        }
        f.notes.push(Note {
            kind: "har-limits",
            text: format!(
                "Read from a HAR ({}): no TCP, no WebSocket close frames or codes, no compression; a connection \"closing\" is where its HAR entry ends, and frame numbers are places on the HAR's timeline.",
                har.dialect.as_str()
            ),
            evidence: vec![],
        });
    }
    let records: Vec<&SessionRecord> = t.sessions().iter().collect();
    x.chains = build_chains(&records, &mut x.sessions);
}
