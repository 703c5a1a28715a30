//! `still-open`: the capture ends while the session is still open.
//!
//! What the wire shows: the session's last connection has neither a FIN, an RST nor a close
//! frame when the capture stops (`tcpdump` stopped early, a `head -c` of a pcap, a capture still
//! running). Nothing ended, so nobody is to blame and neither library has reported anything yet.
//! What to do: nothing, or capture for longer to see how the session ends.

use crate::explain::cause::{Cause, Initiator};
use crate::explain::certainty::Certainty;
use crate::explain::facts::{end, Facts};
use crate::explain::finding::FindingEnd;

/// The capture stops while the session's connection is open.
pub(crate) fn rule(f: &Facts) -> Option<FindingEnd> {
    if !f.open_at_eof {
        return None;
    }
    let mut at = f.s.last.clone();
    at.what = format!("last packet of the session: {}", at.what).into();
    Some(
        end(
            at.clone(),
            Cause::StillOpen,
            None,
            None,
            Initiator::Unknown,
            vec![at],
            "The capture ends here while the session is still open: nothing ended it within the capture, so no side is to blame.".to_string(),
            None,
        )
        .with_certainty(
            Certainty::Certain,
            "the connection carrying the session has no FIN, RST or close frame before the capture ends",
        ),
    )
}

/// No rule matched and the connection is not open at the end either: the capture shows no end.
pub(crate) fn fallback(f: &Facts) -> FindingEnd {
    let at = f.s.last.clone();
    end(
        at.clone(),
        Cause::StillOpen,
        None,
        None,
        Initiator::Unknown,
        vec![at],
        "The capture shows no end for this session (its connections are not in the capture to their end).".to_string(),
        None,
    )
    .with_certainty(
        Certainty::Unknown,
        "no close, FIN or RST of the session's connection is in the capture",
    )
}

#[cfg(test)]
mod tests {
    use crate::explain::fixture_tests::verdict;

    #[test]
    fn a_capture_cut_mid_session_blames_no_one() {
        assert_eq!(
            verdict("v4-ws-long-cut.pcap", "0ezR3p"),
            ("still-open", None, None, "certain")
        );
        assert_eq!(
            verdict("v2-polling-two-clients-cut.pcap", "5v2KFb"),
            ("still-open", None, None, "certain")
        );
    }
}
