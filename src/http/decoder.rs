//! One direction of an HTTP/1.1 connection, decoded incrementally.

use std::collections::VecDeque;
use std::ops::Range;

use super::HttpError;

/// Which side's messages this decoder reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Requests (client to server).
    Requests,
    /// Responses (server to client).
    Responses,
}

/// Limits that keep hostile input from using unbounded memory.
#[derive(Debug, Clone, Copy)]
pub struct HttpLimits {
    /// Longest head (start line and header fields) accepted; a longer one is
    /// [`HttpError::HeadTooLong`], however it was split into segments.
    pub max_head: usize,
    /// Most header fields (and trailer fields) accepted in one head; more is
    /// [`HttpError::TooManyHeaders`].
    pub max_headers: usize,
    /// Body bytes kept per message; the rest is counted but dropped (`body_truncated`).
    pub max_body: usize,
}

/// Header fields accepted per head by default: what the decoder always allowed (httparse needs
/// the room up front), ten times what a browser's Socket.IO request carries.
pub const DEFAULT_MAX_HEADERS: usize = 128;

/// Head bytes accepted by default: 64 KiB (node's `--max-http-header-size` default is 16 KiB,
/// nginx's `large_client_header_buffers` 4 × 8 KiB; a capture may show heads either refused).
pub const DEFAULT_MAX_HEAD: usize = 64 << 10;

impl Default for HttpLimits {
    fn default() -> Self {
        HttpLimits {
            max_head: DEFAULT_MAX_HEAD,
            max_headers: DEFAULT_MAX_HEADERS,
            max_body: 64 << 20,
        }
    }
}

/// The start line of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpHead {
    /// A request line.
    Request {
        /// The method, e.g. `GET`.
        method: String,
        /// The request target, e.g. `/socket.io/?EIO=4&transport=polling`.
        target: String,
    },
    /// A status line.
    Response {
        /// The status code, e.g. `101`.
        status: u16,
        /// The reason phrase, e.g. `Switching Protocols`.
        reason: String,
    },
}

/// A complete HTTP message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpMessage {
    /// Stream offsets from the first byte of the head to the last byte of the body.
    pub span: Range<u64>,
    /// Start line.
    pub head: HttpHead,
    /// Minor version of HTTP/1.x.
    pub version: u8,
    /// Header fields in order, names as sent.
    pub headers: Vec<(String, String)>,
    /// The body after transfer decoding (chunks joined), not content decoding.
    pub body: Vec<u8>,
    /// Body length on the wire after transfer decoding (may exceed `body.len()` when capped).
    pub body_len: u64,
    /// True when more than `max_body` bytes arrived and the rest was dropped.
    pub body_truncated: bool,
    /// True when the body was chunked.
    pub chunked: bool,
}

/// The value of the first header field called `name` (field names are case-insensitive,
/// RFC 9110 §5.1) in a list of `(name, value)` pairs.
pub fn header_value<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

impl HttpMessage {
    /// The message carries the `close` connection option: RFC 9112 §9.6, "The "close" connection
    /// option is defined as a signal that the sender will close this connection after completion
    /// of the response" (`Connection` is a comma-separated list of case-insensitive options).
    pub fn connection_close(&self) -> bool {
        self.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case("connection"))
            .flat_map(|(_, v)| v.split(','))
            .any(|o| o.trim().eq_ignore_ascii_case("close"))
    }

    /// The value of the first header called `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        header_value(&self.headers, name)
    }

    /// True when the body is declared binary (`Content-Type: application/octet-stream`: the
    /// Engine.IO v3 XHR2 payload framing).
    pub fn is_octet_stream(&self) -> bool {
        self.header("content-type")
            .is_some_and(|v| v.contains("octet-stream"))
    }

    /// True for a request asking to switch to WebSocket (RFC 6455 §4.1: `Upgrade: websocket`).
    pub fn is_websocket_upgrade_request(&self) -> bool {
        matches!(self.head, HttpHead::Request { .. })
            && self
                .header("upgrade")
                .is_some_and(|v| v.to_ascii_lowercase().contains("websocket"))
    }

    /// The status code of a response.
    pub fn status(&self) -> Option<u16> {
        match self.head {
            HttpHead::Response { status, .. } => Some(status),
            HttpHead::Request { .. } => None,
        }
    }
}

