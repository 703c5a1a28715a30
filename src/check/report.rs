//! Reports of a run: a table for people, JSON for programs, JUnit XML for CI.
//!
//! JUnit follows the common schema (the one Jenkins and GitLab read):
//! `<testsuites tests failures skipped errors time>` › `<testsuite name tests failures
//! skipped errors time>` › `<testcase name classname time>` with an optional `<failure
//! message>` (the transcript as text) or `<skipped message/>`. One `testsuite` per suite
//! (engine.io, socket.io, extra).

use std::fmt::Write as _;

use tabled::settings::Style;
use tabled::{Table, Tabled};

use super::case::Suite;
use super::profile::Settings;
use super::runner::{CaseReport, Outcome, SuiteReport};
use crate::client::Dir;

#[derive(Tabled)]
struct Row {
    #[tabled(rename = "case")]
    id: &'static str,
    #[tabled(rename = "result")]
    result: String,
    #[tabled(rename = "ms")]
    ms: u64,
    #[tabled(rename = "detail")]
    detail: String,
}

fn short(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n).collect();
        t.push('…');
        t
    }
}

/// The summary line (`N passed, M failed, K skipped in T s`).
pub fn summary(r: &SuiteReport) -> String {
    let allowed = match r.count(3) {
        0 => String::new(),
        n => format!(", {n} allowed deviations"),
    };
    format!(
        "{} passed, {} failed, {} skipped{allowed} in {:.1} s",
        r.count(0),
        r.count(1),
        r.count(2),
        r.millis as f64 / 1000.0
    )
}

fn settings_text(s: &Settings) -> String {
    let ms = |v: Option<u64>| v.map_or("absent".to_string(), |v| format!("{v} ms"));
    format!(
        "pingInterval {} · pingTimeout {} · maxPayload {} · upgrades [{}]",
        ms(s.ping_interval),
        ms(s.ping_timeout),
        s.max_payload
            .map_or("absent".to_string(), |v| format!("{v} bytes")),
        s.upgrades.join(", ")
    )
}

/// The summary line, what was found, the skipped cases grouped by reason, the table of cases,
/// then each failure with the bytes exchanged.
pub fn text(r: &SuiteReport) -> String {
    let mut out = summary(r);
    out.push('\n');
    let _ = writeln!(
        out,
        "sioscope check {} (Engine.IO v{}, Socket.IO v{})",
        r.url, r.eio, r.sio
    );
    let _ = writeln!(
        out,
        "  Socket.IO at {}: {}",
        r.socketio_path,
        settings_text(&r.settings)
    );
    match (&r.engineio_path, &r.engineio_settings) {
        (Some(p), Some(s)) => {
            let _ = writeln!(out, "  Engine.IO at {p}: {}", settings_text(s));
        }
        _ => out.push_str("  no bare Engine.IO endpoint\n"),
    }
    let _ = writeln!(
        out,
        "  reference app: {} ({})",
        if r.reference { "yes" } else { "no" },
        r.reference_why
    );
    let skips = r.skips_by_reason();
    if !skips.is_empty() {
        out.push_str("skipped:\n");
        for (why, ids) in skips {
            let _ = writeln!(out, "  {} × {why}\n    {}", ids.len(), ids.join(" "));
        }
    }
    // Skipped cases are listed above, by reason.
    let rows: Vec<Row> = r
        .cases
        .iter()
        .filter(|c| !matches!(c.outcome, Outcome::Skip(_)))
        .map(|c| {
            let (result, detail) = match &c.outcome {
                Outcome::Pass => ("pass".to_string(), String::new()),
                Outcome::Fail(m) => ("FAIL".to_string(), short(m, 90)),
                Outcome::Skip(m) => ("skip".to_string(), short(m, 90)),
                Outcome::Allowed(m) => ("allowed".to_string(), short(m, 90)),
            };
            Row {
                id: c.id,
                result,
                ms: c.millis,
                detail,
            }
        })
        .collect();
    out.push_str(&Table::new(rows).with(Style::sharp()).to_string());
    out.push('\n');
    for c in r
        .cases
        .iter()
        .filter(|c| matches!(c.outcome, Outcome::Fail(_) | Outcome::Allowed(_)))
    {
        out.push('\n');
        out.push_str(&failure_text(c));
    }
    out
}

/// One failure: the reason and the transcript.
pub fn failure_text(c: &CaseReport) -> String {
    let mut out = String::new();
    match &c.outcome {
        Outcome::Fail(m) => {
            let _ = writeln!(out, "FAIL {} ({})\n  {m}", c.id, c.mirrors);
        }
        Outcome::Allowed(m) => {
            let _ = writeln!(out, "ALLOWED {} ({})\n  {m}", c.id, c.mirrors);
        }
        _ => {}
    }
    for e in &c.wire {
        let arrow = match e.dir {
            Dir::Sent => "→",
            Dir::Received => "←",
            Dir::Note => "·",
        };
        let _ = writeln!(
            out,
            "  {:>5} ms {:<7} {arrow} {}",
            e.at_ms, e.channel, e.text
        );
    }
    if c.wire_dropped > 0 {
        let _ = writeln!(out, "  … {} more exchanges not shown", c.wire_dropped);
    }
    out
}

