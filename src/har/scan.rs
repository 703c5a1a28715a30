//! A streaming reader of a HAR's structure: `log.creator`, `log.browser` and each item of
//! `log.entries` are cut out of the input as JSON texts of their own, each parsed on its own by
//! serde_json; an entry longer than the limit is skipped byte by byte and never kept. Every
//! other member (`pages`, `version`, exporters' private keys) is skipped the same way.
//!
//! Only the structure is read here: strings (with their escapes, RFC 8259 §7), brackets and
//! scalars. What an entry means is serde's job ([`super::model`]); a skipped member is checked
//! for its brackets and strings only, not for every JSON rule (a HAR with a garbled `pages`
//! still gives its entries).

use std::io::{BufRead, BufReader, Read};

use serde::de::DeserializeOwned;

use super::error::HarError;
use super::model::{Creator, Entry};

/// Default for the largest entry read (`--max-har-entry`).
pub const DEFAULT_MAX_ENTRY: usize = 128 << 20;
/// Longest `creator` / `browser` object or member name kept; a longer one is skipped.
const MAX_SMALL: usize = 64 << 10;
/// Deepest nesting of brackets followed in a skipped or cut-out value.
const MAX_DEPTH: usize = 1024;

/// One item of `log.entries`.
#[derive(Debug)]
pub(crate) enum Slot {
    /// Read and parsed.
    Read(Box<Entry>),
    /// Longer than the limit: skipped, only its length is known.
    TooLarge {
        /// Its length in the file, in bytes.
        bytes: u64,
    },
}

/// What [`scan`] found.
#[derive(Debug, Default)]
pub(crate) struct Scanned {
    /// `log.creator`.
    pub creator: Option<Creator>,
    /// `log.browser`.
    pub browser: Option<Creator>,
    /// `log.entries`, in file order.
    pub entries: Vec<Slot>,
}

/// Bytes of the input, one at a time, with the offset and the file's size limit.
struct Input<R> {
    r: BufReader<R>,
    offset: u64,
    max_total: u64,
}

/// Where the bytes of a value go: kept up to `cap`, then only counted.
struct Cut {
    buf: Vec<u8>,
    cap: usize,
    len: u64,
}

impl Cut {
    fn new(cap: usize) -> Self {
        Cut {
            buf: Vec::new(),
            cap,
            len: 0,
        }
    }
    fn skip() -> Self {
        Cut::new(0)
    }
    fn push(&mut self, bytes: &[u8]) {
        self.len = self.len.saturating_add(bytes.len() as u64);
        if self.len <= self.cap as u64 {
            self.buf.extend_from_slice(bytes);
        } else if !self.buf.is_empty() {
            self.buf = Vec::new();
        }
    }
    fn kept(&self) -> Option<&[u8]> {
        (self.len <= self.cap as u64).then_some(self.buf.as_slice())
    }
}

impl<R: Read> Input<R> {
    fn syntax(&self, what: &'static str) -> HarError {
        HarError::Syntax {
            what,
            offset: self.offset,
        }
    }

    /// [`Self::syntax`] at the byte just taken.
    fn syntax_back(&self, what: &'static str) -> HarError {
        HarError::Syntax {
            what,
            offset: self.offset.saturating_sub(1),
        }
    }

    /// The next byte without taking it; `None` at the end.
    fn peek(&mut self) -> Result<Option<u8>, HarError> {
        Ok(self.r.fill_buf()?.first().copied())
    }

    fn take(&mut self, n: usize) -> Result<(), HarError> {
        self.r.consume(n);
        self.offset += n as u64;
        if self.offset > self.max_total {
            return Err(HarError::TooLarge {
                limit: self.max_total as usize,
            });
        }
        Ok(())
    }

    fn next(&mut self) -> Result<Option<u8>, HarError> {
        let b = self.peek()?;
        if b.is_some() {
            self.take(1)?;
        }
        Ok(b)
    }

    /// Skips JSON whitespace (RFC 8259 §2: space, tab, LF, CR) and returns the next byte.
    fn ws(&mut self) -> Result<Option<u8>, HarError> {
        loop {
            match self.peek()? {
                Some(b' ' | b'\t' | b'\n' | b'\r') => self.take(1)?,
                b => return Ok(b),
            }
        }
    }

    /// [`Self::ws`], the whitespace kept in `out` (a value's text is cut out as the file has it).
    fn ws_into(&mut self, out: &mut Cut) -> Result<Option<u8>, HarError> {
        loop {
            match self.peek()? {
                Some(b @ (b' ' | b'\t' | b'\n' | b'\r')) => {
                    out.push(&[b]);
                    self.take(1)?
                }
                b => return Ok(b),
            }
        }
    }

    fn expect(&mut self, want: u8, what: &'static str) -> Result<(), HarError> {
        match self.ws()? {
            Some(b) if b == want => self.take(1),
            _ => Err(self.syntax(what)),
        }
    }