/// What the decoder produces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpOutput {
    /// A complete message.
    Message(HttpMessage),
    /// Decoding of this direction stopped here.
    Error {
        /// Where (stream offsets).
        span: Range<u64>,
        /// Why.
        error: HttpError,
    },
}

#[derive(Debug)]
enum Framing {
    None,
    Length(u64),
    Chunked(Chunk),
    UntilClose,
}

#[derive(Debug, Clone, Copy)]
enum Chunk {
    Size,
    Data(u64),
    DataEnd,
    Trailers,
}

#[derive(Debug)]
enum State {
    Head,
    Body(Box<HttpMessage>, Framing),
    /// A request asked to upgrade: later bytes belong to WebSocket if the answer is 101.
    AwaitUpgrade,
    /// Switched protocols: the rest is not HTTP.
    Upgraded,
    Dead,
}

/// Incremental HTTP/1.1 decoder for one direction.
#[derive(Debug)]
pub struct HttpDecoder {
    role: Role,
    limits: HttpLimits,
    buf: Vec<u8>,
    /// Stream offset of `buf[0]`.
    buf_start: u64,
    state: State,
    /// For responses: methods of the requests still waiting for an answer.
    methods: VecDeque<String>,
}

impl HttpDecoder {
    /// A decoder for one direction.
    pub fn new(role: Role, limits: HttpLimits) -> Self {
        HttpDecoder {
            role,
            limits,
            buf: Vec::new(),
            buf_start: 0,
            state: State::Head,
            methods: VecDeque::new(),
        }
    }

    /// For a response decoder: a request with this method was sent (its response has no body if
    /// it is `HEAD`).
    pub fn expect_response_to(&mut self, method: &str) {
        if self.methods.len() < 1024 {
            self.methods.push_back(method.to_string());
        }
    }

    /// Appends bytes of the stream.
    pub fn push(&mut self, bytes: &[u8]) {
        match self.state {
            State::Dead => self.buf_start += bytes.len() as u64,
            _ => self.buf.extend_from_slice(bytes),
        }
    }

    /// Bytes of the stream were lost: message boundaries are unknown from here on.
    pub fn gap(&mut self, len: u64) -> Option<HttpOutput> {
        if matches!(self.state, State::Dead) {
            self.buf_start += len;
            return None;
        }
        let start = self.buf_start;
        let end = start + self.buf.len() as u64 + len;
        self.state = State::Dead;
        self.buf.clear();
        self.buf_start = end;
        Some(HttpOutput::Error {
            span: start..end,
            error: HttpError::Gap(len),
        })
    }

    /// True once the connection switched protocols (after a `101`).
    pub fn is_upgraded(&self) -> bool {
        matches!(self.state, State::Upgraded)
    }

    /// True while a request decoder waits for the answer to an upgrade request.
    pub fn awaiting_upgrade(&self) -> bool {
        matches!(self.state, State::AwaitUpgrade)
    }

    /// For a request decoder waiting on an upgrade: the answer was not `101`, go on with HTTP.
    pub fn upgrade_refused(&mut self) {
        if matches!(self.state, State::AwaitUpgrade) {
            self.state = State::Head;
        }
    }

    /// After [`take_upgraded`](Self::take_upgraded): the upgraded stream turned out to hold HTTP
    /// after all (a server that wrote a response after its `101`); parse messages again from
    /// stream offset `offset`.
    pub fn resume_http_at(&mut self, offset: u64) {
        self.state = State::Head;
        self.buf.clear();
        self.buf_start = offset;
    }

    /// Switches this direction to the upgraded protocol and returns the buffered bytes that
    /// follow the HTTP message, with the stream offset of the first one.
    pub fn take_upgraded(&mut self) -> (u64, Vec<u8>) {
        self.state = State::Upgraded;
        let start = self.buf_start;
        let rest = std::mem::take(&mut self.buf);
        self.buf_start += rest.len() as u64;
        (start, rest)
    }

