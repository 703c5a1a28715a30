//! From a captured packet's bytes to a TCP segment: link layer, IP, TCP.
//!
//! Link types handled (numbers from the tcpdump link-type registry):
//! `0` NULL (BSD loopback: a 4-byte address family in the capturing host's byte order), `108` LOOP
//! (the same, big-endian), `1` Ethernet (802.1Q/802.1ad VLAN tags skipped), `113` Linux SLL (a
//! 16-byte header whose last 2 bytes are the EtherType), `276` Linux SLL2 (a 20-byte header whose
//! first 2 bytes are the EtherType), `101`/`12`/`14`/`228`/`229` raw IP.
//!
//! Slicing is lax: a packet cut short by the snap length still yields the TCP bytes that were
//! captured, and says how many are missing, so that reassembly can flag the gap.

use std::net::{IpAddr, SocketAddr};

use etherparse::{
    EtherType, Ethernet2Slice, IpNumber, Ipv4Slice, LaxNetSlice, LaxSlicedPacket, TcpSlice,
    TransportSlice,
};

use super::reader::Packet;

/// The TCP flags sioscope cares about.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TcpFlags {
    /// SYN.
    pub syn: bool,
    /// ACK.
    pub ack: bool,
    /// FIN.
    pub fin: bool,
    /// RST.
    pub rst: bool,
}

/// One TCP segment from one packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcpSegment<'a> {
    /// Sender.
    pub src: SocketAddr,
    /// Receiver.
    pub dst: SocketAddr,
    /// Sequence number of the first payload byte (or of the SYN/FIN).
    pub seq: u32,
    /// Flags.
    pub flags: TcpFlags,
    /// The payload bytes that were captured.
    pub payload: &'a [u8],
    /// Payload bytes that were on the wire but not captured (snap length).
    pub missing: usize,
}

/// Why a packet yields no TCP segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotTcp {
    /// A link type this reader does not decode.
    UnknownLinkType(i32),
    /// Another protocol (ARP, UDP, ICMP, ...): silently skipped.
    Other,
    /// An IP fragment: reassembling IP fragments is not supported.
    Fragment,
    /// The headers are cut short or malformed.
    Malformed(String),
}

/// Slices a captured packet down to its TCP segment.
pub fn parse_tcp<'a>(pkt: &Packet<'a>) -> Result<TcpSegment<'a>, NotTcp> {
    if pkt.linktype == 1 {
        if let Some(seg) = ethernet_ipv4_tcp(pkt.data) {
            return Ok(seg);
        }
    }
    parse_tcp_lax(pkt)
}

/// The common case, without the lax slicer: an Ethernet frame (no VLAN tag) of a whole,
/// unfragmented IPv4 packet (no extension header) whose payload is a whole TCP header and its
/// data, cut at the IPv4 total length (Ethernet padding dropped). Anything else (VLAN, IPv6, a
/// packet cut short by the snap length, a fragment, a malformed length) is `None` and goes to
/// [`parse_tcp_lax`], which gives the same segment for every packet this one takes (the
/// proptest below pins it): the lax slicer builds every layer's view of every packet, about
/// 500 instructions a packet, 7 % of the reading thread on the bench capture.
fn ethernet_ipv4_tcp(data: &[u8]) -> Option<TcpSegment<'_>> {
    let eth = Ethernet2Slice::from_slice_without_fcs(data).ok()?;
    if eth.ether_type() != EtherType::IPV4 {
        return None;
    }
    let ip = Ipv4Slice::from_slice(eth.payload_slice()).ok()?;
    let h = ip.header();
    if h.protocol() != IpNumber::TCP || ip.is_payload_fragmented() {
        return None;
    }
    let tcp = TcpSlice::from_slice(ip.payload().payload).ok()?;
    Some(segment(
        IpAddr::V4(h.source_addr()),
        IpAddr::V4(h.destination_addr()),
        &tcp,
        0,
    ))
}