    /// The rest of a string whose opening quote was taken, into `out` (closing quote included).
    fn string(&mut self, out: &mut Cut) -> Result<(), HarError> {
        loop {
            let buf = self.r.fill_buf()?;
            if buf.is_empty() {
                return Err(self.syntax("the input ends inside a string"));
            }
            match buf.iter().position(|b| matches!(b, b'"' | b'\\')) {
                None => {
                    let n = buf.len();
                    out.push(buf);
                    self.take(n)?;
                }
                Some(i) => {
                    let quote = buf.get(i) == Some(&b'"');
                    out.push(buf.get(..=i).unwrap_or_default());
                    self.take(i + 1)?;
                    if quote {
                        return Ok(());
                    }
                    // A backslash escapes the next byte (`\"`, `\\`, `\u…`: its hex digits
                    // are plain bytes).
                    match self.next()? {
                        Some(b) => out.push(&[b]),
                        None => return Err(self.syntax("the input ends inside a string")),
                    }
                }
            }
        }
    }

    /// One whole value (object, array, string or scalar) into `out`.
    fn value(&mut self, out: &mut Cut) -> Result<(), HarError> {
        let mut closers: Vec<u8> = Vec::new();
        // Whitespace before the value is not its text; inside it, it is.
        self.ws()?;
        loop {
            let Some(b) = self.ws_into(out)? else {
                return Err(self.syntax("the input ends inside a value"));
            };
            self.take(1)?;
            out.push(&[b]);
            match b {
                b'"' => self.string(out)?,
                b'{' | b'[' => {
                    if closers.len() >= MAX_DEPTH {
                        return Err(self.syntax("nested more than 1024 levels deep"));
                    }
                    closers.push(if b == b'{' { b'}' } else { b']' });
                    continue;
                }
                b'}' | b']' => {
                    if closers.pop() != Some(b) {
                        return Err(self.syntax_back("a bracket closes what it did not open"));
                    }
                }
                b',' | b':' if !closers.is_empty() => continue,
                b if b.is_ascii_alphanumeric() || b == b'-' => {
                    // A number, `true`, `false` or `null`: up to the next delimiter.
                    while let Some(c) = self.peek()? {
                        if !(c.is_ascii_alphanumeric() || matches!(c, b'-' | b'+' | b'.')) {
                            break;
                        }
                        self.take(1)?;
                        out.push(&[c]);
                    }
                }
                _ => return Err(self.syntax_back("not a JSON value")),
            }
            if closers.is_empty() {
                return Ok(());
            }
        }
    }

    /// A member name: `"…"` then `:`. A name too long to keep reads as empty.
    fn name(&mut self) -> Result<String, HarError> {
        self.expect(b'"', "a member name was expected")?;
        let mut cut = Cut::new(MAX_SMALL);
        cut.push(b"\"");
        self.string(&mut cut)?;
        self.expect(b':', "a `:` was expected after a member name")?;
        Ok(cut
            .kept()
            .and_then(|k| serde_json::from_slice::<String>(k).ok())
            .unwrap_or_default())
    }

    /// The members of an object (its `{` next), each handed to `member` by name; `member`
    /// reads the value.
    fn object(
        &mut self,
        what: &'static str,
        member: &mut dyn FnMut(&mut Self, &str) -> Result<(), HarError>,
    ) -> Result<(), HarError> {
        self.expect(b'{', what)?;
        if self.ws()? == Some(b'}') {
            return self.take(1);
        }
        loop {
            let name = self.name()?;
            member(self, &name)?;
            match self.ws()? {
                Some(b',') => self.take(1)?,
                Some(b'}') => return self.take(1),
                _ => return Err(self.syntax("a `,` or `}` was expected")),
            }
        }
    }

    /// A small value parsed as `T`; `None` when it is longer than [`MAX_SMALL`] or not a `T`.
    fn small<T: DeserializeOwned>(&mut self) -> Result<Option<T>, HarError> {
        let mut cut = Cut::new(MAX_SMALL);
        self.value(&mut cut)?;
        Ok(cut.kept().and_then(|k| serde_json::from_slice(k).ok()))
    }

    /// `log.entries`: `[` entry, … `]`.
    fn entries(&mut self, max_entry: usize, out: &mut Vec<Slot>) -> Result<(), HarError> {
        self.expect(b'[', "`log.entries` is not an array")?;
        if self.ws()? == Some(b']') {
            return self.take(1);
        }
        loop {
            let mut cut = Cut::new(max_entry);
            self.value(&mut cut)?;
            out.push(match cut.kept() {
                Some(k) => Slot::Read(Box::new(serde_json::from_slice(k)?)),
                None => Slot::TooLarge { bytes: cut.len },
            });
            match self.ws()? {
                Some(b',') => self.take(1)?,
                Some(b']') => return self.take(1),
                _ => return Err(self.syntax("a `,` or `]` was expected in `log.entries`")),
            }
        }
    }
}

