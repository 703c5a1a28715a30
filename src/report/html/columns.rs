//! The packet index the report page draws from: one column per field the timeline, the charts and
//! the packet table read (time, frame, connection, direction, layer, session, type, transport,
//! namespace, detail text, size), repeated strings written once in a string table. A column of
//! small integers parses many times faster than one JSON object per event and is a fraction of
//! its size; the whole event is kept separately, compressed, for the detail view
//! ([`super::detail`]).

use std::collections::{BTreeMap, HashMap};
use std::io::{self, Write};

use serde::Serialize;

use crate::event::{Body, Dir, Event, HttpInfo, TcpInfo, WsInfo};

/// Characters of a detail text kept in the index (the detail view shows the whole event).
const DETAIL_CHARS: usize = 120;

/// A write sink that only counts bytes (the JSON length of a payload, without keeping it).
struct Count(usize);

impl Write for Count {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The index of one capture's events, column by column.
#[derive(Debug, Default, Serialize)]
pub struct Columns {
    /// Number of events.
    n: usize,
    /// The first event's time, seconds since the epoch; `ts` counts from it.
    t0: f64,
    #[serde(skip)]
    t0_ns: Option<u64>,
    /// Microseconds since `t0`, each written as the difference to the previous event's (the
    /// page sums them up): small numbers are short in JSON.
    ts: Vec<i64>,
    /// Frame numbers, as differences to the previous event's.
    frame: Vec<i64>,
    #[serde(skip)]
    last: (i64, i64),
    conn: Vec<u64>,
    /// 0 none, 1 c2s, 2 s2c.
    dir: Vec<u8>,
    /// Index into `layers`.
    layer: Vec<u8>,
    layers: [&'static str; 6],
    /// Index into `strings` (0 is the empty string).
    sid: Vec<u32>,
    /// Packet type (`EVENT`, `ping`, `close`, `fin`, an anomaly's rule), index into `strings`.
    kind: Vec<u32>,
    /// 0 none, 1 polling, 2 websocket.
    transport: Vec<u8>,
    /// Socket.IO namespace, index into `strings`.
    nsp: Vec<u32>,
    /// Event name, for Socket.IO events, index into `strings`.
    event: Vec<u32>,
    /// What the table's detail column shows, index into `strings` (cut at 120 characters).
    detail: Vec<u32>,
    /// The table's size column: JSON length of a Socket.IO packet's data, a WebSocket message's
    /// length, an HTTP body's length; -1 when none.
    size: Vec<i64>,
    /// The open packet's `pingTimeout` per session id, in ms (for the missed-deadline marks).
    ping_timeout: BTreeMap<String, u64>,
    strings: Vec<String>,
    #[serde(skip)]
    interned: HashMap<String, u32>,
}

const LAYERS: [&str; 6] = ["tcp", "http", "ws", "eio", "sio", "anomaly"];

impl Columns {
    /// An empty index.
    pub fn new() -> Self {
        let mut c = Columns {
            layers: LAYERS,
            ..Columns::default()
        };
        c.intern("");
        c
    }

    fn intern(&mut self, s: &str) -> u32 {
        if let Some(&i) = self.interned.get(s) {
            return i;
        }
        let i = u32::try_from(self.strings.len()).unwrap_or(u32::MAX);
        self.strings.push(s.to_string());
        self.interned.insert(s.to_string(), i);
        i
    }

    fn intern_cut(&mut self, s: &str) -> u32 {
        match s.char_indices().nth(DETAIL_CHARS) {
            Some((at, _)) => {
                let cut = format!("{}…", s.get(..at).unwrap_or_default());
                self.intern(&cut)
            }
            None => self.intern(s),
        }
    }

    /// Number of events indexed.
    pub fn len(&self) -> usize {
        self.n
    }

    /// True when no event was indexed.
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// Adds one event.
    pub fn push(&mut self, ev: &Event) {
        let t0 = *self.t0_ns.get_or_insert(ev.ts.0);
        self.t0 = t0 as f64 / 1e9;
        self.n += 1;
        let us = i64::try_from(ev.ts.0.saturating_sub(t0) / 1000).unwrap_or(i64::MAX);
        let frame = i64::try_from(ev.frame).unwrap_or(i64::MAX);
        self.ts.push(us.saturating_sub(self.last.0));
        self.frame.push(frame.saturating_sub(self.last.1));
        self.last = (us, frame);
        self.conn.push(ev.conn.0);
        self.dir.push(match ev.dir {
            None => 0,
            Some(Dir::C2S) => 1,
            Some(Dir::S2C) => 2,
        });
        let layer = ev.body.layer();
        self.layer
            .push(LAYERS.iter().position(|l| *l == layer).unwrap_or(0) as u8);
        let sid = ev.sid().unwrap_or_default();
        let sid_i = self.intern(sid);
        self.sid.push(sid_i);
        let (kind, transport, nsp, event, detail, size) = self.fields(ev);
        if let Body::Eio { eio } = &ev.body {
            if let (Some(open), false) = (&eio.open, sid.is_empty()) {
                if let Some(t) = open.get("pingTimeout").and_then(|v| v.as_u64()) {
                    self.ping_timeout.insert(sid.to_string(), t);
                }
            }
        }
        let k = self.intern(&kind);
        self.kind.push(k);
        self.transport.push(transport);
        let n = self.intern(&nsp);
        self.nsp.push(n);
        let e = self.intern_cut(&event);
        self.event.push(e);
        let d = self.intern_cut(&detail);
        self.detail.push(d);
        self.size.push(size);
    }

