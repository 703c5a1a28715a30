//! `sioscope explain`: how every Engine.IO session ended, with evidence.

use std::io::{self, BufWriter, Write};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::Args;

use serde::{Serialize, Serializer};
use sioscope::explain::{Chain, Explanation, Finding, Refusal, Summary};
use sioscope::har::HarSummary;
use sioscope::legs::HopFinding;
use sioscope::log::LogTimeline;
use sioscope::report::{ExplainText, ExplainView};
use sioscope::session::Mark;

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
            let doc = JsonDoc::new(&name, &x)
                .with_har(tracked.har.as_ref())
                .with_logs(&logs)
                .only_abnormal(args.only_abnormal);
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

/// The `explain --format json` document of one capture (also embedded by `report` and read by
/// `annotate`, so the three show the same findings), with what the HAR held and the placed logs,
/// each only when there is one.
///
/// Serialised field by field as it is written: the document is never built as one
/// `serde_json::Value` (that second copy of every finding was most of a JSON run's peak memory,
/// docs/performance.md). Its keys come out in the order of the fields below.
#[derive(Serialize)]
pub struct JsonDoc<'a> {
    capture: &'a str,
    summary: Summary,
    rule_order: Vec<&'static str>,
    sessions: Sessions<'a>,
    chains: &'a [Chain],
    sessionless_errors: &'a [Mark],
    refusals: &'a [Refusal],
    hops: &'a [HopFinding],
    #[serde(skip_serializing_if = "Option::is_none")]
    har: Option<&'a HarSummary>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    logs: &'a [LogTimeline],
}

/// The document's `sessions`: every finding, or (`--only-abnormal`) the abnormal ones.
struct Sessions<'a> {
    all: &'a [Finding],
    only_abnormal: bool,
}

impl Serialize for Sessions<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let only = self.only_abnormal;
        s.collect_seq(self.all.iter().filter(|f| !only || f.abnormal()))
    }
}

impl<'a> JsonDoc<'a> {
    /// The document of the capture named `name`, explained as `x`.
    pub fn new(name: &'a str, x: &'a Explanation) -> Self {
        JsonDoc {
            capture: name,
            summary: x.summary(),
            rule_order: sioscope::explain::rule_order().collect(),
            sessions: Sessions {
                all: &x.sessions,
                only_abnormal: false,
            },
            chains: &x.chains,
            sessionless_errors: &x.sessionless_errors,
            refusals: &x.refusals,
            hops: &x.hops,
            har: None,
            logs: &[],
        }
    }

    /// With what the capture's HAR held (`har`), when it was one.
    pub fn with_har(mut self, har: Option<&'a HarSummary>) -> Self {
        self.har = har;
        self
    }

    /// With the logs placed beside the capture (`logs`, written only when there are some).
    pub fn with_logs(mut self, logs: &'a [LogTimeline]) -> Self {
        self.logs = logs;
        self
    }

    /// Only the abnormal ends in `sessions` (`--only-abnormal`; the summary still counts all).
    pub fn only_abnormal(mut self, only: bool) -> Self {
        self.sessions.only_abnormal = only;
        self
    }
}
