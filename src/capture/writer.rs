//! Writing captures: a pcapng writer and synthesized Ethernet/IP/TCP packets, so that bytes seen
//! by the live proxy (or re-chunked in tests) can be saved as a capture that sioscope, tshark and
//! Wireshark all open.
//!
//! pcapng layout written here (pcapng spec, draft-ietf-opsawg-pcapng): one Section Header Block
//! (type `0x0A0D0D0A`, byte-order magic `0x1A2B3C4D`, version 1.0, section length -1), one
//! Interface Description Block per interface (type 1; `new` declares link type 1 = Ethernet;
//! snap length 0 = unlimited, option `if_tsresol` = 9, nanoseconds), then one Enhanced Packet Block (type 6) per packet, with an
//! optional `opt_comment` (code 1) — used to mark injected faults. Every block is padded to 32 bits
//! and ends with its total length again.

use std::io::{self, Write};
use std::net::SocketAddr;

use etherparse::{PacketBuilder, TcpHeader};

use super::link::TcpFlags;
use crate::event::Timestamp;

/// The largest TCP payload one synthesized packet can carry: an IPv4 total length of 65 535 less
/// a 20-byte IP header and a 20-byte TCP header (no options). Longer payloads must be split by the
/// caller (with advancing sequence numbers); [`synth_packet`] cuts them at this length.
pub const MAX_SEGMENT: usize = 65_495;

/// Builds one Ethernet II + IPv4/IPv6 + TCP packet. Addresses of different families are not
/// mixed (the destination family wins on mismatch, with a zero source).
pub fn synth_packet(
    src: SocketAddr,
    dst: SocketAddr,
    seq: u32,
    ack: Option<u32>,
    flags: TcpFlags,
    payload: &[u8],
) -> Vec<u8> {
    let mut tcp = TcpHeader::new(src.port(), dst.port(), seq, 65_535);
    tcp.syn = flags.syn;
    tcp.fin = flags.fin;
    tcp.rst = flags.rst;
    tcp.psh = !payload.is_empty();
    if let Some(a) = ack {
        tcp.ack = true;
        tcp.acknowledgment_number = a;
    }
    let eth = PacketBuilder::ethernet2([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2]);
    let payload = payload.get(..MAX_SEGMENT).unwrap_or(payload);
    let mut out = Vec::with_capacity(payload.len() + 80);
    let res = match (src.ip(), dst.ip()) {
        (std::net::IpAddr::V4(s), std::net::IpAddr::V4(d)) => eth
            .ipv4(s.octets(), d.octets(), 64)
            .tcp_header(tcp)
            .write(&mut out, payload),
        (s, std::net::IpAddr::V6(d)) => {
            let s6 = match s {
                std::net::IpAddr::V6(s) => s.octets(),
                std::net::IpAddr::V4(s) => s.to_ipv6_mapped().octets(),
            };
            eth.ipv6(s6, d.octets(), 64)
                .tcp_header(tcp)
                .write(&mut out, payload)
        }
        (std::net::IpAddr::V6(_), std::net::IpAddr::V4(d)) => eth
            .ipv4([0, 0, 0, 0], d.octets(), 64)
            .tcp_header(tcp)
            .write(&mut out, payload),
    };
    if res.is_err() {
        out.clear();
    }
    out
}

/// Writes a pcapng capture with one Ethernet interface and nanosecond timestamps.
pub struct PcapNgWriter<W: Write> {
    out: W,
    /// Interfaces declared so far.
    interfaces: u32,
}

fn pad4(n: usize) -> usize {
    (4 - n % 4) % 4
}

impl<W: Write> PcapNgWriter<W> {
    /// Writes the section header and one Ethernet interface (id 0) with nanosecond timestamps.
    pub fn new(out: W) -> io::Result<Self> {
        let mut w = Self::section(out)?;
        w.interface(1)?;
        Ok(w)
    }

    /// Writes a Section Header Block only; declare interfaces with [`PcapNgWriter::interface`]
    /// before writing packets on them.
    pub fn section(mut out: W) -> io::Result<Self> {
        // Section Header Block: type, length 28, BOM, major 1, minor 0, section length -1, length.
        let mut shb = Vec::with_capacity(28);
        shb.extend_from_slice(&0x0A0D_0D0Au32.to_le_bytes());
        shb.extend_from_slice(&28u32.to_le_bytes());
        shb.extend_from_slice(&0x1A2B_3C4Du32.to_le_bytes());
        shb.extend_from_slice(&1u16.to_le_bytes());
        shb.extend_from_slice(&0u16.to_le_bytes());
        shb.extend_from_slice(&(-1i64).to_le_bytes());
        shb.extend_from_slice(&28u32.to_le_bytes());
        out.write_all(&shb)?;
        Ok(PcapNgWriter { out, interfaces: 0 })
    }

