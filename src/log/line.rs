//! One log record.

use serde::Serialize;

use crate::event::Timestamp;

/// Which library format a line was read as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LogWriter {
    /// node `debug`, ISO timestamp form (colours off).
    NodeDebugIso,
    /// node `debug`, `+Nms` form (colours on; escapes stripped).
    NodeDebugRelative,
    /// Python `logging` (python-engineio / python-socketio).
    Python,
    /// A bare message with no prefix: python-engineio / python-socketio with `logger=True` add
    /// their own handler writing `%(message)s` only. No time: placed by the sid it names only.
    Bare,
}

/// Whose log it is, from the namespace or logger name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogSide {
    /// `engine`, `engine:*`, `socket.io:*` (`socket.io:client` included), `engineio.server`,
    /// `socketio.server`.
    Server,
    /// `engine.io-client:*`, `socket.io-client:*`, `engineio.client`, `socketio.client`.
    Client,
    /// Anything else (`socket.io-parser` is used by both).
    Unknown,
}

impl LogSide {
    /// The side a node `debug` namespace or Python logger name belongs to.
    pub fn of(namespace: &str) -> LogSide {
        let n = namespace.to_ascii_lowercase();
        // `socket.io:client` is the server's Client class (socket.io 4.8.4 `dist/client.js`).
        if n.starts_with("engine.io-client")
            || n.starts_with("socket.io-client")
            || n.ends_with(".client")
        {
            LogSide::Client
        } else if n == "engine"
            || n.starts_with("engine:")
            || n.starts_with("socket.io:")
            || n.ends_with(".server")
        {
            LogSide::Server
        } else {
            LogSide::Unknown
        }
    }

    /// `server`, `client` or `peer`.
    pub fn as_str(self) -> &'static str {
        match self {
            LogSide::Server => "server",
            LogSide::Client => "client",
            LogSide::Unknown => "peer",
        }
    }
}

/// One logical log line (a first line and its continuation lines, e.g. an error stack).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LogLine {
    /// 1-based line number of the first line in its file.
    pub line: usize,
    /// The format it was read as.
    pub writer: LogWriter,
    /// The absolute time the line gives (ISO form, Python `asctime`).
    pub ts: Option<Timestamp>,
    /// The `+N` of the relative form, in ms since the namespace's previous line.
    pub delta_ms: Option<u64>,
    /// The `debug` namespace or the Python logger name.
    pub namespace: String,
    /// Python level (`INFO`, `WARNING`, …), when given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub level: Option<String>,
    /// The message, continuation lines joined with `\n`.
    pub text: String,
}

impl LogLine {
    /// Whose log it is.
    pub fn side(&self) -> LogSide {
        LogSide::of(&self.namespace)
    }
}

#[cfg(test)]
mod tests {
    use super::LogSide;

    #[test]
    fn sides_of_namespaces() {
        assert_eq!(LogSide::of("socket.io:client"), LogSide::Server);
        assert_eq!(LogSide::of("engine:socket"), LogSide::Server);
        assert_eq!(LogSide::of("socket.io-client:manager"), LogSide::Client);
        assert_eq!(LogSide::of("engineio.client"), LogSide::Client);
        assert_eq!(LogSide::of("socket.io-parser"), LogSide::Unknown);
    }
}
