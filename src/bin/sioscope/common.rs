//! What every subcommand shares: input flags, output flags (one vocabulary: `--format`, `--color`,
//! `--full`, `--time`), event filter flags, opening and replaying captures.

use std::fs::File;
use std::io::{self, IsTerminal, Read, Write};
use std::path::PathBuf;
use std::sync::OnceLock;

use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};

use sioscope::capture::open::decompressing;
use sioscope::capture::{
    replay_packets_threaded, CaptureError, CaptureReader, MergedReader, Packet, PacketSource,
    ReplayOptions, ReplayStats,
};
use sioscope::event::{Event, Timestamp};
use sioscope::har::{self, HarSummary};
use sioscope::pipeline::PipelineOptions;
use sioscope::report::{
    Filter, JsonReporter, LayerSet, NdjsonReporter, PrettyOptions, PrettyReporter, Reporter, Seen,
    TimeMode,
};
use sioscope::session::SessionTracker;
use sioscope::tcp::ReassemblyLimits;
use sioscope::units::{parse_size_usize, UnitError};

/// Bytes read ahead to tell a HAR from a capture.
const HEAD_BYTES: usize = 64;

/// Inputs at least this big (all files together) get a progress bar when stderr is a terminal.
const PROGRESS_MIN_BYTES: u64 = 32 << 20;

#[derive(Args, Debug)]
pub struct InputArgs {
    /// Capture files: pcap or pcapng, plain, `.gz` or `.zst`; `-` reads one from standard input.
    /// Several are merged by time, as mergecap does.
    #[arg(required = true, value_name = "CAPTURE")]
    pub capture: Vec<PathBuf>,
    /// Engine.IO revision to assume where the capture does not show it (2, 3 or 4).
    #[arg(long, value_parser = clap::value_parser!(u8).range(2..=4))]
    pub eio: Option<u8>,
    /// Largest message or body kept after decompression (decompression-bomb guard): 64MiB, 1k,
    /// 4096.
    #[arg(long, default_value = "64MiB", value_name = "SIZE", value_parser = size_arg,
          allow_hyphen_values = true)]
    pub max_message: usize,
    /// Out-of-order bytes held per TCP direction before a hole is given up: 16MiB, 512k.
    #[arg(long, default_value = "16MiB", value_name = "SIZE", value_parser = size_arg,
          allow_hyphen_values = true)]
    pub max_buffer: usize,
    /// Threads: 1 does everything on one thread; N ≥ 2 decode TCP connections (HTTP,
    /// WebSocket, inflate) on N − 1 workers (at most 64) while one thread reads the capture,
    /// decodes Engine.IO and Socket.IO in capture order and makes the output (or the session
    /// summary). Default: every core. The output is the same bytes whatever the number.
    #[arg(long, value_name = "N", value_parser = threads_arg)]
    pub threads: Option<usize>,
    /// TCP connections tracked at once; past it the least recently active one stops being
    /// tracked (a `tcp-connection-table-full` anomaly) and is picked up again if it speaks: 100000.
    #[arg(long, default_value_t = sioscope::tcp::DEFAULT_MAX_CONNS, value_name = "N",
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    pub max_tracked_connections: usize,
    /// Longest HAR entry read (its JSON text: request, response, WebSocket messages); a longer
    /// one is skipped without being kept, as a `har-entry-too-large` anomaly: 128MiB, 1GiB.
    #[arg(long, default_value = "128MiB", value_name = "SIZE", value_parser = size_arg,
          allow_hyphen_values = true)]
    pub max_har_entry: usize,
    #[command(flatten)]
    pub limits: DecodeLimitArgs,
}

/// A `--threads` value: a whole number of at least 1.
pub fn threads_arg(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(0) => Err("0 threads cannot decode anything; give 1 or more".to_string()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("{s:?} is not a number of threads (1, 2, ...)")),
    }
}

/// The threads a replay uses: `--threads`, else every core the machine offers.
pub fn threads(flag: Option<usize>) -> usize {
    flag.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from))
}

