//! The `Sec-WebSocket-Extensions` header of the `101` response: which compression extension
//! was agreed, and with which parameters.
//!
//! Wire format (RFC 6455 §9.1):
//!
//! ```text
//! Sec-WebSocket-Extensions = extension-list
//! extension-list  = 1#extension                 ; comma separated, empty elements allowed
//! extension       = extension-token *( ";" extension-param )
//! extension-param = token [ "=" (token | quoted-string) ]
//! ```
//!
//! e.g. `permessage-deflate; client_max_window_bits=10; server_no_context_takeover`.
//!
//! Extensions understood here:
//!
//! * `permessage-deflate` (RFC 7692 §7): `server_no_context_takeover`,
//!   `client_no_context_takeover` (no value), `server_max_window_bits=N`,
//!   `client_max_window_bits=N` (N in 8..=15; in a response both need a value). Each message's
//!   first frame carries RSV1 when the message is compressed.
//! * `x-webkit-deflate-frame` / `deflate-frame` (draft-tyoshino-hybi-websocket-perframe-deflate,
//!   used by old WebKit/Chrome and socket.io 0.9 era servers): every frame with RSV1 is compressed
//!   on its own, with the same `00 00 ff ff` tail removed. The response may carry
//!   `no_context_takeover` and `max_window_bits=N`; WebKit applies both to the **client's**
//!   compressor (client→server frames). Nothing in the response constrains the server's
//!   compressor, so server→client frames are taken to keep their context (15-bit window).
//!
//! Any other extension is kept by name with its raw parameters.
//!
//! Parsing is lenient: a problem becomes an [`ExtensionError`] in [`Negotiated::problems`] and
//! the best reading of the extension is still returned, so a capture whose peers ignored a
//! rule can still be decoded.

use super::error::ExtensionError;

/// One raw extension parameter, `name` or `name=value` (quoted values are unescaped).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Param {
    /// Parameter name as written.
    pub name: String,
    /// Value, if any, with quotes removed.
    pub value: Option<String>,
}

/// Agreed `permessage-deflate` parameters (RFC 7692 §7.1).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PerMessageDeflate {
    /// The server resets its compressor after each message (server→client messages stand alone).
    pub server_no_context_takeover: bool,
    /// The client resets its compressor after each message (client→server messages stand alone).
    pub client_no_context_takeover: bool,
    /// LZ77 window the server compresses with, if limited (8..=15).
    pub server_max_window_bits: Option<u8>,
    /// LZ77 window the client compresses with, if limited (8..=15).
    pub client_max_window_bits: Option<u8>,
}

/// Agreed `x-webkit-deflate-frame` / `deflate-frame` parameters (per-frame compression).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeflateFrame {
    /// The extension name as written (`x-webkit-deflate-frame` or `deflate-frame`).
    pub name: String,
    /// The client resets its compressor after each frame.
    pub no_context_takeover: bool,
    /// LZ77 window the client compresses with, if limited (8..=15).
    pub max_window_bits: Option<u8>,
}

/// One extension of the agreed list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Extension {
    /// RFC 7692 per-message DEFLATE.
    PerMessageDeflate(PerMessageDeflate),
    /// Legacy per-frame DEFLATE.
    DeflateFrame(DeflateFrame),
    /// Any other extension, kept by name.
    Unknown {
        /// The extension token as written.
        name: String,
        /// Its parameters.
        params: Vec<Param>,
    },
}

/// Whether compression applies to whole messages or to single frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// RFC 7692: RSV1 on the first frame marks the whole message as compressed.
    PerMessage,
    /// deflate-frame: RSV1 on a frame marks that frame's payload as compressed.
    PerFrame,
}

