//! `sioscope annotate` round-trips every fixture: the same packets with the same bytes, lengths,
//! link types and timestamps (read back by sioscope's reader and, independently, by tshark), a
//! comment on every frame that completes an Engine.IO / Socket.IO packet and on the evidence
//! frames of every finding, and nothing else changed.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use sioscope::capture::CaptureReader;
use sioscope::event::Body;

use crate::common::{decode, fixtures, root, sioscope};

fn out_dir() -> PathBuf {
    let d = root().join("target/annotate-artifacts");
    std::fs::create_dir_all(&d).expect("artifact dir");
    d
}

/// (frame, ts, linktype, bytes, orig_len, comment) of every packet.
type Rec = (u64, u64, i32, Vec<u8>, u32, Option<String>);

fn read_all(path: &Path) -> Vec<Rec> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut r =
        CaptureReader::new(&bytes[..]).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut v = vec![];
    while let Some(p) = r
        .next_packet()
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    {
        v.push((
            p.frame,
            p.ts.0,
            p.linktype,
            p.data.to_vec(),
            p.orig_len,
            p.comment,
        ));
    }
    v
}

/// tshark's view of frame number, epoch time (to the nanosecond), captured and wire length.
fn tshark_frames(path: &Path) -> Vec<String> {
    let out = Command::new("tshark")
        .arg("-r")
        .arg(path)
        .args([
            "-T",
            "fields",
            "-e",
            "frame.number",
            "-e",
            "frame.time_epoch",
        ])
        .args(["-e", "frame.cap_len", "-e", "frame.len"])
        .output()
        .expect("tshark runs (bash .ci/run installs it)");
    assert!(out.status.success(), "tshark failed on {}", path.display());
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

fn annotate(pcap: &Path) -> PathBuf {
    let name = pcap
        .file_stem()
        .unwrap_or_default()
        .to_string_lossy()
        .to_string();
    let out = out_dir().join(format!("{name}.pcapng"));
    let o = sioscope(&[
        "annotate",
        &pcap.to_string_lossy(),
        "-o",
        &out.to_string_lossy(),
    ]);
    assert!(
        o.status.success(),
        "annotate {name}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    out
}

#[test]
fn annotate_keeps_every_packet_byte_and_timestamp_of_every_fixture_and_comments_every_packet_frame()
{
    for pcap in fixtures() {
        let name = pcap
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .to_string();
        let out = annotate(&pcap);
        let a = read_all(&pcap);
        let b = read_all(&out);
        assert_eq!(a.len(), b.len(), "{name}: packet count");
        for (x, y) in a.iter().zip(&b) {
            assert_eq!(
                (x.0, x.1, x.2, &x.3, x.4),
                (y.0, y.1, y.2, &y.3, y.4),
                "{name}: frame {} differs",
                x.0
            );
        }
        assert_eq!(
            tshark_frames(&pcap),
            tshark_frames(&out),
            "{name}: tshark sees other packets"
        );
        // Every frame that completes an Engine.IO or Socket.IO packet has its comment.
        for ev in decode(&pcap) {
            let want = match &ev.body {
                Body::Sio { sio, .. } => format!("sio {} ", sio.kind),
                Body::Eio { eio } => format!("eio {}", eio.kind),
                _ => continue,
            };
            let c = b
                .get(ev.frame as usize - 1)
                .and_then(|r| r.5.clone())
                .unwrap_or_default();
            assert!(
                c.contains(&want) || c.contains("more)"),
                "{name}: frame {} lacks {want:?}: {c:?}",
                ev.frame
            );
        }
    }
}

#[test]
fn tshark_lists_the_comments_and_filters_the_deflate_error() {
    let pcap = root().join("fixtures/pcap/v1-3-deflate-fragmented.pcap");
    let out = annotate(&pcap);
    let ours: BTreeSet<u64> = read_all(&out)
        .into_iter()
        .filter(|r| r.5.is_some())
        .map(|r| r.0)
        .collect();
    let t = Command::new("tshark")
        .arg("-r")
        .arg(&out)
        .args([
            "-Y",
            "frame.comment",
            "-T",
            "fields",
            "-e",
            "frame.number",
            "-e",
            "frame.comment",
        ])
        .output()
        .expect("tshark");
    let text = String::from_utf8_lossy(&t.stdout);
    let listed: BTreeSet<u64> = text
        .lines()
        .filter_map(|l| l.split('\t').next()?.parse().ok())
        .collect();
    assert_eq!(listed, ours, "tshark lists exactly the commented frames");
    assert!(
        text.contains("sio EVENT \"hello\" / ack=0 sid=lzQk5EWCr0MDM_HNAAAA"),
        "{text}"
    );
    let t = Command::new("tshark")
        .arg("-r")
        .arg(&out)
        .args([
            "-Y",
            "frame.comment contains \"deflate-error\"",
            "-T",
            "fields",
            "-e",
            "frame.number",
        ])
        .output()
        .expect("tshark");
    let frames: Vec<String> = String::from_utf8_lossy(&t.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    // frame 33 completes the compressed message the server failed on; 35 carries its close 1007.
    assert_eq!(frames, ["33", "35"]);
}

#[test]
fn annotate_refuses_stdin_and_garbage_with_exit_2() {
    let out = out_dir().join("never.pcapng");
    let o = sioscope(&["annotate", "-", "-o", &out.to_string_lossy()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("not -"));
    let bad = out_dir().join("garbage.pcap");
    std::fs::write(&bad, b"this is not a capture at all").expect("write");
    let o = sioscope(&[
        "annotate",
        &bad.to_string_lossy(),
        "-o",
        &out.to_string_lossy(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("not a pcap or pcapng capture"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}
