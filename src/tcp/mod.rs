//! TCP: turning captured segments back into the two byte streams of each connection.
//!
//! ## What the wire gives
//!
//! Each segment carries a 32-bit sequence number (RFC 9293 §3.4): the position of its first payload
//! byte in the sender's stream, counted from the initial sequence number (ISN) chosen at the SYN,
//! which itself takes one number, as does the FIN. Numbers wrap at 2³². A capture may hold
//! segments out of order, retransmitted (overlapping data already seen), or missing (loss, or a
//! snap length that cut the packet), and may begin after the handshake.
//!
//! ## What this module gives
//!
//! [`Reassembler`] takes [`crate::capture::link::TcpSegment`]s in capture order and emits
//! [`TcpEvent`]s per connection: `Open` (who is client and server), in-order `Data` with its
//! stream offset, `Gap` (bytes that will never arrive, with their range), `Fin`/`Rst` (who sent
//! it), and `Close`. Each direction's memory for out-of-order data is capped; overflowing the cap
//! skips the hole and reports it as a gap instead of growing.

mod endpoint;
mod order;
mod reassembly;
mod stream;

pub use endpoint::endpoint_text;
pub use order::{OrderCheck, OrderError};

pub use reassembly::{
    ConnInfo, GapReason, Reassembler, ReassemblyLimits, TcpEvent, DEFAULT_MAX_CONNS,
};
