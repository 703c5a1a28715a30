//! `sioscope annotate`: the capture written back as pcapng with a comment on every frame that
//! carries an Engine.IO / Socket.IO packet or a finding, for Wireshark.

use std::fs::File;
use std::io::{BufWriter, IsTerminal};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::Args;

use sioscope::capture::annotate::annotate;
use sioscope::capture::{replay_packets_threaded, CaptureReader};
use sioscope::event::Event;
use sioscope::report::Annotations;

use crate::common::{open_input, replay_options, threads, InputArgs};

#[derive(Args, Debug)]
pub struct AnnotateArgs {
    #[command(flatten)]
    input: InputArgs,
    /// The annotated capture to write (pcapng).
    #[arg(short, long, value_name = "OUT.pcapng")]
    output: PathBuf,
}

pub fn run(args: AnnotateArgs) -> Result<ExitCode> {
    let [path] = args.input.capture.as_slice() else {
        bail!("annotate writes one capture back: give exactly one input");
    };
    if path.as_os_str() == "-" {
        bail!("annotate reads its input twice (decode, then copy): give a capture file, not -");
    }
    let mut notes = Annotations::new();
    let mut tracker = args.input.limits.tracker();
    let in_path = |e| anyhow::Error::new(e).context(format!("{}", path.display()));
    let mut reader = CaptureReader::new(open_input(path)?).map_err(in_path)?;
    replay_packets_threaded(
        &mut reader,
        &replay_options(&args.input),
        threads(args.input.threads),
        &mut |ev: Event| {
            notes.event(&ev);
            tracker.event(&ev);
        },
    )
    .map_err(in_path)?;
    let x = sioscope::explain::explain(&tracker);
    let name = path.display().to_string();
    let doc = serde_json::to_value(crate::explain::JsonDoc::new(&name, &x))
        .context("the explain document")?;
    notes.explain_json(&doc);
    let out = File::create(&args.output)
        .with_context(|| format!("cannot create {}", args.output.display()))?;
    let stats = annotate(
        open_input(path)?,
        &mut |frame| notes.comment(frame),
        BufWriter::with_capacity(1 << 16, out),
    )
    .with_context(|| format!("{}", path.display()))?;
    // A closing summary for people, as decode's: only on a terminal, so scripts see a quiet run.
    if std::io::stderr().is_terminal() {
        eprintln!(
            "{}: {} frames, {} with a comment",
            args.output.display(),
            stats.frames,
            stats.commented
        );
    }
    Ok(ExitCode::SUCCESS)
}
