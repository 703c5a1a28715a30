//! Ended sessions whose records were dropped past `--max-tracked-sessions`: counted, not explained.

use serde::Serialize;

use super::record::Mark;
use super::tracker::SessionTracker;

/// Sessions tracked at once by default (`--max-tracked-sessions`).
pub const DEFAULT_MAX_SESSIONS: usize = 100_000;

/// The rule name of the anomaly a full session table raises.
pub const SESSION_TABLE_FULL: &str = "session-table-full";

/// What a full session table gave up: how many ended sessions were folded into a count (their
/// records dropped, so they are not explained), and where the table first overflowed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FoldedSessions {
    /// Always [`SESSION_TABLE_FULL`].
    pub rule: &'static str,
    /// The limit (`--max-tracked-sessions`).
    pub limit: usize,
    /// Ended sessions folded into this count and not explained.
    pub count: u64,
    /// Of those, the ones that ended abnormally (as explained when they were folded).
    pub abnormal: u64,
    /// Their causes (as explained when they were folded), in order of first appearance.
    pub causes: Vec<FoldedCause>,
    /// The handshake that first took the table past its limit.
    pub first: Mark,
}

/// How many folded sessions ended with one cause.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FoldedCause {
    /// The cause's name (`explain`'s).
    pub name: &'static str,
    /// Sessions folded with it.
    pub count: u64,
}

/// How one ended session ended, explained just before its record is folded.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FoldedEnd {
    /// The cause's name.
    pub cause: &'static str,
    /// Whether that end is abnormal.
    pub abnormal: bool,
}

/// Explains the session with this id on the tracker before it is folded (the explain layer's
/// rule set; the tracker itself does not know the causes).
pub type ExplainEnd = fn(&SessionTracker, &str) -> Option<FoldedEnd>;

impl FoldedSessions {
    /// Counts one more folded session, with its end when it was explained.
    pub(crate) fn add(&mut self, end: Option<FoldedEnd>) {
        self.count += 1;
        let Some(end) = end else { return };
        self.abnormal += u64::from(end.abnormal);
        match self.causes.iter_mut().find(|c| c.name == end.cause) {
            Some(c) => c.count += 1,
            None => self.causes.push(FoldedCause {
                name: end.cause,
                count: 1,
            }),
        }
    }
}

impl FoldedSessions {
    /// The line `explain` and `sessions` print: how many sessions were folded and not explained.
    pub fn sentence(&self) -> String {
        format!(
            "{}: {} ended session{} folded into a count and not explained (the table holds {} \
             session{}, full from frame {}; --max-tracked-sessions raises it)",
            self.rule,
            self.count,
            if self.count == 1 { "" } else { "s" },
            self.limit,
            if self.limit == 1 { "" } else { "s" },
            self.first.frame
        )
    }
}
