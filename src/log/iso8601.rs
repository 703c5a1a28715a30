//! ISO 8601 / RFC 3339 UTC timestamps (`2026-12-01T19:44:42.010Z`, `+01:00` offsets), as HAR
//! `startedDateTime` and node `debug`'s `new Date().toISOString()` write them, and the
//! `2026-12-01 19:44:42,010` form of Python's `logging` `asctime` (taken as UTC).

use crate::event::Timestamp;

/// Parses `YYYY-MM-DD[T ]HH:MM:SS[.fff|,fff][Z|±HH:MM]` into nanoseconds since the epoch.
/// Without a zone the time is taken as UTC. Returns `None` for anything else.
pub fn parse(s: &str) -> Option<Timestamp> {
    let b = s.as_bytes();
    let num = |from: usize, len: usize| -> Option<u64> {
        let d = b.get(from..from + len)?;
        d.iter().try_fold(0u64, |acc, c| {
            c.is_ascii_digit().then(|| acc * 10 + u64::from(c - b'0'))
        })
    };
    let sep = |at: usize, allowed: &[u8]| b.get(at).is_some_and(|c| allowed.contains(c));
    if !(sep(4, b"-") && sep(7, b"-") && sep(10, b"T ") && sep(13, b":") && sep(16, b":")) {
        return None;
    }
    let (y, mo, d) = (num(0, 4)?, num(5, 2)?, num(8, 2)?);
    let (h, mi, sec) = (num(11, 2)?, num(14, 2)?, num(17, 2)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let mut i = 19;
    let mut nanos = 0u64;
    if sep(i, b".,") {
        i += 1;
        let mut digits = 0;
        while let Some(c) = b.get(i).filter(|c| c.is_ascii_digit()) {
            if digits < 9 {
                nanos = nanos * 10 + u64::from(c - b'0');
                digits += 1;
            }
            i += 1;
        }
        if digits == 0 {
            return None;
        }
        nanos *= 10u64.pow(9 - digits);
    }
    let mut offset_s: i64 = 0;
    match b.get(i) {
        Some(b'Z') | None => {}
        Some(c @ (b'+' | b'-')) => {
            let oh = num(i + 1, 2)? as i64;
            let om = if sep(i + 3, b":") {
                num(i + 4, 2)?
            } else {
                num(i + 3, 2)?
            } as i64;
            offset_s = (oh * 3600 + om * 60) * if *c == b'+' { 1 } else { -1 };
        }
        Some(_) => {}
    }
    let days = days_from_civil(y as i64, mo as i64, d as i64);
    let secs = days * 86_400 + (h * 3600 + mi * 60 + sec) as i64 - offset_s;
    let secs = u64::try_from(secs).ok()?;
    Some(Timestamp::from_parts(secs, nanos))
}

/// The length of the timestamp at the start of `s` (for splitting a log line), if it starts with one.
pub fn prefix_len(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    parse(s.get(..19)?)?;
    let mut i = 19;
    if b.get(i).is_some_and(|c| *c == b'.' || *c == b',') {
        i += 1;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
    }
    match b.get(i) {
        Some(b'Z') => i += 1,
        Some(b'+' | b'-') if b.get(i + 1).is_some_and(u8::is_ascii_digit) => {
            i += 6.min(b.len() - i);
        }
        _ => {}
    }
    Some(i)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn har_started_date_time() {
        // 2026-12-01T19:44:42.010Z = 1796154282.010 s
        assert_eq!(
            parse("2026-12-01T19:44:42.010Z"),
            Some(Timestamp(1_796_154_282_010_000_000))
        );
        assert_eq!(
            parse("2026-12-01T20:44:42.010+01:00"),
            Some(Timestamp(1_796_154_282_010_000_000))
        );
        assert_eq!(parse("1970-01-01T00:00:00Z"), Some(Timestamp(0)));
    }

    #[test]
    fn python_asctime_with_comma() {
        assert_eq!(
            parse("2026-12-01 19:44:42,010"),
            Some(Timestamp(1_796_154_282_010_000_000))
        );
    }

    #[test]
    fn rejects_garbage_without_panicking() {
        for s in [
            "",
            "2026",
            "2026-13-01T00:00:00Z",
            "2026-12-01T25:00:00Z",
            "xxxx-xx-xxTxx:xx:xx",
            "2026-12-01T19:44:42.Z",
            "2026-12-01T19:44:42+",
        ] {
            assert_eq!(parse(s), None, "{s}");
        }
        assert_eq!(prefix_len("2026-12-01T19:44:42.010Z engine x"), Some(24));
        assert_eq!(prefix_len("engine x"), None);
    }
}
