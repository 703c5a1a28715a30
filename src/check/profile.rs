//! What the suite expects of the server under test: protocol revisions, paths, and the
//! reference app's settings (engine.io-protocol and socket.io-protocol READMEs, "Test suite").

use std::time::Duration;

use crate::client::{ClientError, Endpoint, HttpClient, Wire};
use crate::engineio::{self, decode_payload, Packet};
use crate::socketio;

/// The reference app's ping interval: "pingInterval: 300".
pub const PING_INTERVAL: Duration = Duration::from_millis(300);
/// The reference app's ping timeout: "pingTimeout: 200".
pub const PING_TIMEOUT: Duration = Duration::from_millis(200);
/// The reference app's maximum payload: "maxPayload: 1e6".
pub const MAX_PAYLOAD: u64 = 1_000_000;
/// The reference Socket.IO app's connect timeout: "connectTimeout: 1000".
pub const CONNECT_TIMEOUT: Duration = Duration::from_millis(1000);

/// The settings a server advertises in its open packet (all absent when it sent none) (engine.io-protocol README, "Handshake":
/// "pingInterval", "pingTimeout", "maxPayload", "upgrades"). Heartbeat and timeout cases wait
/// by these, not by the reference app's.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Settings {
    /// `pingInterval`, in milliseconds (absent: `None`).
    pub ping_interval: Option<u64>,
    /// `pingTimeout`, in milliseconds.
    pub ping_timeout: Option<u64>,
    /// `maxPayload`, in bytes (Engine.IO v4 only).
    pub max_payload: Option<u64>,
    /// `upgrades`.
    pub upgrades: Vec<String>,
}

impl Settings {
    /// The settings of an open packet.
    pub fn of(hs: &engineio::Handshake) -> Settings {
        Settings {
            ping_interval: hs.ping_interval,
            ping_timeout: hs.ping_timeout,
            max_payload: hs.max_payload,
            upgrades: hs.upgrades.clone().unwrap_or_default(),
        }
    }

    /// The reference app's settings.
    pub fn reference() -> Settings {
        Settings {
            ping_interval: Some(PING_INTERVAL.as_millis() as u64),
            ping_timeout: Some(PING_TIMEOUT.as_millis() as u64),
            max_payload: Some(MAX_PAYLOAD),
            upgrades: vec!["websocket".into()],
        }
    }

    /// `pingInterval` as a duration (0 when not advertised: the wait then only has its slack).
    pub fn interval(&self) -> Duration {
        Duration::from_millis(self.ping_interval.unwrap_or(0))
    }

    /// `pingTimeout` as a duration (0 when not advertised).
    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.ping_timeout.unwrap_or(0))
    }
}

/// The revisions and paths under test.
#[derive(Debug, Clone)]
pub struct Profile {
    /// Engine.IO revision (v3 or v4).
    pub eio: engineio::Version,
    /// Socket.IO revision (v4 over Engine.IO v3, v5 over v4).
    pub sio: socketio::Version,
    /// Path of the bare Engine.IO echo endpoint (`/engine.io/`).
    pub eio_path: String,
    /// Path of the Socket.IO endpoint (`/socket.io/`).
    pub sio_path: String,
    /// Path of a Socket.IO endpoint with connection state recovery on.
    pub recovery_path: String,
    /// Time limit for one expected reply.
    pub step: Duration,
    /// What the Socket.IO endpoint advertised in its handshake.
    pub settings: Settings,
    /// What the bare Engine.IO endpoint advertised, or `None` when there is none.
    pub eio_settings: Option<Settings>,
    /// Whether the server runs the official suites' reference app (detected or `--reference`):
    /// the reference-app cases run only then.
    pub reference: bool,
    /// The `Server` header of the Socket.IO handshake response (names known deviations).
    pub server: Option<String>,
    /// Known deviations the user accepts (`--allow`).
    pub allow: Vec<String>,
    /// `--strict`: known deviations accepted by default fail too.
    pub strict: bool,
    /// How `reference` was settled, in words.
    pub reference_why: String,
    /// Cases expected to take longer than this are skipped.
    pub max_case_time: Duration,
}

impl Profile {
    /// The settings that apply to `path`: the bare Engine.IO endpoint's or the Socket.IO one's.
    pub fn settings_for(&self, path: &str) -> &Settings {
        match &self.eio_settings {
            Some(s) if path == self.eio_path => s,
            _ => &self.settings,
        }
    }
}

/// Why the revisions could not be settled.
#[derive(Debug, thiserror::Error)]
pub enum DetectError {
    /// The server could not be reached at all.
    #[error("{0}")]
    Unreachable(ClientError),
    /// The server answered, but no handshake for either revision.
    #[error("no Engine.IO handshake at {path} for EIO=4 nor EIO=3 (last answer: {last})")]
    NoHandshake {
        /// The path tried.
        path: String,
        /// What the last attempt got.
        last: String,
    },
    /// `--eio` and `--sio` name revisions that do not go together.
    #[error("Socket.IO v{sio} does not run over Engine.IO v{eio} (v4 runs over v3, v5 over v4)")]
    Mismatch {
        /// `--eio`.
        eio: u8,
        /// `--sio`.
        sio: u8,
    },
    /// A socket.io 0.9 server (protocol 1, before Engine.IO) answered.
    #[error("{path} answered a socket.io 0.9 handshake ({answer:?}): socket.io 0.9 speaks the pre-Engine.IO protocol 1, which check does not cover (Engine.IO 3/4, Socket.IO 4/5)")]
    Legacy09 {
        /// The path that answered.
        path: String,
        /// Its answer.
        answer: String,
    },
    /// A revision the suite does not cover.
    #[error("unsupported revision: {0} (the suite covers Engine.IO 3/4 and Socket.IO 4/5)")]
    Unsupported(String),
}

