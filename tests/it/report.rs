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
    chromium_url(&format!("file://{}", page.display()), extra)
}

/// Runs headless chromium on a URL (a page with a `#c0-f33` fragment); returns (stdout, stderr).
fn chromium_url(url: &str, extra: &[&str]) -> (String, String) {
    let url = url.to_string();
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

/// Writes the report of `inputs` (with extra flags) to `out_dir()/name`; returns its path and
/// sioscope's stderr.
fn report(inputs: &[&Path], extra: &[&str], name: &str) -> (PathBuf, String) {
    let html = out_dir().join(name);
    let mut args: Vec<String> = vec!["report".into()];
    args.extend(inputs.iter().map(|p| p.to_string_lossy().to_string()));
    args.extend(extra.iter().map(|s| s.to_string()));
    args.extend(["-o".into(), html.to_string_lossy().to_string()]);
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = sioscope(&refs);
    let stderr = String::from_utf8_lossy(&o.stderr).to_string();
    assert!(o.status.success(), "{name}: {stderr}");
    (html, stderr)
}

/// The `decode --format ndjson` event of one frame of a capture (the Socket.IO one when several).
fn decoded(pcap: &Path, frame: u64) -> serde_json::Value {
    let o = sioscope(&["decode", "--format", "ndjson", &pcap.to_string_lossy()]);
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|e| e["frame"] == frame && e["layer"] == "sio")
        .expect("the frame's event")
}

#[test]
fn a_packet_over_2_kib_opens_whole_from_the_page_s_compressed_copy() {
    // Frame 33 carries a 150 KB Socket.IO event (the deflate story's large frame).
    let pcap = root().join("fixtures/pcap/v1-3-deflate-fragmented.pcap");
    let (html, _) = report(&[&pcap], &[], "whole.html");
    let page = std::fs::read_to_string(&html).expect("page");
    let ev = decoded(&pcap, 33);
    let data = ev["sio"]["data"][1].as_str().expect("payload text");
    assert!(data.len() > 100_000);
    let tail = &data[data.len() - 300..];
    assert!(
        !page.contains(tail),
        "the payload is embedded compressed, not as text"
    );
    let (dom, stderr) = chromium_url(
        &format!("file://{}#c0-f33", html.display()),
        &["--dump-dom"],
    );
    let errs = console_errors(&stderr);
    assert!(errs.is_empty(), "console errors: {errs:#?}");
    assert!(dom.contains("data-packet=\"33\""), "frame 33 not opened");
    assert!(dom.contains(tail), "the payload's end is not shown");
    assert!(
        dom.contains(&data[..300]),
        "the payload's start is not shown"
    );
    assert!(dom.contains("data-cut=\"0\""), "some packet cut");
    assert!(!dom.contains("data-cut-packet=\""), "frame 33 shown cut");
}

#[test]
fn past_max_detail_long_packets_are_cut_and_the_page_says_so() {
    let pcap = root().join("fixtures/pcap/v1-3-deflate-fragmented.pcap");
    // Room for the first long packet (frame 18, 150 KB of JSON) only.
    let (html, _) = report(&[&pcap], &["--max-detail", "200k"], "cut.html");
    let len = std::fs::metadata(&html).map(|m| m.len()).unwrap_or(0);
    let (whole, _) = report(&[&pcap], &[], "uncut.html");
    let whole_len = std::fs::metadata(&whole).map(|m| m.len()).unwrap_or(0);
    assert!(len + 100_000 < whole_len, "{len} vs {whole_len}");
    let (dom, stderr) = chromium_url(
        &format!("file://{}#c0-f33", html.display()),
        &["--dump-dom"],
    );
    assert!(console_errors(&stderr).is_empty());
    assert!(dom.contains("data-packet=\"33\""));
    assert!(dom.contains("data-cut-packet=\"33\""), "no cut notice");
    assert!(dom.contains("\"_truncated\": 150"), "no original length");
    assert!(
        dom.contains("with their payloads cut (packets over 2 KiB are kept whole up to 200 KiB")
    );
    let (dom18, _) = chromium_url(
        &format!("file://{}#c0-f18", html.display()),
        &["--dump-dom"],
    );
    let ev = decoded(&pcap, 18);
    let data = ev["sio"]["data"][1].as_str().expect("payload text");
    assert!(
        dom18.contains(&data[data.len() - 300..]),
        "frame 18 not whole"
    );
    assert!(!dom18.contains("data-cut-packet=\""), "frame 18 shown cut");
}

