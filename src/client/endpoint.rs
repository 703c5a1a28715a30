//! Where the server under test listens: host, port, path, and whether to speak TLS.
//!
//! [`Endpoint::parse`] reads the plain `http://`/`ws://` URLs `check` takes; callers with their
//! own URL rules (doctor's `Target`) build an [`Endpoint`] directly, with `tls` set for
//! `https`/`wss`.

use super::ClientError;

/// A server address: host, port and the path named in the URL (if any).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// Host name or address literal as written (IPv6 without brackets).
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// The URL's path (`/` when none was given).
    pub path: String,
    /// Speak TLS on the connection (`https`/`wss`).
    pub tls: bool,
}

impl Endpoint {
    /// Parses `http://host[:port][/path]` or `ws://…` (port 80 by default). `https://` and
    /// `wss://` are refused: the checks speak plain TCP.
    pub fn parse(url: &str) -> Result<Endpoint, ClientError> {
        let bad = |why| ClientError::Url(url.to_string(), why);
        let rest = if let Some(r) = url.strip_prefix("http://") {
            r
        } else if let Some(r) = url.strip_prefix("ws://") {
            r
        } else if url.starts_with("https://") || url.starts_with("wss://") {
            return Err(bad(
                "TLS (https/wss) is not supported, use http:// or ws://",
            ));
        } else {
            return Err(bad("expected http://host:port"));
        };
        let (authority, path) = match rest.find(['/', '?']) {
            Some(i) => (
                rest.get(..i).unwrap_or_default(),
                rest.get(i..).unwrap_or("/"),
            ),
            None => (rest, "/"),
        };
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let (h, after) = v6
                .split_once(']')
                .ok_or_else(|| bad("unclosed [ in host"))?;
            (h, after.strip_prefix(':'))
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (authority, None),
            }
        };
        if host.is_empty() {
            return Err(bad("no host"));
        }
        let port = match port {
            Some(p) => p.parse().map_err(|_| bad("port is not a number 0-65535"))?,
            None => 80,
        };
        let path = path.split('?').next().unwrap_or("/");
        Ok(Endpoint {
            host: host.to_string(),
            port,
            path: if path.is_empty() {
                "/".into()
            } else {
                path.into()
            },
            tls: false,
        })
    }

    /// `host:port` for connecting (IPv6 in brackets).
    pub fn addr(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// Opens a plain TCP connection within `limit` (no TLS: see [`super::Conn::open`]).
    pub(crate) async fn connect_tcp(
        &self,
        limit: std::time::Duration,
    ) -> Result<tokio::net::TcpStream, ClientError> {
        let addr = self.addr();
        match tokio::time::timeout(limit, tokio::net::TcpStream::connect(&addr)).await {
            Err(_) => Err(ClientError::Timeout(limit, "the TCP connection")),
            Ok(Err(source)) => Err(ClientError::Connect { addr, source }),
            Ok(Ok(s)) => {
                s.set_nodelay(true).ok();
                Ok(s)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_usual_forms() {
        let e = Endpoint::parse("http://127.0.0.1:3000").unwrap();
        assert_eq!(
            (e.host.as_str(), e.port, e.path.as_str()),
            ("127.0.0.1", 3000, "/")
        );
        let e = Endpoint::parse("ws://[::1]:81/socket.io/?x=1").unwrap();
        assert_eq!(
            (e.host.as_str(), e.port, e.path.as_str()),
            ("::1", 81, "/socket.io/")
        );
        assert_eq!(e.addr(), "[::1]:81");
        assert_eq!(Endpoint::parse("http://localhost").unwrap().port, 80);
        assert!(Endpoint::parse("https://x").is_err());
        assert!(Endpoint::parse("x:1").is_err());
        assert!(Endpoint::parse("http://h:99999").is_err());
    }
}
