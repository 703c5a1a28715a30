//! The HTML report (`sioscope report`): one self-contained page, every asset inlined, no network
//! access, that works from `file://`.
//!
//! The page is a view of data embedded once per capture: the events as `decode --format json`
//! writes them (long payloads cut, see [`HtmlPage::event`]) and the document `explain --format json` prints, each in a
//! `<script type="application/json">` block, read by the page's own script (`page.js`) and drawn
//! as plain SVG and DOM. Inside such a block the HTML parser ends the element at the first
//! `</script` and treats `<!--` specially (HTML Living Standard, "script data state"); every `<`
//! of the JSON is therefore written as the JSON escape `\u003c` (in JSON text `<` can only occur
//! inside strings, where the escape means the same character), so no payload can end the block.

use std::io::{self, Write};

use serde::Serialize;
use serde_json::Value;

use crate::event::Event;
use crate::explain::ALL_CAUSES;

const CSS: &str = include_str!("page.css");
const JS: &str = include_str!("page.js");

/// A writer that escapes `<` as `\u003c` while `escaping` is on (JSON inside a script element).
#[derive(Debug)]
struct Embed<W: Write> {
    out: W,
    escaping: bool,
}

impl<W: Write> Write for Embed<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if !self.escaping {
            return self.out.write(buf);
        }
        let mut rest = buf;
        while let Some(i) = rest.iter().position(|&b| b == b'<') {
            let (head, tail) = rest.split_at(i);
            self.out.write_all(head)?;
            self.out.write_all(br"\u003c")?;
            rest = tail.get(1..).unwrap_or_default();
        }
        self.out.write_all(rest)?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// Writes the report page: [`HtmlPage::new`] writes the head, then for each capture the
/// events block and the explain block ([`HtmlPage::begin_data`], [`HtmlPage::data`],
/// [`HtmlPage::end_data`]), and [`HtmlPage::finish`] the script that draws them.
#[derive(Debug)]
pub struct HtmlPage<W: Write> {
    out: Embed<W>,
    events: u64,
    buf: Vec<u8>,
}

/// Events whose JSON is longer than this get their payloads cut in the page.
pub const MAX_EVENT_JSON: usize = 2048;
/// Characters of a cut payload kept as its preview.
const PREVIEW: usize = 160;

/// The payload-carrying keys of an event (see `docs/json-schema.md`), by layer object.
const PAYLOAD_KEYS: [(&str, &str); 7] = [
    ("sio", "data"),
    ("eio", "text"),
    ("eio", "base64"),
    ("", "text"),
    ("", "base64"),
    ("", "body_text"),
    ("", "body_base64"),
];

fn truncate_payloads(v: &mut Value) {
    for (obj, key) in PAYLOAD_KEYS {
        let target = if obj.is_empty() {
            Some(&mut *v)
        } else {
            v.get_mut(obj)
        };
        let Some(slot) = target.and_then(|o| o.get_mut(key)) else {
            continue;
        };
        let json = slot.to_string();
        if json.len() > PREVIEW {
            let preview: String = json.chars().take(PREVIEW).collect();
            *slot = serde_json::json!({"_truncated": json.len(), "preview": preview});
        }
    }
}

/// What a data block holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataKind {
    /// `{"events": [...]}`, as `decode --format json` writes it.
    Events,
    /// The `explain --format json` document.
    Explain,
}

impl DataKind {
    fn as_str(self) -> &'static str {
        match self {
            DataKind::Events => "events",
            DataKind::Explain => "explain",
        }
    }
}

#[derive(Serialize)]
struct CauseInfo {
    cause: &'static str,
    abnormal: bool,
}

impl<W: Write> HtmlPage<W> {
    /// Writes the document head, the styles and the cause legend (which causes are abnormal).
    pub fn new(out: W, title: &str) -> io::Result<Self> {
        let mut p = HtmlPage {
            out: Embed {
                out,
                escaping: false,
            },
            events: 0,
            buf: Vec::new(),
        };
        let title = html_escape(title);
        write!(
            p.out,
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
             style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\
             <title>sioscope report: {title}</title><style>{CSS}</style></head>\n\
             <body><div id=\"app\"><p class=\"loading\">Loading the report…</p></div>\n"
        )?;
        let causes: Vec<CauseInfo> = ALL_CAUSES
            .iter()
            .map(|c| CauseInfo {
                cause: c.as_str(),
                abnormal: c.is_abnormal(),
            })
            .collect();
        p.out
            .write_all(b"<script type=\"application/json\" id=\"sio-causes\">")?;
        p.out.escaping = true;
        serde_json::to_writer(&mut p.out, &causes)?;
        p.out.escaping = false;
        p.out.write_all(b"</script>\n")?;
        Ok(p)
    }

