//! `sioscope report`: one self-contained HTML page of one or more captures or HARs.

use std::fs::File;
use std::io::{self, BufWriter};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;

use sioscope::capture::ReplayOptions;
use sioscope::report::html::{DataKind, HtmlPage, DEFAULT_MAX_DETAIL};
use sioscope::report::Filter;

use crate::common::{replay_input, size_arg, InputArgs};

#[derive(Args, Debug)]
pub struct ReportArgs {
    /// Captures (pcap or pcapng, plain, `.gz` or `.zst`) or HAR files, or `-` for one on standard
    /// input; each is its own section of the page.
    #[arg(required = true, value_name = "CAPTURE")]
    captures: Vec<PathBuf>,
    /// The HTML file to write.
    #[arg(short, long, value_name = "REPORT.html")]
    output: PathBuf,
    /// A library's debug log of the same traffic (node `DEBUG=engine*,socket.io*`, python-engineio
    /// / python-socketio logging); repeatable. Its lines go on the sessions' timeline and beside
    /// the wire evidence, as `explain --log` quotes them.
    #[arg(long = "log", value_name = "FILE")]
    logs: Vec<PathBuf>,
    #[command(flatten)]
    pub log_line: crate::log_input::LogLineArg,
    /// Packets whose JSON is over 2 KiB are kept whole for the packet view up to this total of
    /// their JSON; past it their payloads are cut to a preview and their length (the page marks
    /// them). Shorter packets are always kept whole.
    #[arg(long, value_name = "SIZE", default_value_t = DEFAULT_MAX_DETAIL, value_parser = size_arg,
          allow_hyphen_values = true)]
    max_detail: usize,
}

pub fn run(args: ReportArgs) -> Result<ExitCode> {
    let out = File::create(&args.output)
        .with_context(|| format!("cannot create {}", args.output.display()))?;
    let res = write(&args, BufWriter::with_capacity(1 << 20, out));
    if res.is_err() {
        // A half-written page would look like a report of part of the traffic.
        let _ = std::fs::remove_file(&args.output);
    }
    res?;
    Ok(ExitCode::SUCCESS)
}

/// The input flags of one capture, with the defaults every reading command has.
fn input_of(path: &Path) -> InputArgs {
    let o = ReplayOptions::default();
    InputArgs {
        capture: vec![path.to_path_buf()],
        eio: o.pipeline.eio,
        max_message: o.pipeline.max_message,
        max_buffer: o.reassembly.max_pending,
        threads: None,
        max_tracked_connections: o.reassembly.max_conns,
        max_har_entry: o.har.max_entry,
        limits: crate::common::DecodeLimitArgs::default(),
    }
}

fn write(args: &ReportArgs, out: BufWriter<File>) -> Result<()> {
    let names: Vec<String> = args
        .captures
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    let mut page =
        HtmlPage::new(out, &names.join(", "), args.max_detail).context("writing the report")?;
    let filter = Filter::default();
    for (i, (path, name)) in args.captures.iter().zip(&names).enumerate() {
        let input = input_of(path);
        let mut tracker = input.limits.tracker();
        page.begin_events(i);
        let mut write_err: Option<io::Error> = None;
        let replayed = replay_input(&input, &mut |ev, _| {
            tracker.event(ev);
            if write_err.is_none() && filter.matches(ev) {
                if let Err(e) = page.event(ev) {
                    write_err = Some(e);
                }
            }
        });
        if let Some(e) = write_err {
            return Err(e).context("writing the report");
        }
        let replayed = replayed.with_context(|| name.clone())?;
        page.end_events().context("writing the report")?;
        let mut x = sioscope::explain::explain(&tracker);
        if let Some(h) = &replayed.har {
            sioscope::explain::apply_har_limits(&tracker, &mut x, h);
        }
        let logs =
            crate::log_input::place_logs(&args.logs, args.log_line.max_log_line, &tracker, &x)?;
        for tl in &logs {
            sioscope::explain::attach_log_evidence(&mut x, tl);
        }
        let doc = crate::explain::JsonDoc::new(name, &x)
            .with_har(replayed.har.as_ref())
            .with_logs(&logs);
        page.begin_data(DataKind::Explain, i)
            .context("writing the report")?;
        page.value(&doc).context("writing the report")?;
        page.end_data(DataKind::Explain)
            .context("writing the report")?;
    }
    page.finish().context("writing the report")?;
    Ok(())
}
