//! Bounded inflation: drive a zlib inflater over some input into an output buffer that never
//! grows past the caller's limit, plus the one-shot helper for HTTP `Content-Encoding` bodies.
//!
//! Wire formats handled here:
//!
//! * raw DEFLATE (RFC 1951): a sequence of blocks, each starting with a 3-bit header
//!   (`BFINAL`, `BTYPE`); used by WebSocket compression (RFC 7692) and as a fallback for
//!   servers that send `Content-Encoding: deflate` without the zlib wrapper;
//! * zlib (RFC 1950): a 2-byte header (`CMF`, `FLG`, with `(CMF*256 + FLG) % 31 == 0` and
//!   compression method 8), raw DEFLATE, then an Adler-32 of the output; what
//!   `Content-Encoding: deflate` means per RFC 9110 §8.4.1.2;
//! * gzip (RFC 1952): magic `1f 8b`, method 8, flags, mtime, …, raw DEFLATE, CRC-32 and size;
//!   `Content-Encoding: gzip`. Several members may follow each other.
//!
//! The output buffer is grown by hand (never by `Vec`'s doubling) so that the allocation stays
//! within `limit + 1` bytes however much the input claims to expand: a decompression bomb costs
//! at most the limit, then stops with [`InflateError::TooLarge`].

use flate2::{Decompress, DecompressError, FlushDecompress, Status};

use super::error::InflateError;

/// Granularity of output growth: small messages allocate little, large ones grow in steps.
const MIN_GROW: usize = 4096;

/// How a compressed input ended after being fed to [`feed`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fed {
    /// All input was consumed, the stream is still open (expects more data).
    NeedInput,
    /// The stream signalled its end (final block, or zlib/gzip trailer) after `consumed` bytes
    /// of this input; bytes after that were not used.
    StreamEnd {
        /// Input bytes consumed up to and including the end of the stream.
        consumed: usize,
    },
}

/// What zlib reported, converted to our error with the absolute input offset.
fn corrupt(err: &DecompressError, input_offset: u64) -> InflateError {
    InflateError::Corrupt {
        zlib: err.message().unwrap_or("unknown zlib error").to_string(),
        input_offset,
    }
}

/// Make sure `out` has at least one byte of spare capacity while staying within
/// `limit + 1` bytes of capacity in total. Returns false if it cannot grow further.
fn ensure_room(out: &mut Vec<u8>, limit: usize) -> bool {
    if out.len() < out.capacity() {
        return true;
    }
    // One byte past the limit is allowed so that "exactly limit bytes" and "more than limit
    // bytes" can be told apart without a second inflater.
    let hard_cap = limit.saturating_add(1);
    if out.len() >= hard_cap {
        return false;
    }
    let wanted = out.capacity().saturating_mul(2).max(MIN_GROW).min(hard_cap);
    let extra = wanted.saturating_sub(out.len()).max(1);
    out.try_reserve_exact(extra).is_ok()
}

/// Feed `input` to `d`, appending inflated bytes to `out`, never letting `out` exceed `limit`
/// bytes. `base_offset` is added to input offsets in errors (position of `input` within the
/// whole compressed unit).
pub(crate) fn feed(
    d: &mut Decompress,
    input: &[u8],
    out: &mut Vec<u8>,
    limit: usize,
    base_offset: u64,
) -> Result<Fed, InflateError> {
    let mut pos: usize = 0;
    loop {
        if !ensure_room(out, limit) {
            return Err(InflateError::TooLarge { limit });
        }
        let rest = input.get(pos..).unwrap_or(&[]);
        let before_in = d.total_in();
        let before_out = d.total_out();
        let result = d.decompress_vec(rest, out, FlushDecompress::None);
        let consumed =
            usize::try_from(d.total_in().saturating_sub(before_in)).unwrap_or(usize::MAX);
        let produced = d.total_out().saturating_sub(before_out);
        pos = pos.saturating_add(consumed);
        let status = match result {
            Ok(s) => s,
            Err(e) => {
                return Err(corrupt(&e, base_offset.saturating_add(pos as u64)));
            }
        };
        if out.len() > limit {
            return Err(InflateError::TooLarge { limit });
        }
        match status {
            Status::StreamEnd => return Ok(Fed::StreamEnd { consumed: pos }),
            Status::Ok | Status::BufError => {
                let room_left = out.len() < out.capacity();
                if pos >= input.len() && room_left {
                    // Everything consumed and zlib did not fill the buffer: it has nothing more
                    // to give until more input arrives.
                    return Ok(Fed::NeedInput);
                }
                if consumed == 0 && produced == 0 && room_left {
                    // No progress with room available: zlib holds a partial code and waits.
                    return Ok(Fed::NeedInput);
                }
            }
        }
    }
}

