//! Reconnect chains: which session replaced which, and what that did to socket ids.
//!
//! Two sessions are linked `A → B` when B is the same client's next session: a Socket.IO
//! connection-state-recovery `pid` offered in B that A's server issued (certain), or else the same
//! client IP, `User-Agent`, request fingerprint (path and app query, minus `t`/`sid`/
//! `transport`) and CONNECT payload shape (its `auth`), with B's handshake after A's end and
//! within a minute of it (reconnection delays
//! of socket.io clients grow to `reconnectionDelayMax`, 5 s by default, plus jitter).

use std::collections::BTreeSet;

use foldhash::HashMap;
use serde::Serialize;

use super::cause::Cause;
use super::facts::ms;
use super::finding::Finding;
use crate::event::Dir;
use crate::session::SessionRecord;

/// Shortest pause between an end and the next handshake of a reconnect: socket.io-client's
/// Manager waits its backoff (`reconnectionDelay`, 1000 ms by default, ±50 % jitter:
/// `socket.io-client@4.8.4/build/cjs/manager.js` `reconnect()`) before it opens a new session;
/// a handshake a few milliseconds after another session ended is a new client (a test suite's
/// next test, another tab).
const MIN_GAP_MS: f64 = 20.0;

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
    /// How the link was made: `recovery-pid` (certain), `same-client` (the only session that
    /// fits), or `ambiguous` (the nearest of several that fit; `others` lists the rest).
    pub by: &'static str,
    /// With `ambiguous`: the other sessions that could be the predecessor.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub others: Vec<String>,
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

/// The namespaces a session connected to.
fn namespaces(r: &SessionRecord) -> BTreeSet<&str> {
    r.sockets.iter().map(|k| k.nsp.as_str()).collect()
}

/// Whether the session tried a WebSocket at all (a client's `transports` option does not change
/// between its reconnects).
fn tried_websocket(r: &SessionRecord) -> bool {
    r.transports.iter().any(|t| t.transport == "websocket")
}

/// Whether the session carries Socket.IO: a namespace joined, or the `/socket.io/` path (a bare
/// Engine.IO app serves `/engine.io/` by default: `engine.io@6.6.12/build/server.js`).
fn socket_io(r: &SessionRecord) -> bool {
    !r.sockets.is_empty() || r.fingerprint.starts_with("/socket.io")
}

/// Whether a socket of the session was accepted (a refused or blocked session ended before
/// its client could show its transports).
fn connected(r: &SessionRecord) -> bool {
    r.sockets
        .iter()
        .any(|k| !k.refused && k.connected.is_some())
}

/// Whether the session's client processed the open packet and still never sent a Socket.IO
/// CONNECT (Engine.IO 4 only). socket.io-client sends its CONNECT from the Manager's `open`
/// event, in the same tick as the open packet is handled (`socket.io-client@4.8.4/build/cjs/
/// manager.js:214-220` emits `open`; `socket.js:152-157` subscribes `onopen`, `:196-200` calls
/// it when already open, `:423-431` sends the CONNECT), so a client that did anything after the
/// open (an Engine.IO packet, a request on another connection with the sid, a close frame)
/// without a CONNECT is no socket.io-client: there is no Manager whose backoff would bring it
/// back, and its next session is a new client (a test suite's next test). The one exception is
/// an `auth` *function* that answers later than the client's first other packet (`socket.js:
/// 424-428`); a session whose client sent nothing after the open (a frozen or blocked client)
/// keeps its link.
fn client_without_socket_io(r: &SessionRecord) -> bool {
    let acted = r.last_packet[0].is_some()
        || r.conns.len() > 1
        || r.ws_closes.iter().any(|c| c.at.dir == Some(Dir::C2S));
    r.eio == Some(4) && r.sockets.is_empty() && acted
}

/// How soon after the server's close frame a client's own close frame shows that its event loop
/// was running when the close arrived (the suite's raw clients answered within 1 ms).
const PROMPT_CLOSE_MS: f64 = 50.0;

/// How long before the server's close the unanswered ping must have gone out, so that a client
/// whose loop was running then had it in hand well before the close.
const PING_BEFORE_CLOSE_MS: f64 = 100.0;

