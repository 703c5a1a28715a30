//! A library's own log lines as evidence beside the wire (see `crate::log`).
//!
//! For each session, the lines tied to it (by the sid or socket id they name, or as the only
//! session open at the time) within 1 s of the end that carry a reason (`reason …`, `error`,
//! `timeout`, `close`) are quoted as a `log` note, each with its time and its distance to the
//! frame that shows the end. An end the wire leaves `likely` is settled (`certain`) when the log
//! names the same reason itself on a line that names the session's sid (socket.io 4.8.4
//! `dist/socket.js:535` `closing socket - reason %s`, `dist/client.js:255` `client close with
//! reason %s`); a line tied only as "the only session open" supports it without settling it.

use super::certainty::Certainty;
use super::finding::{Explanation, Note};
use crate::event::Timestamp;
use crate::log::LogTimeline;
use crate::session::Mark;

const NEAR_END_NS: u64 = 1_000_000_000;

fn carries_reason(text: &str) -> bool {
    let t = text.to_ascii_lowercase();
    // `pingTimeout` in an open packet is a setting, not a reason.
    [
        "reason",
        "error",
        "ping timeout",
        "timed out",
        "close",
        "disconnect",
    ]
    .iter()
    .any(|w| t.contains(w))
}

/// `HH:MM:SS.mmm` (UTC) of a timestamp.
fn clock(ts: Timestamp) -> String {
    let ms = ts.0 / 1_000_000;
    let s = ms / 1000;
    format!(
        "{:02}:{:02}:{:02}.{:03}",
        (s / 3600) % 24,
        (s / 60) % 60,
        s % 60,
        ms % 1000
    )
}

/// The reason a log line names (`closing socket - reason client namespace disconnect`).
fn named_reason(text: &str) -> Option<&str> {
    let (_, r) = text.split_once("reason ")?;
    Some(r.lines().next().unwrap_or(r).trim())
}

/// The reason a client library's line names: engine.io-client 6.6.8
/// `build/cjs/socket.js:649` `socket close with reason: "%s"`, socket.io-client 4.8.4
/// `build/cjs/manager.js:356` `closed due to %s` and `build/cjs/socket.js:467` `close (%s)`.
fn client_reason(text: &str) -> Option<&str> {
    let first = text.lines().next().unwrap_or(text).trim();
    if let Some((_, r)) = first.split_once("socket close with reason: ") {
        return Some(r.trim_matches('"'));
    }
    if let Some(r) = first.strip_prefix("closed due to ") {
        return Some(r);
    }
    first.strip_prefix("close (")?.strip_suffix(')')
}

/// How long after a session's end a client line naming no id still speaks of it, when no other
/// session is open: a client whose event loop was blocked reports its own close late.
const CLIENT_LATE_NS: u64 = 30_000_000_000;

/// For a client line tied to no session: the session that ended last before it, when no session
/// opened between that end and the line (the client's own late report of that end).
fn late_client_session(x: &Explanation, p: &crate::log::PlacedLine) -> Option<usize> {
    if p.session != crate::log::Attribution::None || p.log.side() != crate::log::LogSide::Client {
        return None;
    }
    let at = p.at?;
    let (i, end) = x
        .sessions
        .iter()
        .enumerate()
        .map(|(i, f)| (i, f.end.at.ts))
        .filter(|(_, e)| *e <= at && at.0 - e.0 <= CLIENT_LATE_NS)
        .max_by_key(|(_, e)| *e)?;
    let reopened = x
        .sessions
        .iter()
        .any(|f| f.start.ts > end && f.start.ts <= at);
    (!reopened).then_some(i)
}

