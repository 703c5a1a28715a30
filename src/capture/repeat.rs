//! A many-session capture built from a few real ones: every capture of a corpus folder replayed
//! round after round with fresh client addresses and shifted timestamps, as one pcapng.
//!
//! Used by the decode benchmark (a capture of 220 MB, about 2 000 sessions) and by the tests that
//! pin how reports scale with the number of sessions. Each round gives every fixture's client
//! side the address `127.(1 + round / 256).(round % 256).(fixture index)`, so every connection of
//! every round is its own TCP flow; server and relay ports (from the fixtures' `*.truth.json`:
//! `server_ports`, `relay_ports`) keep their addresses. Rounds follow each other with one second
//! between a fixture's last packet and the next one's first. Each round also gives every
//! Engine.IO sid and Socket.IO socket id a fresh one of the same length ([`super::rename`]), so
//! each round's sessions are new sessions, as in a long real capture; the sessions whose sid
//! travels only inside compressed or masked payloads keep it ([`Repeated::sids_kept`]).

use std::collections::{BTreeSet, HashSet};
use std::io::{self, Write};
use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;

use super::link;
use super::rename::Renamer;
use super::writer::{synth_packet, PcapNgWriter, MAX_SEGMENT};
use super::CaptureReader;
use crate::event::Timestamp;

/// When to stop adding rounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Until {
    /// After this many rounds.
    Rounds(u32),
    /// After the round that brings the packets written to at least this many bytes.
    Bytes(u64),
}

/// What [`repeat_corpus`] wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Repeated {
    /// Rounds written.
    pub rounds: u32,
    /// Packet bytes written (with 32 bytes of block overhead each).
    pub bytes: u64,
    /// Fixtures replayed per round.
    pub fixtures: usize,
    /// Packet records written.
    pub records: u64,
    /// TCP connections opened (SYN without ACK written).
    pub tcp_connections: u64,
    /// Engine.IO session ids renamed (sessions of a fixture times the rounds, less the kept).
    pub sids_renamed: u64,
    /// Engine.IO session ids that could not be renamed and repeat in every round (counted once).
    pub sids_kept: u64,
    /// Distinct Engine.IO session ids in the capture: `sids_renamed + sids_kept`.
    pub distinct_sids: u64,
}

/// The server and relay ports every `*.truth.json` of `dir` names, sorted, without repeats.
pub fn corpus_server_ports(dir: &Path) -> Vec<u64> {
    let mut v = vec![];
    for p in dir_files(dir, ".truth.json") {
        let t: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&p).unwrap_or_default()).unwrap_or_default();
        for k in ["server_ports", "relay_ports"] {
            v.extend(
                t[k].as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(serde_json::Value::as_u64),
            );
        }
    }
    v.sort_unstable();
    v.dedup();
    v
}

/// The files of `dir` whose name ends with `suffix`, sorted by name.
fn dir_files(dir: &Path, suffix: &str) -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().ends_with(suffix))
        .collect();
    v.sort();
    v
}

