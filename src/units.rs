//! Durations and byte sizes, parsed and printed one way for every command and flag.
//!
//! - A **duration** is a number with a unit, as humantime reads it (`250ms`, `1.5s`, `30s`, `1m`,
//!   `1h 30m`); a bare number is seconds (`5`, `0.5`), as `doctor --timeout 5` always took.
//! - A **size** is a whole number of bytes with an optional unit: `k`/`K`/`KiB` = 1024,
//!   `M`/`MiB` = 1024², `G`/`GiB` = 1024³ (as ripgrep's `--max-filesize`), `kB`/`MB`/`GB` = powers of
//!   1000, `B` or nothing = bytes. A negative size is refused with that word, not a parser's.
//!
//! Printing is the mirror: [`human_duration`] gives `1.998 s` or `250 ms`, never a debug float such
//! as `1.99977115s`; [`human_size`] gives `64 MiB` or `1500 B`.

use std::fmt;
use std::time::Duration;

/// Why a duration or a size was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnitError {
    /// Not a duration at all.
    #[error("{0:?} is not a duration (e.g. 250ms, 1.5s, 30s, 1m; a bare number is seconds)")]
    NotDuration(String),
    /// Not a size at all.
    #[error("{0:?} is not a size (e.g. 4096, 1k, 64KiB, 64MiB, 10MB)")]
    NotSize(String),
    /// A size or duration below zero.
    #[error("{0:?} is negative; give a size or duration of 0 or more")]
    Negative(String),
    /// A size whose unit is unknown.
    #[error("{value:?}: unknown size unit {unit:?} (B, k/KiB, M/MiB, G/GiB, kB, MB, GB)")]
    UnknownUnit {
        /// The whole value as given.
        value: String,
        /// The unit part.
        unit: String,
    },
    /// Too large to represent.
    #[error("{0:?} is too large")]
    TooLarge(String),
}

/// Parses a duration: `250ms`, `1.5s`, `30s`, `1m`, `1h 30m`, or a bare number of seconds.
pub fn parse_duration(s: &str) -> Result<Duration, UnitError> {
    let t = s.trim();
    if t.starts_with('-') {
        return Err(UnitError::Negative(t.to_string()));
    }
    if !t.is_empty() && t.chars().all(|c| c.is_ascii_digit() || c == '.') {
        let secs: f64 = t
            .parse()
            .map_err(|_| UnitError::NotDuration(t.to_string()))?;
        return Duration::try_from_secs_f64(secs).map_err(|_| UnitError::TooLarge(t.to_string()));
    }
    humantime::parse_duration(t).map_err(|_| UnitError::NotDuration(t.to_string()))
}

/// Parses a size in bytes: `4096`, `1k`, `64KiB`, `64MiB`, `10MB`, `2G`.
pub fn parse_size(s: &str) -> Result<u64, UnitError> {
    let t = s.trim();
    if t.starts_with('-') {
        return Err(UnitError::Negative(t.to_string()));
    }
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    if num.is_empty() {
        return Err(UnitError::NotSize(t.to_string()));
    }
    let v: u64 = num
        .parse()
        .map_err(|_| UnitError::TooLarge(t.to_string()))?;
    let mul: u64 = match unit.trim() {
        "" | "b" | "B" => 1,
        "k" | "K" | "KiB" | "kiB" | "kib" => 1 << 10,
        "M" | "m" | "MiB" | "mib" => 1 << 20,
        "G" | "g" | "GiB" | "gib" => 1 << 30,
        "kB" | "KB" | "kb" => 1_000,
        "MB" | "mb" => 1_000_000,
        "GB" | "gb" => 1_000_000_000,
        u => {
            return Err(UnitError::UnknownUnit {
                value: t.to_string(),
                unit: u.to_string(),
            })
        }
    };
    v.checked_mul(mul)
        .ok_or_else(|| UnitError::TooLarge(t.to_string()))
}

/// [`parse_size`] as a `usize` (for in-memory limits).
pub fn parse_size_usize(s: &str) -> Result<usize, UnitError> {
    let v = parse_size(s)?;
    usize::try_from(v).map_err(|_| UnitError::TooLarge(s.trim().to_string()))
}

/// A duration as people read it: `250 ms` under a second, `1.998 s` under a minute, `2 min 5 s`
/// beyond.
pub fn human_duration(d: Duration) -> String {
    HumanDuration(d).to_string()
}

