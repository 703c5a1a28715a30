//! Log lines on the capture's timeline, tied to sessions.

use std::collections::HashMap;

use serde::Serialize;

use super::line::LogLine;
use crate::event::Timestamp;
use crate::session::SessionTracker;

/// How a line was tied to a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "by", content = "session")]
pub enum Attribution {
    /// It names the session's Engine.IO sid or one of its Socket.IO socket ids (certain).
    Sid(usize),
    /// It names no id, and exactly one session was open at its time (likely).
    OnlyOpen(usize),
    /// It names no id and several or no sessions were open.
    None,
}

impl Attribution {
    /// The session index (into the tracker's sessions), certain or likely.
    pub fn session(self) -> Option<usize> {
        match self {
            Attribution::Sid(i) | Attribution::OnlyOpen(i) => Some(i),
            Attribution::None => None,
        }
    }
}

/// One line placed on the timeline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlacedLine {
    /// The line.
    pub log: LogLine,
    /// Its time on the capture's clock (log time minus the offset), when it can be placed.
    pub at: Option<Timestamp>,
    /// Its session.
    pub session: Attribution,
}

/// A log placed against a capture.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LogTimeline {
    /// The file, as given.
    pub file: String,
    /// Log clock minus capture clock, in ms, estimated as the median over matched events (the
    /// first line naming a session's sid against that session's open packet); `None` without a
    /// match.
    pub offset_ms: Option<f64>,
    /// How many sessions matched.
    pub matched: usize,
    /// Lines of the `+Nms` form carry no clock: each `debug` namespace's times are summed from its
    /// first line naming a sid, pinned to that session's open packet. How many namespaces were.
    pub relative_anchors: usize,
    /// Every line, in file order.
    pub lines: Vec<PlacedLine>,
    /// Lines before the first recognised record (not a log of a known writer).
    pub unrecognised: usize,
}

