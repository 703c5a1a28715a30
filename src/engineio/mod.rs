//! Engine.IO: the transport layer under Socket.IO (revisions 2, 3 and 4).
//!
//! # Wire format
//!
//! An Engine.IO **packet** is a type digit and optional data:
//!
//! | type | name    | use                                                              |
//! |------|---------|------------------------------------------------------------------|
//! | 0    | open    | server → client, JSON handshake (`sid`, `upgrades`, `pingInterval`, `pingTimeout`, v4 `maxPayload`) |
//! | 1    | close   | close the session                                                |
//! | 2    | ping    | heartbeat; `2probe` probes a new WebSocket during the upgrade    |
//! | 3    | pong    | heartbeat answer; `3probe`                                       |
//! | 4    | message | application data (a Socket.IO packet when Socket.IO runs on top) |
//! | 5    | upgrade | the client switches to the probed WebSocket                      |
//! | 6    | noop    | ends a pending poll during the upgrade                           |
//!
//! **Revisions** are named by the `EIO=` query parameter ([`Version`]):
//! v2 (early engine.io: text only, the client pings), v3 (Socket.IO 1.x/2.x: adds binary, the
//! client pings), v4 (Socket.IO 3+: the server pings, new payload framing).
//!
//! **Transports**:
//! - *WebSocket*: one packet per WebSocket message ([`decode_text`], [`decode_binary`]). Binary
//!   messages are raw message data in v4 and `<type byte><data>` in v3.
//! - *HTTP long-polling*: a GET response or POST body holds a **payload** of several packets
//!   ([`decode_payload`]): `\x1e`-separated in v4, `<len>:<packet>` with UTF-16 lengths in
//!   v2/v3, the XHR2 binary framing for v3 `application/octet-stream` bodies, and JSONP
//!   wrappers (`___eio[N]("…");`, `d=…`).
//!
//! # API
//!
//! Decoders take bytes and return typed values or an [`EioError`] naming the rule broken and
//! the offset; payload decoding goes on after a bad packet where the framing allows. Encoders
//! ([`encode_packet`], [`encode_payload`]) write the same wire forms back. The server's HTTP
//! error bodies (`{"code":1,"message":"Session ID unknown"}`) parse with
//! [`parse_server_error`].

pub mod error;
pub mod handshake;
pub mod jsonp;
pub mod packet;
pub mod payload;
pub mod payload_v3;
pub mod server_error;
pub mod version;

pub use error::EioError;
pub use handshake::Handshake;
pub use packet::{decode_binary, decode_text, encode_packet, Data, Packet, PacketType, WsMessage};
pub use payload::{decode_payload, encode_payload, PayloadItem, RECORD_SEPARATOR};
pub use server_error::{parse_server_error, ServerError, ServerErrorCode, Transport};
pub use version::{UnknownVersion, Version};

#[cfg(test)]
mod proptests;
