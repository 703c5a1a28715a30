//! One direction's permessage-deflate (or deflate-frame) inflater.
//!
//! Wire format (RFC 7692 §7.2.1): the sender compresses the message payload as raw DEFLATE,
//! flushes with a sync flush (which ends in an empty stored block `00 00 ff ff`), and removes
//! those last four octets. The receiver (§7.2.2) "appends 4 octets of 0x00 0x00 0xff 0xff to
//! the tail end of the payload of the message" and inflates. With context takeover (the
//! default) the LZ77 window carries over from message to message, so a message may refer to
//! bytes of earlier messages; `*_no_context_takeover` makes the sender reset after each message.
//! deflate-frame does the same per frame instead of per message.
//!
//! Window size: the inflater always uses a 15-bit (32 KiB) window. A DEFLATE stream made with a
//! smaller window only uses smaller distances, so a 15-bit inflater reads it exactly; the
//! negotiated bits are kept only for reports ([`Inflater::window_bits`]).
//!
//! Mid-stream pickup (the capture began after the `101`, or a message of this direction was
//! lost, too large, or corrupt): the earlier history is unknown. The inflater then restarts
//! with an empty window and tracks how much output it has seen since. This is sound because
//! zlib checks every back-reference against the output it actually has ("invalid distance too
//! far back"): a message that inflates successfully referred only to bytes we know, so its
//! output is exact, never garbage. A message that reaches back into the unknown fails with
//! [`InflateError::MissingContext`]. Once 32 KiB of contiguous output are known, no distance can
//! reach past them, so the context is complete again and such a failure is real corruption.
//! Other zlib errors (bad block type, bad code) do not depend on history and stay
//! [`InflateError::Corrupt`] in either state. With `no_context_takeover` every message starts
//! fresh, so mid-stream pickup costs nothing.
//!
//! A sender may also end a message with a final block (`BFINAL` = 1, RFC 7692 §7.2.3.4
//! example). The stream then ends; with context takeover the next message continues with the
//! same history, so the inflater restarts and primes itself with the last 32 KiB of output.

use flate2::Decompress;

use super::bounded::{feed, slow_replay, Fed, LOST_MESSAGE};
use super::error::InflateError;

/// RFC 7692 §7.2.2: the tail the receiver appends to every compressed message.
pub const TRAILER: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

/// The largest distance DEFLATE can express (RFC 1951 §3.2.5: distances up to 32768).
const MAX_DISTANCE: usize = 32 * 1024;

/// Inflater for one direction of one WebSocket connection.
#[derive(Debug)]
pub struct Inflater {
    d: Decompress,
    no_context_takeover: bool,
    window_bits: u8,
    /// The window holds the sender's whole relevant history.
    context_complete: bool,
    /// Output bytes seen since the window was last emptied (for mid-stream pickup).
    known_output: usize,
    /// The last (up to) 32 KiB of output, kept with context takeover to re-prime the window
    /// after a message that ended its stream with a final block.
    history: Vec<u8>,
    messages: u64,
}

impl Inflater {
    /// A new inflater. `no_context_takeover`: this direction's sender resets per message.
    /// `window_bits`: the negotiated window (recorded only). `midstream`: the capture started
    /// after the handshake, so earlier context is unknown.
    pub fn new(no_context_takeover: bool, window_bits: u8, midstream: bool) -> Self {
        Inflater {
            d: Decompress::new(false),
            no_context_takeover,
            window_bits: window_bits.clamp(8, 15),
            context_complete: no_context_takeover || !midstream,
            known_output: 0,
            history: Vec::new(),
            messages: 0,
        }
    }

    /// The negotiated window bits of the sender (8..=15), recorded for reports.
    pub fn window_bits(&self) -> u8 {
        self.window_bits
    }

    /// Whether the sender resets its compressor per message.
    pub fn no_context_takeover(&self) -> bool {
        self.no_context_takeover
    }

    /// Whether the inflater knows all history the next message may refer to.
    pub fn context_complete(&self) -> bool {
        self.context_complete
    }

    /// How many messages (or frames) were inflated successfully.
    pub fn messages(&self) -> u64 {
        self.messages
    }

    /// Forget the window: the history from here on is unknown (unless every message stands
    /// alone anyway).
    fn lose_context(&mut self) {
        self.d.reset(false);
        self.known_output = 0;
        self.history.clear();
        self.context_complete = self.no_context_takeover;
    }

