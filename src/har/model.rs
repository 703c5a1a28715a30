//! The part of HAR 1.2 that carries Engine.IO traffic. Every field is optional or defaulted:
//! exporters differ, and a missing field must not reject the file. The document around them
//! (`{"log": {"creator", "browser", "entries": [...]}}`) is read by `super::scan`.

use serde::Deserialize;

/// `creator` / `browser`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Creator {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub version: String,
}

/// One request/response pair.
#[derive(Debug, Deserialize)]
pub(crate) struct Entry {
    #[serde(rename = "startedDateTime", default)]
    pub started: String,
    /// Total time in ms.
    #[serde(default)]
    pub time: f64,
    pub request: Request,
    #[serde(default)]
    pub response: Option<Response>,
    #[serde(default)]
    pub timings: Option<Timings>,
    #[serde(rename = "serverIPAddress", default)]
    pub server_ip: Option<String>,
    #[serde(rename = "_webSocketMessages", default)]
    pub ws_messages: Option<Vec<WsMessage>>,
    #[serde(rename = "_resourceType", default)]
    pub resource_type: Option<String>,
}

/// `request`.
#[derive(Debug, Deserialize)]
pub(crate) struct Request {
    #[serde(default)]
    pub method: String,
    #[serde(default)]
    pub url: String,
    #[serde(default)]
    pub headers: Vec<Header>,
    #[serde(rename = "postData", default)]
    pub post_data: Option<PostData>,
}

/// `response`.
#[derive(Debug, Deserialize)]
pub(crate) struct Response {
    #[serde(default)]
    pub status: i64,
    #[serde(rename = "statusText", default)]
    pub status_text: String,
    #[serde(default)]
    pub headers: Vec<Header>,
    #[serde(default)]
    pub content: Option<Content>,
    /// The network error (`net::ERR_CONNECTION_REFUSED`): Chrome DevTools writes `_error`,
    /// Playwright `_failureText` (playwright-core 1.65.1 `lib/coreBundle.js:26704`, HarTracer).
    #[serde(rename = "_error", alias = "_failureText", default)]
    pub error: Option<String>,
}

/// A header.
#[derive(Debug, Deserialize)]
pub(crate) struct Header {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub value: String,
}

/// `postData`.
#[derive(Debug, Deserialize)]
pub(crate) struct PostData {
    #[serde(default)]
    pub text: Option<String>,
    /// Not in HAR 1.2, written by some exporters for binary bodies.
    #[serde(default)]
    pub encoding: Option<String>,
}

/// `content`.
#[derive(Debug, Deserialize)]
pub(crate) struct Content {
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub encoding: Option<String>,
    /// Playwright with `content: 'attach'` (or a `.zip` path): the body, or a WebSocket's
    /// messages as JSON lines, in a separate file of that name (playwright-core 1.65.1
    /// `lib/coreBundle.js:26746-26748`).
    #[serde(rename = "_file", default)]
    pub file: Option<String>,
}

/// `timings` (ms, -1 when not applicable).
#[derive(Debug, Deserialize)]
pub(crate) struct Timings {
    #[serde(default)]
    pub blocked: Option<f64>,
    #[serde(default)]
    pub dns: Option<f64>,
    #[serde(default)]
    pub connect: Option<f64>,
    #[serde(default)]
    pub send: Option<f64>,
    #[serde(default)]
    pub wait: Option<f64>,
}

/// One `_webSocketMessages` item.
#[derive(Debug, Deserialize)]
pub(crate) struct WsMessage {
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub time: f64,
    #[serde(default = "text_opcode")]
    pub opcode: u8,
    #[serde(default)]
    pub data: String,
}

fn text_opcode() -> u8 {
    1
}
