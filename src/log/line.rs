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
}

/// Whose log it is, from the namespace or logger name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogSide {
    /// `engine`, `engine:*`, `socket.io:*`, `engineio.server`, `socketio.server`.
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
        if n.contains("client") {
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
