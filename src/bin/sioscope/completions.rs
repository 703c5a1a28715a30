//! `sioscope completions <shell>` and `sioscope man`: generated from the clap definition, so they
//! never drift from the flags.

use std::io::{self, Write};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, CommandFactory};
use clap_complete::Shell;

use crate::Cli;

/// Arguments of `completions`.
#[derive(Args, Debug)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: Shell,
}

/// Writes the completion script for the shell to stdout.
pub fn run(args: CompletionsArgs) -> Result<ExitCode> {
    let mut cmd = Cli::command();
    let mut out = io::stdout().lock();
    clap_complete::generate(args.shell, &mut cmd, "sioscope", &mut out);
    out.flush().context("writing output")?;
    Ok(ExitCode::SUCCESS)
}

/// Writes the man page (roff) to stdout: the synopsis, the options, the subcommands with what
/// each does, the examples and exit codes.
pub fn man() -> Result<ExitCode> {
    let mut out = io::stdout().lock();
    clap_mangen::Man::new(Cli::command())
        .render(&mut out)
        .context("writing output")?;
    out.flush().context("writing output")?;
    Ok(ExitCode::SUCCESS)
}
