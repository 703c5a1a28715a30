//! Human-readable, one line per event, colored when asked:
//!
//! ```text
//!    0.412  #31   c2  c2s  sid=oGp1oc…  /chat  EVENT "message" ["hi"] ack=3
//! ```
//!
//! Columns: time (by default seconds since the capture's first packet, as tshark's `-t r`; see
//! [`TimeMode`]), frame number (as Wireshark counts), connection id, direction, then the layer's
//! summary. Long payloads are cut to a budget that follows the terminal width unless `full` is set;
//! control characters in payloads (an HTTP body's newlines) are escaped so that one event stays
//! one line.

use std::io::{self, Write};

use owo_colors::Style;

use super::Reporter;
use crate::event::{Body, EioInfo, Event, HttpInfo, SioInfo, TcpInfo, WsInfo};

/// How the time column reads (tshark's `-t r`, `-t ud`, `-t dd`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TimeMode {
    /// Seconds since the capture's first packet.
    #[default]
    Relative,
    /// UTC date and time, RFC 3339 with microseconds.
    Absolute,
    /// Seconds since the previous printed line.
    Delta,
}

/// Settings of the pretty printer.
#[derive(Debug, Clone, Copy, Default)]
pub struct PrettyOptions {
    /// Use ANSI colors.
    pub color: bool,
    /// Do not shorten payloads and session ids.
    pub full: bool,
    /// The time column.
    pub time: TimeMode,
    /// Print a header line naming the columns first (on a terminal).
    pub header: bool,
    /// The terminal width, when writing to one: payload budgets follow it.
    pub width: Option<usize>,
}

/// Columns before the summary: time, frame, connection, direction.
const PREFIX_COLUMNS: usize = 30;

/// The human-readable reporter.
pub struct PrettyReporter<W: Write> {
    out: W,
    opts: PrettyOptions,
    t0: Option<u64>,
    last: Option<u64>,
    header_done: bool,
}

impl<W: Write> PrettyReporter<W> {
    /// A reporter writing to `out`.
    pub fn new(out: W, opts: PrettyOptions) -> Self {
        PrettyReporter {
            out,
            opts,
            t0: None,
            last: None,
            header_done: false,
        }
    }

    /// A payload budget: `max` columns, less on a narrow terminal (never under 16).
    fn budget(&self, max: usize) -> usize {
        match self.opts.width {
            Some(w) => max.min(w.saturating_sub(PREFIX_COLUMNS + 40)).max(16),
            None => max,
        }
    }

    fn time_column(&mut self, ts: u64) -> String {
        let t0 = *self.t0.get_or_insert(ts);
        match self.opts.time {
            TimeMode::Relative => format!("{:>9.3}", ts.saturating_sub(t0) as f64 / 1e9),
            TimeMode::Delta => {
                let prev = self.last.replace(ts).unwrap_or(ts);
                format!("{:>9.6}", ts.saturating_sub(prev) as f64 / 1e9)
            }
            TimeMode::Absolute => {
                let t = std::time::UNIX_EPOCH + std::time::Duration::from_nanos(ts);
                humantime::format_rfc3339_micros(t).to_string()
            }
        }
    }

    fn header(&self) -> String {
        let time = match self.opts.time {
            TimeMode::Relative => format!("{:>9}", "time s"),
            TimeMode::Delta => format!("{:>9}", "delta s"),
            TimeMode::Absolute => format!("{:<27}", "time (UTC)"),
        };
        format!("{time} {:<7} {:<4} {:<3}  what", "frame", "conn", "dir")
    }

    /// Sets the time origin (the first packet of the capture) explicitly.
    pub fn set_time_origin(&mut self, ts_nanos: u64) {
        self.t0 = Some(ts_nanos);
    }

    fn paint(&self, s: &str, style: Style) -> String {
        super::paint(s, style, self.opts.color)
    }

    /// A payload on one line: control characters escaped, cut to `max` columns (less on a
    /// narrow terminal) unless `full`.
    fn cut(&self, s: &str, max: usize) -> String {
        let s = escape_controls(s);
        let max = self.budget(max);
        if self.opts.full || s.chars().count() <= max {
            return s;
        }
        let head: String = s.chars().take(max).collect();
        format!("{head}… ({} bytes)", s.len())
    }

    fn sid(&self, sid: Option<&str>) -> String {
        match sid {
            Some(s) if !self.opts.full && s.chars().count() > 8 => {
                let head: String = s.chars().take(6).collect();
                format!("sid={head}…")
            }
            Some(s) => format!("sid={s}"),
            None => String::new(),
        }
    }

