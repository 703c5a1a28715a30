//! # ws: WebSocket frames (RFC 6455) for one direction of a connection
//!
//! After `HTTP/1.1 101 Switching Protocols` both directions carry frames:
//!
//! ```text
//! 81 05 48 65 6c 6c 6f                    FIN, text, unmasked, 5 bytes "Hello"
//! 81 85 37 fa 21 3d 7f 9f 4d 51 58        same, masked with key 37 fa 21 3d (client→server)
//! 01 03 48 65 6c  80 02 6c 6f             "Hel" + continuation "lo" (a fragmented message)
//! 89 05 48 65 6c 6c 6f                    ping "Hello"
//! 88 02 03 e8                             close 1000
//! c1 07 f2 48 cd c9 c9 07 00              permessage-deflate: RSV1, "Hello" compressed
//! ```
//!
//! * [`frame`]: the header (FIN, RSV1–3, opcode, MASK, 7/16/64-bit length, masking key) and
//!   [`unmask`];
//! * [`close`]: the Close body (status code, UTF-8 reason) and the code registry;
//! * [`decoder`]: [`WsDecoder`], one per direction, sans-io push/poll, that turns bytes into
//!   [`WsOutput`]s (frames, messages with inflated payloads, control frames, violations) with
//!   absolute byte spans;
//! * [`digest`]: [`FrameDigest`], a fixed-size fingerprint of a frame's payload (relay legs);
//! * [`output`]: the [`WsOutput`] values and [`WsConfig`];
//! * [`error`]: [`WsError`], one variant per rule.
//!
//! Compression (`permessage-deflate`, `x-webkit-deflate-frame`) comes from
//! [`crate::deflate`]: pass the extensions agreed in the `101` in [`WsConfig::extensions`].

pub mod close;
pub mod decoder;
pub mod digest;
pub mod error;
pub mod frame;
pub mod output;

pub use close::{close_code_name, parse_close, ClosePayload};
pub use decoder::WsDecoder;
pub use digest::FrameDigest;
pub use error::WsError;
pub use frame::{parse_header, unmask, FrameHeader, Opcode};
pub use output::{FrameInfo, Payload, WsConfig, WsControl, WsMessage, WsOutput};