/// Reads a HAR document from `input`: at most `max_total` bytes, entries up to `max_entry`.
pub(crate) fn scan<R: Read>(
    input: R,
    max_total: usize,
    max_entry: usize,
) -> Result<Scanned, HarError> {
    let mut inp = Input {
        r: BufReader::with_capacity(64 << 10, input),
        offset: 0,
        max_total: max_total as u64,
    };
    if inp.r.fill_buf()?.starts_with(b"\xef\xbb\xbf") {
        inp.take(3)?;
    }
    let mut found = Scanned::default();
    let mut log = false;
    inp.object("a HAR is a JSON object", &mut |inp, name| {
        if name != "log" {
            return inp.value(&mut Cut::skip());
        }
        log = true;
        inp.object("`log` is not an object", &mut |inp, name| match name {
            "creator" => inp.small().map(|c| found.creator = c),
            "browser" => inp.small().map(|c| found.browser = c),
            "entries" => inp.entries(max_entry, &mut found.entries),
            _ => inp.value(&mut Cut::skip()),
        })
    })?;
    if inp.ws()?.is_some() {
        return Err(inp.syntax("something follows the HAR's closing `}`"));
    }
    if !log {
        return Err(inp.syntax("the HAR has no `log` member"));
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(doc: &[u8], max_entry: usize) -> Result<Vec<Slot>, HarError> {
        scan(doc, 1 << 20, max_entry).map(|s| s.entries)
    }

    fn url(slot: &Slot) -> &str {
        match slot {
            Slot::Read(e) => &e.request.url,
            Slot::TooLarge { .. } => "(too large)",
        }
    }

    #[test]
    fn entries_are_cut_out_with_strings_that_hold_brackets_quotes_and_escapes() {
        let doc = br#"{"log": {"version": "1.2", "pages": [{"id": "]}\"{"}],
            "creator": {"name": "WebInspector", "version": "537.36"},
            "entries": [
              {"request": {"url": "http://h/a?x=\"]}\\", "method": "GET"}, "time": -1.5e3},
              {"request": {"url": "http://h/b\u0022", "method": "POST"}, "_x": [true, null, {}]}
            ]}, "other": 3}"#;
        let s = scan(&doc[..], 1 << 20, 1 << 20).unwrap();
        assert_eq!(s.creator.unwrap().name, "WebInspector");
        assert!(s.browser.is_none());
        let urls: Vec<&str> = s.entries.iter().map(url).collect();
        assert_eq!(urls, ["http://h/a?x=\"]}\\", "http://h/b\""]);
    }

    #[test]
    fn an_entry_over_the_limit_is_skipped_and_one_at_the_limit_is_read() {
        let small = br#"{"request":{"url":"u"}}"#;
        let big = br#"{"request":{"url":"a much longer url, with \"escapes\" and ]} inside"}}"#;
        let doc = [
            &b"{\"log\":{\"entries\":["[..],
            small,
            b",",
            big,
            b",",
            small,
            b"]}}",
        ]
        .concat();
        let got = entries(&doc, small.len()).unwrap();
        let urls: Vec<&str> = got.iter().map(url).collect();
        assert_eq!(urls, ["u", "(too large)", "u"]);
        assert!(matches!(got[1], Slot::TooLarge { bytes } if bytes == big.len() as u64));
        let all = entries(&doc, big.len()).unwrap();
        assert!(all.iter().all(|s| matches!(s, Slot::Read(_))));
    }

    #[test]
    fn broken_structure_is_a_syntax_error_with_its_offset() {
        for (doc, offset) in [
            (&b"{\"log\": 3}"[..], 8),
            (b"{\"log\"", 6),
            (b"[1]", 0),
            (b"{\"log\": {\"entries\": [{\"a\": [}]}}", 28),
            (b"{\"log\": {}} x", 12),
            (b"{\"x\": 1}", 8),
            (b"{\"log\": {\"entries\": [\"unterminated]}}", 37),
        ] {
            match scan(doc, 1 << 20, 1 << 20) {
                Err(HarError::Syntax { offset: o, what }) => {
                    assert_eq!(o, offset, "{what} in {:?}", String::from_utf8_lossy(doc))
                }
                other => panic!("{other:?} for {:?}", String::from_utf8_lossy(doc)),
            }
        }
    }

    #[test]
    fn an_entry_that_is_not_an_entry_is_serdes_error() {
        let r = entries(br#"{"log": {"entries": [{"request": 1}]}}"#, 1 << 20);
        assert!(matches!(r, Err(HarError::Json(_))), "{r:?}");
    }

    #[test]
    fn the_file_size_limit_holds_while_streaming() {
        let doc = br#"{"log": {"entries": [], "pad": "0123456789"}}"#;
        assert!(scan(&doc[..], doc.len(), 16).is_ok());
        assert!(matches!(
            scan(&doc[..], doc.len() - 1, 16),
            Err(HarError::TooLarge { .. })
        ));
    }

    #[test]
    fn nesting_is_bounded() {
        let mut doc = b"{\"log\": {\"pages\": ".to_vec();
        doc.extend(std::iter::repeat_n(b'[', 5000));
        assert!(matches!(
            scan(&doc[..], 1 << 20, 16),
            Err(HarError::Syntax { what, .. }) if what.contains("1024")
        ));
    }

    #[test]
    fn a_byte_order_mark_is_skipped() {
        let s = scan(&b"\xef\xbb\xbf{\"log\":{}}"[..], 1 << 20, 16).unwrap();
        assert!(s.entries.is_empty());
    }
}
