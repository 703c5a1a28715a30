//! The reassembler's promise, checked from outside: each direction's bytes are handed out once,
//! in stream order.
//!
//! [`super::Reassembler`] reports in-order `Data` and `Gap` events with stream offsets. Whatever
//! the segments were (retransmitted, overlapping, reordered, lost), a direction's offsets only move
//! forward: no byte is reported twice, and a gap never covers bytes already handed out. The fuzz
//! target `tcp` and the property test `props::reassembly_hands_out_each_byte_once_in_order` feed
//! every event through [`OrderCheck`]; anything downstream that relies on the promise (the HTTP and
//! WebSocket decoders assume contiguous streams) can do the same.

use std::collections::HashMap;

use crate::event::{ConnId, Dir};

use super::TcpEvent;

/// A broken promise: where a direction's offsets went backwards.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrderError {
    /// Rule `tcp-data-once`: data starts before the end of what was already handed out.
    #[error("tcp-data-once: data at offset {offset} again (had up to {end})")]
    DataAgain {
        /// Offset of the repeated data.
        offset: u64,
        /// End of what the direction had handed out before.
        end: u64,
    },
    /// Rule `tcp-gap-forward`: a gap starts before the end of what was already handed out.
    #[error("tcp-gap-forward: gap at offset {start} over data up to {end}")]
    GapOverData {
        /// First offset of the gap.
        start: u64,
        /// End of what the direction had handed out before.
        end: u64,
    },
    /// Rule `tcp-gap-range`: a gap ends before it starts.
    #[error("tcp-gap-range: gap {start}..{gap_end} ends before it starts")]
    GapBackwards {
        /// First offset of the gap.
        start: u64,
        /// One past its last offset.
        gap_end: u64,
    },
}

/// Follows every direction's end offset and checks each `Data`/`Gap` event against it.
#[derive(Debug, Default)]
pub struct OrderCheck {
    ends: HashMap<(ConnId, Dir), u64>,
}

impl OrderCheck {
    /// A checker that has seen nothing.
    pub fn new() -> Self {
        Self::default()
    }

    /// Checks one event and moves its direction's end; events other than `Data`/`Gap` pass.
    pub fn observe(&mut self, ev: &TcpEvent<'_>) -> Result<(), OrderError> {
        match ev {
            TcpEvent::Data {
                conn,
                dir,
                offset,
                bytes,
                ..
            } => {
                let end = self.ends.entry((*conn, *dir)).or_insert(0);
                if *offset < *end {
                    return Err(OrderError::DataAgain {
                        offset: *offset,
                        end: *end,
                    });
                }
                *end = offset.saturating_add(bytes.len() as u64);
            }
            TcpEvent::Gap {
                conn,
                dir,
                start,
                end: gap_end,
                ..
            } => {
                if gap_end < start {
                    return Err(OrderError::GapBackwards {
                        start: *start,
                        gap_end: *gap_end,
                    });
                }
                let end = self.ends.entry((*conn, *dir)).or_insert(0);
                if *start < *end {
                    return Err(OrderError::GapOverData {
                        start: *start,
                        end: *end,
                    });
                }
                *end = *gap_end;
            }
            _ => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Origin, Timestamp};

    fn data(offset: u64, bytes: &[u8]) -> TcpEvent<'_> {
        TcpEvent::Data {
            conn: ConnId(1),
            dir: Dir::C2S,
            offset,
            bytes,
            origin: Origin {
                frame: 1,
                ts: Timestamp(0),
            },
        }
    }

    #[test]
    fn forward_data_passes_and_repeated_data_is_named() {
        let mut c = OrderCheck::new();
        assert_eq!(c.observe(&data(0, b"abc")), Ok(()));
        assert_eq!(c.observe(&data(3, b"de")), Ok(()));
        assert_eq!(
            c.observe(&data(4, b"e")),
            Err(OrderError::DataAgain { offset: 4, end: 5 })
        );
    }

    #[test]
    fn a_gap_over_handed_out_bytes_is_named() {
        let mut c = OrderCheck::new();
        assert_eq!(c.observe(&data(0, b"abcd")), Ok(()));
        let gap = TcpEvent::Gap {
            conn: ConnId(1),
            dir: Dir::C2S,
            start: 2,
            end: 9,
            origin: Origin {
                frame: 1,
                ts: Timestamp(0),
            },
            reason: crate::tcp::GapReason::Missing,
        };
        assert_eq!(
            c.observe(&gap),
            Err(OrderError::GapOverData { start: 2, end: 4 })
        );
    }
}
