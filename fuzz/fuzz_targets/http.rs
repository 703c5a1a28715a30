//! Fuzz the HTTP/1.1 decoder in both roles, with the input split at a fuzzer-chosen point:
//! decoding must not panic, and the outputs must not depend on the split.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sioscope::http::{HttpDecoder, HttpLimits, HttpOutput, Role};

fn run(role: Role, parts: &[&[u8]]) -> Vec<HttpOutput> {
    let mut d = HttpDecoder::new(
        role,
        HttpLimits {
            max_head: 4096,
            max_headers: 64,
            max_body: 1 << 16,
        },
    );
    d.expect_response_to("GET");
    d.expect_response_to("HEAD");
    let mut out = vec![];
    for p in parts {
        d.push(p);
        while let Some(o) = d.poll() {
            out.push(o);
        }
    }
    out.extend(d.finish());
    out
}

fuzz_target!(|data: &[u8]| {
    let Some((&split, rest)) = data.split_first() else {
        return;
    };
    let at = (split as usize).min(rest.len());
    let (a, b) = rest.split_at(at);
    for role in [Role::Requests, Role::Responses] {
        let whole = run(role, &[rest]);
        let parts = run(role, &[a, b]);
        assert_eq!(whole, parts, "outputs depend on where the input was split");
    }
});
