//! `ping-timeout`: a heartbeat deadline passed and the waiting side closed the session.
//!
//! The deadlines come from the open packet (`pingInterval`, `pingTimeout`):
//!
//! - **Engine.IO v4 (socket.io 3/4): the server pings.** engine.io-protocol: "the server sends a
//!   `ping` packet every `pingInterval` ms; if the client does not answer with `pong` within
//!   `pingTimeout` ms, the server considers that the connection is closed"
//!   (`engine.io@6.6.12/build/socket.js:166-187`). The client's deadline is `pingInterval +
//!   pingTimeout` after the last ping it received (`engine.io-client@6.6.8/build/cjs/socket.js`,
//!   `_resetPingTimeout` / `_hasPingExpired`): a client whose event loop was frozen finds its own
//!   timer expired before it reads anything, so it also reports `ping timeout`.
//! - **Engine.IO v3 (socket.io 1.x/2.x): the client pings.** The server restarts a timer of
//!   `pingInterval + pingTimeout` on every packet from the client (`engine.io@3.6` `Socket.
//!   setPingTimeout`, called from `onPacket`); the client waits `pingTimeout` for its pong. A
//!   frozen 1.x/2.x client reports the server's close it finds on waking: `transport close`.
//!
//! A pong after the close, or after the deadline, answers nothing (issue #11 class 1): it is
//! the frozen peer's late reply. A session that ends this way is reported by the server as
//! `ping timeout` on every implementation (python-engineio@4.15.1/engineio/base_server.py:29).
//! What to do: find what blocks the peer's event loop, or raise the timings on the server.

use crate::event::{Dir, Timestamp};
use crate::explain::cause::Cause;
use crate::explain::certainty::Certainty;
use crate::explain::facts::{end, initiator_of, ms, side, Facts};
use crate::explain::finding::FindingEnd;
use crate::explain::implementation::Implementation;
use crate::session::{Mark, UpgradeState};

/// Fraction of a deadline an end may come early and still count (timer granularity, the
/// capture point being a hop away from the peer).
const SLACK: f64 = 0.9;

/// Where the session ended, as the heartbeat rule sees it: the earliest close the capture shows
/// (an Engine.IO close packet, a close frame, a `400` for the session, FIN/RST of its transport).
fn end_of(f: &Facts) -> Option<Mark> {
    let mut candidates: Vec<Mark> = vec![];
    candidates.extend(f.engine_close());
    candidates.extend(f.s.ws_closes.first().map(|c| c.at.clone()));
    candidates.extend(
        f.s.http_errors
            .iter()
            .find(|m| m.what.contains("\"code\":1"))
            .cloned(),
    );
    candidates.extend(f.transport_end.clone());
    candidates.into_iter().min_by_key(|m| m.frame)
}

/// A ping before `at` that got no pong in time: no pong at all, a pong after `at`, or a pong
/// later than `timeout` after the ping.
fn unanswered_ping(f: &Facts, at: &Mark, timeout: f64) -> Option<Mark> {
    let s = f.s;
    let answered = |p: &Mark| {
        s.last_pong
            .as_ref()
            .is_some_and(|q| q.frame < at.frame && ms(p.ts, q.ts) <= timeout)
    };
    match &s.last_ping {
        Some(p) if p.frame < at.frame && !answered(p) => Some(p.clone()),
        _ => s.unanswered_ping.clone().filter(|p| p.frame < at.frame),
    }
}

/// A passed heartbeat deadline: who was waiting, since when, and where it ended.
pub(crate) struct Expiry {
    /// The ping that went unanswered, or the last packet before the silence.
    pub since: Mark,
    /// The deadline it missed.
    pub deadline: Timestamp,
    /// Where the session ended.
    pub at: Mark,
    /// True when `since` is an unanswered ping (else a silence).
    pub ping: bool,
    /// The side whose deadline passed first (`S2C`: the server gave up).
    pub waiter: Dir,
    /// The client stopped polling: no request after the last one, and the capture runs past
    /// the deadline (the server's timeout leaves nothing on the wire).
    pub abandoned: bool,
}

