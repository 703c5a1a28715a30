//! HAR entries → one timeline of connection records → the pipeline.

use std::io::Read;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use base64::Engine as _;
use serde::Serialize;

use super::dialect::{ws_time_secs, Dialect};
use super::model::{Entry, Header};
use super::scan::{scan, Slot};
use super::{HarError, MAX_HAR_BYTES};
use crate::capture::ReplayOptions;
use crate::event::{AnomalyInfo, Body, ConnId, Dir, Event, Origin, Timestamp};
use crate::log::iso8601;
use crate::pipeline::Pipeline;
use crate::tcp::{ConnInfo, TcpEvent};
use crate::ws::frame::encode_frame;

/// What was read from a HAR, for the reports (`read as a HAR … by Chrome DevTools`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HarSummary {
    /// The exporter recognised from `log.creator.name`.
    pub dialect: Dialect,
    /// `log.creator` as written (`WebInspector 537.36`).
    pub creator: String,
    /// `log.browser`, when given.
    pub browser: Option<String>,
    /// Entries read.
    pub entries: usize,
    /// WebSocket entries and their messages.
    pub websockets: usize,
    /// Messages of all WebSocket entries.
    pub ws_messages: usize,
    /// Entries that failed before any response (`_error`), e.g. `net::ERR_CONNECTION_REFUSED`.
    pub failed: usize,
    /// Entries skipped because their `startedDateTime` is not a date.
    pub undated: usize,
    /// True when message times contradicted the dialect's unit (the magnitude was used).
    pub time_unit_mismatch: bool,
    /// WebSocket entries (their connections) with no `_webSocketMessages`: what travelled over
    /// them is unknown
    /// (Playwright embeds them only with `content: 'embed'`, its default for a `.har` path; it
    /// leaves them out under `PLAYWRIGHT_HAR_NO_WEBSOCKET_FRAMES`, playwright-core 1.65.1
    /// `lib/coreBundle.js:26739-26749,27009`).
    pub ws_without_messages: Vec<ConnId>,
    /// Of those, entries whose messages are in a separate file (`response.content._file`,
    /// Playwright's `content: 'attach'`), which is not read.
    pub ws_messages_attached: usize,
    /// WebSocket messages with no time (`time` -1: Playwright's `mode: 'minimal'` omits timings,
    /// `lib/coreBundle.js:26405-26408,26742`): placed at their entry's start, in file order.
    pub ws_untimed: usize,
    /// Connection attempts the browser reported refused, in time order.
    pub refused: Vec<Refused>,
    /// Entries skipped as longer than `--max-har-entry` (`har-entry-too-large`).
    #[serde(skip_serializing_if = "is_zero")]
    pub too_large: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// A connection attempt the browser reported refused (`net::ERR_CONNECTION_REFUSED`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Refused {
    /// Its place on the timeline (the "frame" events cite).
    pub frame: u64,
    /// When it was tried.
    pub ts: Timestamp,
    /// The server address (`ip:port` from the URL).
    pub server: String,
    /// The request's URL.
    pub url: String,
}

