//! Splitting a log file into [`LogLine`]s.

use super::iso8601;
use super::line::{LogLine, LogWriter};

/// Removes ANSI escape sequences (`ESC [ … letter`), as `debug` writes them with colours on.
fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            if chars.clone().next() == Some('[') {
                chars.next();
                for d in chars.by_ref() {
                    if d.is_ascii_alphabetic() {
                        break;
                    }
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// A `debug` namespace or Python logger name: `engine`, `engine:socket`, `socket.io:client`,
/// `engineio.server`.
fn is_namespace(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "._:-*".contains(c))
        && s.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
}

/// The `+N<unit>` suffix of the relative form, in ms (`ms` humanises: ms, s, m, h, d).
fn delta_suffix(s: &str) -> Option<(usize, u64)> {
    let at = s.rfind(" +")?;
    let tail = &s[at + 2..];
    let digits = tail.chars().take_while(|c| c.is_ascii_digit()).count();
    let n: u64 = tail.get(..digits)?.parse().ok()?;
    let unit = match tail.get(digits..)? {
        "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return None,
    };
    Some((at, n.saturating_mul(unit)))
}

const PY_LEVELS: [&str; 5] = ["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"];

fn parse_one(raw: &str, line: usize) -> Option<LogLine> {
    let s = strip_ansi(raw);
    let trimmed = s.trim_end();
    // node debug, ISO form: `2026-12-01T19:44:42.010Z engine:socket message`
    if let Some(n) = iso8601::prefix_len(trimmed) {
        let ts = trimmed.get(..n).and_then(iso8601::parse);
        let rest = trimmed.get(n..).unwrap_or("").trim_start();
        // Python with asctime: `2026-12-01 19:44:42,010 INFO:engineio.server:message`
        if let Some(py) = python(rest, line) {
            return Some(LogLine { ts, ..py });
        }
        let (ns, msg) = rest.split_once(' ').unwrap_or((rest, ""));
        if is_namespace(ns) {
            return Some(LogLine {
                line,
                writer: LogWriter::NodeDebugIso,
                ts,
                delta_ms: None,
                namespace: ns.to_string(),
                level: None,
                text: msg.to_string(),
            });
        }
    }
    if let Some(py) = python(trimmed, line) {
        return Some(py);
    }
    // node debug, relative form: `  engine:socket message +3ms`
    if trimmed.starts_with("  ") {
        let body = trimmed.trim_start();
        if let Some((at, delta)) = delta_suffix(body) {
            let (ns, msg) = body
                .get(..at)?
                .split_once(' ')
                .unwrap_or((body.get(..at)?, ""));
            if is_namespace(ns) {
                return Some(LogLine {
                    line,
                    writer: LogWriter::NodeDebugRelative,
                    ts: None,
                    delta_ms: Some(delta),
                    namespace: ns.to_string(),
                    level: None,
                    text: msg.to_string(),
                });
            }
        }
    }
    None
}

fn python(s: &str, line: usize) -> Option<LogLine> {
    let (level, rest) = s.split_once(':')?;
    if !PY_LEVELS.contains(&level) {
        return None;
    }
    let (logger, msg) = rest.split_once(':')?;
    if !is_namespace(logger) {
        return None;
    }
    Some(LogLine {
        line,
        writer: LogWriter::Python,
        ts: None,
        delta_ms: None,
        namespace: logger.to_string(),
        level: Some(level.to_string()),
        text: msg.trim_start().to_string(),
    })
}

/// A line that continues the record before it: indented (a node or Python stack frame), or the
/// head of an error (`Error: …`, `TypeError: …`, `Traceback (most recent call last):`).
fn is_continuation(raw: &str) -> bool {
    let s = strip_ansi(raw);
    if s.starts_with([' ', '\t']) || s.starts_with("Traceback") {
        return true;
    }
    let head = s.split([':', ' ']).next().unwrap_or("");
    head.ends_with("Error") || head.ends_with("Exception")
}

/// Longest log line read by default (`--max-log-line`); a longer one is cut there.
pub const DEFAULT_MAX_LOG_LINE: usize = 64 << 10;

/// What reading a log gave.
#[derive(Debug)]
pub struct ParsedLog {
    /// The records, in file order.
    pub lines: Vec<LogLine>,
    /// Lines before the first record (dropped).
    pub orphans: usize,
    /// Lines longer than the limit, cut to it.
    pub cut: usize,
}

/// Reads every line of a log, each cut to [`DEFAULT_MAX_LOG_LINE`] bytes; see [`parse_limited`].
/// Returns the records and the number of lines before the first record.
pub fn parse(text: &str) -> (Vec<LogLine>, usize) {
    let p = parse_limited(text, DEFAULT_MAX_LOG_LINE);
    (p.lines, p.orphans)
}

/// The first `max` bytes of `line` (on a character boundary), and whether it was longer.
fn cut_line(line: &str, max: usize) -> (&str, bool) {
    if line.len() <= max {
        return (line, false);
    }
    let mut end = max;
    while !line.is_char_boundary(end) {
        end = end.saturating_sub(1);
    }
    (line.get(..end).unwrap_or_default(), true)
}

/// Reads every line of a log, each cut to `max_line` bytes (counted in [`ParsedLog::cut`]).
/// Lines that start no record (an error's stack, `Error: …`) are continuations of the record
/// before them (lines before the first record are dropped and counted); other lines are bare
/// records ([`LogWriter::Bare`]).
pub fn parse_limited(text: &str, max_line: usize) -> ParsedLog {
    let mut out: Vec<LogLine> = Vec::new();
    let mut orphans = 0;
    let mut cut = 0;
    for (i, raw) in text.lines().enumerate() {
        let (raw, was_cut) = cut_line(raw, max_line);
        cut += usize::from(was_cut);
        if strip_ansi(raw).trim().is_empty() {
            continue;
        }
        match parse_one(raw, i + 1) {
            Some(l) => {
                // The same message once bare and once formatted (two handlers): keep the
                // formatted one, which has the time.
                if out
                    .last()
                    .is_some_and(|p| p.writer == LogWriter::Bare && p.text == l.text)
                {
                    out.pop();
                }
                out.push(l)
            }
            None if !is_continuation(raw) => out.push(LogLine {
                line: i + 1,
                writer: LogWriter::Bare,
                ts: None,
                delta_ms: None,
                namespace: String::new(),
                level: None,
                text: strip_ansi(raw).trim_end().to_string(),
            }),
            None => match out.last_mut() {
                // Bounded: a runaway continuation cannot grow one record past 64 KiB.
                Some(prev) if prev.text.len() < 64 << 10 => {
                    prev.text.push('\n');
                    prev.text.push_str(strip_ansi(raw).trim_end());
                }
                Some(_) => {}
                None => orphans += 1,
            },
        }
    }
    ParsedLog {
        lines: out,
        orphans,
        cut,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Timestamp;

    /// `--max-log-line`: a longer line is cut on a character boundary and counted.
    #[test]
    fn a_line_over_the_limit_is_cut_and_counted() {
        let text = "2026-12-01T19:44:42.010Z engine:socket sending ééé\n2026-12-01T19:44:42.011Z engine x\n";
        let p = parse_limited(text, 49);
        assert_eq!((p.cut, p.orphans, p.lines.len()), (1, 0, 2));
        assert_eq!(p.lines[0].text, "sending é");
        assert_eq!(p.lines[1].text, "x");
        assert_eq!(parse_limited(text, 53).cut, 0);
    }

    #[test]
    fn node_debug_iso_line() {
        let (l, _) = parse("2026-12-01T19:44:42.010Z engine:socket sending packet \"open\" ({\"sid\":\"qRAynw6SVX63BBICAAAA\"})\n");
        assert_eq!(l.len(), 1);
        assert_eq!(l[0].writer, LogWriter::NodeDebugIso);
        assert_eq!(l[0].namespace, "engine:socket");
        assert_eq!(l[0].ts, Some(Timestamp(1_796_154_282_010_000_000)));
        assert_eq!(
            l[0].text,
            "sending packet \"open\" ({\"sid\":\"qRAynw6SVX63BBICAAAA\"})"
        );
    }

    #[test]
    fn node_debug_colour_line_with_delta() {
        let (l, _) = parse("  \u{1b}[38;5;26;1mengine:socket \u{1b}[0mtransport error \u{1b}[38;5;26m+2ms\u{1b}[0m\n  \u{1b}[38;5;26;1mengine \u{1b}[0mx \u{1b}[38;5;26m+1s\u{1b}[0m");
        assert_eq!(l.len(), 2);
        assert_eq!(
            (l[0].namespace.as_str(), l[0].text.as_str(), l[0].delta_ms),
            ("engine:socket", "transport error", Some(2))
        );
        assert_eq!(l[1].delta_ms, Some(1000));
    }

    #[test]
    fn error_stack_is_one_record() {
        let (l, _) = parse("2026-12-01T19:44:42.010Z engine:ws received error\nError: invalid payload\n    at Receiver.x (node_modules/ws/lib/receiver.js:1:1)\n2026-12-01T19:44:42.011Z engine:socket transport error");
        assert_eq!(l.len(), 2);
        assert_eq!(l[0].text, "received error\nError: invalid payload\n    at Receiver.x (node_modules/ws/lib/receiver.js:1:1)");
    }

    #[test]
    fn python_logger_lines() {
        let (l, _) = parse("INFO:engineio.server:qRAynw6SVX63BBICAAAA: Sending packet OPEN data {}\n2026-12-01 19:44:42,010 WARNING:socketio.server:x\n");
        assert_eq!(l.len(), 2);
        assert_eq!(
            (l[0].writer, l[0].namespace.as_str(), l[0].level.as_deref()),
            (LogWriter::Python, "engineio.server", Some("INFO"))
        );
        assert_eq!(l[1].ts, Some(Timestamp(1_796_154_282_010_000_000)));
    }

    #[test]
    fn garbage_is_dropped_not_panicked_on() {
        let (l, orphans) = parse("\u{1b}[\u{1b}\n  +\n  a +99999999999999999999999d\n");
        assert!(l.is_empty());
        assert_eq!(
            orphans, 2,
            "the escape-only line is empty, the indented ones have no record"
        );
        let (l, _) = parse(":::\n");
        assert_eq!(l[0].writer, LogWriter::Bare);
    }

    #[test]
    fn bare_duplicate_of_a_formatted_line_is_dropped() {
        let (l, _) = parse("abc: Sending packet OPEN\n2026-12-01 20:12:27,526 INFO:engineio.server:abc: Sending packet OPEN\nabc: bare only\n");
        assert_eq!(l.len(), 2);
        assert_eq!(
            (l[0].writer, l[1].writer),
            (LogWriter::Python, LogWriter::Bare)
        );
    }
}
