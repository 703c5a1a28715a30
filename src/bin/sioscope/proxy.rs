//! `sioscope proxy`: a live relay that prints decoded traffic, records it, and injects faults.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::Args;

use sioscope::event::Event;
use sioscope::explain::Finding;
use sioscope::proxy::{
    serve, Fault, FaultPlan, LiveSink, ProxyConfig, Recorder, TlsUpstream, UpstreamTls,
};
use sioscope::report::{Filter, Reporter};
use sioscope::units::parse_duration;

use crate::common::{DecodeLimitArgs, FilterArgs, Format, OutputArgs};

#[derive(Args, Debug)]
pub struct ProxyArgs {
    /// Address to listen on. Loopback unless --allow-remote.
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR:PORT")]
    pub listen: SocketAddr,
    /// The real server, `host:port`.
    #[arg(long, value_name = "HOST:PORT")]
    pub upstream: String,
    /// Allow --listen on a non-loopback address (anyone who can reach it can use the proxy).
    #[arg(long)]
    pub allow_remote: bool,
    /// Speak TLS to the upstream (https/wss server); the client side stays plain.
    #[arg(long)]
    pub upstream_tls: bool,
    /// TLS server name to send and verify (default: the upstream host).
    #[arg(long, value_name = "NAME", requires = "upstream_tls")]
    pub upstream_sni: Option<String>,
    /// Accept any upstream certificate (self-signed development certificates).
    #[arg(long, requires = "upstream_tls")]
    pub upstream_insecure: bool,
    /// Write what passed through as a pcapng capture (opens in decode, explain, Wireshark).
    #[arg(long, value_name = "FILE")]
    pub record: Option<PathBuf>,
    /// Inject a fault (repeatable): corrupt-deflate[:N], block-websocket, delay:<time>,
    /// drop-after:<bytes|time>, stall-pongs.
    #[arg(long = "fault", value_name = "FAULT")]
    pub faults: Vec<Fault>,
    /// Stop after this long (e.g. 30s, 5m), as Ctrl-C would.
    #[arg(long, value_parser = parse_duration, value_name = "TIME")]
    pub duration: Option<Duration>,
    /// Accept this many connections, then stop when they are done.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_connections: Option<u64>,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Engine.IO revision to assume where the traffic does not show it (2, 3 or 4).
    #[arg(long, value_parser = clap::value_parser!(u8).range(2..=4))]
    pub eio: Option<u8>,
    /// Largest message or body kept after decompression (64MiB, 1k, 4096).
    #[arg(long, default_value = "64MiB", value_name = "SIZE",
          value_parser = crate::common::size_arg, allow_hyphen_values = true)]
    pub max_message: usize,
    #[command(flatten)]
    pub limits: DecodeLimitArgs,
}

/// Standard output shared by the reporter and the finding lines, in write order.
#[derive(Clone)]
struct SharedOut(Arc<Mutex<BufWriter<io::Stdout>>>);

impl Write for SharedOut {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self.0.lock() {
            Ok(mut w) => w.write(buf),
            Err(_) => Err(io::Error::other("output lock poisoned")),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self.0.lock() {
            Ok(mut w) => w.flush(),
            Err(_) => Err(io::Error::other("output lock poisoned")),
        }
    }
}

struct Printer {
    reporter: Box<dyn Reporter + Send>,
    out: SharedOut,
    filter: Filter,
    format: Format,
    failed: Option<io::Error>,
}

impl Printer {
    fn check(&mut self, r: io::Result<()>) {
        if let Err(e) = r {
            self.failed.get_or_insert(e);
        }
    }
}

impl LiveSink for Printer {
    fn event(&mut self, ev: &Event) {
        // Times count from the first connection's first packet, printed or not: as `decode`
        // of the recording counts them from the capture's first packet.
        self.reporter.time_origin(ev.ts);
        if self.failed.is_none() && self.filter.matches(ev) {
            let r = self.reporter.event(ev);
            self.check(r);
        }
    }

    fn finding(&mut self, f: &Finding) {
        if self.failed.is_some() {
            return;
        }
        let r = match self.format {
            Format::Text => {
                let injected = if f.injected.is_empty() {
                    ""
                } else {
                    " [fault injected]"
                };
                let reason = f
                    .end
                    .reason
                    .as_deref()
                    .map(|r| format!(" (\"{r}\")"))
                    .unwrap_or_default();
                writeln!(
                    self.out,
                    "── session {} ({}) ended: {}{}{} — {}",
                    f.sid,
                    f.client,
                    f.end.cause.as_str(),
                    reason,
                    injected,
                    f.end.explanation.split(". ").next().unwrap_or_default()
                )
            }
            Format::Ndjson => {
                let doc = serde_json::json!({ "layer": "finding", "finding": f });
                serde_json::to_writer(&mut self.out, &doc)
                    .map_err(io::Error::other)
                    .and_then(|()| writeln!(self.out))
            }
            Format::Json => Ok(()),
        };
        self.check(r);
    }

    fn message(&mut self, _conn: u64, text: &str) {
        eprintln!("sioscope: {text}");
    }

    fn idle(&mut self) {
        let r = self.out.flush();
        self.check(r);
    }

    fn finish(&mut self) {
        let r = self.reporter.finish();
        self.check(r);
        if let Some(e) = self.failed.take() {
            if e.kind() != io::ErrorKind::BrokenPipe {
                eprintln!("sioscope: writing output: {e}");
            }
        }
    }
}

