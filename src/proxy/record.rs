//! `--record`: what passed through the proxy, written as a pcapng capture.
//!
//! The proxy sees byte streams, not packets, so the recording synthesizes them
//! ([`crate::capture::writer::synth_packet`]): per connection a three-way handshake at open
//! (SYN, SYN-ACK, ACK: RFC 9293 §3.5), one packet per forwarded chunk (split at
//! [`MAX_SEGMENT`] bytes), a FIN or RST per direction at close, all between the client's real
//! address and the upstream's. Sequence numbers follow RFC 9293 §3.4: each direction starts at an
//! initial sequence number (ISN), "the first data octet is ISN+1", a byte's sequence number is
//! ISN + 1 + its stream offset (mod 2³²), and the FIN takes one number. Acknowledgment numbers
//! acknowledge what the other direction has sent so far. Faults are packet comments
//! (`opt_comment`). The result opens in `sioscope decode`/`explain`, tshark and Wireshark, and
//! decodes to the same events as the live view because the live decoder is fed the same packets
//! with the same frame numbers.

use std::collections::HashMap;
use std::io::{self, Write};
use std::net::SocketAddr;

use super::note::Note;
use crate::capture::link::TcpFlags;
use crate::capture::writer::{synth_packet, PcapNgWriter, MAX_SEGMENT};
use crate::event::{Dir, Timestamp};

#[derive(Debug)]
struct RecConn {
    client: SocketAddr,
    server: SocketAddr,
    /// ISN per direction (c2s, s2c).
    isn: [u32; 2],
    /// Next stream offset per direction.
    next: [u64; 2],
    /// FIN sent per direction.
    fin: [bool; 2],
    /// The last packet written for this connection.
    last: u64,
}

impl RecConn {
    fn seq(&self, d: Dir, offset: u64) -> u32 {
        let isn = self.isn.get(d.index()).copied().unwrap_or(0);
        isn.wrapping_add(1).wrapping_add(offset as u32)
    }
    /// What `d`'s sender acknowledges: everything the other direction sent.
    fn ack(&self, d: Dir) -> u32 {
        let o = d.flip();
        let next = self.next.get(o.index()).copied().unwrap_or(0);
        let fin = u64::from(self.fin.get(o.index()).copied().unwrap_or(false));
        self.seq(o, next + fin)
    }
    fn ends(&self, d: Dir) -> (SocketAddr, SocketAddr) {
        match d {
            Dir::C2S => (self.client, self.server),
            Dir::S2C => (self.server, self.client),
        }
    }
}

/// Frame numbers the recording gave a note: one per packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frames {
    /// The note wrote nothing (unknown connection).
    None,
    /// One packet (or the first of a handshake).
    One(u64),
    /// Data split into packets: `(frame, index of the first byte within the note's bytes)`.
    Pieces(Vec<(u64, usize)>),
}

/// Writes notes as packets of a pcapng capture.
pub struct Recorder<W: Write> {
    out: PcapNgWriter<W>,
    conns: HashMap<u64, RecConn>,
    frame: u64,
}

impl<W: Write> Recorder<W> {
    /// Starts a capture on `out` (the pcapng headers are written now).
    pub fn new(out: W) -> io::Result<Self> {
        Ok(Recorder {
            out: PcapNgWriter::new(out)?,
            conns: HashMap::new(),
            frame: 0,
        })
    }

    /// Packets written so far.
    pub fn frames(&self) -> u64 {
        self.frame
    }

    fn put(
        &mut self,
        conn: u64,
        ts: Timestamp,
        pkt: &[u8],
        comment: Option<&str>,
    ) -> io::Result<u64> {
        self.out.packet(ts, pkt, comment)?;
        self.frame += 1;
        if let Some(c) = self.conns.get_mut(&conn) {
            c.last = self.frame;
        }
        Ok(self.frame)
    }

    fn flags(syn: bool, fin: bool, rst: bool) -> TcpFlags {
        TcpFlags {
            syn,
            fin,
            rst,
            ..TcpFlags::default()
        }
    }

