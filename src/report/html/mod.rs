//! The HTML report (`sioscope report`): one self-contained page, every asset inlined, no network
//! access, that works from `file://`.
//!
//! The page is a view of data embedded once per capture, each in a
//! `<script type="application/json">` block read by the page's own script (`page.js`) and drawn
//! as plain SVG and DOM: the packet index of the events `decode` writes ([`columns`]: one column
//! per field the page draws, strings written once) and the document `explain --format json`
//! prints. The whole events, as `decode --format ndjson` writes them, follow the script,
//! compressed ([`detail`]); the page inflates them only when a packet is opened. Inside a script
//! block the HTML parser ends the element at the first `</script` and treats `<!--` specially
//! (HTML Living Standard, "script data state"); every `<` of the JSON is therefore written as the
//! JSON escape `\u003c` (in JSON text `<` can only occur inside strings, where the escape means
//! the same character), so no payload can end the block; base64 holds no `<`.

pub mod columns;
pub mod detail;

use std::io::{self, Write};

use serde::Serialize;

use crate::event::Event;
use crate::explain::ALL_CAUSES;
use columns::Columns;
use detail::{DetailIndex, Details};

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

/// Writes the report page: [`HtmlPage::new`] writes the head; then for each capture
/// [`HtmlPage::begin_events`], [`HtmlPage::event`] for every event and [`HtmlPage::end_events`]
/// write its packet index, and [`HtmlPage::begin_data`], [`HtmlPage::value`],
/// [`HtmlPage::end_data`] its explain document; [`HtmlPage::finish`] writes the script that draws
/// them, then the compressed whole events ([`detail`]) that the page reads only on demand.
#[derive(Debug)]
pub struct HtmlPage<W: Write> {
    out: Embed<W>,
    capture: usize,
    columns: Columns,
    details: Details,
    buf: Vec<u8>,
}

/// The report's bound on the JSON of long events (over [`detail::SMALL_LINE`]) it keeps whole, by
/// default (`--max-detail`).
pub const DEFAULT_MAX_DETAIL: usize = 16 << 20;

/// What a data block holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataKind {
    /// The packet index of a capture (`{"columns": ..., "detail": ...}`, see [`columns`]).
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

#[derive(Serialize)]
struct EventsBlock<'a> {
    columns: &'a Columns,
    detail: &'a DetailIndex,
}

impl<W: Write> HtmlPage<W> {
    /// Writes the document head, the styles and the cause legend (which causes are abnormal);
    /// long events are kept whole for the detail view up to `max_detail` bytes of their JSON.
    pub fn new(out: W, title: &str, max_detail: usize) -> io::Result<Self> {
        let mut p = HtmlPage {
            out: Embed {
                out,
                escaping: false,
            },
            capture: 0,
            columns: Columns::new(),
            details: Details::new(max_detail),
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

    /// Starts the events of capture number `capture` (from 0).
    pub fn begin_events(&mut self, capture: usize) {
        self.capture = capture;
        self.columns = Columns::new();
        self.details.begin(capture);
    }

    /// Adds one event of the open capture: to the packet index, and its whole JSON (as
    /// `decode --format ndjson` writes it) to the compressed runs while the budget lasts.
    pub fn event(&mut self, ev: &Event) -> io::Result<()> {
        self.columns.push(ev);
        self.buf.clear();
        crate::report::json_write::to_writer(&mut self.buf, ev)?;
        self.details.event(&self.buf)
    }

    /// Writes the open capture's packet index block.
    pub fn end_events(&mut self) -> io::Result<()> {
        let detail = self.details.end()?;
        self.begin_data(DataKind::Events, self.capture)?;
        let columns = std::mem::take(&mut self.columns);
        let block = EventsBlock {
            columns: &columns,
            detail: &detail,
        };
        serde_json::to_writer(&mut self.out, &block)?;
        self.end_data(DataKind::Events)
    }

    /// Opens the data block of one kind for capture number `capture` (from 0).
    pub fn begin_data(&mut self, kind: DataKind, capture: usize) -> io::Result<()> {
        write!(
            self.out,
            "<script type=\"application/json\" class=\"sio-data\" data-kind=\"{}\" data-capture=\"{capture}\">",
            kind.as_str()
        )?;
        self.out.escaping = true;
        Ok(())
    }

    /// Writes a whole JSON value (the explain document) into the open block.
    pub fn value<T: Serialize>(&mut self, v: &T) -> io::Result<()> {
        serde_json::to_writer(&mut self.out, v).map_err(io::Error::from)
    }

    /// Closes the open data block.
    pub fn end_data(&mut self, _kind: DataKind) -> io::Result<()> {
        self.out.escaping = false;
        self.out.write_all(b"</script>\n")
    }

    /// Compressed bytes of the whole events kept so far.
    pub fn detail_bytes(&self) -> usize {
        self.details.used()
    }

    /// Writes the page's script, then the compressed whole events, and closes the document;
    /// gives back the output.
    pub fn finish(mut self) -> io::Result<W> {
        self.out.escaping = false;
        writeln!(self.out, "<script>{JS}</script>")?;
        let blocks = std::mem::replace(&mut self.details, Details::new(0)).into_blocks();
        self.out.write_all(&blocks)?;
        self.out.write_all(b"</body></html>\n")?;
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
    use serde_json::Value;

    fn page_with(json: &str) -> String {
        let mut p = HtmlPage::new(Vec::new(), "a<b>.pcap", DEFAULT_MAX_DETAIL).unwrap();
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
}
