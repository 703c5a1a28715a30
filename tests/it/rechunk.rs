//! A packet split across TCP segments decodes the same as one that is not: every fixture is
//! rewritten with each TCP payload cut into random pieces (one packet each, same timestamp), and
//! the Socket.IO and Engine.IO events must be identical. (WebSocket fragments and polling
//! requests are split by the real peers in the corpus itself.)

use sioscope::capture::writer::{synth_packet, PcapNgWriter};
use sioscope::capture::{link, CaptureReader};
use sioscope::event::{Body, Event};

use proptest::prelude::*;
use sioscope::session::SessionTracker;

use crate::common::{decode, decode_bytes, fixtures};

/// A small deterministic generator (xorshift64*), so failures reproduce.
struct Rng(u64);
impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n.max(1) as u64) as usize
    }
}

/// Rewrites a capture with every payload cut at random points (`max_piece` bytes at most).
fn rechunk(pcap: &std::path::Path, seed: u64, max_piece: usize) -> Vec<u8> {
    let bytes = std::fs::read(pcap).expect("read fixture");
    rechunk_bytes(&bytes, seed, max_piece, false)
}

/// [`rechunk`] of capture bytes; with `permute`, the flagless pieces of each segment are also
/// written out of order (what a network that reorders packets does).
fn rechunk_bytes(bytes: &[u8], seed: u64, max_piece: usize, permute: bool) -> Vec<u8> {
    let mut r = CaptureReader::new(bytes).expect("reader");
    let mut w = PcapNgWriter::new(Vec::new()).expect("writer");
    let mut rng = Rng(seed);
    while let Some(p) = r.next_packet().expect("packet") {
        let ts = p.ts;
        let Ok(seg) = link::parse_tcp(&p) else {
            continue;
        };
        let ack = seg.flags.ack.then_some(0);
        if seg.payload.is_empty() {
            w.packet(
                ts,
                &synth_packet(seg.src, seg.dst, seg.seq, ack, seg.flags, b""),
                None,
            )
            .unwrap();
            continue;
        }
        let data_seq = if seg.flags.syn {
            seg.seq.wrapping_add(1)
        } else {
            seg.seq
        };
        let mut at = 0usize;
        let mut held: Vec<Vec<u8>> = Vec::new();
        while at < seg.payload.len() {
            let n = 1 + rng.below(max_piece);
            let end = (at + n).min(seg.payload.len());
            let mut flags = seg.flags;
            flags.syn = seg.flags.syn && at == 0;
            flags.fin = seg.flags.fin && end == seg.payload.len();
            flags.rst = seg.flags.rst && end == seg.payload.len();
            let seq = if flags.syn {
                seg.seq
            } else {
                data_seq.wrapping_add(at as u32)
            };
            let piece = &seg.payload[at..end];
            let pkt = synth_packet(seg.src, seg.dst, seq, ack, flags, piece);
            if permute && !(flags.syn || flags.fin || flags.rst) {
                // Held pieces go out shuffled before the next flagged piece or segment.
                let i = rng.below(held.len() + 1);
                held.insert(i, pkt);
            } else {
                for p in held.drain(..) {
                    w.packet(ts, &p, None).unwrap();
                }
                w.packet(ts, &pkt, None).unwrap();
            }
            at = end;
        }
        for p in held.drain(..) {
            w.packet(ts, &p, None).unwrap();
        }
    }
    w.into_inner()
}

/// What must not change: the decoded HTTP messages and Engine.IO and Socket.IO packets, in order.
fn packets(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .filter(|e| matches!(e.body, Body::Http(_) | Body::Eio { .. } | Body::Sio { .. }))
        .map(|e| {
            let mut v = serde_json::to_value(&e.body).unwrap();
            if let Some(o) = v.as_object_mut() {
                o.remove("frame");
            }
            format!("{} {:?} {v}", e.conn.0, e.dir)
        })
        .collect()
}

#[test]
fn random_tcp_segmentation_decodes_the_same() {
    for pcap in fixtures() {
        let whole = packets(&decode(&pcap));
        assert!(!whole.is_empty(), "{}: no packets decoded", pcap.display());
        for (seed, max_piece) in [(1u64, 7usize), (2, 300), (3, 3000)] {
            let bytes = rechunk(&pcap, seed, max_piece);
            if let Some(dir) = std::env::var_os("SIOSCOPE_DUMP_RECHUNK") {
                let name = format!(
                    "{}-{seed}.pcapng",
                    pcap.file_stem().unwrap_or_default().to_string_lossy()
                );
                std::fs::write(std::path::Path::new(&dir).join(name), &bytes).ok();
            }
            let cut = packets(&decode_bytes(&bytes));
            assert_eq!(
                whole.len(),
                cut.len(),
                "{} seed {seed}: packet count",
                pcap.display()
            );
            for (a, b) in whole.iter().zip(&cut) {
                assert_eq!(a, b, "{} seed {seed}", pcap.display());
            }
        }
    }
}

/// What explain must find the same way however the stream was cut: each session's end, its
/// transports, upgrade, event counts and notes.
fn ends(events: &[Event]) -> Vec<String> {
    let mut t = SessionTracker::new();
    for e in events {
        t.event(e);
    }
    let x = sioscope::explain::explain(&t);
    let again = sioscope::explain::explain(&t);
    assert_eq!(
        serde_json::to_string(&x.sessions).unwrap(),
        serde_json::to_string(&again.sessions).unwrap(),
        "explain is not deterministic"
    );
    x.sessions
        .iter()
        .map(|f| {
            let notes: Vec<&str> = f.notes.iter().map(|n| n.kind).collect();
            format!(
                "{} {} {:?} {:?} {:?} {notes:?}",
                f.sid,
                f.end.cause.as_str(),
                f.transports,
                f.upgrade,
                f.events
            )
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, failure_persistence: None, ..ProptestConfig::default() })]

    /// Any capture of the corpus, cut into random pieces and with pieces reordered inside each
    /// segment: the same packets and the same explanation as the capture as recorded.
    #[test]
    fn cut_and_reordered_segments_explain_the_same(
        pick in any::<prop::sample::Index>(),
        seed in 1..u64::MAX,
        max_piece in 1..2000usize,
        permute in any::<bool>(),
    ) {
        let small: Vec<_> = fixtures()
            .into_iter()
            .filter(|p| std::fs::metadata(p).is_ok_and(|m| m.len() <= 256 * 1024))
            .collect();
        prop_assume!(!small.is_empty());
        let pcap = pick.get(&small);
        let whole = decode(pcap);
        let bytes = std::fs::read(pcap).expect("read fixture");
        let cut = decode_bytes(&rechunk_bytes(&bytes, seed, max_piece, permute));
        prop_assert_eq!(packets(&whole), packets(&cut), "{}", pcap.display());
        prop_assert_eq!(ends(&whole), ends(&cut), "{}", pcap.display());
    }
}
