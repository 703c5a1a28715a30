//! HTTP/1.1 requests on a tokio `TcpStream`, responses read with [`HttpDecoder`].

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::{within, ClientError, Dir, Endpoint, Wire};
use crate::http::{HttpDecoder, HttpHead, HttpLimits, HttpOutput, Role};

/// Largest response body kept (bytes); polling answers in the checks are small.
const MAX_BODY: usize = 4 << 20;

/// A complete HTTP response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// Header fields in wire order.
    pub headers: Vec<(String, String)>,
    /// The body (de-chunked).
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The first header with this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Whether the body is `application/octet-stream` (the Engine.IO v3 XHR2 binary framing).
    pub fn is_octet_stream(&self) -> bool {
        self.header("content-type")
            .is_some_and(|v| v.trim().starts_with("application/octet-stream"))
    }

    /// The body as text, lossily.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Sends HTTP requests to one server, logging the bytes into a [`Wire`].
#[derive(Debug, Clone)]
pub struct HttpClient {
    endpoint: Endpoint,
    wire: Wire,
}

impl HttpClient {
    /// A client for `endpoint` that logs into `wire`.
    pub fn new(endpoint: Endpoint, wire: Wire) -> HttpClient {
        HttpClient { endpoint, wire }
    }

    /// `GET target` and its response, all within `limit`.
    pub async fn get(&self, target: &str, limit: Duration) -> Result<HttpResponse, ClientError> {
        self.send("GET", target, b"", limit).await
    }

    /// `POST target` with a `text/plain` body and its response, within `limit`.
    pub async fn post(
        &self,
        target: &str,
        body: &[u8],
        limit: Duration,
    ) -> Result<HttpResponse, ClientError> {
        self.send("POST", target, body, limit).await
    }

    /// Any request and its response, within `limit`.
    pub async fn send(
        &self,
        method: &str,
        target: &str,
        body: &[u8],
        limit: Duration,
    ) -> Result<HttpResponse, ClientError> {
        let deadline = tokio::time::Instant::now() + limit;
        let mut pending = self.start(method, target, body, limit).await?;
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        pending.response(left).await
    }

    /// Connects and writes a request within `limit`, without waiting for the answer.
    pub async fn start(
        &self,
        method: &str,
        target: &str,
        body: &[u8],
        limit: Duration,
    ) -> Result<PendingResponse, ClientError> {
        let channel = self.wire.channel(method);
        let mut stream = self.endpoint.connect(limit).await?;
        let mut head = format!(
            "{method} {target} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nAccept: */*\r\n",
            self.endpoint.addr()
        );
        if method != "GET" || !body.is_empty() {
            head.push_str(&format!(
                "Content-Type: text/plain;charset=UTF-8\r\nContent-Length: {}\r\n",
                body.len()
            ));
        }
        head.push_str("\r\n");
        let mut bytes = head.into_bytes();
        self.wire.note(&channel, format!("{method} {target}"));
        if !body.is_empty() {
            self.wire.bytes(Dir::Sent, &channel, body);
        }
        bytes.extend_from_slice(body);
        within(limit, "the request to be written", async {
            stream.write_all(&bytes).await?;
            Ok(())
        })
        .await?;
        let mut decoder = HttpDecoder::new(
            Role::Responses,
            HttpLimits {
                max_body: MAX_BODY,
                ..HttpLimits::default()
            },
        );
        decoder.expect_response_to(method);
        Ok(PendingResponse {
            stream,
            decoder,
            channel,
            wire: self.wire.clone(),
            received: 0,
        })
    }
}

/// A request that was written and whose response has not been read yet.
#[derive(Debug)]
pub struct PendingResponse {
    stream: TcpStream,
    decoder: HttpDecoder,
    channel: String,
    wire: Wire,
    received: usize,
}

impl PendingResponse {
    /// Reads the response within `limit`. After a [`ClientError::Timeout`] the request is
    /// still pending and this may be called again.
    pub async fn response(&mut self, limit: Duration) -> Result<HttpResponse, ClientError> {
        let result = within(limit, "the HTTP response", self.read()).await;
        match &result {
            Ok(r) => {
                self.wire.note(&self.channel, format!("HTTP {}", r.status));
                if !r.body.is_empty() {
                    self.wire.bytes(Dir::Received, &self.channel, &r.body);
                }
            }
            Err(e @ ClientError::Timeout(..)) => {
                self.wire.note(&self.channel, format!("still pending: {e}"))
            }
            Err(e) => self.wire.note(&self.channel, format!("no response: {e}")),
        }
        result
    }

    /// Abandons the request: the connection is closed without reading the answer (what a
    /// browser does when a `fetch` is aborted).
    pub fn abort(self) {
        self.wire.note(&self.channel, "aborted by the client");
        drop(self.stream);
    }

    async fn read(&mut self) -> Result<HttpResponse, ClientError> {
        let mut buf = vec![0u8; 16 << 10];
        loop {
            if let Some(out) = self.decoder.poll() {
                return to_response(out);
            }
            let n = self.stream.read(&mut buf).await?;
            if n == 0 {
                return match self.decoder.finish() {
                    Some(HttpOutput::Message(m)) => to_response(HttpOutput::Message(m)),
                    _ => Err(ClientError::Closed(self.received)),
                };
            }
            self.received = self.received.saturating_add(n);
            self.decoder.push(buf.get(..n).unwrap_or_default());
        }
    }
}

fn to_response(out: HttpOutput) -> Result<HttpResponse, ClientError> {
    match out {
        HttpOutput::Message(m) => match m.head {
            HttpHead::Response { status, .. } => Ok(HttpResponse {
                status,
                headers: m.headers,
                body: m.body,
            }),
            HttpHead::Request { .. } => {
                Err(ClientError::Http("a request instead of a response".into()))
            }
        },
        HttpOutput::Error { error, .. } => Err(ClientError::Http(error.to_string())),
    }
}