    /// The next complete message, or `None` when more bytes are needed.
    pub fn poll(&mut self) -> Option<HttpOutput> {
        loop {
            match std::mem::replace(&mut self.state, State::Dead) {
                State::Head => {
                    if self.buf.is_empty() {
                        self.state = State::Head;
                        return None;
                    }
                    match self.parse_head() {
                        Ok(None) => {
                            self.state = State::Head;
                            return None;
                        }
                        Ok(Some((msg, framing))) => {
                            self.state = State::Body(Box::new(msg), framing);
                        }
                        Err(error) => return Some(self.die(error)),
                    }
                }
                State::Body(mut msg, framing) => match self.read_body(&mut msg, framing) {
                    Ok(Some(framing)) => {
                        self.state = State::Body(msg, framing);
                        return None;
                    }
                    Ok(None) => {
                        msg.span.end = self.buf_start;
                        self.state = self.after(&msg);
                        return Some(HttpOutput::Message(*msg));
                    }
                    Err(error) => return Some(self.die(error)),
                },
                other => {
                    self.state = other;
                    return None;
                }
            }
        }
    }

    /// The end of the stream: a body that runs until close is complete; anything else pending
    /// is reported as truncated.
    pub fn finish(&mut self) -> Option<HttpOutput> {
        match std::mem::replace(&mut self.state, State::Dead) {
            State::Body(mut msg, Framing::UntilClose) => {
                msg.span.end = self.buf_start;
                Some(HttpOutput::Message(*msg))
            }
            State::Body(msg, _) => Some(HttpOutput::Error {
                span: msg.span.start..self.buf_start + self.buf.len() as u64,
                error: HttpError::Truncated("body"),
            }),
            State::Head if !self.buf.is_empty() => Some(HttpOutput::Error {
                span: self.buf_start..self.buf_start + self.buf.len() as u64,
                error: HttpError::Truncated("head"),
            }),
            other => {
                self.state = other;
                None
            }
        }
    }

    fn after(&mut self, msg: &HttpMessage) -> State {
        match (&msg.head, self.role) {
            (HttpHead::Response { status: 101, .. }, Role::Responses) => State::Upgraded,
            (HttpHead::Request { .. }, Role::Requests) if msg.is_websocket_upgrade_request() => {
                State::AwaitUpgrade
            }
            _ => State::Head,
        }
    }

    /// Stops decoding this direction. The error's span is the position where decoding stopped
    /// (empty), so that it does not depend on how much input happened to be buffered.
    fn die(&mut self, error: HttpError) -> HttpOutput {
        let span = self.buf_start..self.buf_start;
        self.buf_start += self.buf.len() as u64;
        self.buf.clear();
        self.state = State::Dead;
        HttpOutput::Error { span, error }
    }

    fn consume(&mut self, n: usize) {
        let n = n.min(self.buf.len());
        self.buf.drain(..n);
        self.buf_start += n as u64;
    }

    fn parse_head(&mut self) -> Result<Option<(HttpMessage, Framing)>, HttpError> {
        // Tolerate stray CRLFs between messages (RFC 9112 §2.2: "SHOULD ignore at least one
        // empty line (CRLF) received prior to the request-line").
        while self.buf.starts_with(b"\r\n") {
            self.consume(2);
        }
        if self.buf.is_empty() {
            return Ok(None);
        }
        // A header field takes at least 3 bytes ("a:" CRLF), so a head within `max_head` never
        // needs more room than this, whatever `max_headers` says.
        let room = self.limits.max_headers.min(self.limits.max_head / 3 + 1);
        let mut headers = vec![httparse::EMPTY_HEADER; room];
        let start = self.buf_start;
        let (head_len, head, version, fields) = match self.role {
            Role::Requests => {
                let mut req = httparse::Request::new(&mut headers);
                match req.parse(&self.buf) {
                    Ok(httparse::Status::Partial) => return self.partial(),
                    Ok(httparse::Status::Complete(n)) => (
                        n,
                        HttpHead::Request {
                            method: req.method.unwrap_or("").to_string(),
                            target: req.path.unwrap_or("").to_string(),
                        },
                        req.version.unwrap_or(1),
                        collect(req.headers),
                    ),
                    Err(e) => return Err(self.head_error(e)),
                }
            }
            Role::Responses => {
                let mut res = httparse::Response::new(&mut headers);
                match res.parse(&self.buf) {
                    Ok(httparse::Status::Partial) => return self.partial(),
                    Ok(httparse::Status::Complete(n)) => (
                        n,
                        HttpHead::Response {
                            status: res.code.unwrap_or(0),
                            reason: res.reason.unwrap_or("").to_string(),
                        },
                        res.version.unwrap_or(1),
                        collect(res.headers),
                    ),
                    Err(e) => return Err(self.head_error(e)),
                }
            }
        };
        if head_len > self.limits.max_head {
            // A complete head over the limit is refused as a partial one is: the outcome must not
            // depend on how the bytes were segmented.
            return Err(HttpError::HeadTooLong(self.limits.max_head));
        }
        self.consume(head_len);
        let mut msg = HttpMessage {
            span: start..self.buf_start,
            head,
            version,
            headers: fields,
            body: Vec::new(),
            body_len: 0,
            body_truncated: false,
            chunked: false,
        };
        let framing = self.framing(&mut msg)?;
        Ok(Some((msg, framing)))
    }

