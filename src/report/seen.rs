//! What a capture held, counted while it streams past the filter, so that an empty result can
//! say why it is empty: "no Socket.IO traffic found: 3 TCP connections, none HTTP", "no event
//! named FOO; events seen: chat, join".
//!
//! Memory is bounded: each set keeps at most [`MAX_KEPT`] distinct values.

use std::collections::BTreeSet;

use super::filter::Filter;
use crate::capture::ReplayStats;
use crate::event::{Body, Event, TcpInfo};

/// Distinct values kept per kind (session ids, namespaces, event names, types).
pub const MAX_KEPT: usize = 10_000;
/// Values listed in a message.
const LISTED: usize = 12;

/// Counts and names seen in a capture.
#[derive(Debug, Default, Clone)]
pub struct Seen {
    /// Packet records read.
    pub frames: u64,
    /// Events decoded.
    pub events_total: u64,
    /// TCP connections.
    pub tcp_conns: u64,
    /// HTTP requests.
    pub http_requests: u64,
    /// HTTP requests to an Engine.IO endpoint: an `EIO` or `transport` query parameter
    /// (engine.io-protocol "Transports"), or socket.io 0.9's `/socket.io/1/` path.
    pub engineio_requests: u64,
    /// HTTP responses with a status of 400 or more.
    pub http_errors: u64,
    /// Engine.IO and Socket.IO packets.
    pub engineio_packets: u64,
    /// Socket.IO packets.
    pub socketio_packets: u64,
    sids: BTreeSet<String>,
    nsps: BTreeSet<String>,
    events: BTreeSet<String>,
    types: BTreeSet<String>,
    conns: BTreeSet<u64>,
    /// The connection and session id of the event before: consecutive events mostly share
    /// both, and each is then already in its set (one comparison instead of a tree search).
    last_conn: u64,
    last_sid: Option<String>,
    /// Counts only: the sets of names are not kept ([`Seen::counts_only`]).
    counts_only: bool,
}

/// Adds `v` to `set` unless it is there or the set is full; allocates only for a new value.
fn keep(set: &mut BTreeSet<String>, v: &str) {
    if set.len() < MAX_KEPT && !set.contains(v) {
        set.insert(v.to_string());
    }
}

fn list<'a>(items: impl Iterator<Item = &'a str>, total: usize) -> String {
    let shown: Vec<&str> = items.take(LISTED).collect();
    let more = total.saturating_sub(shown.len());
    if more > 0 {
        format!("{} … ({more} more)", shown.join(", "))
    } else {
        shown.join(", ")
    }
}

impl Seen {
    /// A `Seen` that keeps the counts and not the names (session ids, namespaces, event names,
    /// types, connections), for a run that reads only [`Seen::no_engineio`]: with no filter
    /// there is no name to look for (the sets were about 4 % of the reading thread's work on
    /// the bench capture, docs/performance.md).
    pub fn counts_only() -> Self {
        Seen {
            counts_only: true,
            ..Seen::default()
        }
    }

    /// A `Seen` for a run filtered by `filter`: the names are kept when it names any (a
    /// session, namespace, event, connection or type) to say which were seen instead.
    pub fn for_filter(filter: &Filter) -> Self {
        let names = filter.sid.is_some()
            || filter.nsp.is_some()
            || filter.event.is_some()
            || !filter.conn.is_empty()
            || !filter.types.is_empty();
        if names {
            Seen::default()
        } else {
            Seen::counts_only()
        }
    }

    /// Counts one event (every event, before any filter).
    pub fn event(&mut self, ev: &Event) {
        self.events_total += 1;
        if self.counts_only {
            self.count(ev);
            return;
        }
        if ev.conn.0 != 0 && ev.conn.0 != self.last_conn && self.conns.len() < MAX_KEPT {
            self.conns.insert(ev.conn.0);
            self.last_conn = ev.conn.0;
        }
        if let Some(sid) = ev.sid().filter(|s| self.last_sid.as_deref() != Some(*s)) {
            keep(&mut self.sids, sid);
            match &mut self.last_sid {
                Some(last) => sid.clone_into(last),
                None => self.last_sid = Some(sid.to_owned()),
            }
        }
        self.count(ev);
        match &ev.body {
            Body::Eio { eio } => keep(&mut self.types, eio.kind),
            Body::Sio { sio, .. } => {
                keep(&mut self.types, &sio.kind);
                if sio.nsp.starts_with('/') {
                    keep(&mut self.nsps, &sio.nsp);
                } else {
                    keep(&mut self.nsps, &Filter::normalize_nsp(&sio.nsp));
                }
                if let Some(e) = &sio.event {
                    keep(&mut self.events, e);
                }
            }
            _ => {}
        }
    }

