//! Fault injection: what `--fault` can do to the bytes a connection carries.
//!
//! Every fault is off unless asked for. They act on the relayed bytes, never on the copy the
//! decoders see (the decoders see exactly what was forwarded), and each act is reported as a
//! [`super::shaper::Injected`] note that ends up in the live output and, with `--record`, as a pcapng packet
//! comment (`opt_comment`) that `sioscope explain` shows as "injected".
//!
//! | fault | what it does |
//! |---|---|
//! | `corrupt-deflate[:N]` | the Nth compressed (RSV1) client→server data frame of the whole run gets its first payload byte's deflate block type set to `11` (reserved, RFC 1951 §3.2.3: "11 - reserved (error)"), so the server's inflater fails with "invalid block type" |
//! | `block-websocket` | HTTP passes; after a `101 Switching Protocols` every byte of that connection (both ways) is dropped |
//! | `delay:<time>` | every chunk waits this long before it is forwarded |
//! | `drop-after:<bytes\|time>` | each connection is cut (both sides closed) after this many bytes (both directions together) or this long |
//! | `stall-pongs` | client→server Engine.IO pongs are held back for good, so the server's ping times out: over WebSocket the pong message (`3`, uncompressed); over long-polling the POST whose payload holds a pong, and everything after it on that connection ([`super::poll_stall`]) |
//!
//! The shapers that apply them to the byte streams are in [`super::shaper`].

use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Duration;

/// Durations are parsed as everywhere else, by [`crate::units`]; re-exported under the old path.
pub use crate::units::parse_duration;
use crate::units::parse_size;

/// One `--fault`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Corrupt the Nth (1-based) compressed client→server data frame of the run.
    CorruptDeflate {
        /// Which compressed frame, counted over all connections.
        nth: u64,
    },
    /// Drop every byte after a `101 Switching Protocols`.
    BlockWebsocket,
    /// Hold every chunk this long before forwarding it.
    Delay(Duration),
    /// Cut each connection after this many bytes (both directions together).
    DropAfterBytes(u64),
    /// Cut each connection after this long.
    DropAfterTime(Duration),
    /// Hold client→server Engine.IO pongs (WebSocket messages, and polling POSTs with what follows).
    StallPongs,
}

/// Why a `--fault` value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FaultError {
    /// Not one of the known faults.
    #[error("unknown fault {0:?} (known: corrupt-deflate[:N], block-websocket, delay:<time>, drop-after:<bytes|time>, stall-pongs)")]
    Unknown(String),
    /// A value that does not parse.
    #[error("fault {fault}: {why}")]
    BadValue {
        /// The fault.
        fault: String,
        /// What is wrong.
        why: String,
    },
}

impl std::str::FromStr for Fault {
    type Err = FaultError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (name, arg) = match s.split_once(':') {
            Some((n, a)) => (n, Some(a)),
            None => (s, None),
        };
        let bad = |why: String| FaultError::BadValue {
            fault: name.to_string(),
            why,
        };
        match (name, arg) {
            ("corrupt-deflate", None) => Ok(Fault::CorruptDeflate { nth: 1 }),
            ("corrupt-deflate", Some(a)) => match a.parse::<u64>() {
                Ok(n) if n >= 1 => Ok(Fault::CorruptDeflate { nth: n }),
                _ => Err(bad(format!("{a:?} is not a frame number (1, 2, ...)"))),
            },
            ("block-websocket", None) => Ok(Fault::BlockWebsocket),
            ("stall-pongs", None) => Ok(Fault::StallPongs),
            ("delay", Some(a)) => parse_duration(a)
                .map(Fault::Delay)
                .map_err(|e| bad(e.to_string())),
            ("drop-after", Some(a)) => {
                if a.ends_with(|c: char| c.is_ascii_digit())
                    || a.to_ascii_lowercase().ends_with('b')
                {
                    parse_size(a)
                        .map(Fault::DropAfterBytes)
                        .map_err(|e| bad(e.to_string()))
                } else {
                    parse_duration(a)
                        .map(Fault::DropAfterTime)
                        .map_err(|e| bad(e.to_string()))
                }
            }
            ("delay" | "drop-after", None) => Err(bad(
                "needs a value, e.g. delay:200ms, drop-after:4KiB or drop-after:2s".into(),
            )),
            ("block-websocket" | "stall-pongs", Some(_)) => Err(bad("takes no value".into())),
            _ => Err(FaultError::Unknown(s.to_string())),
        }
    }
}