/// Adds a `log` note to every session with log lines near its end, and settles `likely` ends the
/// log gives the reason of.
pub fn attach_log_evidence(x: &mut Explanation, tl: &LogTimeline) {
    let late: Vec<Option<usize>> = tl.lines.iter().map(|p| late_client_session(x, p)).collect();
    for (i, f) in x.sessions.iter_mut().enumerate() {
        let end = f.end.at.clone();
        let mut around: Vec<(u64, &crate::log::PlacedLine)> = tl
            .lines
            .iter()
            .filter(|p| p.session.session() == Some(i))
            .filter_map(|p| Some((p.at?.0.abs_diff(end.ts.0), p)))
            .filter(|(d, _)| *d <= NEAR_END_NS)
            .collect();
        // A client's late report of this end (its event loop was blocked past the end).
        let late_lines: Vec<&crate::log::PlacedLine> = tl
            .lines
            .iter()
            .zip(&late)
            .filter(|(p, l)| **l == Some(i) && client_reason(&p.log.text).is_some())
            .map(|(p, _)| p)
            .collect();
        around.extend(
            late_lines
                .iter()
                .filter_map(|p| Some((p.at?.0.abs_diff(end.ts.0), *p))),
        );
        let mut near: Vec<_> = around
            .iter()
            .copied()
            .filter(|(_, p)| carries_reason(&p.log.text))
            .collect();
        let quoted_all = near.is_empty();
        if quoted_all {
            // No line names a reason (python-engineio logs packets, not reasons): quote the lines
            // closest to the end as they are.
            near = around;
        }
        // Lines that name a reason (`closing socket - reason …`, a client's `close (…)`) first,
        // then the closest.
        near.sort_by_key(|(d, p)| {
            (
                named_reason(&p.log.text).is_none() && client_reason(&p.log.text).is_none(),
                *d,
            )
        });
        near.truncate(if quoted_all { 2 } else { 4 });
        near.sort_by_key(|(_, p)| p.at);
        if near.is_empty() {
            let last = tl
                .lines
                .iter()
                .filter(|p| p.session.session() == Some(i))
                .filter_map(|p| Some((p.at?, p)))
                .filter(|(at, _)| *at <= end.ts)
                .max_by_key(|(at, _)| *at);
            if let (true, Some((at, p))) = (f.abnormal(), last) {
                f.notes.push(Note {
                    kind: "log",
                    text: format!("The {} log ({}) has no line about the end of this session: the library reported nothing, as when its process dies before it can (likely; the log alone cannot tell a killed process from a lost log).", p.log.side().as_str(), tl.file),
                    evidence: vec![Mark {
                        frame: end.frame,
                        ts: at,
                        conn: end.conn,
                        dir: None,
                        what: format!("last {} log line for the session: {} `{} {}`, {:.0} ms before the end in frame {}", p.log.side().as_str(), clock(p.log.ts.unwrap_or(at)), p.log.namespace, p.log.text.lines().next().unwrap_or(""), (end.ts.0 - at.0) as f64 / 1e6, end.frame).into(),
                    }],
                });
            }
            continue;
        }
        let mut evidence = Vec::new();
        // The reason the server's log names, and whether that line names the session's sid.
        let mut reason: Option<(String, bool)> = None;
        // The reason the client's log names (engine.io-client / socket.io-client words).
        let mut client_said: Option<String> = None;
        for (_, p) in &near {
            let at = p.at.unwrap_or_default();
            let first = p.log.text.lines().next().unwrap_or("");
            let d = (at.0 as f64 - end.ts.0 as f64) / 1e6;
            let certain = matches!(p.session, crate::log::Attribution::Sid(_));
            let is_late = p.session == crate::log::Attribution::None;
            // A `+Nms` line has no clock of its own: its time is reconstructed.
            let approx = if p.log.ts.is_none() { "≈" } else { "" };
            evidence.push(Mark {
                frame: end.frame,
                ts: at,
                conn: end.conn,
                dir: None,
                what: format!(
                    "{} log {}{} `{} {}`, {}{:.0} ms {} the end in frame {}{}",
                    p.log.side().as_str(),
                    approx,
                    clock(p.log.ts.unwrap_or(at)),
                    p.log.namespace,
                    first,
                    approx,
                    d.abs(),
                    if d >= 0.0 { "after" } else { "before" },
                    end.frame,
                    if certain {
                        ""
                    } else if is_late {
                        " (no sid in the line, no session open then: the last session to end before it, none opened since)"
                    } else {
                        " (no sid in the line: the only session open then)"
                    }
                ).into(),
            });
            if reason.is_none() && p.log.side() == crate::log::LogSide::Server {
                reason = named_reason(&p.log.text).map(|r| (r.to_string(), certain));
            }
            // socket.io-client's `close (%s)` is the reason the app's `disconnect` handler gets
            // (the wire reading's client reason); the others are its fallbacks.
            if p.log.side() == crate::log::LogSide::Client
                && (client_said.is_none() || p.log.namespace == "socket.io-client:socket")
            {
                if let Some(r) = client_reason(&p.log.text) {
                    if client_said.is_none() || p.log.namespace == "socket.io-client:socket" {
                        client_said = Some(r.to_string());
                    }
                }
            }
        }
        let offset = tl
            .offset_ms
            .map(|o| {
                format!(
                    "log clock {o:+.1} ms against the capture, from {} matched handshake(s)",
                    tl.matched
                )
            })
            .unwrap_or_else(|| match tl.relative_anchors {
                0 => "no event matched: the log's own clock is used as is".into(),
                n => format!("`+Nms` times summed per namespace, {n} namespace(s) pinned to a handshake they name; approximate"),
            });
        let mut text = format!("The libraries' own log ({}; {offset}).", tl.file);
        if quoted_all {
            text.push_str(
                " No line near the end names a reason; the closest lines are quoted as they are.",
            );
        }
        if let Some((r, by_sid)) = &reason {
            let agrees = f.end.reason.as_deref() == Some(r.as_str());
            if agrees && f.end.certainty == Certainty::Likely {
                if *by_sid {
                    // The library's own statement, tied to this session by its sid: what the
                    // wire left open is what the server reported.
                    text.push_str(&format!(
                        " It settles the end: the server itself reported \"{r}\"."
                    ));
                    f.end.explanation =
                        f.end
                            .explanation
                            .replacen("Likely", "Settled by the server log", 1);
                    f.end.certainty = Certainty::Certain;
                    f.end.certainty_reason = format!(
                        "the server's own log names the reason (\"{r}\") on a line that names the session's sid; the wire alone left it likely ({})",
                        f.end.certainty_reason
                    );
                    f.end.candidates.clear();
                } else {
                    text.push_str(&format!(
                        " The server reported \"{r}\", on a line without a sid (tied as the only session open then): it supports the end, it does not settle it."
                    ));
                }
            }
            if !agrees {
                text.push_str(&format!(" The server's words (\"{r}\") differ from the reason the wire suggests ({:?}): the log is what the library reported.", f.end.reason.as_deref().unwrap_or("none")));
            }
        }
        if let Some(r) = &client_said {
            // The client's view: quoted, compared, never settling what the server did.
            let agrees = f.end.client_reason.as_deref() == Some(r.as_str());
            text.push_str(&format!(
                " The client reported \"{r}\"{}.",
                if agrees {
                    ", as the wire reading expects of it".to_string()
                } else {
                    match f.end.client_reason.as_deref() {
                        Some(w) => format!(" where the wire reading expects \"{w}\": the log is what the library reported"),
                        None => String::new(),
                    }
                }
            ));
        }
        f.notes.push(Note {
            kind: "log",
            text,
            evidence,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_and_clock() {
        assert_eq!(
            named_reason("closing socket - reason client namespace disconnect"),
            Some("client namespace disconnect")
        );
        assert_eq!(named_reason("transport error"), None);
        assert!(carries_reason("engine:socket transport error"));
        assert!(!carries_reason(
            "sending packet \"open\" ({\"pingTimeout\":20000})"
        ));
        assert_eq!(clock(Timestamp(1_796_154_282_010_000_000)), "19:44:42.010");
        assert_eq!(
            client_reason("socket close with reason: \"ping timeout\""),
            Some("ping timeout")
        );
        assert_eq!(
            client_reason("closed due to transport close"),
            Some("transport close")
        );
        assert_eq!(
            client_reason("close (io client disconnect)"),
            Some("io client disconnect")
        );
        assert_eq!(client_reason("got packet {\"type\":0}"), None);
    }
}
