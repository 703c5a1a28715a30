//! The Close frame body (RFC 6455 §5.5.1) and status codes (§7.4).
//!
//! Wire format: the payload is empty, or a 2-byte big-endian status code optionally followed
//! by a UTF-8 reason (at most 123 bytes, since control payloads are ≤ 125 bytes):
//!
//! ```text
//! 88 00                         close, no status (the peer reports 1005)
//! 88 02 03 e8                   close 1000 (normal closure)
//! 88 0f 03 ef 69 6e 76 61 …     close 1007 "invalid …"
//! ```
//!
//! Codes 1005, 1006 and 1015 are reserved for reporting and "MUST NOT be set as a status code
//! in a Close control frame" (§7.4.1); codes below 1000, 1004 and unassigned 1016–2999 are not
//! valid on the wire; 3000–3999 are registered with IANA for libraries, 4000–4999 are private.

use super::error::WsError;

/// The decoded body of a Close frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClosePayload {
    /// Status code, if the body had one.
    pub code: Option<u16>,
    /// Reason text (invalid UTF-8 replaced by U+FFFD; see the accompanying violation).
    pub reason: String,
}

impl ClosePayload {
    /// The code's registered name, e.g. "normal closure" for 1000.
    pub fn code_name(&self) -> Option<&'static str> {
        self.code.and_then(close_code_name)
    }
}

/// The registered name and meaning of a close status code (RFC 6455 §7.4.1 and the IANA
/// "WebSocket Close Code Number Registry").
pub fn close_code_name(code: u16) -> Option<&'static str> {
    Some(match code {
        1000 => "normal closure",
        1001 => "going away",
        1002 => "protocol error",
        1003 => "unsupported data",
        1004 => "reserved",
        1005 => "no status received",
        1006 => "abnormal closure",
        1007 => "invalid frame payload data",
        1008 => "policy violation",
        1009 => "message too big",
        1010 => "mandatory extension",
        1011 => "internal error",
        1012 => "service restart",
        1013 => "try again later",
        1014 => "bad gateway",
        1015 => "TLS handshake failure",
        3000..=3999 => "registered (library/framework)",
        4000..=4999 => "private use",
        _ => return None,
    })
}

/// Why `code` must not appear in a Close frame, or `None` if it may.
pub fn close_code_problem(code: u16) -> Option<&'static str> {
    match code {
        // RFC 6455 §7.4.2: "Status codes in the range 0-999 are not used."
        0..=999 => Some("codes below 1000 are not used"),
        // RFC 6455 §7.4.1: "1004: Reserved."
        1004 => Some("1004 is reserved"),
        // RFC 6455 §7.4.1: 1005, 1006 and 1015 are "designated for use in applications
        // expecting a status code" and "MUST NOT be set as a status code in a Close control
        // frame by an endpoint".
        1005 | 1006 | 1015 => Some("reserved for local reporting, never sent"),
        1000..=1003 | 1007..=1014 => None,
        // RFC 6455 §7.4.2: 1000-2999 are "reserved for definition by this protocol"; the
        // ones not assigned by the IANA registry are not valid.
        1016..=2999 => Some("unassigned in the protocol range 1000-2999"),
        3000..=4999 => None,
        _ => Some("codes above 4999 are not defined"),
    }
}

/// Parse a Close frame payload (already unmasked). Problems are returned alongside the best
/// reading.
pub fn parse_close(payload: &[u8]) -> (ClosePayload, Vec<WsError>) {
    let mut problems = Vec::new();
    let (code, reason_bytes) = match (payload.first(), payload.get(1)) {
        (None, _) => (None, &[][..]),
        (Some(_), None) => {
            // RFC 6455 §5.5.1: "If there is a body, the first two bytes of the body MUST be a
            // 2-byte unsigned integer".
            problems.push(WsError::CloseOneByte);
            (None, &[][..])
        }
        (Some(&hi), Some(&lo)) => {
            let code = u16::from_be_bytes([hi, lo]);
            if let Some(why) = close_code_problem(code) {
                problems.push(WsError::InvalidCloseCode { code, why });
            }
            (Some(code), payload.get(2..).unwrap_or(&[]))
        }
    };
    let reason = match std::str::from_utf8(reason_bytes) {
        Ok(s) => s.to_string(),
        Err(_) => {
            // RFC 6455 §5.5.1: the body after the code "MAY contain UTF-8-encoded data".
            problems.push(WsError::CloseReasonUtf8);
            String::from_utf8_lossy(reason_bytes).into_owned()
        }
    };
    (ClosePayload { code, reason }, problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_and_normal() {
        assert_eq!(
            parse_close(&[]),
            (
                ClosePayload {
                    code: None,
                    reason: String::new()
                },
                vec![]
            )
        );
        let (c, p) = parse_close(&[0x03, 0xe8]);
        assert_eq!(
            (c.code, c.code_name(), p),
            (Some(1000), Some("normal closure"), vec![])
        );
    }

    #[test]
    fn code_with_reason() {
        // ws's close after an inflate failure: 1007 "invalid compressed data" (sketch of the
        // wire bytes: 03 ef then the text).
        let mut body = vec![0x03, 0xef];
        body.extend_from_slice(b"invalid compressed data");
        let (c, p) = parse_close(&body);
        assert_eq!(c.code, Some(1007));
        assert_eq!(c.code_name(), Some("invalid frame payload data"));
        assert_eq!(c.reason, "invalid compressed data");
        assert!(p.is_empty());
        let (c, _) = parse_close(&[0x03, 0xf1]);
        assert_eq!(c.code_name(), Some("message too big"));
        let (c, _) = parse_close(&[0x03, 0xe9]);
        assert_eq!(c.code_name(), Some("going away"));
    }

    #[test]
    fn bad_bodies() {
        assert_eq!(parse_close(&[0x03]).1, vec![WsError::CloseOneByte]);
        for code in [0u16, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535] {
            let (c, p) = parse_close(&code.to_be_bytes());
            assert_eq!(c.code, Some(code));
            assert!(
                matches!(p.as_slice(), [WsError::InvalidCloseCode { code: c, .. }] if *c == code),
                "{code}: {p:?}"
            );
        }
        for code in [1000u16, 1003, 1007, 1011, 1014, 3000, 4999] {
            assert!(parse_close(&code.to_be_bytes()).1.is_empty(), "{code}");
        }
        let (c, p) = parse_close(&[0x03, 0xe8, 0xff, 0x41]);
        assert_eq!(p, vec![WsError::CloseReasonUtf8]);
        assert_eq!(c.reason, "\u{fffd}A");
    }
}
