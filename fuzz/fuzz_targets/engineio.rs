//! Fuzz the Engine.IO decoders: polling payloads of every revision in both framings (text and
//! the v3 XHR2 binary framing, JSONP included), and single WebSocket messages.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sioscope::engineio::{decode_binary, decode_payload, decode_text, Version};

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let version = match selector % 3 {
        0 => Version::V2,
        1 => Version::V3,
        _ => Version::V4,
    };
    let binary_framing = selector & 0x80 != 0;
    for item in decode_payload(version, body, binary_framing) {
        assert!(item.range.start <= item.range.end);
        assert!(item.range.end <= body.len());
    }
    let _ = decode_binary(version, body);
    if let Ok(text) = std::str::from_utf8(body) {
        let _ = decode_text(version, text);
    }
});
