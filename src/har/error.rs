//! Errors of the HAR frontend.

use thiserror::Error;

/// Why a HAR could not be read.
#[derive(Debug, Error)]
pub enum HarError {
    /// Reading the input failed.
    #[error("reading the HAR: {0}")]
    Io(#[from] std::io::Error),
    /// Larger than [`super::MAX_HAR_BYTES`].
    #[error(
        "the HAR is larger than {limit} bytes; its entries are all kept to be put in time order, \
         so it is refused"
    )]
    TooLarge {
        /// The limit.
        limit: usize,
    },
    /// Not shaped like JSON with a `log` object, found while reading the structure.
    #[error("not a HAR 1.2 document: {what} (at byte {offset})")]
    Syntax {
        /// What was wrong.
        what: &'static str,
        /// Where, counted from the file's first byte (after a byte order mark).
        offset: u64,
    },
    /// Not JSON, or not shaped like HAR 1.2 (`log.entries`).
    #[error("not a HAR 1.2 document: {0}")]
    Json(#[from] serde_json::Error),
}
