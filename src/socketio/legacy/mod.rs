//! Legacy socket.io 0.9 (protocol 1), which predates Engine.IO.
//!
//! **Handshake**: `GET /socket.io/1/?t=…` answers `sid:heartbeat:close:transports`, the two
//! timeouts in seconds (empty when disabled):
//!
//! ```text
//! 4d4f185e96a7b:15:10:websocket,xhr-polling
//! ```
//!
//! **Transports** then live at `/socket.io/1/<transport>/<sid>` (`websocket`, `flashsocket`,
//! `htmlfile`, `xhr-polling`, `jsonp-polling`), see [`parse_path`].
//!
//! **Messages** are `type:id:endpoint[:data]`; a trailing `+` on the id asks for an ack
//! carrying data:
//!
//! ```text
//! 0::/chat                      disconnect (endpoint /chat)
//! 1::/chat:?token=1             connect, with a query
//! 2::                           heartbeat
//! 3:1::hello                    message "hello", id 1
//! 4:::{"a":1}                   JSON message
//! 5:2+::{"name":"ev","args":[1]}   event, ack with data requested
//! 6:::4+["a"]                   ack of message 4 with arguments
//! 7:::reason+advice             error (indexes: 0 transport not supported, 1 client not
//!                               handshaken, 2 unauthorized; advice 0 reconnect)
//! 8::                           noop
//! ```
//!
//! **Polling bodies** with several messages frame each as `\u{fffd}<len>\u{fffd}<message>`,
//! `len` counted in UTF-16 code units; a body with one message is just that message.
//!
//! [`message`] holds the message codec, [`transport`] the handshake, URL and polling framing.

pub mod message;
pub mod transport;

pub use message::{decode_message, encode_message, LegacyKind, LegacyMessage, LegacyPayload};
pub use transport::{
    decode_frames, encode_frames, is_handshake_path, parse_handshake, parse_path, LegacyFrame,
    LegacyHandshake, FRAME, TRANSPORTS,
};
