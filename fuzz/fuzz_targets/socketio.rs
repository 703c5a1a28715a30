//! Fuzz the Socket.IO decoders: v4/v5 packets through the attachment assembler, and the legacy
//! 0.9 message, framing, handshake and path parsers.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sioscope::socketio::{decode, decode_with, legacy, AttachmentAssembler, Version};

fuzz_target!(|data: &[u8]| {
    for frame in legacy::decode_frames(data) {
        assert!(frame.range.end <= data.len());
        if let Ok(m) = frame.message {
            let _ = m.payload();
            let _ = legacy::encode_message(&m);
        }
    }
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = decode_with(Version::V4, text);
    let _ = decode_with(Version::V5, text);
    let _ = legacy::parse_handshake(text);
    let _ = legacy::parse_path(text);
    let _ = legacy::is_handshake_path(text);
    // Packets separated by newlines, each followed by a binary message, through one assembler.
    let mut assembler = AttachmentAssembler::with_max_attachments(64);
    for line in text.split('\n') {
        if let Ok(packet) = decode(line) {
            // Re-encoding keeps the structure. (Numbers may move by one ulp: serde_json parses
            // floats fast, not exactly, without its `float_roundtrip` feature.)
            let round = sioscope::socketio::encode(&packet);
            let back = decode(&round).expect("re-encoded packet decodes");
            assert_eq!(
                (back.ty, &back.nsp, back.id, back.attachments),
                (packet.ty, &packet.nsp, packet.id, packet.attachments)
            );
            for step in assembler.push_packet(packet) {
                if let Ok(sioscope::socketio::Step::Ready(bp)) = step {
                    // The packet viewed in place carries exactly the view, or is unchanged.
                    let view = bp.json_view();
                    let (packet, error) = bp.clone().into_viewed();
                    match view {
                        Ok(v) => assert_eq!((packet.data, error), (v, None)),
                        Err(e) => assert_eq!((packet, error), (bp.packet, Some(e))),
                    }
                }
            }
        }
        let _ = assembler.push_binary(line.as_bytes());
    }
});
