use crate::explain::cause::Cause;
use crate::explain::certainty::Certainty;
use crate::explain::facts::{close_text, end, initiator_of, ms, side, Facts};
use crate::explain::finding::FindingEnd;
use crate::explain::implementation::Implementation;

pub(crate) fn rule(f: &Facts) -> Option<FindingEnd> {
    // A packet sioscope could not decode either, followed (within 2 s) by the other side ending
    // the transport: the receiver gave up on it. Or an explicit protocol-error close code.
    let parse_anomaly =
        f.s.anomalies
            .iter()
            .find(|m| m.what.starts_with("eio-") || m.what.starts_with("sio-"));
    let coded = f.close_with(&[1002, 1003]).map(|c| {
        let mut m = c.at.clone();
        m.what = format!("{} sends {}", side(m.dir), close_text(c));
        m
    });
    let after_bad = parse_anomaly.and_then(|a| {
        f.transport_end.clone().filter(|t| {
            t.frame >= a.frame && t.dir.is_some() && t.dir != a.dir && ms(a.ts, t.ts) <= 2000.0
        })
    });
    let close = coded.clone().or(after_bad)?;
    let mut evidence = vec![];
    if let Some(a) = parse_anomaly {
        let mut a = a.clone();
        a.what = format!(
            "{} sends a packet that cannot be decoded: {}",
            side(a.dir),
            a.what
        );
        evidence.push(a);
    }
    let mut at = close.clone();
    if !at.what.contains("sends") {
        at.what = format!("{} ends the transport: {}", side(at.dir), at.what);
    }
    evidence.push(at);
    // socket.io 3/4 report a decoding failure as "forced close" (observed with 4.8.4).
    let reason = match (f.peers.server, f.s.eio) {
        (Implementation::NodeSocketIo, Some(4)) => "forced close",
        _ => "parse error",
    };
    Some(end(
        close.clone(),
        Cause::ParseError,
        Some(reason),
        Some("transport close"),
        initiator_of(close.dir),
        evidence,
        format!(
            "The {} sent a packet that does not decode (sioscope cannot decode it either), and the {} closed the connection right after. Fix the sender's encoding; a custom parser on one side only also looks like this.",
            side(parse_anomaly.and_then(|a| a.dir)),
            side(close.dir)
        ),
        None,
    )
    .with_certainty(
        if coded.is_some() { Certainty::Certain } else { Certainty::Likely },
        if coded.is_some() {
            "a protocol-error close code (1002/1003) is on the wire"
        } else {
            "the other side closed within 2 s of a packet sioscope cannot decode either; the capture does not say that packet was why"
        },
    )
    .with_candidate(Cause::TransportClose, "the closing side's own log (DEBUG=engine,socket.io*) names the reason"))
}
