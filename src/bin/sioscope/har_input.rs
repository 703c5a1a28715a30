//! The one place inputs other than pcap/pcapng are recognised: a HAR is detected by content
//! (`sioscope::har::looks_like_har`) and replayed by `sioscope::har::replay`; anything else goes
//! to the capture reader unchanged.

use std::io::{BufRead, BufReader, Read};

use anyhow::Result;

use sioscope::capture::{replay, ReplayOptions};
use sioscope::event::Event;
use sioscope::har::{self, HarSummary};

/// Replays `input` (a capture or a HAR) into `sink`; returns what was read when it was a HAR.
pub fn replay_input(
    input: Box<dyn Read + Send>,
    opts: &ReplayOptions,
    sink: &mut dyn FnMut(Event),
) -> Result<Option<HarSummary>> {
    let mut r = BufReader::with_capacity(1 << 16, input);
    let head = r.fill_buf()?;
    if har::looks_like_har(head) {
        let s = har::replay(r, opts, sink)?;
        eprintln!("{}", describe(&s));
        Ok(Some(s))
    } else {
        replay(r, opts, sink)?;
        Ok(None)
    }
}

/// `read as a HAR 1.2 …`: which dialect was read and what a HAR cannot show.
pub fn describe(s: &HarSummary) -> String {
    format!(
        "read as a HAR 1.2 exported by {} ({}{}): {} entries, {} WebSocket(s) with {} messages, {} failed; a HAR holds no TCP, no WebSocket close frames and no compression{}",
        s.dialect.as_str(),
        s.creator,
        s.browser.as_deref().map(|b| format!(", {b}")).unwrap_or_default(),
        s.entries,
        s.websockets,
        s.ws_messages,
        s.failed,
        if s.time_unit_mismatch { "; WebSocket message times did not match the exporter's unit and were read by magnitude" } else { "" },
    )
}
