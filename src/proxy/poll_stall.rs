//! `stall-pongs` over HTTP long-polling: hold the POST that carries the client's pong.
//!
//! Over polling, an Engine.IO client sends its packets as the body of an HTTP `POST` to the
//! session's URL (`/socket.io/?EIO=4&transport=polling&sid=…`). The body is a *payload*: one or
//! more packets, separated by the record separator `\x1e` in revision 4 (engine.io-protocol:
//! "the packets are separated by the record separator character"), or length-prefixed in
//! revisions 2 and 3 (`1:3`). In revision 4 the server pings and the client answers with a pong
//! (type `3`): a POST whose payload holds a pong is that answer. Revisions 2 and 3 are the other
//! way round (the client pings), so their clients send no pong and this shaper never acts on them.
//!
//! [`PollStall`] reads the client→server byte stream of one connection with the same
//! [`HttpDecoder`] the pipeline uses, so request boundaries are found the way `decode` finds
//! them. Bytes are forwarded once the request they belong to is complete and known not to be a
//! pong (a request still incomplete after [`PENDING_CAP`] bytes is forwarded as it comes, and is
//! then never held). When a complete request is a `POST` whose payload (decoded with
//! [`decode_payload`]) contains a pong, that request and **everything after it on the
//! connection** is held: engine.io-client sends one POST at a time and waits for its answer, so
//! the client's later packets would queue behind it anyway. Held bytes are kept up to
//! [`HOLD_CAP`]; past it they are dropped and counted. They are never forwarded: they go away
//! with the connection.
//!
//! A request that asks to upgrade to WebSocket ends the polling walk: the caller goes on with
//! WebSocket frames after it.

use crate::engineio::{decode_payload, Packet, Version};
use crate::http::query::{param, split_target};
use crate::http::{HttpDecoder, HttpHead, HttpLimits, HttpMessage, HttpOutput, Role};

use super::shaper::Injected;

/// Bytes of an incomplete request kept back while waiting for its end; past this the request is
/// forwarded as it comes (it is too big to be a pong's POST worth holding).
pub const PENDING_CAP: usize = 64 * 1024;

/// Bytes kept once the connection is held; later bytes are dropped and only counted.
pub const HOLD_CAP: usize = 256 * 1024;

/// What one step of the polling walk decided.
#[derive(Debug, PartialEq, Eq)]
pub enum PollStep {
    /// Keep walking requests on this connection.
    Http,
    /// The request stream asked for a WebSocket upgrade: these bytes followed the upgrade request
    /// and belong to the WebSocket walk.
    Upgrade(Vec<u8>),
    /// Requests can no longer be told apart (a malformed head): the rest passes untouched.
    Opaque,
}

/// The client→server polling walk of one connection (see the module docs).
#[derive(Debug)]
pub struct PollStall {
    dec: HttpDecoder,
    /// Bytes received but not yet forwarded, from stream offset `pending_start`.
    pending: Vec<u8>,
    pending_start: u64,
    /// Stream offset up to which bytes have been forwarded.
    forwarded: u64,
    /// Once a pong's POST was held: everything from there on stays here.
    holding: bool,
    held: Vec<u8>,
    /// Bytes dropped past [`HOLD_CAP`].
    dropped: u64,
}

impl Default for PollStall {
    fn default() -> Self {
        PollStall {
            dec: HttpDecoder::new(
                Role::Requests,
                HttpLimits {
                    max_head: PENDING_CAP,
                    max_body: PENDING_CAP,
                    ..HttpLimits::default()
                },
            ),
            pending: Vec::new(),
            pending_start: 0,
            forwarded: 0,
            holding: false,
            held: Vec::new(),
            dropped: 0,
        }
    }
}

/// The session id of a polling POST carrying a pong, or `None` when the request is anything else.
fn pong_post(m: &HttpMessage) -> Option<String> {
    let HttpHead::Request { method, target } = &m.head else {
        return None;
    };
    if method != "POST" || m.body_truncated {
        return None;
    }
    let (_, pairs) = split_target(target);
    if param(&pairs, "transport") != Some("polling") {
        return None;
    }
    let version = param(&pairs, "EIO").and_then(|v| Version::from_eio_value(v).ok())?;
    let binary = m
        .header("content-type")
        .is_some_and(|v| v.to_ascii_lowercase().contains("application/octet-stream"));
    let pong = decode_payload(version, &m.body, binary)
        .iter()
        .any(|i| matches!(i.packet, Ok(Packet::Pong(_))));
    pong.then(|| param(&pairs, "sid").unwrap_or("?").to_string())
}

impl PollStall {
    /// Bytes held so far (never forwarded).
    pub fn held(&self) -> usize {
        self.held.len()
    }

