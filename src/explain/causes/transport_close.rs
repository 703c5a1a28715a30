use crate::explain::certainty::Certainty;
use crate::explain::cause::Cause;
use crate::explain::facts::{end, initiator_of, ms, side, Facts};
use crate::explain::finding::FindingEnd;

pub(crate) fn rule(f: &Facts) -> Option<FindingEnd> {
    let t = f.transport_end.clone()?;
    let c = f.last_conn?;
    let rst = c.rst.as_ref().is_some_and(|r| r.frame == t.frame);
    let mut m = t.clone();
    m.what = format!(
        "{} sends {} without any Socket.IO/Engine.IO close",
        side(t.dir),
        if rst { "TCP RST" } else { "TCP FIN" }
    );
    let idle = c
        .last_data
        .iter()
        .flatten()
        .filter(|d| d.frame < t.frame)
        .map(|d| d.ts)
        .max();
    let mut evidence = vec![m];
    let mut extra = String::new();
    if let Some(idle_since) = idle {
        let gap = ms(idle_since, t.ts) / 1000.0;
        if gap > 5.0 {
            extra = format!(" The connection was idle for {gap:.1} s before it closed: an idle timeout in a proxy or load balancer in between would look like this.");
        }
    }
    if let Some(last) = c
        .last_data
        .iter()
        .flatten()
        .filter(|d| d.frame < t.frame)
        .max_by_key(|d| d.frame)
    {
        let mut l = last.clone();
        l.what = format!("last data before the end: {}", l.what);
        evidence.insert(0, l);
    }
    Some(end(
        t.clone(),
        if rst { Cause::TransportError } else { Cause::TransportClose },
        Some(if rst { "transport error" } else { "transport close" }),
        Some("transport close"),
        initiator_of(t.dir),
        evidence,
        format!(
            "The TCP connection was {} by the {} with no protocol-level goodbye: the {} process died or closed its socket, or something in between cut the connection.{extra}",
            if rst { "reset" } else { "closed" },
            side(t.dir),
            side(t.dir)
        ),
        None,
    )
    .with_certainty(
        Certainty::Likely,
        "who closed the TCP connection is on the wire; why (process exit, a proxy timeout, a network cut) is not",
    )
    .with_candidate(
        Cause::ServerShutdown,
        "a capture on the other side of any proxy, or the peer's log, shows whether its process exited",
    ))
}
