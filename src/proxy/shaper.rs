//! The shapers: per-direction state machines that apply `--fault`s to the relayed bytes.
//!
//! The client→server stream of a WebSocket connection is an HTTP `GET` with `Upgrade: websocket`,
//! then frames once the server answered `101` (RFC 6455 §4.1: the client sends data frames only
//! after the handshake response). [`C2sShaper`] waits for the end of the request head
//! (`\r\n\r\n`); once the server side has seen `101` ([`ConnFaultState::upgraded`]), it walks frame
//! headers with [`crate::ws::parse_header`]. Client frames are masked (RFC 6455 §5.3: "octet i of
//! the transformed data is the XOR of octet i of the original data with octet at index i modulo 4
//! of the masking key"), so XORing a wire byte flips the same bits of the unmasked byte: the
//! corruption is computed on the unmasked byte and written back masked.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use super::fault::FaultPlan;
use super::poll_stall::{PollStall, PollStep};
use crate::ws::{parse_header, Opcode};

/// The largest HTTP head scanned for its end; a longer head stops the tracking (faults that need
/// frame boundaries then leave the connection alone).
const MAX_HEAD: u64 = 64 * 1024;

/// What both directions of one connection share.
#[derive(Debug, Default)]
pub struct ConnFaultState {
    /// The server answered `101 Switching Protocols`: frames follow.
    pub upgraded: AtomicBool,
    /// `block-websocket` is dropping this connection's bytes.
    pub blocked: AtomicBool,
    /// Bytes forwarded both ways (for `drop-after:<bytes>`).
    pub bytes: AtomicU64,
}

/// A fault acted: what to say in the output and the recording.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Injected {
    /// Offset in the forwarded stream of this direction where it took effect.
    pub offset_in_chunk: usize,
    /// The text (also the pcapng packet comment).
    pub comment: String,
}

/// The outcome of shaping one chunk.
#[derive(Debug, Default)]
pub struct Shaped {
    /// The bytes to forward (possibly fewer or changed).
    pub bytes: Vec<u8>,
    /// Faults that acted on this chunk.
    pub injected: Vec<Injected>,
    /// Close the connection after forwarding `bytes`.
    pub cut: bool,
}

/// Finds the end of an HTTP head (`\r\n\r\n`) across chunks.
#[derive(Debug, Default)]
struct HeadEnd {
    matched: u8,
    seen: u64,
    done: bool,
    gave_up: bool,
}

impl HeadEnd {
    /// Index just after the head's end within `chunk`, if it ends here.
    fn feed(&mut self, chunk: &[u8]) -> Option<usize> {
        for (i, &b) in chunk.iter().enumerate() {
            self.seen += 1;
            let want = if self.matched % 2 == 0 { b'\r' } else { b'\n' };
            if b == want {
                self.matched += 1;
            } else {
                self.matched = u8::from(b == b'\r');
            }
            if self.matched == 4 {
                self.done = true;
                return Some(i + 1);
            }
            if self.seen > MAX_HEAD {
                self.gave_up = true;
                return None;
            }
        }
        None
    }
}

/// Drop-after accounting shared by both directions: how many of `len` bytes may still pass.
fn budget(plan: &FaultPlan, st: &ConnFaultState, len: usize) -> (usize, bool) {
    match plan.drop_after_bytes {
        None => (len, false),
        Some(limit) => {
            let before = st.bytes.fetch_add(len as u64, Ordering::Relaxed);
            let left = limit.saturating_sub(before);
            if (len as u64) < left {
                (len, false)
            } else {
                (usize::try_from(left).unwrap_or(len).min(len), true)
            }
        }
    }
}

fn cut_note(plan: &FaultPlan, at: usize) -> Injected {
    Injected {
        offset_in_chunk: at,
        comment: format!(
            "sioscope injected fault: drop-after:{} — connection cut after {} bytes",
            plan.drop_after_bytes.unwrap_or(0),
            plan.drop_after_bytes.unwrap_or(0)
        ),
    }
}

/// Server→client shaping: spots the `101` and blocks what follows under `block-websocket`.
#[derive(Debug, Default)]
pub struct S2cShaper {
    /// First bytes of the first response (to read its status line).
    status: Vec<u8>,
    status_known: bool,
    is_101: bool,
    head: HeadEnd,
}