    /// Bytes dropped because more than [`HOLD_CAP`] were held.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    fn hold(&mut self, bytes: &[u8], notes: &mut Vec<Injected>, at: usize) {
        let room = HOLD_CAP.saturating_sub(self.held.len()).min(bytes.len());
        self.held
            .extend_from_slice(bytes.get(..room).unwrap_or(&[]));
        let over = bytes.len() - room;
        if over > 0 {
            if self.dropped == 0 {
                notes.push(Injected {
                    offset_in_chunk: at,
                    comment: format!(
                        "sioscope injected fault: stall-pongs — more than {} KiB held on this connection; later client bytes are dropped",
                        HOLD_CAP / 1024
                    ),
                });
            }
            self.dropped += over as u64;
        }
    }

    /// Forwards pending bytes up to stream offset `upto`.
    fn release(&mut self, upto: u64, fwd: &mut Vec<u8>) {
        let n = usize::try_from(upto.saturating_sub(self.pending_start))
            .unwrap_or(usize::MAX)
            .min(self.pending.len());
        fwd.extend(self.pending.drain(..n));
        self.pending_start += n as u64;
        self.forwarded = self.forwarded.max(self.pending_start);
    }

    /// Walks one chunk: appends what may pass to `fwd` and reports faults that acted in
    /// `notes` (offsets relative to `fwd`).
    pub fn feed(&mut self, chunk: &[u8], fwd: &mut Vec<u8>, notes: &mut Vec<Injected>) -> PollStep {
        if self.holding {
            self.hold(chunk, notes, fwd.len());
            return PollStep::Http;
        }
        self.pending.extend_from_slice(chunk);
        self.dec.push(chunk);
        // Bounded: every message the decoder returns consumed bytes of the stream.
        while let Some(out) = self.dec.poll() {
            let m = match out {
                HttpOutput::Message(m) => m,
                HttpOutput::Error { .. } => {
                    let all = self.pending_start + self.pending.len() as u64;
                    self.release(all, fwd);
                    return PollStep::Opaque;
                }
            };
            if m.span.start >= self.forwarded {
                if let Some(sid) = pong_post(&m) {
                    self.release(m.span.start, fwd);
                    notes.push(Injected {
                        offset_in_chunk: fwd.len(),
                        comment: format!(
                            "sioscope injected fault: stall-pongs — a polling POST carrying an Engine.IO pong (client→server, sid={sid}) was held back, with everything after it on this connection"
                        ),
                    });
                    self.holding = true;
                    let rest = std::mem::take(&mut self.pending);
                    self.pending_start += rest.len() as u64;
                    self.hold(&rest, notes, fwd.len());
                    return PollStep::Http;
                }
            }
            self.release(m.span.end, fwd);
            if self.dec.awaiting_upgrade() || m.is_websocket_upgrade_request() {
                let rest = std::mem::take(&mut self.pending);
                self.pending_start += rest.len() as u64;
                return PollStep::Upgrade(rest);
            }
        }
        if self.pending.len() > PENDING_CAP {
            let all = self.pending_start + self.pending.len() as u64;
            self.release(all, fwd);
        }
        PollStep::Http
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn post(sid: &str, body: &str) -> Vec<u8> {
        format!(
            "POST /socket.io/?EIO=4&transport=polling&sid={sid} HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain;charset=UTF-8\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .into_bytes()
    }

    fn get(sid: &str) -> Vec<u8> {
        format!("GET /socket.io/?EIO=4&transport=polling&sid={sid} HTTP/1.1\r\nHost: x\r\n\r\n")
            .into_bytes()
    }

    fn run(stream: &[u8], step: usize) -> (Vec<u8>, usize, PollStall) {
        let mut p = PollStall::default();
        let mut fwd = vec![];
        let mut notes = vec![];
        for c in stream.chunks(step) {
            assert_eq!(p.feed(c, &mut fwd, &mut notes), PollStep::Http);
        }
        (fwd, notes.len(), p)
    }

    #[test]
    fn holds_the_pong_post_and_what_follows_split_anywhere() {
        let mut before = get("abc");
        before.extend(post("abc", "40"));
        let mut stream = before.clone();
        stream.extend(post("abc", "3"));
        stream.extend(post("abc", "42[\"later\"]"));
        for step in 1..40 {
            let (fwd, notes, p) = run(&stream, step);
            assert_eq!(fwd, before, "step {step}");
            assert_eq!(notes, 1);
            assert_eq!(p.held(), stream.len() - before.len());
        }
    }

    #[test]
    fn finds_a_pong_batched_with_other_packets_and_passes_the_rest() {
        let (fwd, notes, _) = run(&post("s", "42[\"a\"]\u{1e}3"), 7);
        assert!(fwd.is_empty());
        assert_eq!(notes, 1);
        let mut ok = post("s", "42[\"3\"]");
        ok.extend(post("s", "2"));
        ok.extend(get("s"));
        let (fwd, notes, _) = run(&ok, 5);
        assert_eq!(fwd, ok);
        assert_eq!(notes, 0);
    }

    #[test]
    fn held_bytes_are_capped_and_counted() {
        let mut p = PollStall::default();
        let (mut fwd, mut notes) = (vec![], vec![]);
        p.feed(&post("s", "3"), &mut fwd, &mut notes);
        let big = vec![b'x'; 100_000];
        for _ in 0..4 {
            p.feed(&big, &mut fwd, &mut notes);
        }
        assert!(fwd.is_empty());
        assert_eq!(p.held(), HOLD_CAP);
        assert_eq!(
            p.dropped() as usize,
            post("s", "3").len() + 400_000 - HOLD_CAP
        );
        assert_eq!(notes.len(), 2);
    }

    #[test]
    fn an_upgrade_request_hands_over_and_a_big_request_streams() {
        let head = b"GET /socket.io/?EIO=4&transport=websocket&sid=s HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n";
        let mut stream = head.to_vec();
        stream.extend_from_slice(b"\x81\x81");
        let mut p = PollStall::default();
        let (mut fwd, mut notes) = (vec![], vec![]);
        let step = p.feed(&stream, &mut fwd, &mut notes);
        assert_eq!(step, PollStep::Upgrade(b"\x81\x81".to_vec()));
        assert_eq!(fwd, head);

        let body = "4".repeat(PENDING_CAP + 10);
        let big = post("s", &body);
        let mut p = PollStall::default();
        let (mut fwd, mut notes) = (vec![], vec![]);
        for c in big.chunks(4096) {
            p.feed(c, &mut fwd, &mut notes);
        }
        assert_eq!(fwd, big);
    }
}
