//! The JSONP polling transport's wrappers (Engine.IO v2/v3, and engine.io servers that still
//! offer it with v4).
//!
//! A JSONP poll response wraps the payload in a JavaScript call whose argument is the payload
//! as a JSON string literal; `N` is the `j` query parameter of the request:
//!
//! ```text
//! ___eio[4]("6:4hello");
//! ```
//!
//! A JSONP POST sends the payload as a form field `d` (`application/x-www-form-urlencoded`).
//! Before form-encoding, the client escapes newlines (`\n` → the two characters `\` `n`) and
//! doubles the backslash of an existing `\n` sequence, so the server undoes both:
//!
//! ```text
//! d=6%3A4hello      → 6:4hello
//! ```
//!
//! The functions return the unwrapped payload text, which then decodes like any text payload.

use std::ops::Range;

use super::error::EioError;

/// What a JSONP response starts with.
pub const RESPONSE_PREFIX: &[u8] = b"___eio[";

/// Unwraps `___eio[N]("…");`: returns `N` (absent when the request had no `j`), the byte range
/// of the string literal in `body`, and the payload text inside it.
pub fn decode_response(body: &[u8]) -> Result<(Option<u64>, Range<usize>, String), EioError> {
    let bad = |offset: usize, reason: &str| EioError::BadJsonp {
        offset,
        reason: reason.into(),
    };
    // engine.io-protocol v3: "`___eio[` <j> `]("` <encoded payload> `");`".
    let rest = body
        .strip_prefix(RESPONSE_PREFIX)
        .ok_or_else(|| bad(0, "no ___eio[ prefix"))?;
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    // The reference server writes the digits of `j` only, so `___eio[](` when `j` is absent.
    let index = if digits == 0 {
        None
    } else {
        Some(
            rest.iter()
                .take(digits)
                .try_fold(0u64, |n, d| {
                    n.checked_mul(10)?
                        .checked_add(u64::from(d.saturating_sub(b'0')))
                })
                .ok_or_else(|| bad(RESPONSE_PREFIX.len(), "bad callback index"))?,
        )
    };
    let after_index = RESPONSE_PREFIX.len().saturating_add(digits);
    let literal_start = after_index.saturating_add(2);
    if body.get(after_index..literal_start) != Some(b"](".as_slice()) {
        return Err(bad(after_index, "expected ](\" after the callback index"));
    }
    let literal = body.get(literal_start..).unwrap_or_default();
    if literal.first() != Some(&b'"') {
        return Err(bad(literal_start, "expected a string literal"));
    }
    let mut stream = serde_json::Deserializer::from_slice(literal).into_iter::<String>();
    let payload = match stream.next() {
        Some(Ok(s)) => s,
        Some(Err(e)) => return Err(bad(literal_start, &e.to_string())),
        None => return Err(bad(literal_start, "expected a string literal")),
    };
    let literal_end = literal_start.saturating_add(stream.byte_offset());
    let tail = body.get(literal_end..).unwrap_or_default();
    let tail = tail.strip_suffix(b"\n").unwrap_or(tail);
    if tail != b");" && tail != b")" {
        return Err(bad(literal_end, "expected \"); after the string literal"));
    }
    Ok((index, literal_start..literal_end, payload))
}

/// Unwraps a JSONP POST form body (`d=<escaped payload>`), returning the payload text.
pub fn decode_form(body: &[u8]) -> Result<String, EioError> {
    let bad = |offset: usize, reason: &str| EioError::BadJsonp {
        offset,
        reason: reason.into(),
    };
    let mut offset = 0usize;
    for field in body.split(|&b| b == b'&') {
        let field_offset = offset;
        offset = offset.saturating_add(field.len()).saturating_add(1);
        let Some(value) = field.strip_prefix(b"d=") else {
            continue;
        };
        let bytes = percent_decode(value);
        let text = String::from_utf8(bytes).map_err(|e| {
            bad(
                field_offset,
                &format!("form field d is not UTF-8 once decoded: {e}"),
            )
        })?;
        return Ok(unescape_newlines(&text));
    }
    Err(bad(0, "no form field d"))
}