    /// A compressed message of this direction passed without being inflated (too large, lost):
    /// with context takeover the following messages may refer to it.
    pub fn skip_message(&mut self) {
        self.lose_context();
    }

    /// Inflate one whole compressed message (the payloads of all its frames joined, without
    /// the `00 00 ff ff` tail), producing at most `limit` bytes.
    pub fn inflate_message(
        &mut self,
        payload: &[u8],
        limit: usize,
    ) -> Result<Vec<u8>, InflateError> {
        if payload.is_empty() {
            // An empty compressed payload is what a sync flush of nothing leaves once the
            // `00 00 ff ff` tail is removed (RFC 7692 §7.2.3.6 sends the empty message as one
            // 0x00 octet; some compressors send nothing at all). Appending the tail to nothing is
            // not a deflate block, so the message is empty and the context unchanged.
            self.messages = self.messages.saturating_add(1);
            return Ok(Vec::new());
        }
        if self.no_context_takeover {
            // RFC 7692 §7.1.1.1/§7.1.1.2: with *_no_context_takeover the sender "MUST start
            // compressing each new message with an empty LZ77 sliding window".
            self.d.reset(false);
        }
        // Room for twice the compressed size up front (within the limit): base64 data, the
        // bulk of large messages, inflates to about 1.35 times, so it needs no reallocation
        // (each copied the whole output so far); text that compresses better grows from there.
        let mut out = Vec::new();
        let _ = out.try_reserve_exact(payload.len().saturating_mul(2).min(limit.saturating_add(1)));
        let mut result = feed(&mut self.d, payload, &mut out, limit, 0);
        if let Ok(Fed::NeedInput) = result {
            result = feed(&mut self.d, &TRAILER, &mut out, limit, payload.len() as u64);
        }
        match result {
            Ok(fed) => {
                self.messages = self.messages.saturating_add(1);
                self.known_output = self.known_output.saturating_add(out.len());
                if self.known_output >= MAX_DISTANCE {
                    self.context_complete = true;
                }
                if !self.no_context_takeover {
                    self.remember(&out);
                    if let Fed::StreamEnd { .. } = fed {
                        self.restart_with_history();
                    }
                } else if let Fed::StreamEnd { .. } = fed {
                    self.d.reset(false);
                }
                Ok(out)
            }
            Err(InflateError::Corrupt {
                mut zlib,
                mut input_offset,
            }) => {
                if zlib == LOST_MESSAGE {
                    // zlib-rs lost the message of an error found in its fast loop: replay the
                    // message from the same starting window through the slow path.
                    if let Some((m, off)) = self.replay(payload, limit) {
                        zlib = m;
                        input_offset = off;
                    }
                }
                let missing = !self.context_complete && zlib.contains("too far back");
                self.lose_context();
                if missing {
                    Err(InflateError::MissingContext)
                } else {
                    Err(InflateError::Corrupt { zlib, input_offset })
                }
            }
            Err(e) => {
                self.lose_context();
                Err(e)
            }
        }
    }

    /// A fresh inflater in the state this message started from (empty window, or the
    /// remembered history), run through the slow path; see `bounded::slow_replay`.
    fn replay(&self, payload: &[u8], limit: usize) -> Option<(String, u64)> {
        let mut d = Decompress::new(false);
        if !self.no_context_takeover && !self.history.is_empty() {
            d.set_dictionary(&self.history).ok()?;
        }
        slow_replay(d, &[payload, &TRAILER], limit)
    }

    /// Keep the last 32 KiB of output.
    fn remember(&mut self, out: &[u8]) {
        if out.len() >= MAX_DISTANCE {
            self.history.clear();
            let tail = out
                .get(out.len().saturating_sub(MAX_DISTANCE)..)
                .unwrap_or(&[]);
            self.history.extend_from_slice(tail);
        } else {
            self.history.extend_from_slice(out);
            let excess = self.history.len().saturating_sub(MAX_DISTANCE);
            if excess > 0 {
                self.history.drain(..excess);
            }
        }
    }

