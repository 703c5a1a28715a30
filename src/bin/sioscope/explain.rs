//! `sioscope explain`: how every Engine.IO session ended, with evidence.

use std::io::{self, BufWriter, Write};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::Args;

use sioscope::explain::Explanation;
use sioscope::report::{ExplainText, ExplainView};

use crate::common::{track_input, use_color, ColorChoice, FilterArgs, Format, InputArgs};

#[derive(Args, Debug)]
pub struct ExplainArgs {
    #[command(flatten)]
    input: InputArgs,
    /// Output format: text (a readable report), json (one document, docs/json-schema.md),
    /// ndjson (one session's finding per line).
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Colors in text output.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,
    #[command(flatten)]
    filter: FilterArgs,
    /// Show every session after the summary, not only each distinct finding once.
    #[arg(long, visible_alias = "full")]
    all: bool,
    /// Show only abnormal ends and refused handshakes.
    #[arg(long)]
    only_abnormal: bool,
    /// A library's debug log of the same traffic (node `DEBUG=engine*,socket.io*`, python-engineio
    /// / python-socketio logging); repeatable. Its lines are quoted beside the wire evidence.
    #[arg(long = "log", value_name = "FILE")]
    logs: Vec<std::path::PathBuf>,
    #[command(flatten)]
    pub log_line: crate::log_input::LogLineArg,
}

/// Column to wrap prose at: the terminal's width when stdout is one, else 100.
fn text_width() -> usize {
    crate::common::terminal_width().map_or(100, |c| c.clamp(60, 240))
}

pub fn run(args: ExplainArgs) -> Result<ExitCode> {
    let filter = args.filter.filter()?;
    if let [flag, ..] = filter.packet_only_flags().as_slice() {
        bail!("{flag} selects packets, not sessions: use it with `sioscope decode`");
    }
    let tracked = track_input(&args.input)?;
    let tracker = tracked.tracker;
    let mut x = sioscope::explain::explain(&tracker);
    // Both rewrite findings by session index: before the filters narrow the list.
    if let Some(h) = &tracked.har {
        sioscope::explain::apply_har_limits(&tracker, &mut x, h);
    }
    let logs = crate::log_input::place_logs(&args.logs, args.log_line.max_log_line, &tracker, &x)?;
    for tl in &logs {
        sioscope::explain::attach_log_evidence(&mut x, tl);
    }
    let x = filter
        .narrow(x, tracker.sessions())
        .map_err(anyhow::Error::msg)?;
    // Nothing to explain is not a clean bill: say why on stderr and exit 1.
    let empty = (x.sessions.is_empty() && x.sessionless_errors.is_empty()).then(|| {
        tracked.seen.no_engineio().unwrap_or_else(|| {
            format!(
                "no session matches the filters ({} sessions in the capture)",
                tracker.sessions().len()
            )
        })
    });
    if let Some(why) = &empty {
        eprintln!("sioscope: {why}");
    }
    let name = args.input.name();
    let stdout = io::stdout().lock();
    let mut out = BufWriter::new(stdout);
    match args.format {
        Format::Text => {
            let t0 = tracker.span().map(|(a, _)| a).unwrap_or_default();
            let view = ExplainView {
                all: args.all,
                only_abnormal: args.only_abnormal,
                width: text_width(),
            };
            ExplainText::new(&mut out, use_color(args.color), t0)
                .view(view)
                .write(&name, &x)
                .context("writing output")?;
        }
        Format::Ndjson => {
            for f in &x.sessions {
                serde_json::to_writer(&mut out, f).context("writing output")?;
                writeln!(out).context("writing output")?;
            }
        }
        Format::Json => {
            let mut doc = json_doc_with(&name, &x, tracked.har.as_ref(), &logs)?;
            if args.only_abnormal {
                if let Some(v) = doc.get_mut("sessions") {
                    *v = serde_json::to_value(
                        x.sessions
                            .iter()
                            .filter(|f| f.abnormal())
                            .collect::<Vec<_>>(),
                    )?;
                }
            }
            serde_json::to_writer_pretty(&mut out, &doc).context("writing output")?;
            writeln!(out).context("writing output")?;
        }
    }
    out.flush().context("writing output")?;
    Ok(if x.has_problems() || empty.is_some() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// The `explain --format json` document of one capture with what the HAR held and the placed
/// logs, each only when there is one (so a capture's document stays the one `report` embeds and
/// `annotate` reads).
pub fn json_doc_with(
    name: &str,
    x: &Explanation,
    har: Option<&sioscope::har::HarSummary>,
    logs: &[sioscope::log::LogTimeline],
) -> Result<serde_json::Value> {
    let mut doc = json_doc(name, x);
    if let Some(o) = doc.as_object_mut() {
        if let Some(h) = har {
            o.insert("har".into(), serde_json::to_value(h)?);
        }
        if !logs.is_empty() {
            o.insert("logs".into(), serde_json::to_value(logs)?);
        }
    }
    Ok(doc)
}

/// The `explain --format json` document of one capture (also embedded by `report` and read by
/// `annotate`, so the three show the same findings).
pub fn json_doc(name: &str, x: &Explanation) -> serde_json::Value {
    serde_json::json!({
        "capture": name,
        "summary": x.summary(),
        "rule_order": sioscope::explain::rule_order().collect::<Vec<_>>(),
        "sessions": x.sessions,
        "chains": x.chains,
        "sessionless_errors": x.sessionless_errors,
        "refusals": x.refusals,
        "hops": x.hops,
    })
}