/// Whether the client had a ping in hand and went on without answering it: on the ping's
/// WebSocket the server's close frame came at least [`PING_BEFORE_CLOSE_MS`] after the ping, the
/// client answered that close within [`PROMPT_CLOSE_MS`] and before its own heartbeat deadline,
/// and no pong came. engine.io-client answers a ping the moment it handles it
/// (`engine.io-client@6.6.8/build/cjs/socket.js:379-380`), as python-engineio's client does
/// (`engineio/async_client.py:444-445`). A frozen socket.io-client reads the ping and the close
/// together when it wakes and answers only the close, late (`v4-many-clients-staggered`: 0.65 s
/// after the server's close); its own deadline (`pingInterval + pingTimeout` after the ping,
/// `socket.js:426-431`) may also have fired first. A client that answered the close at once and
/// never the ping 100 ms older is no engine.io client (a test suite's raw WebSocket), and no
/// Manager brings it back.
fn ignored_a_ping(r: &SessionRecord) -> bool {
    let (Some(ping), None) = (r.last_ping.as_ref(), r.last_pong.as_ref()) else {
        return false;
    };
    let (Some(interval), Some(timeout)) = (r.ping_interval, r.ping_timeout) else {
        return false;
    };
    if r.eio != Some(4) || ping.dir != Some(Dir::S2C) {
        return false;
    }
    let deadline_ms = (interval + timeout) as f64;
    let on_ping_conn = |dir: Dir| {
        r.ws_closes
            .iter()
            .find(|c| c.at.conn == ping.conn && c.at.dir == Some(dir) && c.at.ts > ping.ts)
    };
    match (on_ping_conn(Dir::S2C), on_ping_conn(Dir::C2S)) {
        (Some(server), Some(client)) => {
            let reply = ms(server.at.ts, client.at.ts);
            (0.0..=PROMPT_CLOSE_MS).contains(&reply)
                && ms(ping.ts, server.at.ts) >= PING_BEFORE_CLOSE_MS
                && ms(ping.ts, client.at.ts) < deadline_ms
        }
        _ => false,
    }
}

/// Whether the CONNECT payloads of `a` and `b` rule out one socket.io-client: for a namespace
/// both joined, the payloads (recovery keys left out) have different key names. A Manager's
/// socket sends the same `auth` on every reconnect (`session::ConnectAuth`).
fn other_auth(a: &SessionRecord, b: &SessionRecord) -> bool {
    a.sockets.iter().any(|ka| {
        b.sockets.iter().any(|kb| {
            ka.nsp == kb.nsp
                && match (&ka.auth, &kb.auth) {
                    (Some(x), Some(y)) => !x.same_shape(y),
                    _ => false,
                }
        })
    })
}

/// Whether `b` can be the reconnect of `a`'s client: same address, `User-Agent` and request
/// fingerprint; both Socket.IO sessions (a bare Engine.IO client has no Manager that
/// reconnects); the same transports tried, the same namespaces joined with CONNECT payloads of
/// the same shape; both clients behaving as engine.io clients do (a CONNECT, pings answered);
/// and `a` did not end with the client leaving on purpose (socket.io-client does not reconnect
/// after its own `disconnect()`).
fn same_client(a: &SessionRecord, b: &SessionRecord, end_a: &Finding) -> bool {
    a.client_ip == b.client_ip
        && a.user_agent == b.user_agent
        && a.fingerprint == b.fingerprint
        && a.opened.ts < b.opened.ts
        && (socket_io(a) || socket_io(b))
        && (!connected(a) || tried_websocket(a) == tried_websocket(b))
        && (a.sockets.is_empty() || b.sockets.is_empty() || namespaces(a) == namespaces(b))
        && !matches!(end_a.end.cause, Cause::StillOpen | Cause::ClientDisconnect)
        && !client_without_socket_io(a)
        // a Manager's reconnect sends CONNECT again for every namespace it had (the sockets'
        // `onopen` on the new engine's `open`, same lines): a successor without one is not it
        && !client_without_socket_io(b)
        && !ignored_a_ping(a)
        && !ignored_a_ping(b)
        && !other_auth(a, b)
}

/// What every session of one client shares (the first tests of [`same_client`]).
type ClientKey<'r> = (&'r str, Option<&'r str>, &'r str);

fn client_key(r: &SessionRecord) -> ClientKey<'_> {
    (
        r.client_ip.as_str(),
        r.user_agent.as_deref(),
        r.fingerprint.as_str(),
    )
}