/// The message zlib-rs 0.6 reports when an error found in its fast decoding loop
/// (`inflate_fast`) is followed by a second look at the stream state: the real message
/// ("invalid distance too far back", "invalid distance code", …) is overwritten.
pub(crate) const LOST_MESSAGE: &str = "repeated call with bad state";

/// Replay compressed input through zlib's slow path to recover the real error message.
///
/// zlib-rs only takes its fast loop when at least 15 input bytes and 260 output bytes are
/// available, so feeding 8 input bytes at a time into a 256-byte scratch buffer stays on the
/// slow path, which reports errors with their own message. `d` must be in the state the
/// original inflation started from (same window / dictionary). Returns zlib's message and the
/// input offset (within the concatenated `parts`) of the first error, or `None` if the replay
/// found none before producing more than `limit` bytes (output is discarded, but the work is
/// bounded like the original inflation).
pub(crate) fn slow_replay(
    mut d: Decompress,
    parts: &[&[u8]],
    limit: usize,
) -> Option<(String, u64)> {
    let mut scratch = [0u8; 256];
    let mut base: u64 = 0;
    let start_out = d.total_out();
    for part in parts {
        let mut pos: usize = 0;
        while pos < part.len() {
            let end = pos.saturating_add(8).min(part.len());
            let piece = part.get(pos..end).unwrap_or(&[]);
            let before_in = d.total_in();
            let before_out = d.total_out();
            let result = d.decompress(piece, &mut scratch, FlushDecompress::None);
            let consumed = usize::try_from(d.total_in().saturating_sub(before_in)).unwrap_or(0);
            let produced = d.total_out().saturating_sub(before_out);
            pos = pos.saturating_add(consumed);
            match result {
                Err(e) => {
                    let msg = e.message().unwrap_or("unknown zlib error").to_string();
                    return Some((msg, base.saturating_add(pos as u64)));
                }
                Ok(Status::StreamEnd) => return None,
                Ok(_) if consumed == 0 && produced == 0 => return None,
                Ok(_) if d.total_out().saturating_sub(start_out) > limit as u64 => return None,
                Ok(_) => {}
            }
        }
        base = base.saturating_add(part.len() as u64);
    }
    None
}

/// The `Content-Encoding` of an HTTP body that [`inflate_body`] can undo.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyEncoding {
    /// `Content-Encoding: gzip` (or `x-gzip`): RFC 1952, possibly several members.
    Gzip,
    /// `Content-Encoding: deflate`: zlib (RFC 1950) as the standard says; raw DEFLATE when the
    /// first two bytes are not a valid zlib header (some servers send it raw).
    Deflate,
}

/// True if `data` starts with a valid zlib header (RFC 1950 §2.2: "CM = 8 denotes the
/// deflate compression method"; "FCHECK ... CMF*256 + FLG is a multiple of 31").
fn looks_like_zlib(data: &[u8]) -> bool {
    match (data.first(), data.get(1)) {
        (Some(&cmf), Some(&flg)) => {
            cmf & 0x0f == 8 && cmf >> 4 <= 7 && (u16::from(cmf) * 256 + u16::from(flg)) % 31 == 0
        }
        _ => false,
    }
}

/// zlib messages that concern the gzip/zlib wrapper rather than the DEFLATE data.
fn is_wrapper_message(msg: &str) -> bool {
    matches!(
        msg,
        "incorrect header check"
            | "unknown compression method"
            | "invalid window size"
            | "unknown header flags set"
            | "header crc mismatch"
            | "incorrect data check"
            | "incorrect length check"
    )
}

