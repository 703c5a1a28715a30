//! Fuzz `annotate` on arbitrary capture bytes: whatever it writes must read back, and annotating
//! its own output again (no new comments) must give the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sioscope::capture::annotate::annotate;

fuzz_target!(|data: &[u8]| {
    let mut first = Vec::new();
    let mut mark = |frame: u64| (frame % 3 == 1).then(|| format!("frame {frame}"));
    if annotate(data, &mut mark, &mut first).is_err() {
        return;
    }
    let mut second = Vec::new();
    annotate(first.as_slice(), &mut |_| None, &mut second).expect("annotate reads its own output");
    assert_eq!(first, second, "annotating annotate's output changed it");
});
