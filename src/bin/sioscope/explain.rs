//! `sioscope explain`: how every Engine.IO session ended, with evidence.

use std::io::{self, BufWriter, IsTerminal, Write};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};

use sioscope::report::{ExplainText, ExplainView};

use crate::common::{track, use_color, ColorChoice, InputArgs};

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum ExplainFormat {
    /// A readable report, grouped per client.
    Text,
    /// One JSON document (schema: docs/json-schema.md).
    Json,
}

#[derive(Args, Debug)]
pub struct ExplainArgs {
    #[command(flatten)]
    input: InputArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ExplainFormat::Text)]
    format: ExplainFormat,
    /// Colors in text output.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,
    /// Show every session after the summary, not only each distinct finding once.
    #[arg(long, visible_alias = "full")]
    all: bool,
    /// Show only abnormal ends and refused handshakes.
    #[arg(long)]
    only_abnormal: bool,
}

/// Column to wrap prose at: `COLUMNS` on a terminal (as shells export it), else 100.
fn text_width() -> usize {
    let tty = io::stdout().is_terminal();
    std::env::var("COLUMNS")
        .ok()
        .filter(|_| tty)
        .and_then(|c| c.trim().parse::<usize>().ok())
        .map_or(100, |c| c.clamp(60, 240))
}

pub fn run(args: ExplainArgs) -> Result<ExitCode> {
    let tracker = track(&args.input)?;
    let x = sioscope::explain::explain(&tracker);
    let name = args.input.capture.display().to_string();
    let stdout = io::stdout().lock();
    let mut out = BufWriter::new(stdout);
    match args.format {
        ExplainFormat::Text => {
            let t0 = tracker.span().map(|(a, _)| a).unwrap_or_default();
            let view = ExplainView {
                all: args.all,
                only_abnormal: args.only_abnormal,
                width: text_width(),
            };
            ExplainText::new(&mut out, use_color(args.color), t0)
                .view(view)
                .write(&name, &x)
                .context("writing output")?;
        }
        ExplainFormat::Json => {
            let doc = serde_json::json!({
                "capture": name,
                "summary": x.summary(),
                "rule_order": sioscope::explain::rule_order().collect::<Vec<_>>(),
                "sessions": x
                    .sessions
                    .iter()
                    .filter(|f| !args.only_abnormal || f.abnormal())
                    .collect::<Vec<_>>(),
                "chains": x.chains,
                "sessionless_errors": x.sessionless_errors,
                "refusals": x.refusals,
                "hops": x.hops,
            });
            serde_json::to_writer_pretty(&mut out, &doc).context("writing output")?;
            writeln!(out).context("writing output")?;
        }
    }
    out.flush().context("writing output")?;
    Ok(if x.has_problems() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
