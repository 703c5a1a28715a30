//! Socket.IO: namespaces, events and acks on top of Engine.IO (protocol v4 and v5), and the
//! legacy socket.io 0.9 protocol that predates Engine.IO.
//!
//! # Wire format
//!
//! Each Socket.IO packet is the data of one Engine.IO message packet (`4`):
//!
//! ```text
//! <type>[<attachments>-][<namespace>,][<ack id>][<JSON payload>]
//! 42["hello",{"a":1}]          EIO message 4, SIO EVENT 2 on "/"
//! 42/admin,17["ev"]            EVENT on /admin asking for ack 17
//! 451-["upload",{"_placeholder":true,"num":0}]  BINARY_EVENT; one binary message follows
//! ```
//!
//! Types: 0 CONNECT, 1 DISCONNECT, 2 EVENT, 3 ACK, 4 CONNECT_ERROR (`ERROR` in v4),
//! 5 BINARY_EVENT, 6 BINARY_ACK.
//!
//! **Revisions** ([`Version`]): protocol v4 is socket.io 1.x/2.x over Engine.IO v3 (`EIO=3`);
//! the server connects `/` by itself and a client may put a query in the CONNECT namespace
//! (`0/nsp?x=1,`). Protocol v5 is socket.io 3.x/4.x over Engine.IO v4 (`EIO=4`); the client
//! sends CONNECT for every namespace (`40`), optionally with an auth object or recovery
//! `{"pid":…,"offset":…}`, and the server answers `40{"sid":"…"}`.
//!
//! **Legacy 0.9** (protocol 1, see [`legacy`]) has its own handshake, URL shape and
//! `type:id:endpoint:data` messages.
//!
//! # API
//!
//! [`decode`]/[`decode_with`] and [`encode`] handle one packet; [`AttachmentAssembler`] pairs
//! binary packets with the binary messages that follow them; [`legacy`] decodes 0.9 traffic.
//! Every broken rule is a [`SioError`] variant carrying the offending text.

pub mod binary;
pub mod error;
pub mod json_depth;
pub mod legacy;
pub mod packet;

pub use binary::{AttachmentAssembler, BinaryPacket, Step};
pub use error::SioError;
pub use packet::{
    decode, decode_with, decode_with_depth, encode, kept, Packet, PacketType, Version,
    RESERVED_EVENTS,
};

#[cfg(test)]
mod proptests;
