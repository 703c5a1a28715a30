//! One direction of a TCP connection: sequence numbers to stream offsets, reordering, overlap
//! trimming and gap detection.

use std::collections::BTreeMap;

use crate::event::Origin;

/// A piece of stream handed out in order.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Piece {
    /// Bytes starting at a stream offset.
    Data {
        offset: u64,
        bytes: PieceBytes,
        origin: Origin,
    },
    /// Bytes that will never arrive.
    Gap {
        start: u64,
        end: u64,
        origin: Origin,
    },
}

/// Where a piece's bytes are.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum PieceBytes {
    /// Held out of order until now: the bytes themselves.
    Held(Vec<u8>),
    /// In order on arrival: this range of the payload given to the same
    /// [`HalfStream::segment`] call, not copied (most segments of a capture).
    Given(std::ops::Range<usize>),
}

impl PieceBytes {
    /// The bytes, `payload` being what the call that made the piece was given.
    pub(crate) fn of<'a>(&'a self, payload: &'a [u8]) -> &'a [u8] {
        match self {
            PieceBytes::Held(b) => b,
            PieceBytes::Given(r) => payload.get(r.clone()).unwrap_or(&[]),
        }
    }
}

#[derive(Debug)]
struct Pending {
    bytes: Vec<u8>,
    /// Bytes that followed these on the wire but were not captured (snap length).
    missing: u64,
    origin: Origin,
}

/// Reassembly state of one direction.
#[derive(Debug, Default)]
pub(crate) struct HalfStream {
    /// The sequence number of stream offset 0 (ISN + 1 when the SYN was seen).
    base: Option<u32>,
    /// The next stream offset to hand out.
    next: u64,
    pending: BTreeMap<u64, Pending>,
    pending_bytes: usize,
    /// Stream offset of the FIN, once seen.
    pub(crate) fin_at: Option<u64>,
    /// The FIN has been reported (all data before it handed out).
    pub(crate) fin_done: bool,
    /// Whether the SYN of this direction was seen.
    pub(crate) syn_seen: bool,
}

impl HalfStream {
    /// Records the SYN: offset 0 is the byte after it (RFC 9293 §3.4: "the first data octet is
    /// ISN+1").
    pub(crate) fn syn(&mut self, seq: u32) {
        if self.base.is_none() {
            self.base = Some(seq.wrapping_add(1));
            self.syn_seen = true;
        }
    }

    /// The next stream offset to hand out.
    #[cfg(test)]
    pub(crate) fn next_offset(&self) -> u64 {
        self.next
    }

    /// Bytes held for later.
    pub(crate) fn pending_bytes(&self) -> usize {
        self.pending_bytes
    }

    /// Maps a sequence number to a 64-bit stream offset, choosing the wrap that lands closest to
    /// the next expected offset (sequence numbers wrap at 2³², RFC 9293 §3.4.1).
    fn offset_of(&mut self, seq: u32) -> u64 {
        let base = *self.base.get_or_insert(seq);
        let rel = u64::from(seq.wrapping_sub(base));
        let epoch = self.next & !0xffff_ffff;
        let mut best = epoch | rel;
        for cand in [best.checked_add(1 << 32), best.checked_sub(1 << 32)]
            .into_iter()
            .flatten()
        {
            if cand.abs_diff(self.next) < best.abs_diff(self.next) {
                best = cand;
            }
        }
        best
    }

    /// Takes a segment's payload; returns what can now be handed out in order (bytes that
    /// arrive in order as a [`PieceBytes::Given`] range of `payload`).
    pub(crate) fn segment(
        &mut self,
        seq: u32,
        payload: &[u8],
        missing: usize,
        fin: bool,
        origin: Origin,
        out: &mut Vec<Piece>,
    ) {
        let start = self.offset_of(seq);
        let len = payload.len() as u64;
        if fin && self.fin_at.is_none() {
            // The FIN occupies the sequence number after the segment's data.
            self.fin_at = Some(start + len + missing as u64);
        }
        if payload.is_empty() && missing == 0 {
            self.drain(out);
            return;
        }
        let end = start + len;
        let mut bytes: &[u8] = payload;
        let mut at = start;
        let mut from = 0usize;
        // Trim what was already handed out (a retransmission or an overlap).
        if at < self.next {
            let skip = (self.next - at).min(len);
            from = skip as usize;
            bytes = bytes.get(from..).unwrap_or(&[]);
            at += skip;
        }
        let missing_end = end + missing as u64;
        let missing = if missing_end > self.next.max(end) {
            missing_end - self.next.max(end)
        } else {
            0
        };
        if bytes.is_empty() && missing == 0 {
            self.drain(out);
            return;
        }
        if at == self.next {
            self.next += bytes.len() as u64;
            if !bytes.is_empty() {
                out.push(Piece::Data {
                    offset: at,
                    bytes: PieceBytes::Given(from..payload.len()),
                    origin,
                });
            }
            if missing > 0 {
                let gap_start = self.next;
                self.next += missing;
                out.push(Piece::Gap {
                    start: gap_start,
                    end: self.next,
                    origin,
                });
            }
            self.drain(out);
        } else {
            // Out of order: keep it, unless an equal or longer copy is already held.
            let keep = match self.pending.get(&at) {
                Some(p) => (p.bytes.len() as u64) < bytes.len() as u64,
                None => true,
            };
            if keep {
                if let Some(old) = self.pending.insert(
                    at,
                    Pending {
                        bytes: bytes.to_vec(),
                        missing,
                        origin,
                    },
                ) {
                    self.pending_bytes = self.pending_bytes.saturating_sub(old.bytes.len());
                }
                self.pending_bytes += bytes.len();
            }
        }
    }

