//! The transcript of bytes a check exchanged, for failure reports.

use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Entries kept per transcript; later ones are counted, not stored.
const MAX_ENTRIES: usize = 80;
/// Bytes of each entry shown; the rest is summarised as `…(+N bytes)`.
const MAX_SHOWN: usize = 160;

/// Direction of a transcript entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Dir {
    /// Bytes sent to the server.
    Sent,
    /// Bytes received from the server.
    Received,
    /// Something that is not bytes: a connection opened, closed or reset.
    Note,
}

/// One transcript line.
#[derive(Debug, Clone, serde::Serialize)]
pub struct WireEntry {
    /// Milliseconds since the transcript began.
    pub at_ms: u64,
    /// Direction.
    pub dir: Dir,
    /// Which connection: `GET#1`, `ws#2`, …
    pub channel: String,
    /// The bytes, escaped and truncated for display.
    pub text: String,
}

#[derive(Debug)]
struct Inner {
    start: Instant,
    entries: Vec<WireEntry>,
    dropped: usize,
    channels: u32,
}

/// A shared, bounded transcript: clone it into every client of one check.
#[derive(Debug, Clone)]
pub struct Wire(Arc<Mutex<Inner>>);

impl Default for Wire {
    fn default() -> Self {
        Wire::new()
    }
}

impl Wire {
    /// An empty transcript starting now.
    pub fn new() -> Wire {
        Wire(Arc::new(Mutex::new(Inner {
            start: Instant::now(),
            entries: Vec::new(),
            dropped: 0,
            channels: 0,
        })))
    }

    /// A fresh channel name such as `GET#3`.
    pub fn channel(&self, kind: &str) -> String {
        let mut g = self.lock();
        g.channels = g.channels.saturating_add(1);
        format!("{kind}#{}", g.channels)
    }

    /// Records bytes (escaped, truncated to a readable length).
    pub fn bytes(&self, dir: Dir, channel: &str, bytes: &[u8]) {
        self.push(dir, channel, escape(bytes));
    }

    /// Records a note (connection events).
    pub fn note(&self, channel: &str, text: impl Into<String>) {
        self.push(Dir::Note, channel, text.into());
    }

    fn push(&self, dir: Dir, channel: &str, text: String) {
        let mut g = self.lock();
        if g.entries.len() >= MAX_ENTRIES {
            g.dropped = g.dropped.saturating_add(1);
            return;
        }
        let at_ms = u64::try_from(g.start.elapsed().as_millis()).unwrap_or(u64::MAX);
        g.entries.push(WireEntry {
            at_ms,
            dir,
            channel: channel.to_string(),
            text,
        });
    }

    /// The entries so far and how many were dropped past the limit.
    pub fn snapshot(&self) -> (Vec<WireEntry>, usize) {
        let g = self.lock();
        (g.entries.clone(), g.dropped)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A poisoned lock only means another task panicked mid-push; the log is still usable.
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Printable form of bytes: UTF-8 text (the record separator and line breaks escaped), or hex
/// when the bytes are not UTF-8 or hold other control characters.
pub fn escape(bytes: &[u8]) -> String {
    let shown = bytes.get(..MAX_SHOWN).unwrap_or(bytes);
    let texty = |s: &str| {
        s.chars()
            .all(|c| !c.is_control() || matches!(c, '\x1e' | '\n' | '\r' | '\t'))
    };
    let mut out = match std::str::from_utf8(shown) {
        Ok(s) if texty(s) => s.chars().flat_map(char::escape_debug).collect::<String>(),
        Err(e)
            if e.valid_up_to() + 4 > shown.len()
                && shown.len() == MAX_SHOWN
                && texty(&String::from_utf8_lossy(
                    shown.get(..e.valid_up_to()).unwrap_or_default(),
                )) =>
        {
            // Text cut in the middle of a character by the truncation.
            let ok = shown.get(..e.valid_up_to()).unwrap_or_default();
            String::from_utf8_lossy(ok)
                .chars()
                .flat_map(char::escape_debug)
                .collect()
        }
        _ => {
            let hex: Vec<String> = shown.iter().map(|b| format!("{b:02x}")).collect();
            format!("<binary {} bytes> {}", bytes.len(), hex.join(" "))
        }
    };
    if bytes.len() > shown.len() {
        out.push_str(&format!("…(+{} bytes)", bytes.len() - shown.len()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_truncates() {
        assert_eq!(escape(b"4a\x1e4b"), "4a\\u{1e}4b");
        assert_eq!(escape(&[4, 1, 2]), "<binary 3 bytes> 04 01 02");
        let long = vec![b'x'; 1000];
        assert!(escape(&long).ends_with("…(+840 bytes)"));
        let w = Wire::new();
        for _ in 0..100 {
            w.bytes(Dir::Sent, "c", b"2");
        }
        let (e, dropped) = w.snapshot();
        assert_eq!((e.len(), dropped), (80, 20));
    }
}