/// Decodes `application/x-www-form-urlencoded` bytes (`+` is a space, `%XX` a byte; a `%`
/// without two hex digits stays as it is).
fn percent_decode(value: &[u8]) -> Vec<u8> {
    let hex = |b: u8| {
        char::from(b)
            .to_digit(16)
            .and_then(|d| u8::try_from(d).ok())
    };
    let mut out = Vec::with_capacity(value.len());
    let mut i = 0usize;
    while let Some(&b) = value.get(i) {
        match b {
            b'+' => out.push(b' '),
            b'%' => {
                let hi = value.get(i.saturating_add(1)).copied().and_then(hex);
                let lo = value.get(i.saturating_add(2)).copied().and_then(hex);
                if let (Some(hi), Some(lo)) = (hi, lo) {
                    out.push(hi.saturating_mul(16).saturating_add(lo));
                    i = i.saturating_add(3);
                    continue;
                }
                out.push(b'%');
            }
            _ => out.push(b),
        }
        i = i.saturating_add(1);
    }
    out
}

/// Undoes the JSONP client's newline escaping: `\\n` (backslash, backslash, n) → `\n`
/// (backslash, n), and `\n` (backslash, n) → a newline.
fn unescape_newlines(text: &str) -> String {
    // engine.io-protocol v3: "in order to prevent inconsistencies with `\n` handling by
    // browsers, `\n` gets escaped as `\\n` prior to being POSTd."
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find('\\') {
        out.push_str(rest.get(..i).unwrap_or_default());
        let after = rest.get(i..).unwrap_or_default();
        if let Some(r) = after.strip_prefix("\\\\n") {
            out.push_str("\\n");
            rest = r;
        } else if let Some(r) = after.strip_prefix("\\n") {
            out.push('\n');
            rest = r;
        } else {
            out.push('\\');
            rest = after.get(1..).unwrap_or_default();
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_response_example() {
        // engine.io-protocol v3: `___eio[4]("packet data");`
        let body = br#"___eio[4]("packet data");"#;
        let (index, range, text) = decode_response(body).unwrap();
        assert_eq!(index, Some(4));
        assert_eq!(text, "packet data");
        assert_eq!(&body[range], br#""packet data""#);
    }

    #[test]
    fn response_with_escapes() {
        let body = "___eio[0](\"6:4h\\\"llo2:4\\u2028\");".as_bytes();
        let (_, _, text) = decode_response(body).unwrap();
        assert_eq!(text, "6:4h\"llo2:4\u{2028}");
    }

    #[test]
    fn bad_responses() {
        assert_eq!(
            decode_response(b"___eio[](\"x\");").map(|(i, _, t)| (i, t)),
            Ok((None, "x".to_string()))
        );
        assert!(decode_response(b"___eio[a](\"x\");").is_err());
        assert!(decode_response(b"___eio[1]\"x\";").is_err());
        assert!(decode_response(b"___eio[1](x);").is_err());
        assert!(decode_response(b"___eio[1](\"x\"").is_err());
        assert!(decode_response(b"___eio[1](\"x);").is_err());
        assert!(decode_response(b"___eio[99999999999999999999999](\"x\");").is_err());
    }

    #[test]
    fn form_bodies() {
        assert_eq!(decode_form(b"d=6%3A4hello").unwrap(), "6:4hello");
        assert_eq!(decode_form(b"x=1&d=3%3A4a+b").unwrap(), "3:4a b");
        // A newline in the data travels as `\n`; a literal backslash-n as `\\n`.
        assert_eq!(decode_form(br"d=7%3A4a\nb\\nc").unwrap(), "7:4a\nb\\nc");
        assert_eq!(decode_form(b"d=%E2%82%AC%zz%").unwrap(), "€%zz%");
        assert!(decode_form(b"e=1").is_err());
        assert!(decode_form(b"d=%ff").is_err());
    }
}
