//! The capture frontend: reads a capture, reassembles TCP, and drives the pipeline.

use std::io::Read;

use super::link::{self, NotTcp};
use super::merge::PacketSource;
use super::{CaptureError, CaptureReader};
use crate::event::{AnomalyInfo, Body, ConnId, Dir, Event, Origin};
use crate::pipeline::{Pipeline, PipelineOptions};
use crate::tcp::{Reassembler, ReassemblyLimits, TcpEvent};

/// Counters of a replay, for summaries and benchmarks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReplayStats {
    /// Packet records read.
    pub frames: u64,
    /// Packets that carried TCP.
    pub tcp_segments: u64,
    /// Packets skipped as other protocols.
    pub other: u64,
    /// True when the capture ended inside a record.
    pub truncated_tail: bool,
}

/// Settings of a replay.
#[derive(Debug, Clone, Default)]
pub struct ReplayOptions {
    /// Decoding settings.
    pub pipeline: PipelineOptions,
    /// Reassembly limits.
    pub reassembly: ReassemblyLimits,
    /// How much of a HAR is read, when the input is one.
    pub har: crate::har::HarLimits,
}

/// Reads a whole capture and sends every decoded event to `sink`, in capture order.
///
/// Packet-level problems (unknown link types, malformed headers, IP fragments, a truncated last
/// record) become anomaly events with connection id 0; only an unusable container is an error.
pub fn replay<R: Read>(
    input: R,
    opts: &ReplayOptions,
    sink: &mut dyn FnMut(Event),
) -> Result<ReplayStats, CaptureError> {
    replay_packets(&mut CaptureReader::new(input)?, opts, sink)
}

/// [`replay`] over any packet source: one capture, or several merged by time
/// ([`super::MergedReader`]).
pub fn replay_packets(
    reader: &mut dyn PacketSource,
    opts: &ReplayOptions,
    sink: &mut dyn FnMut(Event),
) -> Result<ReplayStats, CaptureError> {
    let mut pipe = Pipeline::new(opts.pipeline.clone());
    read_segments(reader, opts, &mut |fed| match fed {
        Fed::Tcp(ev) => pipe.tcp(ev, sink),
        Fed::Event(ev) => sink(*ev),
    })
}

/// What reading a capture gives, in capture order: reassembled TCP for the pipeline, and the
/// capture's own anomaly events (connection 0, or the connection a fault comment names).
pub(crate) enum Fed<'a> {
    /// A reassembly event.
    Tcp(TcpEvent<'a>),
    /// A finished event of the capture layer (rare: boxed).
    Event(Box<Event>),
}

/// Reads every packet of `reader`, reassembles TCP, and hands out what it gives in order.
pub(crate) fn read_segments(
    reader: &mut dyn PacketSource,
    opts: &ReplayOptions,
    out: &mut dyn FnMut(Fed<'_>),
) -> Result<ReplayStats, CaptureError> {
    let mut tcp = Reassembler::new(opts.reassembly);
    let mut stats = ReplayStats::default();
    let mut last = Origin::default();
    let mut warned_linktypes: Vec<i32> = Vec::new();
    let mut fragments = 0u64;
    let result = loop {
        let pkt = match reader.next_packet() {
            Ok(Some(p)) => p,
            Ok(None) => break Ok(()),
            Err(e) => break Err(e),
        };
        stats.frames += 1;
        let origin = Origin {
            frame: pkt.frame,
            ts: pkt.ts,
        };
        last = origin;
        match link::parse_tcp(&pkt) {
            Ok(seg) => {
                stats.tcp_segments += 1;
                if let Some(c) = &pkt.comment {
                    // A packet comment marks a fault injected by `sioscope proxy`: tie it to its
                    // connection so that explain can say the end was injected.
                    let info = tcp.conn_of(seg.src, seg.dst);
                    let mut ev = capture_anomaly(origin, "injected-fault", c);
                    if let Some(i) = info {
                        ev.conn = i.id;
                        ev.dir = Some(if seg.src == i.client {
                            Dir::C2S
                        } else {
                            Dir::S2C
                        });
                    }
                    out(Fed::Event(Box::new(ev)));
                }
                tcp.segment(&seg, origin, &mut |ev| out(Fed::Tcp(ev)));
            }
            Err(NotTcp::Other) => stats.other += 1,
            Err(NotTcp::Fragment) => {
                stats.other += 1;
                fragments += 1;
                if fragments == 1 {
                    out(Fed::Event(Box::new(capture_anomaly(
                        origin,
                        "ip-fragment",
                        "IP fragments are not reassembled; fragmented TCP segments are skipped",
                    ))));
                }
            }
            Err(NotTcp::UnknownLinkType(lt)) => {
                stats.other += 1;
                if !warned_linktypes.contains(&lt) && warned_linktypes.len() < 16 {
                    warned_linktypes.push(lt);
                    out(Fed::Event(Box::new(capture_anomaly(
                        origin,
                        "unknown-link-type",
                        &format!(
                            "{} is not decoded (Ethernet, Linux SLL/SLL2, BSD loopback and raw IP are); its packets are skipped",
                            link::linktype_name(lt)
                        ),
                    ))));
                }
            }
            Err(NotTcp::Malformed(why)) => {
                stats.other += 1;
                out(Fed::Event(Box::new(capture_anomaly(
                    origin,
                    "malformed-packet",
                    &why,
                ))));
            }
        }
    };
    stats.truncated_tail = reader.truncated_tail();
    if stats.truncated_tail {
        out(Fed::Event(Box::new(capture_anomaly(
            last,
            "truncated-capture",
            "the capture ends in the middle of a packet record (the file was cut); the last packet is lost",
        ))));
    }
    // Whatever happened, what was read is flushed: connections end at the end of the input.
    tcp.finish(&mut |ev| out(Fed::Tcp(ev)));
    result.map(|()| stats)
}

fn capture_anomaly(origin: Origin, rule: &str, detail: &str) -> Event {
    Event {
        frame: origin.frame,
        ts: origin.ts,
        first_frame: None,
        conn: ConnId(0),
        dir: None,
        body: Body::Anomaly(AnomalyInfo {
            at: "capture",
            rule: rule.to_string(),
            detail: detail.to_string(),
            bytes: None,
        }),
    }
}
