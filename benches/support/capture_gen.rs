//! The generator of the benchmark capture, and its truth.
//!
//! A capture of at least `min_bytes` is built by replaying every fixture of `fixtures/pcap/`
//! (real captures of unmodified peers, see `fixtures/lab`) round after round: each round gives
//! every client address a fresh `127.R.R.F` (round number, fixture index), so every connection
//! of every round is its own flow, and shifts the fixture's timestamps after the previous one
//! (fixtures never overlap in time: the capture holds one fixture's sessions open at a time).
//! Server and relay ports (from each fixture's truth) keep their addresses. Segments longer than
//! one synthesized packet holds are split. Nothing else changes: payload bytes are the peers'.
//!
//! The truth is what the generator wrote (records, TCP connections: SYN without ACK) and what
//! the fixtures' truth files say each round holds (Engine.IO sessions, Socket.IO events sent).

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};

use sioscope::capture::link;
use sioscope::capture::writer::{synth_packet, PcapNgWriter, MAX_SEGMENT};
use sioscope::capture::CaptureReader;
use sioscope::event::Timestamp;

/// What the generated capture holds.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Truth {
    /// Size of the file in bytes.
    pub bytes: u64,
    /// Rounds of the whole corpus.
    pub rounds: u32,
    /// Fixtures per round.
    pub fixtures: usize,
    /// Fixtures per round with permessage-deflate negotiated (from their truth).
    pub deflate_fixtures: usize,
    /// Packet records written.
    pub records: u64,
    /// TCP connections opened (SYN without ACK written).
    pub tcp_connections: u64,
    /// Engine.IO sessions (every fixture's `sessions`, times the rounds).
    pub eio_sessions: u64,
    /// Distinct sids among them: the rounds repeat the peers' sids (they are inside the payload,
    /// compressed in part, so the generator cannot renumber them), and whatever keys sessions by
    /// sid alone (`explain`, `sessions`) sees this many.
    pub distinct_sids: u64,
    /// Socket.IO events sent by the peers (every fixture's `events.sent`, times the rounds).
    pub sio_events_sent: u64,
}

/// The repository's root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// One fixture: its bytes and its truth file.
struct Fixture {
    pcap: Vec<u8>,
    truth: serde_json::Value,
}

/// Every fixture of the corpus, in name order.
fn fixtures() -> Vec<Fixture> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(root().join("fixtures/pcap"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "pcap"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|p| Fixture {
            pcap: std::fs::read(&p).unwrap_or_default(),
            truth: std::fs::read(p.with_extension("truth.json"))
                .ok()
                .and_then(|b| serde_json::from_slice(&b).ok())
                .unwrap_or_default(),
        })
        .collect()
}

/// Every server and relay port of the corpus (for tshark's decode-as, and the generator).
pub fn ports() -> Vec<u64> {
    let mut v: Vec<u64> = fixtures()
        .iter()
        .flat_map(|f| {
            ["server_ports", "relay_ports"]
                .into_iter()
                .flat_map(|k| f.truth[k].as_array().cloned().unwrap_or_default())
                .filter_map(|x| x.as_u64())
                .collect::<Vec<_>>()
        })
        .collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// Sum of the counts of an `events.sent` object (`{"c2s": {"chat": 2}, "s2c": {}}`).
fn events_sent(t: &serde_json::Value) -> u64 {
    ["c2s", "s2c"]
        .iter()
        .filter_map(|d| t["events"]["sent"][d].as_object())
        .flat_map(|m| m.values().filter_map(|v| v.as_u64()))
        .sum()
}

/// Builds the capture at `path`, at least `min_bytes` long, and returns its truth.
pub fn build(path: &Path, min_bytes: u64) -> std::io::Result<Truth> {
    let fixtures = fixtures();
    let ports = ports();
    let file = std::fs::File::create(path)?;
    let mut w = PcapNgWriter::new(std::io::BufWriter::with_capacity(1 << 20, file))?;
    let mut truth = Truth {
        fixtures: fixtures.len(),
        deflate_fixtures: fixtures
            .iter()
            .filter(|f| f.truth["per_message_deflate"].as_bool() == Some(true))
            .count(),
        ..Truth::default()
    };
    let mut sids = std::collections::BTreeSet::new();
    for f in &fixtures {
        for s in f.truth["sessions"].as_array().into_iter().flatten() {
            if let Some(sid) = s["sid"].as_str() {
                sids.insert(sid.to_string());
            }
        }
    }
    truth.distinct_sids = sids.len() as u64;
    let mut written = 0u64;
    let mut t_base = 1_700_000_000_000_000_000u64;
    while written < min_bytes {
        let round = truth.rounds;
        for (fi, fx) in fixtures.iter().enumerate() {
            truth.eio_sessions += fx.truth["sessions"].as_array().map_or(0, Vec::len) as u64;
            truth.sio_events_sent += events_sent(&fx.truth);
            let Ok(mut r) = CaptureReader::new(&fx.pcap[..]) else {
                continue;
            };
            let mut first_ts = None;
            let mut last = 0;
            while let Ok(Some(p)) = r.next_packet() {
                let t0 = *first_ts.get_or_insert(p.ts.0);
                let Ok(seg) = link::parse_tcp(&p) else {
                    continue;
                };
                let remap = |a: SocketAddr| {
                    if ports.contains(&u64::from(a.port())) {
                        a
                    } else {
                        let ip = Ipv4Addr::new(127, 1 + (round >> 8) as u8, round as u8, fi as u8);
                        SocketAddr::new(ip.into(), a.port())
                    }
                };
                let rel = p.ts.0.saturating_sub(t0);
                let ts = t_base + rel;
                last = last.max(rel);
                if seg.flags.syn && !seg.flags.ack {
                    truth.tcp_connections += 1;
                }
                let pieces: Vec<&[u8]> = if seg.payload.is_empty() {
                    vec![&[][..]]
                } else {
                    seg.payload.chunks(MAX_SEGMENT).collect()
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
                    w.packet(Timestamp(ts), &data, None)?;
                    truth.records += 1;
                    written += data.len() as u64 + 32;
                }
            }
            t_base += last + 1_000_000_000;
        }
        truth.rounds += 1;
    }
    w.flush()?;
    drop(w);
    truth.bytes = std::fs::metadata(path)?.len();
    Ok(truth)
}
