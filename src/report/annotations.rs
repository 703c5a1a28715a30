//! The packet comments `sioscope annotate` writes into a capture: one short line per Engine.IO /
//! Socket.IO packet, WebSocket close frame and anomaly a frame completes, and one per piece of
//! evidence of an `explain` finding, keyed by frame number.
//!
//! Wording (stable, so that Wireshark filters such as `frame.comment contains "deflate-error"`
//! keep working):
//!
//! - `sio EVENT "timeupdate" /test ack=17 sid=<sid>` (type, event name, namespace, ack id, session)
//! - `eio ping "probe" sid=<sid>`, `eio open sid=<sid> pingInterval=25000 pingTimeout=20000`
//! - `ws close 1007 (invalid payload data)`
//! - `anomaly deflate-inflate-failed: <detail>`
//! - `<cause>: <evidence>` for an explain finding (`deflate-error: server sends close 1007 …`),
//!   `<note kind>: <evidence>` for its notes.
//!
//! Findings are read from the explain JSON document (the one `explain --format json` prints), so
//! whatever that document adds to its evidence shows up here without a change.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::event::{Body, Event, WsInfo};

/// Comments on one frame beyond this many are counted, not written.
const MAX_PER_FRAME: usize = 12;
/// Longest single comment line, in characters.
const MAX_LINE: usize = 300;

/// Comments collected per frame number.
#[derive(Debug, Default)]
pub struct Annotations {
    by_frame: BTreeMap<u64, Vec<String>>,
    extra: BTreeMap<u64, usize>,
}