    /// Opens the data block of one kind for capture number `capture` (from 0).
    pub fn begin_data(&mut self, kind: DataKind, capture: usize) -> io::Result<()> {
        write!(
            self.out,
            "<script type=\"application/json\" class=\"sio-data\" data-kind=\"{}\" data-capture=\"{capture}\">",
            kind.as_str()
        )?;
        self.out.escaping = true;
        self.events = 0;
        if kind == DataKind::Events {
            self.out.write_all(b"{\"events\":[")?;
        }
        Ok(())
    }

    /// Writes one event into the open events block, as `decode --format json` writes it, except
    /// that an event whose JSON exceeds [`MAX_EVENT_JSON`] bytes has its payload fields replaced
    /// by `{"_truncated": <their JSON length>, "preview": "<the first characters>"}`: the page
    /// shows packets, not megabytes of payload, and must open quickly.
    pub fn event(&mut self, ev: &Event) -> io::Result<()> {
        self.buf.clear();
        serde_json::to_writer(&mut self.buf, ev)?;
        if self.buf.len() > MAX_EVENT_JSON {
            if let Ok(mut v) = serde_json::from_slice::<Value>(&self.buf) {
                truncate_payloads(&mut v);
                self.buf.clear();
                serde_json::to_writer(&mut self.buf, &v)?;
            }
        }
        if self.events > 0 {
            self.out.write_all(b",\n")?;
        }
        self.events += 1;
        self.out.write_all(&self.buf)
    }

    /// Writes a whole JSON value (the explain document) into the open block.
    pub fn value<T: Serialize>(&mut self, v: &T) -> io::Result<()> {
        serde_json::to_writer(&mut self.out, v).map_err(io::Error::from)
    }

    /// Closes the open data block.
    pub fn end_data(&mut self, kind: DataKind) -> io::Result<()> {
        if kind == DataKind::Events {
            self.out.write_all(b"]}")?;
        }
        self.out.escaping = false;
        self.out.write_all(b"</script>\n")
    }

    /// Writes the page's script and closes the document; gives back the output.
    pub fn finish(mut self) -> io::Result<W> {
        self.out.escaping = false;
        write!(self.out, "<script>{JS}</script>\n</body></html>\n")?;
        self.out.flush()?;
        Ok(self.out.out)
    }
}

/// Escapes text for HTML element content and attribute values.
fn html_escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '&' => o.push_str("&amp;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page_with(json: &str) -> String {
        let mut p = HtmlPage::new(Vec::new(), "a<b>.pcap").unwrap();
        p.begin_data(DataKind::Explain, 0).unwrap();
        p.value(&serde_json::from_str::<Value>(json).unwrap())
            .unwrap();
        p.end_data(DataKind::Explain).unwrap();
        String::from_utf8(p.finish().unwrap()).unwrap()
    }

    #[test]
    fn a_payload_cannot_close_the_data_block() {
        let html = page_with(r#"{"text":"</script><script>alert(1)</script><!--"}"#);
        assert!(html.contains(
            r#"data-capture="0">{"text":"\u003c/script>\u003cscript>alert(1)\u003c/script>\u003c!--"}</script>"#
        ));
        let json = r#""\u003c/script>""#;
        assert_eq!(serde_json::from_str::<String>(json).unwrap(), "</script>");
    }

    #[test]
    fn the_title_is_escaped_and_the_cause_legend_is_embedded() {
        let html = page_with("{}");
        assert!(html.contains("<title>sioscope report: a&lt;b&gt;.pcap</title>"));
        assert!(html.contains(r#"{"cause":"deflate-error","abnormal":true}"#));
        assert!(html.contains(r#"{"cause":"client-disconnect","abnormal":false}"#));
        assert!(!html.contains("<link") && !html.contains(" src="));
    }

    #[test]
    fn a_long_payload_is_cut_to_a_preview_with_its_length() {
        let mut v = serde_json::json!({"frame": 3, "layer": "sio",
            "sio": {"type": "EVENT", "event": "frame", "data": ["frame", "x".repeat(5000)]}});
        truncate_payloads(&mut v);
        assert_eq!(v["sio"]["data"]["_truncated"], 5012);
        assert_eq!(
            v["sio"]["data"]["preview"]
                .as_str()
                .unwrap()
                .chars()
                .count(),
            PREVIEW
        );
        assert_eq!(v["sio"]["event"], "frame");
        let mut small = serde_json::json!({"sio": {"data": ["a"]}});
        truncate_payloads(&mut small);
        assert_eq!(small["sio"]["data"], serde_json::json!(["a"]));
    }
}
