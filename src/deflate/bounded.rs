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
    let mut out = Vec::new();
    let mut pos: usize = 0;
    loop {
        let rest = data.get(pos..).unwrap_or(&[]);
        let fed =
            feed(&mut d, rest, &mut out, limit, pos as u64).map_err(|e| match (e, wrapper) {
                (InflateError::Corrupt { zlib, .. }, Some(w)) if is_wrapper_message(&zlib) => {
                    InflateError::BadWrapper { wrapper: w, zlib }
                }
                (e, _) => e,
            })?;
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
                    d = Decompress::new_gzip(15);
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
