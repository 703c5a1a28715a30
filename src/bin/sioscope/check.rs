//! `sioscope check <url>`: the protocol conformance suite against a live server.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};

use sioscope::check::{self, report, DetectError, Limits, Options};
use sioscope::client::Endpoint;

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum CheckFormat {
    /// The summary line, a table of cases, then every failure with the bytes exchanged.
    #[value(name = "text", alias = "table")]
    Table,
    /// One JSON document.
    Json,
}

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// The server, e.g. http://127.0.0.1:3000 (a path, if given, is the Socket.IO path).
    #[arg(required_unless_present = "capture")]
    url: Option<String>,
    /// Check a recorded capture (pcap/pcapng, `-` for stdin) instead of a live server: every
    /// packet well-formed, every sequence legal, for the server and for the client.
    #[arg(long, value_name = "FILE", conflicts_with = "url")]
    capture: Option<std::path::PathBuf>,
    /// With --capture: fail when a session ended with this cause (`deflate-error`, ...),
    /// `abnormal` for any abnormal end, `handshake-refused` for refused handshakes.
    #[arg(
        long,
        value_delimiter = ',',
        value_name = "CAUSE",
        requires = "capture"
    )]
    deny: Vec<String>,
    /// With --capture: largest message or body kept after decompression (64MiB, 1k, 4096).
    #[arg(long, default_value = "64MiB", value_name = "SIZE",
          value_parser = crate::common::size_arg, allow_hyphen_values = true)]
    max_message: usize,
    /// With --capture: out-of-order bytes held per TCP direction (16MiB, 512k).
    #[arg(long, default_value = "16MiB", value_name = "SIZE",
          value_parser = crate::common::size_arg, allow_hyphen_values = true)]
    max_buffer: usize,
    /// With --capture: threads (1: one thread; N ≥ 2: connections decoded on N − 1 workers,
    /// reading and checking on one more). Default: every core. The result is the same whatever
    /// the number.
    #[arg(long, value_name = "N", value_parser = crate::common::threads_arg, requires = "capture")]
    threads: Option<usize>,
    /// With --capture: TCP connections tracked at once (100000).
    #[arg(long, default_value_t = sioscope::tcp::DEFAULT_MAX_CONNS, value_name = "N",
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    max_tracked_connections: usize,
    /// With --capture: longest HAR entry read (128MiB); a longer one is a
    /// `har-entry-too-large` anomaly.
    #[arg(long, default_value = "128MiB", value_name = "SIZE",
          value_parser = crate::common::size_arg, allow_hyphen_values = true)]
    max_har_entry: usize,
    #[command(flatten)]
    limits: crate::common::DecodeLimitArgs,
    /// Colors in text output.
    #[arg(long, value_enum, default_value_t = crate::common::ColorChoice::Auto)]
    color: crate::common::ColorChoice,
    /// Engine.IO revision to test (3 or 4); detected when absent.
    #[arg(long, value_parser = clap::value_parser!(u8).range(3..=4))]
    eio: Option<u8>,
    /// Socket.IO protocol revision to test (4 or 5); follows --eio when absent.
    #[arg(long, value_parser = clap::value_parser!(u8).range(4..=5))]
    sio: Option<u8>,
    /// Where to look for a bare Engine.IO endpoint (the reference app's echo server).
    #[arg(long, default_value = "/engine.io/")]
    engineio_path: String,
    /// Path of the Socket.IO endpoint [default: the URL's path, else /socket.io/].
    #[arg(long)]
    socketio_path: Option<String>,
    /// Path of a Socket.IO endpoint with connection state recovery [default: the Socket.IO path].
    #[arg(long)]
    recovery_path: Option<String>,
    /// Run only the cases whose id starts with one of these prefixes (e.g. eio.heartbeat).
    #[arg(long = "case", value_name = "PREFIX")]
    cases: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = CheckFormat::Table)]
    format: CheckFormat,
    /// Also write a JUnit XML report to this file.
    #[arg(long, value_name = "FILE")]
    junit: Option<std::path::PathBuf>,
    /// Time limit for one expected reply (2s, 500ms; at least 50ms).
    #[arg(long, default_value = "2s", value_parser = sioscope::units::parse_duration, value_name = "TIME")]
    step: Duration,
    /// Run the cases that need the official suites' reference app even when it is not detected.
    #[arg(long)]
    reference: bool,
    /// Skip cases expected to take longer than this with the server's own settings (e.g. the
    /// ping-timeout cases: pingInterval + pingTimeout): 250ms, 30s, 1m.
    #[arg(long, default_value = "30s", value_parser = sioscope::units::parse_duration, value_name = "TIME")]
    max_case_time: Duration,
    /// Accept a known deviation of a library (by name, or the library for all of its own),
    /// e.g. python-engineio; docs/check-cases.md lists them. Comma-separated or repeated.
    #[arg(long, value_delimiter = ',', value_name = "NAME")]
    allow: Vec<String>,
    /// Fail known deviations that are accepted by default too (engine.io 6.6's
    /// `http-after-upgrade`, which the official suites do not judge).
    #[arg(long)]
    strict: bool,
    /// Time limit for the whole suite (180, 3m, 90s; a bare number is seconds).
    #[arg(long, default_value = "180", value_parser = sioscope::units::parse_duration)]
    timeout: Duration,
}