/// A [`Duration`] that displays as [`human_duration`] does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HumanDuration(pub Duration);

impl fmt::Display for HumanDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.0;
        if d < Duration::from_millis(1) {
            write!(f, "{} µs", d.as_micros())
        } else if d < Duration::from_secs(1) {
            write!(f, "{} ms", d.as_millis())
        } else if d < Duration::from_secs(60) {
            write!(f, "{:.3} s", d.as_secs_f64())
        } else {
            let s = d.as_secs();
            let (h, m, s) = (s / 3600, (s / 60) % 60, s % 60);
            if h > 0 {
                write!(f, "{h} h {m} min {s} s")
            } else {
                write!(f, "{m} min {s} s")
            }
        }
    }
}

/// A size as people read it: `1500 B`, `64 KiB`, `1.5 MiB`.
pub fn human_size(n: u64) -> String {
    const UNITS: [(&str, u64); 3] = [("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)];
    for (name, size) in UNITS {
        if n >= size {
            return if n % size == 0 {
                format!("{} {name}", n / size)
            } else {
                format!("{:.1} {name}", n as f64 / size as f64)
            };
        }
    }
    format!("{n} B")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_with_units_and_bare_seconds() {
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("1m"), Ok(Duration::from_secs(60)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("1h 30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("5"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_duration("0.5"), Ok(Duration::from_millis(500)));
    }

    #[test]
    fn durations_refused_in_words() {
        assert_eq!(
            parse_duration("-1s"),
            Err(UnitError::Negative("-1s".into()))
        );
        assert!(matches!(
            parse_duration("10parsecs"),
            Err(UnitError::NotDuration(_))
        ));
        assert!(matches!(parse_duration(""), Err(UnitError::NotDuration(_))));
        assert!(matches!(
            parse_duration("1..2"),
            Err(UnitError::NotDuration(_))
        ));
    }

    #[test]
    fn sizes_with_binary_and_decimal_units() {
        assert_eq!(parse_size("4096"), Ok(4096));
        assert_eq!(parse_size("1k"), Ok(1024));
        assert_eq!(parse_size("1K"), Ok(1024));
        assert_eq!(parse_size("64KiB"), Ok(64 << 10));
        assert_eq!(parse_size("64MiB"), Ok(64 << 20));
        assert_eq!(parse_size("64M"), Ok(64 << 20));
        assert_eq!(parse_size("2G"), Ok(2 << 30));
        assert_eq!(parse_size("10kB"), Ok(10_000));
        assert_eq!(parse_size("10MB"), Ok(10_000_000));
        assert_eq!(parse_size("100B"), Ok(100));
        assert_eq!(parse_size(" 7 "), Ok(7));
    }

    #[test]
    fn negative_max_message_is_refused_as_negative() {
        assert_eq!(parse_size("-1"), Err(UnitError::Negative("-1".into())));
        assert_eq!(
            UnitError::Negative("-1".into()).to_string(),
            "\"-1\" is negative; give a size or duration of 0 or more"
        );
    }

    #[test]
    fn sizes_refused_in_words() {
        assert!(matches!(parse_size("k"), Err(UnitError::NotSize(_))));
        assert!(matches!(
            parse_size("3parsecs"),
            Err(UnitError::UnknownUnit { .. })
        ));
        assert!(matches!(
            parse_size("99999999999G"),
            Err(UnitError::TooLarge(_))
        ));
        assert!(matches!(
            parse_size("99999999999999999999999"),
            Err(UnitError::TooLarge(_))
        ));
    }

    #[test]
    fn durations_print_for_people() {
        assert_eq!(
            human_duration(Duration::from_nanos(1_999_771_150)),
            "2.000 s"
        );
        assert_eq!(human_duration(Duration::from_millis(250)), "250 ms");
        assert_eq!(human_duration(Duration::from_micros(40)), "40 µs");
        assert_eq!(human_duration(Duration::from_secs(125)), "2 min 5 s");
        assert_eq!(human_duration(Duration::from_secs(3725)), "1 h 2 min 5 s");
    }

    #[test]
    fn sizes_print_for_people() {
        assert_eq!(human_size(1500), "1.5 KiB");
        assert_eq!(human_size(64 << 20), "64 MiB");
        assert_eq!(human_size(12), "12 B");
    }
}