fn cut(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

impl Annotations {
    /// No comments yet.
    pub fn new() -> Self {
        Self::default()
    }

    fn add(&mut self, frame: u64, line: String) {
        let v = self.by_frame.entry(frame).or_default();
        let line = cut(&line.replace(['\r', '\n'], " "), MAX_LINE);
        if v.contains(&line) {
            return;
        }
        if v.len() < MAX_PER_FRAME {
            v.push(line);
        } else {
            *self.extra.entry(frame).or_default() += 1;
        }
    }

    /// Notes what one decoded event puts on its frame (the frame that completed it).
    pub fn event(&mut self, ev: &Event) {
        if let Some(line) = event_line(ev) {
            self.add(ev.frame, line);
        }
    }

    /// Notes the evidence of every finding of an explain JSON document (`sessions[].end`,
    /// `sessions[].notes`, `sessionless_errors`).
    pub fn explain_json(&mut self, doc: &Value) {
        for s in doc["sessions"].as_array().into_iter().flatten() {
            let cause = s["end"]["cause"].as_str().unwrap_or("unknown");
            let sid = s["sid"].as_str().unwrap_or("");
            for m in s["end"]["evidence"].as_array().into_iter().flatten() {
                self.mark(cause, m);
            }
            if let Some(f) = s["end"]["at"]["frame"].as_u64() {
                let mut line = format!("{cause}: session {sid} ends here");
                if let Some(r) = s["end"]["reason"].as_str() {
                    line.push_str(&format!(" (server reports \"{r}\")"));
                }
                self.add(f, line);
            }
            for n in s["notes"].as_array().into_iter().flatten() {
                let kind = n["kind"].as_str().unwrap_or("note");
                for m in n["evidence"].as_array().into_iter().flatten() {
                    self.mark(kind, m);
                }
            }
        }
        for m in doc["sessionless_errors"].as_array().into_iter().flatten() {
            self.mark("sessionless-error", m);
        }
    }

    fn mark(&mut self, label: &str, m: &Value) {
        if let Some(f) = m["frame"].as_u64() {
            let what = m["what"].as_str().unwrap_or("");
            self.add(f, format!("{label}: {what}"));
        }
    }

    /// The comment for a frame: its lines joined by ` | `, or `None`.
    pub fn comment(&self, frame: u64) -> Option<String> {
        let v = self.by_frame.get(&frame)?;
        let mut s = v.join(" | ");
        if let Some(n) = self.extra.get(&frame) {
            s.push_str(&format!(" | (+{n} more)"));
        }
        Some(s)
    }

    /// Number of frames with a comment.
    pub fn frames(&self) -> usize {
        self.by_frame.len()
    }
}

/// The comment line of one event, for the layers that get one.
fn event_line(ev: &Event) -> Option<String> {
    let sid_of = |sid: &Option<String>| sid.as_deref().map(|s| format!(" sid={s}"));
    match &ev.body {
        Body::Sio { eio, sio } => {
            let mut s = format!("sio {}", sio.kind);
            if let Some(e) = &sio.event {
                s.push_str(&format!(" {}", Value::String(cut(e, 80))));
            }
            s.push(' ');
            s.push_str(&sio.nsp);
            if let Some(id) = sio.id {
                s.push_str(&format!(" ack={id}"));
            }
            s.push_str(&sid_of(&eio.sid).unwrap_or_default());
            Some(s)
        }
        Body::Eio { eio } => {
            let mut s = format!("eio {}", eio.kind);
            if let Some(t) = &eio.text {
                s.push_str(&format!(" {}", Value::String(cut(t, 40))));
            }
            s.push_str(&sid_of(&eio.sid).unwrap_or_default());
            if let Some(o) = &eio.open {
                for k in ["pingInterval", "pingTimeout", "maxPayload"] {
                    if let Some(v) = o.get(k).and_then(Value::as_u64) {
                        s.push_str(&format!(" {k}={v}"));
                    }
                }
            }
            Some(s)
        }
        Body::Ws(WsInfo::Close {
            code, code_name, ..
        }) => Some(match (code, code_name) {
            (Some(c), Some(n)) => format!("ws close {c} ({n})"),
            (Some(c), None) => format!("ws close {c}"),
            _ => "ws close (no status code)".to_string(),
        }),
        Body::Ws(WsInfo::Message {
            inflate_error: Some(e),
            ..
        }) => Some(format!("ws message: sioscope could not inflate it: {e}")),
        Body::Anomaly(a) => Some(format!("anomaly {}: {}", a.rule, a.detail)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{ConnId, EioInfo, SioInfo, Timestamp};

    fn sio_event(frame: u64) -> Event {
        Event {
            frame,
            ts: Timestamp(0),
            first_frame: None,
            conn: ConnId(1),
            dir: None,
            body: Body::Sio {
                eio: EioInfo {
                    kind: "message",
                    version: Some(4),
                    sid: Some("abc".into()),
                    transport: "websocket",
                    text: None,
                    base64: None,
                    open: None,
                },
                sio: SioInfo {
                    kind: "EVENT".into(),
                    nsp: "/test".into(),
                    event: Some("timeupdate".into()),
                    id: Some(17),
                    data: None,
                    attachments: None,
                    version: 5,
                },
            },
        }
    }

    #[test]
    fn a_socketio_event_reads_like_the_issue_says() {
        let mut a = Annotations::new();
        a.event(&sio_event(7));
        assert_eq!(
            a.comment(7).as_deref(),
            Some("sio EVENT \"timeupdate\" /test ack=17 sid=abc")
        );
        assert_eq!(a.comment(8), None);
    }

    #[test]
    fn findings_name_their_cause_on_each_evidence_frame() {
        let doc = serde_json::json!({"sessions": [{"sid": "abc", "end": {
            "cause": "deflate-error", "reason": "transport error",
            "at": {"frame": 35, "what": "server sends close 1007"},
            "evidence": [{"frame": 33, "what": "client compressed message"},
                         {"frame": 35, "what": "server sends close 1007"}]},
            "notes": [{"kind": "lost-messages", "evidence": [{"frame": 40, "what": "c2s EVENT after close"}]}]}],
            "sessionless_errors": []});
        let mut a = Annotations::new();
        a.explain_json(&doc);
        assert_eq!(
            a.comment(33).as_deref(),
            Some("deflate-error: client compressed message")
        );
        assert_eq!(
            a.comment(35).as_deref(),
            Some("deflate-error: server sends close 1007 | deflate-error: session abc ends here (server reports \"transport error\")")
        );
        assert_eq!(
            a.comment(40).as_deref(),
            Some("lost-messages: c2s EVENT after close")
        );
    }

    #[test]
    fn a_busy_frame_is_capped_and_counts_the_rest() {
        let mut a = Annotations::new();
        for i in 0..20 {
            let mut e = sio_event(3);
            if let Body::Sio { sio, .. } = &mut e.body {
                sio.id = Some(i);
            }
            a.event(&e);
        }
        let c = a.comment(3).unwrap();
        assert_eq!(c.matches("sio EVENT").count(), MAX_PER_FRAME);
        assert!(c.ends_with(" | (+8 more)"), "{c}");
    }
}