    /// Writes what a note shows and says which frames it became.
    pub fn note(&mut self, n: &Note) -> io::Result<Frames> {
        match n {
            Note::Open {
                conn,
                client,
                server,
                ts,
            } => {
                // Distinct, deterministic ISNs per connection (any value is valid).
                let c = *conn as u32;
                let rc = RecConn {
                    client: *client,
                    server: *server,
                    isn: [
                        c.wrapping_mul(0x9E37_79B9).wrapping_add(1000),
                        c.wrapping_mul(0x85EB_CA6B).wrapping_add(5000),
                    ],
                    next: [0, 0],
                    fin: [false, false],
                    last: 0,
                };
                let [ic, is] = rc.isn;
                let syn = synth_packet(
                    *client,
                    *server,
                    ic,
                    None,
                    Self::flags(true, false, false),
                    b"",
                );
                let synack = synth_packet(
                    *server,
                    *client,
                    is,
                    Some(ic.wrapping_add(1)),
                    Self::flags(true, false, false),
                    b"",
                );
                let ack = synth_packet(
                    *client,
                    *server,
                    ic.wrapping_add(1),
                    Some(is.wrapping_add(1)),
                    Self::flags(false, false, false),
                    b"",
                );
                self.conns.insert(*conn, rc);
                let first = self.put(*conn, *ts, &syn, None)?;
                self.put(*conn, *ts, &synack, None)?;
                self.put(*conn, *ts, &ack, None)?;
                Ok(Frames::One(first))
            }
            Note::Data {
                conn,
                dir,
                offset,
                bytes,
                ts,
                comment,
            } => {
                let Some(rc) = self.conns.get(conn) else {
                    return Ok(Frames::None);
                };
                let (src, dst) = rc.ends(*dir);
                let ack = rc.ack(*dir);
                let first_seq = rc.seq(*dir, *offset);
                let mut pieces = vec![];
                let mut at = 0usize;
                // Bounded: each turn writes at least one byte (bytes is not empty) or stops.
                for piece in bytes.chunks(MAX_SEGMENT) {
                    // Sequence numbers are modulo 2^32 (RFC 9293 §3.4).
                    let seq = first_seq.wrapping_add(at as u32);
                    let pkt = synth_packet(
                        src,
                        dst,
                        seq,
                        Some(ack),
                        Self::flags(false, false, false),
                        piece,
                    );
                    let c = if at == 0 { comment.as_deref() } else { None };
                    let frame = self.put(*conn, *ts, &pkt, c)?;
                    pieces.push((frame, at));
                    at += piece.len();
                }
                if let Some(rc) = self.conns.get_mut(conn) {
                    if let Some(n) = rc.next.get_mut(dir.index()) {
                        *n = (*n).max(offset + bytes.len() as u64);
                    }
                }
                Ok(Frames::Pieces(pieces))
            }
            Note::Injected {
                conn,
                dir,
                offset,
                ts,
                comment,
            } => {
                let Some(rc) = self.conns.get(conn) else {
                    return Ok(Frames::None);
                };
                let (src, dst) = rc.ends(*dir);
                let pkt = synth_packet(
                    src,
                    dst,
                    rc.seq(*dir, *offset),
                    Some(rc.ack(*dir)),
                    Self::flags(false, false, false),
                    b"",
                );
                Ok(Frames::One(self.put(*conn, *ts, &pkt, Some(comment))?))
            }
            Note::Fin {
                conn,
                dir,
                offset,
                ts,
            }
            | Note::Rst {
                conn,
                dir,
                offset,
                ts,
            } => {
                let rst = matches!(n, Note::Rst { .. });
                let Some(rc) = self.conns.get_mut(conn) else {
                    return Ok(Frames::None);
                };
                let (src, dst) = rc.ends(*dir);
                let seq = rc.seq(*dir, *offset);
                let ack = rc.ack(*dir);
                if !rst {
                    if let Some(f) = rc.fin.get_mut(dir.index()) {
                        *f = true;
                    }
                }
                let pkt =
                    synth_packet(src, dst, seq, Some(ack), Self::flags(false, !rst, rst), b"");
                Ok(Frames::One(self.put(*conn, *ts, &pkt, None)?))
            }
            Note::Close { conn, .. } => {
                // Like capture replay: a connection closes at its last packet.
                Ok(self
                    .conns
                    .remove(conn)
                    .map_or(Frames::None, |c| Frames::One(c.last)))
            }
            Note::Failed { .. } => Ok(Frames::None),
        }
    }

    /// Flushes what was written.
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::{replay, ReplayOptions};
    use crate::event::{Body, TcpInfo};

    #[test]
    fn a_recorded_connection_replays_with_its_bytes_in_order() {
        let mut r = Recorder::new(Vec::new()).unwrap();
        let client: SocketAddr = "127.0.0.1:50000".parse().unwrap();
        let server: SocketAddr = "127.0.0.1:3000".parse().unwrap();
        let t = Timestamp(1_700_000_000_000_000_000);
        let big = vec![b'x'; 150_000];
        let notes = [
            Note::Open {
                conn: 1,
                client,
                server,
                ts: t,
            },
            Note::Data {
                conn: 1,
                dir: Dir::C2S,
                offset: 0,
                bytes: b"GET / HTTP/1.1\r\n\r\n".to_vec(),
                ts: t,
                comment: None,
            },
            Note::Data {
                conn: 1,
                dir: Dir::S2C,
                offset: 0,
                bytes: b"HTTP/1.1 200 OK\r\nContent-Length: 150000\r\n\r\n".to_vec(),
                ts: t,
                comment: Some("hello".into()),
            },
            Note::Data {
                conn: 1,
                dir: Dir::S2C,
                offset: 42,
                bytes: big,
                ts: t,
                comment: None,
            },
            Note::Fin {
                conn: 1,
                dir: Dir::C2S,
                offset: 18,
                ts: t,
            },
            Note::Fin {
                conn: 1,
                dir: Dir::S2C,
                offset: 150_042,
                ts: t,
            },
            Note::Close {
                conn: 1,
                ts: t,
                at_shutdown: false,
            },
        ];
        let mut frames = vec![];
        for n in &notes {
            frames.push(r.note(n).unwrap());
        }
        assert_eq!(
            frames[3],
            // one packet per MAX_SEGMENT (65 495) bytes
            Frames::Pieces(vec![(6, 0), (7, 65_495), (8, 130_990)])
        );
        assert_eq!(r.frames(), 10);
        // A connection closes at its last packet, as in capture replay.
        assert_eq!(frames[6], Frames::One(10));
        r.flush().unwrap();
        let bytes = r.out.into_inner();
        let mut evs = vec![];
        replay(&bytes[..], &ReplayOptions::default(), &mut |e| evs.push(e)).unwrap();
        let gaps = evs
            .iter()
            .filter(|e| matches!(e.body, Body::Tcp(TcpInfo::Gap { .. })))
            .count();
        assert_eq!(gaps, 0, "{evs:#?}");
        assert!(evs
            .iter()
            .any(|e| matches!(e.body, Body::Tcp(TcpInfo::Close { at_eof: false }))));
    }
}
