//! The pipeline: frontend chunks in, one typed [`Event`] stream out.
//!
//! A frontend (capture reassembly, or the live proxy) speaks [`TcpEvent`]: connections opening,
//! in-order bytes per direction with their stream offset and origin, gaps, FIN/RST, close. The
//! pipeline sniffs each connection (HTTP or not), runs the HTTP decoder per direction, switches
//! to WebSocket after `101 Switching Protocols`, inflates permessage-deflate messages, and hands
//! polling bodies and WebSocket messages to the Engine.IO and Socket.IO codecs with the session
//! context they need (protocol revision, session id, transport). It never does IO.

mod conn;
mod engine;
mod provenance;
mod step;
mod websocket;

use foldhash::HashMap;

pub use provenance::Provenance;

use crate::event::{AnomalyInfo, Body, ConnId, Dir, Event, Origin, TcpInfo};
use crate::tcp::TcpEvent;
use conn::Conn;
pub(crate) use step::{EioLayer, Step};

/// Settings of the pipeline.
#[derive(Debug, Clone)]
pub struct PipelineOptions {
    /// Force an Engine.IO revision (2, 3, 4) where the capture does not show it (mid-stream).
    pub eio: Option<u8>,
    /// Largest WebSocket message or HTTP body kept, after inflation (decompression bombs stop here).
    pub max_message: usize,
    /// Most header fields in one HTTP head (`http-too-many-headers` beyond).
    pub max_header_count: usize,
    /// Longest HTTP head in bytes (`http-head-too-long` beyond).
    pub max_header_size: usize,
    /// Deepest nesting kept of a Socket.IO packet's JSON payload, at most
    /// [`MAX_JSON_DEPTH`](crate::socketio::json_depth::MAX_JSON_DEPTH) (`sio-json-too-deep`
    /// beyond; the packet is kept with the deeper values as `null`).
    pub max_json_depth: usize,
    /// Engine.IO sessions tracked at once (`--max-tracked-sessions`): past it, the oldest
    /// session whose connections are all closed is dropped from the pipeline's session table
    /// (and the session tracker folds the oldest ended record into a count).
    pub max_sessions: usize,
}

impl Default for PipelineOptions {
    fn default() -> Self {
        PipelineOptions {
            eio: None,
            max_message: 64 << 20,
            max_header_count: crate::http::DEFAULT_MAX_HEADERS,
            max_header_size: crate::http::DEFAULT_MAX_HEAD,
            max_json_depth: crate::socketio::json_depth::MAX_JSON_DEPTH,
            max_sessions: crate::session::DEFAULT_MAX_SESSIONS,
        }
    }
}

/// Decodes every connection of a capture or proxy session into events: the connection layer
/// ([`Connections`]) and the Engine.IO layer ([`EioLayer`]) one after the other.
pub struct Pipeline {
    conns: Connections,
    eio: EioLayer,
}

/// The connection layer: per TCP connection, sniffing, HTTP/1.1, WebSocket and
/// permessage-deflate; no state shared between connections, so connections can be decoded on
/// different threads (each connection's events in its order) and their [`Step`]s applied by
/// one [`EioLayer`] in the order the frontend gave.
pub(crate) struct Connections {
    opts: PipelineOptions,
    conns: HashMap<ConnId, Conn>,
}

/// Where decoded events go.
pub type Sink<'a> = dyn FnMut(Event) + 'a;

/// Helper to build events of one connection and direction. The connection layer emits
/// [`Step`]s (events, and the Engine.IO layer's work in their place), the Engine.IO layer emits
/// events.
pub(crate) struct Emit<'s, 'a, T = Event> {
    pub(crate) conn: ConnId,
    pub(crate) sink: &'s mut (dyn FnMut(T) + 'a),
}

impl<T: From<Event>> Emit<'_, '_, T> {
    /// Emits an event completed at `last`, begun at `first`.
    pub(crate) fn at(&mut self, first: Origin, last: Origin, dir: Option<Dir>, body: Body) {
        (self.sink)(T::from(event_at(self.conn, first, last, dir, body)));
    }

    /// Emits an anomaly.
    pub(crate) fn anomaly(
        &mut self,
        origin: Origin,
        dir: Option<Dir>,
        at: &'static str,
        rule: impl Into<String>,
        detail: impl Into<String>,
        bytes: Option<&[u8]>,
    ) {
        self.at(
            origin,
            origin,
            dir,
            Body::Anomaly(AnomalyInfo {
                at,
                rule: rule.into(),
                detail: detail.into(),
                bytes: bytes.map(hex_preview),
            }),
        );
    }
}

impl<T: From<Event>> Emit<'_, '_, T> {
    /// Emits a decoder error as an anomaly: its rule name (`prefix` plus the variant in kebab
    /// case), its message, and the offending bytes.
    pub(crate) fn error<E: std::fmt::Display + std::fmt::Debug>(
        &mut self,
        origin: Origin,
        dir: Option<Dir>,
        at: &'static str,
        error: &E,
        bytes: Option<&[u8]>,
    ) {
        self.anomaly(
            origin,
            dir,
            at,
            rule_name(at, error),
            error.to_string(),
            bytes,
        );
    }
}

