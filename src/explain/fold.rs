//! The fold: every session's facts through the cause rules, then notes, chains and refusals.

use std::collections::BTreeSet;

use super::causes::classify;
use super::chains::build_chains;
use super::facts::{ms, Facts};
use super::finding::{Explanation, Finding, SocketSummary};
use super::neighbours::{around, Life};
use super::notes::notes;
use super::refusal::refusals;
use crate::session::{FoldedEnd, Mark, SessionRecord, SessionTracker};

/// Explains every session the tracker saw.
pub fn explain(t: &SessionTracker) -> Explanation {
    explain_where(t, |_| true)
}

/// A session tracker keeping at most `max` session records (`--max-tracked-sessions`), each
/// ended session it folds explained first, so that its cause stays in the summary's totals and
/// an abnormal end still makes `explain` exit 1.
pub fn bounded_tracker(max: usize) -> SessionTracker {
    SessionTracker::with_max_sessions(max).explaining_folded(explain_end)
}

/// How the session `sid` ended, explained alone on the tracker.
fn explain_end(t: &SessionTracker, sid: &str) -> Option<FoldedEnd> {
    let x = explain_sessions(t, &BTreeSet::from([sid.to_string()]));
    let f = x.sessions.first()?;
    Some(FoldedEnd {
        cause: f.end.cause.as_str(),
        abnormal: f.abnormal(),
    })
}

/// Explains only the sessions named in `sids` (a live run explains the sessions a closing
/// connection carried, not every session again). Simultaneous ends are still counted against
/// every session of the tracker; reconnect chains link the chosen sessions only.
pub fn explain_sessions(t: &SessionTracker, sids: &BTreeSet<String>) -> Explanation {
    explain_where(t, |s| sids.contains(&s.sid))
}

fn explain_where(t: &SessionTracker, keep: impl Fn(&SessionRecord) -> bool) -> Explanation {
    let all: Vec<Facts> = t.sessions().iter().map(|s| Facts::new(s, t)).collect();
    // Connections the server refused: opened with a SYN, reset by the server within 50 ms,
    // not one byte either way (nothing listened on the port: the server's process had stopped
    // listening, `socket.io@4.8.4/dist/index.js:510-534` io.close() closes the HTTP server).
    let refused: Vec<(&str, Mark)> = t
        .conns()
        .values()
        .filter_map(|c| {
            let rst = c.rst.as_ref()?;
            (c.syn_seen
                && rst.dir == Some(crate::event::Dir::S2C)
                && c.last_data == [None, None]
                && ms(c.opened.ts, rst.ts) <= 50.0)
                .then(|| (c.server.as_str(), rst.clone()))
        })
        .collect();
    // Around each end, against every session of the capture: transports that ended within
    // 100 ms (simultaneity); sessions of the same server opened before the end and still active
    // a second after it, or a handshake it accepted within 200 ms after it (sooner than a new
    // process listens, and sooner than socket.io-client's reconnection delay: that server did
    // not shut down); sessions it opened within 10 s after; a refused connection within 10 s.
    let lives: Vec<Life<'_>> = all
        .iter()
        .map(|f| Life {
            server: f.s.server.as_str(),
            opened: f.s.opened.ts,
            last: f.s.last.ts,
            end: f.transport_end.as_ref().map(|m| m.ts),
        })
        .collect();
    let arounds = around(&lives, &refused);
    drop(lives);
    // In place: a second vector of the kept facts, grown from empty, held both at once.
    let mut facts = all;
    for (f, a) in facts.iter_mut().zip(arounds) {
        if let Some(a) = a {
            f.simultaneous = a.simultaneous;
            f.survivors = a.survivors;
            f.reopened = a.reopened;
            f.refused_after = a.refused_after;
        }
    }
    facts.retain(|f| keep(f.s));
    let mut sessions: Vec<Finding> = facts
        .iter()
        .map(|f| {
            let s = f.s;
            Finding {
                sid: s.sid.clone(),
                eio: s.eio,
                transports: s.transports.iter().map(|t| t.transport.clone()).collect(),
                client: s.client.clone(),
                server: s.server.clone(),
                implementation: f.peers.clone(),
                user_agent: s.user_agent.clone(),
                start: s.opened.clone(),
                sockets: s
                    .sockets
                    .iter()
                    .map(|k| SocketSummary {
                        nsp: k.nsp.clone(),
                        socket_id: k.socket_id.clone(),
                        refused: k.refused,
                        recovered: None,
                    })
                    .collect(),
                upgrade: s.upgrade,
                upgrade_at: s.upgrade_mark.clone(),
                lost: s.lost_after_close.clone(),
                injected: s
                    .anomalies
                    .iter()
                    .filter(|m| m.what.starts_with("injected-fault:"))
                    .cloned()
                    .collect(),
                events: s.events,
                end: classify(f),
                notes: vec![],
            }
        })
        .collect();
    for (f, finding) in facts.iter().zip(sessions.iter_mut()) {
        finding.notes = notes(f, &finding.end);
    }
    let records: Vec<&SessionRecord> = facts.iter().map(|f| f.s).collect();
    let chains = build_chains(&records, &mut sessions);
    let duration = t.span().map(|(a, b)| ms(a, b) / 1000.0).unwrap_or(0.0);
    let hops = t.hops();
    super::hops::apply(&mut sessions, &hops);
    Explanation {
        sessions,
        chains,
        sessionless_errors: t.sessionless_errors.clone(),
        refusals: refusals(&t.sessionless_errors),
        hops,
        duration,
        folded: t.folded().cloned(),
    }
}