/// The decoders' limits, the same flags on every command that decodes traffic (`decode`,
/// `explain`, `sessions`, `annotate`, `check --capture`, `proxy`; `report` reads with the
/// defaults, as it does for `--max-message`).
#[derive(Args, Debug, Clone, Copy)]
pub struct DecodeLimitArgs {
    /// Most header fields in one HTTP head; a head with more is an `http-too-many-headers`
    /// anomaly and that direction's HTTP stops being decoded: 128, 1000.
    #[arg(long, default_value_t = sioscope::http::DEFAULT_MAX_HEADERS, value_name = "N")]
    pub max_header_count: usize,
    /// Longest HTTP head (start line and header fields); a longer one is an
    /// `http-head-too-long` anomaly and that direction's HTTP stops being decoded: 64KiB, 1MiB.
    #[arg(long, default_value = "64KiB", value_name = "SIZE", value_parser = size_arg,
          allow_hyphen_values = true)]
    pub max_header_size: usize,
    /// Deepest nesting kept of a Socket.IO packet's JSON payload (1 to 127, serde_json's own
    /// limit); deeper values show as null beside a `sio-json-too-deep` anomaly.
    #[arg(long, default_value_t = sioscope::socketio::json_depth::MAX_JSON_DEPTH, value_name = "N",
          value_parser = json_depth_arg)]
    pub max_json_depth: usize,
    /// Engine.IO sessions tracked at once; past it the oldest session whose connections are all
    /// closed is folded into a count and not explained (a `session-table-full` anomaly; `explain`
    /// and `sessions` say how many): 100000.
    #[arg(long, default_value_t = sioscope::session::DEFAULT_MAX_SESSIONS, value_name = "N",
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    pub max_tracked_sessions: usize,
}

/// `--max-json-depth`: 1 to [`MAX_JSON_DEPTH`](sioscope::socketio::json_depth::MAX_JSON_DEPTH).
fn json_depth_arg(s: &str) -> Result<usize, String> {
    let max = sioscope::socketio::json_depth::MAX_JSON_DEPTH;
    match s.parse::<usize>() {
        Ok(n) if (1..=max).contains(&n) => Ok(n),
        _ => Err(format!("{s:?} is not a depth from 1 to {max}")),
    }
}

impl Default for DecodeLimitArgs {
    fn default() -> Self {
        let o = PipelineOptions::default();
        DecodeLimitArgs {
            max_header_count: o.max_header_count,
            max_header_size: o.max_header_size,
            max_json_depth: o.max_json_depth,
            max_tracked_sessions: o.max_sessions,
        }
    }
}

impl DecodeLimitArgs {
    /// A session tracker bounded by `--max-tracked-sessions` (folded sessions explained first).
    pub fn tracker(&self) -> SessionTracker {
        sioscope::explain::bounded_tracker(self.max_tracked_sessions)
    }

    /// The pipeline options of these flags beside the others given.
    pub fn pipeline(&self, eio: Option<u8>, max_message: usize) -> PipelineOptions {
        PipelineOptions {
            eio,
            max_message,
            max_header_count: self.max_header_count,
            max_header_size: self.max_header_size,
            max_json_depth: self.max_json_depth,
            max_sessions: self.max_tracked_sessions,
        }
    }
}

/// A size flag, parsed by `sioscope::units` (so `-1` is refused as negative, not as a flag).
pub fn size_arg(s: &str) -> Result<usize, UnitError> {
    parse_size_usize(s)
}

impl InputArgs {
    /// How the input is named in reports and messages: the path, or the paths joined.
    pub fn name(&self) -> String {
        self.capture
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(" + ")
    }
}

/// Output formats: the same names on every command that prints.
#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// For people: one line per event, tables, paragraphs.
    #[value(alias = "pretty", alias = "table")]
    Text,
    /// One JSON document.
    Json,
    /// One JSON object per line.
    Ndjson,
}

/// How the time column reads, as tshark's `-t`.
#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum TimeArg {
    /// Seconds since the capture's first packet (tshark `-t r`).
    Relative,
    /// Date and time of day, UTC (tshark `-t ud`).
    Absolute,
    /// Seconds since the previous line printed (tshark `-t dd`).
    Delta,
}

/// The output flags of every command that prints events.
#[derive(Args, Debug)]
pub struct OutputArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Colors in text output.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Do not shorten payloads and session ids in text output.
    #[arg(long)]
    pub full: bool,
    /// The time column: seconds since the capture's first packet, absolute UTC, or since the
    /// previous line.
    #[arg(long, value_enum, default_value_t = TimeArg::Relative)]
    pub time: TimeArg,
}

