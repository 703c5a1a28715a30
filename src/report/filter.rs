//! Which events a user asked to see: by layer, session id, namespace, event name, connection,
//! packet type.

use crate::event::{Body, Event, TcpInfo, WsInfo};

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
            match event_sid(ev) {
                Some(sid) if sid.starts_with(want.as_str()) => {}
                _ => return false,
            }
        }
        if self.nsp.is_some() || self.event.is_some() {
            let Body::Sio { sio, .. } = &ev.body else {
                return false;
            };
            if self.nsp.as_ref().is_some_and(|n| *n != sio.nsp) {
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

/// The Engine.IO session id an event belongs to, where it is known.
pub fn event_sid(ev: &Event) -> Option<&str> {
    match &ev.body {
        Body::Eio { eio } | Body::Sio { eio, .. } => eio.sid.as_deref(),
        Body::Http(h) => h.sid.as_deref(),
        Body::Ws(WsInfo::Message { sid, .. }) => sid.as_deref(),
        _ => None,
    }
}
