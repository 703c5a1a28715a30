//! `sioscope report`: one self-contained HTML page of one or more captures.

use std::fs::File;
use std::io::{self, BufWriter};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;

use sioscope::capture::{replay, ReplayOptions};
use sioscope::event::Event;
use sioscope::report::html::{DataKind, HtmlPage};
use sioscope::report::Filter;
use sioscope::session::SessionTracker;

use crate::common::open_input;

#[derive(Args, Debug)]
pub struct ReportArgs {
    /// Capture files (pcap or pcapng), or `-` for one capture on standard input.
    #[arg(required = true, value_name = "CAPTURE")]
    captures: Vec<PathBuf>,
    /// The HTML file to write.
    #[arg(short, long, value_name = "REPORT.html")]
    output: PathBuf,
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

fn write(args: &ReportArgs, out: BufWriter<File>) -> Result<()> {
    let names: Vec<String> = args
        .captures
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    let mut page = HtmlPage::new(out, &names.join(", ")).context("writing the report")?;
    let filter = Filter::default();
    let opts = ReplayOptions::default();
    for (i, (path, name)) in args.captures.iter().zip(&names).enumerate() {
        let mut tracker = SessionTracker::new();
        page.begin_data(DataKind::Events, i)
            .context("writing the report")?;
        let mut write_err: Option<io::Error> = None;
        let res = replay(open_input(path)?, &opts, &mut |ev: Event| {
            tracker.event(&ev);
            if write_err.is_none() && filter.matches(&ev) {
                if let Err(e) = page.event(&ev) {
                    write_err = Some(e);
                }
            }
        });
        if let Some(e) = write_err {
            return Err(e).context("writing the report");
        }
        res.map_err(|e| anyhow::Error::new(e).context(name.clone()))?;
        page.end_data(DataKind::Events)
            .context("writing the report")?;
        let x = sioscope::explain::explain(&tracker);
        page.begin_data(DataKind::Explain, i)
            .context("writing the report")?;
        page.value(&crate::explain::json_doc(name, &x))
            .context("writing the report")?;
        page.end_data(DataKind::Explain)
            .context("writing the report")?;
    }
    page.finish().context("writing the report")?;
    Ok(())
}
