//! The WebSocket frame header (RFC 6455 §5.2) and masking (§5.3).
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-------+-+-------------+-------------------------------+
//! |F|R|R|R| opcode|M| Payload len |    Extended payload length    |
//! |I|S|S|S|  (4)  |A|     (7)     |             (16/64)           |
//! |N|V|V|V|       |S|             |   (if payload len==126/127)   |
//! | |1|2|3|       |K|             |                               |
//! +-+-+-+-+-------+-+-------------+ - - - - - - - - - - - - - - - +
//! |     Extended payload length continued, if payload len == 127  |
//! + - - - - - - - - - - - - - - - +-------------------------------+
//! |                               |Masking-key, if MASK set to 1  |
//! +-------------------------------+-------------------------------+
//! | Masking-key (continued)       |          Payload Data         |
//! ```
//!
//! A header is 2 to 14 bytes. Payload length 0–125 is literal; 126 means a 16-bit big-endian
//! length follows, 127 a 64-bit one whose top bit must be 0. A masked payload is XORed with the
//! 4-byte key, byte `i` with `key[i % 4]`.

use super::error::WsError;

/// Frame opcode (RFC 6455 §5.2 and §11.8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Opcode {
    /// 0x0: continues a fragmented message.
    Continuation,
    /// 0x1: text (UTF-8) data.
    Text,
    /// 0x2: binary data.
    Binary,
    /// 0x8: connection close.
    Close,
    /// 0x9: ping.
    Ping,
    /// 0xA: pong.
    Pong,
    /// 0x3–0x7 (data) and 0xB–0xF (control): reserved.
    Reserved(u8),
}

impl Opcode {
    /// Decode the low nibble of the first header byte.
    pub fn from_nibble(n: u8) -> Self {
        match n & 0x0f {
            0x0 => Opcode::Continuation,
            0x1 => Opcode::Text,
            0x2 => Opcode::Binary,
            0x8 => Opcode::Close,
            0x9 => Opcode::Ping,
            0xA => Opcode::Pong,
            other => Opcode::Reserved(other),
        }
    }

    /// The opcode nibble.
    pub fn as_u8(self) -> u8 {
        match self {
            Opcode::Continuation => 0x0,
            Opcode::Text => 0x1,
            Opcode::Binary => 0x2,
            Opcode::Close => 0x8,
            Opcode::Ping => 0x9,
            Opcode::Pong => 0xA,
            Opcode::Reserved(n) => n & 0x0f,
        }
    }

    /// RFC 6455 §5.5: "Control frames are identified by opcodes where the most significant
    /// bit of the opcode is 1".
    pub fn is_control(self) -> bool {
        self.as_u8() & 0x8 != 0
    }
}

/// A parsed frame header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameHeader {
    /// Final fragment of a message.
    pub fin: bool,
    /// RSV1 (compression with permessage-deflate / deflate-frame).
    pub rsv1: bool,
    /// RSV2 (no extension here defines it).
    pub rsv2: bool,
    /// RSV3 (no extension here defines it).
    pub rsv3: bool,
    /// The opcode.
    pub opcode: Opcode,
    /// The masking key, if the MASK bit is set.
    pub mask: Option<[u8; 4]>,
    /// Payload length in bytes.
    pub payload_len: u64,
    /// The length used a longer encoding than needed (RFC 6455 §5.2 "minimal number of bytes").
    pub non_minimal_length: bool,
}

/// Appends one frame to `out`: `first` is the first header byte (FIN, RSV1-3, opcode), the
/// length in its minimal encoding (RFC 6455 §5.2: "the minimal number of bytes MUST be used to
/// encode the length"), then, with `mask`, the masking key and the payload masked with it
/// (§5.3), else the payload as it is.
pub fn encode_frame(out: &mut Vec<u8>, first: u8, payload: &[u8], mask: Option<[u8; 4]>) {
    out.reserve(payload.len() + 14);
    out.push(first);
    let m = if mask.is_some() { 0x80 } else { 0 };
    let n = payload.len();
    if n < 126 {
        out.push(m | n as u8);
    } else if let Ok(n16) = u16::try_from(n) {
        out.push(m | 126);
        out.extend_from_slice(&n16.to_be_bytes());
    } else {
        out.push(m | 127);
        out.extend_from_slice(&(n as u64).to_be_bytes());
    }
    match mask {
        Some(key) => {
            out.extend_from_slice(&key);
            let start = out.len();
            out.extend_from_slice(payload);
            if let Some(tail) = out.get_mut(start..) {
                unmask(tail, key, 0);
            }
        }
        None => out.extend_from_slice(payload),
    }
}

