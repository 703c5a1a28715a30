//! JSON output: `json` (one document: an array of events) and `ndjson` (one event per line, for
//! `jq` and streaming). The schema is documented in `docs/json-schema.md`.

use std::io::{self, Write};

use super::{json_write, Reporter};
use crate::event::Event;

/// Writes one JSON event per line.
pub struct NdjsonReporter<W: Write> {
    out: W,
}

impl<W: Write> NdjsonReporter<W> {
    /// A reporter writing to `out`.
    pub fn new(out: W) -> Self {
        NdjsonReporter { out }
    }
}

impl<W: Write> Reporter for NdjsonReporter<W> {
    fn event(&mut self, ev: &Event) -> io::Result<()> {
        json_write::to_writer(&mut self.out, ev)?;
        self.out.write_all(b"\n")
    }
    fn finish(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// Writes one JSON document `{"events": [...]}`, streamed (events are not held in memory).
pub struct JsonReporter<W: Write> {
    out: W,
    count: u64,
}

impl<W: Write> JsonReporter<W> {
    /// A reporter writing to `out`.
    pub fn new(out: W) -> Self {
        JsonReporter { out, count: 0 }
    }
}

impl<W: Write> Reporter for JsonReporter<W> {
    fn event(&mut self, ev: &Event) -> io::Result<()> {
        self.out.write_all(if self.count == 0 {
            b"{\"events\":[\n"
        } else {
            b",\n"
        })?;
        self.count += 1;
        json_write::to_writer(&mut self.out, ev)?;
        Ok(())
    }
    fn finish(&mut self) -> io::Result<()> {
        if self.count == 0 {
            self.out.write_all(b"{\"events\":[")?;
        }
        self.out.write_all(b"\n]}\n")?;
        self.out.flush()
    }
}
