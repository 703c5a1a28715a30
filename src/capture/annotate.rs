//! Writing a capture back as pcapng with a packet comment on chosen frames (`sioscope annotate`).
//!
//! Every packet record of the input is copied in order with its bytes, captured and original
//! lengths and timestamp unchanged; only pcapng packet comments are added (`opt_comment`, option
//! code 1 of the Enhanced Packet Block: "a UTF-8 string containing human-readable comment text
//! that is associated to the current block", draft-ietf-opsawg-pcapng §3.5), which Wireshark shows
//! in its packet list and filters as `frame.comment`. pcap input becomes pcapng with one
//! interface per link type met; timestamps are written in nanoseconds, which holds microsecond
//! and nanosecond captures exactly. A comment already on the input packet (the proxy's
//! `injected: …`) is kept first.

use std::collections::HashMap;
use std::io::{self, Read, Write};

use thiserror::Error;

use super::writer::PcapNgWriter;
use super::{CaptureError, CaptureReader};

/// Why annotating stopped.
#[derive(Debug, Error)]
pub enum AnnotateError {
    /// The input capture could not be read.
    #[error(transparent)]
    Read(#[from] CaptureError),
    /// Writing the output failed.
    #[error("writing the annotated capture failed: {0}")]
    Write(#[source] io::Error),
    /// A link type that pcapng cannot declare (pcapng's LinkType field is 16 bits).
    #[error("link type {0} does not fit a pcapng interface")]
    LinkType(i32),
}

/// Counters of one annotation run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AnnotateStats {
    /// Packet records copied.
    pub frames: u64,
    /// Packets written with a comment.
    pub commented: u64,
}

/// Copies every packet of `input` to `out` as pcapng, with the comment `comment(frame)` returns
/// for its 1-based frame number (numbered as the replay and tshark number them).
pub fn annotate<R: Read, W: Write>(
    input: R,
    comment: &mut dyn FnMut(u64) -> Option<String>,
    out: W,
) -> Result<AnnotateStats, AnnotateError> {
    let mut reader = CaptureReader::new(input)?;
    let mut w = PcapNgWriter::section(out).map_err(AnnotateError::Write)?;
    let mut ifaces: HashMap<i32, u32> = HashMap::new();
    let mut stats = AnnotateStats::default();
    while let Some(pkt) = reader.next_packet()? {
        let iface = match ifaces.get(&pkt.linktype) {
            Some(&i) => i,
            None => {
                let lt = u16::try_from(pkt.linktype)
                    .map_err(|_| AnnotateError::LinkType(pkt.linktype))?;
                let i = w.interface(lt).map_err(AnnotateError::Write)?;
                ifaces.insert(pkt.linktype, i);
                i
            }
        };
        let ours = comment(pkt.frame);
        let text = match (pkt.comment.as_deref(), ours.as_deref()) {
            (Some(a), Some(b)) => Some(format!("{a} | {b}")),
            (a, b) => a.or(b).map(str::to_string),
        };
        stats.frames += 1;
        if text.is_some() {
            stats.commented += 1;
        }
        w.packet_on(iface, pkt.ts, pkt.data, pkt.orig_len, text.as_deref())
            .map_err(AnnotateError::Write)?;
    }
    w.flush().map_err(AnnotateError::Write)?;
    Ok(stats)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::link::TcpFlags;
    use crate::capture::writer::synth_packet;
    use crate::event::Timestamp;

    /// A classic pcap (microseconds, link type 1) with two packets, the second cut at 10 bytes.
    fn pcap() -> Vec<u8> {
        let p = synth_packet(
            "127.0.0.1:40000".parse().unwrap(),
            "127.0.0.1:3000".parse().unwrap(),
            1,
            None,
            TcpFlags::default(),
            b"GET / HTTP/1.1\r\n\r\n",
        );
        let mut v = vec![];
        v.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
        v.extend_from_slice(&2u16.to_le_bytes());
        v.extend_from_slice(&4u16.to_le_bytes());
        v.extend_from_slice(&[0; 8]);
        v.extend_from_slice(&65_535u32.to_le_bytes());
        v.extend_from_slice(&1u32.to_le_bytes());
        for (sec, usec, cut) in [
            (1_700_000_000u32, 123_456u32, p.len()),
            (1_700_000_001, 999_999, 10),
        ] {
            v.extend_from_slice(&sec.to_le_bytes());
            v.extend_from_slice(&usec.to_le_bytes());
            v.extend_from_slice(&(cut as u32).to_le_bytes());
            v.extend_from_slice(&(p.len() as u32).to_le_bytes());
            v.extend_from_slice(&p[..cut]);
        }
        v
    }

    #[test]
    fn pcap_becomes_pcapng_with_the_same_bytes_lengths_and_timestamps_and_the_comment() {
        let input = pcap();
        let mut out = vec![];
        let stats = annotate(
            &input[..],
            &mut |f| (f == 2).then(|| "sio EVENT \"x\" / sid=abc".to_string()),
            &mut out,
        )
        .unwrap();
        assert_eq!(
            stats,
            AnnotateStats {
                frames: 2,
                commented: 1
            }
        );
        let mut a = CaptureReader::new(&input[..]).unwrap();
        let mut b = CaptureReader::new(&out[..]).unwrap();
        assert_eq!(b.format(), crate::capture::CaptureFormat::PcapNg);
        let mut n = 0;
        while let Some(pa) = a.next_packet().unwrap() {
            let (frame, ts, lt, data, orig) =
                (pa.frame, pa.ts, pa.linktype, pa.data.to_vec(), pa.orig_len);
            let pb = b.next_packet().unwrap().unwrap();
            assert_eq!(
                (pb.frame, pb.ts, pb.linktype, pb.data, pb.orig_len),
                (frame, ts, lt, &data[..], orig)
            );
            assert_eq!(
                pb.comment.as_deref(),
                (frame == 2).then_some("sio EVENT \"x\" / sid=abc")
            );
            n += 1;
        }
        assert!(b.next_packet().unwrap().is_none());
        assert_eq!(n, 2);
        assert_eq!(
            CaptureReader::new(&out[..])
                .unwrap()
                .next_packet()
                .unwrap()
                .unwrap()
                .ts,
            Timestamp(1_700_000_000_123_456_000)
        );
    }

    #[test]
    fn an_existing_packet_comment_is_kept_before_ours() {
        let mut w = PcapNgWriter::new(Vec::new()).unwrap();
        w.packet(Timestamp(5), b"abc", Some("injected: drop"))
            .unwrap();
        let input = w.into_inner();
        let mut out = vec![];
        annotate(&input[..], &mut |_| Some("eio ping".into()), &mut out).unwrap();
        let mut r = CaptureReader::new(&out[..]).unwrap();
        let p = r.next_packet().unwrap().unwrap();
        assert_eq!(p.comment.as_deref(), Some("injected: drop | eio ping"));
        assert_eq!(p.data, b"abc");
    }

    #[test]
    fn not_a_capture_is_a_read_error() {
        let mut out = vec![];
        let e = annotate(&b"hello world"[..], &mut |_| None, &mut out).unwrap_err();
        assert!(
            matches!(e, AnnotateError::Read(CaptureError::NotACapture { .. })),
            "{e}"
        );
    }
}
