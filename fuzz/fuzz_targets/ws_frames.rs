//! Fuzz the WebSocket frame decoder: arbitrary bytes, both roles, with and without
//! permessage-deflate / deflate-frame, fed in two pieces split at a fuzzer-chosen point.
//! Checks that nothing panics, that splitting does not change the outputs, and that spans stay
//! inside the input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sioscope::deflate::parse_extensions;
use sioscope::ws::{WsConfig, WsDecoder, WsOutput};

fn run(cfg: &WsConfig, chunks: &[&[u8]]) -> Vec<WsOutput> {
    let mut d = WsDecoder::new(cfg.clone());
    let mut out = Vec::new();
    for c in chunks {
        d.push(c);
        while let Some(o) = d.poll() {
            out.push(o);
        }
    }
    while let Some(o) = d.finish() {
        out.push(o);
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let (Some(&flags), Some(&split)) = (data.first(), data.get(1)) else {
        return;
    };
    let body = data.get(2..).unwrap_or(&[]);
    let header = match flags % 4 {
        0 => "",
        1 => "permessage-deflate",
        2 => "permessage-deflate; client_no_context_takeover; server_no_context_takeover",
        _ => "x-webkit-deflate-frame",
    };
    let cfg = WsConfig {
        from_client: flags & 0x04 != 0,
        extensions: parse_extensions(header).extensions,
        max_message: if flags & 0x08 != 0 { 64 } else { 1 << 16 },
        midstream: flags & 0x10 != 0,
    };
    let at = (split as usize * body.len()) / 255;
    let (a, b) = body.split_at(at.min(body.len()));
    let whole = run(&cfg, &[body]);
    let split_out = run(&cfg, &[a, b]);
    assert_eq!(whole, split_out);
    for o in &whole {
        let span = match o {
            WsOutput::Frame(f) => &f.span,
            WsOutput::Message(m) => &m.span,
            WsOutput::Control(c) => &c.span,
            WsOutput::Violation { span, .. } => span,
        };
        assert!(span.start <= span.end);
        assert!(span.start <= body.len() as u64);
    }
});