/// The run as one JSON document.
pub fn json(r: &SuiteReport) -> String {
    let mut v = serde_json::to_value(r).unwrap_or_default();
    if let Some(m) = v.as_object_mut() {
        m.insert(
            "summary".into(),
            serde_json::json!({"passed": r.count(0), "failed": r.count(1), "skipped": r.count(2), "allowed": r.count(3)}),
        );
    }
    serde_json::to_string_pretty(&v).unwrap_or_default()
}

/// XML text/attribute escaping (the five predefined entities; other control characters,
/// which XML 1.0 forbids, become `\u{..}`).
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' | '\t' => out.push(ch),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

fn secs(ms: u64) -> String {
    format!("{:.3}", ms as f64 / 1000.0)
}

/// The run as JUnit XML.
pub fn junit(r: &SuiteReport) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"sioscope check\" tests=\"{}\" failures=\"{}\" skipped=\"{}\" errors=\"0\" time=\"{}\">",
        r.cases.len(),
        r.count(1),
        r.count(2),
        secs(r.millis)
    );
    for (suite, name) in [
        (Suite::EngineIo, "engine.io"),
        (Suite::SocketIo, "socket.io"),
        (Suite::Extra, "extra"),
    ] {
        let cases: Vec<&CaseReport> = r.cases.iter().filter(|c| c.suite == suite).collect();
        if cases.is_empty() {
            continue;
        }
        let fails = cases
            .iter()
            .filter(|c| matches!(c.outcome, Outcome::Fail(_)))
            .count();
        let skips = cases
            .iter()
            .filter(|c| matches!(c.outcome, Outcome::Skip(_)))
            .count();
        let time: u64 = cases.iter().map(|c| c.millis).sum();
        let _ = writeln!(
            out,
            "  <testsuite name=\"{name}\" tests=\"{}\" failures=\"{fails}\" skipped=\"{skips}\" errors=\"0\" time=\"{}\">",
            cases.len(),
            secs(time)
        );
        for c in cases {
            let _ = write!(
                out,
                "    <testcase name=\"{}\" classname=\"sioscope.check.{name}\" time=\"{}\"",
                esc(c.id),
                secs(c.millis)
            );
            match &c.outcome {
                Outcome::Pass => out.push_str("/>\n"),
                Outcome::Skip(m) => {
                    let _ = writeln!(
                        out,
                        ">\n      <skipped message=\"{}\"/>\n    </testcase>",
                        esc(m)
                    );
                }
                Outcome::Allowed(m) => {
                    let _ = writeln!(
                        out,
                        ">\n      <system-out>{}</system-out>\n    </testcase>",
                        esc(m)
                    );
                }
                Outcome::Fail(m) => {
                    let _ = writeln!(
                        out,
                        ">\n      <failure message=\"{}\" type=\"nonconformance\">{}</failure>\n    </testcase>",
                        esc(m),
                        esc(&failure_text(c))
                    );
                }
            }
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(id: &'static str, suite: Suite, outcome: Outcome) -> CaseReport {
        CaseReport {
            id,
            suite,
            mirrors: "m",
            needs: crate::check::Needs::Protocol,
            outcome,
            millis: 12,
            wire: Vec::new(),
            wire_dropped: 0,
        }
    }

    #[test]
    fn junit_counts_and_escapes() {
        let r = SuiteReport {
            url: "http://127.0.0.1:1".into(),
            eio: 4,
            sio: 5,
            socketio_path: "/socket.io/".into(),
            settings: Settings::reference(),
            engineio_path: None,
            engineio_settings: None,
            reference: false,
            reference_why: "no".into(),
            cases: vec![
                case("a", Suite::EngineIo, Outcome::Pass),
                case(
                    "b",
                    Suite::EngineIo,
                    Outcome::Fail("got \"<4\u{1e}x>\" & more".into()),
                ),
                case("c", Suite::Extra, Outcome::Skip("n/a".into())),
            ],
            millis: 36,
        };
        let x = junit(&r);
        assert!(x.contains(r#"<testsuites name="sioscope check" tests="3" failures="1" skipped="1" errors="0" time="0.036">"#), "{x}");
        assert!(
            x.contains(r#"<testsuite name="engine.io" tests="2" failures="1" skipped="0""#),
            "{x}"
        );
        assert!(
            x.contains(r#"message="got &quot;&lt;4\u{1e}x&gt;&quot; &amp; more""#),
            "{x}"
        );
        assert!(!x.contains("socket.io\""), "empty suites are left out: {x}");
        let t = text(&r);
        assert!(
            t.starts_with("1 passed, 1 failed, 1 skipped in 0.0 s\n"),
            "{t}"
        );
        assert!(t.contains("skipped:\n  1 × n/a\n    c\n"), "{t}");
        let mut with_allowed = r.clone();
        with_allowed
            .cases
            .push(case("d", Suite::SocketIo, Outcome::Allowed("known".into())));
        assert!(
            summary(&with_allowed)
                .starts_with("1 passed, 1 failed, 1 skipped, 1 allowed deviations in "),
            "{}",
            summary(&with_allowed)
        );
    }
}
