//! The generator of the benchmark capture, and its truth.
//!
//! A capture of at least `min_bytes` is built by the library's corpus replayer
//! (`sioscope::capture::repeat`): every fixture of `fixtures/pcap/` (real captures of unmodified
//! peers, see `fixtures/lab`) round after round, each round with fresh client addresses, fresh
//! Engine.IO sids and Socket.IO socket ids (same length, renamed where their bytes travel
//! uncompressed: `sioscope::capture::rename`) and shifted timestamps (fixtures never overlap in
//! time). Nothing else changes: every other payload byte is the peers'.
//!
//! The truth is what the generator wrote (records, TCP connections: SYN without ACK) and what
//! the fixtures' truth files say each round holds (Engine.IO sessions, Socket.IO events sent).

use std::path::{Path, PathBuf};

use sioscope::capture::repeat::{corpus_server_ports, repeat_corpus, Until};

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
    /// Distinct sids among them, what whatever keys sessions by sid alone (`explain`,
    /// `sessions`) sees: every round renames the sids, except those that travel only inside
    /// permessage-deflate messages (`sids_kept`), which repeat in every round.
    pub distinct_sids: u64,
    /// Sessions whose sid every round repeats (counted once).
    pub sids_kept: u64,
    /// Socket.IO events sent by the peers (every fixture's `events.sent`, times the rounds).
    pub sio_events_sent: u64,
}

/// The repository's root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// One fixture's truth file.
struct Fixture {
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
            truth: std::fs::read(p.with_extension("truth.json"))
                .ok()
                .and_then(|b| serde_json::from_slice(&b).ok())
                .unwrap_or_default(),
        })
        .collect()
}

/// Every server and relay port of the corpus (for tshark's decode-as, and the generator).
pub fn ports() -> Vec<u64> {
    corpus_server_ports(&root().join("fixtures/pcap"))
}

/// Sum of the counts of an `events.sent` object (`{"c2s": {"chat": 2}, "s2c": {}}`).
fn events_sent(t: &serde_json::Value) -> u64 {
    ["c2s", "s2c"]
        .iter()
        .filter_map(|d| t["events"]["sent"][d].as_object())
        .flat_map(|m| m.values().filter_map(|v| v.as_u64()))
        .sum()
}

/// Builds the capture at `path`, at least `min_bytes` long, with the library's corpus replayer
/// ([`sioscope::capture::repeat::repeat_corpus`]), and returns its truth.
pub fn build(path: &Path, min_bytes: u64) -> std::io::Result<Truth> {
    let fixtures = fixtures();
    let file = std::fs::File::create(path)?;
    let done = repeat_corpus(
        &root().join("fixtures/pcap"),
        std::io::BufWriter::with_capacity(1 << 20, file),
        Until::Bytes(min_bytes),
    )?;
    let rounds = u64::from(done.rounds);
    Ok(Truth {
        bytes: std::fs::metadata(path)?.len(),
        rounds: done.rounds,
        fixtures: done.fixtures,
        deflate_fixtures: fixtures
            .iter()
            .filter(|f| f.truth["per_message_deflate"].as_bool() == Some(true))
            .count(),
        records: done.records,
        tcp_connections: done.tcp_connections,
        eio_sessions: rounds
            * fixtures
                .iter()
                .map(|f| f.truth["sessions"].as_array().map_or(0, Vec::len) as u64)
                .sum::<u64>(),
        distinct_sids: done.distinct_sids,
        sids_kept: done.sids_kept,
        sio_events_sent: rounds * fixtures.iter().map(|f| events_sent(&f.truth)).sum::<u64>(),
    })
}