    /// The counts of one event.
    fn count(&mut self, ev: &Event) {
        match &ev.body {
            Body::Tcp(TcpInfo::Open { .. }) => self.tcp_conns += 1,
            Body::Http(h) if h.kind == "request" => {
                self.http_requests += 1;
                let legacy = h
                    .path
                    .as_deref()
                    .is_some_and(|p| p.contains("/socket.io/1/"));
                if h.query.contains_key("EIO") || h.query.contains_key("transport") || legacy {
                    self.engineio_requests += 1;
                }
            }
            Body::Http(h) if h.status.is_some_and(|s| s >= 400) => self.http_errors += 1,
            Body::Eio { .. } => self.engineio_packets += 1,
            Body::Sio { .. } => {
                self.engineio_packets += 1;
                self.socketio_packets += 1;
            }
            _ => {}
        }
    }

    /// Takes the replay's packet count.
    pub fn stats(&mut self, stats: &ReplayStats) {
        self.frames = stats.frames;
    }

    /// When the capture held no Engine.IO packet at all: what it held instead (refused
    /// handshakes are named as such, not as the absence of Socket.IO).
    pub fn no_engineio(&self) -> Option<String> {
        if self.engineio_packets > 0 {
            return None;
        }
        let conns = match self.tcp_conns {
            1 => "1 TCP connection".to_string(),
            n => format!("{n} TCP connections"),
        };
        if self.engineio_requests > 0 {
            let n = self.engineio_requests;
            return Some(format!(
                "no Engine.IO session opened: {n} HTTP request{} to an Engine.IO path, none \
                 answered with an open packet ({} HTTP error response{}; `sioscope explain` says why)",
                if n == 1 { "" } else { "s" },
                self.http_errors,
                if self.http_errors == 1 { "" } else { "s" }
            ));
        }
        let rest = match (self.tcp_conns, self.http_requests) {
            (0, _) => format!("{} packets, no TCP connection", self.frames),
            (_, 0) => format!("{conns}, none HTTP"),
            (_, 1) => format!("{conns}, 1 HTTP request, not to an Engine.IO path"),
            (_, n) => format!("{conns}, {n} HTTP requests, none to an Engine.IO path"),
        };
        Some(format!("no Socket.IO traffic found: {rest}"))
    }

    /// The session ids seen that start with `prefix`.
    pub fn sids_starting_with(&self, prefix: &str) -> Vec<&str> {
        self.sids
            .iter()
            .filter(|s| s.starts_with(prefix))
            .map(String::as_str)
            .collect()
    }

    /// Why `filter` matched nothing, in words: the first of its conditions that no event meets,
    /// with the values that were seen, else that no single event meets them all.
    pub fn why_nothing_matched(&self, filter: &Filter) -> String {
        if let Some(why) = self.no_engineio() {
            return why;
        }
        if let Some(sid) = &filter.sid {
            if self.sids_starting_with(sid).is_empty() {
                let ids = self.sids.iter().map(|s| s.as_str());
                return format!(
                    "no session id starts with {sid:?}; sessions seen: {}",
                    list(ids, self.sids.len())
                );
            }
        }
        if let Some(nsp) = &filter.nsp {
            if !self.nsps.contains(nsp) {
                return format!(
                    "no namespace {nsp}; namespaces seen: {}",
                    or_none(list(self.nsps.iter().map(|s| s.as_str()), self.nsps.len()))
                );
            }
        }
        if let Some(e) = &filter.event {
            if !self.events.contains(e) {
                return format!(
                    "no event named {e}; events seen: {}",
                    or_none(list(
                        self.events.iter().map(|s| s.as_str()),
                        self.events.len()
                    ))
                );
            }
        }
        let unseen: Vec<&str> = filter
            .types
            .iter()
            .filter(|t| !self.types.iter().any(|k| k.eq_ignore_ascii_case(t)))
            .map(String::as_str)
            .collect();
        if !filter.types.is_empty() && unseen.len() == filter.types.len() {
            return format!(
                "no packet of type {}; types seen: {}",
                unseen.join(", "),
                list(self.types.iter().map(|s| s.as_str()), self.types.len())
            );
        }
        let missing: Vec<String> = filter
            .conn
            .iter()
            .filter(|c| !self.conns.contains(c))
            .map(|c| format!("c{c}"))
            .collect();
        if !filter.conn.is_empty() && missing.len() == filter.conn.len() {
            let conns: Vec<String> = self.conns.iter().map(|c| format!("c{c}")).collect();
            return format!(
                "no connection {}; connections seen: {}",
                missing.join(", "),
                or_none(list(conns.iter().map(|s| s.as_str()), conns.len()))
            );
        }
        "no event meets all the filters together (each one alone matches some)".to_string()
    }
}