/// The segment of a sliced TCP header between two addresses, `missing` bytes not captured.
fn segment<'a>(src: IpAddr, dst: IpAddr, tcp: &TcpSlice<'a>, missing: usize) -> TcpSegment<'a> {
    TcpSegment {
        src: SocketAddr::new(src, tcp.source_port()),
        dst: SocketAddr::new(dst, tcp.destination_port()),
        seq: tcp.sequence_number(),
        flags: TcpFlags {
            syn: tcp.syn(),
            ack: tcp.ack(),
            fin: tcp.fin(),
            rst: tcp.rst(),
        },
        payload: tcp.payload(),
        missing,
    }
}

/// Every link type, every cut and malformed packet: the lax slicer's reading.
fn parse_tcp_lax<'a>(pkt: &Packet<'a>) -> Result<TcpSegment<'a>, NotTcp> {
    let data = pkt.data;
    let sliced = match pkt.linktype {
        1 => LaxSlicedPacket::from_ethernet(data).map_err(|e| NotTcp::Malformed(e.to_string()))?,
        0 | 108 => {
            let fam = data
                .get(..4)
                .ok_or_else(|| NotTcp::Malformed("loopback header cut short".into()))?;
            let fam = [fam[0], fam[1], fam[2], fam[3]];
            // NULL stores the family in the capturing host's byte order; try both. AF_INET is 2
            // everywhere; AF_INET6 is 10 (Linux), 24 (NetBSD/OpenBSD), 28 (FreeBSD), 30 (macOS).
            let fam = if pkt.linktype == 108 {
                u32::from_be_bytes(fam)
            } else {
                let le = u32::from_le_bytes(fam);
                if le > 0xffff {
                    u32::from_be_bytes(fam)
                } else {
                    le
                }
            };
            let rest = data.get(4..).unwrap_or(&[]);
            match fam {
                2 => LaxSlicedPacket::from_ether_type(EtherType::IPV4, rest),
                10 | 24 | 28 | 30 => LaxSlicedPacket::from_ether_type(EtherType::IPV6, rest),
                _ => return Err(NotTcp::Other),
            }
        }
        113 => {
            let et = data
                .get(14..16)
                .ok_or_else(|| NotTcp::Malformed("SLL header cut short".into()))?;
            let et = EtherType(u16::from_be_bytes([et[0], et[1]]));
            LaxSlicedPacket::from_ether_type(et, data.get(16..).unwrap_or(&[]))
        }
        276 => {
            let et = data
                .get(0..2)
                .ok_or_else(|| NotTcp::Malformed("SLL2 header cut short".into()))?;
            let et = EtherType(u16::from_be_bytes([et[0], et[1]]));
            if data.len() < 20 {
                return Err(NotTcp::Malformed("SLL2 header cut short".into()));
            }
            LaxSlicedPacket::from_ether_type(et, data.get(20..).unwrap_or(&[]))
        }
        101 | 12 | 14 | 228 | 229 => {
            LaxSlicedPacket::from_ip(data).map_err(|e| NotTcp::Malformed(e.to_string()))?
        }
        other => return Err(NotTcp::UnknownLinkType(other)),
    };
    let (src_ip, dst_ip, fragmented, incomplete): (IpAddr, IpAddr, bool, bool) = match &sliced.net {
        Some(LaxNetSlice::Ipv4(v4)) => {
            let h = v4.header();
            (
                IpAddr::V4(h.source_addr()),
                IpAddr::V4(h.destination_addr()),
                v4.payload().fragmented,
                v4.payload().incomplete,
            )
        }
        Some(LaxNetSlice::Ipv6(v6)) => {
            let h = v6.header();
            (
                IpAddr::V6(h.source_addr()),
                IpAddr::V6(h.destination_addr()),
                v6.payload().fragmented,
                v6.payload().incomplete,
            )
        }
        Some(LaxNetSlice::Arp(_)) => return Err(NotTcp::Other),
        None => {
            return Err(match sliced.stop_err {
                Some((e, _)) => NotTcp::Malformed(e.to_string()),
                None => NotTcp::Other,
            })
        }
    };
    if fragmented {
        return Err(NotTcp::Fragment);
    }
    let tcp = match &sliced.transport {
        Some(TransportSlice::Tcp(tcp)) => tcp,
        Some(_) => return Err(NotTcp::Other),
        None => {
            return Err(match sliced.stop_err {
                Some((e, _)) => NotTcp::Malformed(e.to_string()),
                None => NotTcp::Other,
            })
        }
    };
    let missing = if incomplete {
        (pkt.orig_len as usize).saturating_sub(data.len())
    } else {
        0
    };
    Ok(segment(src_ip, dst_ip, tcp, missing))
}

