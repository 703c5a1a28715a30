//! Several captures read as one, merged by timestamp as `mergecap` does (its default, not `-a`):
//! the packet with the earliest timestamp comes next; on equal timestamps the earlier input
//! wins, so a single input comes out exactly as it is. Frames are numbered in merged order, as
//! they are in mergecap's output file.
//!
//! Memory: one held packet per input (a copy of its bytes), whatever the file sizes.

use std::io::Read;

use super::{CaptureError, CaptureReader, Packet};
use crate::event::Timestamp;

/// Where [`super::replay_packets`] gets packets from: one capture or a merge of several.
pub trait PacketSource {
    /// The next packet, `Ok(None)` at the end.
    fn next_packet(&mut self) -> Result<Option<Packet<'_>>, CaptureError>;
    /// True when an input ended in the middle of a record.
    fn truncated_tail(&self) -> bool;
}

impl<R: Read> PacketSource for CaptureReader<R> {
    fn next_packet(&mut self) -> Result<Option<Packet<'_>>, CaptureError> {
        CaptureReader::next_packet(self)
    }
    fn truncated_tail(&self) -> bool {
        CaptureReader::truncated_tail(self)
    }
}

/// A packet copied out of its reader, waiting for its turn.
#[derive(Debug, Default)]
struct Held {
    ts: Timestamp,
    linktype: i32,
    data: Vec<u8>,
    orig_len: u32,
    comment: Option<String>,
}

struct Input<R: Read> {
    name: String,
    reader: CaptureReader<R>,
    head: Option<Held>,
    done: bool,
}

/// Captures merged by timestamp.
pub struct MergedReader<R: Read> {
    inputs: Vec<Input<R>>,
    current: Held,
    frame: u64,
}

impl<R: Read> MergedReader<R> {
    /// Merges the given readers; `name` is how an error names its input.
    pub fn new(readers: Vec<(String, CaptureReader<R>)>) -> Self {
        MergedReader {
            inputs: readers
                .into_iter()
                .map(|(name, reader)| Input {
                    name,
                    reader,
                    head: None,
                    done: false,
                })
                .collect(),
            current: Held::default(),
            frame: 0,
        }
    }

    fn fill(&mut self) -> Result<(), CaptureError> {
        for input in &mut self.inputs {
            if input.done || input.head.is_some() {
                continue;
            }
            match input.reader.next_packet() {
                Ok(Some(p)) => {
                    input.head = Some(Held {
                        ts: p.ts,
                        linktype: p.linktype,
                        data: p.data.to_vec(),
                        orig_len: p.orig_len,
                        comment: p.comment,
                    })
                }
                Ok(None) => input.done = true,
                Err(e) => {
                    input.done = true;
                    return Err(CaptureError::InInput {
                        name: input.name.clone(),
                        source: Box::new(e),
                    });
                }
            }
        }
        Ok(())
    }
}

impl<R: Read> PacketSource for MergedReader<R> {
    fn next_packet(&mut self) -> Result<Option<Packet<'_>>, CaptureError> {
        self.fill()?;
        let mut best: Option<(Timestamp, usize)> = None;
        for (i, input) in self.inputs.iter().enumerate() {
            if let Some(h) = &input.head {
                if best.is_none_or(|(ts, _)| h.ts < ts) {
                    best = Some((h.ts, i));
                }
            }
        }
        let Some(held) = best.and_then(|(_, i)| self.inputs.get_mut(i)?.head.take()) else {
            return Ok(None);
        };
        self.current = held;
        self.frame += 1;
        Ok(Some(Packet {
            frame: self.frame,
            ts: self.current.ts,
            linktype: self.current.linktype,
            data: &self.current.data,
            orig_len: self.current.orig_len,
            comment: self.current.comment.clone(),
        }))
    }

    fn truncated_tail(&self) -> bool {
        self.inputs.iter().any(|i| i.reader.truncated_tail())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::writer::PcapNgWriter;

    /// A pcapng capture of one-byte packets (the byte names it) at the given times.
    fn capture(times_ms: &[(u64, u8)]) -> Vec<u8> {
        let mut w = PcapNgWriter::new(Vec::new()).expect("header");
        for (t, tag) in times_ms {
            w.packet(Timestamp(t * 1_000_000), &[*tag], None)
                .expect("packet");
        }
        w.into_inner()
    }

    fn merged(caps: &[Vec<u8>]) -> Vec<(u64, u64, u8)> {
        let readers = caps
            .iter()
            .enumerate()
            .map(|(i, c)| {
                (
                    format!("in{i}"),
                    CaptureReader::new(&c[..]).expect("reader"),
                )
            })
            .collect();
        let mut m = MergedReader::new(readers);
        let mut out = vec![];
        while let Some(p) = m.next_packet().expect("packet") {
            out.push((
                p.frame,
                p.ts.0 / 1_000_000,
                p.data.first().copied().unwrap_or(0),
            ));
        }
        out
    }

    #[test]
    fn interleaves_by_time_and_renumbers_frames() {
        let a = capture(&[(1, b'a'), (4, b'b'), (9, b'c')]);
        let b = capture(&[(2, b'x'), (3, b'y'), (10, b'z')]);
        assert_eq!(
            merged(&[a, b]),
            vec![
                (1, 1, b'a'),
                (2, 2, b'x'),
                (3, 3, b'y'),
                (4, 4, b'b'),
                (5, 9, b'c'),
                (6, 10, b'z')
            ]
        );
    }

    #[test]
    fn equal_times_keep_input_order() {
        let a = capture(&[(5, b'a')]);
        let b = capture(&[(5, b'b')]);
        assert_eq!(merged(&[a, b]), vec![(1, 5, b'a'), (2, 5, b'b')]);
    }
}