/// Parse a frame header at the start of `buf`.
///
/// Returns `Ok(None)` when `buf` is too short to hold the whole header (never an error for
/// short input), `Ok(Some((header, header_len)))` otherwise. The only error is a 64-bit length
/// with its top bit set, after which frame boundaries cannot be trusted.
pub fn parse_header(buf: &[u8]) -> Result<Option<(FrameHeader, usize)>, WsError> {
    let (Some(&b0), Some(&b1)) = (buf.first(), buf.get(1)) else {
        return Ok(None);
    };
    let len7 = b1 & 0x7f;
    let masked = b1 & 0x80 != 0;
    let (payload_len, mut at, non_minimal) = match len7 {
        126 => {
            let Some(bytes) = buf.get(2..4) else {
                return Ok(None);
            };
            let mut be = [0u8; 2];
            be.copy_from_slice(bytes);
            let len = u64::from(u16::from_be_bytes(be));
            (len, 4usize, len < 126)
        }
        127 => {
            let Some(bytes) = buf.get(2..10) else {
                return Ok(None);
            };
            let mut be = [0u8; 8];
            be.copy_from_slice(bytes);
            let len = u64::from_be_bytes(be);
            // RFC 6455 §5.2: "(the most significant bit MUST be 0)".
            if len >> 63 != 0 {
                return Err(WsError::LengthMsbSet { len });
            }
            (len, 10usize, len <= 0xffff)
        }
        n => (u64::from(n), 2usize, false),
    };
    let mask = if masked {
        let Some(bytes) = buf.get(at..at.saturating_add(4)) else {
            return Ok(None);
        };
        let mut key = [0u8; 4];
        key.copy_from_slice(bytes);
        at = at.saturating_add(4);
        Some(key)
    } else {
        None
    };
    Ok(Some((
        FrameHeader {
            fin: b0 & 0x80 != 0,
            rsv1: b0 & 0x40 != 0,
            rsv2: b0 & 0x20 != 0,
            rsv3: b0 & 0x10 != 0,
            opcode: Opcode::from_nibble(b0),
            mask,
            payload_len,
            non_minimal_length: non_minimal,
        },
        at,
    )))
}

