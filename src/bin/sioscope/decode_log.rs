//! `decode --log`: the packet events and the placed log lines in one stream, in the chosen format.

use std::io::{self, Write};
use std::sync::{Arc, Mutex};

use owo_colors::{OwoColorize, Style};

use sioscope::event::{Event, Timestamp};
use sioscope::log::LogEvent;
use sioscope::report::Reporter;

use crate::common::{Format, OutputArgs, TimeArg};

/// One output shared by the text reporter and the log lines between its events.
#[derive(Clone)]
struct Shared(Arc<Mutex<Box<dyn Write + Send>>>);

impl Write for Shared {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0
            .lock()
            .map_err(|_| io::Error::other("output lock poisoned"))?
            .write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.0
            .lock()
            .map_err(|_| io::Error::other("output lock poisoned"))?
            .flush()
    }
}

/// Events and log lines, written as `decode` writes events: text through the usual reporter,
/// JSON and NDJSON as the same objects with `layer: "log"` ones between them.
pub struct Merged {
    out: Shared,
    format: Format,
    text: Box<dyn Reporter + Send>,
    color: bool,
    full: bool,
    time: TimeArg,
    t0: Timestamp,
    last: Option<Timestamp>,
    count: u64,
}

impl Merged {
    /// Writes to `out` as `o` asks; `t0` is the capture's first packet (the time origin).
    pub fn new(out: Box<dyn Write + Send>, o: &OutputArgs, t0: Timestamp) -> Merged {
        let out = Shared(Arc::new(Mutex::new(out)));
        Merged {
            text: o.reporter(out.clone(), Some(t0)),
            out,
            format: o.format,
            color: crate::common::use_color(o.color),
            full: o.full,
            time: o.time,
            t0,
            last: None,
            count: 0,
        }
    }

    /// The time column of a log line, as the reporter's (a line before the first packet is
    /// negative in the relative form).
    fn time_column(&mut self, ts: Timestamp) -> String {
        match self.time {
            TimeArg::Relative => {
                format!("{:>9.3}", (ts.0 as f64 - self.t0.0 as f64) / 1e9)
            }
            TimeArg::Delta => {
                let prev = self.last.unwrap_or(ts);
                format!("{:>9.6}", ts.0.saturating_sub(prev.0) as f64 / 1e9)
            }
            TimeArg::Absolute => {
                let t = std::time::UNIX_EPOCH + std::time::Duration::from_nanos(ts.0);
                humantime::format_rfc3339_micros(t).to_string()
            }
        }
    }

    fn json_item(&mut self, v: &impl serde::Serialize) -> io::Result<()> {
        let mut out = self.out.clone();
        match self.format {
            Format::Ndjson => {}
            _ => out.write_all(if self.count == 0 {
                b"{\"events\":[\n"
            } else {
                b",\n"
            })?,
        }
        self.count += 1;
        serde_json::to_writer(&mut out, v)?;
        if self.format == Format::Ndjson {
            out.write_all(b"\n")?;
        }
        Ok(())
    }

    /// Writes one log line.
    pub fn log(&mut self, e: &LogEvent) -> io::Result<()> {
        if self.format != Format::Text {
            return self.json_item(e);
        }
        let time = self.time_column(e.ts);
        self.last = Some(e.ts);
        let sid = match e.sid {
            Some(s) if !self.full && s.chars().count() > 8 => {
                format!("sid={}…  ", s.chars().take(6).collect::<String>())
            }
            Some(s) => format!("sid={s}  "),
            None => String::new(),
        };
        let paint = |s: &str, st: Style| {
            if self.color {
                s.style(st).to_string()
            } else {
                s.to_string()
            }
        };
        let line = format!(
            "{time} {} {:<4} {:<3}  {sid}{}",
            paint(&format!("{:<7}", "log"), Style::new().dimmed()),
            "",
            "",
            paint(&e.summary(self.full), Style::new().cyan())
        );
        writeln!(self.out.clone(), "{}", line.trim_end())
    }
}

impl Reporter for Merged {
    fn event(&mut self, ev: &Event) -> io::Result<()> {
        self.last = Some(ev.ts);
        match self.format {
            Format::Text => self.text.event(ev),
            _ => self.json_item(ev),
        }
    }
    fn finish(&mut self) -> io::Result<()> {
        match self.format {
            Format::Text => self.text.finish(),
            Format::Ndjson => self.out.flush(),
            Format::Json => {
                if self.count == 0 {
                    self.out.write_all(b"{\"events\":[")?;
                }
                self.out.write_all(b"\n]}\n")?;
                self.out.flush()
            }
        }
    }
}
