//! The fuzz targets of `fuzz/` as bounded property tests on stable, so that every `cargo test`
//! exercises them: no decoder panics on arbitrary bytes or on mutated real captures, TCP
//! reassembly hands each byte out once and in order whatever the segments, and explain gives the
//! same findings for the same input. (Re-chunking and reordering a capture's segments:
//! `rechunk.rs`.) Case counts are small so the suite stays quick; the long runs are cargo-fuzz's
//! (docs/robustness.md).

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};

use proptest::prelude::*;
use sioscope::capture::link::{TcpFlags, TcpSegment};
use sioscope::capture::{replay, replay_packets_threaded, CaptureReader, ReplayOptions};
use sioscope::conformance::{Checker, Report};
use sioscope::deflate::{parse_extensions, Inflater};
use sioscope::engineio::{decode_binary, decode_payload, decode_text, Version};
use sioscope::event::{Origin, Timestamp};
use sioscope::http::{HttpDecoder, HttpLimits, Role};
use sioscope::pipeline::{Pipeline, PipelineOptions};
use sioscope::report::{ExplainText, ExplainView};
use sioscope::session::SessionTracker;
use sioscope::tcp::{OrderCheck, Reassembler, ReassemblyLimits, TcpEvent};
use sioscope::ws::{WsConfig, WsDecoder};

use crate::common::fixtures;

/// Small limits, so that hitting them is part of what is tested.
fn small_opts() -> ReplayOptions {
    ReplayOptions {
        pipeline: PipelineOptions {
            eio: None,
            max_message: 1 << 16,
            ..PipelineOptions::default()
        },
        reassembly: ReassemblyLimits {
            max_pending: 4096,
            ..ReassemblyLimits::default()
        },
        ..ReplayOptions::default()
    }
}

/// Replays a capture into the tracker and checker and explains it, rendered as text and JSON
/// (what `explain` and `check --capture` do). The JSON of the findings, or None when the bytes
/// are not a capture.
fn explain_bytes(bytes: &[u8]) -> Option<String> {
    let mut tracker = SessionTracker::new();
    let mut checker = Checker::new();
    replay(bytes, &small_opts(), &mut |ev| {
        // The ndjson writer's shortcut gives serde_json's own bytes on every event.
        let mut fast = Vec::new();
        sioscope::report::json_write::to_writer(&mut fast, &ev).expect("event to a Vec");
        assert_eq!(fast, serde_json::to_vec(&ev).expect("event serializes"));
        tracker.event(&ev);
        checker.event(&ev);
    })
    .ok()?;
    let x = sioscope::explain::explain(&tracker);
    let _ = tracker.hops();
    let t0 = tracker.span().map(|(a, _)| a).unwrap_or(Timestamp(0));
    let mut text = Vec::new();
    let view = ExplainView {
        all: true,
        only_abnormal: false,
        width: 80,
    };
    ExplainText::new(&mut text, false, t0)
        .view(view)
        .write("prop", &x)
        .expect("text to a Vec");
    let _ = Report::build("prop", checker, &x, &[]);
    Some(serde_json::to_string(&x.sessions).expect("findings serialize"))
}

/// Every event of `bytes` as NDJSON and how the replay ended, with `threads` threads (None:
/// not a capture).
fn events_with_threads(bytes: &[u8], threads: usize) -> Option<(Vec<u8>, Result<String, String>)> {
    let mut reader = CaptureReader::new(std::io::Cursor::new(bytes.to_vec())).ok()?;
    let mut out = Vec::new();
    let res = replay_packets_threaded(&mut reader, &small_opts(), threads, &mut |ev| {
        serde_json::to_writer(&mut out, &ev).expect("event serializes");
        out.push(b'\n');
    });
    Some((
        out,
        res.map(|s| format!("{s:?}")).map_err(|e| e.to_string()),
    ))
}

/// The small real captures (mutating a megabyte capture costs too much per case).
fn small_fixtures() -> Vec<Vec<u8>> {
    fixtures()
        .iter()
        .filter_map(|p| std::fs::read(p).ok())
        .filter(|b| b.len() <= 64 * 1024)
        .collect()
}