    /// What httparse's refusal of a head means: too many fields for the room it was given (the
    /// field limit, or a head that cannot fit `max_head`), or a malformed head.
    fn head_error(&self, e: httparse::Error) -> HttpError {
        match e {
            // httparse: "Too many headers" when the fields do not fit the slice it was given.
            httparse::Error::TooManyHeaders
                if self.limits.max_headers <= self.limits.max_head / 3 =>
            {
                HttpError::TooManyHeaders(self.limits.max_headers)
            }
            httparse::Error::TooManyHeaders => HttpError::HeadTooLong(self.limits.max_head),
            e => HttpError::BadHead(e.to_string()),
        }
    }

    fn partial(&self) -> Result<Option<(HttpMessage, Framing)>, HttpError> {
        if self.buf.len() > self.limits.max_head {
            Err(HttpError::HeadTooLong(self.limits.max_head))
        } else {
            Ok(None)
        }
    }

    /// RFC 9112 §6.3, message body length, in its order of precedence.
    fn framing(&mut self, msg: &mut HttpMessage) -> Result<Framing, HttpError> {
        if let HttpHead::Response { status, .. } = msg.head {
            let method = self.methods.pop_front();
            // "Any response to a HEAD request and any response with a 1xx (Informational), 204
            // (No Content), or 304 (Not Modified) status code is always terminated by the first
            // empty line after the header fields"
            if method.as_deref() == Some("HEAD")
                || (100..200).contains(&status)
                || status == 204
                || status == 304
            {
                if (100..200).contains(&status) && status != 101 {
                    // An interim response: the final one still answers the same request.
                    if let Some(m) = method {
                        self.methods.push_front(m);
                    }
                }
                return Ok(Framing::None);
            }
        }
        // "If a Transfer-Encoding header field is present and the chunked transfer coding is the
        // final encoding, the message body length is determined by reading and decoding the
        // chunked data until the transfer coding indicates the data is complete."
        if let Some(te) = msg.header("transfer-encoding") {
            if te
                .rsplit(',')
                .next()
                .is_some_and(|last| last.trim().eq_ignore_ascii_case("chunked"))
            {
                msg.chunked = true;
                return Ok(Framing::Chunked(Chunk::Size));
            }
        }
        let lengths: Vec<&str> = msg
            .headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case("content-length"))
            .flat_map(|(_, v)| v.split(','))
            .map(str::trim)
            .collect();
        if let Some(first) = lengths.first() {
            // "If a message is received ... with multiple Content-Length header fields having
            // differing field-values ... the recipient MUST treat it as an unrecoverable error"
            if lengths.iter().any(|l| l != first) {
                return Err(HttpError::BadContentLength(lengths.join(",")));
            }
            let n: u64 = first
                .parse()
                .map_err(|_| HttpError::BadContentLength((*first).to_string()))?;
            return Ok(if n == 0 {
                Framing::None
            } else {
                Framing::Length(n)
            });
        }
        Ok(match self.role {
            // "If this is a request message and none of the above are true, then the message body
            // length is zero"
            Role::Requests => Framing::None,
            // "Otherwise, this is a response message without a declared message body length, so
            // the message body length is determined by the number of octets received prior to
            // the server closing the connection."
            Role::Responses => Framing::UntilClose,
        })
    }

    fn take_body(&mut self, msg: &mut HttpMessage, n: usize) {
        let n = n.min(self.buf.len());
        let room = self.limits.max_body.saturating_sub(msg.body.len());
        let keep = n.min(room);
        if let Some(part) = self.buf.get(..keep) {
            msg.body.extend_from_slice(part);
        }
        if keep < n {
            msg.body_truncated = true;
        }
        msg.body_len += n as u64;
        self.consume(n);
    }

    /// Reads body bytes; `Ok(None)` when the body is complete, `Ok(Some(framing))` when more are
    /// needed.
    fn read_body(
        &mut self,
        msg: &mut HttpMessage,
        framing: Framing,
    ) -> Result<Option<Framing>, HttpError> {
        match framing {
            Framing::None => Ok(None),
            Framing::Length(left) => {
                let n = usize::try_from(left)
                    .unwrap_or(usize::MAX)
                    .min(self.buf.len());
                self.take_body(msg, n);
                let left = left - n as u64;
                Ok((left > 0).then_some(Framing::Length(left)))
            }
            Framing::UntilClose => {
                let n = self.buf.len();
                self.take_body(msg, n);
                Ok(Some(Framing::UntilClose))
            }
            Framing::Chunked(mut st) => loop {
                match st {
                    Chunk::Size => {
                        let Some(eol) = find_crlf(&self.buf) else {
                            if self.buf.len() > 1024 {
                                return Err(HttpError::BadChunk(
                                    String::from_utf8_lossy(self.buf.get(..64).unwrap_or(&[]))
                                        .into_owned(),
                                ));
                            }
                            return Ok(Some(Framing::Chunked(st)));
                        };
                        let line = String::from_utf8_lossy(self.buf.get(..eol).unwrap_or(&[]))
                            .into_owned();
                        // chunk = chunk-size [ chunk-ext ] CRLF (RFC 9112 §7.1)
                        let size_txt = line.split(';').next().unwrap_or("").trim();
                        let size = u64::from_str_radix(size_txt, 16)
                            .map_err(|_| HttpError::BadChunk(line.clone()))?;
                        self.consume(eol + 2);
                        st = if size == 0 {
                            Chunk::Trailers
                        } else {
                            Chunk::Data(size)
                        };
                    }
                    Chunk::Data(left) => {
                        let n = usize::try_from(left)
                            .unwrap_or(usize::MAX)
                            .min(self.buf.len());
                        self.take_body(msg, n);
                        let left = left - n as u64;
                        if left > 0 {
                            return Ok(Some(Framing::Chunked(Chunk::Data(left))));
                        }
                        st = Chunk::DataEnd;
                    }
                    Chunk::DataEnd => {
                        if self.buf.len() < 2 {
                            return Ok(Some(Framing::Chunked(st)));
                        }
                        if !self.buf.starts_with(b"\r\n") {
                            return Err(HttpError::BadChunk(
                                "missing CRLF after chunk data".into(),
                            ));
                        }
                        self.consume(2);
                        st = Chunk::Size;
                    }
                    Chunk::Trailers => {
                        // trailer-section = *( field-line CRLF ) CRLF
                        let Some(eol) = find_crlf(&self.buf) else {
                            if self.buf.len() > self.limits.max_head {
                                return Err(HttpError::HeadTooLong(self.limits.max_head));
                            }
                            return Ok(Some(Framing::Chunked(st)));
                        };
                        self.consume(eol + 2);
                        if eol == 0 {
                            return Ok(None);
                        }
                    }
                }
            },
        }
    }
}