/// How the data frames of one direction are compressed, derived from the agreed extensions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Compression {
    /// Per message or per frame.
    pub scheme: Scheme,
    /// The sender resets its compressor after every message (or frame, for `PerFrame`).
    pub no_context_takeover: bool,
    /// The sender's negotiated window (15 when not limited). Recorded for reports only: the
    /// inflater always uses a 15-bit window, which accepts streams made with any smaller window.
    pub window_bits: u8,
}

impl Extension {
    /// The extension's token (e.g. `permessage-deflate`).
    pub fn name(&self) -> &str {
        match self {
            Extension::PerMessageDeflate(_) => "permessage-deflate",
            Extension::DeflateFrame(f) => &f.name,
            Extension::Unknown { name, .. } => name,
        }
    }

    /// How this extension compresses the frames sent by the client (`from_client`) or the
    /// server; `None` if it is not a compression extension.
    pub fn compression(&self, from_client: bool) -> Option<Compression> {
        match self {
            Extension::PerMessageDeflate(p) => {
                let (nct, bits) = if from_client {
                    (p.client_no_context_takeover, p.client_max_window_bits)
                } else {
                    (p.server_no_context_takeover, p.server_max_window_bits)
                };
                Some(Compression {
                    scheme: Scheme::PerMessage,
                    no_context_takeover: nct,
                    window_bits: bits.unwrap_or(15),
                })
            }
            Extension::DeflateFrame(f) => Some(if from_client {
                Compression {
                    scheme: Scheme::PerFrame,
                    no_context_takeover: f.no_context_takeover,
                    window_bits: f.max_window_bits.unwrap_or(15),
                }
            } else {
                Compression {
                    scheme: Scheme::PerFrame,
                    no_context_takeover: false,
                    window_bits: 15,
                }
            }),
            Extension::Unknown { .. } => None,
        }
    }
}

/// The compression in force for one direction: the first compression extension of the list
/// (RFC 6455 §9.1: extensions apply in the order listed; only one may own RSV1).
pub fn compression_for(extensions: &[Extension], from_client: bool) -> Option<Compression> {
    extensions.iter().find_map(|e| e.compression(from_client))
}

/// The result of parsing a `Sec-WebSocket-Extensions` response value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Negotiated {
    /// The extensions, in header order (best reading even when there were problems).
    pub extensions: Vec<Extension>,
    /// Every rule the header broke.
    pub problems: Vec<ExtensionError>,
}

/// RFC 7230 `tchar`.
fn is_tchar(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c)
}

/// Split `s` on `sep` outside quoted strings, returning (start offset, piece).
fn split_outside_quotes(s: &str, sep: char) -> Vec<(usize, &str)> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut in_quotes = false;
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        if in_quotes {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_quotes = false;
            }
        } else if c == '"' {
            in_quotes = true;
        } else if c == sep {
            parts.push((start, s.get(start..i).unwrap_or("")));
            start = i.saturating_add(c.len_utf8());
        }
    }
    parts.push((start, s.get(start..).unwrap_or("")));
    parts
}

/// Parse a parameter value: a token or a quoted-string (unescaped).
fn parse_value(raw: &str) -> Option<String> {
    let raw = raw.trim_matches([' ', '\t']);
    if let Some(inner) = raw.strip_prefix('"') {
        let inner = inner.strip_suffix('"')?;
        let mut out = String::new();
        let mut chars = inner.chars();
        while let Some(c) = chars.next() {
            if c == '\\' {
                out.push(chars.next()?);
            } else if c == '"' {
                return None;
            } else {
                out.push(c);
            }
        }
        Some(out)
    } else if !raw.is_empty() && raw.chars().all(is_tchar) {
        Some(raw.to_string())
    } else {
        None
    }
}

/// RFC 7692 §7.1.2.1: `server-max-window-bits = 1*DIGIT`, "the value MUST be a decimal integer
/// without leading zeros in the range 8 to 15" (same rule for `client_max_window_bits`).
fn window_bits(value: &str) -> Option<u8> {
    if value.starts_with('0') || value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: u8 = value.parse().ok()?;
    (8..=15).contains(&n).then_some(n)
}

