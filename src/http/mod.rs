//! HTTP/1.1 as Engine.IO uses it: long-polling `GET`/`POST` requests and their responses, error
//! bodies (`400 {"code":1,"message":"Session ID unknown"}`), and the `101 Switching Protocols`
//! upgrade to WebSocket.
//!
//! ## The format (RFC 9112)
//!
//! A message is a start line (`GET /socket.io/?EIO=4&transport=polling HTTP/1.1` or
//! `HTTP/1.1 200 OK`), header fields, an empty line, then a body whose length is given by
//! `Transfer-Encoding: chunked` (hex-sized chunks ending with a zero-size chunk and optional
//! trailers), else `Content-Length`, else (responses only) everything until the server closes.
//! Responses to `HEAD`, and `1xx`/`204`/`304` responses, have no body (RFC 9112 §6.3).
//! Requests may be pipelined: the n-th response answers the n-th request. After a
//! `101 Switching Protocols` answer to an `Upgrade: websocket` request, both directions carry
//! WebSocket frames from the next byte on.
//!
//! ## The API
//!
//! [`HttpDecoder`] is one direction of one connection, push/poll shaped and sans-io: push bytes,
//! poll [`HttpOutput`]s whose spans are absolute stream offsets. [`query`] splits a request target
//! into its path and decoded query parameters (`EIO`, `transport`, `sid`, `t`, `j`).

mod decoder;

/// How HTTP/1.1 requests begin: a method token and a space (RFC 9110 §9 methods). Used to tell
/// which side of a connection is the client, and whether a connection carries HTTP at all.
pub const REQUEST_STARTS: [&[u8]; 9] = [
    b"GET ",
    b"POST ",
    b"PUT ",
    b"HEAD ",
    b"OPTIONS ",
    b"DELETE ",
    b"PATCH ",
    b"CONNECT ",
    b"TRACE ",
];

/// How HTTP/1.x responses begin.
pub const RESPONSE_START: &[u8] = b"HTTP/1.";
mod error;
pub mod query;

pub use decoder::{
    header_value, HttpDecoder, HttpHead, HttpLimits, HttpMessage, HttpOutput, Role,
    DEFAULT_MAX_HEAD, DEFAULT_MAX_HEADERS,
};
pub use error::HttpError;