impl OutputArgs {
    /// The reporter these flags ask for, writing to `out`; `t0` is the capture's first packet.
    pub fn reporter<W: Write + Send + 'static>(
        &self,
        out: W,
        t0: Option<Timestamp>,
    ) -> Box<dyn Reporter + Send> {
        match self.format {
            Format::Text => {
                let tty = io::stdout().is_terminal();
                let mut r = PrettyReporter::new(
                    out,
                    PrettyOptions {
                        color: use_color(self.color),
                        full: self.full,
                        time: match self.time {
                            TimeArg::Relative => TimeMode::Relative,
                            TimeArg::Absolute => TimeMode::Absolute,
                            TimeArg::Delta => TimeMode::Delta,
                        },
                        header: tty,
                        width: if tty { terminal_width() } else { None },
                    },
                );
                if let Some(t) = t0 {
                    r.set_time_origin(t.0);
                }
                Box::new(r)
            }
            Format::Json => Box::new(JsonReporter::new(out)),
            Format::Ndjson => Box::new(NdjsonReporter::new(out)),
        }
    }
}

/// The terminal's width in columns, when stdout is one.
pub fn terminal_width() -> Option<usize> {
    terminal_size::terminal_size().map(|(w, _)| usize::from(w.0))
}

/// The event filter flags of every command that prints.
#[derive(Args, Debug, Default)]
pub struct FilterArgs {
    /// Layers to show, comma-separated: sio, eio, ws, ws-frames, http, tcp, all.
    /// Default: Socket.IO and Engine.IO packets, anomalies, and what ends connections.
    #[arg(long, value_name = "LIST")]
    pub layer: Option<String>,
    /// Only this Engine.IO session: any unambiguous prefix of its id, also as printed (`oGp1oc…`).
    #[arg(long)]
    pub sid: Option<String>,
    /// Only this Socket.IO namespace, with or without the slash (`/chat`, `chat`).
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
    /// The report filter these flags ask for; unknown packet types and connection ids that are
    /// not numbers are errors that list what is valid.
    pub fn filter(&self) -> Result<Filter> {
        let mut filter = Filter::default();
        if let Some(l) = &self.layer {
            filter.layers = LayerSet::parse(l).map_err(anyhow::Error::msg)?;
            filter.lifecycle = false;
        }
        filter.sid = self.sid.as_deref().map(Filter::normalize_sid);
        filter.nsp = self.nsp.as_deref().map(Filter::normalize_nsp);
        filter.event = self.event.clone();
        for t in &self.types {
            filter
                .types
                .push(Filter::validate_type(t).map_err(anyhow::Error::msg)?);
        }
        for c in &self.conn {
            let n = c.trim().trim_start_matches('c');
            filter.conn.push(n.parse().with_context(|| {
                format!("--conn: {c:?} is not a connection id (as printed: c3, or 3)")
            })?);
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

pub fn use_color(choice: ColorChoice) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && io::stdout().is_terminal()
        }
    }
}

pub fn replay_options(i: &InputArgs) -> ReplayOptions {
    ReplayOptions {
        pipeline: i.limits.pipeline(i.eio, i.max_message),
        reassembly: ReassemblyLimits {
            max_pending: i.max_buffer,
            max_conns: i.max_tracked_connections,
        },
        har: sioscope::har::HarLimits {
            max_entry: i.max_har_entry,
        },
    }
}

/// Opens one capture on its own (a file or stdin, decompressed when it is gzip or zstd), for
/// commands that read each capture separately.
pub fn open_input(path: &PathBuf) -> Result<Box<dyn Read + Send>> {
    open_one(path, None)
}

/// Opens one input: a file or stdin, decompressed when it is gzip or zstd.
fn open_one(
    path: &PathBuf,
    progress: Option<&indicatif::ProgressBar>,
) -> Result<Box<dyn Read + Send>> {
    let raw: Box<dyn Read + Send> = if path.as_os_str() == "-" {
        Box::new(io::stdin())
    } else {
        let f = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
        let f = io::BufReader::with_capacity(1 << 16, f);
        match progress {
            Some(bar) => Box::new(bar.wrap_read(f)),
            None => Box::new(f),
        }
    };
    let (r, _) = decompressing(raw).with_context(|| format!("reading {}", path.display()))?;
    Ok(r)
}

