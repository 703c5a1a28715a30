//! Fuzz the whole capture frontend and pipeline: arbitrary bytes as a pcap or pcapng file, read,
//! reassembled and decoded down to Socket.IO. Nothing may panic, hang or allocate without bound.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sioscope::capture::{replay, ReplayOptions};
use sioscope::pipeline::PipelineOptions;
use sioscope::tcp::ReassemblyLimits;

fuzz_target!(|data: &[u8]| {
    let opts = ReplayOptions {
        pipeline: PipelineOptions {
            eio: None,
            max_message: 1 << 20,
            ..PipelineOptions::default()
        },
        reassembly: ReassemblyLimits {
            max_pending: 1 << 20,
            ..ReassemblyLimits::default()
        },
        ..ReplayOptions::default()
    };
    let mut n = 0u64;
    let _ = replay(data, &opts, &mut |_ev| n += 1);
});
