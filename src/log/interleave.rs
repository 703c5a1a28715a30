//! Log lines merged into the packet events by time, for `decode --log`.

use super::attach::LogTimeline;
use super::event::LogEvent;
use crate::event::Timestamp;
use crate::session::SessionTracker;

/// The lines of several placed logs in capture-clock order, handed out as the events pass.
#[derive(Debug, Clone)]
pub struct Interleave<'a> {
    items: Vec<LogEvent<'a>>,
    next: usize,
    untimed: usize,
}

impl<'a> Interleave<'a> {
    /// The lines of `logs` (placed against the sessions of `t`), in time order; lines with the
    /// same time keep the order of their files and of the `--log` flags.
    pub fn new(logs: &'a [LogTimeline], t: &'a SessionTracker) -> Self {
        let sids: Vec<&str> = t.sessions().iter().map(|s| s.sid.as_str()).collect();
        let mut items = Vec::new();
        let mut untimed = 0;
        for tl in logs {
            for p in &tl.lines {
                match LogEvent::of(&tl.file, p, &sids) {
                    Some(e) => items.push(e),
                    None => untimed += 1,
                }
            }
        }
        items.sort_by_key(|e| e.ts);
        Interleave {
            items,
            next: 0,
            untimed,
        }
    }

    /// The lines not handed out yet at or before `ts` (a library logs a packet before it leaves,
    /// so a line at the same time as an event comes first).
    pub fn due(&mut self, ts: Timestamp) -> &[LogEvent<'a>] {
        let start = self.next.min(self.items.len());
        let n = self
            .items
            .get(start..)
            .map_or(0, |rest| rest.partition_point(|e| e.ts <= ts));
        self.next = start + n;
        self.items.get(start..start + n).unwrap_or_default()
    }

    /// The lines after the last event.
    pub fn rest(&mut self) -> &[LogEvent<'a>] {
        let start = self.next.min(self.items.len());
        self.next = self.items.len();
        self.items.get(start..).unwrap_or_default()
    }

    /// Lines with no time on the capture's clock (a bare python line, a `+Nms` line before any
    /// anchor): they cannot be interleaved.
    pub fn untimed(&self) -> usize {
        self.untimed
    }

    /// Lines that have a time, handed out or not.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// True when no line has a time.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}