fn upstream_host(up: &str) -> &str {
    up.rsplit_once(':').map_or(up, |(h, _)| h)
}

pub fn run(args: ProxyArgs) -> Result<ExitCode> {
    if !args.listen.ip().is_loopback() {
        if !args.allow_remote {
            bail!(
                "--listen {} is not a loopback address; add --allow-remote to accept connections from other machines",
                args.listen
            );
        }
        eprintln!(
            "sioscope: warning: listening on {}: anyone who can reach it can use this proxy to reach {}",
            args.listen, args.upstream
        );
    }
    if !args.upstream.contains(':') {
        bail!("--upstream {:?} needs a port (host:port)", args.upstream);
    }
    let filter = args.filter.filter()?;
    let tls = if args.upstream_tls {
        let opts = UpstreamTls {
            sni: args.upstream_sni.clone(),
            insecure: args.upstream_insecure,
        };
        let (connector, name) =
            sioscope::proxy::tls::connector(&opts, upstream_host(&args.upstream))?;
        Some(TlsUpstream { connector, name })
    } else {
        None
    };
    let recorder = match &args.record {
        Some(p) => {
            let f = File::create(p).with_context(|| format!("cannot create {}", p.display()))?;
            Some(
                Recorder::new(BufWriter::with_capacity(1 << 20, f))
                    .with_context(|| format!("writing {}", p.display()))?,
            )
        }
        None => None,
    };
    let out = SharedOut(Arc::new(Mutex::new(BufWriter::with_capacity(
        1 << 16,
        io::stdout(),
    ))));
    let reporter = args.output.reporter(out.clone(), None);
    let printer = Printer {
        reporter,
        out: out.clone(),
        filter,
        format: args.output.format,
        failed: None,
    };
    let cfg = ProxyConfig {
        upstream: args.upstream.clone(),
        faults: FaultPlan::new(&args.faults),
        max_connections: args.max_connections,
        ..ProxyConfig::default()
    };
    let pipeline = args.limits.pipeline(args.eio, args.max_message);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    let duration = args.duration;
    let summary = rt.block_on(async {
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("cannot listen on {}", args.listen))?;
        let tls_note = if args.upstream_tls { " (TLS)" } else { "" };
        let faults: Vec<String> = args.faults.iter().map(ToString::to_string).collect();
        eprintln!(
            "sioscope proxy: {} → {}{}{}{}",
            listener.local_addr().unwrap_or(args.listen),
            args.upstream,
            tls_note,
            if faults.is_empty() {
                String::new()
            } else {
                format!(" · faults: {}", faults.join(", "))
            },
            args.record
                .as_ref()
                .map(|p| format!(" · recording {}", p.display()))
                .unwrap_or_default()
        );
        let stop = async move {
            let limit = async {
                match duration {
                    Some(d) => tokio::time::sleep(d).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = limit => {}
            }
        };
        serve(
            listener,
            cfg,
            tls,
            recorder,
            pipeline,
            Box::new(printer),
            stop,
        )
        .await
        .map_err(anyhow::Error::new)
    })?;
    rt.shutdown_timeout(Duration::from_secs(1));
    let mut out2 = out.clone();
    out2.flush().context("writing output")?;
    print_summary(&summary, args.record.as_deref());
    Ok(ExitCode::SUCCESS)
}

fn mb(n: u64) -> String {
    if n >= 1 << 20 {
        format!("{:.1} MiB", n as f64 / f64::from(1u32 << 20))
    } else if n >= 1 << 10 {
        format!("{:.1} KiB", n as f64 / 1024.0)
    } else {
        format!("{n} B")
    }
}

fn print_summary(s: &sioscope::proxy::Summary, record: Option<&std::path::Path>) {
    // Counters, not records: the live tracker forgets sessions once reported.
    let x = &s.sessions;
    let causes: Vec<(String, u64)> = x
        .by_cause
        .iter()
        .map(|(c, n)| (c.as_str().to_string(), *n))
        .collect();
    eprintln!(
        "sioscope proxy: {} connection{}{} · {} c2s · {} s2c · {} events · {} session{} ({} abnormal){}",
        s.connections,
        if s.connections == 1 { "" } else { "s" },
        if s.failed_upstream > 0 { format!(" ({} upstream unreachable)", s.failed_upstream) } else { String::new() },
        mb(s.bytes[0]),
        mb(s.bytes[1]),
        s.events,
        x.sessions,
        if x.sessions == 1 { "" } else { "s" },
        x.abnormal,
        if causes.is_empty() {
            String::new()
        } else {
            format!(": {}", causes.iter().map(|(c, n)| format!("{c} {n}")).collect::<Vec<_>>().join(", "))
        }
    );
    if s.order_waits.1 > 0 {
        eprintln!(
            "sioscope proxy: warning: {} connection{} waited too long for an earlier one and went out of turn",
            s.order_waits.1,
            if s.order_waits.1 == 1 { "" } else { "s" }
        );
    }
    if s.injected > 0 {
        eprintln!(
            "sioscope proxy: {} fault{} injected",
            s.injected,
            if s.injected == 1 { "" } else { "s" }
        );
    }
    if s.undecoded.0 > 0 {
        eprintln!(
            "sioscope proxy: {} chunks not decoded (printer overloaded), {}",
            s.undecoded.0,
            mb(s.undecoded.1)
        );
    }
    if let Some(p) = record {
        eprintln!(
            "sioscope proxy: recorded {} packets to {}",
            s.recorded_frames,
            p.display()
        );
    }
}