/// A polling session whose client stopped sending requests: its last connection closed after
/// a complete response (a client's `Connection: close`, node-fetch does this, is not the end of
/// a session) and the capture runs past `pingInterval + pingTimeout` without another request.
/// engine.io then drops the session with "ping timeout" (`engine.io@6.6.12/build/socket.js:
/// 166-187`), although nothing of it is on the wire. Not when a request of the session was left
/// unanswered or the server's port refused the next connection (`py-client-polling-killed-
/// restarted`: the server process was killed under a pending poll and restarted).
fn abandoned(f: &Facts, at: &Mark, window: f64) -> Option<Expiry> {
    let s = f.s;
    let on_polling = s.upgrade != UpgradeState::Upgraded
        && s.transports
            .last()
            .is_some_and(|t| t.transport == "polling");
    let c = f.last_conn?;
    let tcp_end = [c.fin.as_ref(), c.rst.as_ref()]
        .into_iter()
        .flatten()
        .any(|m| m.frame == at.frame);
    let answered = match (&c.last_data[0], &c.last_data[1]) {
        (Some(req), Some(resp)) => resp.frame > req.frame,
        _ => false,
    };
    let last = s.last_packet[0]
        .iter()
        .chain(s.last_packet[1].iter())
        .max_by_key(|m| m.frame)?
        .clone();
    let idle = ms(last.ts, f.capture_end);
    // A request still waiting when its connection ended (the server's FIN under a pending
    // poll), or a port that refused the next connection, is a server that went away, not one
    // that timed a silent client out.
    let gone = f.refused_after.is_some() || f.cut_request(u64::MAX).is_some();
    (on_polling && tcp_end && answered && !gone && window > 0.0 && idle >= window).then(|| Expiry {
        deadline: Timestamp(last.ts.0 + (window * 1e6) as u64),
        since: last,
        at: at.clone(),
        ping: false,
        waiter: Dir::S2C,
        abandoned: true,
    })
}

/// The heartbeat deadline the session's end came after, if any, for either side. On polling
/// the server's own timeout leaves nothing on the wire while the client is frozen, so a
/// deadline that passed before *any* end counts, whichever side the end came from.
pub(crate) fn expiry(f: &Facts) -> Option<Expiry> {
    let s = f.s;
    let timeout = s.ping_timeout? as f64;
    let interval = s.ping_interval.unwrap_or(0) as f64;
    let server_pings = s.eio.unwrap_or(4) >= 4;
    let at = end_of(f)?;
    if let Some(x) = abandoned(f, &at, interval + timeout) {
        return Some(x);
    }
    let passed = |since: &Mark, window: f64| ms(since.ts, at.ts) >= window * SLACK;
    let deadline = |since: &Mark, window: f64| Timestamp(since.ts.0 + (window * 1e6) as u64);
    let make = |since: Mark, window: f64, ping: bool, waiter: Dir| Expiry {
        deadline: deadline(&since, window),
        since,
        at: at.clone(),
        ping,
        waiter,
        abandoned: false,
    };
    // The pinging side waits pingTimeout for its pong; the other side waits pingInterval +
    // pingTimeout for the next ping (v4 clients) or for any packet (v3 servers).
    let (pinger, other) = if server_pings {
        (Dir::S2C, Dir::C2S)
    } else {
        (Dir::C2S, Dir::S2C)
    };
    let by_pinger = unanswered_ping(f, &at, timeout)
        .filter(|p| p.dir == Some(pinger) && passed(p, timeout))
        .map(|p| make(p, timeout, true, pinger));
    // When the end is a 400 "Session ID unknown", the packet its request carried never reached
    // a live session (`engine.io@6.6.12/build/server.js:130-135` answers before any transport
    // sees it): it is no sign of life, so the waiter's deadline runs from the packet before.
    let rejected_conn = rejected_end(f, &at).then_some(at.conn);
    // An advertised pingInterval of 0 is a real deadline too: python-engineio 4.15.1 advertises
    // `int(ping_interval + grace) * 1000`, 0 for any interval under a second
    // (`engineio/async_server.py:485-486`), while it pings every `ping_interval`; a node client
    // arms `pingInterval + pingTimeout` = pingTimeout after each ping
    // (`engine.io-client@6.6.8/build/cjs/socket.js:426-431`) and times out on its own.
    // A v4 node client re-arms its timer on the open packet and on each ping only (`socket.js:
    // 376-383`, `onHandshake`), a v3 server on any packet from the client (engine.io@3.6.2
    // `lib/socket.js:93-95`).
    let client_timer_start = || match (&s.last_ping, &s.unanswered_ping) {
        (Some(p), _) if p.frame < at.frame => Some(p.clone()),
        (None, None) => Some(s.opened.clone()),
        _ => None,
    };
    let by_other = s
        .ping_interval
        .is_some()
        .then(|| {
            server_pings
                .then(client_timer_start)
                .flatten()
                .or_else(|| {
                    f.s.recent_packets[pinger.index()]
                        .iter()
                        .rev()
                        .find(|m| m.frame < at.frame && Some(m.conn) != rejected_conn)
                        .cloned()
                })
                .unwrap_or_else(|| s.opened.clone())
        })
        .filter(|last| passed(last, interval + timeout))
        .map(|last| make(last, interval + timeout, false, other));
    // v4 over polling with no poll pending: the server's ping waits in its buffer and never
    // reaches the wire, so its deadline (that ping + pingTimeout) is the client's (pingInterval
    // + pingTimeout after the open or last ping). A `400 {"code":1}` for the session's own sid
    // as the end shows which side acted: the server had already dropped it
    // (`engine.io@6.6.12/build/socket.js:166-187`, then `server.js:112-177` code 1).
    let server_dropped = rejected_conn.is_some();
    let by_other = by_other.map(|mut x| {
        if server_pings && server_dropped && x.waiter == other {
            x.waiter = pinger;
        }
        x
    });
    match (by_pinger, by_other) {
        (Some(a), Some(b)) => Some(if a.deadline.0 <= b.deadline.0 { a } else { b }),
        (a, b) => a.or(b),
    }
}

