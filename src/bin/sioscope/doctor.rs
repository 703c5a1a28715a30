//! `sioscope doctor <url>`: which transports work from here, what is blocked on the way, the
//! server's settings and versions, and what to change.

use std::io::{self, BufWriter, Write};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use owo_colors::OwoColorize;

use sioscope::doctor::{diagnose, Diagnosis, Options, Status, Target};

use crate::common::{use_color, ColorChoice};

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum DoctorFormat {
    /// Plain words.
    Text,
    /// One JSON document.
    Json,
}

#[derive(Args, Debug)]
pub struct DoctorArgs {
    /// The server: http://host:port[/path/], https://…, ws://…, wss://…, or host:port.
    pub url: String,
    /// The Engine.IO path (default: the URL's path, else /socket.io/).
    #[arg(long)]
    pub path: Option<String>,
    /// Timeout of every step: seconds (`5`, `0.5`) or with a unit (`500ms`, `2s`).
    #[arg(long, default_value = "5", value_parser = parse_timeout)]
    pub timeout: Duration,
    /// Output format.
    #[arg(long, value_enum, default_value_t = DoctorFormat::Text)]
    pub format: DoctorFormat,
    /// Show every step of every probe, with timings.
    #[arg(long, short)]
    pub verbose: bool,
    /// Colors in text output.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

/// `--timeout`: a duration as every flag takes it (`sioscope::units`), between 10 ms and 600 s.
fn parse_timeout(s: &str) -> Result<Duration, String> {
    let d = sioscope::units::parse_duration(s).map_err(|e| e.to_string())?;
    if !(Duration::from_millis(10)..=Duration::from_secs(600)).contains(&d) {
        return Err("the timeout must be between 10ms and 600s".into());
    }
    Ok(d)
}

pub fn run(args: DoctorArgs) -> Result<ExitCode> {
    let target = Target::parse(&args.url, args.path.as_deref())?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let opts = Options {
        target,
        timeout: args.timeout,
    };
    let d = rt.block_on(diagnose(&opts));
    let stdout = io::stdout().lock();
    let mut out = BufWriter::new(stdout);
    match args.format {
        DoctorFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &d).context("writing output")?;
            writeln!(out).context("writing output")?;
        }
        DoctorFormat::Text => write_text(&mut out, &d, args.verbose, use_color(args.color))
            .context("writing output")?,
    }
    out.flush().context("writing output")?;
    Ok(if d.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn write_text(out: &mut dyn Write, d: &Diagnosis, verbose: bool, color: bool) -> io::Result<()> {
    let paint = |s: &str, status: Status| -> String {
        if !color {
            return s.to_string();
        }
        match status {
            Status::Ok => s.green().to_string(),
            Status::Problem => s.red().bold().to_string(),
            Status::Disabled | Status::Skipped => s.yellow().to_string(),
        }
    };
    writeln!(out, "sioscope doctor {}", d.target)?;
    match d.connect_ms {
        Some(ms) => writeln!(out, "  reachable: TCP connection in {ms:.1} ms")?,
        None => writeln!(out, "  {}", paint("not reachable", Status::Problem))?,
    }
    for p in &d.probes {
        let mark = match p.status {
            Status::Ok => "ok     ",
            Status::Problem => "PROBLEM",
            Status::Disabled => "off    ",
            Status::Skipped => "skipped",
        };
        writeln!(
            out,
            "  {} {:<18} {}",
            paint(mark, p.status),
            p.name,
            p.summary
        )?;
        if let Some(e) = &p.extensions {
            if verbose || p.name.ends_with("deflate") {
                writeln!(out, "  {:<7} {:<18} negotiated: {e}", "", "")?;
            }
        }
        if verbose || p.status == Status::Problem {
            for s in &p.steps {
                writeln!(out, "            {s}")?;
            }
        }
    }
    let settings = d.settings_lines();
    if d.reachable && !settings.is_empty() {
        writeln!(out, "server")?;
        for l in settings {
            writeln!(out, "  {l}")?;
        }
    }
    if !d.problems.is_empty() {
        writeln!(out, "problems")?;
        for p in &d.problems {
            writeln!(out, "  - {p}")?;
        }
    }
    if !d.notes.is_empty() {
        writeln!(out, "notes")?;
        for n in &d.notes {
            writeln!(out, "  - {n}")?;
        }
    }
    if !d.advice.is_empty() {
        writeln!(out, "what to change")?;
        for a in &d.advice {
            writeln!(out, "  - {a}")?;
        }
    }
    if d.ok {
        writeln!(out, "{}", paint("all good", Status::Ok))
    } else {
        writeln!(
            out,
            "{}",
            paint(
                &format!("{} problem(s) found", d.problems.len()),
                Status::Problem
            )
        )
    }
}
