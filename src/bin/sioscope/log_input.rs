//! `--log FILE`: reads the libraries' debug logs and places them against the tracked sessions.

use std::io::Read;
use std::path::PathBuf;

use anyhow::{bail, Context, Result};

use sioscope::explain::Explanation;
use sioscope::log::{attach, parse_limited, LogTimeline, MAX_LOG_BYTES};
use sioscope::session::SessionTracker;

/// `--max-log-line`, the same on every command that takes `--log`.
#[derive(clap::Args, Debug, Clone, Copy)]
pub struct LogLineArg {
    /// Longest `--log` line read; a longer one is cut there (the count is said on stderr):
    /// 64KiB, 1MiB.
    #[arg(long, default_value = "64KiB", value_name = "SIZE", value_parser = crate::common::size_arg,
          allow_hyphen_values = true)]
    pub max_log_line: usize,
}

/// One timeline per `--log` file, lines cut to `max_line` bytes; a file with no line of a known
/// writer is an error.
pub fn place_logs(
    files: &[PathBuf],
    max_line: usize,
    t: &SessionTracker,
    x: &Explanation,
) -> Result<Vec<LogTimeline>> {
    let ends: Vec<_> = x.sessions.iter().map(|f| f.end.at.ts).collect();
    let mut out = Vec::new();
    for p in files {
        let f = std::fs::File::open(p).with_context(|| format!("cannot open {}", p.display()))?;
        let mut buf = Vec::new();
        f.take(MAX_LOG_BYTES as u64 + 1)
            .read_to_end(&mut buf)
            .with_context(|| format!("reading {}", p.display()))?;
        if buf.len() > MAX_LOG_BYTES {
            bail!("{}: larger than {MAX_LOG_BYTES} bytes", p.display());
        }
        let text = String::from_utf8_lossy(&buf);
        let parsed = parse_limited(&text, max_line);
        let (lines, unrecognised) = (parsed.lines, parsed.orphans);
        if lines.is_empty() {
            bail!("{}: no line of node `debug` (DEBUG=engine*,socket.io*) or python-engineio/python-socketio logging", p.display());
        }
        let tl = attach(&p.display().to_string(), lines, unrecognised, t, &ends);
        let placed = tl
            .lines
            .iter()
            .filter(|l| l.session.session().is_some())
            .count();
        let cut = match parsed.cut {
            0 => String::new(),
            n => format!("; {n} lines longer than {max_line} bytes cut (--max-log-line)"),
        };
        eprintln!(
            "{}: {} log lines, {} tied to a session{cut}; {}",
            p.display(),
            tl.lines.len(),
            placed,
            tl.offset_ms.map_or(
                "no clock offset found (no line names a session's sid)".to_string(),
                |o| format!(
                    "log clock {o:+.1} ms against the capture ({} matched)",
                    tl.matched
                )
            )
        );
        out.push(tl);
    }
    Ok(out)
}
