//! A log line as an event of `decode`'s stream: the `layer: "log"` object of
//! `docs/json-schema.md`, and its one-line text form.

use serde::Serialize;

use super::attach::{Attribution, PlacedLine};
use super::line::{LogSide, LogWriter};
use crate::event::Timestamp;

/// One log line where `decode` prints it: on the capture's clock, with the session it was tied to.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LogEvent<'a> {
    /// Its time on the capture's clock (the log's time minus the detected offset).
    pub ts: Timestamp,
    /// Always `log`.
    pub layer: &'static str,
    /// The `--log` file, as given.
    pub file: &'a str,
    /// 1-based line number of its first line in that file.
    pub line: usize,
    /// Whose log it is (`server`, `client`, `peer`).
    pub side: LogSide,
    /// The format it was read as.
    pub writer: LogWriter,
    /// The `debug` namespace or Python logger name.
    pub namespace: &'a str,
    /// Python level, when given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub level: Option<&'a str>,
    /// The message; continuation lines (an error stack) joined with `\n`.
    pub text: &'a str,
    /// The time the line itself gives, on the log's clock (absent for the `+Nms` form).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_ts: Option<Timestamp>,
    /// True when `ts` is reconstructed from `+Nms` deltas (approximate).
    pub approx: bool,
    /// The Engine.IO sid of the session it was tied to.
    pub sid: Option<&'a str>,
    /// How it was tied: `sid` (it names the session's sid or a socket id of it), `only-open`
    /// (no id; the only session open then), `none`.
    pub tied: &'static str,
}

impl<'a> LogEvent<'a> {
    /// The event of a placed line of `file`, `sids[i]` being session `i`'s sid; `None` when the
    /// line has no time on the capture's clock.
    pub fn of(file: &'a str, p: &'a PlacedLine, sids: &[&'a str]) -> Option<LogEvent<'a>> {
        let ts = p.at?;
        let (sid, tied) = match p.session {
            Attribution::Sid(i) => (sids.get(i).copied(), "sid"),
            Attribution::OnlyOpen(i) => (sids.get(i).copied(), "only-open"),
            Attribution::None => (None, "none"),
        };
        Some(LogEvent {
            ts,
            layer: "log",
            file,
            line: p.log.line,
            side: p.log.side(),
            writer: p.log.writer,
            namespace: &p.log.namespace,
            level: p.log.level.as_deref(),
            text: &p.log.text,
            log_ts: p.log.ts,
            approx: p.log.ts.is_none(),
            sid,
            tied,
        })
    }

    /// `server log engine:socket transport error  (restart-server.log:812)`: the summary column of
    /// `decode`'s text output. Without `full`, an error stack shows its first line and how many
    /// lines follow; with it, every line, newlines escaped.
    pub fn summary(&self, full: bool) -> String {
        let mut lines = self.text.lines();
        let first = lines.next().unwrap_or("");
        let more = lines.count();
        let text = if full || more == 0 {
            crate::report::escape_controls(self.text)
        } else {
            format!(
                "{} (+{more} line{})",
                crate::report::escape_controls(first),
                if more == 1 { "" } else { "s" }
            )
        };
        let level = self.level.map(|l| format!("{l} ")).unwrap_or_default();
        let name = std::path::Path::new(self.file)
            .file_name()
            .map_or(self.file.into(), |n| n.to_string_lossy());
        format!(
            "{} log{} {level}{} {text}  ({name}:{})",
            self.side.as_str(),
            if self.approx { " ≈" } else { "" },
            self.namespace,
            self.line
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::LogLine;

    fn placed(text: &str, session: Attribution, ts: Option<Timestamp>) -> PlacedLine {
        PlacedLine {
            log: LogLine {
                line: 7,
                writer: LogWriter::NodeDebugIso,
                ts,
                delta_ms: None,
                namespace: "engine:socket".into(),
                level: None,
                text: text.into(),
            },
            at: Some(Timestamp(5)),
            session,
        }
    }

    #[test]
    fn ties_and_summaries() {
        let p = placed(
            "transport error\n    at x\n    at y",
            Attribution::Sid(1),
            Some(Timestamp(9)),
        );
        let e = LogEvent::of("dir/s.log", &p, &["a", "b"]).unwrap();
        assert_eq!(
            (e.sid, e.tied, e.ts, e.approx),
            (Some("b"), "sid", Timestamp(5), false)
        );
        assert_eq!(
            e.summary(false),
            "server log engine:socket transport error (+2 lines)  (s.log:7)"
        );
        assert_eq!(
            e.summary(true),
            "server log engine:socket transport error\\n    at x\\n    at y  (s.log:7)"
        );
        let p = placed("hi", Attribution::OnlyOpen(5), None);
        let e = LogEvent::of("s.log", &p, &["a"]).unwrap();
        assert_eq!((e.sid, e.tied, e.approx), (None, "only-open", true));
        let mut p = placed("hi", Attribution::None, None);
        p.at = None;
        assert!(LogEvent::of("s.log", &p, &[]).is_none());
    }
}
