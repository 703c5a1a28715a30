//! Fuzz the permessage-deflate inflater and the HTTP body inflater: arbitrary bytes as a
//! sequence of compressed messages, with and without context takeover, mid-stream or not,
//! under a small output limit. Checks that nothing panics and the limit holds.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sioscope::deflate::{inflate_body, BodyEncoding, InflateError, Inflater};

const LIMIT: usize = 4096;

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let mut inf = Inflater::new(flags & 1 != 0, 8 + (flags >> 4) % 8, flags & 2 != 0);
    // Messages are separated by the byte 0xA5 (an arbitrary but common-enough delimiter).
    for msg in rest.split(|&b| b == 0xa5) {
        match inf.inflate_message(msg, LIMIT) {
            Ok(out) => assert!(out.len() <= LIMIT),
            // Without context takeover every message stands alone: history is never missing.
            Err(InflateError::MissingContext) => assert!(flags & 1 == 0),
            Err(_) => {}
        }
    }
    for kind in [BodyEncoding::Gzip, BodyEncoding::Deflate] {
        if let Ok(out) = inflate_body(kind, rest, LIMIT) {
            assert!(out.len() <= LIMIT);
        }
    }
});
