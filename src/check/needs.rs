//! Which cases hold for every conforming server and which need the official suites'
//! reference app, and how long a case will take with the server's own settings: the one
//! place that decides whether a case runs or is skipped, and why.

use std::time::Duration;

use super::case::CaseDef;
use super::profile::{Profile, CONNECT_TIMEOUT};
use crate::engineio;
use crate::socketio;

/// What a case needs of the server beyond conformance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Needs {
    /// Nothing: the protocol requires the behaviour of every server (on the Socket.IO path).
    Protocol,
    /// A bare Engine.IO endpoint (`--engineio-path`); what is checked holds for any such server.
    EngineEndpoint,
    /// The reference app: the echo endpoint, `message-back`, `auth`, `/custom`,
    /// connectTimeout 1000 ms, or the reference settings.
    Reference,
}

/// The cases that need the reference app: what they expect is what that app does, not what
/// the protocol requires (socket.io-protocol and engine.io-protocol READMEs, "Test suite").
const REFERENCE: &[&str] = &[
    // The bare endpoint echoes every message.
    "eio.message.",
    "eio.upgrade",
    "extra.permessage-deflate",
    // `auth` with the handshake payload, `/custom`, `message-back`, `message-with-ack`.
    "sio.connect.main-with-payload",
    "sio.connect.custom",
    "sio.disconnect.custom",
    "sio.message.text",
    "sio.message.binary",
    "sio.message.ack",
    // connectTimeout: 1000 (the library default is 45 s).
    "sio.connect.no-handshake-timeout",
    // The offset is read from the `auth` event.
    "extra.recovery",
];

/// Cases whose rule is protocol v5's only. socket.io-protocol README: "If the server does not
/// receive a `CONNECT` packet first, then it MUST close the connection immediately" and (EVENT)
/// "The payload is mandatory and MUST be a non-empty array. If that's not the case, then the
/// receiver MUST close the connection". Protocol v4 states neither (its server connects `/`
/// by itself; socket.io 2.5 keeps the connection after `abc`, socket.io@2.5.1
/// lib/socket.js:350 only emits `error`), so over v4 they hold for the reference app only,
/// where the 300 + 200 ms heartbeat closes the connection anyway.
const V5_RULES: &[&str] = &["sio.connect.invalid-handshake", "sio.message.invalid-"];

/// What case `id` needs when the server speaks Socket.IO revision `sio`.
pub fn needs(id: &str, sio: socketio::Version) -> Needs {
    let v5_only = sio == socketio::Version::V4 && V5_RULES.iter().any(|p| id.starts_with(p));
    if v5_only || REFERENCE.iter().any(|p| id.starts_with(p)) {
        Needs::Reference
    } else if id.starts_with("eio.") {
        Needs::EngineEndpoint
    } else {
        Needs::Protocol
    }
}

/// How long case `id` waits at least, with the advertised settings of the endpoint it runs
/// against (heartbeat cases wait for three pings, ping-timeout cases for the timeout).
pub fn expected_time(id: &str, profile: &Profile) -> Duration {
    let path = if id.starts_with("eio.") {
        &profile.eio_path
    } else {
        &profile.sio_path
    };
    let s = profile.settings_for(path);
    let server_pings = profile.eio == engineio::Version::V4;
    if id.ends_with(".ping-pong") {
        // v3: the client pings and the pong comes at once; v4: three server pings.
        if server_pings {
            s.interval() * 3
        } else {
            Duration::ZERO
        }
    } else if id.ends_with(".ping-timeout") || id.ends_with("close.ws") {
        s.interval() + s.timeout()
    } else if id == "sio.disconnect.main" && profile.sio == socketio::Version::V5 {
        s.interval()
    } else if id == "sio.connect.no-handshake-timeout" {
        CONNECT_TIMEOUT + Duration::from_secs(1)
    } else {
        Duration::ZERO
    }
}

/// Why case `c` is not run against this server, or `None` when it runs.
pub fn skip_reason(c: &CaseDef, profile: &Profile) -> Option<String> {
    match needs(c.id, profile.sio) {
        Needs::Reference if !profile.reference => {
            return Some(format!(
                "needs the reference app ({}); pass --reference to run it",
                profile.reference_why
            ))
        }
        Needs::EngineEndpoint if profile.eio_settings.is_none() => {
            return Some(format!(
                "no bare Engine.IO endpoint at {} (--engineio-path)",
                profile.eio_path
            ))
        }
        _ => {}
    }
    let s = profile.settings_for(if c.id.starts_with("eio.") {
        &profile.eio_path
    } else {
        &profile.sio_path
    });
    (expected_time(c.id, profile) > profile.max_case_time).then(|| {
        format!(
            "longer than --max-case-time {} s with the server's pingInterval {} ms / pingTimeout {} ms; raise --max-case-time to run it",
            profile.max_case_time.as_secs(),
            s.interval().as_millis(),
            s.timeout().as_millis()
        )
    })
}

/// The time limit of case `id`: 20 s, or its expected time plus 10 s when longer.
pub fn case_limit(id: &str, profile: &Profile) -> Duration {
    (expected_time(id, profile) + Duration::from_secs(10)).max(Duration::from_secs(20))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_app_cases_and_v5_only_rules() {
        use socketio::Version::{V4, V5};
        assert_eq!(needs("sio.message.text", V5), Needs::Reference);
        assert_eq!(
            needs("sio.connect.custom-with-payload", V5),
            Needs::Reference
        );
        assert_eq!(needs("eio.message.ws.text", V5), Needs::Reference);
        assert_eq!(
            needs("eio.heartbeat.ws.ping-pong", V5),
            Needs::EngineEndpoint
        );
        assert_eq!(needs("sio.eio.heartbeat.ws.ping-pong", V5), Needs::Protocol);
        assert_eq!(needs("sio.connect.main", V4), Needs::Protocol);
        assert_eq!(needs("sio.message.invalid-type", V5), Needs::Protocol);
        assert_eq!(needs("sio.message.invalid-type", V4), Needs::Reference);
        assert_eq!(needs("extra.polling.post-ok", V4), Needs::Protocol);
    }
}