    /// Hands out held segments that have become contiguous.
    fn drain(&mut self, out: &mut Vec<Piece>) {
        while let Some(entry) = self.pending.first_entry() {
            let at = *entry.key();
            if at > self.next {
                break;
            }
            let p = entry.remove();
            self.pending_bytes = self.pending_bytes.saturating_sub(p.bytes.len());
            let end = at + p.bytes.len() as u64;
            if end > self.next {
                let skip = (self.next - at) as usize;
                let mut bytes = p.bytes;
                if skip > 0 {
                    bytes.drain(..skip.min(bytes.len()));
                }
                out.push(Piece::Data {
                    offset: self.next,
                    bytes: PieceBytes::Held(bytes),
                    origin: p.origin,
                });
                self.next = end;
            }
            let missing_end = end + p.missing;
            if missing_end > self.next {
                out.push(Piece::Gap {
                    start: self.next,
                    end: missing_end,
                    origin: p.origin,
                });
                self.next = missing_end;
            }
        }
    }

    /// Gives up on the hole before the first held segment: reports it as a gap and hands out
    /// what follows. Returns false when nothing is held.
    pub(crate) fn skip_hole(&mut self, out: &mut Vec<Piece>) -> bool {
        let Some((&at, p)) = self.pending.first_key_value() else {
            return false;
        };
        if at > self.next {
            out.push(Piece::Gap {
                start: self.next,
                end: at,
                origin: p.origin,
            });
            self.next = at;
        }
        self.drain(out);
        true
    }

    /// At the end: everything held is handed out, holes reported, and a hole before the FIN too.
    pub(crate) fn flush(&mut self, origin: Origin, out: &mut Vec<Piece>) {
        while self.skip_hole(out) {}
        if let Some(fin) = self.fin_at {
            if fin > self.next {
                out.push(Piece::Gap {
                    start: self.next,
                    end: fin,
                    origin,
                });
                self.next = fin;
            }
        }
    }