/// A progress bar on stderr when it is a terminal and the files are big enough to wait for.
fn progress_bar(paths: &[PathBuf]) -> Option<indicatif::ProgressBar> {
    if !io::stderr().is_terminal() {
        return None;
    }
    let total: u64 = paths
        .iter()
        .filter(|p| p.as_os_str() != "-")
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum();
    if total < PROGRESS_MIN_BYTES {
        return None;
    }
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(total),
        indicatif::ProgressDrawTarget::stderr(),
    );
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{spinner} reading {bytes}/{total_bytes} ({bytes_per_sec}, {eta} left) {wide_bar}",
    ) {
        bar.set_style(style);
    }
    Some(bar)
}

/// The packet source of the inputs, remembering the first packet's time (the time origin). It
/// is set before any event of that packet exists, so whichever thread takes the events finds it.
struct Observed<'a> {
    inner: Box<dyn PacketSource + Send + 'a>,
    first: &'a OnceLock<Timestamp>,
}

impl PacketSource for Observed<'_> {
    fn next_packet(&mut self) -> Result<Option<Packet<'_>>, CaptureError> {
        let p = self.inner.next_packet()?;
        if let Some(p) = &p {
            self.first.get_or_init(|| p.ts);
        }
        Ok(p)
    }
    fn truncated_tail(&self) -> bool {
        self.inner.truncated_tail()
    }
}

/// What a replay read: its counters, and what the HAR held when the input was one.
pub struct Replayed {
    /// The replay counters (for a HAR: one "frame" per record on its timeline).
    pub stats: ReplayStats,
    /// What the HAR held and what it cannot show, when the input was a HAR.
    pub har: Option<HarSummary>,
}

/// Replays the inputs (several captures merged by time, or one HAR) and sends each event, with
/// the time of the input's first packet, to `sink`. A HAR is recognised by its content
/// (`sioscope::har::looks_like_har`) and replayed by `sioscope::har::replay`; the "read as a HAR"
/// line goes to stderr.
pub fn replay_input(
    input: &InputArgs,
    sink: &mut dyn FnMut(&Event, Timestamp),
) -> Result<Replayed> {
    replay_input_announced(input, sink, true)
}

/// [`replay_input`], printing the "read as a HAR" line only when `announce` (a second pass over
/// the same input stays quiet).
fn replay_input_announced(
    input: &InputArgs,
    sink: &mut dyn FnMut(&Event, Timestamp),
    announce: bool,
) -> Result<Replayed> {
    if input
        .capture
        .iter()
        .filter(|p| p.as_os_str() == "-")
        .count()
        > 1
    {
        bail!("standard input (`-`) can be given once");
    }
    let bar = progress_bar(&input.capture);
    let mut readers = Vec::with_capacity(input.capture.len());
    for path in &input.capture {
        let mut raw = open_one(path, bar.as_ref())?;
        // The first bytes decide what the input is; a short read (a decompressor's first
        // block, a pipe) must not hide a HAR's first key.
        let mut head = Vec::with_capacity(HEAD_BYTES);
        (&mut raw)
            .take(HEAD_BYTES as u64)
            .read_to_end(&mut head)
            .with_context(|| format!("reading {}", path.display()))?;
        let is_har = har::looks_like_har(&head);
        let r = io::Cursor::new(head).chain(raw);
        if is_har {
            if input.capture.len() > 1 {
                bail!(
                    "{}: a HAR cannot be merged with other inputs (it has no capture clock or \
                     TCP to line up); give it on its own",
                    path.display()
                );
            }
            let res = replay_har(r, input, sink, announce);
            if let Some(bar) = bar {
                bar.finish_and_clear();
            }
            return res.with_context(|| path.display().to_string());
        }
        let reader = CaptureReader::new(r)
            .map_err(|e| anyhow::Error::new(e).context(path.display().to_string()))?;
        readers.push((path.display().to_string(), reader));
    }
    let source: Box<dyn PacketSource + Send> = match readers.len() {
        1 => match readers.pop() {
            Some((_, r)) => Box::new(r),
            None => bail!("no capture given"),
        },
        _ => Box::new(MergedReader::new(readers)),
    };
    let first = OnceLock::new();
    let mut observed = Observed {
        inner: source,
        first: &first,
    };
    let res = replay_packets_threaded(
        &mut observed,
        &replay_options(input),
        threads(input.threads),
        &mut |ev: Event| sink(&ev, first.get().copied().unwrap_or(ev.ts)),
    );
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let stats = res.map_err(|e| anyhow::Error::new(e).context(input.name()))?;
    Ok(Replayed { stats, har: None })
}

