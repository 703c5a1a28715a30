//! Opening a capture as given: plain, gzip-compressed (`.pcap.gz`, as tcpdump's `-z gzip` and
//! Wireshark write them) or zstd-compressed (`.pcapng.zst`), told apart by their first bytes, not by
//! the file name, so that standard input works too. And, for input that is no capture at all, a
//! guess of what it is (a HAR export, a text log) for the error message.

use std::io::{self, Read};

/// gzip's magic number (RFC 1952 §2.3.1: ID1 = 31, ID2 = 139).
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
/// A zstd frame's magic number (RFC 8878 §3.1.1: 0xFD2FB528, little-endian).
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];

/// How the capture's bytes were compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// Not compressed.
    None,
    /// gzip (one or more members, as `cat a.gz b.gz` makes).
    Gzip,
    /// zstd.
    Zstd,
}

/// Reads the first bytes of `input` and returns a reader of the decompressed capture, with the
/// compression it found.
pub fn decompressing<R: Read + Send + 'static>(
    mut input: R,
) -> io::Result<(Box<dyn Read + Send>, Compression)> {
    let mut head = Vec::with_capacity(4);
    (&mut input).take(4).read_to_end(&mut head)?;
    let kind = if head.starts_with(&ZSTD_MAGIC) {
        Compression::Zstd
    } else if head.starts_with(&GZIP_MAGIC) {
        Compression::Gzip
    } else {
        Compression::None
    };
    let whole = io::Cursor::new(head).chain(input);
    let reader: Box<dyn Read + Send> = match kind {
        Compression::None => Box::new(whole),
        Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(whole)),
        Compression::Zstd => Box::new(zstd::stream::read::Decoder::new(whole)?),
    };
    Ok((reader, kind))
}

/// What the first bytes of a non-capture look like, in words for an error message: `""` when
/// there is no good guess.
pub fn guess_what_it_is(head: &[u8]) -> &'static str {
    let text = String::from_utf8_lossy(head);
    let trimmed = text.trim_start_matches('\u{feff}').trim_start();
    if trimmed.starts_with('{') {
        // A HAR file is one JSON object whose first key is "log" (HAR 1.2 §"log").
        if trimmed.contains("\"log\"") {
            // `decode`, `explain`, `sessions` and `check --capture` read HARs before they get
            // here (`sioscope::har::looks_like_har`); the commands that reach this need a capture.
            return "; it looks like a HAR file (a browser's network export): `decode`, `explain`, \
                    `sessions` and `check --capture` read HARs, this command needs a pcap/pcapng \
                    capture (record one with tcpdump or `sioscope proxy --record`)";
        }
        return "; it looks like JSON: sioscope reads pcap/pcapng captures";
    }
    if trimmed.starts_with('<') {
        return "; it looks like HTML or XML: sioscope reads pcap/pcapng captures";
    }
    let printable = head
        .iter()
        .filter(|b| b.is_ascii_graphic() || b.is_ascii_whitespace())
        .count();
    if !head.is_empty() && printable * 10 >= head.len() * 9 {
        return "; it looks like a text file (a log?): sioscope reads pcap/pcapng captures and \
                HAR files (a library's debug log goes to `explain --log FILE`)";
    }
    ""
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open(bytes: Vec<u8>) -> (Vec<u8>, Compression) {
        let (mut r, kind) = decompressing(io::Cursor::new(bytes)).expect("opens");
        let mut v = Vec::new();
        r.read_to_end(&mut v).expect("reads");
        (v, kind)
    }

    #[test]
    fn plain_bytes_pass_through_whole() {
        let bytes = vec![0xd4, 0xc3, 0xb2, 0xa1, 9];
        assert_eq!(open(bytes.clone()), (bytes, Compression::None));
    }

    #[test]
    fn short_input_passes_through() {
        assert_eq!(open(vec![0x1f]), (vec![0x1f], Compression::None));
        assert_eq!(open(vec![]), (vec![], Compression::None));
    }

    #[test]
    fn gzip_is_inflated() {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        io::Write::write_all(&mut enc, b"\x0a\x0d\x0d\x0ahello").expect("writes");
        let gz = enc.finish().expect("finishes");
        assert_eq!(
            open(gz),
            (b"\x0a\x0d\x0d\x0ahello".to_vec(), Compression::Gzip)
        );
    }

    #[test]
    fn zstd_is_decompressed() {
        let z = zstd::encode_all(&b"\x0a\x0d\x0d\x0ahello"[..], 3).expect("encodes");
        assert_eq!(
            open(z),
            (b"\x0a\x0d\x0d\x0ahello".to_vec(), Compression::Zstd)
        );
    }

    #[test]
    fn har_and_logs_are_named() {
        assert!(
            guess_what_it_is(b"{\n  \"log\": {\n    \"version\": \"1.2\"").contains("HAR file")
        );
        assert!(
            guess_what_it_is(b"2026-01-01T00:00:00Z DEBUG engine:socket").contains("text file")
        );
        assert!(guess_what_it_is(b"{\"a\":1}").contains("JSON"));
        assert_eq!(guess_what_it_is(&[0, 1, 2, 3, 0xff, 0xfe]), "");
    }
}
