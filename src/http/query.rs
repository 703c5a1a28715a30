//! Request targets: the path and the decoded query parameters.
//!
//! Engine.IO puts its parameters in the query (engine.io-protocol: "EIO: the version of the
//! protocol", "transport: the name of the transport", "sid: the session identifier", plus `t` a
//! cache-busting timestamp and `j` the JSONP index); socket.io 0.9 puts the transport and session
//! id in the path instead (`/socket.io/1/xhr-polling/<sid>`).

/// Splits `target` into its path and its `(name, value)` query pairs, percent-decoded
/// (`+` means space, as in form encoding). Malformed escapes are kept as they are.
pub fn split_target(target: &str) -> (String, Vec<(String, String)>) {
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p, q),
        None => (target, ""),
    };
    let query = query.split('#').next().unwrap_or("");
    let pairs = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (percent_decode(k), percent_decode(v)),
            None => (percent_decode(p), String::new()),
        })
        .collect();
    (percent_decode(path), pairs)
}

/// The value of the first query parameter called `name`.
pub fn param<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// Decodes `%XX` escapes and `+`; invalid escapes and invalid UTF-8 are kept/replaced, never an error.
pub fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    // Most names and values have nothing to decode: they are already the text.
    if !b.iter().any(|&c| c == b'%' || c == b'+') {
        return s.to_string();
    }
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        match c {
            b'%' => {
                let hex = b
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok());
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(v) => {
                        out.push(v);
                        i += 3;
                    }
                    None => {
                        out.push(c);
                        i += 1;
                    }
                }
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engineio_polling_target() {
        let (path, q) = split_target("/socket.io/?EIO=4&transport=polling&t=OzK1a2b&sid=AbC-12_x");
        assert_eq!(path, "/socket.io/");
        assert_eq!(param(&q, "EIO"), Some("4"));
        assert_eq!(param(&q, "transport"), Some("polling"));
        assert_eq!(param(&q, "sid"), Some("AbC-12_x"));
        assert_eq!(param(&q, "t"), Some("OzK1a2b"));
        assert_eq!(param(&q, "j"), None);
    }

    #[test]
    fn escapes_plus_and_bad_escapes() {
        assert_eq!(percent_decode("a%2Fb+c%zz%"), "a/b c%zz%");
        assert_eq!(percent_decode("%E2%84%A2"), "™");
        let (path, q) = split_target("/x?flag&k=v%3D1");
        assert_eq!(path, "/x");
        assert_eq!(
            q,
            vec![("flag".into(), "".into()), ("k".into(), "v=1".into())]
        );
    }
}