impl std::fmt::Display for Fault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Fault::CorruptDeflate { nth } => write!(f, "corrupt-deflate:{nth}"),
            Fault::BlockWebsocket => write!(f, "block-websocket"),
            Fault::Delay(d) => write!(f, "delay:{}ms", d.as_millis()),
            Fault::DropAfterBytes(n) => write!(f, "drop-after:{n}"),
            Fault::DropAfterTime(d) => write!(f, "drop-after:{}ms", d.as_millis()),
            Fault::StallPongs => write!(f, "stall-pongs"),
        }
    }
}

/// The faults of a run, in the shape the relay asks about them.
#[derive(Debug, Clone, Default)]
pub struct FaultPlan {
    /// `corrupt-deflate`: the frame number to corrupt.
    pub corrupt_nth: Option<u64>,
    /// `block-websocket`.
    pub block_websocket: bool,
    /// `delay`.
    pub delay: Option<Duration>,
    /// `drop-after` in bytes.
    pub drop_after_bytes: Option<u64>,
    /// `drop-after` in time.
    pub drop_after_time: Option<Duration>,
    /// `stall-pongs`.
    pub stall_pongs: bool,
    /// Compressed client frames seen so far over the whole run (for `corrupt-deflate:N`).
    pub compressed_seen: Arc<AtomicU64>,
}

impl FaultPlan {
    /// Gathers the faults (a later one of the same kind wins).
    pub fn new(faults: &[Fault]) -> Self {
        let mut p = FaultPlan::default();
        for f in faults {
            match f {
                Fault::CorruptDeflate { nth } => p.corrupt_nth = Some(*nth),
                Fault::BlockWebsocket => p.block_websocket = true,
                Fault::Delay(d) => p.delay = Some(*d),
                Fault::DropAfterBytes(n) => p.drop_after_bytes = Some(*n),
                Fault::DropAfterTime(d) => p.drop_after_time = Some(*d),
                Fault::StallPongs => p.stall_pongs = true,
            }
        }
        p
    }

    /// True when a fault needs to look at the bytes (and the relay must use the shapers).
    pub fn inspects_bytes(&self) -> bool {
        self.corrupt_nth.is_some()
            || self.block_websocket
            || self.stall_pongs
            || self.drop_after_bytes.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_faults() {
        assert_eq!(
            "corrupt-deflate".parse(),
            Ok(Fault::CorruptDeflate { nth: 1 })
        );
        assert_eq!(
            "corrupt-deflate:3".parse(),
            Ok(Fault::CorruptDeflate { nth: 3 })
        );
        assert_eq!(
            "delay:200ms".parse(),
            Ok(Fault::Delay(Duration::from_millis(200)))
        );
        assert_eq!("drop-after:4KiB".parse(), Ok(Fault::DropAfterBytes(4096)));
        assert_eq!("drop-after:100".parse(), Ok(Fault::DropAfterBytes(100)));
        assert_eq!(
            "drop-after:1.5s".parse(),
            Ok(Fault::DropAfterTime(Duration::from_millis(1500)))
        );
        assert!("corrupt-deflate:0".parse::<Fault>().is_err());
        assert!("delay".parse::<Fault>().is_err());
        assert!("explode".parse::<Fault>().is_err());
        assert!("delay:10parsecs".parse::<Fault>().is_err());
    }
}
