//! `FrameMatcher`: one direction of a relay, WebSocket frames as they entered (on one leg) against
//! frames as they left (on the other), matched in order by header and payload fingerprint.
//!
//! A transparent relay forwards frames in order (TCP is a byte stream and a WebSocket frame
//! sequence is ordered, RFC 6455 §5.4: fragments are delivered "in the order sent"), so the
//! matching is a FIFO walk: the oldest frame that left is compared with the oldest that entered.
//! Same fingerprint: forwarded intact. Found further back in the queue: the frames before it were
//! swallowed. Same header (opcode, FIN, RSV1, length) but another payload: altered. Otherwise the
//! frame left without entering (injected). Memory is a window of [`WINDOW`] frames per side, each
//! a fixed-size fingerprint (`FrameDigest`), never a payload.

use std::collections::VecDeque;

use crate::event::Dir;
use crate::ws::FrameDigest;

use super::finding::{ByteChange, HopKind};

/// Frames kept per side while waiting for their copy on the other leg.
pub const WINDOW: usize = 256;
/// Frame numbers listed per swallowed/injected finding.
const LISTED: usize = 16;
/// Altered frames reported per direction (later ones are counted in the last finding's silence).
const MAX_ALTERED: usize = 16;

/// One frame as seen on one leg.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameSeen {
    /// Capture frame number.
    pub frame: u64,
    /// Opcode name.
    pub opcode: String,
    /// FIN bit.
    pub fin: bool,
    /// RSV1 bit.
    pub rsv1: bool,
    /// Payload length from the header.
    pub len: u64,
    /// Payload fingerprint.
    pub digest: FrameDigest,
}

impl FrameSeen {
    fn same_header(&self, o: &FrameSeen) -> bool {
        self.opcode == o.opcode && self.fin == o.fin && self.rsv1 == o.rsv1 && self.len == o.len
    }
    fn same(&self, o: &FrameSeen) -> bool {
        self.same_header(o) && self.digest == o.digest
    }
}

/// Matches one direction's frames across the two legs.
#[derive(Debug, Clone)]
pub struct FrameMatcher {
    dir: Dir,
    /// (1-based index, frame, the exit leg was already closed when it entered).
    entered: VecDeque<(u64, FrameSeen, bool)>,
    left: VecDeque<FrameSeen>,
    /// Frames that entered so far (1-based index of the next one minus one).
    entered_count: u64,
    /// Frames forwarded intact.
    pub intact: u64,
    altered: Vec<HopKind>,
    swallowed: u64,
    swallowed_frames: Vec<u64>,
    injected: u64,
    injected_frames: Vec<u64>,
    /// The exit leg was closed in this direction before the first swallowed frame entered.
    exit_closed: bool,
    swallowed_after_exit_closed: bool,
}

impl FrameMatcher {
    /// A matcher for frames travelling in `dir`.
    pub fn new(dir: Dir) -> Self {
        FrameMatcher {
            dir,
            entered: VecDeque::new(),
            left: VecDeque::new(),
            entered_count: 0,
            intact: 0,
            altered: Vec::new(),
            swallowed: 0,
            swallowed_frames: Vec::new(),
            injected: 0,
            injected_frames: Vec::new(),
            exit_closed: false,
            swallowed_after_exit_closed: false,
        }
    }

    /// The exit leg saw a FIN or RST in this direction: later frames cannot leave.
    pub fn exit_closed(&mut self) {
        self.exit_closed = true;
    }

    /// A frame entered the relay.
    pub fn entered(&mut self, f: FrameSeen) {
        self.entered_count = self.entered_count.saturating_add(1);
        if self.exit_closed && self.left.is_empty() {
            // Nothing can leave any more: it is swallowed now (keeps memory flat).
            self.swallow(f.frame, true);
            return;
        }
        self.entered
            .push_back((self.entered_count, f, self.exit_closed));
        if self.entered.len() > WINDOW {
            if let Some((_, old, closed)) = self.entered.pop_front() {
                self.swallow(old.frame, closed);
            }
        }
        self.reconcile();
    }

    /// A frame left the relay.
    pub fn left(&mut self, f: FrameSeen) {
        self.left.push_back(f);
        if self.left.len() > WINDOW {
            if let Some(old) = self.left.pop_front() {
                self.inject(old.frame);
            }
        }
        self.reconcile();
    }

    fn swallow(&mut self, frame: u64, exit_was_closed: bool) {
        if self.swallowed == 0 && exit_was_closed {
            self.swallowed_after_exit_closed = true;
        }
        self.swallowed = self.swallowed.saturating_add(1);
        if self.swallowed_frames.len() < LISTED {
            self.swallowed_frames.push(frame);
        }
    }

    fn inject(&mut self, frame: u64) {
        self.injected = self.injected.saturating_add(1);
        if self.injected_frames.len() < LISTED {
            self.injected_frames.push(frame);
        }
    }

