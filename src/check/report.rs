//! Reports of a run: a table for people, JSON for programs, JUnit XML for CI.
//!
//! JUnit follows the common schema (the one Jenkins and GitLab read):
//! `<testsuites tests failures skipped errors time>` › `<testsuite name tests failures
//! skipped errors time>` › `<testcase name classname time>` with an optional `<failure
//! message>` (the transcript as text) or `<skipped message/>`. One `testsuite` per suite
//! (engine.io, socket.io, extra).

use std::fmt::Write as _;

use owo_colors::Style as Paint;
use tabled::settings::Style;
use tabled::{Table, Tabled};

use super::case::Suite;
use super::profile::Settings;
use super::runner::{CaseReport, Outcome, SuiteReport};
use crate::client::Dir;
use crate::report::{paint, paint_column};

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
    summary_painted(r, false)
}

/// The summary line, its counts coloured when `color` is on (failures red, passes green, skips
/// and allowed deviations yellow; a zero count stays plain).
fn summary_painted(r: &SuiteReport, color: bool) -> String {
    let count = |n: usize, what: &str, style: Paint| {
        let s = format!("{n} {what}");
        if n == 0 {
            s
        } else {
            paint(&s, style, color)
        }
    };
    let allowed = match r.count(3) {
        0 => String::new(),
        n => format!(
            ", {}",
            count(n, "allowed deviations", Paint::new().yellow())
        ),
    };
    format!(
        "{}, {}, {}{allowed} in {:.1} s",
        count(r.count(0), "passed", Paint::new().green()),
        count(r.count(1), "failed", Paint::new().red().bold()),
        count(r.count(2), "skipped", Paint::new().yellow()),
        r.millis as f64 / 1000.0
    )
}

/// The style of a case result word (`pass`, `FAIL`, `allowed`, `ALLOWED`) in text output.
fn result_style(word: &str) -> Option<Paint> {
    match word {
        "pass" => Some(Paint::new().green()),
        "FAIL" => Some(Paint::new().red().bold()),
        "allowed" | "ALLOWED" => Some(Paint::new().yellow()),
        _ => None,
    }
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
/// then each failure with the bytes exchanged; coloured when `color` is on, in the styles of
/// `decode` and `explain` (results green, red or yellow, headings bold, the time column dimmed).
pub fn text(r: &SuiteReport, color: bool) -> String {
    let bold = |s: &str| paint(s, Paint::new().bold(), color);
    let mut out = summary_painted(r, color);
    out.push('\n');
    let _ = writeln!(
        out,
        "{} {} (Engine.IO v{}, Socket.IO v{})",
        bold("sioscope check"),
        r.url,
        r.eio,
        r.sio
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
        out.push_str(&bold("skipped:"));
        out.push('\n');
        for (why, ids) in skips {
            let n = paint(&format!("{} ×", ids.len()), Paint::new().yellow(), color);
            let ids = paint(&ids.join(" "), Paint::new().dimmed(), color);
            let _ = writeln!(out, "  {n} {why}\n    {ids}");
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
    let table = Table::new(rows).with(Style::sharp()).to_string();
    out.push_str(&paint_column(&table, 1, result_style, color));
    out.push('\n');
    for c in r
        .cases
        .iter()
        .filter(|c| matches!(c.outcome, Outcome::Fail(_) | Outcome::Allowed(_)))
    {
        out.push('\n');
        out.push_str(&failure_painted(c, color));
    }
    out
}

/// One failure: the reason and the transcript.
pub fn failure_text(c: &CaseReport) -> String {
    failure_painted(c, false)
}

/// [`failure_text`], coloured when `color` is on.
fn failure_painted(c: &CaseReport, color: bool) -> String {
    let mut out = String::new();
    let head = |word: &str| {
        let style = result_style(word).unwrap_or_default();
        format!(
            "{} {}",
            paint(word, style, color),
            paint(c.id, Paint::new().bold(), color)
        )
    };
    match &c.outcome {
        Outcome::Fail(m) => {
            let _ = writeln!(out, "{} ({})\n  {m}", head("FAIL"), c.mirrors);
        }
        Outcome::Allowed(m) => {
            let _ = writeln!(out, "{} ({})\n  {m}", head("ALLOWED"), c.mirrors);
        }
        _ => {}
    }
    for e in &c.wire {
        let arrow = match e.dir {
            Dir::Sent => "→",
            Dir::Received => "←",
            Dir::Note => "·",
        };
        let at = paint(&format!("{:>5} ms", e.at_ms), Paint::new().dimmed(), color);
        let channel = paint(&format!("{:<7}", e.channel), Paint::new().cyan(), color);
        let _ = writeln!(out, "  {at} {channel} {arrow} {}", e.text);
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
        let t = text(&r, false);
        assert!(!t.contains('\u{1b}'), "{t}");
        assert!(
            t.starts_with("1 passed, 1 failed, 1 skipped in 0.0 s\n"),
            "{t}"
        );
        assert!(t.contains("skipped:\n  1 × n/a\n    c\n"), "{t}");
        let painted = text(&r, true);
        assert!(
            painted.contains("\u{1b}[31;1mFAIL\u{1b}[0m \u{1b}[1mb\u{1b}[0m"),
            "{painted}"
        );
        assert!(painted.contains("\u{1b}[32mpass\u{1b}[0m"), "{painted}");
        // Coloured or not, the same text in the same columns.
        assert_eq!(strip_ansi(&painted), t);
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

    /// `s` without its ANSI colour sequences (`ESC [ … m`).
    fn strip_ansi(s: &str) -> String {
        let mut out = String::new();
        let mut chars = s.chars();
        while let Some(c) = chars.next() {
            if c == '\u{1b}' {
                for c in chars.by_ref() {
                    if c == 'm' {
                        break;
                    }
                }
            } else {
                out.push(c);
            }
        }
        out
    }
}