/// Links sessions into chains, and marks recovered sockets in the findings.
pub(crate) fn build_chains(records: &[&SessionRecord], findings: &mut [Finding]) -> Vec<Chain> {
    let n = records.len().min(findings.len());
    let mut next: Vec<Option<(usize, &'static str)>> = vec![None; n];
    let mut prev: Vec<Option<usize>> = vec![None; n];
    let mut ambiguous: Vec<Vec<String>> = vec![vec![]; n];
    // The sessions given each pid, in order.
    let mut given: HashMap<&str, Vec<usize>> = HashMap::default();
    // The sessions of each client (address, User-Agent, fingerprint: what `same_client` asks
    // first), by the time they ended, so that only those that ended MIN_GAP_MS to MAX_GAP_MS
    // before a handshake are tried as its predecessor (asking every session about every other
    // was O(n²)).
    let mut clients: HashMap<ClientKey<'_>, Vec<usize>> = HashMap::default();
    for (a, r) in records.iter().enumerate().take(n) {
        for p in r.sockets.iter().filter_map(|k| k.pid.as_deref()) {
            let list = given.entry(p).or_default();
            if list.last() != Some(&a) {
                list.push(a);
            }
        }
        clients.entry(client_key(r)).or_default().push(a);
    }
    for list in clients.values_mut() {
        list.sort_by_key(|&a| findings[a].end.at.ts);
    }
    for b in 0..n {
        let rb = &records[b];
        // Certain: B offers a pid that A was given (the first such A still free).
        let by_pid = rb
            .sockets
            .iter()
            .filter_map(|k| k.recovery_pid.as_deref())
            .filter_map(|p| {
                given
                    .get(p)?
                    .iter()
                    .copied()
                    .find(|&a| a != b && next[a].is_none())
            })
            .min();
        let candidate = by_pid.map(|a| (a, "recovery-pid")).or_else(|| {
            // Every session that fits, taken or not: a predecessor already linked to another
            // session still makes this link ambiguous when it fits as well. A successor never
            // starts before its predecessor ends: the gap, which shrinks as the end is later,
            // is in range for one run of the client's sessions sorted by end.
            let client = clients.get(&client_key(rb)).map_or(&[][..], Vec::as_slice);
            let gap = |a: usize| ms(findings[a].end.at.ts, rb.opened.ts);
            let lo = client.partition_point(|&a| gap(a) > MAX_GAP_MS);
            let hi = client.partition_point(|&a| gap(a) >= MIN_GAP_MS);
            let mut all_fits: Vec<usize> = client
                .get(lo..hi)
                .unwrap_or(&[])
                .iter()
                .copied()
                .filter(|&a| a != b)
                .filter(|&a| same_client(records[a], rb, &findings[a]))
                .collect();
            all_fits.sort_unstable();
            // The nearest free end before the handshake.
            let nearest = all_fits
                .iter()
                .copied()
                .filter(|&a| next[a].is_none())
                .min_by_key(|&a| rb.opened.ts.0.saturating_sub(findings[a].end.at.ts.0))?;
            // A predecessor already taken still counts when it ended together with the chosen
            // one (a server kill ends every session at once): the order of the reconnects
            // then does not say which client is which.
            let chosen_end = findings[nearest].end.at.ts;
            let fits: Vec<usize> = all_fits
                .into_iter()
                .filter(|&a| {
                    next[a].is_none() || ms(findings[a].end.at.ts, chosen_end).abs() <= 100.0
                })
                .collect();
            if fits.len() > 1 {
                ambiguous[b] = fits
                    .iter()
                    .filter(|&&a| a != nearest)
                    .map(|&a| records[a].sid.clone())
                    .collect();
            }
            Some((
                nearest,
                if fits.len() > 1 {
                    "ambiguous"
                } else {
                    "same-client"
                },
            ))
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
                others: std::mem::take(&mut ambiguous[b]),
                sockets,
            });
            chain.sids.push(rb.sid.clone());
            a = b;
        }
        chains.push(chain);
    }
    chains
}

#[cfg(test)]
mod tests {
    use crate::explain::fixture_tests::explained;

    /// The links of a capture, as (from, to) sid prefixes of 6 characters.
    fn links(pcap: &str) -> Vec<(String, String)> {
        explained(pcap)
            .chains
            .iter()
            .flat_map(|c| c.links.iter())
            .map(|l| {
                (
                    l.from.chars().take(6).collect(),
                    l.to.chars().take(6).collect(),
                )
            })
            .collect()
    }

    #[test]
    fn a_client_that_never_sends_connect_is_not_a_reconnecting_socket_io_client() {
        // The official socket.io-protocol suite: one mocha client per test, from one address.
        // BPmPvb polled with its sid and answered pings, r4rfL9 answered the server's close
        // frame, uT4Nmw sent an invalid handshake: none sent a CONNECT, none is linked on;
        // x3YIt2 did nothing after its handshake, but its successor BPmPvb is no reconnect.
        let suite = links("suite-sio.pcapng");
        for from in [
            "x3YIt2", "BPmPvb", "r4rfL9", "-wX8tR", "uT4Nmw", "dZhU65", "kgQbZ3",
        ] {
            assert!(
                suite.iter().all(|(f, _)| f != from),
                "{from} linked: {suite:?}"
            );
        }
        // A real socket.io-client 4.8.4 reconnect after its ping timeout is still linked.
        let real = links("v4-ping-timeout.pcap");
        assert_eq!(real.len(), 1, "{real:?}");
    }

    /// The suite's raw clients: 084WUO answered the server's close 1 ms after it and never the
    /// ping 204 ms older; S8zR16 sent `{"token":"123"}`, ufFTS7 no payload. Neither is linked;
    /// real reconnects still are, a frozen client's (late close, no pong) among them.
    #[test]
    fn ignored_pings_and_other_connect_payloads_are_not_one_client() {
        let suite = links("suite-sio.pcapng");
        assert!(suite.is_empty(), "{suite:?}");
        let staggered = links("v4-many-clients-staggered.pcap");
        for (from, to) in [("S8guDE", "ofm_Gw"), ("malGj9", "zzfcSg")] {
            assert!(
                staggered.contains(&(from.to_string(), to.to_string())),
                "{staggered:?}"
            );
        }
        assert_eq!(links("v4-recovery.pcap").len(), 1);
        assert_eq!(
            links("py-client-polling-killed-restarted.pcap"),
            vec![("ON1iEd".to_string(), "5keWbw".to_string())]
        );
        // the app changed its token between sessions: same key, still one client
        assert_eq!(links("v4-auth-refused-polling.pcap").len(), 2);
    }
}
