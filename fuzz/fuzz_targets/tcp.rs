//! Fuzz TCP reassembly with arbitrary sequences of segments (any flags, overlaps, retransmissions,
//! holes, port reuse, snap-length losses on up to four flows), decoded on through the pipeline
//! into the session tracker and explain. Reassembly must hand out each direction's bytes once,
//! in stream order: no byte offset is reported twice.
#![no_main]

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};

use libfuzzer_sys::fuzz_target;
use sioscope::capture::link::{TcpFlags, TcpSegment};
use sioscope::event::{Origin, Timestamp};
use sioscope::pipeline::{Pipeline, PipelineOptions};
use sioscope::session::SessionTracker;
use sioscope::tcp::{OrderCheck, Reassembler, ReassemblyLimits, TcpEvent};

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

fuzz_target!(|data: &[u8]| {
    let mut tcp = Reassembler::new(ReassemblyLimits {
        max_pending: 4096,
        ..ReassemblyLimits::default()
    });
    let mut c = Checked {
        pipe: Pipeline::new(PipelineOptions {
            eio: None,
            max_message: 1 << 16,
            ..PipelineOptions::default()
        }),
        tracker: SessionTracker::new(),
        order: OrderCheck::new(),
    };
    let ip = Ipv4Addr::LOCALHOST;
    let mut next: HashMap<(u8, bool), u32> = HashMap::new();
    let mut rest = data;
    let mut frame = 0u64;
    while let [h, d1, d2, len, tail @ ..] = rest {
        let n = usize::from(*len).min(tail.len());
        let (payload, after) = tail.split_at(n);
        rest = after;
        frame += 1;
        let flow = (h >> 5) & 3;
        let reverse = h & 1 != 0;
        let flags = TcpFlags {
            syn: h & 2 != 0,
            ack: h & 4 != 0,
            fin: h & 8 != 0,
            rst: h & 16 != 0,
        };
        let client = SocketAddr::from((ip, 40_000 + u16::from(flow)));
        let server = SocketAddr::from((ip, 3000));
        let (src, dst) = if reverse {
            (server, client)
        } else {
            (client, server)
        };
        let isn = if reverse { 0x8000_0000u32 } else { 1000 };
        let cursor = next.entry((flow, reverse)).or_insert(isn);
        let delta = i16::from_le_bytes([*d1, *d2]);
        let seq = cursor.wrapping_add(delta as i32 as u32);
        if delta == 0 {
            let used = payload.len() as u32 + u32::from(flags.syn) + u32::from(flags.fin);
            *cursor = cursor.wrapping_add(used);
        }
        let missing = if h & 0x80 != 0 { usize::from(*d1) } else { 0 };
        let seg = TcpSegment {
            src,
            dst,
            seq,
            flags,
            payload,
            missing,
        };
        let origin = Origin {
            frame,
            ts: Timestamp(frame * 1_000_000),
        };
        tcp.segment(&seg, origin, &mut |ev| c.take(ev));
    }
    tcp.finish(&mut |ev| c.take(ev));
    let _ = sioscope::explain::explain(&c.tracker);
});