    /// (type, transport, namespace, event name, detail text, size) of one event.
    fn fields(&self, ev: &Event) -> (String, u8, String, String, String, i64) {
        let tr = |t: &str| match t {
            "polling" => 1,
            "websocket" => 2,
            _ => 0,
        };
        match &ev.body {
            Body::Sio { eio, sio } => {
                let mut detail = sio
                    .event
                    .as_deref()
                    .map(|e| serde_json::to_string(e).unwrap_or_default())
                    .unwrap_or_default();
                if let Some(id) = sio.id {
                    detail.push_str(&format!(" ack {id}"));
                }
                let size = sio.data.as_ref().map_or(-1, |d| {
                    let mut c = Count(0);
                    let _ = serde_json::to_writer(&mut c, d);
                    i64::try_from(c.0).unwrap_or(i64::MAX)
                });
                (
                    sio.kind.clone(),
                    tr(eio.transport),
                    sio.nsp.clone(),
                    sio.event.clone().unwrap_or_default(),
                    detail,
                    size,
                )
            }
            Body::Eio { eio } => (
                eio.kind.to_string(),
                tr(eio.transport),
                String::new(),
                String::new(),
                eio.text.clone().unwrap_or_default(),
                -1,
            ),
            Body::Anomaly(a) => (
                a.rule.clone(),
                0,
                String::new(),
                String::new(),
                a.detail.clone(),
                -1,
            ),
            Body::Ws(w) => {
                let (kind, detail, size) = match w {
                    WsInfo::Message { len, .. } => ("message", String::new(), *len as i64),
                    WsInfo::Ping { .. } => ("ping", String::new(), -1),
                    WsInfo::Pong { .. } => ("pong", String::new(), -1),
                    WsInfo::Close {
                        code, code_name, ..
                    } => (
                        "close",
                        format!(
                            "close {}{}",
                            code.map_or("(no code)".to_string(), |c| c.to_string()),
                            code_name
                                .as_deref()
                                .map(|n| format!(" {n}"))
                                .unwrap_or_default()
                        ),
                        -1,
                    ),
                    WsInfo::Frame { len, .. } => ("frame", String::new(), *len as i64),
                };
                (
                    kind.to_string(),
                    0,
                    String::new(),
                    String::new(),
                    detail,
                    size,
                )
            }
            Body::Http(h) => (
                h.kind.to_string(),
                0,
                String::new(),
                String::new(),
                http_detail(h),
                i64::try_from(h.body_len).unwrap_or(i64::MAX),
            ),
            Body::Tcp(t) => {
                let kind = match t {
                    TcpInfo::Open { .. } => "open",
                    TcpInfo::Fin => "fin",
                    TcpInfo::Rst => "rst",
                    TcpInfo::Gap { .. } => "gap",
                    TcpInfo::Close { .. } => "close",
                };
                (
                    kind.to_string(),
                    0,
                    String::new(),
                    String::new(),
                    String::new(),
                    -1,
                )
            }
        }
    }
}

/// `200 OK` for a response, `GET /socket.io/?…` for a request.
fn http_detail(h: &HttpInfo) -> String {
    match h.status {
        Some(s) => format!("{s} {}", h.reason.as_deref().unwrap_or_default()),
        None => format!(
            "{} {}",
            h.method.as_deref().unwrap_or_default(),
            h.target.as_deref().unwrap_or_default()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{ConnId, EioInfo, SioInfo, Timestamp};

    fn sio(frame: u64, ts: u64, event: &str, data: serde_json::Value) -> Event {
        Event {
            frame,
            ts: Timestamp(ts),
            first_frame: None,
            conn: ConnId(1),
            dir: Some(Dir::C2S),
            body: Body::Sio {
                eio: EioInfo {
                    kind: "message",
                    version: Some(4),
                    sid: Some("abc".into()),
                    transport: "websocket",
                    text: None,
                    base64: None,
                    open: None,
                },
                sio: SioInfo {
                    kind: "EVENT".into(),
                    nsp: "/chat".into(),
                    event: Some(event.into()),
                    id: Some(7),
                    data: Some(data),
                    attachments: None,
                    version: 5,
                },
            },
        }
    }

    #[test]
    fn columns_share_strings_and_count_from_the_first_event() {
        let mut c = Columns::new();
        c.push(&sio(
            3,
            5_000_000_000,
            "hello",
            serde_json::json!(["hello", 1]),
        ));
        c.push(&sio(
            9,
            5_250_000_000,
            "hello",
            serde_json::json!(["hello", 22]),
        ));
        assert_eq!(c.len(), 2);
        assert_eq!(c.ts, vec![0, 250_000]);
        assert_eq!(c.frame, vec![3, 6]);
        assert_eq!(c.sid[0], c.sid[1]);
        assert_eq!(c.strings[c.detail[0] as usize], "\"hello\" ack 7");
        assert_eq!(c.strings[c.nsp[0] as usize], "/chat");
        assert_eq!(c.size, vec![11, 12]);
        assert_eq!(c.transport, vec![2, 2]);
        assert_eq!(c.strings.iter().filter(|s| *s == "abc").count(), 1);
    }

    #[test]
    fn a_long_event_name_is_cut_in_the_index() {
        let mut c = Columns::new();
        let name = "é".repeat(300);
        c.push(&sio(1, 1, &name, serde_json::json!([])));
        let shown = &c.strings[c.event[0] as usize];
        assert_eq!(shown.chars().count(), DETAIL_CHARS + 1);
        assert!(shown.ends_with('…'));
    }
}