/// Unmask (or mask: XOR is its own inverse) `data` in place with `key`, where `data` starts
/// `offset` bytes into the frame payload (RFC 6455 §5.3: "octet i of the transformed data is
/// the XOR of octet i of the original data with octet at index i modulo 4 of the masking key").
///
/// Eight bytes at a time: the key, rotated to `offset`, repeated twice makes one 64-bit word.
pub fn unmask(data: &mut [u8], key: [u8; 4], offset: u64) {
    let mut k = key;
    k.rotate_left((offset % 4) as usize);
    let word = u64::from_ne_bytes([k[0], k[1], k[2], k[3], k[0], k[1], k[2], k[3]]);
    let mut words = data.chunks_exact_mut(8);
    for w in &mut words {
        let mut b = [0u8; 8];
        b.copy_from_slice(w);
        w.copy_from_slice(&(u64::from_ne_bytes(b) ^ word).to_ne_bytes());
    }
    // The tail is shorter than a word and starts at a multiple of 8, so the key's phase is `k`.
    for (b, m) in words.into_remainder().iter_mut().zip(k.iter().cycle()) {
        *b ^= m;
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn encode_frame_uses_the_minimal_length_and_masks_what_it_says() {
        let mut out = vec![];
        encode_frame(&mut out, 0x81, b"2probe", Some([0, 0, 0, 0]));
        assert_eq!(out, b"\x81\x86\0\0\0\x002probe");
        let mut out = vec![];
        encode_frame(&mut out, 0x82, &[7; 126], None);
        assert_eq!(&out[..4], b"\x82\x7e\x00\x7e");
        assert_eq!(out.len(), 4 + 126);
        let mut out = vec![];
        encode_frame(&mut out, 0x81, b"abc", Some([1, 2, 3, 4]));
        assert_eq!(out, [0x81, 0x83, 1, 2, 3, 4, b'a' ^ 1, b'b' ^ 2, b'c' ^ 3]);
        let (h, n) = parse_header(&out)
            .ok()
            .flatten()
            .unwrap_or_else(|| panic!("header"));
        assert_eq!((n, h.payload_len, h.mask), (6, 3, Some([1, 2, 3, 4])));
    }

    use super::*;

    #[test]
    fn rfc6455_unmasked_hello() {
        // RFC 6455 §5.7: "A single-frame unmasked text message".
        let buf = [0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f];
        let (h, n) = parse_header(&buf).unwrap().unwrap();
        assert_eq!(n, 2);
        assert!(h.fin && !h.rsv1 && !h.rsv2 && !h.rsv3);
        assert_eq!(h.opcode, Opcode::Text);
        assert_eq!(h.mask, None);
        assert_eq!(h.payload_len, 5);
    }

    #[test]
    fn rfc6455_masked_hello() {
        // RFC 6455 §5.7: "A single-frame masked text message".
        let buf = [
            0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
        ];
        let (h, n) = parse_header(&buf).unwrap().unwrap();
        assert_eq!(n, 6);
        assert_eq!(h.mask, Some([0x37, 0xfa, 0x21, 0x3d]));
        let mut p = buf[6..].to_vec();
        unmask(&mut p, [0x37, 0xfa, 0x21, 0x3d], 0);
        assert_eq!(p, b"Hello");
        // Unmasking in two pieces with offsets gives the same bytes.
        let mut a = buf[6..9].to_vec();
        let mut b = buf[9..].to_vec();
        unmask(&mut a, [0x37, 0xfa, 0x21, 0x3d], 0);
        unmask(&mut b, [0x37, 0xfa, 0x21, 0x3d], 3);
        assert_eq!([a, b].concat(), b"Hello");
    }

    #[test]
    fn unmask_by_words_matches_rfc_octet_rule() {
        // RFC 6455 §5.3, octet by octet, against the word-at-a-time unmask: every length
        // around the word size and every starting offset.
        let key = [0x37, 0xfa, 0x21, 0x3d];
        for len in 0..41usize {
            for offset in 0..9u64 {
                let data: Vec<u8> = (0..len).map(|i| (i * 31 + 7) as u8).collect();
                let want: Vec<u8> = data
                    .iter()
                    .enumerate()
                    .map(|(i, b)| b ^ key[(i + offset as usize) % 4])
                    .collect();
                let mut got = data.clone();
                unmask(&mut got, key, offset);
                assert_eq!(got, want, "len {len} offset {offset}");
            }
        }
    }

    #[test]
    fn extended_lengths() {
        // RFC 6455 §5.7: 256 bytes binary in a single unmasked frame: 0x82 0x7E 0x0100.
        let (h, n) = parse_header(&[0x82, 0x7e, 0x01, 0x00]).unwrap().unwrap();
        assert_eq!(
            (h.opcode, h.payload_len, n, h.non_minimal_length),
            (Opcode::Binary, 256, 4, false)
        );
        // 64 KiB: 0x82 0x7F 0x0000000000010000.
        let buf = [0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0];
        let (h, n) = parse_header(&buf).unwrap().unwrap();
        assert_eq!((h.payload_len, n, h.non_minimal_length), (65536, 10, false));
        // Non-minimal encodings are flagged.
        let (h, _) = parse_header(&[0x82, 0x7e, 0x00, 0x05]).unwrap().unwrap();
        assert!(h.non_minimal_length);
        let (h, _) = parse_header(&[0x82, 0x7f, 0, 0, 0, 0, 0, 0, 0xff, 0xff])
            .unwrap()
            .unwrap();
        assert!(h.non_minimal_length);
        // Top bit of the 64-bit length.
        assert_eq!(
            parse_header(&[0x82, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 1]),
            Err(WsError::LengthMsbSet {
                len: 0x8000_0000_0000_0001
            })
        );
    }

    #[test]
    fn short_input_is_none() {
        let full = [0x82, 0xff, 0, 0, 0, 0, 0, 1, 0, 0, 1, 2, 3, 4];
        for i in 0..full.len() {
            assert_eq!(parse_header(&full[..i]), Ok(None), "{i}");
        }
        let (h, n) = parse_header(&full).unwrap().unwrap();
        assert_eq!((n, h.mask), (14, Some([1, 2, 3, 4])));
    }

    #[test]
    fn opcodes_and_bits() {
        let (h, _) = parse_header(&[0x7b, 0x00]).unwrap().unwrap();
        assert!(!h.fin && h.rsv1 && h.rsv2 && h.rsv3);
        assert_eq!(h.opcode, Opcode::Reserved(0xb));
        assert!(h.opcode.is_control());
        for (n, op) in [
            (0, Opcode::Continuation),
            (1, Opcode::Text),
            (2, Opcode::Binary),
            (8, Opcode::Close),
            (9, Opcode::Ping),
            (10, Opcode::Pong),
            (3, Opcode::Reserved(3)),
        ] {
            assert_eq!(Opcode::from_nibble(n), op);
            assert_eq!(op.as_u8(), n);
        }
        assert!(!Opcode::Binary.is_control() && Opcode::Ping.is_control());
    }
}
