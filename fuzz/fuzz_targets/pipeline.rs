//! Fuzz the whole pipeline as `explain` and `check --capture` run it: arbitrary bytes as a capture,
//! replayed into the session tracker and the conformance checker, explained, compared leg by leg,
//! and rendered as text, JSON and JUnit. Nothing may panic, hang or allocate without bound, and
//! explaining the same tracker twice gives the same findings.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sioscope::capture::{replay, ReplayOptions};
use sioscope::conformance::{junit, Checker, Deny, Report};
use sioscope::event::Timestamp;
use sioscope::pipeline::PipelineOptions;
use sioscope::report::{ExplainText, ExplainView};
use sioscope::session::SessionTracker;
use sioscope::tcp::ReassemblyLimits;

fuzz_target!(|data: &[u8]| {
    let opts = ReplayOptions {
        pipeline: PipelineOptions {
            eio: None,
            max_message: 1 << 20,
            ..PipelineOptions::default()
        },
        reassembly: ReassemblyLimits {
            max_pending: 1 << 20,
            ..ReassemblyLimits::default()
        },
        ..ReplayOptions::default()
    };
    let mut tracker = SessionTracker::new();
    let mut checker = Checker::new();
    if replay(data, &opts, &mut |ev| {
        tracker.event(&ev);
        checker.event(&ev);
    })
    .is_err()
    {
        return;
    }
    let x = sioscope::explain::explain(&tracker);
    let again = sioscope::explain::explain(&tracker);
    let (a, b) = (
        serde_json::to_string(&x.sessions).unwrap_or_default(),
        serde_json::to_string(&again.sessions).unwrap_or_default(),
    );
    assert_eq!(a, b, "explain is not deterministic");
    let _ = tracker.hops();
    let t0 = tracker.span().map(|(a, _)| a).unwrap_or(Timestamp(0));
    for all in [false, true] {
        let mut text = Vec::new();
        let view = ExplainView {
            all,
            only_abnormal: false,
            width: 80,
        };
        let _ = ExplainText::new(&mut text, false, t0)
            .view(view)
            .write("fuzz", &x);
    }
    let deny: Vec<Deny> = ["abnormal", "handshake-refused"]
        .iter()
        .filter_map(|d| Deny::parse(d).ok())
        .collect();
    let report = Report::build("fuzz", checker, &x, &deny);
    let _ = serde_json::to_string(&report);
    let _ = junit::to_junit(&report);
});
