//! `sioscope explain`: how every Engine.IO session ended, with evidence.

use std::io::{self, BufWriter, Write};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};

use sioscope::report::ExplainText;

use crate::common::{track_any, use_color, ColorChoice, InputArgs};

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
    /// A library's debug log of the same traffic (node `DEBUG=engine*,socket.io*`, python-engineio
    /// / python-socketio logging); repeatable. Its lines are quoted beside the wire evidence.
    #[arg(long = "log", value_name = "FILE")]
    logs: Vec<std::path::PathBuf>,
}

pub fn run(args: ExplainArgs) -> Result<ExitCode> {
    let (tracker, har) = track_any(&args.input)?;
    let mut x = sioscope::explain::explain(&tracker);
    if let Some(h) = &har {
        sioscope::explain::apply_har_limits(&tracker, &mut x, h);
    }
    let logs = crate::log_input::place_logs(&args.logs, &tracker, &x)?;
    for tl in &logs {
        sioscope::explain::attach_log_evidence(&mut x, tl);
    }
    let name = args.input.capture.display().to_string();
    let stdout = io::stdout().lock();
    let mut out = BufWriter::new(stdout);
    match args.format {
        ExplainFormat::Text => {
            let t0 = tracker.span().map(|(a, _)| a).unwrap_or_default();
            ExplainText::new(&mut out, use_color(args.color), t0)
                .write(&name, &x)
                .context("writing output")?;
        }
        ExplainFormat::Json => {
            let doc = serde_json::json!({
                "capture": name,
                "har": har,
                "logs": logs,
                "summary": {
                    "sessions": x.sessions.len(),
                    "abnormal": x.abnormal(),
                    "duration": x.duration,
                },
                "sessions": x.sessions,
                "chains": x.chains,
                "sessionless_errors": x.sessionless_errors,
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
