//! HAR 1.2 (HTTP Archive) as a capture: what a browser's DevTools export holds, replayed through
//! the same pipeline as a pcap.
//!
//! ## What a HAR gives
//!
//! HAR 1.2 (<http://www.softwareishard.com/blog/har-12-spec/>) lists `log.entries`: one HTTP
//! request and its response each, with `startedDateTime`, `timings`, headers, the request body in
//! `request.postData.text` and the response body in `response.content.text` ("`encoding` … e.g.
//! `base64`", HAR 1.2 §content). Browsers add private fields: Chrome DevTools puts the messages of
//! a WebSocket in `_webSocketMessages` (`type` send/receive, `opcode`, `data`, `time`) and a
//! network error in `response._error` (`net::ERR_CONNECTION_REFUSED`, status 0).
//!
//! ## What it cannot give
//!
//! No TCP (no FIN, RST, gaps, ports of the client), no WebSocket close frames or their codes
//! (DevTools does not export them), no permessage-deflate (messages are exported inflated).
//! [`replay`] therefore never emits a TCP FIN/RST or a close frame it did not see, and says so
//! in its [`HarSummary`]; `explain` states what it cannot know instead of guessing
//! (`explain::har`).
//!
//! ## How it is replayed
//!
//! Each entry becomes one connection of the pipeline: the request and response are written back
//! as HTTP/1.1 messages (the HAR's headers, `Content-Length` set to the body's real length, no
//! `Content-Encoding`: HAR bodies are decoded), a WebSocket entry as its 101 exchange followed
//! by one frame per message (client frames masked with a zero key, the extension header dropped
//! because the data is already inflated). All records are put on one timeline by time; their
//! place on it is the "frame" number events cite.
//!
//! ## How it is read
//!
//! Streaming: `log.entries` are cut out of the file one at a time and parsed each on its own, so
//! the raw file is never held whole and one entry costs at most `--max-har-entry` bytes of text
//! ([`HarLimits`]); a longer entry is skipped and named by a `har-entry-too-large` anomaly.

mod dialect;
mod error;
mod model;
mod replay;
mod scan;

pub use dialect::Dialect;
pub use error::HarError;
pub use replay::{replay, HarSummary, Refused};
pub use scan::DEFAULT_MAX_ENTRY;

/// Largest HAR accepted: its entries are read one at a time (each at most
/// [`HarLimits::max_entry`] bytes, see `scan`), but all are kept until the end to be put in time
/// order, so the file's size bounds memory.
pub const MAX_HAR_BYTES: usize = 512 << 20;

/// How much of a HAR is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HarLimits {
    /// Longest entry (its JSON text in the file) read; a longer one is skipped as a
    /// `har-entry-too-large` anomaly without being kept (`--max-har-entry`).
    pub max_entry: usize,
}

impl Default for HarLimits {
    fn default() -> Self {
        HarLimits {
            max_entry: DEFAULT_MAX_ENTRY,
        }
    }
}

/// True when `prefix` (the first bytes of an input) looks like a HAR document: a JSON object
/// whose first key is `"log"`, as every HAR 1.2 writer puts it.
pub fn looks_like_har(prefix: &[u8]) -> bool {
    let mut rest = prefix
        .strip_prefix(b"\xef\xbb\xbf".as_slice())
        .unwrap_or(prefix)
        .iter()
        .skip_while(|b| b.is_ascii_whitespace());
    if rest.next() != Some(&b'{') {
        return false;
    }
    let after: Vec<u8> = rest
        .skip_while(|b| b.is_ascii_whitespace())
        .take(5)
        .copied()
        .collect();
    after == b"\"log\""
}

#[cfg(test)]
mod tests {
    use super::looks_like_har;

    #[test]
    fn har_is_recognised_by_its_first_key() {
        assert!(looks_like_har(b"{\n  \"log\": {"));
        assert!(looks_like_har(b"\xef\xbb\xbf{\"log\":{}}"));
        assert!(!looks_like_har(b"\xd4\xc3\xb2\xa1"));
        assert!(!looks_like_har(b"{\"events\": []}"));
        assert!(!looks_like_har(b""));
    }
}
