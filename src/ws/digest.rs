//! `FrameDigest`: a fixed-size fingerprint of one frame's unmasked payload (the FNV-1a 64 step
//! applied to every 8-byte little-endian word of the payload and then to each byte of its last
//! partial word, the byte count, and the first [`DIGEST_HEAD`] bytes), so two copies of a frame
//! seen on two TCP connections (both legs of a relay) can be compared without keeping the
//! payload. A word at a time: byte-wise FNV-1a cost a multiply per payload byte, the largest
//! item of a decode profile after inflate. The words are counted from the payload's first byte,
//! so the fingerprint does not depend on how the payload was split into `update` calls.
//!
//! The payload is fingerprinted after unmasking and before any inflation: it is what the frame
//! carries on the wire, whatever the masking key of each leg.

use serde::Serialize;

/// Bytes of the payload kept verbatim, to name the first differing byte and its values.
pub const DIGEST_HEAD: usize = 64;

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// A fingerprint of one frame's unmasked payload.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct FrameDigest {
    /// FNV-1a 64 of the bytes fingerprinted so far.
    pub hash: u64,
    /// How many payload bytes were fingerprinted (less than the frame's length when its payload
    /// was skipped, e.g. over `--max-message`).
    pub seen: u64,
    /// The first bytes of the payload (at most [`DIGEST_HEAD`]).
    pub head: Vec<u8>,
    /// The bytes of the word not yet complete (the low `seen % 8` bytes, little-endian).
    partial: u64,
}

impl Default for FrameDigest {
    fn default() -> Self {
        FrameDigest {
            hash: FNV_OFFSET,
            seen: 0,
            head: Vec::new(),
            partial: 0,
        }
    }
}

impl FrameDigest {
    /// Adds the next unmasked payload bytes.
    pub fn update(&mut self, bytes: &[u8]) {
        let room = DIGEST_HEAD.saturating_sub(self.head.len());
        self.head
            .extend_from_slice(bytes.get(..room.min(bytes.len())).unwrap_or(&[]));
        let mut h = self.hash;
        let mut fill = (self.seen % 8) as usize;
        let mut partial = self.partial;
        let mut rest = bytes;
        // Complete the pending word first.
        while fill != 0 {
            let Some((&b, tail)) = rest.split_first() else {
                break;
            };
            partial |= u64::from(b) << (8 * fill);
            fill = (fill + 1) % 8;
            rest = tail;
            if fill == 0 {
                h = (h ^ partial).wrapping_mul(FNV_PRIME);
                partial = 0;
            }
        }
        let mut words = rest.chunks_exact(8);
        for w in &mut words {
            let mut b = [0u8; 8];
            b.copy_from_slice(w);
            h = (h ^ u64::from_le_bytes(b)).wrapping_mul(FNV_PRIME);
        }
        for (i, &b) in words.remainder().iter().enumerate() {
            partial |= u64::from(b) << (8 * (fill + i));
        }
        self.partial = partial;
        self.hash = h;
        self.seen = self.seen.saturating_add(bytes.len() as u64);
    }

    /// One 64-bit value for everything fingerprinted: `hash`, then the FNV-1a 64 step over each
    /// byte of the partial last word and over the byte count (for a digest kept without its
    /// head, e.g. `session::ConnectAuth`).
    pub fn finish(&self) -> u64 {
        let mut h = self.hash;
        for i in 0..(self.seen % 8) {
            h = (h ^ ((self.partial >> (8 * i)) & 0xff)).wrapping_mul(FNV_PRIME);
        }
        (h ^ self.seen).wrapping_mul(FNV_PRIME)
    }

    /// The first byte where `other`'s kept head differs from this one: `(offset, ours, theirs)`.
    /// `None` when the kept heads agree (a difference, if any, lies after them).
    pub fn first_difference(&self, other: &FrameDigest) -> Option<(u64, u8, u8)> {
        self.head
            .iter()
            .zip(other.head.iter())
            .enumerate()
            .find(|(_, (a, b))| a != b)
            .map(|(i, (a, b))| (i as u64, *a, *b))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_fnv_of_known_input_and_split_invariance() {
        // One full word: the FNV-1a 64 step over the little-endian word "abcdefgh".
        let mut a = FrameDigest::default();
        a.update(b"abcdefgh");
        let w = u64::from_le_bytes(*b"abcdefgh");
        assert_eq!(a.hash, (FNV_OFFSET ^ w).wrapping_mul(FNV_PRIME));
        // Every split of a 40-byte payload into two or three pieces gives the same digest.
        let data: Vec<u8> = (0..40u8).map(|i| i.wrapping_mul(37) ^ 0x5a).collect();
        let mut whole = FrameDigest::default();
        whole.update(&data);
        for i in 0..=data.len() {
            for j in i..=data.len() {
                let mut split = FrameDigest::default();
                split.update(&data[..i]);
                split.update(&data[i..j]);
                split.update(&data[j..]);
                assert_eq!(whole, split, "split at {i} and {j}");
            }
        }
    }

    #[test]
    fn any_changed_byte_changes_the_digest() {
        let data: Vec<u8> = (0..21u8).collect();
        let mut base = FrameDigest::default();
        base.update(&data);
        for i in 0..data.len() {
            let mut d = data.clone();
            d[i] ^= 0x80;
            let mut other = FrameDigest::default();
            other.update(&d);
            assert_ne!(base, other, "byte {i}");
        }
    }

    #[test]
    fn first_difference_names_offset_and_values() {
        let mut a = FrameDigest::default();
        a.update(&[0x04, 0x10, 0x20]);
        let mut b = FrameDigest::default();
        b.update(&[0x04, 0x10, 0x26]);
        assert_eq!(a.first_difference(&b), Some((2, 0x20, 0x26)));
        assert_eq!(a.first_difference(&a), None);
    }

    #[test]
    fn finish_covers_the_partial_word_and_the_length() {
        let of = |b: &[u8]| {
            let mut d = FrameDigest::default();
            d.update(b);
            d.finish()
        };
        assert_ne!(of(b"{\"token\":\"123\"}"), of(b"{\"token\":\"456\"}"));
        assert_ne!(of(b""), of(b"\0"));
        let mut split = FrameDigest::default();
        split.update(b"{\"token\":");
        split.update(b"\"123\"}");
        assert_eq!(split.finish(), of(b"{\"token\":\"123\"}"));
    }

    #[test]
    fn head_is_capped() {
        let mut a = FrameDigest::default();
        a.update(&[7u8; 1000]);
        assert_eq!(a.head.len(), DIGEST_HEAD);
        assert_eq!(a.seen, 1000);
    }
}