/// Whether `at` is an HTTP 400 "Session ID unknown" (code 1) of this session.
fn rejected_end(f: &Facts, at: &Mark) -> bool {
    f.s.http_errors
        .iter()
        .any(|m| m.frame == at.frame && m.what.contains("\"code\":1"))
}

/// A node v3 client over polling that learnt of the end from a refused request: a `400
/// {"code":1}` for the session and no close from the server (no `1`, no close frame) before it.
fn stale_request_refused(f: &Facts) -> bool {
    let Some(refused) =
        f.s.http_errors
            .iter()
            .find(|m| m.what.contains("\"code\":1"))
    else {
        return false;
    };
    let told =
        f.s.eio_close
            .as_ref()
            .is_some_and(|m| m.dir == Some(Dir::S2C) && m.frame < refused.frame)
            || f.s
                .ws_closes
                .first()
                .is_some_and(|c| c.at.dir == Some(Dir::S2C) && c.at.frame < refused.frame);
    f.peers.client == Implementation::NodeSocketIo && !told
}

/// The client ended the session, and its close shows no sign of reaching the server: nothing
/// answered it on its connection, and the server sent a packet after it, or closed its own
/// WebSocket on another connection (its leg of a relay): engine.io 1.x/2.x end a timed-out
/// session with a bare close frame (`engine.io@1.8.5/lib/socket.js:129-135`, `engine.io@3.6.2/
/// lib/socket.js:136-141`, then the websocket transport's `doClose`, `lib/transports/
/// websocket.js:130-133` in both).
fn close_unheard(f: &Facts, x: &Expiry) -> bool {
    let at = &x.at;
    let unanswered = f
        .conns
        .iter()
        .find(|c| c.conn == at.conn)
        .is_some_and(|c| c.last_data[1].as_ref().is_none_or(|r| r.frame < at.frame));
    let server_wrote_after = f.s.last_packet[1]
        .as_ref()
        .is_some_and(|m| m.frame > at.frame)
        || f.s
            .ws_closes
            .iter()
            .any(|c| c.at.dir == Some(Dir::S2C) && c.at.frame > at.frame && c.at.conn != at.conn);
    x.waiter == Dir::C2S && at.dir == Some(Dir::C2S) && unanswered && server_wrote_after
}

