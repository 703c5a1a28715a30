//! `sioscope check --capture <capture>`: does the recorded
//! traffic of both peers follow the protocols, and did any session end in a denied way?

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};

use tabled::settings::Style;
use tabled::{Table, Tabled};

use sioscope::conformance::{junit, Checker, Deny, Report};
use sioscope::report::{paint_column, Seen};

use crate::common::{replay_input, use_color, ColorChoice, InputArgs};

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum CheckFormat {
    /// A table of rules per side, then denied causes.
    Table,
    /// One JSON document.
    Json,
}

#[derive(Args, Debug)]
pub struct CheckCaptureArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Fail when a session ended with this cause (`deflate-error`, `ping-timeout`, ...),
    /// `abnormal` for any abnormal end, `handshake-refused` for refused handshakes.
    /// Repeat or separate with commas.
    #[arg(long, value_delimiter = ',', value_name = "CAUSE")]
    pub deny: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = CheckFormat::Table)]
    pub format: CheckFormat,
    /// Also write JUnit XML here (one testsuite per side, one testcase per rule).
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Colors in table output.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

#[derive(Tabled)]
struct Row {
    side: &'static str,
    rule: &'static str,
    result: String,
    checked: u64,
    violations: u64,
    #[tabled(rename = "first offending frames")]
    first: String,
}

pub fn run(args: CheckCaptureArgs) -> Result<ExitCode> {
    let deny = args
        .deny
        .iter()
        .map(|d| Deny::parse(d.trim()))
        .collect::<Result<Vec<_>, _>>()?;
    let mut checker = Checker::new();
    let mut tracker = args.input.limits.tracker();
    let mut seen = Seen::counts_only(); // read only by `no_engineio`
    let stats = replay_input(&args.input, &mut |ev, _| {
        seen.event(ev);
        checker.event(ev);
        tracker.event(ev);
    })?
    .stats;
    seen.stats(&stats);
    let x = sioscope::explain::explain(&tracker);
    let name = args.input.name();
    let mut report = Report::build(&name, checker, &x, &deny);
    // Nothing checked is not a pass: a capture without a single Engine.IO session (refused
    // handshakes only, or no Socket.IO at all) cannot show that the traffic conforms.
    let nothing = x.sessions.is_empty().then(|| {
        seen.no_engineio()
            .unwrap_or_else(|| "no Engine.IO session found in the capture".to_string())
    });
    if let Some(why) = &nothing {
        report.ok = false;
        eprintln!("sioscope: {why}: nothing to check, not a pass");
    }

    if let Some(path) = &args.junit {
        let f = File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
        let mut w = BufWriter::new(f);
        junit::write_junit(&report, &mut w)
            .and_then(|()| w.flush())
            .with_context(|| format!("writing {}", path.display()))?;
    }
    let stdout = io::stdout().lock();
    let mut out = BufWriter::new(stdout);
    match args.format {
        CheckFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &report).context("writing output")?;
            writeln!(out).context("writing output")?;
        }
        CheckFormat::Table => {
            write_table(&mut out, &report, nothing.as_deref(), use_color(args.color))
                .context("writing output")?
        }
    }
    out.flush().context("writing output")?;
    Ok(if report.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn write_table(
    out: &mut dyn Write,
    r: &Report,
    nothing: Option<&str>,
    color: bool,
) -> io::Result<()> {
    let good_bad = |good: bool| {
        if good {
            owo_colors::Style::new().green()
        } else {
            owo_colors::Style::new().red().bold()
        }
    };
    let paint = |s: &str, good: bool| sioscope::report::paint(s, good_bad(good), color);
    let mut rows = vec![];
    let mut not_applicable = vec![];
    for rr in &r.rules {
        if rr.checked == 0 && rr.violations == 0 {
            not_applicable.push(format!("{}/{}", rr.side.as_str(), rr.rule.as_str()));
            continue;
        }
        let first = rr
            .first
            .iter()
            .map(|v| format!("#{} c{}: {}", v.frame, v.conn, cut(&v.detail, 90)))
            .collect::<Vec<_>>()
            .join("\n");
        rows.push(Row {
            side: rr.side.as_str(),
            rule: rr.rule.as_str(),
            result: rr.status().to_string(),
            checked: rr.checked,
            violations: rr.violations,
            first,
        });
    }
    writeln!(out, "conformance of {}", r.capture)?;
    if rows.is_empty() {
        writeln!(out, "no Engine.IO / Socket.IO traffic to check")?;
    } else {
        let mut t = Table::new(rows);
        t.with(Style::sharp());
        // Painted after the layout, so that the columns stay aligned.
        let style = |w: &str| match w {
            "pass" => Some(good_bad(true)),
            "fail" => Some(good_bad(false)),
            _ => None,
        };
        writeln!(out, "{}", paint_column(&t.to_string(), 2, style, color))?;
    }
    if !not_applicable.is_empty() {
        writeln!(
            out,
            "not applicable (nothing to check): {}",
            not_applicable.join(", ")
        )?;
    }
    if r.notes_total > 0 {
        writeln!(
            out,
            "{} note(s) about the capture itself (not counted as violations):",
            r.notes_total
        )?;
        for n in r.notes.iter().take(5) {
            writeln!(
                out,
                "  #{} c{}: {}: {}",
                n.frame,
                n.conn,
                n.rule,
                cut(&n.detail, 100)
            )?;
        }
    }
    if !r.deny.is_empty() {
        writeln!(out, "denied causes ({}):", r.deny.join(", "))?;
        let denied: Vec<_> = r.causes.iter().filter(|c| c.denied).collect();
        if denied.is_empty() {
            writeln!(out, "  none of {} session end(s)", r.causes.len())?;
        }
        for c in denied {
            let who = if c.sid.is_empty() {
                "handshake".to_string()
            } else {
                format!("session {}", c.sid)
            };
            writeln!(
                out,
                "  {} {} at #{}: {}",
                paint(&c.cause, false),
                who,
                c.frame,
                cut(&c.explanation, 120)
            )?;
        }
    }
    if let Some(why) = nothing {
        return writeln!(out, "{}: {why}", paint("NOTHING CHECKED", false));
    }
    let verdict = if r.ok {
        paint("PASS", true)
    } else {
        paint("FAIL", false)
    };
    writeln!(
        out,
        "{verdict}: {} violation(s), {} denied session end(s)",
        r.violations, r.denied
    )
}

fn cut(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max).collect();
        t.push('…');
        t
    }
}
