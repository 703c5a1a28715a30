//! Streaming reader over pcap and pcapng, built on `pcap-parser`'s circular-buffer readers.

use std::io::Read;

use pcap_parser::pcapng::Block;
use pcap_parser::traits::PcapReaderIterator;
use pcap_parser::{LegacyPcapReader, PcapBlockOwned, PcapError, PcapNGReader};

use super::CaptureError;
use crate::event::Timestamp;

/// The read buffer: large enough for any record of up to 256 KiB (the largest snap length tools
/// write by default) several times over; a record that does not fit is reported as corrupt.
const BUFFER_SIZE: usize = 1 << 20;

/// Which container format the input is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaptureFormat {
    /// Classic libpcap.
    Pcap,
    /// pcapng.
    PcapNg,
}

/// One captured packet, borrowed from the reader until the next call.
#[derive(Debug)]
pub struct Packet<'a> {
    /// 1-based frame number, counted like Wireshark/tshark (every packet record, any interface).
    pub frame: u64,
    /// When it was captured.
    pub ts: Timestamp,
    /// The link type of its interface.
    pub linktype: i32,
    /// The captured bytes (possibly fewer than the original, see `orig_len`).
    pub data: &'a [u8],
    /// The length of the packet on the wire.
    pub orig_len: u32,
    /// The pcapng packet comment (`opt_comment`), if any (the proxy marks injected faults so).
    pub comment: Option<String>,
}

/// Per-interface facts from a pcapng Interface Description Block.
#[derive(Debug, Clone, Copy)]
struct Interface {
    linktype: i32,
    /// Timestamp units per second.
    resolution: u64,
    /// Seconds added to every timestamp (`if_tsoffset`).
    offset: i64,
}

enum Inner<R: Read> {
    Pcap {
        reader: LegacyPcapReader<R>,
        linktype: i32,
        nanos: bool,
    },
    Ng {
        reader: PcapNGReader<R>,
        interfaces: Vec<Interface>,
        /// The current section's byte order (its Section Header Block's).
        big_endian: bool,
    },
}

/// A streaming reader of packets from a pcap or pcapng byte stream.
pub struct CaptureReader<R: Read> {
    inner: Inner<PrefixRead<R>>,
    format: CaptureFormat,
    frame: u64,
    buf: Vec<u8>,
    /// Set when the input ended inside a record (the tail of the capture is cut).
    truncated_tail: bool,
    /// Blocks skipped because they refer to an interface never declared.
    pub orphan_packets: u64,
}

