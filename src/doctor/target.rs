//! What `doctor` is pointed at: a URL such as `http://127.0.0.1:3000`, `https://app.example/`,
//! `ws://host:8080/custom-path/` or a bare `host:port`, reduced to scheme, host, port and the
//! Engine.IO path (default `/socket.io/`, as the JavaScript client uses).

use super::DoctorError;
use crate::client::Endpoint;

/// Where to probe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// TLS (`https`/`wss`).
    pub tls: bool,
    /// Host name or address as given (IPv6 without brackets).
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// The Engine.IO path, starting and ending with `/`.
    pub path: String,
}

impl Target {
    /// Parses a URL. `path` overrides the path of the URL. Query strings and fragments are
    /// ignored; user info is refused (doctor sends no credentials).
    pub fn parse(url: &str, path: Option<&str>) -> Result<Target, DoctorError> {
        let bad = |why: &str| DoctorError::BadUrl {
            url: url.to_string(),
            why: why.to_string(),
        };
        let url_t = url.trim();
        let (scheme, rest) = match url_t.split_once("://") {
            Some((s, r)) => (s.to_ascii_lowercase(), r),
            None => ("http".to_string(), url_t),
        };
        let tls = match scheme.as_str() {
            "http" | "ws" => false,
            "https" | "wss" => true,
            _ => return Err(bad("the scheme must be http, https, ws or wss")),
        };
        let rest = rest.split(['?', '#']).next().unwrap_or("");
        let (authority, url_path) = match rest.find('/') {
            Some(i) => rest.split_at(i),
            None => (rest, ""),
        };
        if authority.contains('@') {
            return Err(bad("user information in the URL is not supported"));
        }
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let (h, after) = v6
                .split_once(']')
                .ok_or_else(|| bad("unclosed [ in an IPv6 address"))?;
            let port = match after.strip_prefix(':') {
                Some(p) => Some(p),
                None if after.is_empty() => None,
                None => return Err(bad("garbage after the IPv6 address")),
            };
            (h.to_string(), port)
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (h.to_string(), Some(p)),
                None => (authority.to_string(), None),
            }
        };
        if host.is_empty() {
            return Err(bad("no host"));
        }
        let port = match port {
            Some(p) => p
                .parse::<u16>()
                .ok()
                .filter(|p| *p != 0)
                .ok_or_else(|| bad("the port must be a number from 1 to 65535"))?,
            None if tls => 443,
            None => 80,
        };
        let raw_path = path.unwrap_or(url_path);
        let path = normalize_path(raw_path);
        if path.bytes().any(|b| b.is_ascii_control() || b == b' ') {
            return Err(bad("the path contains spaces or control characters"));
        }
        Ok(Target {
            tls,
            host,
            port,
            path,
        })
    }

    /// `host:port` for messages (IPv6 in brackets).
    pub fn authority(&self) -> String {
        self.endpoint().addr()
    }

    /// The `Host` header value.
    pub fn host_header(&self) -> String {
        let default = if self.tls { 443 } else { 80 };
        if self.port == default {
            if self.host.contains(':') {
                format!("[{}]", self.host)
            } else {
                self.host.clone()
            }
        } else {
            self.authority()
        }
    }

    /// Where the shared client connects: this host and port, TLS as the scheme says.
    pub fn endpoint(&self) -> Endpoint {
        Endpoint {
            host: self.host.clone(),
            port: self.port,
            path: self.path.clone(),
            tls: self.tls,
        }
    }

    /// The URL as doctor reads it.
    pub fn display(&self) -> String {
        format!(
            "{}://{}{}",
            if self.tls { "https" } else { "http" },
            self.authority(),
            self.path
        )
    }
}

/// `""` and `"/"` mean the default `/socket.io/`; otherwise a leading and a trailing `/` are
/// added when missing (engine.io-client does the same with its `path` option).
fn normalize_path(p: &str) -> String {
    let p = p.trim();
    if p.is_empty() || p == "/" {
        return "/socket.io/".to_string();
    }
    let mut s = String::new();
    if !p.starts_with('/') {
        s.push('/');
    }
    s.push_str(p);
    if !s.ends_with('/') {
        s.push('/');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let t = Target::parse("http://127.0.0.1:3000", None).unwrap();
        assert_eq!(
            (t.tls, t.host.as_str(), t.port, t.path.as_str()),
            (false, "127.0.0.1", 3000, "/socket.io/")
        );
        let t = Target::parse("wss://example.org/chat/io?x=1", None).unwrap();
        assert_eq!((t.tls, t.port, t.path.as_str()), (true, 443, "/chat/io/"));
        let t = Target::parse("[::1]:8080", Some("eio")).unwrap();
        assert_eq!(
            (t.host.as_str(), t.port, t.path.as_str()),
            ("::1", 8080, "/eio/")
        );
        assert_eq!(t.authority(), "[::1]:8080");
        assert!(Target::parse("ftp://x", None).is_err());
        assert!(Target::parse("http://x:99999", None).is_err());
        assert!(Target::parse("http://:80", None).is_err());
        assert!(Target::parse("http://u:p@x", None).is_err());
    }
}
