//! `sioscope decode`: a capture down to Socket.IO packets, as text or JSON.

use std::io::{self, BufWriter, IsTerminal, Write};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::Args;

use sioscope::report::{Reporter, Seen};

use crate::common::{replay_input, FilterArgs, InputArgs, OutputArgs};

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
    let mut reporter: Option<Box<dyn Reporter + Send>> = None;
    let mut write_err: Option<io::Error> = None;
    let mut seen = Seen::default();
    let mut shown = 0u64;
    let res = replay_input(&args.input, &mut |ev, t0| {
        seen.event(ev);
        if write_err.is_some() || !filter.matches(ev) {
            return;
        }
        shown += 1;
        let r = reporter.get_or_insert_with(|| {
            args.output
                .reporter(BufWriter::with_capacity(1 << 16, io::stdout()), Some(t0))
        });
        if let Err(e) = r.event(ev) {
            write_err = Some(e);
        }
    });
    if let Some(e) = write_err {
        return Err(e).context("writing output");
    }
    let mut reporter = reporter.unwrap_or_else(|| args.output.reporter(io::stdout(), None));
    reporter.finish().context("writing output")?;
    let stats = match res {
        Ok(replayed) => replayed.stats,
        Err(e) => {
            io::stdout().flush().ok();
            return Err(e);
        }
    };
    seen.stats(&stats);
    if let Some(why) = seen.no_engineio() {
        eprintln!("sioscope: {why}");
    } else if shown == 0 {
        eprintln!("sioscope: {}", seen.why_nothing_matched(&filter));
    } else if let Some(sid) = &filter.sid {
        let hits = seen.sids_starting_with(sid);
        if hits.len() > 1 {
            bail!(
                "--sid {sid:?} is ambiguous: it starts {} session ids ({}); give more of the id",
                hits.len(),
                hits.iter().take(5).copied().collect::<Vec<_>>().join(", ")
            );
        }
    }
    if io::stderr().is_terminal() && io::stdout().is_terminal() {
        eprintln!(
            "{shown} of {} events shown · {} packets · {} TCP connections · {} Socket.IO packets",
            seen.events_total, stats.frames, seen.tcp_conns, seen.socketio_packets
        );
    }
    Ok(ExitCode::SUCCESS)
}