/// Parse a `Sec-WebSocket-Extensions` header value as sent in a `101` response. Several header
/// lines may be joined with `", "` first.
pub fn parse_extensions(value: &str) -> Negotiated {
    let mut neg = Negotiated::default();
    let mut rsv1_owner = false;
    for (ext_at, element) in split_outside_quotes(value, ',') {
        if element.trim_matches([' ', '\t']).is_empty() {
            // RFC 7230 §7: "a recipient MUST accept and ignore empty list elements".
            continue;
        }
        let pieces = split_outside_quotes(element, ';');
        let mut pieces = pieces.into_iter();
        let name = match pieces.next() {
            Some((_, n)) => n.trim_matches([' ', '\t']),
            None => continue,
        };
        if name.is_empty() || !name.chars().all(is_tchar) {
            neg.problems.push(ExtensionError::Syntax {
                at: ext_at,
                what: "extension name is not a token",
            });
            continue;
        }
        let mut params = Vec::new();
        for (at, piece) in pieces {
            let at = ext_at.saturating_add(at);
            let (pname, pvalue) = match piece.split_once('=') {
                Some((n, v)) => (n.trim_matches([' ', '\t']), Some(v)),
                None => (piece.trim_matches([' ', '\t']), None),
            };
            if pname.is_empty() || !pname.chars().all(is_tchar) {
                neg.problems.push(ExtensionError::Syntax {
                    at,
                    what: "parameter name is not a token",
                });
                continue;
            }
            let value = match pvalue {
                None => None,
                Some(v) => match parse_value(v) {
                    Some(v) => Some(v),
                    None => {
                        neg.problems.push(ExtensionError::Syntax {
                            at,
                            what: "parameter value is neither a token nor a quoted-string",
                        });
                        continue;
                    }
                },
            };
            params.push(Param {
                name: pname.to_string(),
                value,
            });
        }
        let ext = if name.eq_ignore_ascii_case("permessage-deflate") {
            Extension::PerMessageDeflate(per_message(&params, &mut neg.problems))
        } else if name.eq_ignore_ascii_case("x-webkit-deflate-frame")
            || name.eq_ignore_ascii_case("deflate-frame")
        {
            Extension::DeflateFrame(per_frame(name, &params, &mut neg.problems))
        } else {
            Extension::Unknown {
                name: name.to_string(),
                params,
            }
        };
        if ext.compression(true).is_some() {
            if rsv1_owner {
                // RFC 7692 §7: a server "MUST NOT accept" more than one permessage-deflate
                // offer; and two extensions cannot both own RSV1 (RFC 6455 §9).
                neg.problems.push(ExtensionError::Rsv1Conflict {
                    extension: name.to_string(),
                });
            }
            rsv1_owner = true;
        }
        neg.extensions.push(ext);
    }
    neg
}

/// Report a second occurrence of a parameter; returns true if `seen` was already set.
fn duplicate(
    seen: &mut bool,
    ext: &str,
    param: &Param,
    problems: &mut Vec<ExtensionError>,
) -> bool {
    if *seen {
        // RFC 7692 §7: "A server MUST decline an extension negotiation offer ... [that] has
        // multiple extension parameters with the same name"; the client likewise fails.
        problems.push(ExtensionError::DuplicateParam {
            extension: ext.to_string(),
            param: param.name.clone(),
        });
        return true;
    }
    *seen = true;
    false
}

/// A parameter that must have no value (the `*_no_context_takeover` family).
fn flag(ext: &str, param: &Param, problems: &mut Vec<ExtensionError>) -> bool {
    if param.value.is_some() {
        // RFC 7692 §7.1.1.1: "This extension parameter has no value."
        problems.push(ExtensionError::BadValue {
            extension: ext.to_string(),
            param: param.name.clone(),
            what: "must not have a value".into(),
        });
    }
    true
}

