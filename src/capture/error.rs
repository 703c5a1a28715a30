//! Errors that make a capture unusable (as opposed to packet-level anomalies, which are events).

use thiserror::Error;

/// Why a capture could not be read (or could not be read further).
#[derive(Debug, Error)]
pub enum CaptureError {
    /// The input is empty.
    #[error("the capture is empty (0 bytes)")]
    Empty,
    /// The first bytes are neither a pcap nor a pcapng magic number.
    #[error("not a pcap or pcapng capture{what} (it starts with {start})")]
    NotACapture {
        /// The first bytes, in hex.
        start: String,
        /// What it looks like instead (`; it looks like a HAR file …`), or empty.
        what: String,
    },
    /// The file header itself is cut short or malformed.
    #[error("the capture's file header is truncated or corrupt ({detail})")]
    BadHeader {
        /// What the parser said.
        detail: String,
    },
    /// A record claims more bytes than any real packet (hostile or corrupt length field).
    #[error("corrupt record after packet {after_frame}: a record length larger than {limit} bytes (bogus snaplen or record length)")]
    RecordTooLarge {
        /// The last good frame number before the bad record.
        after_frame: u64,
        /// The largest record this reader accepts.
        limit: usize,
    },
    /// The structure of a block or record is invalid.
    #[error("corrupt capture after packet {after_frame}: {detail}")]
    Corrupt {
        /// The last good frame number before the bad block.
        after_frame: u64,
        /// What the parser said.
        detail: String,
    },
    /// One of several merged inputs failed.
    #[error("{name}: {source}")]
    InInput {
        /// The input, as named on the command line.
        name: String,
        /// What went wrong in it.
        source: Box<CaptureError>,
    },
    /// Reading the underlying file or pipe failed.
    #[error("reading the capture failed: {0}")]
    Io(#[from] std::io::Error),
}
