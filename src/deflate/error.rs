//! Errors of the deflate layer: one enum for inflation, one for extension negotiation.
//!
//! Inflation errors carry zlib's own message (`invalid block type`, `invalid distance code`, …)
//! because that text is the evidence a user compares with the peer's log (node's `ws` reports
//! the same zlib strings when it closes with 1007 "invalid compressed data").

use thiserror::Error;

/// Why a compressed message, frame or HTTP body could not be inflated.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum InflateError {
    /// The compressed bytes are not valid DEFLATE (or zlib/gzip) data.
    #[error("corrupt compressed data at compressed byte {input_offset}: {zlib}")]
    Corrupt {
        /// zlib's own message, e.g. "invalid block type" or "invalid distance code".
        zlib: String,
        /// How many compressed input bytes the inflater had consumed when it failed
        /// (relative to the start of the message / frame / body).
        input_offset: u64,
    },
    /// The inflated output would exceed the caller's limit (decompression bomb guard).
    #[error("inflated data exceeds the limit of {limit} bytes")]
    TooLarge {
        /// The limit the caller passed, in bytes of inflated output.
        limit: usize,
    },
    /// The message refers to LZ77 history that was never observed (the capture began after the
    /// `101`, or an earlier message of this direction was lost or could not be inflated), so its
    /// content cannot be known. Never reported for data that inflated successfully.
    #[error("the message refers to compression context that was not observed (capture started mid-connection or an earlier message was lost)")]
    MissingContext,
    /// A gzip or zlib body ended before its end-of-stream marker.
    #[error("compressed body truncated after {consumed} bytes")]
    Truncated {
        /// How many compressed bytes were consumed before input ran out.
        consumed: u64,
    },
    /// The gzip or zlib wrapper around a body is malformed (bad magic, bad checksum, …).
    #[error("bad {wrapper} wrapper: {zlib}")]
    BadWrapper {
        /// Which wrapper: "gzip" or "zlib".
        wrapper: &'static str,
        /// zlib's own message (e.g. "incorrect header check", "incorrect data check").
        zlib: String,
    },
}

/// A problem in a `Sec-WebSocket-Extensions` header value (RFC 6455 §9.1, RFC 7692 §7).
///
/// Negotiation problems are reported, not fatal: the parser keeps the best reading of the
/// extension so decoding can go on (lenient decode, strict report).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ExtensionError {
    /// The header value does not follow the `extension *( ";" param )` grammar.
    #[error("malformed extension list near byte {at}: {what}")]
    Syntax {
        /// Byte offset in the header value.
        at: usize,
        /// What was wrong.
        what: &'static str,
    },
    /// A parameter appeared twice in one extension (RFC 7692 §7: "MUST NOT include multiple
    /// extension parameters with the same name").
    #[error("duplicate parameter {param} in {extension}")]
    DuplicateParam {
        /// Extension name.
        extension: String,
        /// Parameter name.
        param: String,
    },
    /// A parameter the extension does not define (RFC 7692 §7: an unknown parameter makes the
    /// negotiation fail).
    #[error("unknown parameter {param} in {extension}")]
    UnknownParam {
        /// Extension name.
        extension: String,
        /// Parameter name.
        param: String,
    },
    /// A parameter that must not carry a value has one, or one that needs a value has none.
    #[error("parameter {param} of {extension}: {what}")]
    BadValue {
        /// Extension name.
        extension: String,
        /// Parameter name.
        param: String,
        /// What was wrong with it.
        what: String,
    },
    /// An extension that uses RSV1 was accepted more than once (RFC 7692 §7: a server accepts at
    /// most one permessage-deflate offer; two RSV1 users conflict, RFC 6455 §9).
    #[error("extension {extension} conflicts with an earlier extension that also uses RSV1")]
    Rsv1Conflict {
        /// The later extension's name.
        extension: String,
    },
}
