//! What a check case is, what it concludes, and the context it runs in.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use super::profile::Profile;
use crate::client::{ClientError, Endpoint, HttpClient, HttpResponse, Wire, WsClient, WsFrame};
use crate::engineio::{self, decode_payload, encode_payload, Data, Packet};

/// Why a case stopped before passing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stop {
    /// The server did something the case forbids (the message says what and what was expected).
    Fail(String),
    /// The case does not apply to this server (the message says why).
    Skip(String),
}

impl From<ClientError> for Stop {
    fn from(e: ClientError) -> Stop {
        Stop::Fail(e.to_string())
    }
}

/// A case's result before timing is added.
pub type CaseResult = Result<(), Stop>;

/// The future a case returns.
pub type CaseFuture = Pin<Box<dyn Future<Output = CaseResult> + Send>>;

/// Which official suite a case comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Suite {
    /// engine.io-protocol `test-suite/` (against the bare Engine.IO echo endpoint).
    EngineIo,
    /// socket.io-protocol `test-suite/` (against the Socket.IO endpoint).
    SocketIo,
    /// sioscope's own cases, beyond the official suites.
    Extra,
}

/// One case of the conformance suite.
#[derive(Clone, Copy)]
pub struct CaseDef {
    /// Unique id, e.g. `eio.handshake.polling.open`.
    pub id: &'static str,
    /// Which suite it mirrors or extends.
    pub suite: Suite,
    /// The official test it mirrors (`describe` path and `it` title), or what it checks.
    pub mirrors: &'static str,
    /// The case body.
    pub run: fn(Ctx) -> CaseFuture,
}

impl std::fmt::Debug for CaseDef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CaseDef").field("id", &self.id).finish()
    }
}

/// Fails the case with a formatted message unless `cond` holds.
macro_rules! ensure {
    ($cond:expr, $($msg:tt)+) => {
        if !$cond {
            return Err($crate::check::case::Stop::Fail(format!($($msg)+)));
        }
    };
}
pub(crate) use ensure;

/// The one way to write a [`CaseDef`]: `case!(id, mirrors, f)` is a [`Suite::Extra`] case running
/// the async function `f(ctx)`; `case!(in suite, id, mirrors, f)` puts it in another suite;
/// `case!(in suite, id, mirrors, f, at x)` runs `f(ctx, x)`.
macro_rules! case {
    ($id:literal, $mirrors:literal, $f:path) => {
        $crate::check::case::case!(in $crate::check::case::Suite::Extra, $id, $mirrors, $f)
    };
    (in $suite:expr, $id:literal, $mirrors:literal, $f:path) => {
        $crate::check::case::CaseDef {
            id: $id,
            suite: $suite,
            mirrors: $mirrors,
            run: |ctx| Box::pin($f(ctx)),
        }
    };
    (in $suite:expr, $id:literal, $mirrors:literal, $f:path, at $at:expr) => {
        $crate::check::case::CaseDef {
            id: $id,
            suite: $suite,
            mirrors: $mirrors,
            run: |ctx| Box::pin($f(ctx, $at)),
        }
    };
}
pub(crate) use case;

/// Fails unless `got == want`, naming `what`.
pub fn expect_eq<T: PartialEq + std::fmt::Debug>(what: &str, got: T, want: T) -> CaseResult {
    if got == want {
        Ok(())
    } else {
        Err(Stop::Fail(format!(
            "{what}: expected {want:?}, got {got:?}"
        )))
    }
}

/// Everything a case needs: where the server is, what to expect of it, and a transcript.
#[derive(Debug, Clone)]
pub struct Ctx {
    /// The server.
    pub endpoint: Endpoint,
    /// Versions, paths and the reference app's settings.
    pub profile: Arc<Profile>,
    /// This case's transcript.
    pub wire: Wire,
    /// HTTP client logging into `wire`.
    pub http: HttpClient,
}