    /// After a final block: new stream, same history.
    fn restart_with_history(&mut self) {
        self.d.reset(false);
        if !self.history.is_empty() && self.d.set_dictionary(&self.history).is_err() {
            self.lose_context();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HELLO: [u8; 7] = [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00];

    #[test]
    fn rfc7692_hello() {
        // RFC 7692 §7.2.3.1: "Hello" compressed, tail removed.
        let mut inf = Inflater::new(false, 15, false);
        assert_eq!(inf.inflate_message(&HELLO, 100).unwrap(), b"Hello");
    }

    #[test]
    fn rfc7692_context_takeover() {
        // RFC 7692 §7.2.3.2: the second "Hello" with the LZ77 window of the first is
        // `f2 00 11 00 00`.
        let mut inf = Inflater::new(false, 15, false);
        assert_eq!(inf.inflate_message(&HELLO, 100).unwrap(), b"Hello");
        assert_eq!(
            inf.inflate_message(&[0xf2, 0x00, 0x11, 0x00, 0x00], 100)
                .unwrap(),
            b"Hello"
        );
        // With no_context_takeover the same second message refers to history that the
        // sender promised not to use: zlib rejects it and it is corruption, not missing context.
        let mut inf = Inflater::new(true, 15, false);
        assert_eq!(inf.inflate_message(&HELLO, 100).unwrap(), b"Hello");
        assert_eq!(
            inf.inflate_message(&[0xf2, 0x00, 0x11, 0x00, 0x00], 100),
            Err(InflateError::Corrupt {
                zlib: "invalid distance too far back".into(),
                input_offset: 3
            })
        );
        // And the same message twice without context takeover inflates both times.
        assert_eq!(inf.inflate_message(&HELLO, 100).unwrap(), b"Hello");
        assert_eq!(inf.inflate_message(&HELLO, 100).unwrap(), b"Hello");
    }

    #[test]
    fn rfc7692_uncompressed_and_final_blocks() {
        // RFC 7692 §7.2.3.3: "Hello" in a stored (no compression) block.
        let stored = [
            0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00,
        ];
        let mut inf = Inflater::new(false, 15, false);
        assert_eq!(inf.inflate_message(&stored, 100).unwrap(), b"Hello");
        // RFC 7692 §7.2.3.4: a message ending with a BFINAL=1 block.
        let fin = [0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00];
        assert_eq!(inf.inflate_message(&fin, 100).unwrap(), b"Hello");
        // After the final block, context takeover still works: the window was re-primed.
        assert_eq!(
            inf.inflate_message(&[0xf2, 0x00, 0x11, 0x00, 0x00], 100)
                .unwrap(),
            b"Hello"
        );
        // RFC 7692 §7.2.3.5: two DEFLATE blocks in one message ("He" then "llo").
        let two = [
            0xf2, 0x48, 0x05, 0x00, 0x00, 0x00, 0xff, 0xff, 0xca, 0xc9, 0xc9, 0x07, 0x00,
        ];
        let mut inf = Inflater::new(false, 15, false);
        assert_eq!(inf.inflate_message(&two, 100).unwrap(), b"Hello");
    }

    #[test]
    fn corrupt_block_type_names_zlib() {
        // First byte's block type bits flipped to 11 (reserved).
        let mut inf = Inflater::new(false, 15, false);
        assert_eq!(
            inf.inflate_message(&[0xf7, 0x48, 0xcd], 100),
            Err(InflateError::Corrupt {
                zlib: "invalid block type".into(),
                input_offset: 1
            })
        );
    }

    #[test]
    fn empty_message() {
        // An empty compressed message is a single 0x00 octet (RFC 7692 §7.2.3.6).
        let mut inf = Inflater::new(false, 15, false);
        assert_eq!(inf.inflate_message(&[0x00], 100).unwrap(), b"");
        assert_eq!(inf.inflate_message(&[], 100).unwrap(), b"");
    }

    #[test]
    fn midstream_missing_context_then_recovery() {
        let mut inf = Inflater::new(false, 15, true);
        assert!(!inf.context_complete());
        // The second message of the RFC example refers to the first, which we never saw.
        assert_eq!(
            inf.inflate_message(&[0xf2, 0x00, 0x11, 0x00, 0x00], 100),
            Err(InflateError::MissingContext)
        );
        // A self-contained message inflates exactly, and the next one can refer to it.
        assert_eq!(inf.inflate_message(&HELLO, 100).unwrap(), b"Hello");
        assert_eq!(
            inf.inflate_message(&[0xf2, 0x00, 0x11, 0x00, 0x00], 100)
                .unwrap(),
            b"Hello"
        );
        assert!(!inf.context_complete());
        // Corruption unrelated to history is still called corruption.
        assert!(matches!(
            inf.inflate_message(&[0xf7], 100),
            Err(InflateError::Corrupt { .. })
        ));
        // Midstream with no_context_takeover: every message stands alone.
        let inf = Inflater::new(true, 15, true);
        assert!(inf.context_complete());
    }

    #[test]
    fn skip_message_loses_context() {
        let mut inf = Inflater::new(false, 15, false);
        inf.skip_message();
        assert_eq!(
            inf.inflate_message(&[0xf2, 0x00, 0x11, 0x00, 0x00], 100),
            Err(InflateError::MissingContext)
        );
    }

    #[test]
    fn bomb_and_limit() {
        use flate2::{Compress, Compression, FlushCompress};
        let zeros = vec![0u8; 10 * 1024 * 1024];
        let mut c = Compress::new(Compression::best(), false);
        let mut z = Vec::with_capacity(64 * 1024);
        c.compress_vec(&zeros, &mut z, FlushCompress::Sync).unwrap();
        assert!(c.total_in() as usize == zeros.len() && z.ends_with(&TRAILER));
        z.truncate(z.len() - 4);
        let mut inf = Inflater::new(false, 15, false);
        assert_eq!(
            inf.inflate_message(&z, 1024 * 1024),
            Err(InflateError::TooLarge { limit: 1024 * 1024 })
        );
        // The window was lost with the message: context is no longer complete.
        assert!(!inf.context_complete());
        assert_eq!(inf.inflate_message(&HELLO, 5).unwrap(), b"Hello");
        assert_eq!(
            inf.inflate_message(&HELLO, 4),
            Err(InflateError::TooLarge { limit: 4 })
        );
    }

    /// Compress `msgs` as one permessage-deflate stream with context takeover.
    fn compress_stream(msgs: &[Vec<u8>]) -> Vec<Vec<u8>> {
        use flate2::{Compress, Compression, FlushCompress};
        let mut c = Compress::new(Compression::default(), false);
        msgs.iter()
            .map(|m| {
                let mut z = Vec::with_capacity(m.len() + 1024);
                let before = c.total_in();
                loop {
                    let done = (c.total_in() - before) as usize;
                    c.compress_vec(&m[done..], &mut z, FlushCompress::Sync)
                        .unwrap();
                    if (c.total_in() - before) as usize == m.len() && z.ends_with(&TRAILER) {
                        break;
                    }
                    z.reserve(4096);
                }
                z.truncate(z.len() - 4);
                z
            })
            .collect()
    }

    /// Pseudo-random JSON-ish messages that repeat each other (long back-references).
    fn chatty_messages(n: usize, len: usize) -> Vec<Vec<u8>> {
        let mut x: u32 = 12345;
        (0..n)
            .map(|i| {
                let mut m = Vec::with_capacity(len);
                while m.len() < len {
                    x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                    m.extend_from_slice(
                        format!(
                            "{{\"event\":\"tick\",\"n\":{},\"v\":{}}}",
                            i,
                            (x >> 16) % 97
                        )
                        .as_bytes(),
                    );
                }
                m
            })
            .collect()
    }

    #[test]
    fn long_stream_with_takeover_and_midstream_soundness() {
        let msgs = chatty_messages(8, 20_000);
        let z = compress_stream(&msgs);
        // From the start: every message inflates exactly.
        let mut inf = Inflater::new(false, 15, false);
        for (m, c) in msgs.iter().zip(&z) {
            assert_eq!(&inf.inflate_message(c, 1 << 20).unwrap(), m);
        }
        // Picked up at message 3: each message either says MissingContext or inflates to
        // exactly the original (never garbage), and the context is complete once 32 KiB of
        // output have been seen.
        let mut inf = Inflater::new(false, 15, true);
        let mut ok = 0;
        for (m, c) in msgs.iter().zip(&z).skip(3) {
            match inf.inflate_message(c, 1 << 20) {
                Ok(out) => {
                    assert_eq!(&out, m);
                    ok += 1;
                }
                Err(e) => assert_eq!(e, InflateError::MissingContext),
            }
        }
        assert!(ok >= 1 || !inf.context_complete());
    }

    #[test]
    fn window_bits_recorded() {
        assert_eq!(Inflater::new(false, 9, false).window_bits(), 9);
        assert_eq!(Inflater::new(false, 99, false).window_bits(), 15);
    }
}