fn find_crlf(b: &[u8]) -> Option<usize> {
    b.windows(2).position(|w| w == b"\r\n")
}

fn collect(h: &[httparse::Header<'_>]) -> Vec<(String, String)> {
    h.iter()
        .map(|h| {
            (
                h.name.to_string(),
                // Checked first as UTF-8 (a word at a time for ASCII, as nearly every value
                // is); the lossy pass only for a value that is not.
                std::str::from_utf8(h.value).map_or_else(
                    |_| String::from_utf8_lossy(h.value).into_owned(),
                    str::to_owned,
                ),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(d: &mut HttpDecoder) -> Vec<HttpOutput> {
        let mut v = vec![];
        while let Some(o) = d.poll() {
            v.push(o);
        }
        v
    }

    fn msg(o: &HttpOutput) -> &HttpMessage {
        match o {
            HttpOutput::Message(m) => m,
            HttpOutput::Error { error, .. } => panic!("unexpected error {error}"),
        }
    }

    #[test]
    fn pipelined_polling_requests_with_content_length() {
        let mut d = HttpDecoder::new(Role::Requests, HttpLimits::default());
        d.push(b"POST /socket.io/?EIO=4&transport=polling&sid=x HTTP/1.1\r\nContent-Length: 6\r\n\r\n4hell");
        d.push(b"oGET /socket.io/?EIO=4&transport=polling&sid=x HTTP/1.1\r\nHost: a\r\n\r\n");
        let out = all(&mut d);
        assert_eq!(out.len(), 2);
        assert_eq!(msg(&out[0]).body, b"4hello");
        assert_eq!(msg(&out[0]).span, 0..84);
        assert!(matches!(&msg(&out[1]).head, HttpHead::Request { method, .. } if method == "GET"));
        assert_eq!(msg(&out[1]).span.start, 84);
    }

    #[test]
    fn connection_close_option_is_a_token_of_the_connection_header() {
        let mut d = HttpDecoder::new(Role::Requests, HttpLimits::default());
        d.push(b"GET /engine.io/?EIO=4&transport=polling HTTP/1.1\r\nconnection: Keep-Alive, CLOSE\r\n\r\n");
        d.push(
            b"GET /engine.io/?EIO=4&transport=polling HTTP/1.1\r\nConnection: keep-alive\r\n\r\n",
        );
        d.push(b"GET /engine.io/?EIO=4&transport=polling HTTP/1.1\r\nConnection: closed\r\n\r\n");
        let out = all(&mut d);
        let flags: Vec<bool> = out.iter().map(|o| msg(o).connection_close()).collect();
        assert_eq!(flags, [true, false, false]);
    }

    #[test]
    fn chunked_body_split_at_every_byte() {
        let wire: &[u8] = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4;ext=1\r\n4hel\r\n3\r\nlo\x1e\r\n0\r\nX-T: y\r\n\r\n";
        let mut d = HttpDecoder::new(Role::Responses, HttpLimits::default());
        let mut out = vec![];
        for b in wire {
            d.push(std::slice::from_ref(b));
            out.extend(all(&mut d));
        }
        assert_eq!(out.len(), 1);
        let m = msg(&out[0]);
        assert_eq!(m.body, b"4hello\x1e");
        assert!(m.chunked);
        assert_eq!(m.span, 0..wire.len() as u64);
    }

    #[test]
    fn head_response_has_no_body_and_until_close_body_ends_at_eof() {
        let mut d = HttpDecoder::new(Role::Responses, HttpLimits::default());
        d.expect_response_to("HEAD");
        d.expect_response_to("GET");
        d.push(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nHTTP/1.0 200 OK\r\n\r\nabc");
        let out = all(&mut d);
        assert_eq!(out.len(), 1);
        assert!(msg(&out[0]).body.is_empty());
        let last = d.finish();
        assert_eq!(msg(last.as_ref().unwrap()).body, b"abc");
    }

    #[test]
    fn switching_protocols_hands_over_the_following_bytes() {
        let mut req = HttpDecoder::new(Role::Requests, HttpLimits::default());
        req.push(b"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\x81\x85");
        let out = all(&mut req);
        assert!(msg(&out[0]).is_websocket_upgrade_request());
        assert!(req.awaiting_upgrade());
        assert!(req.poll().is_none());
        let mut res = HttpDecoder::new(Role::Responses, HttpLimits::default());
        res.expect_response_to("GET");
        res.push(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x02hi");
        let out = all(&mut res);
        assert_eq!(msg(&out[0]).status(), Some(101));
        assert!(res.is_upgraded());
        assert_eq!(res.take_upgraded(), (56, b"\x81\x02hi".to_vec()));
        assert_eq!(req.take_upgraded().1, b"\x81\x85");
    }

    #[test]
    fn conflicting_content_lengths_are_an_error() {
        let mut d = HttpDecoder::new(Role::Requests, HttpLimits::default());
        d.push(b"POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n");
        assert!(matches!(
            d.poll(),
            Some(HttpOutput::Error {
                error: HttpError::BadContentLength(_),
                ..
            })
        ));
        d.push(b"more");
        assert!(d.poll().is_none());
    }

    #[test]
    fn garbage_and_overlong_heads_stop_the_direction() {
        let mut d = HttpDecoder::new(Role::Requests, HttpLimits::default());
        d.push(b"\x00\x01binary\r\n\r\n");
        assert!(matches!(
            d.poll(),
            Some(HttpOutput::Error {
                error: HttpError::BadHead(_),
                ..
            })
        ));
        let mut d = HttpDecoder::new(
            Role::Requests,
            HttpLimits {
                max_head: 16,
                max_body: 4,
                ..HttpLimits::default()
            },
        );
        d.push(b"GET / HTTP/1.1\r\nX-Long: aaaaaaaaaaaaaaaa");
        assert!(matches!(
            d.poll(),
            Some(HttpOutput::Error {
                error: HttpError::HeadTooLong(16),
                ..
            })
        ));
    }

    /// The first output of a request decoder given `head` in two pushes, cut at `cut`.
    fn first_output_split(limits: HttpLimits, head: &[u8], cut: usize) -> Option<HttpOutput> {
        let mut d = HttpDecoder::new(Role::Requests, limits);
        let (a, b) = head.split_at(cut);
        d.push(a);
        let first = d.poll();
        d.push(b);
        first.or_else(|| d.poll())
    }

    /// `--max-header-count`: one field more than the limit stops the direction, split or not.
    #[test]
    fn a_head_with_more_fields_than_the_limit_is_too_many_headers() {
        let limits = HttpLimits {
            max_headers: 2,
            ..HttpLimits::default()
        };
        let head: &[u8] = b"GET / HTTP/1.1\r\nHost: a\r\nX-1: b\r\nX-2: c\r\n\r\n";
        for cut in [head.len(), 20, 1] {
            assert_eq!(
                first_output_split(limits, head, cut),
                Some(HttpOutput::Error {
                    span: 0..0,
                    error: HttpError::TooManyHeaders(2)
                }),
                "cut at {cut}"
            );
        }
        // Exactly the limit is fine.
        let mut d = HttpDecoder::new(Role::Requests, limits);
        d.push(b"GET / HTTP/1.1\r\nHost: a\r\nX-1: b\r\n\r\n");
        assert_eq!(msg(&all(&mut d)[0]).headers.len(), 2);
    }

    /// `--max-header-size`: a complete head over the limit is refused as a partial one is.
    #[test]
    fn a_complete_head_over_the_size_limit_is_refused_like_a_partial_one() {
        let limits = HttpLimits {
            max_head: 24,
            ..HttpLimits::default()
        };
        let head: &[u8] = b"GET / HTTP/1.1\r\nHost: abcdefgh\r\n\r\n";
        for cut in [head.len(), 25, 10] {
            assert_eq!(
                first_output_split(limits, head, cut),
                Some(HttpOutput::Error {
                    span: 0..0,
                    error: HttpError::HeadTooLong(24)
                }),
                "cut at {cut}"
            );
        }
        let mut d = HttpDecoder::new(Role::Requests, limits);
        d.push(b"GET / HTTP/1.1\r\nA: b\r\n\r\n");
        assert!(matches!(all(&mut d)[0], HttpOutput::Message(_)));
    }

    #[test]
    fn error_position_does_not_depend_on_input_split() {
        // fuzz regression (http target): "\x1a\n0" whole vs split after one byte
        let mut whole = HttpDecoder::new(Role::Requests, HttpLimits::default());
        whole.push(b"\x1a\n0");
        let mut split = HttpDecoder::new(Role::Requests, HttpLimits::default());
        split.push(b"\x1a");
        let a = split.poll();
        split.push(b"\n0");
        assert_eq!(whole.poll(), a);
        assert!(matches!(a, Some(HttpOutput::Error { span, .. }) if span == (0..0)));
    }

    #[test]
    fn body_over_the_cap_is_counted_not_kept() {
        let mut d = HttpDecoder::new(
            Role::Requests,
            HttpLimits {
                max_head: 1024,
                max_body: 4,
                ..HttpLimits::default()
            },
        );
        d.push(b"POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\n0123456789");
        let out = all(&mut d);
        let m = msg(&out[0]);
        assert_eq!(m.body, b"0123");
        assert_eq!(m.body_len, 10);
        assert!(m.body_truncated);
    }

    #[test]
    fn bad_chunk_size_and_truncated_body() {
        let mut d = HttpDecoder::new(Role::Responses, HttpLimits::default());
        d.push(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n");
        assert!(matches!(
            d.poll(),
            Some(HttpOutput::Error {
                error: HttpError::BadChunk(_),
                ..
            })
        ));
        let mut d = HttpDecoder::new(Role::Responses, HttpLimits::default());
        d.push(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nabc");
        assert!(d.poll().is_none());
        assert!(matches!(
            d.finish(),
            Some(HttpOutput::Error {
                error: HttpError::Truncated("body"),
                ..
            })
        ));
    }
}
