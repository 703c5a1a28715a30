//! Reporters: sinks of the event stream that write it for people (`pretty`) or programs (`json`,
//! `ndjson`). Each format is one file implementing [`Reporter`]; [`Filter`] selects events the same
//! way for all of them.

mod annotations;
mod explain_text;
mod filter;
pub mod html;
mod json;
pub mod json_write;
mod paint;
mod pretty;
mod seen;
mod sessions_table;

use std::io;

pub use annotations::Annotations;
pub use explain_text::{ExplainText, ExplainView};
pub use filter::{packet_types, Filter, LayerSet};
pub use json::{JsonReporter, NdjsonReporter};
pub use paint::{paint, paint_column};
pub use pretty::{escape_controls, PrettyOptions, PrettyReporter, TimeMode};
pub use seen::Seen;
pub use sessions_table::{write_diff, write_sessions, SessionsOptions};

use crate::event::{Event, Timestamp};

/// A sink of events that writes them somewhere.
pub trait Reporter {
    /// Writes one event.
    fn event(&mut self, ev: &Event) -> io::Result<()>;
    /// Offers `ts` as the origin of the relative time column (the first packet seen, printed or
    /// not): the first origin offered or set stays. Reporters without a time column ignore it.
    fn time_origin(&mut self, ts: Timestamp) {
        let _ = ts;
    }
    /// Writes whatever closes the output (a JSON array's end, a summary).
    fn finish(&mut self) -> io::Result<()>;
}