#[test]
fn report_reads_each_har_with_its_server_log_on_the_sessions() {
    for name in ["clean", "blocked", "restart", "colors", "python"] {
        let har = root().join(format!("fixtures/har/{name}.har"));
        let log = root().join(format!("fixtures/log/{name}-server.log"));
        let (html, stderr) = report(
            &[&har],
            &["--log", &log.to_string_lossy()],
            &format!("har-{name}.html"),
        );
        assert!(stderr.contains("read as a HAR 1.2"), "{name}: {stderr}");
        assert!(stderr.contains("log lines"), "{name}: {stderr}");
        let x = sioscope(&[
            "explain",
            "--format",
            "json",
            &har.to_string_lossy(),
            "--log",
            &log.to_string_lossy(),
        ]);
        let doc: serde_json::Value = serde_json::from_slice(&x.stdout).expect("explain json");
        let page = std::fs::read_to_string(&html).expect("page");
        let marker = "data-kind=\"explain\" data-capture=\"0\">";
        let start = page.find(marker).expect("block") + marker.len();
        let end = start + page[start..].find("</script>").expect("end");
        let embedded: serde_json::Value =
            serde_json::from_str(&page[start..end]).expect("embedded json");
        assert_eq!(
            embedded, doc,
            "{name}: the page embeds explain's document with --log"
        );
        let (dom, stderr) = chromium(&html, &["--dump-dom"]);
        let errs = console_errors(&stderr);
        assert!(errs.is_empty(), "{name}: console errors: {errs:#?}");
        let sessions = doc["sessions"].as_array().cloned().unwrap_or_default();
        assert!(!sessions.is_empty(), "{name}: no session");
        for f in &sessions {
            let (sid, cause) = (
                f["sid"].as_str().unwrap_or_default(),
                f["end"]["cause"].as_str().unwrap_or_default(),
            );
            assert!(
                dom.contains(&format!("data-sid=\"{sid}\" data-cause=\"{cause}\"")),
                "{name}: {sid} not shown ending with {cause}"
            );
        }
        let mut tied = 0;
        for l in doc["logs"][0]["lines"].as_array().into_iter().flatten() {
            let line = &l["log"]["line"];
            let sid = l["session"]["session"]
                .as_u64()
                .and_then(|i| sessions.get(i as usize))
                .and_then(|f| f["sid"].as_str())
                .unwrap_or_default();
            assert!(
                dom.contains(&format!("data-log-line=\"{line}\" data-log-sid=\"{sid}\"")),
                "{name}: log line {line} not listed on {sid:?}"
            );
            if !sid.is_empty() && l["at"].is_number() {
                tied += 1;
            }
        }
        assert!(tied > 0, "{name}: no log line tied to a session");
        assert!(
            dom.matches("class=\"logmark\"").count() >= tied.min(300),
            "{name}: log lines not on the timeline"
        );
        let png = out_dir().join(format!("har-{name}.png"));
        let _ = std::fs::remove_file(&png);
        let (_, stderr) = chromium(&html, &[&format!("--screenshot={}", png.display())]);
        assert!(console_errors(&stderr).is_empty());
        assert!(std::fs::metadata(&png).map(|m| m.len()).unwrap_or(0) > 10_000);
    }
}

/// The packet index the page draws from, read back row by row (times and frames summed from
/// their differences, strings from the table) and pinned as text.
#[test]
fn report_packet_index_reads_back_as_the_decoded_packets() {
    let pcap = root().join("fixtures/pcap/v4-sticky-fail.pcap");
    let (html, _) = report(&[&pcap], &[], "index.html");
    let page = std::fs::read_to_string(&html).expect("page");
    let marker = "data-kind=\"events\" data-capture=\"0\">";
    let start = page.find(marker).expect("block") + marker.len();
    let end = start + page[start..].find("</script>").expect("end");
    let block: serde_json::Value = serde_json::from_str(&page[start..end]).expect("index json");
    let c = &block["columns"];
    let col = |k: &str| c[k].as_array().cloned().unwrap_or_default();
    let strings = col("strings");
    let s = |k: &str, i: usize| {
        let idx = col(k)[i].as_u64().unwrap_or_default() as usize;
        strings[idx].as_str().unwrap_or_default().to_string()
    };
    let n = c["n"].as_u64().unwrap_or_default() as usize;
    let (mut ts, mut frame) = (0i64, 0i64);
    let mut text = format!(
        "{n} packets, detail runs {} cut {}\n",
        block["detail"]["runs"], block["detail"]["cut"]
    );
    let dirs = ["", "c2s", "s2c"];
    let trs = ["", "polling", "websocket"];
    for i in 0..n {
        ts += col("ts")[i].as_i64().unwrap_or_default();
        frame += col("frame")[i].as_i64().unwrap_or_default();
        let layer = c["layers"][col("layer")[i].as_u64().unwrap_or_default() as usize]
            .as_str()
            .unwrap_or_default();
        text += &format!(
            "{:>10.6} #{frame:<4} c{} {:<3} {:<7} {:<20} {:<13} {:<9} {:<6} {} | size {}\n",
            ts as f64 / 1e6,
            col("conn")[i],
            dirs[col("dir")[i].as_u64().unwrap_or_default() as usize],
            layer,
            s("sid", i),
            s("kind", i),
            trs[col("transport")[i].as_u64().unwrap_or_default() as usize],
            s("nsp", i),
            s("detail", i),
            col("size")[i],
        );
    }
    // The same packets, in the same order, as `decode --format ndjson` (the page's table rows).
    let o = sioscope(&["decode", "--format", "ndjson", &pcap.to_string_lossy()]);
    let frames: Vec<i64> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|e| e["frame"].as_i64())
        .collect();
    assert_eq!(frames.len(), n);
    assert_eq!(frames.last().copied(), Some(frame));
    text += &format!("ping timeouts {}\n", c["ping_timeout"]);
    insta::assert_snapshot!("report_index_sticky", text);
}