pub fn run(args: CheckArgs) -> Result<ExitCode> {
    if let Some(capture) = args.capture {
        return crate::check_capture::run(crate::check_capture::CheckCaptureArgs {
            input: crate::common::InputArgs {
                capture: vec![capture],
                eio: args.eio,
                max_message: args.max_message,
                max_buffer: args.max_buffer,
                threads: args.threads,
                max_tracked_connections: args.max_tracked_connections,
                max_har_entry: args.max_har_entry,
                limits: args.limits,
            },
            deny: args.deny,
            format: match args.format {
                CheckFormat::Table => crate::check_capture::CheckFormat::Table,
                CheckFormat::Json => crate::check_capture::CheckFormat::Json,
            },
            junit: args.junit,
            color: args.color,
        });
    }
    let url = args.url.clone().unwrap_or_default();
    let endpoint = Endpoint::parse(&url)?;
    let sio_path = args.socketio_path.clone().unwrap_or_else(|| {
        if endpoint.path == "/" {
            "/socket.io/".into()
        } else {
            endpoint.path.clone()
        }
    });
    let step = args.step.max(Duration::from_millis(50));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let cases: Vec<_> = check::all_cases()
        .into_iter()
        .filter(|c| {
            args.cases.is_empty() || args.cases.iter().any(|p| c.id.starts_with(p.as_str()))
        })
        .collect();
    if let Some(bad) = args
        .allow
        .iter()
        .find(|a| !check::deviation::is_known_name(a))
    {
        let mut names: Vec<&str> = check::deviation::KNOWN
            .iter()
            .flat_map(|d| [d.library, d.name])
            .collect();
        names.dedup();
        bail!(
            "--allow {bad}: not a known deviation (known: {})",
            names.join(", ")
        );
    }
    if cases.is_empty() {
        bail!("no case id starts with {:?}", args.cases);
    }
    let report = runtime.block_on(async {
        let opts = Options {
            eio: args.eio,
            sio: args.sio,
            sio_path: sio_path.clone(),
            eio_path: args.engineio_path.clone(),
            recovery_path: args.recovery_path.clone(),
            step,
            reference: args.reference,
            max_case_time: args.max_case_time,
            allow: args.allow.clone(),
            strict: args.strict,
        };
        let profile = match check::discover(&endpoint, &opts).await {
            Ok(p) => p,
            Err(DetectError::Unreachable(e)) => bail!("cannot reach {}: {e}", url),
            Err(e) => bail!("{}: {e}", url),
        };
        let limits = Limits {
            suite: args.timeout.max(Duration::from_secs(1)),
        };
        Ok(check::run(&url, &endpoint, profile, &cases, limits).await)
    })?;
    // The runtime may hold sockets of cases that timed out: do not wait for them.
    runtime.shutdown_timeout(Duration::from_millis(100));
    if let Some(path) = &args.junit {
        std::fs::write(path, report::junit(&report))
            .with_context(|| format!("writing {}", path.display()))?;
    }
    let out = match args.format {
        CheckFormat::Table => report::text(&report, crate::common::use_color(args.color)),
        CheckFormat::Json => report::json(&report) + "\n",
    };
    std::io::stdout().lock().write_all(out.as_bytes())?;
    Ok(if report.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
