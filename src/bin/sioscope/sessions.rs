//! `sioscope sessions`: the sessions of a capture, how they chain across reconnects, and a diff of
//! two sessions.

use std::io::{self, BufWriter, IsTerminal, Write};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::Args;

use sioscope::report::{write_diff, write_sessions, Filter, SessionsOptions};

use crate::common::{
    terminal_width, track_input, use_color, ColorChoice, FilterArgs, Format, InputArgs,
};

/// Arguments of `sessions`.
#[derive(Args, Debug)]
pub struct SessionsArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Compare two sessions field by field (session ids, or prefixes of them).
    #[arg(long, num_args = 2, value_names = ["A", "B"])]
    pub diff: Vec<String>,
    /// Output format: text (tables), json (one document), ndjson (one session per line).
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Colors in text output.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Show whole session and socket ids.
    #[arg(long)]
    pub full: bool,
    #[command(flatten)]
    pub filter: FilterArgs,
}

/// Runs `sessions`.
pub fn run(args: SessionsArgs) -> Result<ExitCode> {
    let filter = args.filter.filter()?;
    if let [flag, ..] = filter.packet_only_flags().as_slice() {
        bail!("{flag} selects packets, not sessions: use it with `sioscope decode`");
    }
    let tracked = track_input(&args.input)?;
    let tracker = &tracked.tracker;
    let x = sioscope::explain::explain(tracker);
    let t0 = tracked.t0;
    let stdout = io::stdout().lock();
    let mut out = BufWriter::new(stdout);
    if let [a, b] = args.diff.as_slice() {
        let find = |want: &str| -> Result<usize> {
            let hits: Vec<usize> = tracker
                .sessions()
                .iter()
                .enumerate()
                .filter(|(_, s)| s.sid.starts_with(Filter::normalize_sid(want).as_str()))
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
            Format::Text => write_diff(&mut out, (ra, fa), (rb, fb), t0)?,
            Format::Json | Format::Ndjson => {
                serde_json::to_writer_pretty(
                    &mut out,
                    &serde_json::json!({ "a": ra, "b": rb, "a_end": fa.end, "b_end": fb.end }),
                )?;
                writeln!(out)?;
            }
        }
    } else {
        let x = filter
            .narrow(x, tracker.sessions())
            .map_err(anyhow::Error::msg)?;
        if x.sessions.is_empty() {
            let why = tracked.seen.no_engineio().unwrap_or_else(|| {
                format!(
                    "no session matches the filters ({} sessions in the capture)",
                    tracker.sessions().len()
                )
            });
            eprintln!("sioscope: {why}");
        }
        match args.format {
            Format::Text => {
                let opts = SessionsOptions {
                    full: args.full,
                    color: use_color(args.color),
                    width: io::stdout().is_terminal().then(terminal_width).flatten(),
                };
                write_sessions(&mut out, &x, t0, opts)?
            }
            Format::Json => {
                let mut doc = serde_json::json!({ "sessions": x.sessions, "chains": x.chains });
                if let (Some(f), Some(o)) = (&x.folded, doc.as_object_mut()) {
                    o.insert("folded".into(), serde_json::to_value(f)?);
                }
                serde_json::to_writer_pretty(&mut out, &doc)?;
                writeln!(out)?;
            }
            Format::Ndjson => {
                for f in &x.sessions {
                    serde_json::to_writer(&mut out, f)?;
                    writeln!(out)?;
                }
            }
        }
    }
    out.flush().context("writing output")?;
    Ok(ExitCode::SUCCESS)
}
