//! `upgrade-failed`: the polling → WebSocket upgrade did not complete.
//!
//! What the wire shows: a 101 and then the WebSocket connection torn down within 2 s before any
//! frame (a proxy without WebSocket support), or the probe stopping half-way (`2probe` without
//! `3probe`, `3probe` without `5`). The client stays on polling; engine.io-client reports it as
//! a `probe error` (not a disconnect reason). What to do: find what closes WebSocket connections
//! after the upgrade; wss on 443 often passes where ws does not.

use crate::explain::cause::{Cause, Initiator};
use crate::explain::causes::websocket_blocked::torn_down;
use crate::explain::certainty::Certainty;
use crate::explain::facts::{close_text, end, ms, side, Facts};
use crate::explain::finding::FindingEnd;
use crate::session::UpgradeState;

pub(crate) fn rule(f: &Facts) -> Option<FindingEnd> {
    let s = f.s;
    if s.upgrade != UpgradeState::Upgraded {
        if let Some((c, end_m)) = torn_down(f) {
            let mut sw = c.switched.clone().unwrap_or_else(|| end_m.clone());
            sw.what = "101 Switching Protocols for the upgrade request"
                .to_string()
                .into();
            let rst = c.rst.as_ref().is_some_and(|r| r.frame == end_m.frame);
            let mut e = end_m.clone();
            e.what = format!(
                "{} {} the WebSocket connection {:.0} ms later, before any frame",
                side(e.dir),
                if rst { "resets" } else { "closes" },
                ms(sw.ts, e.ts)
            )
            .into();
            return Some(end(
                f.end_mark(),
                Cause::UpgradeFailed,
                Some("transport close"),
                Some("transport close"),
                Initiator::Network,
                vec![sw, e],
                "The polling → WebSocket upgrade failed: the WebSocket connection was torn down right after 101 Switching Protocols, before the probe. The client stays on polling (engine.io-client reports \"probe error\").".to_string(),
                Some("Find what closes WebSocket connections after the upgrade (a proxy without WebSocket support, a load balancer rule); wss on 443 often passes where ws does not."),
            )
            .with_certainty(
                Certainty::Likely,
                "the WebSocket connection ended before any frame; the capture does not show which hop closed it",
            ));
        }
    }
    if !matches!(
        s.upgrade,
        UpgradeState::ProbeSent | UpgradeState::ProbeAnswered
    ) {
        return None;
    }
    let m = s.upgrade_mark.clone()?;
    // The probe closed with a status code: that side's own statement of why. engine.io drops
    // the probe and keeps the session on polling (`engine.io@6.6.12/build/socket.js:293-305`,
    // `engine.io-client@6.6.8/build/cjs/socket.js:296-305`), so this is never the session's end.
    if let Some(c) = s.probe_closes.iter().find(|c| c.code.is_some()) {
        let mut at = c.at.clone();
        at.what = format!(
            "{} closes the upgrade probe: {}",
            side(at.dir),
            close_text(c)
        )
        .into();
        let mut evidence = vec![m, at];
        let mut why = String::new();
        if c.code == Some(1007) {
            why.push_str(" (invalid payload data: it could not inflate a compressed message)");
            if let Some(bad) = s.probe_inflate_failures.first() {
                let mut b = bad.at.clone();
                b.what = format!(
                    "{} compressed message on the probe: {} bytes on the wire",
                    side(b.dir),
                    bad.wire_len
                )
                .into();
                evidence.insert(1, b);
                if let Some(e) = &bad.inflate_error {
                    why.push_str(&format!(
                        "; sioscope could not inflate it either ({e}): the compressed bytes on the wire are corrupt"
                    ));
                }
            }
        }
        return Some(
            end(
                f.end_mark(),
                Cause::UpgradeFailed,
                Some("transport close"),
                Some("transport close"),
                Initiator::Unknown,
                evidence,
                format!(
                    "The polling → WebSocket upgrade failed: the {} closed the probe WebSocket with {}{why}. Engine.IO drops a failed probe and keeps the session on polling (server: \"client did not complete upgrade\", client: \"probe error\"); the session did not end here.",
                    match c.at.dir {
                        Some(crate::event::Dir::C2S) => "client",
                        _ => "server",
                    },
                    close_text(c)
                ),
                None,
            )
            .with_certainty(
                Certainty::Certain,
                "a close frame with a status code on the probe is the closing side's own statement",
            ),
        );
    }
    let stalled = match s.upgrade {
        UpgradeState::ProbeSent => "the server never answered the client's 2probe with 3probe",
        _ => "the client got 3probe but never sent the upgrade packet 5",
    };
    Some(
        end(
            f.end_mark(),
            Cause::UpgradeFailed,
            Some("transport close"),
            Some("transport close"),
            Initiator::Unknown,
            vec![m],
            format!("The polling → WebSocket upgrade stalled: {stalled}."),
            None,
        )
        .with_certainty(
            Certainty::Unknown,
            "the upgrade stopped half-way and the capture does not show why",
        ),
    )
}