/// The session ended after a heartbeat deadline passed.
pub(crate) fn rule(f: &Facts) -> Option<FindingEnd> {
    let s = f.s;
    let x = expiry(f)?;
    let timeout = s.ping_timeout.unwrap_or(0) as f64;
    let interval = s.ping_interval.unwrap_or(0) as f64;
    let server_pings = s.eio.unwrap_or(4) >= 4;
    let waiter = Some(x.waiter);
    let mut since = x.since.clone();
    since.what = if x.ping {
        format!(
            "{} ping, no pong in time (pingTimeout {timeout:.0} ms)",
            side(since.dir)
        )
        .into()
    } else {
        format!(
            "last packet from the {} before the end (deadline pingInterval {interval:.0} + pingTimeout {timeout:.0} ms)",
            side(since.dir)
        ).into()
    };
    let mut at = x.at.clone();
    at.what = format!(
        "{} ends the session {:.0} ms later: {}",
        side(at.dir),
        ms(x.since.ts, x.at.ts),
        at.what
    )
    .into();
    let mut evidence = vec![since, at];
    let late_pong = s
        .last_pong
        .as_ref()
        .filter(|q| q.frame > x.at.frame || q.ts.0 > x.deadline.0);
    if let Some(q) = late_pong {
        let mut q = q.clone();
        q.what = format!(
            "{} pong {:.0} ms after the deadline: too late, it answers nothing",
            side(q.dir),
            ms(x.deadline, q.ts)
        )
        .into();
        evidence.push(q);
    }
    let unheard = close_unheard(f, &x);
    let (reason, client_reason) = match (waiter, server_pings) {
        // The client went away without a word: what it reported, if anything, is not known.
        _ if x.abandoned => ("ping timeout", ""),
        // The server gave up. A v4 client's own timer has expired too by the time it can act;
        // a 1.x/2.x client (v3) finds the server's close first.
        (Some(Dir::S2C), true) => ("ping timeout", "ping timeout"),
        // A v3 node client over polling whose request after the freeze is refused with `400
        // {"code":1}` (the server closed the session while no poll was pending, so no close
        // packet reached it) reports the failed request: "xhr poll error" / "xhr post error"
        // (`engine.io-client@3.5.6/lib/transports/polling-xhr.js:113,132,255-261`), closed as
        // "transport error" (`lib/socket.js:685-691`).
        (Some(Dir::S2C), false) if stale_request_refused(f) => ("ping timeout", "transport error"),
        (Some(Dir::S2C), false) => ("ping timeout", "transport close"),
        // The client gave up: the server sees its close. python-engineio reports a close
        // packet `1` as "client disconnect" (`engineio/async_socket.py:49-51`), node engine.io
        // as "transport close" (`engine.io@6.6.12/build/transports/polling.js:167-169`).
        // The client's close never reached the server (a dead path: no answer to it on its
        // connection, and the server still sent a packet after it, e.g. its own close `1` on
        // another leg of a relay): the server timed the session out itself. Its only timers
        // are heartbeat deadlines (`engine.io@3.6.2/lib/socket.js:136-142`,
        // `engine.io@6.6.12/build/socket.js:166-187`).
        _ if unheard => ("ping timeout", "ping timeout"),
        _ if f.peers.server == Implementation::PythonSocketio
            && f.engine_close().is_some_and(|m| m.dir == Some(Dir::C2S)) =>
        {
            ("client disconnect", "ping timeout")
        }
        _ => ("transport close", "ping timeout"),
    };
    // The client's deadline was pingTimeout alone: an advertised interval of 0 (see `expiry`).
    let zero_interval = s.ping_interval == Some(0) && waiter == Some(Dir::C2S) && !x.ping;
    let frozen = if waiter == Some(Dir::S2C) {
        "client"
    } else {
        "server"
    };
    Some(
        end(
            x.at.clone(),
            Cause::PingTimeout,
            Some(reason),
            Some(client_reason).filter(|r| !r.is_empty()),
            initiator_of(waiter),
            evidence,
            if x.abandoned {
                format!(
                    "The client stopped polling: no request for this session after frame {}, and the capture goes on {:.1} s past the heartbeat deadline (pingInterval {interval:.0} + pingTimeout {timeout:.0} ms). The server drops such a session with \"ping timeout\"; the TCP close before it is the end of one HTTP request (`Connection: close`), not of the session.",
                    x.since.frame,
                    ms(x.deadline, f.capture_end) / 1000.0
                )
            } else if zero_interval {
                format!(
                    "The server advertised pingInterval 0 in its open packet (python-engineio 4.15.1 truncates a sub-second ping_interval: `int(ping_interval + grace) * 1000`) but pings at its real interval, so the client's deadline after each ping is pingTimeout alone ({timeout:.0} ms), shorter than the time to the next ping: the client closed the session itself with \"ping timeout\" although nothing was frozen (frame {} is the server's last packet before the client gave up).",
                    x.since.frame
                )
            } else { format!(
                "The {} waited for a heartbeat that did not come in time (pingInterval {interval:.0} ms, pingTimeout {timeout:.0} ms; {} pings) and closed the session. The usual cause is a frozen {frozen} (a blocked event loop, a suspended tab) or a path that stopped delivering data while TCP stayed up.{}",
                side(waiter),
                if server_pings { "Engine.IO v4: the server" } else { "Engine.IO v3: the client" },
                if late_pong.is_some() { " The late pong shows the peer was alive but frozen." } else if unheard { " The client's close never reached the server (nothing answered it, and the server wrote again after it): the path was dead, and the server timed the session out itself." } else { "" }
            ) },
            Some(if zero_interval {
                "Give the server a ping_interval of at least 1 s (python-engineio advertises whole seconds only), or a ping_timeout longer than the real ping interval."
            } else {
                "Find what blocks the peer's event loop; if pauses are expected, raise pingTimeout/pingInterval on the server."
            }),
        )
        .with_certainty(
            Certainty::Likely,
            "the end came after the heartbeat deadline from the open packet; the closing side's log would say \"ping timeout\" to make it certain",
        )
        .with_candidate(
            Cause::TransportClose,
            "the server's DEBUG=engine log: \"ping timeout\" there settles it",
        ),
    )
}

