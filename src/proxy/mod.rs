//! # proxy: watch a live app, record it, break it on purpose
//!
//! `sioscope proxy --listen 127.0.0.1:8080 --upstream 127.0.0.1:3000` is a transparent TCP relay:
//! a client connects to the proxy, the proxy connects to the upstream, and bytes are copied both
//! ways unchanged (WebSocket, permessage-deflate and all: nothing is terminated or re-encoded).
//! A copy of every forwarded chunk, with its connection, direction, stream offset and time, goes
//! to the same [`crate::pipeline::Pipeline`] that decodes captures, so the live view prints the
//! same events as `sioscope decode` would on a capture of the same traffic, and findings as
//! sessions end, like `sioscope explain`.
//!
//! ```text
//!  client ──▶ [listen] ── relay task per connection ── [upstream (TCP or TLS)] ──▶ server
//!                              │ copies (try_send: never waits)
//!                              ▼
//!                   front thread: frame numbers, --record pcapng
//!                              ▼ (bounded; full = counted, not decoded)
//!                   decoder thread: pipeline → events → LiveSink; explain as sessions end
//! ```
//!
//! * [`relay`]: the tokio relay (accept loop, per-connection tasks, upstream TLS, shutdown);
//! * [`order`]: the cross-connection order of first chunks (a later connection's request never
//!   overtakes an earlier one's while its upstream connect is under way);
//! * [`fault`]: `--fault` parsing;
//! * [`shaper`]: the stream-aware shapers that inject them ([`poll_stall`]: `stall-pongs` over
//!   long-polling);
//! * [`note`]: what the relay tells the observers;
//! * [`record`]: `--record` as a pcapng with synthesized Ethernet/IP/TCP packets;
//! * [`observe`]: the front and decoder threads, and the [`LiveSink`] the CLI implements;
//! * [`tls`]: the upstream TLS connector.
//!
//! In proxy output, an event's `frame` is the number of its packet in the `--record`ing when
//! there is one, and otherwise the chunk's arrival number at the observers.

pub mod fault;
pub mod note;
pub mod observe;
pub mod order;
pub mod poll_stall;
pub mod record;
pub mod relay;
pub mod shaper;
pub mod tls;

use std::io::Write;
use std::sync::atomic::Ordering;
use std::sync::Arc;

pub use fault::{Fault, FaultPlan};
pub use observe::{Counters, LiveSink, SessionCounts};
pub use record::Recorder;
pub use relay::{ProxyConfig, RelayStats, TlsUpstream};
pub use tls::UpstreamTls;

use crate::explain::Explanation;
use crate::pipeline::PipelineOptions;

/// Notes waiting between the relay and the front thread.
const NOTE_CHANNEL: usize = 4096;
/// Numbered notes waiting for the decoder thread.
const DECODE_CHANNEL: usize = 4096;

/// Why the proxy could not run or finish.
#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    /// A thread could not be started.
    #[error("cannot start the {what} thread: {source}")]
    Thread {
        /// Which thread.
        what: &'static str,
        /// The cause.
        source: std::io::Error,
    },
    /// Writing the recording failed.
    #[error("writing the recording: {0}")]
    Record(#[source] std::io::Error),
    /// An observer thread panicked.
    #[error("the {0} thread failed")]
    Panicked(&'static str),
}

/// What a run did, for the summary printed at the end.
#[derive(Debug)]
pub struct Summary {
    /// Client connections accepted.
    pub connections: u64,
    /// Connections whose upstream could not be reached.
    pub failed_upstream: u64,
    /// Bytes forwarded client→server and server→client.
    pub bytes: [u64; 2],
    /// Chunks (and their bytes) not decoded because the printer was behind.
    pub undecoded: (u64, u64),
    /// Events decoded.
    pub events: u64,
    /// Faults that acted.
    pub injected: u64,
    /// Packets written to the recording.
    pub recorded_frames: u64,
    /// First chunks that waited for an earlier connection's (see [`order`]), and waits that ran
    /// out (the order of those was not guaranteed).
    pub order_waits: (u64, u64),
    /// The sessions still tracked at the end (the live tracker forgets reported sessions after
    /// a grace period, so this is not every session of a long run: see `sessions`).
    pub explanation: Explanation,
    /// Every session of the run, counted by how it ended.
    pub sessions: SessionCounts,
}

/// Runs a whole proxy session: relay, recorder and decoder, until `stop` completes or
/// `cfg.max_connections` connections are done. Returns once the recording is flushed and the
/// decoder has printed everything.
pub async fn serve<W, F>(
    listener: tokio::net::TcpListener,
    mut cfg: ProxyConfig,
    tls: Option<TlsUpstream>,
    recorder: Option<Recorder<W>>,
    pipeline: PipelineOptions,
    sink: Box<dyn LiveSink>,
    stop: F,
) -> Result<Summary, ProxyError>
where
    W: Write + Send + 'static,
    F: std::future::Future<Output = ()>,
{
    cfg.lossless = recorder.is_some();
    let counters = Arc::new(Counters::default());
    let (note_tx, note_rx) = tokio::sync::mpsc::channel(NOTE_CHANNEL);
    let (dec_tx, dec_rx) = std::sync::mpsc::sync_channel(DECODE_CHANNEL);
    let c1 = counters.clone();
    let front = std::thread::Builder::new()
        .name("sioscope-front".into())
        .spawn(move || observe::front(note_rx, recorder, dec_tx, c1))
        .map_err(|source| ProxyError::Thread {
            what: "recorder",
            source,
        })?;
    let c2 = counters.clone();
    let decoder = std::thread::Builder::new()
        .name("sioscope-decode".into())
        .spawn(move || {
            let mut sink = sink;
            observe::decode(dec_rx, pipeline, sink.as_mut(), &c2)
        })
        .map_err(|source| ProxyError::Thread {
            what: "decoder",
            source,
        })?;
    let stats = relay::relay(listener, cfg, tls, note_tx, counters.clone(), stop).await;
    // The relay dropped its senders: the threads drain and end.
    let joined = tokio::task::spawn_blocking(move || (front.join(), decoder.join())).await;
    let (front, decoded) = joined.map_err(|_| ProxyError::Panicked("observer"))?;
    let recorded_frames = front
        .map_err(|_| ProxyError::Panicked("recorder"))?
        .map_err(ProxyError::Record)?;
    let d = decoded.map_err(|_| ProxyError::Panicked("decoder"))?;
    Ok(Summary {
        connections: stats.accepted.load(Ordering::Relaxed),
        failed_upstream: stats.failed.load(Ordering::Relaxed),
        bytes: [
            stats.c2s_bytes.load(Ordering::Relaxed),
            stats.s2c_bytes.load(Ordering::Relaxed),
        ],
        undecoded: (
            counters.undecoded.load(Ordering::Relaxed),
            counters.undecoded_bytes.load(Ordering::Relaxed),
        ),
        events: d.events,
        injected: d.injected,
        recorded_frames,
        order_waits: (
            stats.order_waited.load(Ordering::Relaxed),
            stats.order_expired.load(Ordering::Relaxed),
        ),
        explanation: d.explanation,
        sessions: d.counts,
    })
}