impl<R: Read> CaptureReader<R> {
    /// Sniffs the format from the magic number and prepares to stream packets.
    pub fn new(mut input: R) -> Result<Self, CaptureError> {
        let mut prefix = Vec::with_capacity(64);
        read_at_least(&mut input, &mut prefix, 4)?;
        let magic = match prefix.get(..4) {
            Some(m) => [m[0], m[1], m[2], m[3]],
            None if prefix.is_empty() => return Err(CaptureError::Empty),
            None => return Err(not_a_capture(&mut input, prefix)),
        };
        let format = match magic {
            [0x0a, 0x0d, 0x0d, 0x0a] => CaptureFormat::PcapNg,
            [0xd4, 0xc3, 0xb2, 0xa1]
            | [0xa1, 0xb2, 0xc3, 0xd4]
            | [0x4d, 0x3c, 0xb2, 0xa1]
            | [0xa1, 0xb2, 0x3c, 0x4d]
            | [0x34, 0xcd, 0xb2, 0xa1]
            | [0xa1, 0xb2, 0xcd, 0x34] => CaptureFormat::Pcap,
            _ => return Err(not_a_capture(&mut input, prefix)),
        };
        // The header parsers of pcap-parser read once: hand them the whole file header in one go.
        let header_len = match format {
            CaptureFormat::Pcap => 24,
            CaptureFormat::PcapNg => {
                read_at_least(&mut input, &mut prefix, 12)?;
                // Section Header Block: type, total length (in the section's byte order, which the
                // byte-order magic at offset 8 tells), ... We accept either order and cap it.
                let len_le = prefix
                    .get(4..8)
                    .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                    .unwrap_or(0);
                let len_be = prefix
                    .get(4..8)
                    .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
                    .unwrap_or(0);
                let bom_le = prefix.get(8..12) == Some(&[0x4d, 0x3c, 0x2b, 0x1a][..]);
                let len = if bom_le { len_le } else { len_be } as usize;
                if !(28..=BUFFER_SIZE / 2).contains(&len) {
                    return Err(CaptureError::BadHeader {
                        detail: format!("section header block length {len}"),
                    });
                }
                len
            }
        };
        read_at_least(&mut input, &mut prefix, header_len)?;
        if prefix.len() < header_len {
            return Err(CaptureError::BadHeader {
                detail: format!("{} of {header_len} header bytes", prefix.len()),
            });
        }
        let src = PrefixRead {
            prefix,
            pos: 0,
            inner: input,
        };
        let header_err = |e: PcapError<&'static [u8]>| CaptureError::BadHeader {
            detail: describe(&e),
        };
        let inner = match format {
            CaptureFormat::Pcap => {
                let reader = LegacyPcapReader::new(BUFFER_SIZE, src).map_err(header_err)?;
                Inner::Pcap {
                    reader,
                    linktype: 0,
                    nanos: false,
                }
            }
            CaptureFormat::PcapNg => Inner::Ng {
                reader: PcapNGReader::new(BUFFER_SIZE, src).map_err(header_err)?,
                interfaces: Vec::new(),
                big_endian: false,
            },
        };
        Ok(CaptureReader {
            inner,
            format,
            frame: 0,
            buf: Vec::new(),
            truncated_tail: false,
            orphan_packets: 0,
        })
    }

    /// The container format.
    pub fn format(&self) -> CaptureFormat {
        self.format
    }

    /// True when the input ended in the middle of a record: the last packet is lost.
    pub fn truncated_tail(&self) -> bool {
        self.truncated_tail
    }

    /// The next packet, `Ok(None)` at the end of the input.
    pub fn next_packet(&mut self) -> Result<Option<Packet<'_>>, CaptureError> {
        loop {
            let after_frame = self.frame;
            if let Inner::Ng {
                reader, big_endian, ..
            } = &self.inner
            {
                if let Some(len) = short_ng_block(reader.data(), *big_endian) {
                    return Err(CaptureError::Corrupt {
                        after_frame,
                        detail: format!(
                            "a pcapng block {len} bytes long, shorter than the 12 bytes of its \
                             type and two lengths"
                        ),
                    });
                }
            }
            // One step of the pcap-parser loop: a block, or a request to refill.
            let step = match &mut self.inner {
                Inner::Pcap {
                    reader,
                    linktype,
                    nanos,
                } => match reader.next() {
                    Ok((used, block)) => {
                        let out = match block {
                            PcapBlockOwned::LegacyHeader(h) => {
                                *linktype = h.network.0;
                                *nanos = h.is_nanosecond_precision();
                                None
                            }
                            PcapBlockOwned::Legacy(b) => {
                                let frac = if *nanos {
                                    u64::from(b.ts_usec)
                                } else {
                                    u64::from(b.ts_usec).saturating_mul(1000)
                                };
                                self.buf.clear();
                                self.buf.extend_from_slice(b.data);
                                Some((
                                    Timestamp::from_parts(u64::from(b.ts_sec), frac),
                                    *linktype,
                                    b.origlen,
                                    None,
                                ))
                            }
                            PcapBlockOwned::NG(_) => None,
                        };
                        reader.consume(used);
                        Step::Block(out)
                    }
                    Err(e) => Step::Err(classify(e)),
                },
                Inner::Ng {
                    reader,
                    interfaces,
                    big_endian,
                } => match reader.next() {
                    Ok((used, block)) => {
                        let out = match block {
                            PcapBlockOwned::NG(Block::SectionHeader(shb)) => {
                                interfaces.clear();
                                *big_endian = shb.big_endian();
                                None
                            }
                            PcapBlockOwned::NG(Block::InterfaceDescription(idb)) => {
                                interfaces.push(Interface {
                                    linktype: idb.linktype.0,
                                    resolution: idb.ts_resolution().unwrap_or(1_000_000).max(1),
                                    offset: idb.ts_offset(),
                                });
                                None
                            }
                            PcapBlockOwned::NG(Block::EnhancedPacket(epb)) => {
                                match interfaces.get(epb.if_id as usize) {
                                    Some(ifc) => {
                                        let units =
                                            (u64::from(epb.ts_high) << 32) | u64::from(epb.ts_low);
                                        self.buf.clear();
                                        let len = (epb.caplen as usize).min(epb.data.len());
                                        self.buf
                                            .extend_from_slice(epb.data.get(..len).unwrap_or(&[]));
                                        // pcapng: "opt_comment" (code 1), a UTF-8 string.
                                        let comment = epb
                                            .options
                                            .iter()
                                            .find(|o| o.code.0 == 1)
                                            .and_then(|o| o.as_str().ok())
                                            .map(|c| c.chars().take(4096).collect::<String>());
                                        Some((
                                            ng_ts(units, ifc),
                                            ifc.linktype,
                                            epb.origlen,
                                            comment,
                                        ))
                                    }
                                    None => {
                                        self.orphan_packets += 1;
                                        None
                                    }
                                }
                            }
                            PcapBlockOwned::NG(Block::SimplePacket(spb)) => {
                                match interfaces.first() {
                                    Some(ifc) => {
                                        self.buf.clear();
                                        self.buf.extend_from_slice(spb.data);
                                        Some((Timestamp(0), ifc.linktype, spb.origlen, None))
                                    }
                                    None => {
                                        self.orphan_packets += 1;
                                        None
                                    }
                                }
                            }
                            _ => None,
                        };
                        reader.consume(used);
                        Step::Block(out)
                    }
                    Err(e) => Step::Err(classify(e)),
                },
            };
            match step {
                Step::Block(Some((ts, linktype, orig_len, comment))) => {
                    self.frame += 1;
                    return Ok(Some(Packet {
                        frame: self.frame,
                        ts,
                        linktype,
                        data: &self.buf,
                        orig_len,
                        comment,
                    }));
                }
                Step::Block(None) => {
                    // An interface, section or statistics block: frames are only packet records.
                    // pcap-parser hands unparsed packet blocks back as NG too; keep numbering in
                    // step with tshark, which counts every packet record it reads.
                }
                Step::Err(Failure::Eof) => return Ok(None),
                Step::Err(Failure::Refill) => {
                    let res = match &mut self.inner {
                        Inner::Pcap { reader, .. } => reader.refill().map_err(|e| describe(&e)),
                        Inner::Ng { reader, .. } => reader.refill().map_err(|e| describe(&e)),
                    };
                    if let Err(detail) = res {
                        return Err(CaptureError::Corrupt {
                            after_frame,
                            detail,
                        });
                    }
                }
                Step::Err(Failure::TruncatedTail) => {
                    self.truncated_tail = true;
                    return Ok(None);
                }
                Step::Err(Failure::TooLarge) => {
                    return Err(CaptureError::RecordTooLarge {
                        after_frame,
                        limit: BUFFER_SIZE,
                    })
                }
                Step::Err(Failure::Corrupt(detail)) => {
                    return Err(CaptureError::Corrupt {
                        after_frame,
                        detail,
                    })
                }
            }
        }
    }
}