#[cfg(test)]
mod tests {
    use crate::explain::fixture_tests::{s, verdict};

    #[test]
    fn v4_server_ping_over_websocket_and_v3_client_ping_over_polling() {
        assert_eq!(
            verdict("hb-v4-ws-300-long.pcap", "dmP6pv"),
            (
                "ping-timeout",
                s("ping timeout"),
                s("ping timeout"),
                "likely"
            )
        );
        assert_eq!(
            verdict("hb-v1-polling-400-long.pcap", "VWXXCY"),
            (
                "ping-timeout",
                s("ping timeout"),
                s("transport close"),
                "likely"
            )
        );
    }

    #[test]
    fn an_advertised_ping_interval_of_0_makes_the_node_client_time_out_on_its_own() {
        // python-engineio 4.15.1 advertises pingInterval 0 for ping_interval 0.5 / 0.8 s
        assert_eq!(
            verdict("py-interval0-ws.pcap", "HrwZst"),
            (
                "ping-timeout",
                s("transport close"),
                s("ping timeout"),
                "likely"
            )
        );
        assert_eq!(
            verdict("py-interval0-polling.pcap", "r5jMhy"),
            (
                "ping-timeout",
                s("client disconnect"),
                s("ping timeout"),
                "likely"
            )
        );
    }

    #[test]
    fn a_client_close_lost_on_a_dead_path_leaves_the_server_its_own_ping_timeout() {
        // socket.io 2.5.1 / client 2.5.0 over polling through a relay that stops carrying bytes:
        // the client's close `1` is swallowed, the server writes its own `1` after its deadline.
        for (pcap, sid) in [
            ("blackhole-v2-polling.pcap", "pmVEX6"),
            ("blackhole-v1-polling.pcap", "-LKRIp"),
        ] {
            assert_eq!(
                verdict(pcap, sid),
                (
                    "ping-timeout",
                    s("ping timeout"),
                    s("ping timeout"),
                    "likely"
                ),
                "{pcap}"
            );
        }
    }

