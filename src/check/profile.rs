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
    /// A revision the suite does not cover.
    #[error("unsupported revision: {0} (the suite covers Engine.IO 3/4 and Socket.IO 4/5)")]
    Unsupported(String),
}

/// The Socket.IO revision over an Engine.IO revision.
pub fn sio_for(eio: engineio::Version) -> socketio::Version {
    socketio::Version::from_engineio(eio)
}

/// Settles the revisions: from `--eio`/`--sio` when given, else by asking `path` for an
/// `EIO=4` then an `EIO=3` polling handshake.
pub async fn detect(
    endpoint: &Endpoint,
    path: &str,
    eio: Option<u8>,
    sio: Option<u8>,
    step: Duration,
) -> Result<(engineio::Version, socketio::Version), DetectError> {
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
        let target = format!("{path}?EIO={}&transport=polling&b64=1", v.number());
        match http.get(&target, step).await {
            Err(e @ (ClientError::Connect { .. } | ClientError::Timeout(..))) => {
                return Err(DetectError::Unreachable(e))
            }
            Err(e) => last = e.to_string(),
            Ok(resp) => {
                let opened = resp.status == 200
                    && matches!(
                        decode_payload(v, &resp.body, resp.is_octet_stream())
                            .first()
                            .map(|i| &i.packet),
                        Some(Ok(Packet::Open(_)))
                    );
                if opened || forced.is_some() {
                    return Ok((v, sio_for(v)));
                }
                last = format!(
                    "HTTP {} {}",
                    resp.status,
                    resp.text().chars().take(80).collect::<String>()
                );
            }
        }
    }
    Err(DetectError::NoHandshake {
        path: path.to_string(),
        last,
    })
}