    fn summary(&self, ev: &Event) -> String {
        match &ev.body {
            Body::Tcp(t) => self.tcp(t),
            Body::Http(h) => self.http(h),
            Body::Ws(w) => self.ws(w),
            Body::Eio { eio } => self.eio(eio),
            Body::Sio { eio, sio } => self.sio(eio, sio),
            Body::Anomaly(a) => {
                let mut s = format!(
                    "{} {} {}",
                    self.paint("⚠", Style::new().yellow().bold()),
                    self.paint(&a.rule, Style::new().yellow()),
                    a.detail
                );
                if let Some(b) = &a.bytes {
                    s.push_str(&format!("  [{}]", self.cut(b, 48)));
                }
                s
            }
        }
    }

    fn tcp(&self, t: &TcpInfo) -> String {
        let style = Style::new().dimmed();
        let s = match t {
            TcpInfo::Open {
                client,
                server,
                syn_seen,
            } => format!(
                "tcp OPEN {client} → {server}{}",
                if *syn_seen {
                    ""
                } else {
                    " (picked up mid-stream)"
                }
            ),
            TcpInfo::Fin => "tcp FIN".into(),
            TcpInfo::Rst => "tcp RST".into(),
            TcpInfo::Gap { start, end, reason } => {
                format!(
                    "tcp GAP bytes {start}..{end} ({} bytes, {reason})",
                    end - start
                )
            }
            TcpInfo::Close { at_eof } => {
                format!("tcp CLOSE{}", if *at_eof { " (capture ended)" } else { "" })
            }
        };
        match t {
            TcpInfo::Rst | TcpInfo::Gap { .. } => self.paint(&s, Style::new().red()),
            _ => self.paint(&s, style),
        }
    }

    fn http(&self, h: &HttpInfo) -> String {
        let body = match (&h.body_text, h.body_len) {
            (_, 0) => String::new(),
            (Some(t), _) => format!("  {}", self.cut(t, 80)),
            (None, n) => format!("  <{n} bytes>"),
        };
        let enc = h
            .content_encoding
            .as_deref()
            .map(|e| format!(" [{e}]"))
            .unwrap_or_default();
        match (h.kind, &h.method, &h.target, h.status) {
            ("request", Some(m), Some(t), _) => format!(
                "{} {}{enc}{body}",
                self.paint(&format!("http {m}"), Style::new().cyan()),
                self.cut(t, 100)
            ),
            (_, _, _, Some(st)) => {
                let style = if st >= 400 {
                    Style::new().red().bold()
                } else {
                    Style::new().cyan()
                };
                format!(
                    "{} {}{enc}{body}",
                    self.paint(&format!("http {st}"), style),
                    h.reason.as_deref().unwrap_or("")
                )
            }
            _ => "http".into(),
        }
    }

    fn ws(&self, w: &WsInfo) -> String {
        match w {
            WsInfo::Message {
                opcode,
                len,
                wire_len,
                compressed,
                frames,
                text,
                inflate_error,
                ..
            } => {
                let mut notes = vec![];
                if *compressed {
                    notes.push(format!("deflate {wire_len}→{len} B"));
                } else {
                    notes.push(format!("{len} B"));
                }
                if *frames > 1 {
                    notes.push(format!("{frames} frames"));
                }
                let payload = match (text, inflate_error) {
                    (_, Some(e)) => self.paint(&format!("inflate failed: {e}"), Style::new().red()),
                    (Some(t), None) => self.cut(t, 100),
                    (None, None) => String::new(),
                };
                format!(
                    "{} ({}) {payload}",
                    self.paint(
                        &format!("ws {}", opcode.to_uppercase()),
                        Style::new().blue()
                    ),
                    notes.join(", ")
                )
            }
            WsInfo::Ping { payload } => format!(
                "{} {}",
                self.paint("ws PING", Style::new().blue()),
                self.cut(payload, 40)
            ),
            WsInfo::Pong { payload } => format!(
                "{} {}",
                self.paint("ws PONG", Style::new().blue()),
                self.cut(payload, 40)
            ),
            WsInfo::Close {
                code,
                code_name,
                reason,
            } => {
                let code = match code {
                    Some(c) => format!("{c} {}", code_name.as_deref().unwrap_or("")),
                    None => "(no status code: peer reports 1005)".into(),
                };
                let reason = if reason.is_empty() {
                    String::new()
                } else {
                    format!(" {reason:?}")
                };
                self.paint(
                    &format!("ws CLOSE {code}{reason}"),
                    Style::new().magenta().bold(),
                )
            }
            WsInfo::Frame {
                fin,
                rsv1,
                opcode,
                masked,
                len,
                ..
            } => self.paint(
                &format!(
                    "ws frame {opcode} len={len}{}{}{}",
                    if *fin { " FIN" } else { "" },
                    if *rsv1 { " RSV1" } else { "" },
                    if *masked { " masked" } else { "" }
                ),
                Style::new().dimmed(),
            ),
        }
    }