/// The Socket.IO revision over an Engine.IO revision.
pub fn sio_for(eio: engineio::Version) -> socketio::Version {
    socketio::Version::from_engineio(eio)
}

/// Settles the revisions: from `--eio`/`--sio` when given, else by asking `path` for an
/// `EIO=4` then an `EIO=3` polling handshake. Returns the open packet it got.
pub async fn detect(
    endpoint: &Endpoint,
    path: &str,
    eio: Option<u8>,
    sio: Option<u8>,
    step: Duration,
) -> Result<(engineio::Version, socketio::Version, Option<Opened>), DetectError> {
    let from_sio = |s: u8| match s {
        4 => Ok(engineio::Version::V3),
        5 => Ok(engineio::Version::V4),
        n => Err(DetectError::Unsupported(format!("Socket.IO v{n}"))),
    };
    let forced = match (eio, sio) {
        (Some(e), s) => {
            let v = match e {
                3 => engineio::Version::V3,
                4 => engineio::Version::V4,
                n => return Err(DetectError::Unsupported(format!("Engine.IO v{n}"))),
            };
            if let Some(s) = s {
                if from_sio(s)? != v {
                    return Err(DetectError::Mismatch { eio: e, sio: s });
                }
            }
            Some(v)
        }
        (None, Some(s)) => Some(from_sio(s)?),
        (None, None) => None,
    };
    let http = HttpClient::new(endpoint.clone(), Wire::new());
    let candidates: &[engineio::Version] = match forced {
        Some(ref v) => std::slice::from_ref(v),
        None => &[engineio::Version::V4, engineio::Version::V3],
    };
    let mut last = String::new();
    for &v in candidates {
        match open_handshake(&http, path, v, step).await {
            Err(DetectError::Unreachable(e)) => return Err(DetectError::Unreachable(e)),
            // Revisions given: a server that answers but with no usable open packet is tested
            // anyway (its cases fail one by one, with the bytes).
            Err(DetectError::NoHandshake { .. }) if forced.is_some() => {
                return Ok((v, sio_for(v), None))
            }
            Err(DetectError::NoHandshake { last: l, .. }) => last = l,
            Err(e) => return Err(e),
            Ok(hs) => return Ok((v, sio_for(v), Some(hs))),
        }
    }
    // Not Engine.IO: socket.io 0.9 answers its own handshake at `<path>1/`
    // (`sid:heartbeat:close:transports`, see `crate::socketio::legacy`).
    let legacy = format!("{}/1/", path.trim_end_matches('/'));
    if let Ok(resp) = http.get(&legacy, step).await {
        let body = resp.text();
        if resp.status == 200 && crate::socketio::legacy::parse_handshake(&body).is_ok() {
            return Err(DetectError::Legacy09 {
                path: legacy,
                answer: body.chars().take(80).collect(),
            });
        }
    }
    Err(DetectError::NoHandshake {
        path: path.to_string(),
        last,
    })
}

/// A handshake answered: the open packet and the response's `Server` header.
#[derive(Debug, Clone)]
pub struct Opened {
    /// The open packet.
    pub handshake: engineio::Handshake,
    /// The `Server` header of the response, if any (e.g. `Python/3.12 aiohttp/3.12.15`).
    pub server: Option<String>,
}

/// Asks `path` for a polling handshake of revision `v` (with `b64=1`, which v4 ignores).
pub async fn open_handshake(
    http: &HttpClient,
    path: &str,
    v: engineio::Version,
    step: Duration,
) -> Result<Opened, DetectError> {
    let target = format!("{path}?EIO={}&transport=polling&b64=1", v.number());
    match http.get(&target, step).await {
        Err(e @ (ClientError::Connect { .. } | ClientError::Timeout(..))) => {
            Err(DetectError::Unreachable(e))
        }
        Err(e) => Err(DetectError::NoHandshake {
            path: path.to_string(),
            last: e.to_string(),
        }),
        Ok(resp) => {
            let first = decode_payload(v, &resp.body, resp.is_octet_stream())
                .into_iter()
                .next()
                .map(|i| i.packet);
            match first {
                Some(Ok(Packet::Open(handshake))) if resp.status == 200 => Ok(Opened {
                    handshake,
                    server: resp.header("server").map(str::to_string),
                }),
                _ => Err(DetectError::NoHandshake {
                    path: path.to_string(),
                    last: format!(
                        "HTTP {} {:?}",
                        resp.status,
                        resp.text().chars().take(80).collect::<String>()
                    ),
                }),
            }
        }
    }
}