impl S2cShaper {
    /// Shapes one server→client chunk.
    pub fn shape(&mut self, plan: &FaultPlan, st: &ConnFaultState, chunk: &[u8]) -> Shaped {
        let mut out = Shaped::default();
        if st.blocked.load(Ordering::Relaxed) {
            return out;
        }
        let mut pass = chunk.len();
        if !self.status_known {
            let take = 12usize.saturating_sub(self.status.len()).min(chunk.len());
            self.status
                .extend_from_slice(chunk.get(..take).unwrap_or(&[]));
            if self.status.len() >= 12 {
                self.status_known = true;
                // RFC 6455 §4.2.2: the server's answer is "HTTP/1.1 101 Switching Protocols".
                self.is_101 = self.status.get(9..12) == Some(b"101");
            }
        }
        if self.is_101 && !self.head.done && !self.head.gave_up {
            if let Some(end) = self.head.feed(chunk) {
                st.upgraded.store(true, Ordering::Release);
                if plan.block_websocket {
                    pass = end;
                    st.blocked.store(true, Ordering::Release);
                    out.injected.push(Injected {
                        offset_in_chunk: end,
                        comment: "sioscope injected fault: block-websocket — the 101 passed; every later byte of this connection is dropped".into(),
                    });
                }
            }
        }
        let (n, cut) = budget(plan, st, pass);
        out.bytes.extend_from_slice(chunk.get(..n).unwrap_or(&[]));
        if cut {
            out.cut = true;
            out.injected.push(cut_note(plan, n));
        }
        out
    }
}

#[derive(Debug)]
enum Walk {
    /// Inside the request head.
    Head,
    /// After the head, waiting to learn whether the connection was upgraded.
    AfterHead,
    /// Walking WebSocket frames.
    Frames(FrameWalk),
    /// `stall-pongs`: walking HTTP requests for a polling POST that carries a pong.
    Poll(Box<PollStall>),
    /// Not a WebSocket connection, or tracking was lost.
    Opaque,
}

#[derive(Debug, Default)]
struct FrameWalk {
    /// Header bytes (or a whole small frame) held until complete.
    held: Vec<u8>,
    /// In a payload: bytes left, masking key, position in the payload, and whether to corrupt it.
    remaining: u64,
    key: Option<[u8; 4]>,
    pos: u64,
    corrupt: bool,
    in_payload: bool,
}

/// Client→server shaping: frame walking for `corrupt-deflate` and `stall-pongs`, and, for
/// `stall-pongs`, the polling request walk of [`PollStall`] until a request asks to upgrade.
#[derive(Debug)]
pub struct C2sShaper {
    walk: Walk,
    head: HeadEnd,
}

impl Default for C2sShaper {
    fn default() -> Self {
        C2sShaper {
            walk: Walk::Head,
            head: HeadEnd::default(),
        }
    }
}

impl C2sShaper {
    /// Shapes one client→server chunk.
    pub fn shape(&mut self, plan: &FaultPlan, st: &ConnFaultState, chunk: &[u8]) -> Shaped {
        let mut out = Shaped::default();
        if st.blocked.load(Ordering::Acquire) {
            return out;
        }
        let walk_frames = plan.corrupt_nth.is_some() || plan.stall_pongs;
        let mut rest = chunk;
        let mut fwd: Vec<u8> = Vec::with_capacity(chunk.len());
        // Bytes that followed an upgrade request found by the polling walk.
        let tail;
        if walk_frames {
            if plan.stall_pongs && matches!(self.walk, Walk::Head) && self.head.seen == 0 {
                self.walk = Walk::Poll(Box::default());
            }
            if let Walk::Poll(p) = &mut self.walk {
                match p.feed(rest, &mut fwd, &mut out.injected) {
                    PollStep::Http => rest = &[],
                    PollStep::Opaque => {
                        rest = &[];
                        self.walk = Walk::Opaque;
                    }
                    PollStep::Upgrade(after) => {
                        tail = after;
                        rest = &tail;
                        self.walk = Walk::AfterHead;
                    }
                }
            }
            if let Walk::Head = self.walk {
                match self.head.feed(rest) {
                    Some(end) => {
                        fwd.extend_from_slice(rest.get(..end).unwrap_or(&[]));
                        rest = rest.get(end..).unwrap_or(&[]);
                        self.walk = Walk::AfterHead;
                    }
                    None => {
                        if self.head.gave_up {
                            self.walk = Walk::Opaque;
                        }
                        fwd.extend_from_slice(rest);
                        rest = &[];
                    }
                }
            }
            if matches!(self.walk, Walk::AfterHead) && !rest.is_empty() {
                self.walk = if st.upgraded.load(Ordering::Acquire) {
                    Walk::Frames(FrameWalk::default())
                } else {
                    Walk::Opaque
                };
            }
            match &mut self.walk {
                Walk::Frames(fw) => {
                    let ok = fw.feed(plan, rest, &mut fwd, &mut out.injected);
                    if !ok {
                        self.walk = Walk::Opaque;
                    }
                }
                Walk::Poll(_) => {}
                _ => fwd.extend_from_slice(rest),
            }
        } else {
            fwd.extend_from_slice(rest);
        }
        let (n, cut) = budget(plan, st, fwd.len());
        fwd.truncate(n);
        out.injected.retain(|i| i.offset_in_chunk <= n);
        if cut {
            out.cut = true;
            out.injected.push(cut_note(plan, n));
        }
        out.bytes = fwd;
        out
    }
}