/// A window-bits parameter; a value is required in a response (RFC 7692 §7.1.2.1–2).
fn bits(ext: &str, param: &Param, problems: &mut Vec<ExtensionError>) -> Option<u8> {
    let Some(v) = param.value.as_deref() else {
        problems.push(ExtensionError::BadValue {
            extension: ext.to_string(),
            param: param.name.clone(),
            what: "needs a value in a response".into(),
        });
        return None;
    };
    let parsed = window_bits(v);
    if parsed.is_none() {
        problems.push(ExtensionError::BadValue {
            extension: ext.to_string(),
            param: param.name.clone(),
            what: format!("value {v:?} is not an integer 8..15 without leading zeros"),
        });
    }
    parsed
}

fn per_message(params: &[Param], problems: &mut Vec<ExtensionError>) -> PerMessageDeflate {
    const EXT: &str = "permessage-deflate";
    let mut p = PerMessageDeflate::default();
    let mut seen = [false; 4];
    for param in params {
        let name = param.name.to_ascii_lowercase();
        let (slot, seen_flag) = match name.as_str() {
            "server_no_context_takeover" => (0, &mut seen[0]),
            "client_no_context_takeover" => (1, &mut seen[1]),
            "server_max_window_bits" => (2, &mut seen[2]),
            "client_max_window_bits" => (3, &mut seen[3]),
            _ => {
                // RFC 7692 §7.1: an extension parameter not defined here makes the response
                // invalid ("the client MUST _Fail the WebSocket Connection_").
                problems.push(ExtensionError::UnknownParam {
                    extension: EXT.into(),
                    param: param.name.clone(),
                });
                continue;
            }
        };
        if duplicate(seen_flag, EXT, param, problems) {
            continue;
        }
        match slot {
            0 => p.server_no_context_takeover = flag(EXT, param, problems),
            1 => p.client_no_context_takeover = flag(EXT, param, problems),
            2 => p.server_max_window_bits = bits(EXT, param, problems),
            _ => p.client_max_window_bits = bits(EXT, param, problems),
        }
    }
    p
}

