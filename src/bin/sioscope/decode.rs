//! `sioscope decode`: a capture down to Socket.IO packets, as text or JSON.

use std::io::{self, BufWriter, IsTerminal, Write};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::Args;

use sioscope::log::{Interleave, LogEvent};
use sioscope::report::{Reporter, Seen};

use crate::common::{replay_input, track_input_quiet, FilterArgs, InputArgs, OutputArgs};
use crate::decode_log::Merged;

#[derive(Args, Debug)]
pub struct DecodeArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub filter: FilterArgs,
    /// A library's debug log of the same traffic (node `DEBUG=engine*,socket.io*`, python-engineio
    /// / python-socketio logging); repeatable. Its lines are interleaved with the events by time
    /// (after the detected clock offset), each with the session it names. The capture is read
    /// twice (sessions first), so it must be a file, not standard input.
    #[arg(long = "log", value_name = "FILE")]
    pub logs: Vec<std::path::PathBuf>,
    #[command(flatten)]
    pub log_line: crate::log_input::LogLineArg,
}

pub fn run(args: DecodeArgs) -> Result<ExitCode> {
    let filter = args.filter.filter()?;
    let mut reporter: Option<Box<dyn Reporter + Send>> = None;
    let mut write_err: Option<io::Error> = None;
    let mut seen = Seen::for_filter(&filter);
    let mut shown = 0u64;
    // `--log`: a first pass finds the sessions the lines are placed against.
    let first = if args.logs.is_empty() {
        None
    } else {
        if args.input.capture.iter().any(|p| p.as_os_str() == "-") {
            bail!("--log reads the capture twice (the sessions first, to place the log lines, then the events), and standard input cannot be read twice: save the capture to a file and give its path");
        }
        let tracked = track_input_quiet(&args.input)?;
        let x = sioscope::explain::explain(&tracked.tracker);
        let logs = crate::log_input::place_logs(
            &args.logs,
            args.log_line.max_log_line,
            &tracked.tracker,
            &x,
        )?;
        Some((tracked, logs))
    };
    let mut merge = first
        .as_ref()
        .map(|(tracked, logs)| Interleave::new(logs, &tracked.tracker));
    if let Some(m) = &merge {
        if m.untimed() > 0 {
            eprintln!(
                "sioscope: {} log line(s) have no time on the capture's clock (no timestamp of their own, or `+Nms` lines before any handshake they name) and are not shown",
                m.untimed()
            );
        }
    }
    let mut merged = first.as_ref().map(|(tracked, _)| {
        Merged::new(
            Box::new(BufWriter::with_capacity(1 << 16, io::stdout())),
            &args.output,
            tracked.t0,
        )
    });
    let mut logs_shown = 0u64;
    let log_wanted = |e: &LogEvent| match &filter.sid {
        None => true,
        Some(want) => e.sid.is_some_and(|s| s.starts_with(want.as_str())),
    };
    let res = replay_input(&args.input, &mut |ev, t0| {
        seen.event(ev);
        if write_err.is_some() {
            return;
        }
        if let (Some(m), Some(out)) = (merge.as_mut(), merged.as_mut()) {
            for e in m.due(ev.ts).iter().filter(|e| log_wanted(e)) {
                logs_shown += 1;
                if let Err(err) = out.log(e) {
                    write_err = Some(err);
                    return;
                }
            }
        }
        if !filter.matches(ev) {
            return;
        }
        shown += 1;
        let r: &mut dyn Reporter = match merged.as_mut() {
            Some(m) => m,
            None => reporter
                .get_or_insert_with(|| {
                    args.output
                        .reporter(BufWriter::with_capacity(1 << 16, io::stdout()), Some(t0))
                })
                .as_mut(),
        };
        if let Err(e) = r.event(ev) {
            write_err = Some(e);
        }
    });
    if let (Some(m), Some(out), None) = (merge.as_mut(), merged.as_mut(), &write_err) {
        for e in m.rest().iter().filter(|e| log_wanted(e)) {
            logs_shown += 1;
            if let Err(err) = out.log(e) {
                write_err = Some(err);
                break;
            }
        }
    }
    if let Some(e) = write_err {
        return Err(e).context("writing output");
    }
    match merged.as_mut() {
        Some(m) => m.finish(),
        None => reporter
            .unwrap_or_else(|| args.output.reporter(io::stdout(), None))
            .finish(),
    }
    .context("writing output")?;
    if merge.is_some() && io::stderr().is_terminal() && io::stdout().is_terminal() {
        eprintln!("{logs_shown} log lines shown");
    }
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
