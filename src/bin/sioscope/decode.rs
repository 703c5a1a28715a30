//! `sioscope decode`: a capture down to Socket.IO packets, as text or JSON.

use std::io::{self, BufWriter, Write};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;

use sioscope::event::Event;

use crate::common::{open_input, replay_options, FilterArgs, InputArgs, OutputArgs};

#[derive(Args, Debug)]
pub struct DecodeArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub filter: FilterArgs,
}

pub fn run(args: DecodeArgs) -> Result<ExitCode> {
    let filter = args.filter.filter()?;
    let input = open_input(&args.input.capture)?;
    let mut reporter = args
        .output
        .reporter(BufWriter::with_capacity(1 << 16, io::stdout()));
    let mut write_err: Option<io::Error> = None;
    let mut sink = |ev: Event| {
        if write_err.is_none() && filter.matches(&ev) {
            if let Err(e) = reporter.event(&ev) {
                write_err = Some(e);
            }
        }
    };
    let res = crate::har_input::replay_input(input, &replay_options(&args.input), &mut sink);
    if let Some(e) = write_err {
        return Err(e).context("writing output");
    }
    reporter.finish().context("writing output")?;
    match res {
        Ok(_) => Ok(ExitCode::SUCCESS),
        Err(e) => {
            io::stdout().flush().ok();
            Err(e.context(format!("{}", args.input.capture.display())))
        }
    }
}
