//! The libraries' own debug logs as evidence on the packet timeline.
//!
//! Two writers are read ([`parse`]):
//! - node's `debug` module (`DEBUG=engine*,socket.io*`). Without colours (not a TTY) it writes
//!   `new Date().toISOString() + ' ' + namespace + ' ' + message` (debug@4.4.3 `src/node.js:186`,
//!   `getDate`); with colours it writes `  namespace message +Nms` (the same file, `formatArgs`,
//!   lines 167–183), the `+N` being the time since that namespace's previous line, humanised by `ms`.
//!   Multi-line messages (error stacks) continue on lines without a prefix.
//! - Python's `logging` as python-engineio / python-socketio use it (`engineio.server`,
//!   `socketio.server`, … loggers): `LEVEL:logger:message` (the default `basicConfig` format),
//!   optionally after an `asctime` (`2026-12-01 19:44:42,010`).
//!
//! [`attach`] places each line on the capture's timeline (clock offset estimated from matched
//! events) and ties it to the session whose sid (or Socket.IO socket id) it mentions; [`Interleave`]
//! merges the placed lines into `decode`'s event stream as [`LogEvent`]s.

mod attach;
mod event;
mod interleave;
pub(crate) mod iso8601;
mod line;
mod parse;

pub use attach::{attach, Attribution, LogTimeline, PlacedLine};
pub use event::LogEvent;
pub use interleave::Interleave;
pub use line::{LogLine, LogSide, LogWriter};
pub use parse::{parse, parse_limited, ParsedLog, DEFAULT_MAX_LOG_LINE};

/// Largest log file read: lines are kept in memory, so the size bounds memory.
pub const MAX_LOG_BYTES: usize = 256 << 20;