/// Inflate a whole HTTP body sent with `Content-Encoding: gzip` or `deflate` (engine.io's
/// `httpCompression` on polling responses), producing at most `limit` bytes.
///
/// Errors: [`InflateError::TooLarge`] past the limit, [`InflateError::Truncated`] if the body
/// ends before the stream does, [`InflateError::BadWrapper`] for a bad gzip/zlib header or
/// checksum, [`InflateError::Corrupt`] for bad DEFLATE data. Bytes after the end of the stream
/// (other than further gzip members) are ignored.
pub fn inflate_body(
    kind: BodyEncoding,
    data: &[u8],
    limit: usize,
) -> Result<Vec<u8>, InflateError> {
    let (mut d, wrapper) = match kind {
        BodyEncoding::Gzip => (Decompress::new_gzip(15), Some("gzip")),
        BodyEncoding::Deflate if looks_like_zlib(data) => (Decompress::new(true), Some("zlib")),
        BodyEncoding::Deflate => (Decompress::new(false), None),
    };
    let fresh = move || match kind {
        BodyEncoding::Gzip => Decompress::new_gzip(15),
        BodyEncoding::Deflate => Decompress::new(wrapper.is_some()),
    };
    let mut out = Vec::new();
    let mut pos: usize = 0;
    loop {
        let rest = data.get(pos..).unwrap_or(&[]);
        let fed = match feed(&mut d, rest, &mut out, limit, pos as u64) {
            Ok(fed) => fed,
            Err(InflateError::Corrupt { zlib, input_offset }) => {
                // Recover zlib's real message if zlib-rs lost it (see `LOST_MESSAGE`).
                let (zlib, input_offset) = match (zlib == LOST_MESSAGE)
                    .then(|| slow_replay(fresh(), &[rest], limit))
                    .flatten()
                {
                    Some((m, off)) => (m, (pos as u64).saturating_add(off)),
                    None => (zlib, input_offset),
                };
                return Err(match wrapper {
                    Some(w) if is_wrapper_message(&zlib) => {
                        InflateError::BadWrapper { wrapper: w, zlib }
                    }
                    _ => InflateError::Corrupt { zlib, input_offset },
                });
            }
            Err(e) => return Err(e),
        };
        match fed {
            Fed::NeedInput => {
                return Err(InflateError::Truncated {
                    consumed: data.len() as u64,
                })
            }
            Fed::StreamEnd { consumed } => {
                pos = pos.saturating_add(consumed);
                let next = data.get(pos..).unwrap_or(&[]);
                // RFC 1952 §2.2: "A gzip file consists of a series of "members"".
                if kind == BodyEncoding::Gzip && next.starts_with(&[0x1f, 0x8b]) {
                    d = fresh();
                    continue;
                }
                return Ok(out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::{Compress, Compression, FlushCompress};

    fn compress_with(mut c: Compress, data: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(data.len() / 2 + 1024);
        loop {
            if out.len() == out.capacity() {
                out.reserve(out.capacity().max(1024));
            }
            let before = c.total_in() as usize;
            let st = c
                .compress_vec(
                    data.get(before..).unwrap_or(&[]),
                    &mut out,
                    FlushCompress::Finish,
                )
                .unwrap();
            if st == Status::StreamEnd {
                return out;
            }
        }
    }

    #[test]
    fn zlib_rs_reports_zlib_texts() {
        // BTYPE = 11 (reserved): "invalid block type".
        let mut d = Decompress::new(false);
        let err = feed(&mut d, &[0x07, 0x00], &mut Vec::new(), 100, 0).unwrap_err();
        assert_eq!(
            err,
            InflateError::Corrupt {
                zlib: "invalid block type".into(),
                input_offset: 1
            }
        );
        // Fixed Huffman block (BTYPE 01) whose first symbol is a length/distance pair with
        // distance code 30 (invalid): bits 1,01 then length code 257 (0000001) then distance
        // 11110. Packed LSB first.
        let mut d = Decompress::new(false);
        let err = feed(&mut d, &[0x03, 0x3e, 0x00], &mut Vec::new(), 100, 0).unwrap_err();
        match err {
            InflateError::Corrupt { zlib, .. } => assert_eq!(zlib, "invalid distance code"),
            other => panic!("{other:?}"),
        }
    }

    /// Raw DEFLATE: a fixed-Huffman block of `literals` 'a's, then a length code followed by
    /// the invalid distance code 30, then padding (enough input for zlib's fast loop).
    fn bad_distance_after(literals: usize) -> Vec<u8> {
        let mut bits: Vec<bool> = Vec::new();
        let mut put = |code: u32, len: u32, msb_first: bool| {
            for i in 0..len {
                let bit = if msb_first {
                    (code >> (len - 1 - i)) & 1
                } else {
                    (code >> i) & 1
                };
                bits.push(bit == 1);
            }
        };
        put(1, 1, false); // BFINAL
        put(1, 2, false); // BTYPE = 01 (fixed Huffman)
        for _ in 0..literals {
            put(0x30 + u32::from(b'a'), 8, true); // literal 'a' (RFC 1951 §3.2.6: 0-143 → 8 bits)
        }
        put(1, 7, true); // length code 257 (length 3)
        put(30, 5, true); // distance code 30: invalid
        let mut out = vec![0u8; bits.len().div_ceil(8)];
        for (i, b) in bits.iter().enumerate() {
            if *b {
                out[i / 8] |= 1 << (i % 8);
            }
        }
        out.extend_from_slice(&[0u8; 64]);
        out
    }

    #[test]
    fn fast_path_errors_keep_zlibs_message() {
        // zlib-rs 0.6.8 reports "repeated call with bad state" for errors found in its fast
        // loop; the slow replay recovers the real text.
        let data = bad_distance_after(100);
        let mut d = Decompress::new(false);
        let raw = feed(&mut d, &data, &mut Vec::new(), 1 << 20, 0).unwrap_err();
        assert!(
            matches!(&raw, InflateError::Corrupt { zlib, .. } if zlib == LOST_MESSAGE),
            "{raw:?}"
        );
        assert_eq!(
            slow_replay(Decompress::new(false), &[&data], 1000),
            Some(("invalid distance code".to_string(), 102))
        );
        assert_eq!(
            inflate_body(BodyEncoding::Deflate, &data, 1 << 20),
            Err(InflateError::Corrupt {
                zlib: "invalid distance code".into(),
                input_offset: 102
            })
        );
        // A valid stream replays without error.
        let ok = [0xcb, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00];
        assert_eq!(
            slow_replay(Decompress::new(false), &[&ok[..3], &ok[3..]], 1000),
            None
        );
    }

    #[test]
    fn gzip_body_hello() {
        // `printf hello | gzip -n`
        let gz = [
            0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xcb, 0x48, 0xcd, 0xc9,
            0xc9, 0x07, 0x00, 0x86, 0xa6, 0x10, 0x36, 0x05, 0x00, 0x00, 0x00,
        ];
        assert_eq!(
            inflate_body(BodyEncoding::Gzip, &gz, 100).unwrap(),
            b"hello"
        );
        // Two members concatenated inflate to both contents.
        let two: Vec<u8> = gz.iter().chain(gz.iter()).copied().collect();
        assert_eq!(
            inflate_body(BodyEncoding::Gzip, &two, 100).unwrap(),
            b"hellohello"
        );
        // Truncated before the trailer.
        assert_eq!(
            inflate_body(BodyEncoding::Gzip, gz.get(..20).unwrap(), 100),
            Err(InflateError::Truncated { consumed: 20 })
        );
        // Corrupt CRC.
        let mut bad = gz;
        bad[17] ^= 0xff;
        assert_eq!(
            inflate_body(BodyEncoding::Gzip, &bad, 100),
            Err(InflateError::BadWrapper {
                wrapper: "gzip",
                zlib: "incorrect data check".into()
            })
        );
        // Limit: exactly 5 is fine, 4 is too small.
        assert_eq!(inflate_body(BodyEncoding::Gzip, &gz, 5).unwrap(), b"hello");
        assert_eq!(
            inflate_body(BodyEncoding::Gzip, &gz, 4),
            Err(InflateError::TooLarge { limit: 4 })
        );
    }

    #[test]
    fn deflate_body_zlib_and_raw() {
        // zlib.deflateSync('hello') in node: 78 9c, raw data, adler32 062c0215.
        let z = [
            0x78, 0x9c, 0xcb, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x06, 0x2c, 0x02, 0x15,
        ];
        assert_eq!(
            inflate_body(BodyEncoding::Deflate, &z, 100).unwrap(),
            b"hello"
        );
        // Raw DEFLATE fallback (no zlib header).
        let raw = [0xcb, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00];
        assert_eq!(
            inflate_body(BodyEncoding::Deflate, &raw, 100).unwrap(),
            b"hello"
        );
        // Bad Adler-32.
        let mut bad = z;
        bad[12] ^= 1;
        assert_eq!(
            inflate_body(BodyEncoding::Deflate, &bad, 100),
            Err(InflateError::BadWrapper {
                wrapper: "zlib",
                zlib: "incorrect data check".into()
            })
        );
    }

    #[test]
    fn bomb_is_stopped_at_the_limit_without_allocating_the_whole() {
        let zeros = vec![0u8; 10 * 1024 * 1024];
        let z = compress_with(Compress::new(Compression::best(), true), &zeros);
        assert!(z.len() < 20_000, "{}", z.len());
        let limit = 1024 * 1024;
        let mut d = Decompress::new(true);
        let mut out = Vec::new();
        let err = feed(&mut d, &z, &mut out, limit, 0).unwrap_err();
        assert_eq!(err, InflateError::TooLarge { limit });
        assert!(out.capacity() <= limit + 1, "{}", out.capacity());
        assert_eq!(
            inflate_body(BodyEncoding::Deflate, &z, limit),
            Err(InflateError::TooLarge { limit })
        );
        assert_eq!(
            inflate_body(BodyEncoding::Deflate, &z, 10 * 1024 * 1024)
                .unwrap()
                .len(),
            zeros.len()
        );
    }
}