/// A readable name for a link type number.
pub fn linktype_name(lt: i32) -> String {
    match lt {
        0 => "BSD loopback".into(),
        1 => "Ethernet".into(),
        108 => "OpenBSD loopback".into(),
        101 | 12 | 14 | 228 | 229 => "raw IP".into(),
        113 => "Linux cooked (SLL)".into(),
        276 => "Linux cooked v2 (SLL2)".into(),
        other => format!("link type {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Timestamp;
    use proptest::prelude::*;

    /// An Ethernet frame of an IPv4 packet carrying a TCP segment with `payload`, as a
    /// capture holds it (header fields written by hand, checksums left zero: nothing reads
    /// them).
    fn frame(payload: &[u8]) -> Vec<u8> {
        let mut f = vec![0u8; 12];
        f.extend([0x08, 0x00]);
        let total = 20 + 20 + payload.len();
        f.extend([
            0x45,
            0,
            (total >> 8) as u8,
            total as u8,
            0,
            1,
            0x40,
            0,
            64,
            6,
            0,
            0,
        ]);
        f.extend([127, 0, 0, 1, 127, 0, 0, 2]);
        f.extend([
            0xc3, 0x50, 0x0b, 0xb8, 0, 0, 0, 7, 0, 0, 0, 0, 0x50, 0x18, 0xff, 0xff,
        ]);
        f.extend([0, 0, 0, 0]);
        f.extend(payload);
        f
    }

    fn packet(data: &[u8], orig_len: u32) -> Packet<'_> {
        Packet {
            frame: 1,
            ts: Timestamp(0),
            linktype: 1,
            data,
            orig_len,
            comment: None,
        }
    }

    #[test]
    fn an_ethernet_ipv4_tcp_frame_takes_the_direct_path_and_drops_the_padding() {
        let mut f = frame(b"GET");
        f.extend([0u8; 6]); // Ethernet padding to the 60-byte minimum
        let seg = ethernet_ipv4_tcp(&f).expect("the common case");
        assert_eq!(seg.payload, b"GET");
        assert_eq!(seg.src.to_string(), "127.0.0.1:50000");
        assert_eq!(seg.dst.to_string(), "127.0.0.2:3000");
        assert_eq!(seg.seq, 7);
        assert!(seg.flags.ack && !seg.flags.syn && !seg.flags.fin && !seg.flags.rst);
        let len = f.len() as u32;
        assert_eq!(parse_tcp_lax(&packet(&f, len)), Ok(seg));
    }

    #[test]
    fn a_frame_cut_by_the_snap_length_is_left_to_the_lax_path() {
        let f = frame(&[b'x'; 100]);
        let cut = f.get(..80).unwrap_or_default();
        assert_eq!(ethernet_ipv4_tcp(cut), None);
        let seg = parse_tcp(&packet(cut, f.len() as u32)).expect("lax slicing");
        assert_eq!(seg.missing, 74);
    }

    proptest! {
        /// Whatever the header bytes say (each of the frame's first 70 bytes may be changed,
        /// the frame cut or padded), a packet the direct path takes gives the lax slicer's
        /// segment, byte for byte.
        #[test]
        fn the_direct_path_agrees_with_the_lax_slicer(
            payload in proptest::collection::vec(any::<u8>(), 0..64),
            edits in proptest::collection::vec((0usize..70, any::<u8>()), 0..4),
            cut in 0usize..200,
            pad in 0usize..8,
        ) {
            let mut f = frame(&payload);
            for (at, b) in edits {
                if let Some(x) = f.get_mut(at) {
                    *x = b;
                }
            }
            f.extend(std::iter::repeat_n(0u8, pad));
            let orig = f.len() as u32;
            f.truncate(cut.max(1));
            if let Some(seg) = ethernet_ipv4_tcp(&f) {
                prop_assert_eq!(parse_tcp_lax(&packet(&f, orig)), Ok(seg));
            }
        }
    }
}
