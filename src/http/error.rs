//! HTTP framing errors: what made a direction undecodable.

use thiserror::Error;

/// A violation of HTTP/1.1 framing (RFC 9112). After one, the direction stops being decoded.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum HttpError {
    /// The start line or a header field does not parse.
    #[error("malformed HTTP head: {0}")]
    BadHead(String),
    /// The head (or a chunked body's trailer section) is longer than the limit
    /// (`--max-header-size`).
    #[error("HTTP head longer than {0} bytes")]
    HeadTooLong(usize),
    /// The head has more header fields than the limit (`--max-header-count`).
    #[error("HTTP head with more than {0} header fields")]
    TooManyHeaders(usize),
    /// `Content-Length` is not a number, or several disagree (RFC 9112 §6.3 item 5).
    #[error("invalid Content-Length {0:?}")]
    BadContentLength(String),
    /// A chunk-size line of a chunked body is not hexadecimal (RFC 9112 §7.1).
    #[error("invalid chunk size line {0:?}")]
    BadChunk(String),
    /// The stream ended inside a message.
    #[error("the stream ended inside an HTTP message ({0})")]
    Truncated(&'static str),
    /// Bytes in the stream were lost (capture gap), so message boundaries are unknown.
    #[error("{0} bytes missing from the stream; HTTP decoding of this direction stops")]
    Gap(u64),
}