    /// True when the FIN has been seen and every byte before it handed out.
    pub(crate) fn fin_reached(&self) -> bool {
        matches!(self.fin_at, Some(f) if self.next >= f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Timestamp;

    fn o(frame: u64) -> Origin {
        Origin {
            frame,
            ts: Timestamp(frame),
        }
    }

    fn data(p: &[Piece]) -> Vec<u8> {
        p.iter()
            .filter_map(|x| match x {
                Piece::Data { bytes, .. } => Some(bytes.of(&[]).to_vec()),
                _ => None,
            })
            .flatten()
            .collect()
    }

    /// One segment, its pieces appended to `out` with their bytes resolved (a `Given` range
    /// names the payload of its own call only).
    fn put(
        h: &mut HalfStream,
        seq: u32,
        payload: &[u8],
        missing: usize,
        fin: bool,
        origin: Origin,
        out: &mut Vec<Piece>,
    ) {
        let mut now = vec![];
        h.segment(seq, payload, missing, fin, origin, &mut now);
        out.extend(now.into_iter().map(|p| match p {
            Piece::Data {
                offset,
                bytes,
                origin,
            } => Piece::Data {
                offset,
                bytes: PieceBytes::Held(bytes.of(payload).to_vec()),
                origin,
            },
            gap => gap,
        }));
    }

    #[test]
    fn in_order_bytes_are_a_range_of_the_payload_and_held_bytes_are_moved() {
        let mut h = HalfStream::default();
        h.syn(0);
        let mut out = vec![];
        h.segment(1, b"abcd", 0, false, o(1), &mut out);
        // A retransmission overlapping two new bytes: the range after the overlap.
        h.segment(3, b"cdef", 0, false, o(2), &mut out);
        h.segment(9, b"ij", 0, false, o(3), &mut out);
        h.segment(7, b"gh", 0, false, o(4), &mut out);
        let ranges: Vec<_> = out
            .iter()
            .filter_map(|p| match p {
                Piece::Data { offset, bytes, .. } => Some((*offset, bytes)),
                _ => None,
            })
            .collect();
        assert_eq!(
            ranges,
            [
                (0, &PieceBytes::Given(0..4)),
                (4, &PieceBytes::Given(2..4)),
                (6, &PieceBytes::Given(0..2)),
                (8, &PieceBytes::Held(b"ij".to_vec())),
            ]
        );
    }

    #[test]
    fn in_order_after_syn_starts_at_offset_zero() {
        let mut h = HalfStream::default();
        h.syn(1000);
        let mut out = vec![];
        put(&mut h, 1001, b"GET ", 0, false, o(3), &mut out);
        put(&mut h, 1005, b"/ HTTP/1.1", 0, false, o(4), &mut out);
        assert_eq!(
            out[0],
            Piece::Data {
                offset: 0,
                bytes: PieceBytes::Held(b"GET ".to_vec()),
                origin: o(3)
            }
        );
        assert_eq!(data(&out), b"GET / HTTP/1.1");
    }

    #[test]
    fn out_of_order_segment_is_held_until_the_hole_fills() {
        let mut h = HalfStream::default();
        h.syn(0);
        let mut out = vec![];
        put(&mut h, 4, b"def", 0, false, o(2), &mut out);
        assert!(out.is_empty());
        assert_eq!(h.pending_bytes(), 3);
        put(&mut h, 1, b"abc", 0, false, o(3), &mut out);
        assert_eq!(data(&out), b"abcdef");
        // The held piece keeps the frame it arrived in.
        assert!(matches!(out[1], Piece::Data { offset: 3, origin, .. } if origin.frame == 2));
        assert_eq!(h.pending_bytes(), 0);
    }

    #[test]
    fn retransmission_and_overlap_are_trimmed() {
        let mut h = HalfStream::default();
        h.syn(0);
        let mut out = vec![];
        put(&mut h, 1, b"abcd", 0, false, o(1), &mut out);
        put(&mut h, 1, b"abcd", 0, false, o(2), &mut out); // full retransmission
        put(&mut h, 3, b"cdef", 0, false, o(3), &mut out); // overlap
        assert_eq!(data(&out), b"abcdef");
    }

    #[test]
    fn sequence_numbers_wrap_at_2_pow_32() {
        let mut h = HalfStream::default();
        h.syn(u32::MAX - 2); // first data byte at u32::MAX - 1
        let mut out = vec![];
        put(&mut h, u32::MAX - 1, b"ab", 0, false, o(1), &mut out);
        put(&mut h, 0, b"cd", 0, false, o(2), &mut out);
        assert_eq!(data(&out), b"abcd");
        assert_eq!(h.next_offset(), 4);
    }

    #[test]
    fn snaplen_cut_is_a_gap_with_the_missing_range() {
        let mut h = HalfStream::default();
        h.syn(0);
        let mut out = vec![];
        put(&mut h, 1, b"abc", 5, false, o(1), &mut out);
        put(&mut h, 9, b"xyz", 0, false, o(2), &mut out);
        assert_eq!(
            out[1],
            Piece::Gap {
                start: 3,
                end: 8,
                origin: o(1)
            }
        );
        assert_eq!(data(&out), b"abcxyz");
    }

    #[test]
    fn lost_segment_is_reported_as_a_gap_at_flush() {
        let mut h = HalfStream::default();
        h.syn(0);
        let mut out = vec![];
        put(&mut h, 1, b"ab", 0, false, o(1), &mut out);
        put(&mut h, 5, b"ef", 0, true, o(2), &mut out);
        h.flush(o(3), &mut out);
        assert_eq!(
            out[1],
            Piece::Gap {
                start: 2,
                end: 4,
                origin: o(2)
            }
        );
        assert_eq!(data(&out), b"abef");
        assert!(h.fin_reached());
    }

    #[test]
    fn midstream_pickup_starts_at_the_first_seen_byte() {
        let mut h = HalfStream::default();
        let mut out = vec![];
        put(&mut h, 777_777, b"hello", 0, false, o(1), &mut out);
        assert_eq!(data(&out), b"hello");
        assert!(!h.syn_seen);
    }
}
