//! Client → server WebSocket frames: the project's one frame writer, its compressor, and the
//! nonces a client needs.
//!
//! RFC 6455 §5.2 lays a frame out as FIN, RSV1-3 and the opcode in the first byte, then the
//! MASK bit and a 7-bit length (126: a 16-bit length follows, 127: a 64-bit one), the masking
//! key, and the payload. §5.3: "The masking key is a 32-bit value chosen at random by the
//! client"; "octet i of the transformed data is the XOR of octet i of the original data with
//! octet at index i modulo 4 of the masking key". All client frames are masked (§5.1).
//!
//! RFC 7692 §7.2.1: a compressed message is the DEFLATE output of its payload, flushed to a
//! byte boundary ("an empty DEFLATE block with no compression"), with the trailing
//! `00 00 ff ff` removed, sent with RSV1 set on the first frame.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use flate2::{Compress, Compression, FlushCompress};

use super::ClientError;
use crate::ws::frame::encode_frame;

/// A value that differs between calls: masking keys, `Sec-WebSocket-Key` nonces, cache
/// busters. (RFC 6455 wants masking keys unpredictable to scripts in a browser; a probing
/// client has no such adversary.)
pub fn nonce() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0x9e37_79b9_7f4a_7c15);
    let t = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let mut x = N.fetch_add(0x9e37_79b9_7f4a_7c15, Ordering::Relaxed) ^ t;
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^ (x >> 29)
}

/// A fresh `Sec-WebSocket-Key`: 16 random bytes, base64 (RFC 6455 §4.1).
pub fn websocket_key() -> String {
    let mut k = [0u8; 16];
    k[..8].copy_from_slice(&nonce().to_le_bytes());
    k[8..].copy_from_slice(&nonce().to_le_bytes());
    base64::engine::general_purpose::STANDARD.encode(k)
}

/// One final (FIN), masked client frame with `opcode` (low 4 bits) and RSV1 when `rsv1`.
pub fn client_frame(opcode: u8, rsv1: bool, payload: &[u8]) -> Vec<u8> {
    let mut f = Vec::new();
    let first = 0x80 | if rsv1 { 0x40 } else { 0 } | (opcode & 0x0f);
    encode_frame(&mut f, first, payload, Some((nonce() as u32).to_le_bytes()));
    f
}

/// The client's permessage-deflate compressor.
///
/// With context takeover the LZ77 window carries over from message to message; when the server
/// imposed `client_no_context_takeover` (RFC 7692 §7.1.1.1) the compressor is reset after each
/// message, which is also what a client must do when it cannot honour a smaller
/// `client_max_window_bits` (a fresh compressor per short message stays within any window).
#[derive(Debug)]
pub struct Deflater {
    compress: Compress,
    reset_each_message: bool,
}

impl Deflater {
    /// A compressor; `reset_each_message` drops the context after every message.
    pub fn new(reset_each_message: bool) -> Deflater {
        Deflater {
            compress: Compress::new(Compression::default(), false),
            reset_each_message,
        }
    }

    /// Compresses one message as RFC 7692 §7.2.1 says: deflate with a sync flush, then remove
    /// the `00 00 ff ff` tail.
    pub fn message(&mut self, payload: &[u8]) -> Result<Vec<u8>, ClientError> {
        let out = deflate_message(&mut self.compress, payload);
        if self.reset_each_message {
            self.compress.reset();
        }
        out
    }
}

fn deflate_message(c: &mut Compress, payload: &[u8]) -> Result<Vec<u8>, ClientError> {
    let mut out = Vec::with_capacity(payload.len() + 64);
    let start = c.total_in();
    let consumed = |c: &Compress| usize::try_from(c.total_in() - start).unwrap_or(usize::MAX);
    // Each round consumes input or fills the (growing) output: bounded by the payload size.
    for _ in 0..10_000 {
        let input = payload.get(consumed(c)..).unwrap_or_default();
        c.compress_vec(input, &mut out, FlushCompress::Sync)
            .map_err(|e| ClientError::Ws(format!("deflate: {e}")))?;
        // The flush is complete when all input went in and the output did not fill up.
        if consumed(c) >= payload.len() && out.len() < out.capacity() {
            // RFC 7692 §7.2.1: "Remove 4 octets (that are 0x00 0x00 0xff 0xff) from the tail
            // end."
            if out.ends_with(&[0, 0, 0xff, 0xff]) {
                out.truncate(out.len() - 4);
            }
            return Ok(out);
        }
        out.reserve(out.capacity().max(1024));
    }
    Err(ClientError::Ws("deflate did not finish".into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deflate::Inflater;

    #[test]
    fn deflated_messages_inflate_back() {
        let mut d = Deflater::new(false);
        let msg = "4".to_string() + &"hello ".repeat(5000);
        let z = d.message(msg.as_bytes()).unwrap();
        assert!(z.len() < msg.len() / 10);
        assert!(!z.ends_with(&[0, 0, 0xff, 0xff]));
        let mut inf = Inflater::new(false, 15, false);
        let back = inf.inflate_message(&z, 1 << 20).unwrap();
        assert_eq!(back, msg.as_bytes());
        // With context takeover the second message may refer to the first.
        let z2 = d.message(b"40").unwrap();
        assert_eq!(inf.inflate_message(&z2, 1 << 20).unwrap(), b"40");
    }

    #[test]
    fn short_messages_inflate_with_a_fresh_inflater_after_a_reset() {
        let mut d = Deflater::new(true);
        for _ in 0..2 {
            let z = d.message(b"40").unwrap();
            let mut inf = Inflater::new(false, 15, false);
            assert_eq!(inf.inflate_message(&z, 1 << 20).unwrap(), b"40");
        }
    }

    #[test]
    fn frames_are_masked_with_the_right_length_forms() {
        let f = client_frame(1, false, b"hi");
        assert_eq!((f[0], f[1]), (0x81, 0x82));
        let k = [f[2], f[3], f[4], f[5]];
        assert_eq!([f[6] ^ k[0], f[7] ^ k[1]], *b"hi");
        let f = client_frame(1, true, &[b'a'; 300]);
        assert_eq!(&f[..4], &[0xc1, 0x80 | 126, 1, 44]);
        assert_eq!(f.len(), 4 + 4 + 300);
        let f = client_frame(2, false, &[0; 70_000]);
        assert_eq!(&f[..2], &[0x82, 0x80 | 127]);
        assert_eq!(f.len(), 2 + 8 + 4 + 70_000);
    }
}
