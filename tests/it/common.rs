//! Shared helpers: the committed fixture corpus, decoding it, and running the binary.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;
use sioscope::capture::{replay, ReplayOptions};
use sioscope::event::{Body, Event, TcpInfo};

/// The project root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every committed capture of the corpus, sorted.
pub fn fixtures() -> Vec<PathBuf> {
    let dir = root().join("fixtures/pcap");
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "pcap" || x == "pcapng"))
        .collect();
    v.sort();
    assert!(!v.is_empty(), "no captures under fixtures/pcap");
    v
}

/// The truth file next to a capture.
pub fn truth(pcap: &Path) -> Value {
    let stem = pcap
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default();
    let path = pcap.with_file_name(format!("{stem}.truth.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "fixture {} has no truth file {}: {e}",
            pcap.display(),
            path.display()
        )
    });
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Decodes a capture with default options.
pub fn decode(pcap: &Path) -> Vec<Event> {
    let f = std::fs::File::open(pcap).unwrap_or_else(|e| panic!("{}: {e}", pcap.display()));
    let mut events = vec![];
    replay(f, &ReplayOptions::default(), &mut |e| events.push(e))
        .unwrap_or_else(|e| panic!("{}: {e}", pcap.display()));
    events
}

/// Decodes bytes of a capture held in memory.
pub fn decode_bytes(bytes: &[u8]) -> Vec<Event> {
    let mut events = vec![];
    replay(bytes, &ReplayOptions::default(), &mut |e| events.push(e)).expect("replay");
    events
}

/// The server port of every connection id.
pub fn server_ports(events: &[Event]) -> BTreeMap<u64, u16> {
    events
        .iter()
        .filter_map(|e| match &e.body {
            Body::Tcp(TcpInfo::Open { server, .. }) => {
                let port = server.rsplit(':').next()?.parse().ok()?;
                Some((e.conn.0, port))
            }
            _ => None,
        })
        .collect()
}

/// Runs the built `sioscope` binary.
pub fn sioscope(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sioscope"))
        .current_dir(root())
        .env_remove("NO_COLOR")
        .args(args)
        .output()
        .expect("run sioscope")
}
