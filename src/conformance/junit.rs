//! JUnit XML for CI: one `<testsuite>` per side (`server`, `client`), one `<testcase>` per rule;
//! a broken rule carries a `<failure>` listing its first offending frames. When the run denies
//! causes, a third suite `causes` holds one testcase per session end.
//!
//! The XML is written by hand: element text and attribute values are escaped (`&`, `<`, `>`,
//! `"`, `'`), and characters XML 1.0 cannot carry at all (control characters other than tab,
//! newline and carriage return) are replaced by U+FFFD, since decoded traffic may contain them.

use std::fmt::Write as _;
use std::io::{self, Write};

use super::{Report, RuleResult, Side};

/// Escapes text for an XML attribute value or element content.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

fn testcase(out: &mut String, suite: &str, r: &RuleResult) {
    let _ = write!(
        out,
        "    <testcase classname=\"{}\" name=\"{}\"",
        escape(&format!("sioscope.conformance.{suite}")),
        escape(r.rule.as_str())
    );
    if r.violations == 0 {
        if r.checked == 0 {
            out.push_str(">\n      <skipped message=\"not applicable: nothing to check\"/>\n    </testcase>\n");
        } else {
            out.push_str("/>\n");
        }
        return;
    }
    let msg = format!(
        "{} violation(s) of {} in {} check(s): {}",
        r.violations,
        r.rule.as_str(),
        r.checked,
        r.description
    );
    let _ = writeln!(
        out,
        ">\n      <failure type=\"{}\" message=\"{}\">",
        escape(r.rule.as_str()),
        escape(&msg)
    );
    let mut body = format!("{}\n", r.spec);
    for v in &r.first {
        let _ = writeln!(
            body,
            "frame #{} conn c{}{}: {}",
            v.frame,
            v.conn,
            v.sid
                .as_deref()
                .map(|s| format!(" sid {s}"))
                .unwrap_or_default(),
            v.detail
        );
    }
    out.push_str(&escape(&body));
    out.push_str("      </failure>\n    </testcase>\n");
}

/// Renders the report as a JUnit XML document.
pub fn to_junit(report: &Report) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let total_fail: u64 =
        report.rules.iter().filter(|r| r.violations > 0).count() as u64 + report.denied as u64;
    let with_causes = !report.deny.is_empty();
    let total_tests = report.rules.len() + if with_causes { report.causes.len() } else { 0 };
    let _ = writeln!(
        out,
        "<testsuites name=\"{}\" tests=\"{}\" failures=\"{}\">",
        escape(&format!("sioscope conformance {}", report.capture)),
        total_tests,
        total_fail
    );
    for side in [Side::Server, Side::Client] {
        let rules: Vec<&RuleResult> = report.rules.iter().filter(|r| r.side == side).collect();
        let failures = rules.iter().filter(|r| r.violations > 0).count();
        let skipped = rules
            .iter()
            .filter(|r| r.violations == 0 && r.checked == 0)
            .count();
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"{}\">",
            side.as_str(),
            rules.len(),
            failures,
            skipped
        );
        for r in rules {
            testcase(&mut out, side.as_str(), r);
        }
        out.push_str("  </testsuite>\n");
    }
    if with_causes {
        let _ = writeln!(
            out,
            "  <testsuite name=\"causes\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"0\">",
            report.causes.len(),
            report.denied
        );
        for c in &report.causes {
            let name = if c.sid.is_empty() {
                format!("frame {}", c.frame)
            } else {
                format!("session {}", c.sid)
            };
            let _ = write!(
                out,
                "    <testcase classname=\"sioscope.conformance.causes\" name=\"{}\"",
                escape(&name)
            );
            if c.denied {
                let _ = writeln!(
                    out,
                    ">\n      <failure type=\"{}\" message=\"{}\">{}</failure>\n    </testcase>",
                    escape(&c.cause),
                    escape(&format!("denied cause {} at frame #{}", c.cause, c.frame)),
                    escape(&c.explanation)
                );
            } else {
                out.push_str("/>\n");
            }
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

/// Writes the report as JUnit XML.
pub fn write_junit(report: &Report, w: &mut dyn Write) -> io::Result<()> {
    w.write_all(to_junit(report).as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_control_characters() {
        assert_eq!(escape("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c&apos;");
        assert_eq!(escape("x\u{1}y\tz"), "x\u{fffd}y\tz");
    }
}
