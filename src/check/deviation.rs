//! Known deviations of real servers from the protocol: a failure that matches one is still a
//! failure, but its detail names the deviation, and `--allow NAME` (or `--allow LIBRARY` for
//! all of a library's) turns it into an accepted one. Each was observed on the wire
//! (docs/check-cases.md, "python-socketio deviations") and is named only when the server is
//! identified as that library's host (its `Server` header), so the naming says "likely".

use super::profile::Profile;

/// One known deviation.
#[derive(Debug, Clone, Copy)]
pub struct Deviation {
    /// The name `--allow` takes.
    pub name: &'static str,
    /// The library it belongs to (`--allow` takes this too, for all of them).
    pub library: &'static str,
    /// Case ids (suffixes) where it shows.
    pub cases: &'static [&'static str],
    /// What the failure message contains when it is this deviation (any of these).
    pub shows: &'static [&'static str],
    /// What the library does instead, in words.
    pub what: &'static str,
    /// What the `Server` header must contain for the deviation to be named (`None`: the
    /// failure itself identifies it).
    pub server: Option<&'static str>,
    /// Accepted without `--allow` (unless `--strict`): the official suites do not fail a server
    /// for it (their test passes on it), so a default run must not either; it is still named.
    pub accepted_by_default: bool,
}

/// python-engineio / python-socketio on aiohttp (`Server: Python/… aiohttp/…`).
const PYTHON: &str = "aiohttp";