/// The event of connection `conn` completed at `last`, begun at `first`.
pub(crate) fn event_at(
    conn: ConnId,
    first: Origin,
    last: Origin,
    dir: Option<Dir>,
    body: Body,
) -> Event {
    Event {
        frame: last.frame,
        ts: last.ts,
        first_frame: (first.frame != last.frame).then_some(first.frame),
        conn,
        dir,
        body,
    }
}

/// The first 64 bytes in hex, with an ellipsis when there are more.
pub(crate) fn hex_preview(b: &[u8]) -> String {
    let mut s: String = b.iter().take(64).map(|x| format!("{x:02x}")).collect();
    if b.len() > 64 {
        s.push('…');
    }
    s
}

impl Pipeline {
    /// A pipeline with these settings.
    pub fn new(opts: PipelineOptions) -> Self {
        Pipeline {
            eio: EioLayer::new(&opts),
            conns: Connections::new(opts),
        }
    }

    /// Takes one frontend event and emits what it completes.
    pub fn tcp(&mut self, ev: TcpEvent<'_>, sink: &mut Sink<'_>) {
        let eio = &mut self.eio;
        self.conns.tcp(ev, &mut |step| eio.apply(step, sink));
    }
}

impl Connections {
    /// No connections yet.
    pub(crate) fn new(opts: PipelineOptions) -> Self {
        Connections {
            opts,
            conns: HashMap::default(),
        }
    }

    /// Takes one frontend event and emits the steps it completes.
    pub(crate) fn tcp(&mut self, ev: TcpEvent<'_>, sink: &mut dyn FnMut(Step)) {
        match ev {
            TcpEvent::Open { info, origin } => {
                let mut emit: Emit<'_, '_, Step> = Emit {
                    conn: info.id,
                    sink,
                };
                emit.at(
                    origin,
                    origin,
                    None,
                    Body::Tcp(TcpInfo::Open {
                        client: crate::tcp::endpoint_text(info.client),
                        server: crate::tcp::endpoint_text(info.server),
                        syn_seen: info.syn_seen,
                    }),
                );
                self.conns.insert(info.id, Conn::new(info, &self.opts));
            }
            TcpEvent::Data {
                conn,
                dir,
                offset,
                bytes,
                origin,
            } => {
                if let Some(c) = self.conns.get_mut(&conn) {
                    let mut emit: Emit<'_, '_, Step> = Emit { conn, sink };
                    c.data(dir, offset, bytes, origin, &mut emit);
                }
            }
            TcpEvent::Gap {
                conn,
                dir,
                start,
                end,
                origin,
                reason,
            } => {
                let mut emit: Emit<'_, '_, Step> = Emit { conn, sink };
                emit.at(
                    origin,
                    origin,
                    Some(dir),
                    Body::Tcp(TcpInfo::Gap {
                        start,
                        end,
                        reason: reason.as_str(),
                    }),
                );
                if let Some(c) = self.conns.get_mut(&conn) {
                    c.gap(dir, start, end, origin, &mut emit);
                }
            }
            TcpEvent::Fin { conn, dir, origin } => {
                let mut emit: Emit<'_, '_, Step> = Emit { conn, sink };
                emit.at(origin, origin, Some(dir), Body::Tcp(TcpInfo::Fin));
            }
            TcpEvent::Rst { conn, dir, origin } => {
                let mut emit: Emit<'_, '_, Step> = Emit { conn, sink };
                emit.at(origin, origin, Some(dir), Body::Tcp(TcpInfo::Rst));
            }
            TcpEvent::Evicted {
                conn,
                origin,
                limit,
            } => {
                let mut emit: Emit<'_, '_, Step> = Emit { conn, sink };
                emit.anomaly(
                    origin,
                    None,
                    "tcp",
                    "tcp-connection-table-full",
                    format!(
                        "more than {limit} connections open at once (--max-tracked-connections): \
                         this one, the least recently active, is no longer tracked; it ends here as \
                         if the capture did, and a later segment of it starts a new connection"
                    ),
                    None,
                );
            }
            TcpEvent::Close {
                conn,
                origin,
                at_eof,
            } => {
                let mut emit: Emit<'_, '_, Step> = Emit { conn, sink };
                if let Some(mut c) = self.conns.remove(&conn) {
                    c.finish(origin, &mut emit);
                }
                (emit.sink)(Step::Eio(step::EioStep::ConnClosed(conn)));
                emit.at(origin, origin, None, Body::Tcp(TcpInfo::Close { at_eof }));
            }
        }
    }
}

/// A stable rule name for an error value: `prefix-` plus its variant name in kebab case
/// (`UnmaskedClientFrame` → `ws-unmasked-client-frame`).
pub(crate) fn rule_name(prefix: &str, err: &impl std::fmt::Debug) -> String {
    let dbg = format!("{err:?}");
    let variant: String = dbg
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric())
        .collect();
    let mut out = String::from(prefix);
    for (i, c) in variant.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 || !out.is_empty() {
                out.push('-');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            if i == 0 && !out.is_empty() {
                out.push('-');
            }
            out.push(c);
        }
    }
    out
}
