//! Everything the cause rules look at for one session, and the helpers they share.

use super::cause::{Cause, Initiator};
use super::certainty::Certainty;
use super::finding::FindingEnd;
use super::implementation::{identify, Peers};
use crate::event::{Dir, Timestamp};
use crate::session::{CloseFrame, ConnRecord, Mark, SessionRecord, SessionTracker, UpgradeState};

pub(crate) fn ms(a: Timestamp, b: Timestamp) -> f64 {
    (b.0 as f64 - a.0 as f64) / 1e6
}

pub(crate) fn initiator_of(dir: Option<Dir>) -> Initiator {
    match dir {
        Some(Dir::C2S) => Initiator::Client,
        Some(Dir::S2C) => Initiator::Server,
        None => Initiator::Unknown,
    }
}

pub(crate) fn side(dir: Option<Dir>) -> &'static str {
    match dir {
        Some(Dir::C2S) => "client",
        Some(Dir::S2C) => "server",
        None => "?",
    }
}

/// Everything the rules look at for one session.
pub(crate) struct Facts<'a> {
    pub(crate) s: &'a SessionRecord,
    /// Connections of the session, in order.
    pub(crate) conns: Vec<&'a ConnRecord>,
    /// The connection that carried the session last (the WebSocket one after an upgrade).
    pub(crate) last_conn: Option<&'a ConnRecord>,
    /// The first way the transport ended: the first close frame, FIN or RST on `last_conn`.
    pub(crate) transport_end: Option<Mark>,
    /// Sessions ending within 100 ms of this one (server-wide shutdown).
    pub(crate) simultaneous: usize,
    /// Sessions of the same server, opened before this end, still active a second after it.
    pub(crate) survivors: usize,
    /// Sessions of the same server whose handshake came after this end, within 10 s (its port
    /// was listening, or listening again).
    pub(crate) reopened: usize,
    pub(crate) open_at_eof: bool,
    /// A connection to the same server refused (SYN answered by RST, no byte) within 10 s after
    /// this session's transport ended: the server had stopped listening (its mark says so).
    pub(crate) refused_after: Option<Mark>,
    /// The capture's last timestamp.
    pub(crate) capture_end: Timestamp,
    /// The implementations on each side.
    pub(crate) peers: Peers,
}

impl<'a> Facts<'a> {
    pub(crate) fn new(s: &'a SessionRecord, t: &'a SessionTracker) -> Self {
        let conns: Vec<&ConnRecord> = s
            .conns
            .iter()
            .filter_map(|c| t.conns().get(c).map(|b| &**b))
            .collect();
        let ws_conn = conns
            .iter()
            .rev()
            .find(|c| c.websocket && c.ws_messages.iter().sum::<u64>() > 0)
            .copied();
        let last_conn = if s.upgrade == UpgradeState::Upgraded
            || s.transports
                .first()
                .is_some_and(|t| t.transport == "websocket")
        {
            ws_conn.or_else(|| conns.last().copied())
        } else {
            conns
                .iter()
                .rev()
                .find(|c| !c.websocket)
                .copied()
                .or_else(|| conns.last().copied())
        };
        let mut candidates: Vec<Mark> = vec![];
        if let Some(c) = last_conn {
            candidates.extend(c.fin.clone());
            candidates.extend(c.rst.clone());
        }
        if let Some(first_close) = s.ws_closes.first() {
            candidates.push(first_close.at.clone());
        }
        let transport_end = candidates.into_iter().min_by_key(|m| m.frame);
        let open_at_eof =
            last_conn.is_some_and(|c| c.open_at_eof && c.fin.is_none() && c.rst.is_none());
        Facts {
            s,
            conns,
            last_conn,
            transport_end,
            simultaneous: 0,
            survivors: 0,
            reopened: 0,
            refused_after: None,
            open_at_eof,
            capture_end: t.span().map(|(_, b)| b).unwrap_or(s.last.ts),
            peers: identify(s),
        }
    }

    pub(crate) fn close_with(&self, codes: &[u16]) -> Option<&CloseFrame> {
        self.s
            .ws_closes
            .iter()
            .find(|c| c.code.is_some_and(|x| codes.contains(&x)))
    }

