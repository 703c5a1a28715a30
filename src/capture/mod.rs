//! Capture input: pcap and pcapng files (or a stream of them on stdin) turned into TCP segments.
//!
//! ## The formats
//!
//! A **pcap** file is a 24-byte global header (magic `a1b2c3d4` for microsecond or `a1b23c4d` for
//! nanosecond timestamps, in the writer's byte order; the snap length; one link type for the whole
//! file) followed by records of a 16-byte header (seconds, fraction, captured length, original
//! length) and the captured bytes.
//!
//! A **pcapng** file is a sequence of blocks (type, length, body, length again). A Section Header
//! Block (`0a0d0d0a`) starts each section; Interface Description Blocks declare each interface's
//! link type, snap length and timestamp resolution (`if_tsresol`, default microseconds); Enhanced
//! Packet Blocks carry an interface id, a 64-bit timestamp and the packet bytes.
//!
//! Each packet starts with a link-layer header that depends on the link type: Ethernet (with
//! optional 802.1Q VLAN tags), Linux cooked capture SLL and SLL2 (`tcpdump -i any`), BSD/macOS NULL
//! loopback (a 4-byte address family), or raw IP. Below it, IPv4 or IPv6, then TCP.
//!
//! ## The API
//!
//! [`CaptureReader`] streams packets from any [`std::io::Read`] without loading the file: memory
//! is one read buffer whatever the file size. Each packet comes out as a [`Packet`] (frame number,
//! timestamp, link type, bytes); [`link::parse_tcp`] slices it down to a [`link::TcpSegment`].

pub mod annotate;
mod error;
pub mod link;
mod merge;
pub mod open;
mod reader;
pub mod rename;
pub mod repeat;
mod replay;
mod threaded;
pub mod writer;

pub use error::CaptureError;
pub use merge::{MergedReader, PacketSource};
pub use reader::{CaptureFormat, CaptureReader, Packet};
pub use replay::{replay, replay_packets, ReplayOptions, ReplayStats};
pub use threaded::replay_packets_threaded;