    /// Declares the next interface (ids count from 0) with this link type, snap length 0
    /// (unlimited) and nanosecond timestamps; returns its id.
    pub fn interface(&mut self, linktype: u16) -> io::Result<u32> {
        // Interface Description Block: link type, snaplen 0, if_tsresol (9) = 9, opt_endofopt.
        let mut idb = Vec::with_capacity(32);
        idb.extend_from_slice(&1u32.to_le_bytes());
        idb.extend_from_slice(&32u32.to_le_bytes());
        idb.extend_from_slice(&linktype.to_le_bytes());
        idb.extend_from_slice(&0u16.to_le_bytes());
        idb.extend_from_slice(&0u32.to_le_bytes());
        idb.extend_from_slice(&9u16.to_le_bytes());
        idb.extend_from_slice(&1u16.to_le_bytes());
        idb.extend_from_slice(&[9, 0, 0, 0]);
        idb.extend_from_slice(&0u32.to_le_bytes());
        idb.extend_from_slice(&32u32.to_le_bytes());
        self.out.write_all(&idb)?;
        self.interfaces += 1;
        Ok(self.interfaces - 1)
    }

    /// Writes one packet, with an optional comment (shown by Wireshark as `pkt_comment`).
    pub fn packet(&mut self, ts: Timestamp, data: &[u8], comment: Option<&str>) -> io::Result<()> {
        let len = u32::try_from(data.len())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "packet too large"))?;
        self.packet_on(0, ts, data, len, comment)
    }

    /// Writes one packet on interface `iface`, keeping its original length on the wire
    /// (`orig_len` ≥ the captured bytes when the capture was cut at a snap length). A comment
    /// that is empty or 60 000 bytes or longer is left out.
    pub fn packet_on(
        &mut self,
        iface: u32,
        ts: Timestamp,
        data: &[u8],
        orig_len: u32,
        comment: Option<&str>,
    ) -> io::Result<()> {
        let comment = comment
            .map(str::as_bytes)
            .filter(|c| !c.is_empty() && c.len() < 60_000);
        let opts_len = comment.map_or(0, |c| 4 + c.len() + pad4(c.len()) + 4);
        let total = 28 + data.len() + pad4(data.len()) + opts_len + 4;
        let total32 = u32::try_from(total)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "packet too large"))?;
        let caplen = u32::try_from(data.len())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "packet too large"))?;
        let mut b = Vec::with_capacity(total);
        b.extend_from_slice(&6u32.to_le_bytes());
        b.extend_from_slice(&total32.to_le_bytes());
        b.extend_from_slice(&iface.to_le_bytes());
        b.extend_from_slice(&((ts.0 >> 32) as u32).to_le_bytes());
        b.extend_from_slice(&(ts.0 as u32).to_le_bytes());
        b.extend_from_slice(&caplen.to_le_bytes());
        b.extend_from_slice(&orig_len.max(caplen).to_le_bytes());
        b.extend_from_slice(data);
        b.extend(std::iter::repeat_n(0u8, pad4(data.len())));
        if let Some(c) = comment {
            b.extend_from_slice(&1u16.to_le_bytes());
            b.extend_from_slice(&(c.len() as u16).to_le_bytes());
            b.extend_from_slice(c);
            b.extend(std::iter::repeat_n(0u8, pad4(c.len())));
            b.extend_from_slice(&0u32.to_le_bytes());
        }
        b.extend_from_slice(&total32.to_le_bytes());
        self.out.write_all(&b)
    }

    /// Flushes the output.
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    /// Gives back the output.
    pub fn into_inner(self) -> W {
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::{link, CaptureFormat, CaptureReader};

    #[test]
    fn written_capture_reads_back_with_the_same_segments() {
        let mut w = PcapNgWriter::new(Vec::new()).unwrap();
        let c: SocketAddr = "127.0.0.1:40000".parse().unwrap();
        let s: SocketAddr = "[::1]:3000".parse().unwrap();
        let c6: SocketAddr = "[::1]:40000".parse().unwrap();
        let syn = TcpFlags {
            syn: true,
            ..TcpFlags::default()
        };
        w.packet(
            Timestamp(1_700_000_000_123_456_789),
            &synth_packet(c, "127.0.0.1:3000".parse().unwrap(), 7, None, syn, b""),
            None,
        )
        .unwrap();
        w.packet(
            Timestamp(1_700_000_000_223_456_789),
            &synth_packet(c6, s, 8, Some(1), TcpFlags::default(), b"GET /"),
            Some("injected: test"),
        )
        .unwrap();
        let bytes = w.into_inner();
        let mut r = CaptureReader::new(&bytes[..]).unwrap();
        assert_eq!(r.format(), CaptureFormat::PcapNg);
        let p1 = r.next_packet().unwrap().unwrap();
        assert_eq!(p1.ts, Timestamp(1_700_000_000_123_456_789));
        let seg = link::parse_tcp(&p1).unwrap();
        assert!(seg.flags.syn);
        assert_eq!(seg.seq, 7);
        let p2 = r.next_packet().unwrap().unwrap();
        let seg = link::parse_tcp(&p2).unwrap();
        assert_eq!(seg.payload, b"GET /");
        assert_eq!(seg.dst, s);
        assert!(r.next_packet().unwrap().is_none());
    }
}