/// The known deviations.
pub const KNOWN: &[Deviation] = &[
    Deviation {
        name: "http-after-upgrade",
        library: "engine.io",
        cases: &[".handshake.ws.invalid-eio"],
        shows: &["http-after-upgrade"],
        server: None,
        // The official engine.io-protocol suite's invalid-EIO WebSocket test passes on
        // engine.io 6.6 (docs/check-cases.md, "Official suites vs check").
        accepted_by_default: true,
        what: "engine.io 6.6 refuses an unsupported EIO after it has answered 101, by writing `HTTP/1.1 400` into the WebSocket stream (engine.io@6.6.12 build/server.js:640-647, :747 abortUpgrade)",
    },
    Deviation {
        name: "python-engineio-missing-transport",
        library: "python-engineio",
        cases: &[".handshake.polling.invalid-transport"],
        shows: &["status without transport: expected 400, got 200"],
        server: Some(PYTHON),
        accepted_by_default: false,
        what: "a handshake without `transport` opens a polling session (spec: \"If a mandatory query parameter is missing, then the server MUST respond with an HTTP 400\")",
    },
    Deviation {
        name: "python-engineio-put-405",
        library: "python-engineio",
        cases: &[".handshake.polling.invalid-method"],
        shows: &["status of a PUT: expected 400, got 405"],
        server: Some(PYTHON),
        accepted_by_default: false,
        what: "aiohttp's routing answers PUT with 405 before Engine.IO sees it",
    },
    Deviation {
        name: "python-engineio-post-ok-uppercase",
        library: "python-engineio",
        cases: &[
            "extra.polling.post-ok",
            "eio.message.polling.one-text",
            "eio.message.polling.several-text",
            "eio.message.polling.text-and-binary",
        ],
        shows: &["\"OK\""],
        server: Some(PYTHON),
        accepted_by_default: false,
        what: "a POST is answered `OK` instead of `ok`",
    },
    Deviation {
        name: "python-engineio-close-drops-poll",
        library: "python-engineio",
        cases: &["close.polling"],
        shows: &[
            "status of the pending poll: expected 200, got 400",
            "timed out after",
        ],
        server: Some(PYTHON),
        accepted_by_default: false,
        what: "after a client `close` the pending poll is not answered with `noop` (400 later, or nothing)",
    },
    Deviation {
        name: "python-engineio-duplicate-poll-queued",
        library: "python-engineio",
        cases: &["extra.polling.duplicate-poll", "eio.message.polling.duplicate-poll"],
        shows: &["timed out after", "body of the first poll"],
        server: Some(PYTHON),
        accepted_by_default: false,
        what: "a second concurrent GET is held or the session kept, instead of 400 and the session closed",
    },
    Deviation {
        name: "python-engineio-oversized-post-unanswered",
        library: "python-engineio",
        cases: &["extra.max-payload.polling"],
        shows: &["timed out after"],
        server: Some(PYTHON),
        accepted_by_default: false,
        what: "a POST over maxPayload is never answered (no 413)",
    },
    Deviation {
        name: "python-socketio-connect-error-string",
        library: "python-socketio",
        cases: &["sio.connect.unknown-namespace"],
        shows: &["Unable to connect"],
        server: Some(PYTHON),
        accepted_by_default: false,
        what: "CONNECT_ERROR carries the v4-style string \"Unable to connect\", not v5's object",
    },
    Deviation {
        name: "python-socketio-invalid-packet-kept",
        library: "python-socketio",
        cases: &["sio.connect.invalid-handshake", "sio.message.invalid-"],
        shows: &["kept the connection open"],
        server: Some(PYTHON),
        accepted_by_default: false,
        what: "an invalid Socket.IO packet is dropped and the connection kept (spec: \"MUST close the connection\")",
    },
    Deviation {
        name: "python-engineio-ping-interval-zero",
        library: "python-engineio",
        cases: &[".handshake.polling.open", ".handshake.ws.open"],
        shows: &["pingInterval: expected Some(300), got Some(0)"],
        server: Some(PYTHON),
        accepted_by_default: false,
        what: "a sub-second ping_interval is advertised as 0: `int(ping_interval + grace) * 1000` truncates before scaling (pings still go out at the set interval)",
    },
    Deviation {
        name: "python-engineio-invalid-packet-kept",
        library: "python-engineio",
        cases: &["eio.message.polling.invalid-packet"],
        shows: &["status of the next poll: expected 400, got 200"],
        server: Some(PYTHON),
        accepted_by_default: false,
        what: "an undecodable POST does not end the session",
    },
    Deviation {
        name: "python-engineio-ping-timeout-late",
        library: "python-engineio",
        cases: &[".heartbeat.polling.ping-timeout"],
        shows: &["status after the ping timeout: expected 400, got 200"],
        server: Some(PYTHON),
        accepted_by_default: false,
        what: "a polling session without pongs is dropped some time after pingInterval + pingTimeout, not at it",
    },
    Deviation {
        name: "python-engineio-noop-after-upgrade",
        library: "python-engineio",
        cases: &["eio.upgrade"],
        shows: &["got Text(\"6\")"],
        server: Some(PYTHON),
        accepted_by_default: false,
        what: "a `noop` is sent on the WebSocket after the upgrade (the noop belongs to the pending poll only)",
    },
    Deviation {
        name: "python-socketio-no-connect-timeout",
        library: "python-socketio",
        cases: &["sio.connect.no-handshake-timeout"],
        shows: &["kept the connection open"],
        server: Some(PYTHON),
        accepted_by_default: false,
        what: "python-socketio has no connectTimeout: a connection without CONNECT stays open",
    },
];

/// The known deviation failure `message` of case `id` shows, if the server is that library's.
pub fn known(id: &str, message: &str, profile: &Profile) -> Option<&'static Deviation> {
    let server = profile.server.as_deref().unwrap_or_default();
    KNOWN.iter().find(|d| {
        d.server.is_none_or(|want| server.contains(want))
            && d.cases.iter().any(|c| id.ends_with(c) || id.starts_with(c))
            && d.shows.iter().any(|s| message.contains(s))
    })
}

/// Whether the run accepts `d`: named by `--allow` (itself or its library), or accepted by
/// default and `--strict` not given.
pub fn allowed(d: &Deviation, profile: &Profile) -> bool {
    (d.accepted_by_default && !profile.strict)
        || profile.allow.iter().any(|a| a == d.name || a == d.library)
}

/// Whether `name` is a deviation name or library `--allow` knows.
pub fn is_known_name(name: &str) -> bool {
    KNOWN.iter().any(|d| d.name == name || d.library == name)
}
