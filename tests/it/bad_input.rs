//! Bad input never panics: each case gets a clear one-line error (exit 2) or anomaly events.

use std::io::Write;

use crate::common::sioscope;

fn temp_with(bytes: &[u8]) -> tempfile::NamedTempFile {
    let mut f = tempfile::NamedTempFile::new().expect("temp file");
    f.write_all(bytes).expect("write");
    f
}

fn run(bytes: &[u8]) -> (i32, String, String) {
    let f = temp_with(bytes);
    let out = sioscope(&[
        "decode",
        "--format",
        "ndjson",
        "--layer",
        "all",
        f.path().to_str().unwrap(),
    ]);
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A small real capture (pcap, Ethernet) with Socket.IO traffic in it.
fn small_fixture() -> Vec<u8> {
    std::fs::read(crate::common::root().join("fixtures/pcap/v4-ws-only.pcap")).expect("fixture")
}

#[test]
fn zero_length_file_is_a_clear_error() {
    let (code, _, err) = run(b"");
    assert_eq!(code, 2);
    assert!(err.contains("empty"), "{err}");
    assert_eq!(err.trim().lines().count(), 1);
}

#[test]
fn a_file_that_is_not_a_capture_is_a_clear_error() {
    let (code, _, err) = run(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(code, 2);
    assert!(err.contains("not a pcap or pcapng capture"), "{err}");
}

#[test]
fn missing_file_is_a_clear_error() {
    let out = sioscope(&["decode", "/nonexistent/x.pcap"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot open"));
}

#[test]
fn truncated_capture_decodes_what_is_there_and_says_so() {
    let full = small_fixture();
    for cut in [full.len() - 1, full.len() / 2, 40, 24, 10] {
        let (code, out, err) = run(&full[..cut]);
        if cut < 24 {
            assert_eq!(code, 2, "cut at {cut}: {err}");
            assert!(err.contains("header"), "{err}");
        } else {
            assert_eq!(code, 0, "cut at {cut}: {err}");
            if cut > 24 {
                assert!(out.contains("truncated-capture"), "cut at {cut}");
            }
        }
    }
}

#[test]
fn bogus_record_length_is_a_clear_error_not_an_allocation() {
    let mut bytes = small_fixture();
    // first record header starts at 24 (pcap): caplen at +8
    bytes[24 + 8..24 + 12].copy_from_slice(&0xfff0_0000u32.to_le_bytes());
    let (code, _, err) = run(&bytes);
    assert_eq!(code, 2);
    assert!(err.contains("record length"), "{err}");
}

#[test]
fn bogus_snaplen_in_header_is_tolerated() {
    let mut bytes = small_fixture();
    bytes[16..20].copy_from_slice(&u32::MAX.to_le_bytes());
    let (code, out, err) = run(&bytes);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("\"layer\":\"sio\""));
}

#[test]
fn unknown_link_type_is_an_anomaly() {
    let mut bytes = small_fixture();
    bytes[20..24].copy_from_slice(&147u32.to_le_bytes()); // USER0
    let (code, out, _) = run(&bytes);
    assert_eq!(code, 0);
    assert!(out.contains("unknown-link-type"));
    assert_eq!(out.matches("unknown-link-type").count(), 1, "reported once");
}

#[test]
fn garbage_after_a_valid_header_does_not_panic() {
    let mut bytes = small_fixture()[..24].to_vec();
    let mut x: u32 = 12345;
    for _ in 0..100_000 {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
        bytes.push((x >> 16) as u8);
    }
    let (code, _, err) = run(&bytes);
    assert!(code == 0 || code == 2, "{err}");
    assert!(!err.contains("panicked"), "{err}");
}
