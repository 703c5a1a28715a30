//! The counts that open a report: sessions per cause, per fix, and the distinct findings with
//! the sessions each applies to (so a capture of 2 000 sessions with one cause reads as one
//! finding, not 2 000 paragraphs).

use serde::Serialize;

use super::cause::Cause;
use super::certainty::Certainty;
use super::finding::{Explanation, Finding};

/// One distinct finding: sessions that ended the same way (cause, both sides' words, certainty
/// and fix), with the session ids it applies to.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SummaryRow {
    /// The cause.
    pub cause: Cause,
    /// What the server reported.
    pub reason: Option<String>,
    /// What the client reported.
    pub client_reason: Option<String>,
    /// How certain.
    pub certainty: Certainty,
    /// The fix, when one is known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
    /// How many sessions.
    pub count: usize,
    /// Indexes into `Explanation::sessions`, in order.
    #[serde(skip)]
    pub members: Vec<usize>,
    /// Their session ids.
    pub sids: Vec<String>,
}

/// A count of one name (a cause or a fix).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Count {
    /// The cause name or the fix text.
    pub name: String,
    /// How many sessions (or refused requests).
    pub count: usize,
}

/// The counts of a whole explanation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    /// Engine.IO sessions.
    pub sessions: usize,
    /// Sessions that ended abnormally (folded ones included).
    pub abnormal: usize,
    /// Requests refused outside any session (no session opened for them).
    pub refused: usize,
    /// Seconds between the first and the last packet.
    pub duration: f64,
    /// Sessions per cause, most frequent first (folded ones included).
    pub causes: Vec<Count>,
    /// Sessions (and refused requests) per fix, most frequent first.
    pub fixes: Vec<Count>,
    /// The distinct findings, in order of first appearance.
    pub findings: Vec<SummaryRow>,
    /// Ended sessions folded into a count and not explained (`--max-tracked-sessions`): not in
    /// `sessions` nor in the counts above.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub folded: Option<crate::session::FoldedSessions>,
}

fn same(row: &SummaryRow, f: &Finding) -> bool {
    row.cause == f.end.cause
        && row.reason == f.end.reason
        && row.client_reason == f.end.client_reason
        && row.certainty == f.end.certainty
        && row.fix == f.end.fix
}

fn bump(v: &mut Vec<Count>, name: &str, n: usize) {
    match v.iter_mut().find(|c| c.name == name) {
        Some(c) => c.count += n,
        None => v.push(Count {
            name: name.to_string(),
            count: n,
        }),
    }
}

impl Summary {
    /// Counts an explanation.
    pub fn of(x: &Explanation) -> Summary {
        let mut findings: Vec<SummaryRow> = vec![];
        let mut causes = vec![];
        let mut fixes = vec![];
        for (i, f) in x.sessions.iter().enumerate() {
            bump(&mut causes, f.end.cause.as_str(), 1);
            if let Some(fix) = &f.end.fix {
                bump(&mut fixes, fix, 1);
            }
            match findings.iter_mut().find(|r| same(r, f)) {
                Some(r) => {
                    r.count += 1;
                    r.members.push(i);
                    r.sids.push(f.sid.clone());
                }
                None => findings.push(SummaryRow {
                    cause: f.end.cause,
                    reason: f.end.reason.clone(),
                    client_reason: f.end.client_reason.clone(),
                    certainty: f.end.certainty,
                    fix: f.end.fix.clone(),
                    count: 1,
                    members: vec![i],
                    sids: vec![f.sid.clone()],
                }),
            }
        }
        let mut folded_abnormal = 0;
        if let Some(f) = &x.folded {
            for c in &f.causes {
                bump(
                    &mut causes,
                    c.name,
                    usize::try_from(c.count).unwrap_or(usize::MAX),
                );
            }
            folded_abnormal = usize::try_from(f.abnormal).unwrap_or(usize::MAX);
        }
        let mut refused = 0;
        for r in &x.refusals {
            refused += r.count;
            bump(&mut causes, r.kind, r.count);
            if let Some(fix) = &r.fix {
                bump(&mut fixes, fix, r.count);
            }
        }
        // Stable sort: equal counts keep their order of first appearance.
        causes.sort_by_key(|c| std::cmp::Reverse(c.count));
        fixes.sort_by_key(|c| std::cmp::Reverse(c.count));
        Summary {
            sessions: x.sessions.len(),
            abnormal: x.abnormal().saturating_add(folded_abnormal),
            refused,
            duration: x.duration,
            causes,
            fixes,
            findings,
            folded: x.folded.clone(),
        }
    }
}
