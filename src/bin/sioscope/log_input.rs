//! `--log FILE`: reads the libraries' debug logs and places them against the tracked sessions.

use std::io::Read;
use std::path::PathBuf;

use anyhow::{bail, Context, Result};

use sioscope::explain::Explanation;
use sioscope::log::{attach, parse, LogTimeline, MAX_LOG_BYTES};
use sioscope::session::SessionTracker;

/// One timeline per `--log` file; a file with no line of a known writer is an error.
pub fn place_logs(
    files: &[PathBuf],
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
        let (lines, unrecognised) = parse(&text);
        if lines.is_empty() {
            bail!("{}: no line of node `debug` (DEBUG=engine*,socket.io*) or python-engineio/python-socketio logging", p.display());
        }
        let tl = attach(&p.display().to_string(), lines, unrecognised, t, &ends);
        let placed = tl
            .lines
            .iter()
            .filter(|l| l.session.session().is_some())
            .count();
        eprintln!(
            "{}: {} log lines, {} tied to a session; {}",
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
