//! Test support: `explain` over a committed real capture, for the rule tests beside each cause.

use super::{explain, Explanation, Finding};
use crate::capture::{replay, ReplayOptions};
use crate::session::SessionTracker;

/// Explains `fixtures/pcap/<name>` (a real capture of real peers).
pub(crate) fn explained(name: &str) -> Explanation {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/pcap")
        .join(name);
    let file = std::fs::File::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut tracker = SessionTracker::new();
    replay(file, &ReplayOptions::default(), &mut |ev| {
        tracker.event(&ev)
    })
    .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    explain(&tracker)
}

/// The finding of the session whose id starts with `sid`.
pub(crate) fn session<'a>(x: &'a Explanation, sid: &str) -> &'a Finding {
    x.sessions
        .iter()
        .find(|f| f.sid.starts_with(sid))
        .unwrap_or_else(|| panic!("no session {sid}"))
}

/// Cause, server words, client words and certainty of a session, as one tuple to compare.
pub(crate) fn verdict(
    name: &str,
    sid: &str,
) -> (&'static str, Option<String>, Option<String>, &'static str) {
    let x = explained(name);
    let f = session(&x, sid);
    (
        f.end.cause.as_str(),
        f.end.reason.clone(),
        f.end.client_reason.clone(),
        f.end.certainty.as_str(),
    )
}

/// `Some(text)` for comparisons.
pub(crate) fn s(text: &str) -> Option<String> {
    Some(text.to_string())
}