impl Ctx {
    /// A context with a fresh transcript.
    pub fn new(endpoint: Endpoint, profile: Arc<Profile>) -> Ctx {
        let wire = Wire::new();
        Ctx {
            http: HttpClient::new(endpoint.clone(), wire.clone()),
            endpoint,
            profile,
            wire,
        }
    }

    /// The time limit for one expected reply.
    pub fn step(&self) -> Duration {
        self.profile.step
    }

    /// The Engine.IO revision under test.
    pub fn eio(&self) -> engineio::Version {
        self.profile.eio
    }

    /// `path?EIO=n&transport=t` plus `extra` (which starts with `&` when not empty).
    pub fn target(&self, path: &str, transport: &str, extra: &str) -> String {
        format!(
            "{path}?EIO={}&transport={transport}{extra}",
            self.eio().number()
        )
    }

    /// The polling URL of session `sid`.
    pub fn sid_target(&self, path: &str, sid: &str) -> String {
        self.target(path, "polling", &format!("&sid={sid}"))
    }

    /// Opens a polling session (with `b64=1` on v3 unless `binary`) and returns its sid.
    pub async fn open_polling(&self, path: &str, binary: bool) -> Result<String, Stop> {
        let extra = if self.eio() == engineio::Version::V3 && !binary {
            "&b64=1"
        } else {
            ""
        };
        let resp = self
            .http
            .get(&self.target(path, "polling", extra), self.step())
            .await?;
        expect_eq("handshake status", resp.status, 200)?;
        let packets = self.packets(&resp)?;
        match packets.first() {
            Some(Packet::Open(hs)) => Ok(hs.sid.clone()),
            other => Err(Stop::Fail(format!(
                "handshake: expected an open packet, got {other:?}"
            ))),
        }
    }

    /// The packets of a polling response body (decoded with the project's payload codec).
    pub fn packets(&self, resp: &HttpResponse) -> Result<Vec<Packet>, Stop> {
        decode_payload(self.eio(), &resp.body, resp.is_octet_stream())
            .into_iter()
            .map(|item| {
                item.packet
                    .map_err(|e| Stop::Fail(format!("undecodable polling payload: {e}")))
            })
            .collect()
    }

    /// The wire form of a polling payload in this revision (text framing).
    pub fn payload(&self, packets: &[Packet]) -> Vec<u8> {
        encode_payload(self.eio(), packets, false).unwrap_or_default()
    }

    /// Opens a WebSocket to `path` (`extra` query appended); `sid` for an upgrade.
    pub async fn ws(&self, path: &str, extra: &str) -> Result<WsClient, Stop> {
        Ok(WsClient::connect(
            &self.endpoint,
            &self.target(path, "websocket", extra),
            self.step(),
            &self.wire,
        )
        .await?)
    }

    /// Reads the Engine.IO open packet that starts a WebSocket session.
    pub async fn ws_open(&self, ws: &mut WsClient) -> Result<engineio::Handshake, Stop> {
        match ws.recv(self.step()).await? {
            WsFrame::Text(t) => match engineio::decode_text(self.eio(), &t) {
                Ok(Packet::Open(hs)) => Ok(hs),
                other => Err(Stop::Fail(format!(
                    "expected an open packet first, got {other:?}"
                ))),
            },
            other => Err(Stop::Fail(format!(
                "expected an open packet first, got {other:?}"
            ))),
        }
    }

    /// Waits until the server ends `ws` (Close frame or TCP end) within `limit`, ignoring
    /// Engine.IO pings; any data message is collected and reported if the close never comes.
    pub async fn expect_close(&self, ws: &mut WsClient, limit: Duration) -> CaseResult {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match ws.recv(left).await {
                Ok(WsFrame::Closed(_)) => return Ok(()),
                Ok(_) => continue,
                Err(ClientError::Timeout(..)) => {
                    return Err(Stop::Fail(format!(
                        "the server kept the connection open for {limit:?} (expected it to close)"
                    )))
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
}

/// A message packet with text data.
pub fn msg(text: &str) -> Packet {
    Packet::Message(Data::Text(text.to_string()))
}
