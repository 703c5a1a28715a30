//! Discovery before judgement: what runs at the URL, found before any case runs.
//!
//! In order: the Socket.IO path's handshake settles the revisions and the server's own
//! settings ([`super::profile::detect`]); a bare Engine.IO endpoint is looked for at
//! `--engineio-path`; the reference app of the official suites is recognised by what it does
//! (that bare endpoint exists, and CONNECT to `/` is followed by its `auth` event). The cases
//! that need the reference app run only when it is found or `--reference` is given.

use std::time::Duration;

use super::profile::{detect, open_handshake, DetectError, Profile, Settings};
use crate::client::{Endpoint, HttpClient, Wire, WsClient, WsFrame};
use crate::engineio;
use crate::socketio;

/// What the user told `check` (everything else is found).
#[derive(Debug, Clone)]
pub struct Options {
    /// `--eio`.
    pub eio: Option<u8>,
    /// `--sio`.
    pub sio: Option<u8>,
    /// The Socket.IO path (the URL's path, else `/socket.io/`).
    pub sio_path: String,
    /// Where a bare Engine.IO endpoint is looked for (`--engineio-path`).
    pub eio_path: String,
    /// `--recovery-path` (default: the Socket.IO path).
    pub recovery_path: Option<String>,
    /// Time limit for one expected reply.
    pub step: Duration,
    /// `--reference`: run the reference-app cases without detecting the app.
    pub reference: bool,
    /// `--max-case-time`.
    pub max_case_time: Duration,
    /// `--allow`: known deviations accepted.
    pub allow: Vec<String>,
    /// `--strict`: known deviations accepted by default fail too.
    pub strict: bool,
}

/// Finds the revisions, endpoints and settings of the server at `endpoint`.
pub async fn discover(endpoint: &Endpoint, opts: &Options) -> Result<Profile, DetectError> {
    let (eio, sio, hs) = detect(endpoint, &opts.sio_path, opts.eio, opts.sio, opts.step).await?;
    let http = HttpClient::new(endpoint.clone(), Wire::new());
    let eio_settings = if opts.eio_path == opts.sio_path {
        None
    } else {
        match open_handshake(&http, &opts.eio_path, eio, opts.step).await {
            Ok(o) => Some(Settings::of(&o.handshake)),
            // An answer that looks like an open packet but does not decode is still an
            // Engine.IO endpoint: its cases run and fail with the bytes.
            Err(_) => {
                let target = format!("{}?EIO={}&transport=polling", opts.eio_path, eio.number());
                match http.get(&target, opts.step).await {
                    Ok(r) if r.status == 200 && r.text().contains("0{") => {
                        Some(Settings::default())
                    }
                    _ => None,
                }
            }
        }
    };
    let (reference, reference_why) = if opts.reference {
        (true, "--reference given".to_string())
    } else if eio_settings.is_none() {
        (
            false,
            format!(
                "no bare Engine.IO endpoint at {} (the reference app's echo server)",
                opts.eio_path
            ),
        )
    } else if auth_on_connect(endpoint, &opts.sio_path, eio, sio, opts.step).await {
        (
            true,
            format!(
                "detected: an Engine.IO endpoint at {} and the \"auth\" event after CONNECT to /",
                opts.eio_path
            ),
        )
    } else {
        (
            false,
            "no \"auth\" event after CONNECT to / (the reference app emits it)".to_string(),
        )
    };
    Ok(Profile {
        eio,
        sio,
        eio_path: opts.eio_path.clone(),
        recovery_path: opts
            .recovery_path
            .clone()
            .unwrap_or_else(|| opts.sio_path.clone()),
        sio_path: opts.sio_path.clone(),
        step: opts.step,
        settings: hs
            .as_ref()
            .map(|o| Settings::of(&o.handshake))
            .unwrap_or_default(),
        server: hs.and_then(|o| o.server),
        allow: opts.allow.clone(),
        strict: opts.strict,
        eio_settings,
        reference,
        reference_why,
        max_case_time: opts.max_case_time,
    })
}

/// Whether CONNECT to `/` over a WebSocket is followed by an `auth` event within `step`
/// (socket.io-protocol README, "Test suite": `socket.emit("auth", socket.handshake.auth)`).
async fn auth_on_connect(
    endpoint: &Endpoint,
    path: &str,
    eio: engineio::Version,
    sio: socketio::Version,
    step: Duration,
) -> bool {
    let target = format!("{path}?EIO={}&transport=websocket", eio.number());
    let Ok(mut ws) = WsClient::connect(endpoint, &target, step, &Wire::new()).await else {
        return false;
    };
    let deadline = tokio::time::Instant::now() + step;
    let mut found = false;
    // Bounded: at most 8 messages, all within `step`.
    for _ in 0..8 {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        match ws.recv(left).await {
            Ok(WsFrame::Text(t)) if t.starts_with('0') && sio == socketio::Version::V5 => {
                if ws.send_text("40").await.is_err() {
                    break;
                }
            }
            Ok(WsFrame::Text(t)) if t.starts_with(r#"42["auth","#) => {
                found = true;
                break;
            }
            Ok(WsFrame::Closed(_)) | Err(_) => break,
            Ok(_) => {}
        }
    }
    ws.close().await;
    found
}
