//! The `sioscope` command line: a thin layer over the library.

use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand, ValueEnum};

use sioscope::capture::{replay, ReplayOptions};
use sioscope::event::Event;
use sioscope::pipeline::PipelineOptions;
use sioscope::report::{
    ExplainText, Filter, JsonReporter, LayerSet, NdjsonReporter, PrettyOptions, PrettyReporter,
    Reporter,
};
use sioscope::session::SessionTracker;
use sioscope::tcp::ReassemblyLimits;

/// See inside Socket.IO and Engine.IO traffic, and learn why connections dropped.
#[derive(Parser, Debug)]
#[command(name = "sioscope", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Decode a pcap/pcapng capture (or `-` for stdin) down to Socket.IO packets.
    ///
    /// Examples:
    ///   sioscope decode app.pcapng
    ///   sioscope decode app.pcap --layer all --format ndjson | jq .
    ///   tcpdump -i lo -U -w - port 3000 | sioscope decode -
    Decode(DecodeArgs),
    /// Explain how every Engine.IO session ended, with evidence, and how sessions chain across
    /// reconnects.
    ///
    /// Exit code 0 when every session ended cleanly or is still open, 1 when any ended
    /// abnormally, 2 on error.
    Explain(ExplainArgs),
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
enum ExplainFormat {
    /// A readable report, grouped per client.
    Text,
    /// One JSON document (schema: docs/json-schema.md).
    Json,
}

#[derive(Args, Debug)]
struct ExplainArgs {
    #[command(flatten)]
    input: InputArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ExplainFormat::Text)]
    format: ExplainFormat,
    /// Colors in text output.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,
}

#[derive(Args, Debug)]
struct InputArgs {
    /// Capture file (pcap or pcapng), or `-` to read one from standard input.
    capture: PathBuf,
    /// Engine.IO revision to assume where the capture does not show it (2, 3 or 4).
    #[arg(long, value_parser = clap::value_parser!(u8).range(2..=4))]
    eio: Option<u8>,
    /// Largest message or body kept after decompression, in bytes (decompression-bomb guard).
    #[arg(long, default_value_t = 64 << 20, value_name = "BYTES")]
    max_message: usize,
    /// Out-of-order bytes held per TCP direction before a hole is given up, in bytes.
    #[arg(long, default_value_t = 16 << 20, value_name = "BYTES")]
    max_buffer: usize,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
enum Format {
    /// One readable line per event.
    Pretty,
    /// One JSON document `{"events": [...]}`.
    Json,
    /// One JSON object per line.
    Ndjson,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
enum ColorChoice {
    /// Color when writing to a terminal and NO_COLOR is unset.
    Auto,
    /// Always color.
    Always,
    /// Never color.
    Never,
}

#[derive(Args, Debug)]
struct DecodeArgs {
    #[command(flatten)]
    input: InputArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Pretty)]
    format: Format,
    /// Layers to show, comma-separated: sio, eio, ws, ws-frames, http, tcp, all.
    /// Default: Socket.IO and Engine.IO packets, anomalies, and what ends connections.
    #[arg(long, value_name = "LIST")]
    layer: Option<String>,
    /// Only this Engine.IO session id (a prefix is enough).
    #[arg(long)]
    sid: Option<String>,
    /// Only this Socket.IO namespace, e.g. `/chat`.
    #[arg(long)]
    nsp: Option<String>,
    /// Only this Socket.IO event name.
    #[arg(long)]
    event: Option<String>,
    /// Only these TCP connections (ids as printed, `c3` or `3`), comma-separated.
    #[arg(long, value_delimiter = ',')]
    conn: Vec<String>,
    /// Only these packet types (EVENT, ACK, CONNECT, ..., open, ping, ...), comma-separated.
    #[arg(long = "type", value_delimiter = ',')]
    types: Vec<String>,
    /// Colors in pretty output.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,
    /// Do not shorten payloads and session ids in pretty output.
    #[arg(long)]
    full: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Decode(args) => decode(args),
        Command::Explain(args) => explain(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            if is_broken_pipe(&e) {
                return ExitCode::SUCCESS;
            }
            eprintln!("sioscope: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
    })
}

fn open_input(path: &PathBuf) -> Result<Box<dyn Read + Send>> {
    if path.as_os_str() == "-" {
        Ok(Box::new(io::stdin()))
    } else {
        let f = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
        Ok(Box::new(io::BufReader::with_capacity(1 << 16, f)))
    }
}

fn replay_options(i: &InputArgs) -> ReplayOptions {
    ReplayOptions {
        pipeline: PipelineOptions {
            eio: i.eio,
            max_message: i.max_message,
        },
        reassembly: ReassemblyLimits {
            max_pending: i.max_buffer,
        },
    }
}

fn use_color(choice: ColorChoice) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && io::stdout().is_terminal()
        }
    }
}

fn decode(args: DecodeArgs) -> Result<ExitCode> {
    let mut filter = Filter::default();
    if let Some(l) = &args.layer {
        filter.layers = LayerSet::parse(l).map_err(anyhow::Error::msg)?;
        filter.lifecycle = false;
    }
    filter.sid = args.sid.clone();
    filter.nsp = args.nsp.clone();
    filter.event = args.event.clone();
    filter.types = args.types.clone();
    for c in &args.conn {
        let n = c.trim_start_matches('c');
        filter.conn.push(
            n.parse()
                .with_context(|| format!("--conn: {c:?} is not a connection id"))?,
        );
    }
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

/// Replays a capture into the session tracker.
fn track(input: &InputArgs) -> Result<SessionTracker> {
    let reader = open_input(&input.capture)?;
    let mut tracker = SessionTracker::new();
    replay(reader, &replay_options(input), &mut |ev: Event| {
        tracker.event(&ev)
    })
    .map_err(|e| anyhow::Error::new(e).context(format!("{}", input.capture.display())))?;
    Ok(tracker)
}

fn explain(args: ExplainArgs) -> Result<ExitCode> {
    let tracker = track(&args.input)?;
    let x = sioscope::explain::explain(&tracker);
    let name = args.input.capture.display().to_string();
    let stdout = io::stdout().lock();
    let mut out = BufWriter::new(stdout);
    match args.format {
        ExplainFormat::Text => {
            let t0 = tracker.span().map(|(a, _)| a).unwrap_or_default();
            ExplainText::new(&mut out, use_color(args.color), t0)
                .write(&name, &x)
                .context("writing output")?;
        }
        ExplainFormat::Json => {
            let doc = serde_json::json!({
                "capture": name,
                "summary": {
                    "sessions": x.sessions.len(),
                    "abnormal": x.abnormal(),
                    "duration": x.duration,
                },
                "sessions": x.sessions,
                "chains": x.chains,
                "sessionless_errors": x.sessionless_errors,
            });
            serde_json::to_writer_pretty(&mut out, &doc).context("writing output")?;
            writeln!(out).context("writing output")?;
        }
    }
    out.flush().context("writing output")?;
    Ok(if x.abnormal() > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