/// One edit of a capture's bytes.
#[derive(Debug, Clone)]
enum Mutation {
    /// XOR the byte at this fraction of the length.
    Flip(u16, u8),
    /// Cut the capture at this fraction of its length.
    Truncate(u16),
    /// Overwrite four bytes with a hostile length.
    Length(u16, u32),
}

fn at(len: usize, frac: u16) -> usize {
    len * usize::from(frac) / usize::from(u16::MAX).max(1)
}

fn mutate(mut bytes: Vec<u8>, edits: &[Mutation]) -> Vec<u8> {
    for m in edits {
        match *m {
            Mutation::Flip(f, x) => {
                let i = at(bytes.len(), f);
                if let Some(b) = bytes.get_mut(i) {
                    *b ^= x;
                }
            }
            Mutation::Truncate(f) => bytes.truncate(at(bytes.len(), f)),
            Mutation::Length(f, v) => {
                let i = at(bytes.len(), f);
                if let Some(w) = bytes.get_mut(i..i + 4) {
                    w.copy_from_slice(&v.to_le_bytes());
                }
            }
        }
    }
    bytes
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => (any::<u16>(), 1..=255u8).prop_map(|(f, x)| Mutation::Flip(f, x)),
        1 => any::<u16>().prop_map(Mutation::Truncate),
        2 => (any::<u16>(), prop_oneof![Just(u32::MAX), Just(0x7fff_ffff), Just(0), any::<u32>()])
            .prop_map(|(f, v)| Mutation::Length(f, v)),
    ]
}

/// Checks the reassembler's order promise (`tcp::OrderCheck`), then decodes on.
struct Checked {
    pipe: Pipeline,
    tracker: SessionTracker,
    order: OrderCheck,
}

impl Checked {
    fn take(&mut self, ev: TcpEvent<'_>) {
        if let Err(e) = self.order.observe(&ev) {
            panic!("{e}");
        }
        let tracker = &mut self.tracker;
        self.pipe.tcp(ev, &mut |e| tracker.event(&e));
    }
}

/// One generated segment: flow (0..4), direction, flags, sequence offset from the sender's
/// cursor, payload.
type Seg = (u8, bool, u8, i16, Vec<u8>);

