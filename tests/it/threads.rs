//! `--threads N`: the output is the same bytes with one thread and with several, on every
//! fixture and on a capture of many connections built from the whole corpus.

use sioscope::capture::repeat::{repeat_corpus, Until};
use sioscope::capture::{replay_packets_threaded, CaptureReader, ReplayOptions};

use crate::common::{fixtures, root, sioscope};

/// Every event of `path` as NDJSON (all layers), replayed in process with `threads` threads.
fn events_ndjson(path: &std::path::Path, threads: usize) -> Vec<u8> {
    let f = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut reader = CaptureReader::new(std::io::BufReader::new(f))
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut out = Vec::new();
    replay_packets_threaded(&mut reader, &ReplayOptions::default(), threads, &mut |ev| {
        serde_json::to_writer(&mut out, &ev).expect("serialise");
        out.push(b'\n');
    })
    .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    out
}

/// stdout and exit code of one command.
fn run(args: &[&str]) -> (Vec<u8>, Option<i32>) {
    let out = sioscope(args);
    (out.stdout, out.status.code())
}

#[test]
fn every_fixture_decodes_to_the_same_events_with_one_thread_and_with_several() {
    for pcap in fixtures() {
        let one = events_ndjson(&pcap, 1);
        assert!(!one.is_empty(), "{}: no events", pcap.display());
        // 1, 2, 3 and 7 workers: connections land on different workers each time
        for threads in [2, 3, 4, 8] {
            assert!(
                events_ndjson(&pcap, threads) == one,
                "{}: {threads} threads changed the events",
                pcap.display()
            );
        }
    }
}

#[test]
fn every_fixture_prints_the_same_bytes_with_threads_1_and_4() {
    for pcap in fixtures() {
        let p = pcap.to_string_lossy().into_owned();
        let args = ["decode", "--format", "ndjson", "--layer", "all", p.as_str()];
        let one = run(&[&args[..], &["--threads", "1"]].concat());
        assert_eq!(one.1, Some(0), "{p}");
        let four = run(&[&args[..], &["--threads", "4"]].concat());
        assert!(
            four == one,
            "{p}: decode --threads 4 differs from --threads 1"
        );
    }
}

/// decode (both formats), explain, sessions and check --capture on a capture of the whole corpus
/// replayed twice (fresh client addresses per round, several batches of the pool): `--threads
/// 1`, 2, 3 and the default print the same bytes and exit the same way.
#[test]
fn every_command_prints_the_same_bytes_with_any_number_of_threads_on_a_generated_capture() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("corpus-x2.pcapng");
    let file = std::fs::File::create(&path).expect("create");
    let done = repeat_corpus(
        &root().join("fixtures/pcap"),
        std::io::BufWriter::new(file),
        Until::Rounds(2),
    )
    .expect("build the capture");
    assert_eq!(done.rounds, 2);
    let p = path.to_string_lossy().into_owned();
    let commands: [&[&str]; 6] = [
        &["decode", "--format", "ndjson", "--layer", "all", &p],
        &["decode", "--color", "never", &p],
        &["explain", "--format", "json", &p],
        &["explain", "--color", "never", "--all", &p],
        &["sessions", "--format", "json", &p],
        &["check", "--format", "json", "--capture", &p],
    ];
    for args in commands {
        let default = run(args);
        assert!(
            default.0.len() > 1000,
            "{args:?}: printed {} bytes",
            default.0.len()
        );
        for threads in ["1", "2", "3"] {
            let with = run(&[args, &["--threads", threads]].concat());
            assert!(
                with == default,
                "{args:?}: --threads {threads} differs from the default"
            );
        }
    }
}

#[test]
fn zero_threads_is_refused_with_the_reason() {
    let out = sioscope(&["decode", "--threads", "0", "fixtures/pcap/v4-rooms.pcap"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("0 threads cannot decode anything; give 1 or more"),
        "{err}"
    );
}

#[test]
fn annotate_writes_the_same_capture_with_threads_1_and_4() {
    let dir = tempfile::tempdir().expect("tempdir");
    let written = |threads: &str| {
        let out = dir.path().join(format!("annotated-{threads}.pcapng"));
        let o = out.to_string_lossy().into_owned();
        let run = sioscope(&[
            "annotate",
            "fixtures/pcap/v1-3-deflate-fragmented.pcap",
            "-o",
            &o,
            "--threads",
            threads,
        ]);
        assert_eq!(run.status.code(), Some(0), "--threads {threads}");
        std::fs::read(&out).expect("read the annotated capture")
    };
    let one = written("1");
    assert!(one.len() > 1000);
    assert!(written("4") == one, "annotate --threads 4 differs");
}
