//! `sioscope decode`: a capture down to Socket.IO packets, as text or JSON.

use std::io::{self, BufWriter, Write};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};

use sioscope::capture::replay;
use sioscope::event::Event;
use sioscope::report::{JsonReporter, NdjsonReporter, PrettyOptions, PrettyReporter, Reporter};

use crate::common::{open_input, replay_options, use_color, ColorChoice, FilterArgs, InputArgs};

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// One readable line per event.
    Pretty,
    /// One JSON document `{"events": [...]}`.
    Json,
    /// One JSON object per line.
    Ndjson,
}

#[derive(Args, Debug)]
pub struct DecodeArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Pretty)]
    pub format: Format,
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Colors in pretty output.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Do not shorten payloads and session ids in pretty output.
    #[arg(long)]
    pub full: bool,
}

pub fn run(args: DecodeArgs) -> Result<ExitCode> {
    let filter = args.filter.filter()?;
    let input = open_input(&args.input.capture)?;
    let stdout = io::stdout().lock();
    let out = BufWriter::with_capacity(1 << 16, stdout);
    let mut reporter: Box<dyn Reporter> = match args.format {
        Format::Pretty => Box::new(PrettyReporter::new(
            out,
            PrettyOptions {
                color: use_color(args.color),
                full: args.full,
            },
        )),
        Format::Json => Box::new(JsonReporter::new(out)),
        Format::Ndjson => Box::new(NdjsonReporter::new(out)),
    };
    let mut write_err: Option<io::Error> = None;
    let mut sink = |ev: Event| {
        if write_err.is_none() && filter.matches(&ev) {
            if let Err(e) = reporter.event(&ev) {
                write_err = Some(e);
            }
        }
    };
    let res = replay(input, &replay_options(&args.input), &mut sink);
    if let Some(e) = write_err {
        return Err(e).context("writing output");
    }
    reporter.finish().context("writing output")?;
    match res {
        Ok(_) => Ok(ExitCode::SUCCESS),
        Err(e) => {
            io::stdout().flush().ok();
            Err(anyhow::Error::new(e).context(format!("{}", args.input.capture.display())))
        }
    }
}