/// Nanoseconds as a signed count (a log's dates and deltas are the file's: beyond 2262, or a
/// `+Nms` of centuries, they saturate instead of wrapping).
fn ns(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// A `+Nms` delta (summed per namespace) in signed nanoseconds, saturating.
fn ms_ns(ms: u64) -> i64 {
    ns(ms.saturating_mul(1_000_000))
}

/// Places `lines` of `file` against the sessions of `t`; `ends[i]` is when session `i` ended.
pub fn attach(
    file: &str,
    lines: Vec<LogLine>,
    unrecognised: usize,
    t: &SessionTracker,
    ends: &[Timestamp],
) -> LogTimeline {
    let sessions = t.sessions();
    let mut ids: Vec<(&str, usize)> = Vec::new();
    for (i, s) in sessions.iter().enumerate() {
        if !s.sid.is_empty() {
            ids.push((&s.sid, i));
        }
        for k in &s.sockets {
            if let Some(id) = k.socket_id.as_deref().filter(|id| !id.is_empty()) {
                ids.push((id, i));
            }
        }
    }
    let mention = |l: &LogLine| {
        ids.iter()
            .find(|(id, _)| l.text.contains(id))
            .map(|(_, i)| *i)
    };
    // Relative lines: time since the namespace's previous line, summed per namespace.
    let mut cum: HashMap<&str, u64> = HashMap::new();
    let rel: Vec<Option<u64>> = lines
        .iter()
        .map(|l| {
            l.delta_ms.map(|d| {
                let c = cum.entry(l.namespace.as_str()).or_default();
                *c = c.saturating_add(d);
                *c
            })
        })
        .collect();
    // Anchors: a session's handshake lines (those naming its sid within 500 ms of the first one)
    // against its open packet. The library logs the handshake before the open packet leaves
    // (`handshaking client` comes first, `writing "0{…}"` last), so under load the first line
    // alone is early by the server's processing time; the line closest to the packet is taken.
    let mut offsets: Vec<i64> = Vec::new();
    let mut base: HashMap<&str, i64> = HashMap::new();
    let mut first_at: Vec<Option<i64>> = vec![None; sessions.len()];
    let mut best: Vec<Option<i64>> = vec![None; sessions.len()];
    for (l, r) in lines.iter().zip(&rel) {
        let Some(i) = mention(l) else { continue };
        let Some(s) = sessions.get(i) else { continue };
        let wire = ns(s.opened.ts.0);
        match (l.ts, r) {
            (Some(ts), _) => {
                let ts = ns(ts.0);
                let Some(first) = first_at.get_mut(i).map(|f| *f.get_or_insert(ts)) else {
                    continue;
                };
                if ts.saturating_sub(first) <= 500_000_000 {
                    let d = ts.saturating_sub(wire);
                    if best
                        .get(i)
                        .is_some_and(|b| b.is_none_or(|b| d.unsigned_abs() < b.unsigned_abs()))
                    {
                        if let Some(b) = best.get_mut(i) {
                            *b = Some(d);
                        }
                    }
                }
            }
            (None, Some(c)) if first_at.get(i).is_some_and(Option::is_none) => {
                if let Some(f) = first_at.get_mut(i) {
                    *f = Some(0);
                }
                base.entry(l.namespace.as_str())
                    .or_insert(wire.saturating_sub(ms_ns(*c)));
            }
            _ => {}
        }
    }
    offsets.extend(best.iter().flatten());
    let seen: Vec<bool> = first_at.iter().map(Option::is_some).collect();
    offsets.sort_unstable();
    let offset = offsets.get(offsets.len() / 2).copied();
    let anchored = base.len();
    // `+Nms` lines: a file is written in time order, so a namespace with no anchor of its own is
    // pinned, at its first line, to the line before it, and no relative line goes back in time.
    // `ms` rounds deltas of a second and more to whole seconds: these times are approximate.
    let mut prev: Option<Timestamp> = None;
    let ats: Vec<Option<Timestamp>> = lines
        .iter()
        .zip(&rel)
        .map(|(l, r)| {
            let own = match (l.ts, r) {
                (Some(ts), _) => Some(ns(ts.0).saturating_sub(offset.unwrap_or(0))),
                (None, Some(c)) => base
                    .get(l.namespace.as_str())
                    .map(|b| b.saturating_add(ms_ns(*c))),
                _ => None,
            }
            .and_then(|n| u64::try_from(n).ok())
            .map(Timestamp);
            let at = if let Some(c) = r {
                // A namespace's first line after the timeline is anchored pins that namespace.
                if let (None, Some(p)) = (own, prev) {
                    base.insert(l.namespace.as_str(), ns(p.0).saturating_sub(ms_ns(*c)));
                }
                match (own, prev) {
                    (Some(a), Some(p)) => Some(a.max(p)),
                    (a, p) => a.or(p),
                }
            } else {
                own
            };
            if at.is_some() {
                prev = at;
            }
            at
        })
        .collect();
    let placed: Vec<PlacedLine> = lines
        .iter()
        .zip(ats)
        .map(|(l, at)| {
            let session = match mention(l) {
                Some(i) => Attribution::Sid(i),
                None => at.map_or(Attribution::None, |ts| {
                    let open: Vec<usize> = (0..sessions.len())
                        .filter(|&i| {
                            let end = ends.get(i).copied().unwrap_or(Timestamp(u64::MAX));
                            sessions[i].opened.ts.0 <= ts.0.saturating_add(50_000_000)
                                && ts.0 <= end.0.saturating_add(50_000_000)
                        })
                        .collect();
                    match open.as_slice() {
                        [i] => Attribution::OnlyOpen(*i),
                        _ => Attribution::None,
                    }
                }),
            };
            PlacedLine {
                log: l.clone(),
                at,
                session,
            }
        })
        .collect();
    let matched = seen.iter().filter(|s| **s).count();
    LogTimeline {
        file: file.to_string(),
        offset_ms: offset.map(|o| o as f64 / 1e6),
        relative_anchors: anchored,
        matched,
        lines: placed,
        unrecognised,
    }
}

#[cfg(test)]
mod tests {
    use super::attach;
    use crate::log::parse;
    use crate::session::SessionTracker;

    /// Found by the `log` fuzz target (crash-c23d02c4…): a dated line, then a relative line of the
    /// same file whose `+Nms` is centuries long, multiplied into nanoseconds past `i64::MAX`.
    #[test]
    fn a_relative_delta_of_centuries_after_a_dated_line_saturates_instead_of_overflowing() {
        let text = "2026-12-02T00:10:10.751Z socket.io:server initializing namespace /\n  \
                    \u{1b}[33;1msocket.io:server \u{1b}[0mcreating engine \u{1b}[33m+17777777777777777ms\u{1b}[0m\n  \
                    \u{1b}[33;1msocket.io:server \u{1b}[0mserve client source \u{1b}[33m+7s\u{1b}[0m\n";
        let (lines, unrecognised) = parse(text);
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[1].delta_ms, Some(17_777_777_777_777_777));
        let t = attach(
            "regression",
            lines,
            unrecognised,
            &SessionTracker::new(),
            &[],
        );
        let at: Vec<Option<u64>> = t.lines.iter().map(|l| l.at.map(|a| a.0)).collect();
        // The dated line keeps its time; the relative ones are pinned to it and never go back.
        assert_eq!(at[0], Some(1_796_170_210_751_000_000));
        assert!(
            at.iter()
                .all(|a| a.is_some_and(|a| a >= 1_796_170_210_751_000_000)),
            "{at:?}"
        );
    }
}
