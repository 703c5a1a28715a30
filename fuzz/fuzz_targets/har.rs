//! Fuzz the HAR frontend: arbitrary bytes as a HAR, parsed and replayed through the pipeline.
//! Nothing may panic, hang or allocate without bound.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sioscope::capture::ReplayOptions;

fuzz_target!(|data: &[u8]| {
    let mut n = 0u64;
    let _ = sioscope::har::replay(data, &ReplayOptions::default(), &mut |_ev| n += 1);
});
