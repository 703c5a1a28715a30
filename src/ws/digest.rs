//! `FrameDigest`: a fixed-size fingerprint of one frame's unmasked payload (FNV-1a 64 over every
//! byte, the byte count, and the first [`DIGEST_HEAD`] bytes), so two copies of a frame seen on
//! two TCP connections (both legs of a relay) can be compared without keeping the payload.
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
}

impl Default for FrameDigest {
    fn default() -> Self {
        FrameDigest {
            hash: FNV_OFFSET,
            seen: 0,
            head: Vec::new(),
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
        for &b in bytes {
            h ^= u64::from(b);
            h = h.wrapping_mul(FNV_PRIME);
        }
        self.hash = h;
        self.seen = self.seen.saturating_add(bytes.len() as u64);
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
    fn fnv1a_of_known_input_and_split_invariance() {
        let mut a = FrameDigest::default();
        a.update(b"a");
        // FNV-1a 64 of "a" (published test vector).
        assert_eq!(a.hash, 0xaf63_dc4c_8601_ec8c);
        let mut whole = FrameDigest::default();
        whole.update(b"hello world");
        let mut split = FrameDigest::default();
        split.update(b"hel");
        split.update(b"lo world");
        assert_eq!(whole, split);
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
    fn head_is_capped() {
        let mut a = FrameDigest::default();
        a.update(&[7u8; 1000]);
        assert_eq!(a.head.len(), DIGEST_HEAD);
        assert_eq!(a.seen, 1000);
    }
}
