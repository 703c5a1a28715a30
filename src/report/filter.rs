//! Which events a user asked to see: by layer, session id, namespace, event name, connection,
//! packet type.

use crate::event::{Body, Event, TcpInfo, WsInfo};
use crate::explain::Explanation;
use crate::session::SessionRecord;

/// Layers to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LayerSet {
    /// TCP lifecycle (open, FIN, RST, gaps, close).
    pub tcp: bool,
    /// HTTP requests and responses.
    pub http: bool,
    /// WebSocket messages and control frames.
    pub ws: bool,
    /// Individual WebSocket frames.
    pub ws_frames: bool,
    /// Engine.IO packets other than the messages that carry Socket.IO packets.
    pub eio: bool,
    /// Socket.IO packets.
    pub sio: bool,
}

impl LayerSet {
    /// The default view: Socket.IO packets, Engine.IO control packets, anomalies, and the
    /// lower-level events that end or change things (WebSocket close frames, TCP RST and gaps,
    /// HTTP errors and `101` upgrades).
    pub fn default_view() -> Self {
        LayerSet {
            tcp: false,
            http: false,
            ws: false,
            ws_frames: false,
            eio: true,
            sio: true,
        }
    }

    /// Parses a comma-separated list: `sio`, `eio`, `ws`, `ws-frames`, `http`, `tcp`, `all`.
    pub fn parse(list: &str) -> Result<Self, String> {
        let mut s = LayerSet {
            tcp: false,
            http: false,
            ws: false,
            ws_frames: false,
            eio: false,
            sio: false,
        };
        for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            match name {
                "tcp" => s.tcp = true,
                "http" => s.http = true,
                "ws" => s.ws = true,
                "ws-frames" => s.ws_frames = true,
                "eio" => s.eio = true,
                "sio" => s.sio = true,
                "all" => {
                    s = LayerSet {
                        tcp: true,
                        http: true,
                        ws: true,
                        ws_frames: true,
                        eio: true,
                        sio: true,
                    }
                }
                other => {
                    return Err(format!(
                    "unknown layer {other:?} (expected sio, eio, ws, ws-frames, http, tcp or all)"
                ))
                }
            }
        }
        Ok(s)
    }
}

/// An event filter built from command-line flags.
#[derive(Debug, Clone)]
pub struct Filter {
    /// Layers shown.
    pub layers: LayerSet,
    /// Only this Engine.IO session (prefix match, so a shortened sid works).
    pub sid: Option<String>,
    /// Only this namespace.
    pub nsp: Option<String>,
    /// Only this event name.
    pub event: Option<String>,
    /// Only these connections.
    pub conn: Vec<u64>,
    /// Only these packet types (Engine.IO or Socket.IO type names, case-insensitive).
    pub types: Vec<String>,
    /// Whether the default view's lifecycle events are added (`--layer` not given).
    pub lifecycle: bool,
}

impl Default for Filter {
    fn default() -> Self {
        Filter {
            layers: LayerSet::default_view(),
            sid: None,
            nsp: None,
            event: None,
            conn: Vec::new(),
            types: Vec::new(),
            lifecycle: true,
        }
    }
}

impl Filter {
    /// True when the event should be shown.
    pub fn matches(&self, ev: &Event) -> bool {
        if !self.conn.is_empty() && !self.conn.contains(&ev.conn.0) {
            return false;
        }
        let layer_ok = match &ev.body {
            Body::Tcp(t) => {
                self.layers.tcp
                    || (self.lifecycle && matches!(t, TcpInfo::Rst | TcpInfo::Gap { .. }))
            }
            Body::Http(h) => {
                self.layers.http
                    || (self.lifecycle && h.status.is_some_and(|s| s >= 400 || s == 101))
            }
            Body::Ws(WsInfo::Frame { .. }) => self.layers.ws_frames,
            Body::Ws(w) => self.layers.ws || (self.lifecycle && matches!(w, WsInfo::Close { .. })),
            Body::Eio { .. } => self.layers.eio,
            Body::Sio { .. } => self.layers.sio || self.layers.eio,
            Body::Anomaly(_) => true,
        };
        if !layer_ok {
            return false;
        }
        if let Some(want) = &self.sid {
            match ev.sid() {
                Some(sid) if sid.starts_with(want.as_str()) => {}
                _ => return false,
            }
        }
        if self.nsp.is_some() || self.event.is_some() {
            let Body::Sio { sio, .. } = &ev.body else {
                return false;
            };
            if self
                .nsp
                .as_ref()
                .is_some_and(|n| *n != Filter::normalize_nsp(&sio.nsp))
            {
                return false;
            }
            if self.event.is_some() && self.event != sio.event {
                return false;
            }
        }
        if !self.types.is_empty() {
            let ty = match &ev.body {
                Body::Sio { sio, .. } => sio.kind.clone(),
                Body::Eio { eio } => eio.kind.to_string(),
                _ => return false,
            };
            if !self.types.iter().any(|t| t.eq_ignore_ascii_case(&ty)) {
                return false;
            }
        }
        true
    }
}

