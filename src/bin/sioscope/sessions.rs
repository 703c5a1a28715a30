//! `sioscope sessions`: the sessions of a capture, how they chain across reconnects, and a diff of
//! two sessions.

use std::io::{self, BufWriter, Write};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};

use sioscope::report::{write_diff, write_sessions};

use crate::common::{track, InputArgs};

/// Output formats of `sessions`.
#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum SessionsFormat {
    /// Tables.
    Table,
    /// One JSON document with `sessions` and `chains`.
    Json,
}

/// Arguments of `sessions`.
#[derive(Args, Debug)]
pub struct SessionsArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Compare two sessions field by field (session ids, or prefixes of them).
    #[arg(long, num_args = 2, value_names = ["A", "B"])]
    pub diff: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = SessionsFormat::Table)]
    pub format: SessionsFormat,
    /// Show whole session and socket ids.
    #[arg(long)]
    pub full: bool,
}

/// Runs `sessions`.
pub fn run(args: SessionsArgs) -> Result<ExitCode> {
    let tracker = track(&args.input)?;
    let x = sioscope::explain::explain(&tracker);
    let t0 = tracker.span().map(|(a, _)| a).unwrap_or_default();
    let stdout = io::stdout().lock();
    let mut out = BufWriter::new(stdout);
    if let [a, b] = args.diff.as_slice() {
        let find = |want: &str| -> Result<usize> {
            let hits: Vec<usize> = tracker
                .sessions()
                .iter()
                .enumerate()
                .filter(|(_, s)| s.sid.starts_with(want))
                .map(|(i, _)| i)
                .collect();
            match hits.as_slice() {
                [i] => Ok(*i),
                [] => bail!("no session id starts with {want:?} (see `sioscope sessions`)"),
                _ => bail!(
                    "{want:?} matches {} sessions; give more of the id",
                    hits.len()
                ),
            }
        };
        let (ia, ib) = (find(a)?, find(b)?);
        let recs = tracker.sessions();
        let (Some(ra), Some(rb), Some(fa), Some(fb)) = (
            recs.get(ia),
            recs.get(ib),
            x.sessions.get(ia),
            x.sessions.get(ib),
        ) else {
            bail!("session index out of range");
        };
        match args.format {
            SessionsFormat::Table => write_diff(&mut out, (ra, fa), (rb, fb), t0)?,
            SessionsFormat::Json => {
                serde_json::to_writer_pretty(
                    &mut out,
                    &serde_json::json!({ "a": ra, "b": rb, "a_end": fa.end, "b_end": fb.end }),
                )?;
                writeln!(out)?;
            }
        }
    } else {
        match args.format {
            SessionsFormat::Table => write_sessions(&mut out, &x, t0, args.full)?,
            SessionsFormat::Json => {
                serde_json::to_writer_pretty(
                    &mut out,
                    &serde_json::json!({ "sessions": x.sessions, "chains": x.chains }),
                )?;
                writeln!(out)?;
            }
        }
    }
    out.flush().context("writing output")?;
    Ok(ExitCode::SUCCESS)
}