enum Step {
    Block(Option<(Timestamp, i32, u32, Option<String>)>),
    Err(Failure),
}

enum Failure {
    Eof,
    Refill,
    TruncatedTail,
    TooLarge,
    Corrupt(String),
}

/// The total length of the pcapng block at the start of `data` when it is shorter than any block
/// can be. pcapng (draft-ietf-opsawg-pcapng §3.1): "Block Total Length: total size of this block
/// … including the Block Type, Block Total Length and the second Block Total Length": 12 bytes at
/// least. pcap-parser 0.17.0 subtracts 12 from it without checking for the Process Information
/// Block, whose header it counts as 4 bytes (`pcapng/block.rs:155-162`,
/// `pcapng/process_information.rs:22`), and overflows: found by the `annotate` fuzz target.
fn short_ng_block(data: &[u8], big_endian: bool) -> Option<u32> {
    let bytes: [u8; 4] = data.get(4..8)?.try_into().ok()?;
    let len = if big_endian {
        u32::from_be_bytes(bytes)
    } else {
        u32::from_le_bytes(bytes)
    };
    (len < 12).then_some(len)
}

fn classify(e: PcapError<&[u8]>) -> Failure {
    match e {
        PcapError::Eof => Failure::Eof,
        PcapError::Incomplete(_) => Failure::Refill,
        PcapError::UnexpectedEof => Failure::TruncatedTail,
        PcapError::BufferTooSmall => Failure::TooLarge,
        other => Failure::Corrupt(describe(&other)),
    }
}

fn describe<I>(e: &PcapError<I>) -> String {
    match e {
        PcapError::Eof => "end of input".into(),
        PcapError::BufferTooSmall => "a record larger than the read buffer".into(),
        PcapError::UnexpectedEof => "the input ends inside a record".into(),
        PcapError::ReadError => "read error".into(),
        PcapError::Incomplete(_) => "incomplete block".into(),
        PcapError::HeaderNotRecognized => "header not recognized".into(),
        PcapError::NomError(_, kind) => format!("malformed block ({kind:?})"),
        PcapError::OwnedNomError(_, kind) => format!("malformed block ({kind:?})"),
    }
}