    fn reconcile(&mut self) {
        while let (Some(out), Some((_, first, _))) = (self.left.front(), self.entered.front()) {
            if first.same(out) {
                self.entered.pop_front();
                self.left.pop_front();
                self.intact = self.intact.saturating_add(1);
            } else if let Some(k) = self.entered.iter().position(|(_, e, _)| e.same(out)) {
                for _ in 0..k {
                    if let Some((_, e, closed)) = self.entered.pop_front() {
                        self.swallow(e.frame, closed);
                    }
                }
                self.entered.pop_front();
                self.left.pop_front();
                self.intact = self.intact.saturating_add(1);
            } else if first.same_header(out) {
                let (Some((index, e, _)), Some(o)) =
                    (self.entered.pop_front(), self.left.pop_front())
                else {
                    break;
                };
                if self.altered.len() < MAX_ALTERED {
                    self.altered.push(HopKind::Altered {
                        dir: self.dir,
                        index,
                        entry_frame: e.frame,
                        exit_frame: o.frame,
                        opcode: e.opcode.clone(),
                        len: e.len,
                        change: e.digest.first_difference(&o.digest).map(
                            |(offset, before, after)| ByteChange {
                                offset,
                                before,
                                after,
                            },
                        ),
                    });
                }
            } else if let Some(o) = self.left.pop_front() {
                self.inject(o.frame);
            }
        }
    }

    /// Everything still unmatched is final: the findings of this direction.
    /// `capture_ended`: the capture stopped while the legs were open.
    pub fn finish(mut self, capture_ended: bool) -> Vec<HopKind> {
        while let Some((_, e, closed)) = self.entered.pop_front() {
            self.swallow(e.frame, closed);
        }
        while let Some(o) = self.left.pop_front() {
            self.inject(o.frame);
        }
        let mut out = std::mem::take(&mut self.altered);
        if self.swallowed > 0 {
            out.push(HopKind::Swallowed {
                dir: self.dir,
                count: self.swallowed,
                entry_frames: std::mem::take(&mut self.swallowed_frames),
                exit_closed_first: self.swallowed_after_exit_closed,
                capture_ended,
            });
        }
        if self.injected > 0 {
            out.push(HopKind::Injected {
                dir: self.dir,
                count: self.injected,
                exit_frames: std::mem::take(&mut self.injected_frames),
            });
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(frame: u64, payload: &[u8]) -> FrameSeen {
        let mut digest = FrameDigest::default();
        digest.update(payload);
        FrameSeen {
            frame,
            opcode: "text".into(),
            fin: true,
            rsv1: false,
            len: payload.len() as u64,
            digest,
        }
    }

    #[test]
    fn intact_frames_give_no_finding() {
        let mut m = FrameMatcher::new(Dir::C2S);
        m.entered(f(1, b"2probe"));
        m.left(f(2, b"2probe"));
        m.entered(f(3, b"5"));
        m.left(f(4, b"5"));
        assert_eq!(m.intact, 2);
        assert!(m.finish(false).is_empty());
    }

    #[test]
    fn altered_byte_is_named_with_offset_and_values() {
        let mut m = FrameMatcher::new(Dir::C2S);
        m.entered(f(1, b"40"));
        m.left(f(2, b"40"));
        m.entered(f(3, &[0x04, 0x01, 0x02]));
        m.left(f(4, &[0x06, 0x01, 0x02]));
        assert_eq!(
            m.finish(false),
            vec![HopKind::Altered {
                dir: Dir::C2S,
                index: 2,
                entry_frame: 3,
                exit_frame: 4,
                opcode: "text".into(),
                len: 3,
                change: Some(ByteChange {
                    offset: 0,
                    before: 0x04,
                    after: 0x06
                }),
            }]
        );
    }

    #[test]
    fn frames_that_never_leave_are_swallowed_and_later_ones_still_match() {
        let mut m = FrameMatcher::new(Dir::S2C);
        m.entered(f(1, b"a"));
        m.entered(f(2, b"bb"));
        m.entered(f(3, b"ccc"));
        m.left(f(4, b"ccc"));
        let out = m.finish(false);
        assert_eq!(
            out,
            vec![HopKind::Swallowed {
                dir: Dir::S2C,
                count: 2,
                entry_frames: vec![1, 2],
                exit_closed_first: false,
                capture_ended: false,
            }]
        );
    }

    #[test]
    fn a_frame_that_never_entered_is_injected() {
        let mut m = FrameMatcher::new(Dir::C2S);
        m.entered(f(1, b"a"));
        m.left(f(2, b"zzzz"));
        m.left(f(3, b"a"));
        let out = m.finish(false);
        assert_eq!(
            out,
            vec![HopKind::Injected {
                dir: Dir::C2S,
                count: 1,
                exit_frames: vec![2],
            }]
        );
    }

    #[test]
    fn memory_stays_within_the_window() {
        let mut m = FrameMatcher::new(Dir::C2S);
        for i in 0..(WINDOW as u64 * 4) {
            m.entered(f(i, b"x"));
        }
        assert!(m.entered.len() <= WINDOW);
        match m.finish(true).as_slice() {
            [HopKind::Swallowed {
                count,
                entry_frames,
                capture_ended,
                ..
            }] => {
                assert_eq!(*count, WINDOW as u64 * 4);
                assert_eq!(entry_frames.len(), LISTED);
                assert!(*capture_ended);
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}