/// Writes every `*.pcap` of `dir`, round after round until `until`, to `out` as one pcapng.
pub fn repeat_corpus<W: Write>(dir: &Path, out: W, until: Until) -> io::Result<Repeated> {
    let fixtures: Vec<Vec<u8>> = dir_files(dir, ".pcap")
        .iter()
        .map(std::fs::read)
        .collect::<io::Result<_>>()?;
    if fixtures.is_empty() || fixtures.len() > usize::from(u8::MAX) + 1 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "{}: {} pcap files (1 to 256 can be repeated)",
                dir.display(),
                fixtures.len()
            ),
        ));
    }
    let ports = corpus_server_ports(dir);
    let renamers: Vec<Renamer> = fixtures.iter().map(|f| Renamer::new(f)).collect();
    let mut taken: HashSet<Vec<u8>> = renamers
        .iter()
        .flat_map(Renamer::originals)
        .map(<[u8]>::to_vec)
        .collect();
    let kept: BTreeSet<&String> = renamers.iter().flat_map(Renamer::kept).collect();
    let mut w = PcapNgWriter::new(out)?;
    let mut done = Repeated {
        fixtures: fixtures.len(),
        ..Repeated::default()
    };
    let mut t_base = 1_700_000_000_000_000_000u64;
    let more = |d: &Repeated| match until {
        Until::Rounds(n) => d.rounds < n,
        Until::Bytes(b) => d.bytes < b,
    };
    while more(&done) {
        // 254 × 256 rounds have distinct addresses; past that the rounds would share flows.
        let (hi, lo) = (done.rounds >> 8, done.rounds & 0xff);
        let Ok(hi) = u8::try_from(hi + 1) else {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "more rounds than client addresses",
            ));
        };
        for ((fi, bytes), renamer) in fixtures.iter().enumerate().zip(&renamers) {
            let client_ip = Ipv4Addr::new(127, hi, lo as u8, fi as u8);
            let fresh = renamer.fresh(u64::from(done.rounds) << 32 | fi as u64, &mut taken);
            let ids = Rename { renamer, fresh };
            let last = replay_one(bytes, &ports, client_ip, &ids, t_base, &mut w, &mut done)?;
            done.sids_renamed += renamer.renamed_sessions() as u64;
            t_base += last + 1_000_000_000;
        }
        done.rounds += 1;
    }
    done.sids_kept = if done.rounds > 0 {
        kept.len() as u64
    } else {
        0
    };
    done.distinct_sids = done.sids_renamed + done.sids_kept;
    w.flush()?;
    Ok(done)
}

/// One round's new ids for one fixture.
struct Rename<'a> {
    renamer: &'a Renamer,
    fresh: Vec<Vec<u8>>,
}

/// Writes one fixture with its client addresses moved to `client_ip`, its ids renamed by `ids`
/// and its first packet at `t_base`; returns the time its last packet came after its first
/// (ns). An unreadable fixture (or packet) is passed over.
fn replay_one<W: Write>(
    bytes: &[u8],
    ports: &[u64],
    client_ip: Ipv4Addr,
    ids: &Rename<'_>,
    t_base: u64,
    w: &mut PcapNgWriter<W>,
    done: &mut Repeated,
) -> io::Result<u64> {
    let Ok(mut r) = CaptureReader::new(bytes) else {
        return Ok(0);
    };
    let remap = |a: SocketAddr| {
        if ports.contains(&u64::from(a.port())) {
            a
        } else {
            SocketAddr::new(client_ip.into(), a.port())
        }
    };
    let mut first_ts = None;
    let mut last = 0;
    while let Ok(Some(p)) = r.next_packet() {
        let t0 = *first_ts.get_or_insert(p.ts.0);
        let Ok(seg) = link::parse_tcp(&p) else {
            continue;
        };
        let since = p.ts.0.saturating_sub(t0);
        last = last.max(since);
        if seg.flags.syn && !seg.flags.ack {
            done.tcp_connections += 1;
        }
        let payload = ids
            .renamer
            .patch(seg.src, seg.dst, seg.seq, seg.payload, &ids.fresh);
        // Segments longer than one synthesized packet can hold are split.
        let pieces: Vec<&[u8]> = if payload.is_empty() {
            vec![&[][..]]
        } else {
            payload.chunks(MAX_SEGMENT).collect()
        };
        let mut seq = seg.seq;
        let n = pieces.len();
        for (i, piece) in pieces.into_iter().enumerate() {
            let mut flags = seg.flags;
            flags.fin &= i + 1 == n;
            flags.rst &= i + 1 == n;
            let data = synth_packet(
                remap(seg.src),
                remap(seg.dst),
                seq,
                seg.flags.ack.then_some(0),
                flags,
                piece,
            );
            seq = seq.wrapping_add(piece.len() as u32);
            w.packet(Timestamp(t_base + since), &data, None)?;
            done.records += 1;
            done.bytes += data.len() as u64 + 32;
        }
    }
    Ok(last)
}