impl Filter {
    /// A `--sid` value as a prefix: the elided form the text output prints (`oGp1oc…`, also with
    /// `...` or a `sid=` label) means the id starts with what is before the ellipsis.
    pub fn normalize_sid(s: &str) -> String {
        let s = s.trim();
        let s = s.strip_prefix("sid=").unwrap_or(s);
        let s = s
            .strip_suffix('…')
            .or_else(|| s.strip_suffix("..."))
            .unwrap_or(s);
        s.to_string()
    }

    /// A namespace as the packets name it: `chat` and `/chat` are the same namespace, and the
    /// main namespace is `/` (socket.io 0.9's empty endpoint too).
    pub fn normalize_nsp(s: &str) -> String {
        format!("/{}", s.trim().trim_start_matches('/'))
    }

    /// A `--type` value checked against the packet types that exist: those of Engine.IO
    /// (`open` … `noop`), Socket.IO (`CONNECT` … `BINARY_ACK`) and socket.io 0.9 (`heartbeat`,
    /// `json`, …), matched without regard to case.
    pub fn validate_type(t: &str) -> Result<String, String> {
        let t = t.trim();
        let all = packet_types();
        if all.iter().any(|k| k.eq_ignore_ascii_case(t)) {
            Ok(t.to_string())
        } else {
            Err(format!(
                "--type: unknown packet type {t:?}; valid types: {}",
                all.join(", ")
            ))
        }
    }
}

/// Every packet type name an event can carry: Engine.IO's seven, Socket.IO's seven and the
/// socket.io 0.9 kinds not already among them, in protocol order.
pub fn packet_types() -> Vec<&'static str> {
    let mut all: Vec<&'static str> = Vec::new();
    let eio = (0..=6).filter_map(crate::engineio::PacketType::from_number);
    let sio = ('0'..='6').filter_map(crate::socketio::PacketType::from_digit);
    let legacy = (0..=8).filter_map(crate::socketio::legacy::LegacyKind::from_number);
    for name in eio
        .map(|t| t.name())
        .chain(sio.map(|t| t.name()))
        .chain(legacy.map(|k| k.name()))
    {
        if !all.iter().any(|k| k.eq_ignore_ascii_case(name)) {
            all.push(name);
        }
    }
    all
}

impl Filter {
    /// True when a session meets the session-level conditions: its id starts with `--sid`, it
    /// has a socket in `--nsp`, it used one of the `--conn` connections.
    pub fn matches_session(&self, r: &SessionRecord) -> bool {
        self.sid
            .as_ref()
            .is_none_or(|p| r.sid.starts_with(p.as_str()))
            && self.nsp.as_ref().is_none_or(|n| {
                r.sockets
                    .iter()
                    .any(|s| Filter::normalize_nsp(&s.nsp) == *n)
            })
            && (self.conn.is_empty() || self.conn.iter().any(|c| r.conns.contains(c)))
    }

    /// The explanation narrowed to the sessions this filter selects (`records` are the tracker's
    /// sessions, in the same order as `x.sessions`), with the chains that touch them. A `--sid`
    /// prefix that starts several session ids is an error that names them.
    pub fn narrow(&self, x: Explanation, records: &[SessionRecord]) -> Result<Explanation, String> {
        if let Some(p) = &self.sid {
            let hits: Vec<&str> = records
                .iter()
                .map(|r| r.sid.as_str())
                .filter(|s| s.starts_with(p.as_str()))
                .collect();
            if hits.len() > 1 {
                return Err(format!(
                    "--sid {p:?} is ambiguous: it starts {} session ids ({}); give more of the id",
                    hits.len(),
                    hits.iter().take(5).copied().collect::<Vec<_>>().join(", ")
                ));
            }
        }
        let keep: Vec<bool> = records.iter().map(|r| self.matches_session(r)).collect();
        // Taken, not copied: the findings are most of explain's memory at the end.
        let mut x = x;
        let mut keep = keep.into_iter();
        x.sessions.retain(|_| keep.next().unwrap_or(false));
        let kept: std::collections::HashSet<&str> =
            x.sessions.iter().map(|f| f.sid.as_str()).collect();
        x.chains
            .retain(|c| c.sids.iter().any(|s| kept.contains(s.as_str())));
        x.hops
            .retain(|h| h.sid.as_ref().is_none_or(|s| kept.contains(s.as_str())));
        Ok(x)
    }

    /// Flags that select packets and mean nothing for a list of sessions (`--event`, `--type`,
    /// `--layer`), named for an error message.
    pub fn packet_only_flags(&self) -> Vec<&'static str> {
        let mut v = vec![];
        if self.event.is_some() {
            v.push("--event");
        }
        if !self.types.is_empty() {
            v.push("--type");
        }
        if !self.lifecycle {
            v.push("--layer");
        }
        v
    }
}