fn per_frame(name: &str, params: &[Param], problems: &mut Vec<ExtensionError>) -> DeflateFrame {
    let mut f = DeflateFrame {
        name: name.to_string(),
        no_context_takeover: false,
        max_window_bits: None,
    };
    let mut seen = [false; 2];
    for param in params {
        match param.name.to_ascii_lowercase().as_str() {
            "no_context_takeover" => {
                if !duplicate(&mut seen[0], name, param, problems) {
                    f.no_context_takeover = flag(name, param, problems);
                }
            }
            "max_window_bits" => {
                if !duplicate(&mut seen[1], name, param, problems) {
                    f.max_window_bits = bits(name, param, problems);
                }
            }
            _ => problems.push(ExtensionError::UnknownParam {
                extension: name.to_string(),
                param: param.name.clone(),
            }),
        }
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_permessage_deflate() {
        let n = parse_extensions("permessage-deflate");
        assert_eq!(n.problems, vec![]);
        assert_eq!(
            n.extensions,
            vec![Extension::PerMessageDeflate(PerMessageDeflate::default())]
        );
        let c = compression_for(&n.extensions, true).unwrap();
        assert_eq!(
            c,
            Compression {
                scheme: Scheme::PerMessage,
                no_context_takeover: false,
                window_bits: 15
            }
        );
    }

    #[test]
    fn all_parameters_and_directions() {
        let n = parse_extensions(
            "permessage-deflate; server_no_context_takeover; client_max_window_bits=10 ;server_max_window_bits=\"12\"",
        );
        assert_eq!(n.problems, vec![]);
        let want = PerMessageDeflate {
            server_no_context_takeover: true,
            client_no_context_takeover: false,
            server_max_window_bits: Some(12),
            client_max_window_bits: Some(10),
        };
        assert_eq!(n.extensions, vec![Extension::PerMessageDeflate(want)]);
        let client = compression_for(&n.extensions, true).unwrap();
        assert!(!client.no_context_takeover);
        assert_eq!(client.window_bits, 10);
        let server = compression_for(&n.extensions, false).unwrap();
        assert!(server.no_context_takeover);
        assert_eq!(server.window_bits, 12);
    }

    #[test]
    fn bad_values_are_reported_and_ignored() {
        for (header, what) in [
            (
                "permessage-deflate; client_max_window_bits=7",
                "client_max_window_bits",
            ),
            (
                "permessage-deflate; client_max_window_bits=16",
                "client_max_window_bits",
            ),
            (
                "permessage-deflate; server_max_window_bits=010",
                "server_max_window_bits",
            ),
            (
                "permessage-deflate; server_max_window_bits",
                "server_max_window_bits",
            ),
            (
                "permessage-deflate; client_max_window_bits",
                "client_max_window_bits",
            ),
            (
                "permessage-deflate; server_no_context_takeover=1",
                "server_no_context_takeover",
            ),
        ] {
            let n = parse_extensions(header);
            assert_eq!(n.problems.len(), 1, "{header}");
            match &n.problems[0] {
                ExtensionError::BadValue { param, .. } => assert_eq!(param, what),
                other => panic!("{header}: {other:?}"),
            }
            assert_eq!(n.extensions.len(), 1);
        }
    }

    #[test]
    fn duplicates_unknown_params_and_conflicts() {
        let n = parse_extensions(
            "permessage-deflate; client_no_context_takeover; client_no_context_takeover; foo=1",
        );
        assert_eq!(
            n.problems,
            vec![
                ExtensionError::DuplicateParam {
                    extension: "permessage-deflate".into(),
                    param: "client_no_context_takeover".into()
                },
                ExtensionError::UnknownParam {
                    extension: "permessage-deflate".into(),
                    param: "foo".into()
                }
            ]
        );
        let n =
            parse_extensions("permessage-deflate, permessage-deflate; client_max_window_bits=9");
        assert_eq!(
            n.problems,
            vec![ExtensionError::Rsv1Conflict {
                extension: "permessage-deflate".into()
            }]
        );
        // The first one wins.
        assert_eq!(
            compression_for(&n.extensions, true).unwrap().window_bits,
            15
        );
    }

    #[test]
    fn webkit_deflate_frame_and_unknown() {
        let n = parse_extensions(
            "x-webkit-deflate-frame; no_context_takeover; max_window_bits=9, mux; quota=\"a\\\"b\"",
        );
        assert_eq!(n.problems, vec![]);
        assert_eq!(
            n.extensions,
            vec![
                Extension::DeflateFrame(DeflateFrame {
                    name: "x-webkit-deflate-frame".into(),
                    no_context_takeover: true,
                    max_window_bits: Some(9)
                }),
                Extension::Unknown {
                    name: "mux".into(),
                    params: vec![Param {
                        name: "quota".into(),
                        value: Some("a\"b".into())
                    }]
                }
            ]
        );
        let c = compression_for(&n.extensions, true).unwrap();
        assert_eq!(c.scheme, Scheme::PerFrame);
        assert!(c.no_context_takeover);
        let s = compression_for(&n.extensions, false).unwrap();
        assert!(!s.no_context_takeover);
        assert_eq!(s.window_bits, 15);
    }

    #[test]
    fn syntax_problems() {
        let n = parse_extensions(" , permessage-deflate;, \"x\"");
        assert_eq!(n.extensions.len(), 1);
        assert_eq!(n.problems.len(), 2, "{:?}", n.problems);
        let n = parse_extensions("permessage-deflate; a=\"unterminated");
        assert!(matches!(n.problems[0], ExtensionError::Syntax { .. }));
        assert!(parse_extensions("").extensions.is_empty());
    }
}
