//! Fuzz the log frontend: arbitrary text as a node `debug` / Python logging file, parsed and
//! placed against an empty session table. Nothing may panic, hang or allocate without bound.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sioscope::log::{attach, parse};
use sioscope::session::SessionTracker;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (lines, unrecognised) = parse(&text);
    let t = SessionTracker::new();
    let _ = attach("fuzz", lines, unrecognised, &t, &[]);
});
