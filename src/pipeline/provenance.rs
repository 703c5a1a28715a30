//! Which capture frame each byte of a reassembled stream came from.
//!
//! Decoders report spans as stream offsets; this map turns an offset back into the frame that
//! carried it, so that every event can cite its evidence (frame numbers, like tshark's).

use std::collections::VecDeque;

use crate::event::Origin;

/// The most chunk boundaries remembered per direction; older ones are forgotten first.
const MAX_ENTRIES: usize = 65_536;

/// Chunk boundaries of one direction: `(first stream offset, origin)` in increasing offset order.
#[derive(Debug, Default)]
pub struct Provenance {
    entries: VecDeque<(u64, Origin)>,
}

impl Provenance {
    /// Bytes from `offset` on came in the packet `origin`.
    pub fn record(&mut self, offset: u64, origin: Origin) {
        if let Some(&(last, o)) = self.entries.back() {
            if o == origin || offset < last {
                return;
            }
        }
        self.entries.push_back((offset, origin));
        if self.entries.len() > MAX_ENTRIES {
            self.entries.pop_front();
        }
    }

    /// The packet that carried the byte at `offset` (the oldest remembered one if forgotten).
    pub fn at(&self, offset: u64) -> Option<Origin> {
        let idx = self.entries.partition_point(|&(start, _)| start <= offset);
        match idx.checked_sub(1) {
            Some(i) => self.entries.get(i).map(|&(_, o)| o),
            None => self.entries.front().map(|&(_, o)| o),
        }
    }

    /// First and last packet of the bytes `start..end` (`end` exclusive).
    pub fn span(&self, start: u64, end: u64) -> Option<(Origin, Origin)> {
        let first = self.at(start)?;
        let last = self.at(end.saturating_sub(1).max(start))?;
        Some((first, last))
    }

    /// Forgets boundaries that only cover bytes before `offset`.
    pub fn forget_before(&mut self, offset: u64) {
        while self.entries.len() > 1 {
            match self.entries.get(1) {
                Some(&(next, _)) if next <= offset => {
                    self.entries.pop_front();
                }
                _ => break,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Timestamp;

    fn o(f: u64) -> Origin {
        Origin {
            frame: f,
            ts: Timestamp(f),
        }
    }

    #[test]
    fn spans_map_to_first_and_last_frames() {
        let mut p = Provenance::default();
        p.record(0, o(4));
        p.record(100, o(6));
        p.record(250, o(9));
        assert_eq!(p.span(0, 100), Some((o(4), o(4))));
        assert_eq!(p.span(50, 251), Some((o(4), o(9))));
        assert_eq!(p.at(249), Some(o(6)));
        p.forget_before(120);
        assert_eq!(p.at(120), Some(o(6)));
        assert_eq!(p.at(10), Some(o(6)));
    }
}
