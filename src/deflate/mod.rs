//! # deflate: WebSocket compression (RFC 7692) and HTTP body inflation
//!
//! WebSocket compression is negotiated in the `Sec-WebSocket-Extensions` header of the `101`
//! response ([`parse_extensions`]). With `permessage-deflate` the first frame of a compressed
//! message has RSV1 set; the payloads of all the message's frames form one raw DEFLATE stream
//! flushed with a sync flush whose `00 00 ff ff` tail was removed. The legacy
//! `x-webkit-deflate-frame` does the same for each frame with RSV1. One [`Inflater`] per
//! direction undoes it, keeping the LZ77 window between messages unless that direction's
//! `*_no_context_takeover` was agreed, and reporting [`InflateError::MissingContext`] instead
//! of guessing when the capture began after the handshake.
//!
//! [`inflate_body`] undoes `Content-Encoding: gzip` / `deflate` on HTTP bodies (engine.io's
//! `httpCompression` on polling responses). Every inflation takes an output limit and stops
//! with [`InflateError::TooLarge`] without allocating past it.
//!
//! zlib's own messages ("invalid block type", "invalid distance code", …) are kept in
//! [`InflateError::Corrupt`]: they are the same words a peer's log prints.

mod bounded;
mod error;
mod inflater;
mod params;

pub use bounded::{inflate_body, BodyEncoding};
pub use error::{ExtensionError, InflateError};
pub use inflater::{Inflater, TRAILER};
pub use params::{
    compression_for, parse_extensions, Compression, DeflateFrame, Extension, Negotiated, Param,
    PerMessageDeflate, Scheme,
};