/// One record of the timeline.
enum Rec {
    Open(ConnInfo),
    Data(Dir, Vec<u8>),
    Note(&'static str, String),
    Close,
}

struct Timed {
    ts: Timestamp,
    conn: ConnId,
    seq: usize,
    rec: Rec,
}

/// Reads a whole HAR and sends every decoded event to `sink`, in time order.
pub fn replay<R: Read>(
    input: R,
    opts: &ReplayOptions,
    sink: &mut dyn FnMut(Event),
) -> Result<HarSummary, HarError> {
    let har = scan(input, MAX_HAR_BYTES, opts.har.max_entry)?;
    let creator = har.creator.unwrap_or_default();
    let dialect = Dialect::from_creator(&creator.name);
    let mut summary = HarSummary {
        dialect,
        creator: format!("{} {}", creator.name, creator.version)
            .trim()
            .to_string(),
        browser: har
            .browser
            .map(|b| format!("{} {}", b.name, b.version).trim().to_string()),
        entries: har.entries.len(),
        websockets: 0,
        ws_messages: 0,
        failed: 0,
        undated: 0,
        time_unit_mismatch: false,
        ws_without_messages: vec![],
        ws_messages_attached: 0,
        ws_untimed: 0,
        refused: vec![],
        too_large: 0,
    };
    let mut recs: Vec<Timed> = Vec::new();
    // A skipped entry's time is unknown: its anomaly is placed at the start of the dated entry
    // before it in the file (exporters write entries in time order).
    let mut last_start = Timestamp::default();
    for (i, slot) in har.entries.iter().enumerate() {
        let conn = ConnId(i as u64 + 1);
        let e = match slot {
            Slot::Read(e) => e,
            Slot::TooLarge { bytes } => {
                summary.too_large += 1;
                recs.push(Timed {
                    ts: last_start,
                    conn,
                    seq: 0,
                    rec: Rec::Note(
                        "har-entry-too-large",
                        format!(
                            "entry {} of log.entries is {bytes} bytes of JSON, more than \
                             {} (--max-har-entry raises it); skipped",
                            i + 1,
                            opts.har.max_entry
                        ),
                    ),
                });
                continue;
            }
        };
        let Some(start) = iso8601::parse(&e.started) else {
            summary.undated += 1;
            continue;
        };
        last_start = start;
        let mut seq = 0usize;
        let mut push = |ts: Timestamp, rec: Rec, recs: &mut Vec<Timed>| {
            // Within an entry, records keep their order even when the HAR's times disagree.
            let ts = recs
                .iter()
                .rev()
                .find(|r| r.conn == conn)
                .map_or(ts, |p| ts.max(p.ts));
            recs.push(Timed { ts, conn, seq, rec });
            seq += 1;
        };
        entry_records(e, i, start, dialect, &mut summary, &mut |ts, r| {
            push(ts, r, &mut recs)
        });
    }
    recs.sort_by_key(|r| (r.ts, r.conn, r.seq));
    let mut pipe = Pipeline::new(opts.pipeline.clone());
    let mut offsets: std::collections::HashMap<(ConnId, bool), u64> = Default::default();
    for (n, r) in recs.iter().enumerate() {
        let origin = Origin {
            frame: n as u64 + 1,
            ts: r.ts,
        };
        match &r.rec {
            Rec::Open(info) => pipe.tcp(
                TcpEvent::Open {
                    info: *info,
                    origin,
                },
                sink,
            ),
            Rec::Data(dir, bytes) => {
                let off = offsets.entry((r.conn, *dir == Dir::C2S)).or_default();
                let offset = *off;
                *off += bytes.len() as u64;
                pipe.tcp(
                    TcpEvent::Data {
                        conn: r.conn,
                        dir: *dir,
                        offset,
                        bytes,
                        origin,
                    },
                    sink,
                );
            }
            Rec::Note(rule, detail) => {
                if *rule == "har-connection-refused" {
                    if let Some(Slot::Read(e)) =
                        har.entries.get(r.conn.0.saturating_sub(1) as usize)
                    {
                        let u = Url::parse(&e.request.url);
                        summary.refused.push(Refused {
                            frame: origin.frame,
                            ts: origin.ts,
                            server: format!(
                                "{}:{}",
                                u.host_ip
                                    .map_or_else(|| u.authority.clone(), |i| i.to_string()),
                                u.port
                            ),
                            url: e.request.url.clone(),
                        });
                    }
                }
                sink(Event {
                    frame: origin.frame,
                    ts: origin.ts,
                    first_frame: None,
                    conn: r.conn,
                    dir: None,
                    body: Body::Anomaly(AnomalyInfo {
                        at: "har",
                        rule: (*rule).to_string(),
                        detail: detail.clone(),
                        bytes: None,
                    }),
                })
            }
            Rec::Close => pipe.tcp(
                TcpEvent::Close {
                    conn: r.conn,
                    origin,
                    at_eof: false,
                },
                sink,
            ),
        }
    }
    Ok(summary)
}

fn at(start: Timestamp, ms: f64) -> Timestamp {
    Timestamp(start.0.saturating_add((ms.max(0.0) * 1e6) as u64))
}

fn secs(s: f64) -> Timestamp {
    Timestamp((s.max(0.0) * 1e9) as u64)
}

/// The records of one entry.
fn entry_records(
    e: &Entry,
    index: usize,
    start: Timestamp,
    dialect: Dialect,
    summary: &mut HarSummary,
    push: &mut dyn FnMut(Timestamp, Rec),
) {
    let url = Url::parse(&e.request.url);
    let server_ip = e
        .server_ip
        .as_deref()
        .map(|s| s.trim_start_matches('[').trim_end_matches(']'))
        .and_then(|s| s.parse::<IpAddr>().ok())
        .or(url.host_ip)
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    // A HAR has no client address: the entry's number stands in for the client port.
    let info = ConnInfo {
        id: ConnId(index as u64 + 1),
        client: SocketAddr::new(
            IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            (index % 65_535) as u16 + 1,
        ),
        server: SocketAddr::new(server_ip, url.port),
        syn_seen: true,
    };
    push(start, Rec::Open(info));
    let resp = e.response.as_ref();
    let error = resp.and_then(|r| r.error.clone()).filter(|s| !s.is_empty());
    let is_ws = e.ws_messages.is_some()
        || e.resource_type.as_deref() == Some("websocket")
        || resp.is_some_and(|r| r.status == 101);
    if let Some(err) = &error {
        summary.failed += 1;
        if err.contains("ERR_CONNECTION_REFUSED") {
            // The browser's own report: the server refused the TCP connection, nothing was sent.
            push(
                start,
                Rec::Note(
                    "har-connection-refused",
                    format!(
                        "{} {}: {err} (the browser's own report; the HAR holds no TCP)",
                        e.request.method, e.request.url
                    ),
                ),
            );
            push(at(start, e.time), Rec::Close);
            return;
        }
    }
    let t = e.timings.as_ref();
    let pre: f64 = t
        .map(|t| {
            [t.blocked, t.dns, t.connect]
                .iter()
                .flatten()
                .filter(|v| **v > 0.0)
                .sum()
        })
        .unwrap_or(0.0);
    let req_at = at(start, pre);
    let body = e.request.post_data.as_ref().and_then(|p| {
        let text = p.text.as_deref()?;
        Some(decode_text(text, p.encoding.as_deref()))
    });
    push(
        req_at,
        Rec::Data(Dir::C2S, request_bytes(e, &url, body.as_deref(), is_ws)),
    );
    let resp_ms = pre
        + t.map(|t| {
            [t.send, t.wait]
                .iter()
                .flatten()
                .filter(|v| **v > 0.0)
                .sum()
        })
        .unwrap_or(e.time);
    match resp {
        Some(r) if r.status > 0 && error.is_none() => {
            let body = r
                .content
                .as_ref()
                .and_then(|c| Some(decode_text(c.text.as_deref()?, c.encoding.as_deref())))
                .unwrap_or_default();
            let body = if is_ws { Vec::new() } else { body };
            push(
                at(start, resp_ms),
                Rec::Data(
                    Dir::S2C,
                    response_bytes(r.status, &r.status_text, &r.headers, &body, is_ws),
                ),
            );
        }
        _ => push(
            at(start, e.time),
            Rec::Note(
                "har-request-failed",
                format!(
                    "{} {}: {}",
                    e.request.method,
                    e.request.url,
                    error
                        .as_deref()
                        .unwrap_or("no response in the HAR (still pending when it was exported?)")
                ),
            ),
        ),
    }
    let mut end = at(start, e.time);
    if is_ws && e.ws_messages.is_none() {
        summary.ws_without_messages.push(ConnId(index as u64 + 1));
        if resp
            .and_then(|r| r.content.as_ref())
            .is_some_and(|c| c.file.is_some())
        {
            summary.ws_messages_attached += 1;
        }
    }
    if let Some(msgs) = &e.ws_messages {
        summary.websockets += 1;
        for m in msgs {
            let dir = if m.kind == "send" { Dir::C2S } else { Dir::S2C };
            let ts = if m.time < 0.0 {
                summary.ws_untimed += 1;
                start
            } else {
                secs(ws_time_secs(
                    dialect,
                    m.time,
                    &mut summary.time_unit_mismatch,
                ))
            };
            let payload = if m.opcode == 2 {
                // DevTools exports binary messages in base64.
                base64::engine::general_purpose::STANDARD
                    .decode(m.data.as_bytes())
                    .unwrap_or_else(|_| m.data.as_bytes().to_vec())
            } else {
                m.data.as_bytes().to_vec()
            };
            summary.ws_messages += 1;
            push(
                ts,
                Rec::Data(dir, ws_frame(m.opcode, &payload, dir == Dir::C2S)),
            );
            end = end.max(ts);
        }
    }
    push(end, Rec::Close);
}

/// `text` as bytes, base64-decoded when `encoding` says so (HAR 1.2 §content `encoding`).
fn decode_text(text: &str, encoding: Option<&str>) -> Vec<u8> {
    if encoding.is_some_and(|e| e.eq_ignore_ascii_case("base64")) {
        if let Ok(b) = base64::engine::general_purpose::STANDARD.decode(text.trim().as_bytes()) {
            return b;
        }
    }
    text.as_bytes().to_vec()
}

/// Headers a replayed message cannot keep: the body is written decoded and with its real length,
/// and a WebSocket's messages are already inflated (RFC 7692 would make the decoder inflate them).
fn dropped(name: &str, ws: bool) -> bool {
    let n = name.to_ascii_lowercase();
    n.starts_with(':')
        || n == "content-length"
        || n == "transfer-encoding"
        || n == "content-encoding"
        || (ws && n == "sec-websocket-extensions")
}

fn clean(s: &str) -> String {
    s.chars().filter(|c| *c != '\r' && *c != '\n').collect()
}

fn head_lines(out: &mut Vec<u8>, headers: &[Header], ws: bool) {
    for h in headers
        .iter()
        .filter(|h| !h.name.is_empty() && !dropped(&h.name, ws))
    {
        out.extend_from_slice(format!("{}: {}\r\n", clean(&h.name), clean(&h.value)).as_bytes());
    }
}

fn request_bytes(e: &Entry, url: &Url, body: Option<&[u8]>, ws: bool) -> Vec<u8> {
    let method = if e.request.method.is_empty() {
        "GET"
    } else {
        &e.request.method
    };
    let mut out = format!("{} {} HTTP/1.1\r\n", clean(method), clean(&url.target)).into_bytes();
    if !e
        .request
        .headers
        .iter()
        .any(|h| h.name.eq_ignore_ascii_case("host"))
        && !url.authority.is_empty()
    {
        out.extend_from_slice(format!("Host: {}\r\n", clean(&url.authority)).as_bytes());
    }
    head_lines(&mut out, &e.request.headers, ws);
    let body = body.unwrap_or_default();
    if !body.is_empty() || method.eq_ignore_ascii_case("POST") {
        out.extend_from_slice(format!("Content-Length: {}\r\n", body.len()).as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
    out
}

fn response_bytes(status: i64, text: &str, headers: &[Header], body: &[u8], ws: bool) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status} {}\r\n", clean(text)).into_bytes();
    head_lines(&mut out, headers, ws);
    if !ws {
        out.extend_from_slice(format!("Content-Length: {}\r\n", body.len()).as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
    out
}

/// One unfragmented RFC 6455 frame; client frames carry the MASK bit with a zero masking key
/// (RFC 6455 §5.3: the payload XOR 0 is the payload).
fn ws_frame(opcode: u8, payload: &[u8], masked: bool) -> Vec<u8> {
    let mut out = Vec::new();
    encode_frame(
        &mut out,
        0x80 | (opcode & 0x0f),
        payload,
        masked.then_some([0; 4]),
    );
    out
}

/// The parts of an entry's URL the replay needs.
struct Url {
    authority: String,
    host_ip: Option<IpAddr>,
    port: u16,
    target: String,
}

impl Url {
    fn parse(url: &str) -> Url {
        let (scheme, rest) = url.split_once("://").unwrap_or(("http", url));
        let (authority, target) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let target = target.split('#').next().unwrap_or("/");
        let hostport = authority.rsplit('@').next().unwrap_or(authority);
        let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
            let (h, p) = v6.split_once(']').unwrap_or((v6, ""));
            (h, p.strip_prefix(':'))
        } else {
            match hostport.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (hostport, None),
            }
        };
        let default = if matches!(scheme, "https" | "wss") {
            443
        } else {
            80
        };
        Url {
            authority: authority.to_string(),
            host_ip: host.parse().ok(),
            port: port.and_then(|p| p.parse().ok()).unwrap_or(default),
            target: if target.is_empty() {
                "/".into()
            } else {
                target.to_string()
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_frames_are_masked_with_a_zero_key() {
        assert_eq!(ws_frame(1, b"2probe", true), b"\x81\x86\0\0\0\x002probe");
        assert_eq!(ws_frame(1, b"3probe", false), b"\x81\x063probe");
        let long = ws_frame(2, &[7u8; 300], false);
        assert_eq!(&long[..4], b"\x82\x7e\x01\x2c");
    }

    #[test]
    fn urls() {
        let u = Url::parse("http://127.0.0.1:42433/socket.io/?EIO=4&transport=polling#x");
        assert_eq!(
            (u.port, u.target.as_str()),
            (42433, "/socket.io/?EIO=4&transport=polling")
        );
        assert_eq!(u.host_ip, Some(IpAddr::V4(Ipv4Addr::LOCALHOST)));
        let u = Url::parse("wss://[::1]/x");
        assert_eq!((u.port, u.host_ip.is_some()), (443, true));
        let u = Url::parse("ws://example.org");
        assert_eq!((u.port, u.target.as_str(), u.host_ip), (80, "/", None));
    }

    #[test]
    fn base64_content_is_decoded() {
        assert_eq!(decode_text("AAE=", Some("base64")), vec![0, 1]);
        assert_eq!(decode_text("AAE=", None), b"AAE=".to_vec());
    }

    #[test]
    fn replayed_heads_drop_encodings_and_extensions() {
        let h = vec![
            Header {
                name: "Content-Encoding".into(),
                value: "gzip".into(),
            },
            Header {
                name: "Sec-WebSocket-Extensions".into(),
                value: "permessage-deflate".into(),
            },
            Header {
                name: "X".into(),
                value: "a\r\nb".into(),
            },
        ];
        assert_eq!(
            response_bytes(101, "Switching Protocols", &h, b"", true),
            b"HTTP/1.1 101 Switching Protocols\r\nX: ab\r\n\r\n"
        );
        assert_eq!(
            response_bytes(200, "OK", &h, b"ok", false),
            b"HTTP/1.1 200 OK\r\nSec-WebSocket-Extensions: permessage-deflate\r\nX: ab\r\nContent-Length: 2\r\n\r\nok"
        );
    }
}