    pub(crate) fn disconnect(&self, dir: Dir) -> Option<Mark> {
        self.s
            .sockets
            .iter()
            .filter_map(|k| k.disconnect.clone())
            .filter(|m| m.dir == Some(dir))
            .min_by_key(|m| m.frame)
    }

    /// The Engine.IO close packet `1` that closes the session, if any. A `1` over WebSocket is
    /// ignored by both sides (`engine.io@6.6.12/build/socket.js:119-148` and
    /// `engine.io-client@6.6.8/build/cjs/socket.js:375-393` have no close case; only polling
    /// acts on it: `engine.io@6.6.12/build/transports/polling.js:167-169`), and a `1` on the
    /// polling connection after the upgrade closes the discarded transport, not the session.
    pub(crate) fn engine_close(&self) -> Option<Mark> {
        let m = self.s.eio_close.clone()?;
        let conn = self.conns.iter().find(|c| c.conn == m.conn)?;
        if conn.websocket {
            return None;
        }
        let upgraded_before = self.s.upgrade == UpgradeState::Upgraded
            && self
                .s
                .upgrade_mark
                .as_ref()
                .is_some_and(|u| u.frame <= m.frame);
        (!upgraded_before).then_some(m)
    }

    /// The first FIN or RST of a polling connection of the session that ended with a request
    /// still waiting for its response, before frame `before` (and whether it was a RST).
    pub(crate) fn cut_request(&self, before: u64) -> Option<(Mark, bool)> {
        self.cut_requests(before).min_by_key(|(m, _)| m.frame)
    }

    /// Like [`Facts::cut_request`], for the connections the client's side closed first: the
    /// client, or a relay on the server's leg of it. That is the cut the server's pending
    /// request notices ("poll connection closed prematurely", `engine.io@6.6.12/build/
    /// transports/polling.js:67-69`); a FIN from the server's side is a server going away.
    pub(crate) fn client_cut_request(&self, before: u64) -> Option<(Mark, bool)> {
        self.cut_requests(before)
            .filter(|(m, _)| m.dir == Some(Dir::C2S))
            .min_by_key(|(m, _)| m.frame)
    }

    /// The first FIN or RST of each polling connection that ended with a request unanswered.
    fn cut_requests(&self, before: u64) -> impl Iterator<Item = (Mark, bool)> + '_ {
        self.conns
            .iter()
            .filter(|c| request_unanswered(c))
            .filter_map(|c| {
                let fin = c.fin.as_ref().map(|m| (m.clone(), false));
                let rst = c.rst.as_ref().map(|m| (m.clone(), true));
                [fin, rst]
                    .into_iter()
                    .flatten()
                    .min_by_key(|(m, _)| m.frame)
            })
            .filter(move |(m, _)| m.frame < before)
    }

    pub(crate) fn end_mark(&self) -> Mark {
        self.transport_end
            .clone()
            .unwrap_or_else(|| self.s.last.clone())
    }
}

/// Whether a polling connection's last request never got its response (nothing answered it
/// before the connection ended or the capture did).
pub(crate) fn request_unanswered(c: &ConnRecord) -> bool {
    !c.websocket
        && match (&c.last_data[0], &c.last_data[1]) {
            (Some(req), Some(resp)) => req.frame > resp.frame,
            (Some(_), None) => true,
            _ => false,
        }
}

#[allow(clippy::too_many_arguments)] // one argument per field of the finding
pub(crate) fn end(
    at: Mark,
    cause: Cause,
    reason: Option<&str>,
    client_reason: Option<&str>,
    initiator: Initiator,
    evidence: Vec<Mark>,
    explanation: String,
    fix: Option<&str>,
) -> FindingEnd {
    FindingEnd {
        at,
        cause,
        reason: reason.map(str::to_string),
        client_reason: client_reason.map(str::to_string),
        client_reason_if: None,
        initiator,
        evidence,
        explanation,
        fix: fix.map(str::to_string),
        certainty: Certainty::Unknown,
        certainty_reason: "not assessed".to_string(),
        candidates: vec![],
    }
}

pub(crate) fn close_text(c: &CloseFrame) -> String {
    match c.code {
        Some(code) => format!(
            "close {code}{}",
            if c.reason.is_empty() {
                String::new()
            } else {
                format!(" {:?}", c.reason)
            }
        ),
        None => "close (no status code)".to_string(),
    }
}
