//! The whole events behind the report's packet table, for its detail view: each event's
//! `decode --format ndjson` line, in runs of about 256 KiB compressed with raw deflate (RFC 1951)
//! and written in base64 as `<script type="application/octet-stream" class="sio-chunk">`
//! blocks after the page's script, so the page draws before the browser has even parsed them; the
//! page inflates one run when a row is opened (`DecompressionStream("deflate-raw")`).
//!
//! Every event is kept. Lines of at most 2 KiB are kept whole; longer ones (large payloads) are
//! kept whole while their total stays within a budget (`report --max-detail`, 16 MiB of JSON by
//! default), and past it with their payloads cut to a preview and their length
//! ([`truncate_payloads`]); the page marks those. So what payloads add to the page is bounded by
//! the budget, and the rest grows with the number of events, as the packet index does.

use std::io::{self, Write};

use base64::Engine as _;
use flate2::write::DeflateEncoder;
use flate2::Compression;
use serde::Serialize;
use serde_json::Value;

/// Uncompressed bytes of events per compressed run.
const RUN_BYTES: usize = 256 << 10;
/// Characters of a cut payload kept as its preview.
const PREVIEW: usize = 160;
/// Lines up to this length are always kept whole.
pub const SMALL_LINE: usize = 2048;

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

/// Replaces each payload field of an event's JSON longer than the preview by
/// `{"_truncated": <its JSON length>, "preview": "<its first characters>"}`.
pub fn truncate_payloads(v: &mut Value) {
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

/// Where one capture's events are in the runs, for the page (embedded in its index).
#[derive(Debug, Default, Serialize)]
pub struct DetailIndex {
    /// Index of the first event of each run; run `k` is the `k`-th chunk of this capture.
    pub runs: Vec<usize>,
    /// Events kept with their payloads cut (budget), by event index.
    pub cut: Vec<usize>,
    /// The report's budget for lines over [`SMALL_LINE`], bytes of JSON.
    pub budget: usize,
}

/// Builds the compressed runs of every capture of a report, within one budget.
#[derive(Debug)]
pub struct Details {
    budget: usize,
    /// Bytes of lines over [`SMALL_LINE`] kept whole so far (every capture).
    big: usize,
    /// Compressed bytes of the runs closed so far (every capture).
    used: usize,
    /// The chunk blocks, ready to be written after the page's script.
    blocks: Vec<u8>,
    capture: usize,
    index: DetailIndex,
    open: Option<DeflateEncoder<Vec<u8>>>,
    open_raw: usize,
    /// Events of this capture seen so far.
    events: usize,
    line: Vec<u8>,
}

impl Details {
    /// Runs within `budget` compressed bytes for the whole report.
    pub fn new(budget: usize) -> Self {
        Details {
            budget,
            big: 0,
            used: 0,
            blocks: Vec::new(),
            capture: 0,
            index: DetailIndex {
                budget,
                ..DetailIndex::default()
            },
            open: None,
            open_raw: 0,
            events: 0,
            line: Vec::new(),
        }
    }

    /// Starts the runs of capture number `capture`.
    pub fn begin(&mut self, capture: usize) {
        self.capture = capture;
        self.events = 0;
        self.index = DetailIndex {
            budget: self.budget,
            ..DetailIndex::default()
        };
    }

    /// Keeps one event (its JSON `line`, as `decode --format ndjson` writes it).
    pub fn event(&mut self, line: &[u8]) -> io::Result<()> {
        let i = self.events;
        self.events += 1;
        let whole = line.len() <= SMALL_LINE || self.big.saturating_add(line.len()) <= self.budget;
        let kept: &[u8] = if whole {
            if line.len() > SMALL_LINE {
                self.big += line.len();
            }
            line
        } else {
            self.index.cut.push(i);
            self.line = serde_json::from_slice::<Value>(line)
                .ok()
                .and_then(|mut v| {
                    truncate_payloads(&mut v);
                    serde_json::to_vec(&v).ok()
                })
                .unwrap_or_default();
            &self.line
        };
        if self.open.is_none() {
            self.index.runs.push(i);
            self.open = Some(DeflateEncoder::new(Vec::new(), Compression::fast()));
        }
        if let Some(enc) = self.open.as_mut() {
            enc.write_all(kept)?;
            enc.write_all(b"\n")?;
            self.open_raw += kept.len() + 1;
        }
        if self.open_raw >= RUN_BYTES {
            self.close_run()?;
        }
        Ok(())
    }

    fn close_run(&mut self) -> io::Result<()> {
        let Some(enc) = self.open.take() else {
            return Ok(());
        };
        self.open_raw = 0;
        let z = enc.finish()?;
        self.used += z.len();
        let k = self.index.runs.len().saturating_sub(1);
        write!(
            self.blocks,
            "<script type=\"application/octet-stream\" class=\"sio-chunk\" id=\"c{}-r{k}\">",
            self.capture
        )?;
        self.blocks.extend_from_slice(
            base64::engine::general_purpose::STANDARD
                .encode(&z)
                .as_bytes(),
        );
        self.blocks.extend_from_slice(b"</script>\n");
        Ok(())
    }

    /// Closes the capture's last run; gives its index for the page.
    pub fn end(&mut self) -> io::Result<DetailIndex> {
        self.close_run()?;
        Ok(std::mem::take(&mut self.index))
    }

    /// Compressed bytes of the runs so far.
    pub fn used(&self) -> usize {
        self.used
    }

    /// Bytes of long lines kept whole so far (within the budget).
    pub fn big(&self) -> usize {
        self.big
    }

    /// The chunk blocks of every capture (base64 holds no `<`, so no escaping is needed).
    pub fn into_blocks(self) -> Vec<u8> {
        self.blocks
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::write::DeflateDecoder;

    fn inflate(b64: &str) -> String {
        let z = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap();
        let mut d = DeflateDecoder::new(Vec::new());
        d.write_all(&z).unwrap();
        String::from_utf8(d.finish().unwrap()).unwrap()
    }

    fn runs(blocks: &[u8]) -> Vec<String> {
        let s = String::from_utf8(blocks.to_vec()).unwrap();
        s.split("</script>\n")
            .filter(|b| !b.is_empty())
            .map(|b| inflate(&b[b.find('>').unwrap() + 1..]))
            .collect()
    }

    #[test]
    fn events_are_kept_whole_in_runs_that_inflate_to_their_lines() {
        let mut d = Details::new(64 << 20);
        d.begin(0);
        let big = format!(
            r#"{{"frame":1,"sio":{{"data":["x","{}"]}}}}"#,
            "y".repeat(300_000)
        );
        d.event(big.as_bytes()).unwrap();
        d.event(br#"{"frame":2}"#).unwrap();
        let idx = d.end().unwrap();
        assert_eq!(idx.runs, vec![0, 1]);
        assert!(idx.cut.is_empty());
        let r = runs(&d.into_blocks());
        assert_eq!(r, vec![format!("{big}\n"), "{\"frame\":2}\n".to_string()]);
    }

    #[test]
    fn past_the_budget_long_lines_are_cut_and_short_ones_kept_whole() {
        let mut d = Details::new(6000);
        d.begin(0);
        let big = |f: u64| {
            format!(
                r#"{{"frame":{f},"sio":{{"data":["{}"]}}}}"#,
                "z".repeat(5000)
            )
        };
        d.event(big(1).as_bytes()).unwrap();
        d.event(big(2).as_bytes()).unwrap();
        for _ in 0..400 {
            d.event(br#"{"frame":3,"layer":"tcp","kind":"fin"}"#)
                .unwrap();
        }
        let idx = d.end().unwrap();
        assert_eq!(idx.cut, vec![1]);
        assert_eq!(d.big(), big(1).len());
        let r = runs(&d.into_blocks()).concat();
        let lines: Vec<&str> = r.lines().collect();
        assert_eq!(lines.len(), 402);
        assert_eq!(lines[0], big(1));
        assert!(lines[1].contains(r#""_truncated":5004"#), "{}", lines[1]);
        assert!(lines[1].len() < SMALL_LINE);
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
