//! Fuzz the size and duration parsers every limit and timeout flag goes through.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sioscope::units::{parse_duration, parse_size};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = parse_size(text);
    let _ = parse_duration(text);
});
