//! `sioscope report` on the seed-story fixtures: the page loads in Debian's headless chromium
//! with no console error, and the rendered DOM shows every session id, every cause and every
//! reconnect chain of the fixture's truth file (written from the libraries' own reports). A
//! screenshot of each page is written under `target/report-artifacts/`.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::{root, sioscope, truth};

const STORIES: [&str; 4] = [
    "v1-3-deflate-fragmented",
    "v4-ws-blocked",
    "v4-shared-manager",
    "v4-sticky-fail",
];

fn out_dir() -> PathBuf {
    let d = root().join("target/report-artifacts");
    std::fs::create_dir_all(&d).expect("artifact dir");
    d
}

/// Runs headless chromium on a page; returns (stdout, stderr).
fn chromium(page: &Path, extra: &[&str]) -> (String, String) {
    let url = format!("file://{}", page.display());
    let profile = tempfile::tempdir().expect("profile dir");
    let out = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(["--virtual-time-budget=5000", "--window-size=1360,1800"])
        .args(extra)
        .arg(&url)
        .output()
        .expect("chromium runs (bash .ci/run installs the Debian package chromium)");
    assert!(out.status.success(), "chromium failed on {url}");
    (
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

/// Console output of the page: chromium logs each console message and uncaught error as a
/// `CONSOLE(line)` record on stderr with `--enable-logging=stderr`.
fn console_errors(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| l.contains("CONSOLE") || l.contains("Uncaught"))
        .collect()
}

#[test]
fn report_of_each_seed_story_renders_in_chromium_with_every_truth_sid_cause_and_chain() {
    for story in STORIES {
        let pcap = root().join(format!("fixtures/pcap/{story}.pcap"));
        let html = out_dir().join(format!("{story}.html"));
        let o = sioscope(&[
            "report",
            &pcap.to_string_lossy(),
            "-o",
            &html.to_string_lossy(),
        ]);
        assert!(
            o.status.success(),
            "{story}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let (dom, stderr) = chromium(&html, &["--dump-dom"]);
        let errs = console_errors(&stderr);
        assert!(errs.is_empty(), "{story}: console errors: {errs:#?}");
        assert!(
            !dom.contains("Loading the report"),
            "{story}: the script did not run"
        );
        let t = truth(&pcap);
        let sessions = t["sessions"].as_array().cloned().unwrap_or_default();
        for s in &sessions {
            let sid = s["sid"].as_str().unwrap_or_default();
            assert!(
                dom.contains(&format!("data-sid=\"{sid}\"")),
                "{story}: sid {sid} not shown"
            );
        }
        for e in t["expected"].as_array().into_iter().flatten() {
            let (sid, cause) = (
                e["sid"].as_str().unwrap_or_default(),
                e["cause"].as_str().unwrap_or_default(),
            );
            assert!(
                dom.contains(&format!("data-sid=\"{sid}\" data-cause=\"{cause}\"")),
                "{story}: {sid} not shown ending with {cause}"
            );
        }
        // A chain of the truth: consecutive sessions of the same client.
        for pair in sessions.windows(2) {
            if pair[0]["client"] == pair[1]["client"] {
                let (a, b) = (
                    pair[0]["sid"].as_str().unwrap_or_default(),
                    pair[1]["sid"].as_str().unwrap_or_default(),
                );
                assert!(
                    dom.contains(&format!("data-chain=\"{a} {b}\"")),
                    "{story}: chain {a} → {b} not drawn"
                );
            }
        }
        let png = out_dir().join(format!("{story}.png"));
        let _ = std::fs::remove_file(&png);
        let (_, stderr) = chromium(&html, &[&format!("--screenshot={}", png.display())]);
        let errs = console_errors(&stderr);
        assert!(errs.is_empty(), "{story}: console errors: {errs:#?}");
        let size = std::fs::metadata(&png).map(|m| m.len()).unwrap_or(0);
        assert!(size > 10_000, "{story}: no screenshot at {}", png.display());
    }
}

#[test]
fn report_page_is_self_contained_and_embeds_the_explain_document_once() {
    let pcap = root().join("fixtures/pcap/v4-sticky-fail.pcap");
    let html = out_dir().join("self-contained.html");
    let o = sioscope(&[
        "report",
        &pcap.to_string_lossy(),
        "-o",
        &html.to_string_lossy(),
    ]);
    assert!(o.status.success());
    let page = std::fs::read_to_string(&html).expect("page");
    assert!(
        !page.contains("<link") && !page.contains(" src="),
        "an external asset"
    );
    assert_eq!(page.matches("data-kind=\"explain\"").count(), 1);
    assert_eq!(page.matches("data-kind=\"events\"").count(), 1);
    let x = sioscope(&["explain", "--format", "json", &pcap.to_string_lossy()]);
    let doc: serde_json::Value = serde_json::from_slice(&x.stdout).expect("explain json");
    let marker = "data-kind=\"explain\" data-capture=\"0\">";
    let start = page.find(marker).expect("block") + marker.len();
    let end = start + page[start..].find("</script>").expect("end");
    let embedded: serde_json::Value =
        serde_json::from_str(&page[start..end]).expect("embedded json");
    assert_eq!(embedded, doc, "the page embeds explain's own document");
}

#[test]
fn report_of_an_unreadable_capture_exits_2_and_leaves_no_page() {
    let bad = out_dir().join("garbage.pcap");
    std::fs::write(&bad, b"not a capture").expect("write");
    let html = out_dir().join("garbage.html");
    let o = sioscope(&[
        "report",
        &bad.to_string_lossy(),
        "-o",
        &html.to_string_lossy(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(!html.exists());
}
