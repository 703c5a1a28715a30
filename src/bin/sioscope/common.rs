//! What every subcommand shares: input flags, event filter flags, colors, opening and
//! replaying captures.

use std::fs::File;
use std::io::{self, IsTerminal, Read, Write};
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};

use sioscope::capture::ReplayOptions;
use sioscope::event::Event;
use sioscope::pipeline::PipelineOptions;
use sioscope::report::{
    Filter, JsonReporter, LayerSet, NdjsonReporter, PrettyOptions, PrettyReporter, Reporter,
};
use sioscope::session::SessionTracker;
use sioscope::tcp::ReassemblyLimits;

#[derive(Args, Debug)]
pub struct InputArgs {
    /// Capture file (pcap or pcapng), or `-` to read one from standard input.
    pub capture: PathBuf,
    /// Engine.IO revision to assume where the capture does not show it (2, 3 or 4).
    #[arg(long, value_parser = clap::value_parser!(u8).range(2..=4))]
    pub eio: Option<u8>,
    /// Largest message or body kept after decompression, in bytes (decompression-bomb guard).
    #[arg(long, default_value_t = 64 << 20, value_name = "BYTES")]
    pub max_message: usize,
    /// Out-of-order bytes held per TCP direction before a hole is given up, in bytes.
    #[arg(long, default_value_t = 16 << 20, value_name = "BYTES")]
    pub max_buffer: usize,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// One readable line per event.
    Pretty,
    /// One JSON document `{"events": [...]}`.
    Json,
    /// One JSON object per line.
    Ndjson,
}

/// The output flags of `decode` and `proxy`.
#[derive(Args, Debug)]
pub struct OutputArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Pretty)]
    pub format: Format,
    /// Colors in pretty output.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Do not shorten payloads and session ids in pretty output.
    #[arg(long)]
    pub full: bool,
}

impl OutputArgs {
    /// The reporter these flags ask for, writing to `out`.
    pub fn reporter<W: Write + Send + 'static>(&self, out: W) -> Box<dyn Reporter + Send> {
        match self.format {
            Format::Pretty => Box::new(PrettyReporter::new(
                out,
                PrettyOptions {
                    color: use_color(self.color),
                    full: self.full,
                },
            )),
            Format::Json => Box::new(JsonReporter::new(out)),
            Format::Ndjson => Box::new(NdjsonReporter::new(out)),
        }
    }
}

/// The event filter flags of `decode` and `proxy`.
#[derive(Args, Debug)]
pub struct FilterArgs {
    /// Layers to show, comma-separated: sio, eio, ws, ws-frames, http, tcp, all.
    /// Default: Socket.IO and Engine.IO packets, anomalies, and what ends connections.
    #[arg(long, value_name = "LIST")]
    pub layer: Option<String>,
    /// Only this Engine.IO session id (a prefix is enough).
    #[arg(long)]
    pub sid: Option<String>,
    /// Only this Socket.IO namespace, e.g. `/chat`.
    #[arg(long)]
    pub nsp: Option<String>,
    /// Only this Socket.IO event name.
    #[arg(long)]
    pub event: Option<String>,
    /// Only these TCP connections (ids as printed, `c3` or `3`), comma-separated.
    #[arg(long, value_delimiter = ',')]
    pub conn: Vec<String>,
    /// Only these packet types (EVENT, ACK, CONNECT, ..., open, ping, ...), comma-separated.
    #[arg(long = "type", value_delimiter = ',')]
    pub types: Vec<String>,
}

impl FilterArgs {
    /// The report filter these flags ask for (`--conn` ids must be numbers, `c` prefix allowed).
    pub fn filter(&self) -> Result<Filter> {
        let mut filter = Filter::default();
        if let Some(l) = &self.layer {
            filter.layers = LayerSet::parse(l).map_err(anyhow::Error::msg)?;
            filter.lifecycle = false;
        }
        filter.sid = self.sid.clone();
        filter.nsp = self.nsp.clone();
        filter.event = self.event.clone();
        filter.types = self.types.clone();
        for c in &self.conn {
            let n = c.trim_start_matches('c');
            filter.conn.push(
                n.parse()
                    .with_context(|| format!("--conn: {c:?} is not a connection id"))?,
            );
        }
        Ok(filter)
    }
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// Color when writing to a terminal and NO_COLOR is unset.
    Auto,
    /// Always color.
    Always,
    /// Never color.
    Never,
}

pub fn open_input(path: &PathBuf) -> Result<Box<dyn Read + Send>> {
    if path.as_os_str() == "-" {
        Ok(Box::new(io::stdin()))
    } else {
        let f = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
        Ok(Box::new(io::BufReader::with_capacity(1 << 16, f)))
    }
}

pub fn replay_options(i: &InputArgs) -> ReplayOptions {
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

pub fn use_color(choice: ColorChoice) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && io::stdout().is_terminal()
        }
    }
}

/// Replays a capture into the session tracker.
pub fn track(input: &InputArgs) -> Result<SessionTracker> {
    Ok(track_any(input)?.0)
}

/// Replays a capture or a HAR into the session tracker; says what was read when it was a HAR.
pub fn track_any(input: &InputArgs) -> Result<(SessionTracker, Option<sioscope::har::HarSummary>)> {
    let reader = open_input(&input.capture)?;
    let mut tracker = SessionTracker::new();
    let har = crate::har_input::replay_input(reader, &replay_options(input), &mut |ev: Event| {
        tracker.event(&ev)
    })
    .map_err(|e| e.context(format!("{}", input.capture.display())))?;
    Ok((tracker, har))
}