/// Replays one HAR; its first record's time is the time origin.
fn replay_har(
    r: impl Read,
    input: &InputArgs,
    sink: &mut dyn FnMut(&Event, Timestamp),
    announce: bool,
) -> Result<Replayed> {
    let mut t0: Option<Timestamp> = None;
    let mut frames = 0u64;
    let summary = har::replay(r, &replay_options(input), &mut |ev: Event| {
        frames = frames.max(ev.frame);
        sink(&ev, *t0.get_or_insert(ev.ts))
    })?;
    if announce {
        eprintln!("{}", describe_har(&summary));
    }
    Ok(Replayed {
        stats: ReplayStats {
            frames,
            ..ReplayStats::default()
        },
        har: Some(summary),
    })
}

/// `read as a HAR 1.2 …`: which dialect was read and what a HAR cannot show.
pub fn describe_har(s: &HarSummary) -> String {
    format!(
        "read as a HAR 1.2 exported by {} ({}{}): {} entries, {} WebSocket(s) with {} messages, {} failed; a HAR holds no TCP, no WebSocket close frames and no compression{}",
        s.dialect.as_str(),
        s.creator,
        s.browser.as_deref().map(|b| format!(", {b}")).unwrap_or_default(),
        s.entries,
        s.websockets,
        s.ws_messages,
        s.failed,
        if s.time_unit_mismatch { "; WebSocket message times did not match the exporter's unit and were read by magnitude" } else { "" },
    ) + &har_gaps(s)
}

/// What this HAR in particular leaves out: WebSocket entries without their messages, messages
/// without times.
fn har_gaps(s: &HarSummary) -> String {
    let mut out = String::new();
    let n = s.ws_without_messages.len();
    if n > 0 {
        out.push_str(&format!(
            "; {n} WebSocket entr{} without `_webSocketMessages`{}: what travelled over {} is unknown",
            if n == 1 { "y" } else { "ies" },
            if s.ws_messages_attached > 0 {
                format!(
                    " ({} with the messages in a separate `response.content._file`, Playwright's `content: 'attach'`, not read: record with `content: 'embed'`)",
                    s.ws_messages_attached
                )
            } else {
                String::new()
            },
            if n == 1 { "it" } else { "them" },
        ));
    }
    if s.too_large > 0 {
        out.push_str(&format!(
            "; {} entr{} skipped as longer than --max-har-entry (a `har-entry-too-large` anomaly each)",
            s.too_large,
            if s.too_large == 1 { "y" } else { "ies" },
        ));
    }
    if s.ws_untimed > 0 {
        out.push_str(&format!(
            "; {} WebSocket message(s) have no time (`time` -1, as Playwright's `mode: 'minimal'` writes): placed at their connection's start, in order",
            s.ws_untimed
        ));
    }
    out
}

/// A replay folded into the session tracker, with what was seen (for honest empty results).
pub struct Tracked {
    /// The sessions.
    pub tracker: SessionTracker,
    /// What the capture held.
    pub seen: Seen,
    /// The capture's first packet.
    pub t0: Timestamp,
    /// What the HAR held, when the input was a HAR.
    pub har: Option<HarSummary>,
}

/// Replays the inputs into the session tracker.
pub fn track_input(input: &InputArgs) -> Result<Tracked> {
    track_input_announced(input, true)
}

/// [`track_input`] as the first of two passes over the same input: a HAR is not announced
/// (the second pass does it).
pub fn track_input_quiet(input: &InputArgs) -> Result<Tracked> {
    track_input_announced(input, false)
}

fn track_input_announced(input: &InputArgs, announce: bool) -> Result<Tracked> {
    let mut tracker = input.limits.tracker();
    // explain and sessions read only its counts (`no_engineio`), never its names
    let mut seen = Seen::counts_only();
    let mut t0 = None;
    let replayed = replay_input_announced(
        input,
        &mut |ev, first| {
            t0.get_or_insert(first);
            seen.event(ev);
            tracker.event(ev);
        },
        announce,
    )?;
    seen.stats(&replayed.stats);
    Ok(Tracked {
        tracker,
        seen,
        t0: t0.unwrap_or_default(),
        har: replayed.har,
    })
}