/// Engine.IO pong over WebSocket: a text message `3` (engine.io-protocol: "3 pong").
fn is_pong(frame_payload_unmasked: &[u8]) -> bool {
    frame_payload_unmasked == b"3"
}

impl FrameWalk {
    /// Walks `input`, appending what passes to `fwd`. False when frames cannot be trusted.
    fn feed(
        &mut self,
        plan: &FaultPlan,
        mut input: &[u8],
        fwd: &mut Vec<u8>,
        notes: &mut Vec<Injected>,
    ) -> bool {
        // Bounded: each turn consumes at least one byte or finishes a header.
        while !input.is_empty() {
            if self.in_payload {
                let take = usize::try_from(self.remaining)
                    .unwrap_or(usize::MAX)
                    .min(input.len());
                let (now, later) = input.split_at(take);
                let start = fwd.len();
                fwd.extend_from_slice(now);
                if self.corrupt && self.pos == 0 && take > 0 {
                    if let Some(b) = fwd.get_mut(start) {
                        let k = self.key.map_or(0, |k| k[0]);
                        let plain = *b ^ k;
                        // RFC 1951 §3.2.3: BTYPE (bits 1-2 of the first byte) "11 - reserved
                        // (error)": the receiver's inflater fails with "invalid block type".
                        let bad = plain | 0x06;
                        *b = bad ^ k;
                        notes.push(Injected {
                            offset_in_chunk: start,
                            comment: format!(
                                "sioscope injected fault: corrupt-deflate:{} — first compressed payload byte {plain:#04x} → {bad:#04x} (deflate block type 11, invalid)",
                                plan.corrupt_nth.unwrap_or(1)
                            ),
                        });
                    }
                    self.corrupt = false;
                }
                self.pos += take as u64;
                self.remaining -= take as u64;
                input = later;
                if self.remaining == 0 {
                    self.in_payload = false;
                }
                continue;
            }
            // Collect a header (at most 14 bytes), or a whole tiny text frame for stall-pongs.
            let Some((&b, later)) = input.split_first() else {
                break;
            };
            self.held.push(b);
            input = later;
            let (h, hlen) = match parse_header(&self.held) {
                Ok(Some(x)) => x,
                Ok(None) => {
                    if self.held.len() > 14 {
                        fwd.append(&mut self.held);
                        return false;
                    }
                    continue;
                }
                Err(_) => {
                    fwd.append(&mut self.held);
                    return false;
                }
            };
            let small_text = plan.stall_pongs
                && h.opcode == Opcode::Text
                && h.fin
                && !h.rsv1
                && h.payload_len == 1;
            if small_text {
                // Hold the 1-byte payload too, to see whether it is a pong.
                let need = hlen + 1;
                while self.held.len() < need {
                    let Some((&b, later)) = input.split_first() else {
                        return true;
                    };
                    self.held.push(b);
                    input = later;
                }
                let mut body = [self.held.get(hlen).copied().unwrap_or(0)];
                if let Some(k) = h.mask {
                    crate::ws::unmask(&mut body, k, 0);
                }
                if is_pong(&body) {
                    notes.push(Injected {
                        offset_in_chunk: fwd.len(),
                        comment: "sioscope injected fault: stall-pongs — an Engine.IO pong (client→server) was held back".into(),
                    });
                } else {
                    fwd.extend_from_slice(&self.held);
                }
                self.held.clear();
                continue;
            }
            fwd.append(&mut self.held);
            let data = matches!(h.opcode, Opcode::Text | Opcode::Binary);
            self.corrupt = false;
            if let (Some(nth), true, true) = (plan.corrupt_nth, h.rsv1, data) {
                if h.payload_len > 0 {
                    let seen = plan.compressed_seen.fetch_add(1, Ordering::Relaxed) + 1;
                    self.corrupt = seen == nth;
                }
            }
            self.key = h.mask;
            self.pos = 0;
            self.remaining = h.payload_len;
            self.in_payload = h.payload_len > 0;
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proxy::fault::Fault;

    fn masked(op: u8, rsv1: bool, payload: &[u8], key: [u8; 4]) -> Vec<u8> {
        let mut v = vec![0x80 | op | if rsv1 { 0x40 } else { 0 }];
        assert!(payload.len() < 126);
        v.push(0x80 | payload.len() as u8);
        v.extend_from_slice(&key);
        let mut p = payload.to_vec();
        crate::ws::unmask(&mut p, key, 0);
        v.extend(p);
        v
    }

    const HEAD: &[u8] =
        b"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nUpgrade: websocket\r\n\r\n";

    #[test]
    fn corrupts_the_nth_compressed_frame_split_anywhere() {
        let plan = FaultPlan::new(&[Fault::CorruptDeflate { nth: 2 }]);
        let key = [0x11, 0x22, 0x33, 0x44];
        let f1 = masked(1, true, &[0x4a, 0x01, 0x02], key);
        let f2 = masked(1, true, &[0x4a, 0x05, 0x06], key);
        let mut stream = HEAD.to_vec();
        stream.extend(&f1);
        stream.extend(&f2);
        for split in 1..stream.len() {
            plan.compressed_seen.store(0, Ordering::Relaxed);
            let st = ConnFaultState::default();
            st.upgraded.store(true, Ordering::Relaxed);
            let mut c = C2sShaper::default();
            let (a, b) = stream.split_at(split);
            let mut out = c.shape(&plan, &st, a);
            let o2 = c.shape(&plan, &st, b);
            out.bytes.extend(o2.bytes);
            assert_eq!(out.injected.len() + o2.injected.len(), 1, "split {split}");
            assert_eq!(out.bytes.len(), stream.len());
            let at = HEAD.len() + f1.len() + 6;
            assert_eq!(out.bytes[at] ^ key[0], 0x4a | 0x06);
            let mut expect = stream.clone();
            expect[at] = out.bytes[at];
            assert_eq!(out.bytes, expect);
        }
    }

    #[test]
    fn holds_pongs_only() {
        let plan = FaultPlan::new(&[Fault::StallPongs]);
        let st = ConnFaultState::default();
        st.upgraded.store(true, Ordering::Relaxed);
        let key = [9, 8, 7, 6];
        let mut stream = HEAD.to_vec();
        stream.extend(masked(1, false, b"3", key));
        stream.extend(masked(1, false, b"42[\"a\"]", key));
        stream.extend(masked(1, false, b"3", key));
        let mut c = C2sShaper::default();
        let mut fwd = vec![];
        let mut notes = 0;
        for b in stream.chunks(3) {
            let o = c.shape(&plan, &st, b);
            fwd.extend(o.bytes);
            notes += o.injected.len();
        }
        let mut expect = HEAD.to_vec();
        expect.extend(masked(1, false, b"42[\"a\"]", key));
        assert_eq!(fwd, expect);
        assert_eq!(notes, 2);
    }

    #[test]
    fn blocks_after_101_and_cuts_after_bytes() {
        let plan = FaultPlan::new(&[Fault::BlockWebsocket]);
        let st = ConnFaultState::default();
        let mut s = S2cShaper::default();
        let resp = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x01\x33";
        let o = s.shape(&plan, &st, resp);
        assert_eq!(o.bytes.len(), resp.len() - 3);
        assert_eq!(o.injected.len(), 1);
        assert!(s.shape(&plan, &st, b"more").bytes.is_empty());
        assert!(C2sShaper::default()
            .shape(&plan, &st, b"x")
            .bytes
            .is_empty());

        let plan = FaultPlan::new(&[Fault::DropAfterBytes(10)]);
        let st = ConnFaultState::default();
        let mut c = C2sShaper::default();
        let o = c.shape(&plan, &st, b"123456");
        assert!(!o.cut);
        let o = S2cShaper::default().shape(&plan, &st, b"abcdefgh");
        assert!(o.cut);
        assert_eq!(o.bytes, b"abcd");
    }
}