/// A pcapng timestamp in units of the interface's resolution, plus its offset, in nanoseconds.
fn ng_ts(units: u64, ifc: &Interface) -> Timestamp {
    let res = u128::from(ifc.resolution.max(1));
    let secs = u128::from(units) / res;
    let frac = u128::from(units) % res;
    let nanos = frac.saturating_mul(1_000_000_000) / res;
    let secs = (secs as i128).saturating_add(i128::from(ifc.offset)).max(0);
    let total = (secs as u128)
        .saturating_mul(1_000_000_000)
        .saturating_add(nanos);
    Timestamp(u64::try_from(total).unwrap_or(u64::MAX))
}

fn read_at_least<R: Read>(
    input: &mut R,
    buf: &mut Vec<u8>,
    want: usize,
) -> Result<(), std::io::Error> {
    let mut chunk = [0u8; 4096];
    while buf.len() < want {
        let need = (want - buf.len()).min(chunk.len());
        let n = match input.read(&mut chunk[..need]) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    Ok(())
}

/// The error for input that is no capture: its first bytes, and what they look like (a HAR file, a
/// log) when that can be told from the first 256 bytes.
fn not_a_capture<R: Read>(input: &mut R, mut prefix: Vec<u8>) -> CaptureError {
    // A read error here only loses the guess; the error is about the bytes already seen.
    read_at_least(input, &mut prefix, 256).ok();
    CaptureError::NotACapture {
        start: hex(prefix.get(..16).unwrap_or(&prefix)),
        what: super::open::guess_what_it_is(&prefix).to_string(),
    }
}

fn hex(b: &[u8]) -> String {
    b.iter()
        .map(|x| format!("{x:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A reader that serves already-read bytes first, then the rest of the input.
struct PrefixRead<R> {
    prefix: Vec<u8>,
    pos: usize,
    inner: R,
}

impl<R: Read> Read for PrefixRead<R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        if let Some(rest) = self.prefix.get(self.pos..) {
            if !rest.is_empty() {
                let n = rest.len().min(out.len());
                out[..n].copy_from_slice(&rest[..n]);
                self.pos += n;
                return Ok(n);
            }
        }
        loop {
            match self.inner.read(out) {
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                other => return other,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A little-endian Section Header Block (28 bytes: type, length, byte-order magic, version
    /// 1.0, section length -1, length again).
    fn shb_le() -> Vec<u8> {
        let mut b = Vec::new();
        b.extend(0x0A0D_0D0Au32.to_le_bytes());
        b.extend(28u32.to_le_bytes());
        b.extend(0x1A2B_3C4Du32.to_le_bytes());
        b.extend(1u16.to_le_bytes());
        b.extend(0u16.to_le_bytes());
        b.extend((-1i64).to_le_bytes());
        b.extend(28u32.to_le_bytes());
        b
    }

    /// Found by the `annotate` fuzz target (crash-9b3a62a2…): a Process Information Block
    /// (type 0x80000001) whose total length (4) is under the 12 bytes of any block made
    /// pcap-parser 0.17.0 subtract past zero and panic. It is a corrupt container now.
    #[test]
    fn a_pcapng_block_shorter_than_twelve_bytes_is_corrupt_not_a_panic() {
        let mut file = shb_le();
        file.extend(0x8000_0001u32.to_le_bytes());
        file.extend(4u32.to_le_bytes());
        file.extend([0u8; 16]);
        let mut r = CaptureReader::new(&file[..]).unwrap();
        match r.next_packet() {
            Err(CaptureError::Corrupt {
                after_frame,
                detail,
            }) => {
                assert_eq!(after_frame, 0);
                assert_eq!(
                    detail,
                    "a pcapng block 4 bytes long, shorter than the 12 bytes of its type and two lengths"
                );
            }
            other => panic!("{:?}", other.map(|p| p.map(|p| p.data.len()))),
        }
    }

    #[test]
    fn short_block_lengths_are_read_in_the_sections_byte_order() {
        assert_eq!(short_ng_block(&[1, 0, 0, 0x80, 4, 0, 0, 0], false), Some(4));
        assert_eq!(short_ng_block(&[0x80, 0, 0, 1, 0, 0, 0, 4], true), Some(4));
        assert_eq!(short_ng_block(&[6, 0, 0, 0, 12, 0, 0, 0], false), None);
        assert_eq!(short_ng_block(&[6, 0, 0, 0, 12, 0], false), None);
    }
}
