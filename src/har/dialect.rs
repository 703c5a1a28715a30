//! Which exporter wrote a HAR, and the unit of its WebSocket message times.

use serde::Serialize;

/// The exporter of a HAR.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Dialect {
    /// Chrome / Chromium DevTools ("Save all as HAR"; `creator.name` `WebInspector`):
    /// `_webSocketMessages[].time` in epoch seconds (DevTools converts CDP's monotonic
    /// timestamps with the request's `wallTime`).
    ChromeDevTools,
    /// Playwright's `recordHar` (`creator.name` `Playwright`): `_webSocketMessages[].time` in
    /// epoch milliseconds.
    Playwright,
    /// Firefox DevTools (`creator.name` `Firefox`): no WebSocket messages in its export.
    Firefox,
    /// Another exporter; message times are read by magnitude.
    Other,
}

impl Dialect {
    /// Recognises the exporter from `log.creator.name`.
    pub fn from_creator(name: &str) -> Dialect {
        let n = name.to_ascii_lowercase();
        if n == "webinspector" || n.contains("chrome") || n.contains("chromium") {
            Dialect::ChromeDevTools
        } else if n.contains("playwright") {
            Dialect::Playwright
        } else if n.contains("firefox") {
            Dialect::Firefox
        } else {
            Dialect::Other
        }
    }

    /// A human name.
    pub fn as_str(self) -> &'static str {
        match self {
            Dialect::ChromeDevTools => "Chrome DevTools",
            Dialect::Playwright => "Playwright",
            Dialect::Firefox => "Firefox",
            Dialect::Other => "unknown exporter",
        }
    }

    /// Seconds per unit of `_webSocketMessages[].time` this dialect writes, or `None` to decide
    /// by magnitude (an epoch in ms is above 1e11, in seconds below).
    pub fn ws_time_unit(self) -> Option<f64> {
        match self {
            Dialect::ChromeDevTools => Some(1.0),
            Dialect::Playwright => Some(1e-3),
            Dialect::Firefox | Dialect::Other => None,
        }
    }
}

/// Seconds since the epoch of a message `time`, given the dialect's unit; `mismatch` is set when
/// the magnitude contradicts the dialect (then the magnitude wins).
pub(crate) fn ws_time_secs(dialect: Dialect, time: f64, mismatch: &mut bool) -> f64 {
    let by_magnitude = if time > 1e11 { 1e-3 } else { 1.0 };
    match dialect.ws_time_unit() {
        Some(u) if u == by_magnitude => time * u,
        Some(_) => {
            *mismatch = true;
            time * by_magnitude
        }
        None => time * by_magnitude,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creators() {
        assert_eq!(
            Dialect::from_creator("WebInspector"),
            Dialect::ChromeDevTools
        );
        assert_eq!(Dialect::from_creator("Playwright"), Dialect::Playwright);
        assert_eq!(Dialect::from_creator("Firefox"), Dialect::Firefox);
        assert_eq!(Dialect::from_creator("Charles Proxy"), Dialect::Other);
    }

    #[test]
    fn message_time_units() {
        let mut m = false;
        assert_eq!(
            ws_time_secs(Dialect::ChromeDevTools, 1796154171.5, &mut m),
            1796154171.5
        );
        assert!(!m);
        assert_eq!(
            ws_time_secs(Dialect::Playwright, 1796154171500.0, &mut m),
            1796154171.5
        );
        assert!(!m);
        assert_eq!(
            ws_time_secs(Dialect::ChromeDevTools, 1796154171500.0, &mut m),
            1796154171.5
        );
        assert!(m);
    }
}