fn or_none(s: String) -> String {
    if s.is_empty() {
        "none".into()
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_capture_without_engineio_says_what_it_held() {
        let mut s = Seen {
            tcp_conns: 3,
            ..Seen::default()
        };
        assert_eq!(
            s.no_engineio().as_deref(),
            Some("no Socket.IO traffic found: 3 TCP connections, none HTTP")
        );
        s.http_requests = 2;
        assert_eq!(
            s.no_engineio().as_deref(),
            Some("no Socket.IO traffic found: 3 TCP connections, 2 HTTP requests, none to an Engine.IO path")
        );
        s.engineio_requests = 3;
        s.http_errors = 3;
        assert_eq!(
            s.no_engineio().as_deref(),
            Some("no Engine.IO session opened: 3 HTTP requests to an Engine.IO path, none answered with an open packet (3 HTTP error responses; `sioscope explain` says why)")
        );
        s.engineio_packets = 1;
        assert_eq!(s.no_engineio(), None);
    }

    #[test]
    fn an_unknown_event_lists_the_events_seen() {
        let mut s = Seen {
            engineio_packets: 4,
            ..Seen::default()
        };
        s.events.insert("chat".into());
        s.events.insert("join".into());
        let f = Filter {
            event: Some("FOO".into()),
            ..Filter::default()
        };
        assert_eq!(
            s.why_nothing_matched(&f),
            "no event named FOO; events seen: chat, join"
        );
    }

    #[test]
    fn counts_only_gives_the_counts_of_a_full_seen_and_keeps_no_names() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/pcap/v4-namespaces.pcap"
        );
        let bytes = std::fs::read(path).unwrap_or_default();
        let (mut full, mut counts) = (Seen::default(), Seen::counts_only());
        let _ = crate::capture::replay(
            bytes.as_slice(),
            &crate::capture::ReplayOptions::default(),
            &mut |ev| {
                full.event(&ev);
                counts.event(&ev);
            },
        );
        assert!(full.socketio_packets > 0 && !full.nsps.is_empty());
        let tally = |s: &Seen| {
            [
                s.events_total,
                s.tcp_conns,
                s.http_requests,
                s.engineio_requests,
                s.http_errors,
                s.engineio_packets,
                s.socketio_packets,
            ]
        };
        assert_eq!(tally(&counts), tally(&full));
        assert!(counts.sids.is_empty() && counts.nsps.is_empty() && counts.types.is_empty());
        assert!(counts.conns.is_empty() && counts.events.is_empty());
    }

    #[test]
    fn a_filter_that_names_something_keeps_the_names() {
        assert!(Seen::for_filter(&Filter::default()).counts_only);
        for f in [
            Filter {
                sid: Some("abc".into()),
                ..Filter::default()
            },
            Filter {
                nsp: Some("/chat".into()),
                ..Filter::default()
            },
            Filter {
                event: Some("join".into()),
                ..Filter::default()
            },
            Filter {
                conn: vec![3],
                ..Filter::default()
            },
            Filter {
                types: vec!["ping".into()],
                ..Filter::default()
            },
        ] {
            assert!(!Seen::for_filter(&f).counts_only, "{f:?}");
        }
    }
}
