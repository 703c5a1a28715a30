//! HTTP/1.1 requests written by hand on a [`Conn`], responses read with [`HttpDecoder`].
//!
//! A request is the start line, `Host`, the caller's header fields in order, and for a body
//! (or any method but `GET`) `Content-Type: text/plain;charset=UTF-8` with its
//! `Content-Length` (RFC 9112 §6.2: "a user agent SHOULD send Content-Length in a request when
//! the method defines a meaning for enclosed content"). The response is read until the decoder
//! has one message; for a `101` the bytes after the head belong to the new protocol and are
//! handed back with it.

use std::time::Duration;

use super::{within, ClientError, Conn, Dir, Endpoint, Wire};
use crate::http::{HttpDecoder, HttpHead, HttpLimits, HttpMessage, HttpOutput, Role};

/// Largest response body kept (bytes); polling answers are small.
const MAX_BODY: usize = 4 << 20;

/// One HTTP/1.1 request, ready to be encoded.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// `GET`, `POST`, …
    pub method: &'a str,
    /// Path and query.
    pub target: &'a str,
    /// The `Host` header value.
    pub host: &'a str,
    /// Further header fields, written in this order after `Host`.
    pub headers: &'a [(&'a str, String)],
    /// The body (sent as `text/plain`).
    pub body: &'a [u8],
}

impl Request<'_> {
    /// The request's bytes: head and body.
    pub fn encode(&self) -> Vec<u8> {
        let mut head = format!(
            "{} {} HTTP/1.1\r\nHost: {}\r\n",
            self.method, self.target, self.host
        );
        for (k, v) in self.headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        if self.method != "GET" || !self.body.is_empty() {
            head.push_str(&format!(
                "Content-Type: text/plain;charset=UTF-8\r\nContent-Length: {}\r\n",
                self.body.len()
            ));
        }
        head.push_str("\r\n");
        let mut bytes = head.into_bytes();
        bytes.extend_from_slice(self.body);
        bytes
    }

    /// A decoder for the response to this request (a `HEAD` answer has no body).
    pub fn response_decoder(&self) -> HttpDecoder {
        let mut decoder = HttpDecoder::new(
            Role::Responses,
            HttpLimits {
                max_body: MAX_BODY,
                ..HttpLimits::default()
            },
        );
        decoder.expect_response_to(self.method);
        decoder
    }
}

/// Reads one response from `conn` into `decoder` within `limit`. Returns the message and, after
/// a `101`, the bytes that followed its head. After a [`ClientError::Timeout`] the decoder
/// keeps what arrived, and a later call continues.
pub async fn read_response(
    conn: &mut Conn,
    decoder: &mut HttpDecoder,
    limit: Duration,
) -> Result<(HttpMessage, Vec<u8>), ClientError> {
    within(limit, "the HTTP response", async {
        let mut buf = vec![0u8; 16 << 10];
        loop {
            if let Some(out) = decoder.poll() {
                return match out {
                    HttpOutput::Message(m) => {
                        let rest = if decoder.is_upgraded() {
                            decoder.take_upgraded().1
                        } else {
                            Vec::new()
                        };
                        Ok((m, rest))
                    }
                    HttpOutput::Error { error, .. } => Err(ClientError::Http(error.to_string())),
                };
            }
            let n = conn.read(&mut buf).await?;
            if n == 0 {
                return match decoder.finish() {
                    Some(HttpOutput::Message(m)) => Ok((m, Vec::new())),
                    _ => Err(ClientError::Closed(
                        usize::try_from(conn.received()).unwrap_or(usize::MAX),
                    )),
                };
            }
            decoder.push(buf.get(..n).unwrap_or_default());
        }
    })
    .await
}

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
        crate::http::header_value(&self.headers, name)
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

/// Sends HTTP requests to one server, one connection each, logging the bytes into a [`Wire`].
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
        let mut conn = Conn::open(&self.endpoint, limit).await?;
        let request = Request {
            method,
            target,
            host: &self.endpoint.addr(),
            headers: &[("Connection", "close".into()), ("Accept", "*/*".into())],
            body,
        };
        self.wire.note(&channel, format!("{method} {target}"));
        if !body.is_empty() {
            self.wire.bytes(Dir::Sent, &channel, body);
        }
        conn.send(&request.encode(), limit, "the request to be written")
            .await?;
        Ok(PendingResponse {
            conn,
            decoder: request.response_decoder(),
            channel,
            wire: self.wire.clone(),
        })
    }
}

/// A request that was written and whose response has not been read yet.
#[derive(Debug)]
pub struct PendingResponse {
    conn: Conn,
    decoder: HttpDecoder,
    channel: String,
    wire: Wire,
}

impl PendingResponse {
    /// Reads the response within `limit`. After a [`ClientError::Timeout`] the request is
    /// still pending and this may be called again.
    pub async fn response(&mut self, limit: Duration) -> Result<HttpResponse, ClientError> {
        let result = read_response(&mut self.conn, &mut self.decoder, limit)
            .await
            .and_then(|(m, _)| to_response(m));
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
        drop(self.conn);
    }
}

fn to_response(m: HttpMessage) -> Result<HttpResponse, ClientError> {
    match m.head {
        HttpHead::Response { status, .. } => Ok(HttpResponse {
            status,
            headers: m.headers,
            body: m.body,
        }),
        HttpHead::Request { .. } => {
            Err(ClientError::Http("a request instead of a response".into()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_carry_a_length_only_with_content() {
        let get = Request {
            method: "GET",
            target: "/socket.io/?EIO=4",
            host: "h:1",
            headers: &[("Accept", "*/*".into())],
            body: b"",
        };
        assert_eq!(
            get.encode(),
            b"GET /socket.io/?EIO=4 HTTP/1.1\r\nHost: h:1\r\nAccept: */*\r\n\r\n"
        );
        let post = Request {
            method: "POST",
            body: b"40",
            ..get
        };
        assert!(post.encode().ends_with(b"Content-Length: 2\r\n\r\n40"));
    }
}
