//! What both legs of a relay add to a session's end: when the capture holds the connection on
//! each side of a relay (client ↔ relay and relay ↔ server), the comparison in [`crate::legs`]
//! shows where frames were altered or swallowed, and which hop closed first. A one-sided capture
//! leaves those questions open (`likely`, with candidates); both legs settle them.

use foldhash::HashMap;

use super::cause::Cause;
use super::certainty::Certainty;
use super::finding::Finding;
use crate::legs::{HopFinding, HopKind};

/// Adds the hop evidence of `hops` to the findings of the sessions they name.
pub(crate) fn apply(sessions: &mut [Finding], hops: &[HopFinding]) {
    let mut by_sid: HashMap<&str, Vec<&HopFinding>> = HashMap::default();
    for h in hops {
        if let Some(sid) = h.sid.as_deref() {
            by_sid.entry(sid).or_default().push(h);
        }
    }
    for f in sessions.iter_mut() {
        let mine: &[&HopFinding] = by_sid.get(f.sid.as_str()).map_or(&[], Vec::as_slice);
        if let Some(h) = mine.iter().find(|h| {
            matches!(
                h.kind,
                HopKind::Swallowed {
                    capture_ended: false,
                    ..
                }
            )
        }) {
            if f.end.cause == Cause::WebsocketBlocked {
                // Both legs are in the capture: the frames entered the relay and never left it,
                // which no frozen peer produces; the candidates are settled.
                f.end.certainty = Certainty::Certain;
                f.end.certainty_reason = format!(
                    "both legs of the relay are in the capture: {}",
                    h.describe()
                );
                f.end.candidates.clear();
            }
        }
        if f.end.cause == Cause::DeflateError {
            if let Some(h) = mine
                .iter()
                .find(|h| matches!(h.kind, HopKind::Altered { .. }))
            {
                f.end.explanation.push_str(&format!(
                    " Both legs of the relay are in the capture: {}, so the compressed bytes were \
                     changed between the legs, not by either peer.",
                    h.describe()
                ));
            }
        }
        if f.end.cause.is_abnormal() {
            if let Some(h) = mine
                .iter()
                .find(|h| matches!(h.kind, HopKind::FirstClose { hop, .. } if hop.is_relay()))
            {
                f.end.explanation.push_str(&format!(
                    " The relay, not a peer, ended the connection: {}.",
                    h.describe()
                ));
            }
        }
    }
}
