//! Every link type and container variant the reader claims decodes a real capture the same:
//! the Ethernet frames of a fixture are re-wrapped as Linux SLL, SLL2, BSD NULL, OpenBSD LOOP,
//! raw IP, and 802.1Q VLAN-tagged Ethernet, written as little- and big-endian pcap with micro- and
//! nanosecond timestamps, and as pcapng; and fed through stdin. The Socket.IO events must match.

use std::io::Write;
use std::process::{Command, Stdio};

use sioscope::capture::CaptureReader;
use sioscope::event::{Body, Event};

use crate::common::{decode, decode_bytes, root};

const FIXTURE: &str = "fixtures/pcap/v4-binary-acks.pcap";

/// (timestamp ns, Ethernet frame) of every packet of the fixture.
fn frames() -> Vec<(u64, Vec<u8>)> {
    let bytes = std::fs::read(root().join(FIXTURE)).expect("fixture");
    let mut r = CaptureReader::new(&bytes[..]).expect("reader");
    let mut v = vec![];
    while let Some(p) = r.next_packet().expect("packet") {
        assert_eq!(p.linktype, 1, "the fixture is Ethernet");
        v.push((p.ts.0, p.data.to_vec()));
    }
    v
}

/// Rewrites an Ethernet frame for another link type.
fn rewrap(linktype: u32, eth: &[u8]) -> Vec<u8> {
    let ethertype = [eth[12], eth[13]];
    let ip = &eth[14..];
    let is_v6 = ethertype == [0x86, 0xdd];
    match linktype {
        113 => {
            // SLL: packet type, ARPHRD, addr len, addr (8), protocol
            let mut v = vec![0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0];
            v.extend_from_slice(&ethertype);
            v.extend_from_slice(ip);
            v
        }
        276 => {
            // SLL2: protocol, reserved, ifindex, ARPHRD, packet type, addr len, addr (8)
            let mut v = ethertype.to_vec();
            v.extend_from_slice(&[0, 0, 0, 0, 0, 1, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0]);
            v.extend_from_slice(ip);
            v
        }
        0 => {
            let fam: u32 = if is_v6 { 30 } else { 2 };
            let mut v = fam.to_le_bytes().to_vec();
            v.extend_from_slice(ip);
            v
        }
        108 => {
            let fam: u32 = if is_v6 { 24 } else { 2 };
            let mut v = fam.to_be_bytes().to_vec();
            v.extend_from_slice(ip);
            v
        }
        101 => ip.to_vec(),
        1 => {
            // add an 802.1Q tag (VLAN 42)
            let mut v = eth[..12].to_vec();
            v.extend_from_slice(&[0x81, 0x00, 0x00, 42]);
            v.extend_from_slice(&eth[12..]);
            v
        }
        other => panic!("link type {other}"),
    }
}

/// A classic pcap file.
fn pcap(linktype: u32, big_endian: bool, nanos: bool, packets: &[(u64, Vec<u8>)]) -> Vec<u8> {
    let u32b = |x: u32| {
        if big_endian {
            x.to_be_bytes()
        } else {
            x.to_le_bytes()
        }
    };
    let u16b = |x: u16| {
        if big_endian {
            x.to_be_bytes()
        } else {
            x.to_le_bytes()
        }
    };
    let mut out = vec![];
    out.extend_from_slice(&u32b(if nanos { 0xa1b2_3c4d } else { 0xa1b2_c3d4 }));
    out.extend_from_slice(&u16b(2));
    out.extend_from_slice(&u16b(4));
    out.extend_from_slice(&u32b(0));
    out.extend_from_slice(&u32b(0));
    out.extend_from_slice(&u32b(262_144));
    out.extend_from_slice(&u32b(linktype));
    for (ts, data) in packets {
        let frac = if nanos {
            ts % 1_000_000_000
        } else {
            ts % 1_000_000_000 / 1000
        };
        out.extend_from_slice(&u32b((ts / 1_000_000_000) as u32));
        out.extend_from_slice(&u32b(frac as u32));
        out.extend_from_slice(&u32b(data.len() as u32));
        out.extend_from_slice(&u32b(data.len() as u32));
        out.extend_from_slice(data);
    }
    out
}

/// The Socket.IO events and their frames and timestamps (to microseconds), in order.
fn sio(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .filter(|e| matches!(e.body, Body::Sio { .. }))
        .map(|e| {
            format!(
                "#{} {} {} {:?}",
                e.frame,
                e.ts.0 / 1000,
                e.conn.0,
                serde_json::to_string(&e.body).unwrap_or_default()
            )
        })
        .collect()
}

#[test]
fn every_link_type_and_container_decodes_the_same() {
    let want = sio(&decode(&root().join(FIXTURE)));
    assert!(want.len() > 10);
    let frames = frames();
    for linktype in [113u32, 276, 0, 108, 101, 1] {
        let packets: Vec<(u64, Vec<u8>)> = frames
            .iter()
            .map(|(ts, f)| (*ts, rewrap(linktype, f)))
            .collect();
        for (big, nanos) in [(false, false), (true, false), (false, true), (true, true)] {
            let got = sio(&decode_bytes(&pcap(linktype, big, nanos, &packets)));
            assert_eq!(
                got, want,
                "link type {linktype}, big-endian {big}, ns {nanos}"
            );
        }
    }
    // pcapng (nanosecond resolution, Ethernet)
    let mut w = sioscope::capture::writer::PcapNgWriter::new(Vec::new()).expect("pcapng");
    for (ts, f) in &frames {
        w.packet(sioscope::event::Timestamp(*ts), f, None)
            .expect("write");
    }
    assert_eq!(sio(&decode_bytes(&w.into_inner())), want, "pcapng");
}

#[test]
fn stdin_is_read_like_a_file() {
    let bytes = std::fs::read(root().join(FIXTURE)).expect("fixture");
    let mut child = Command::new(env!("CARGO_BIN_EXE_sioscope"))
        .args(["decode", "--format", "ndjson", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut stdin = child.stdin.take().expect("stdin");
    // Write in small pieces, as tcpdump -w - does.
    let writer = std::thread::spawn(move || {
        for chunk in bytes.chunks(997) {
            if stdin.write_all(chunk).is_err() {
                break;
            }
        }
    });
    let out = child.wait_with_output().expect("output");
    writer.join().expect("writer");
    assert_eq!(out.status.code(), Some(0));
    let from_file = crate::common::sioscope(&["decode", "--format", "ndjson", FIXTURE]);
    assert_eq!(out.stdout, from_file.stdout);
}
