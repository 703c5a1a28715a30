//! Reconnect chains: which session replaced which, and what that did to socket ids.
//!
//! Two sessions are linked `A → B` when B is the same client's next session: a Socket.IO
//! connection-state-recovery `pid` offered in B that A's server issued (certain), or else the same
//! client IP, `User-Agent` and request fingerprint (path and app query, minus `t`/`sid`/
//! `transport`), with B's handshake after A's end and within a minute of it (reconnection delays
//! of socket.io clients grow to `reconnectionDelayMax`, 5 s by default, plus jitter).

use serde::Serialize;

use super::cause::Cause;
use super::finding::Finding;
use crate::session::SessionRecord;

/// Longest pause between an end and the next handshake that still counts as a reconnect.
const MAX_GAP_MS: f64 = 60_000.0;

/// A socket id that changed (or not) across a reconnect.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SocketChange {
    /// Namespace.
    pub nsp: String,
    /// Socket id in the earlier session.
    pub from: Option<String>,
    /// Socket id in the later session (none when the namespace was not joined again).
    pub to: Option<String>,
    /// Connection state recovery restored the socket (same id, `pid` offered).
    pub recovered: bool,
}

/// One reconnect: `from` ended, `to` replaced it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Link {
    /// Earlier session id.
    pub from: String,
    /// Later session id.
    pub to: String,
    /// Why the earlier one ended.
    pub cause: Cause,
    /// Milliseconds from the end of `from` to the handshake of `to`.
    pub gap_ms: f64,
    /// How the link was made: `recovery-pid` or `same-client`.
    pub by: &'static str,
    /// Socket ids per namespace.
    pub sockets: Vec<SocketChange>,
}

/// Sessions of one client, in order, with the links between them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Chain {
    /// Client IP.
    pub client: String,
    /// Session ids in order.
    pub sids: Vec<String>,
    /// The links (one fewer than `sids`).
    pub links: Vec<Link>,
}

fn ms(a: crate::event::Timestamp, b: crate::event::Timestamp) -> f64 {
    (b.0 as f64 - a.0 as f64) / 1e6
}

/// Links sessions into chains, and marks recovered sockets in the findings.
pub(crate) fn build_chains(records: &[&SessionRecord], findings: &mut [Finding]) -> Vec<Chain> {
    let n = records.len().min(findings.len());
    let mut next: Vec<Option<(usize, &'static str)>> = vec![None; n];
    let mut prev: Vec<Option<usize>> = vec![None; n];
    for b in 0..n {
        let rb = &records[b];
        let offered: Vec<&str> = rb
            .sockets
            .iter()
            .filter_map(|k| k.recovery_pid.as_deref())
            .collect();
        // Certain: B offers a pid that A was given.
        let by_pid = (0..n).find(|&a| {
            a != b
                && next[a].is_none()
                && records[a]
                    .sockets
                    .iter()
                    .any(|k| k.pid.as_deref().is_some_and(|p| offered.contains(&p)))
        });
        let candidate = by_pid.map(|a| (a, "recovery-pid")).or_else(|| {
            (0..b)
                .rev()
                .filter(|&a| next[a].is_none())
                .find(|&a| {
                    let ra = &records[a];
                    let end = findings[a].end.at.ts;
                    ra.client_ip == rb.client_ip
                        && ra.user_agent == rb.user_agent
                        && ra.fingerprint == rb.fingerprint
                        && ra.opened.ts < rb.opened.ts
                        && ms(end, rb.opened.ts) >= -1000.0
                        && ms(end, rb.opened.ts) <= MAX_GAP_MS
                        && findings[a].end.cause != Cause::StillOpen
                })
                .map(|a| (a, "same-client"))
        });
        if let Some((a, by)) = candidate {
            next[a] = Some((b, by));
            prev[b] = Some(a);
        }
    }
    let mut chains = vec![];
    for start in 0..n {
        if prev[start].is_some() || next[start].is_none() {
            continue;
        }
        let mut chain = Chain {
            client: records[start].client_ip.clone(),
            sids: vec![records[start].sid.clone()],
            links: vec![],
        };
        let mut a = start;
        let mut guard = 0;
        while let Some((b, by)) = next[a] {
            guard += 1;
            if guard > n {
                break;
            }
            let (ra, rb) = (&records[a], &records[b]);
            let mut sockets = vec![];
            for ka in &ra.sockets {
                let kb = rb.sockets.iter().find(|k| k.nsp == ka.nsp);
                let to = kb.and_then(|k| k.socket_id.clone());
                let recovered = kb.is_some_and(|k| k.recovery_pid.is_some())
                    && to.is_some()
                    && to == ka.socket_id;
                if recovered {
                    if let Some(s) = findings[b].sockets.iter_mut().find(|s| s.nsp == ka.nsp) {
                        s.recovered = Some(true);
                    }
                } else if kb.is_some_and(|k| k.recovery_pid.is_some()) {
                    if let Some(s) = findings[b].sockets.iter_mut().find(|s| s.nsp == ka.nsp) {
                        s.recovered = Some(false);
                    }
                }
                sockets.push(SocketChange {
                    nsp: ka.nsp.clone(),
                    from: ka.socket_id.clone(),
                    to,
                    recovered,
                });
            }
            chain.links.push(Link {
                from: ra.sid.clone(),
                to: rb.sid.clone(),
                cause: findings[a].end.cause,
                gap_ms: ms(findings[a].end.at.ts, rb.opened.ts),
                by,
                sockets,
            });
            chain.sids.push(rb.sid.clone());
            a = b;
        }
        chains.push(chain);
    }
    chains
}
