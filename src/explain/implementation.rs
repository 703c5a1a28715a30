//! Which implementation is on each side, from evidence, so `explain` quotes only words that
//! implementation would say.
//!
//! Evidence used, strongest first: socket.io 0.9's own handshake (`/socket.io/1/`, no `EIO`
//! query) for both sides; the server's `Server` header (aiohttp, uvicorn and hypercorn announce
//! Python; node's `http` module sends none); the client's `User-Agent` (python-socketio's
//! client goes through aiohttp or requests, `Python/3.x aiohttp/…`, `python-requests/…`;
//! engine.io-client under node sends `node-XMLHttpRequest` on polling and nothing over `ws`).
//! Without any of these, node socket.io is assumed and the finding says so.

use serde::Serialize;

use crate::session::SessionRecord;

/// A Socket.IO implementation family, as far as the wire tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Implementation {
    /// node `socket.io` / `socket.io-client` 1.x–4.x.
    NodeSocketIo,
    /// python-socketio (server or client).
    PythonSocketio,
    /// socket.io 0.9 (its own protocol, before Engine.IO).
    SocketIo09,
}

impl Implementation {
    /// The name used in output.
    pub fn as_str(self) -> &'static str {
        match self {
            Implementation::NodeSocketIo => "node socket.io",
            Implementation::PythonSocketio => "python-socketio",
            Implementation::SocketIo09 => "socket.io 0.9",
        }
    }
}

/// Both sides' implementations and the evidence each was identified from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Peers {
    /// The server's implementation.
    pub server: Implementation,
    /// Why: `from …` the evidence, or `assumed: …`.
    pub server_by: String,
    /// The client's implementation.
    pub client: Implementation,
    /// Why: `from …` the evidence, or `assumed: …`.
    pub client_by: String,
}

fn pythonic_server(v: &str) -> bool {
    ["Python", "aiohttp", "uvicorn", "hypercorn"]
        .iter()
        .any(|p| v.contains(p))
}

fn pythonic_client(ua: &str) -> bool {
    let ua = ua.to_ascii_lowercase();
    ua.contains("python") || ua.contains("aiohttp")
}

/// Identifies both sides of a session.
pub(crate) fn identify(s: &SessionRecord) -> Peers {
    if s.eio.is_none() {
        let by = "from its handshake (/socket.io/1/, no EIO)".to_string();
        return Peers {
            server: Implementation::SocketIo09,
            server_by: by.clone(),
            client: Implementation::SocketIo09,
            client_by: by,
        };
    }
    let (server, server_by) = match s.server_software.as_deref() {
        Some(v) if pythonic_server(v) => {
            (Implementation::PythonSocketio, format!("from Server: {v}"))
        }
        Some(v) => (
            Implementation::NodeSocketIo,
            format!("assumed: Server: {v} names no Python server"),
        ),
        None => (
            Implementation::NodeSocketIo,
            "assumed: no Server header, as from node's http module".to_string(),
        ),
    };
    let (client, client_by) = match s.user_agent.as_deref() {
        Some(ua) if pythonic_client(ua) => (
            Implementation::PythonSocketio,
            format!("from User-Agent: {ua}"),
        ),
        Some(ua) if ua.contains("node-XMLHttpRequest") => (
            Implementation::NodeSocketIo,
            format!("from User-Agent: {ua}"),
        ),
        Some(ua) => (
            Implementation::NodeSocketIo,
            format!("assumed: User-Agent: {ua}"),
        ),
        None => (
            Implementation::NodeSocketIo,
            "assumed: no User-Agent".to_string(),
        ),
    };
    Peers {
        server,
        server_by,
        client,
        client_by,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_is_recognised_by_the_aiohttp_user_agent_and_server_header() {
        assert!(pythonic_client("Python/3.11 aiohttp/3.12.15"));
        assert!(pythonic_client("python-requests/2.32.3"));
        assert!(!pythonic_client("node-XMLHttpRequest"));
        assert!(pythonic_server("Python/3.11 aiohttp/3.12.15"));
        assert!(!pythonic_server("nginx"));
    }
}