fn segment() -> impl Strategy<Value = Seg> {
    (
        0..4u8,
        any::<bool>(),
        any::<u8>(),
        prop_oneof![3 => Just(0i16), 1 => any::<i16>()],
        prop_oneof![
            Just(b"GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: a\r\n\r\n".to_vec()),
            Just(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n0{}\x1e4".to_vec()),
            proptest::collection::vec(any::<u8>(), 0..64),
        ],
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, failure_persistence: None, ..ProptestConfig::default() })]

    /// Real captures with bit flips, hostile lengths and truncations: replayed, tracked,
    /// explained, rendered and checked without a panic, explained the same way twice, and every
    /// event written by the ndjson writer (`report::json_write`) as serde_json writes it.
    #[test]
    fn mutated_captures_decode_and_explain_deterministically(
        pick in any::<prop::sample::Index>(),
        edits in proptest::collection::vec(mutation(), 1..6),
    ) {
        let all = small_fixtures();
        prop_assume!(!all.is_empty());
        let bytes = mutate(pick.get(&all).clone(), &edits);
        let first = explain_bytes(&bytes);
        prop_assert_eq!(first, explain_bytes(&bytes));
    }

    /// Real captures with bit flips, hostile lengths and truncations (gaps, resets, broken
    /// frames, anomalies of the capture layer) give the same events in the same order with one
    /// thread as with a pool of one and of three workers.
    #[test]
    fn mutated_captures_give_the_same_events_with_any_number_of_threads(
        pick in any::<prop::sample::Index>(),
        edits in proptest::collection::vec(mutation(), 1..6),
    ) {
        let all = small_fixtures();
        prop_assume!(!all.is_empty());
        let bytes = mutate(pick.get(&all).clone(), &edits);
        let one = events_with_threads(&bytes, 1);
        prop_assert!(events_with_threads(&bytes, 2) == one, "2 threads differ");
        prop_assert!(events_with_threads(&bytes, 4) == one, "4 threads differ");
    }

    /// Arbitrary segments on four flows (overlaps, retransmissions, holes, any flags, port
    /// reuse): each direction's bytes are handed out once and in stream order, and what follows
    /// does not panic.
    #[test]
    fn reassembly_hands_out_each_byte_once_in_order(
        segs in proptest::collection::vec(segment(), 0..40),
    ) {
        let mut tcp = Reassembler::new(ReassemblyLimits {
            max_pending: 256,
            ..ReassemblyLimits::default()
        });
        let mut c = Checked {
            pipe: Pipeline::new(small_opts().pipeline),
            tracker: SessionTracker::new(),
            order: OrderCheck::new(),
        };
        let mut cursors: HashMap<(u8, bool), u32> = HashMap::new();
        for (i, (flow, reverse, f, delta, payload)) in segs.iter().enumerate() {
            let flags = TcpFlags { syn: f & 1 != 0, ack: f & 2 != 0, fin: f & 4 != 0, rst: f & 8 != 0 };
            let client = SocketAddr::from((Ipv4Addr::LOCALHOST, 40_000 + u16::from(*flow)));
            let server = SocketAddr::from((Ipv4Addr::LOCALHOST, 3000));
            let (src, dst) = if *reverse { (server, client) } else { (client, server) };
            let cursor = cursors.entry((*flow, *reverse)).or_insert(if *reverse { u32::MAX - 100 } else { 7 });
            let seq = cursor.wrapping_add(*delta as i32 as u32);
            if *delta == 0 {
                *cursor = cursor.wrapping_add(payload.len() as u32 + u32::from(flags.syn) + u32::from(flags.fin));
            }
            let seg = TcpSegment { src, dst, seq, flags, payload, missing: usize::from(f >> 6) };
            let origin = Origin { frame: i as u64 + 1, ts: Timestamp(i as u64 * 1_000_000) };
            tcp.segment(&seg, origin, &mut |ev| c.take(ev));
        }
        tcp.finish(&mut |ev| c.take(ev));
        let _ = sioscope::explain::explain(&c.tracker);
    }

    /// Arbitrary bytes through every decoder that takes them from the wire or a file.
    #[test]
    fn no_decoder_panics_on_arbitrary_bytes(
        data in proptest::collection::vec(any::<u8>(), 0..600),
        split in any::<prop::sample::Index>(),
    ) {
        let cut = split.index(data.len() + 1);
        let (a, b) = data.split_at(cut);
        let _ = replay(&data[..], &small_opts(), &mut |_| {});
        let _ = sioscope::har::replay(&data[..], &small_opts(), &mut |_| {});
        let text = String::from_utf8_lossy(&data);
        let (lines, unrecognised) = sioscope::log::parse(&text);
        let _ = sioscope::log::attach("prop", lines, unrecognised, &SessionTracker::new(), &[]);
        let _ = sioscope::units::parse_size(&text);
        let _ = sioscope::units::parse_duration(&text);
        for role in [Role::Requests, Role::Responses] {
            let mut d = HttpDecoder::new(role, HttpLimits { max_head: 1024, max_headers: 16, max_body: 4096 });
            d.expect_response_to("GET");
            for p in [a, b] {
                d.push(p);
                while d.poll().is_some() {}
            }
            let _ = d.finish();
        }
        for header in ["", "permessage-deflate", "x-webkit-deflate-frame"] {
            for from_client in [false, true] {
                let mut d = WsDecoder::new(WsConfig {
                    from_client,
                    extensions: parse_extensions(header).extensions,
                    max_message: 256,
                    midstream: from_client,
                });
                for p in [a, b] {
                    d.push(p);
                    while d.poll().is_some() {}
                }
                while d.finish().is_some() {}
            }
        }
        let mut inf = Inflater::new(true, 15, false);
        for m in data.split(|&x| x == 0xa5) {
            if let Ok(out) = inf.inflate_message(m, 1024) {
                prop_assert!(out.len() <= 1024);
            }
        }
        for v in [Version::V2, Version::V3, Version::V4] {
            for binary in [false, true] {
                for item in decode_payload(v, &data, binary) {
                    prop_assert!(item.range.start <= item.range.end && item.range.end <= data.len());
                }
            }
            let _ = decode_binary(v, &data);
            let _ = decode_text(v, &text);
        }
        for line in text.split('\n') {
            let _ = sioscope::socketio::decode(line);
        }
        let _ = sioscope::socketio::legacy::decode_frames(&data);
    }
}