    #[test]
    fn a_v4_polling_session_with_no_poll_pending_is_dropped_by_the_server() {
        // The official suites' "closes the session upon ping timeout" over polling: the client
        // never polls, the server's ping stays buffered, its next request gets `400 {"code":1}`.
        for (pcap, sid) in [
            ("suite-eio.pcapng", "mOkLBB"),
            ("suite-sio.pcapng", "kgQbZ3"),
        ] {
            let (cause, reason, _, certainty) = verdict(pcap, sid);
            assert_eq!(
                (cause, reason, certainty),
                ("ping-timeout", s("ping timeout"), "likely"),
                "{pcap}"
            );
        }
    }

    #[test]
    fn a_frozen_v3_client_whose_next_poll_is_refused_reports_transport_error() {
        // socket.io-client 2.5.0 on socket.io 4.8.4 with allowEIO3, polling only
        assert_eq!(
            verdict("v2-client-allow-eio3-polling-freeze.pcap", "Ji8eiC"),
            (
                "ping-timeout",
                s("ping timeout"),
                s("transport error"),
                "likely"
            )
        );
    }

    #[test]
    fn a_second_websocket_closed_by_the_server_does_not_hide_its_ping_timeout() {
        // The official suite's "ignores WebSocket connection with same sid after upgrade": the
        // server closes the duplicate socket, then times the session out on the first one.
        assert_eq!(
            verdict("suite-eio.pcapng", "4gDbNs"),
            (
                "ping-timeout",
                s("ping timeout"),
                s("ping timeout"),
                "likely"
            )
        );
    }

    /// socket.io 1.3.7 leaves the pending poll of an expired session unanswered; the woken
    /// client's ping is refused with a 400 "Session ID unknown". That request never reached a
    /// live session, so the deadline runs from the packet before it, and the client reports the
    /// 400 as "transport error" (hb-v13-polling-700-long; the holdout's 1000/600 freeze too).
    #[test]
    fn a_ping_refused_as_session_unknown_is_no_sign_of_life() {
        assert_eq!(
            verdict("hb-v13-polling-700-long.pcap", "7HQGYJ"),
            (
                "ping-timeout",
                s("ping timeout"),
                s("transport error"),
                "likely"
            )
        );
    }

    /// A server killed under a pending poll and restarted 300 ms later timed nothing out: the
    /// poll left unanswered and the refused SYNs say it died; no "ping timeout" in its mouth.
    #[test]
    fn a_server_killed_under_a_pending_poll_is_no_ping_timeout() {
        for (pcap, sid) in [
            ("py-client-polling-killed-restarted.pcap", "ON1iEd"),
            ("py-client-polling-killed-restarted-slow.pcap", "6Jl9lB"),
        ] {
            assert_eq!(
                verdict(pcap, sid),
                ("transport-error", None, s("transport error"), "likely"),
                "{pcap}"
            );
        }
    }

    /// Both legs of a relay show every ping twice: the copy on the second leg is the same ping,
    /// so a pong to it answers it, and a client killed 1.6 s later (more than pingTimeout) under a
    /// pending poll is the server's "transport error", not a ping timeout (EIO 4 and EIO 3).
    /// The killed client itself said nothing (its truth has no client words), so only the cause,
    /// the server's words and the certainty are pinned here.
    #[test]
    fn a_ping_seen_on_both_legs_of_a_relay_is_one_ping() {
        for (pcap, sid) in [
            ("v4-polling-relay-client-killed.pcap", "umRirR"),
            ("v2-polling-relay-client-killed.pcap", "ooiZyJ"),
        ] {
            let (cause, reason, _, certainty) = verdict(pcap, sid);
            assert_eq!(
                (cause, reason, certainty),
                ("transport-error", s("transport error"), "likely"),
                "{pcap}"
            );
        }
    }

    /// A dead path under an Engine.IO v3 server: the client's close never reached the server,
    /// whose own close frame on its leg of the relay is its `pingInterval + pingTimeout` timer.
    #[test]
    fn a_v3_servers_close_on_its_own_leg_after_an_unheard_client_close_is_its_ping_timeout() {
        for (pcap, sid) in [
            ("blackhole-v1-ws-700.pcap", "nUmnLB"),
            ("blackhole-v2-ws-700.pcap", "ZMlcHl"),
        ] {
            assert_eq!(
                verdict(pcap, sid),
                (
                    "ping-timeout",
                    s("ping timeout"),
                    s("ping timeout"),
                    "likely"
                ),
                "{pcap}"
            );
        }
    }
}