    fn eio(&self, e: &EioInfo) -> String {
        let head = self.paint(
            &format!("eio {}", e.kind.to_uppercase()),
            Style::new().green(),
        );
        let mut s = format!("{} {head}", self.sid(e.sid.as_deref()));
        if let Some(open) = &e.open {
            let keys = ["pingInterval", "pingTimeout", "maxPayload", "upgrades"];
            for k in keys {
                if let Some(v) = open.get(k) {
                    s.push_str(&format!(" {k}={v}"));
                }
            }
        }
        if let Some(t) = &e.text {
            s.push(' ');
            s.push_str(&self.cut(t, 100));
        }
        if let Some(b) = &e.base64 {
            s.push_str(&format!(" <binary, base64 {}>", self.cut(b, 40)));
        }
        s.trim_start().to_string()
    }

    fn sio(&self, e: &EioInfo, p: &SioInfo) -> String {
        let kind_style = match p.kind.as_str() {
            "CONNECT_ERROR" | "ERROR" | "DISCONNECT" | "disconnect" | "error" => {
                Style::new().red().bold()
            }
            "CONNECT" | "connect" => Style::new().green().bold(),
            _ => Style::new().bold(),
        };
        let mut s = format!(
            "{} {}  {}",
            self.sid(e.sid.as_deref()),
            self.paint(&p.nsp, Style::new().cyan()),
            self.paint(&p.kind, kind_style)
        );
        if let Some(ev) = &p.event {
            s.push_str(&format!(
                " {}",
                self.paint(&format!("{ev:?}"), Style::new().yellow())
            ));
        }
        if let Some(data) = &p.data {
            let args = match (&p.event, data) {
                (Some(_), serde_json::Value::Array(a)) => {
                    serde_json::to_string(&a.iter().skip(1).collect::<Vec<_>>()).unwrap_or_default()
                }
                _ => data.to_string(),
            };
            s.push(' ');
            s.push_str(&self.cut(&args, 100));
        }
        if let Some(id) = p.id {
            s.push_str(&format!(" ack={id}"));
        }
        if let Some(n) = p.attachments {
            s.push_str(&format!(" +{n} binary"));
        }
        if e.transport == "polling" {
            s.push_str(&self.paint(" (polling)", Style::new().dimmed()));
        }
        s.trim_start().to_string()
    }
}

impl<W: Write> Reporter for PrettyReporter<W> {
    fn time_origin(&mut self, ts: crate::event::Timestamp) {
        self.t0.get_or_insert(ts.0);
    }

    fn event(&mut self, ev: &Event) -> io::Result<()> {
        if self.opts.header && !self.header_done {
            self.header_done = true;
            let h = self.header();
            writeln!(self.out, "{}", self.paint(&h, Style::new().dimmed()))?;
        }
        let time = self.time_column(ev.ts.0);
        let dir = ev.dir.map(|d| d.as_str()).unwrap_or("   ");
        let conn = if ev.conn.0 == 0 {
            "  ".to_string()
        } else {
            format!("c{}", ev.conn.0)
        };
        let line = format!(
            "{time} {} {:<4} {}  {}",
            self.paint(
                &format!("{:<7}", format!("#{}", ev.frame)),
                Style::new().dimmed()
            ),
            conn,
            dir,
            self.summary(ev)
        );
        writeln!(self.out, "{}", line.trim_end())
    }

    fn finish(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// One line of text: newlines, tabs and other control characters as escapes (`\n`, `\t`,
/// `\u{1b}`), the Engine.IO v4 record separator as `␞`.
pub fn escape_controls(s: &str) -> String {
    if !s.chars().any(char::is_control) {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\x1e' => out.push('␞'),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", u32::from(c))),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_body_newlines_stay_on_one_line() {
        assert_eq!(
            escape_controls("40{\"sid\":\"x\"}\x1e42[\"a\"]\r\n\tz\x1b"),
            "40{\"sid\":\"x\"}␞42[\"a\"]\\r\\n\\tz\\u{1b}"
        );
        assert_eq!(escape_controls("plain"), "plain");
    }
}
