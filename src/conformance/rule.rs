//! The rules a capture is held to, each with the side it binds, what it checks and the line of
//! the specification that states it.

use serde::Serialize;

use crate::event::Dir;

/// The peer a rule binds: what the client sends, or what the server sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    /// The side that opened the TCP connections.
    Client,
    /// The side that accepted them.
    Server,
}

impl Side {
    /// The sender of bytes travelling in `dir`.
    pub fn of(dir: Dir) -> Side {
        match dir {
            Dir::C2S => Side::Client,
            Dir::S2C => Side::Server,
        }
    }
    /// `client` or `server`.
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Client => "client",
            Side::Server => "server",
        }
    }
}

/// One conformance rule. Each is checked for both sides where it applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Rule {
    /// HTTP messages parse (the decoder found no framing error), and none follows a `101`
    /// (`http-after-upgrade`).
    HttpMessages,
    /// WebSocket frames follow RFC 6455 (masking, opcodes, control frames, fragmentation, UTF-8).
    WsFrames,
    /// RSV1 only when an extension that defines it was negotiated, and only where RFC 7692 allows.
    Rsv1Negotiated,
    /// Close frames carry a legal status code and a UTF-8 reason.
    CloseCodes,
    /// Compressed messages inflate.
    Deflate,
    /// Engine.IO packets and payloads decode.
    EioPackets,
    /// Socket.IO packets decode.
    SioPackets,
    /// Socket.IO CONNECT before anything else on a namespace.
    ConnectFirst,
    /// Every ACK answers an event id the other side sent, once.
    AckIds,
    /// Every heartbeat ping is answered within `pingTimeout`.
    PingAnswered,
    /// At most one GET and one POST in flight per session.
    OnePollPerMethod,
    /// The polling → WebSocket upgrade follows `2probe`, `3probe`, `5`.
    UpgradeSequence,
    /// Nothing sent after a close (WebSocket close frame, Engine.IO close, Socket.IO DISCONNECT).
    NothingAfterClose,
    /// Client messages stay within the session's `maxPayload`.
    MaxPayload,
}

/// Every rule, in report order.
pub const ALL_RULES: [Rule; 14] = [
    Rule::HttpMessages,
    Rule::WsFrames,
    Rule::Rsv1Negotiated,
    Rule::CloseCodes,
    Rule::Deflate,
    Rule::EioPackets,
    Rule::SioPackets,
    Rule::ConnectFirst,
    Rule::AckIds,
    Rule::PingAnswered,
    Rule::OnePollPerMethod,
    Rule::UpgradeSequence,
    Rule::NothingAfterClose,
    Rule::MaxPayload,
];

impl Rule {
    /// The name used in output and in `--deny`.
    pub fn as_str(self) -> &'static str {
        match self {
            Rule::HttpMessages => "http-messages",
            Rule::WsFrames => "ws-frames",
            Rule::Rsv1Negotiated => "rsv1-negotiated",
            Rule::CloseCodes => "close-codes",
            Rule::Deflate => "deflate",
            Rule::EioPackets => "eio-packets",
            Rule::SioPackets => "sio-packets",
            Rule::ConnectFirst => "connect-first",
            Rule::AckIds => "ack-ids",
            Rule::PingAnswered => "ping-answered",
            Rule::OnePollPerMethod => "one-poll-per-method",
            Rule::UpgradeSequence => "upgrade-sequence",
            Rule::NothingAfterClose => "nothing-after-close",
            Rule::MaxPayload => "max-payload",
        }
    }

    /// Parses a rule name.
    pub fn parse(s: &str) -> Option<Rule> {
        ALL_RULES.iter().copied().find(|r| r.as_str() == s)
    }

    /// What the rule checks, in a line.
    pub fn description(self) -> &'static str {
        match self {
            Rule::HttpMessages => "HTTP/1.1 messages are well-formed, none after a 101",
            Rule::WsFrames => "WebSocket frames follow RFC 6455",
            Rule::Rsv1Negotiated => "RSV1 only after permessage-deflate was negotiated",
            Rule::CloseCodes => "close frames carry legal status codes",
            Rule::Deflate => "compressed messages inflate",
            Rule::EioPackets => "Engine.IO packets and payloads decode",
            Rule::SioPackets => "Socket.IO packets decode",
            Rule::ConnectFirst => "CONNECT before events on a namespace",
            Rule::AckIds => "acks match event ids sent by the peer",
            Rule::PingAnswered => "pings answered within pingTimeout",
            Rule::OnePollPerMethod => "one GET and one POST in flight per sid",
            Rule::UpgradeSequence => "upgrade sequence 2probe, 3probe, 5",
            Rule::NothingAfterClose => "nothing sent after a close",
            Rule::MaxPayload => "client messages within maxPayload",
        }
    }

    /// The specification sentence the rule enforces.
    pub fn spec(self) -> &'static str {
        match self {
            Rule::HttpMessages => "RFC 9112: a message is a start-line, header fields, an empty line and a body framed by Content-Length or chunked coding; RFC 9110 §15.2.2: after 101 the server \"will switch to the protocols defined by the response's Upgrade header field immediately after the empty line that terminates the 101 response\"",
            Rule::WsFrames => "RFC 6455 §5.1: \"a client MUST mask all frames that it sends to the server\"; §5.5: \"Control frames themselves MUST NOT be fragmented\"",
            Rule::Rsv1Negotiated => "RFC 6455 §5.2: RSV1 \"MUST be 0 unless an extension is negotiated that defines meanings for non-zero values\"",
            Rule::CloseCodes => "RFC 6455 §7.4.1/§7.4.2: codes 1005, 1006, 1015 and 0-999 must not be sent in a Close frame",
            Rule::Deflate => "RFC 7692 §7.2.2: the payload of a message with RSV1 set is a raw DEFLATE stream ending in an empty stored block",
            Rule::EioPackets => "engine.io-protocol: packet type digit 0-6, then the data; polling payloads separated by 0x1e (v4) or length-prefixed (v3)",
            Rule::SioPackets => "socket.io-protocol: <type>[<attachments>-][<namespace>,][<ack id>][JSON payload]",
            Rule::ConnectFirst => "socket.io-protocol: \"At the beginning of a Socket.IO session, the client MUST send a CONNECT packet\"",
            Rule::AckIds => "socket.io-protocol: \"The receiver MUST respond with an ACK packet with the same event ID\"",
            Rule::PingAnswered => "engine.io-protocol: the peer \"has a few seconds (the pingTimeout value) to send a pong packet back\"",
            Rule::OnePollPerMethod => "engine.io-protocol: \"a client MUST NOT have more than one active GET request\" (and POST)",
            Rule::UpgradeSequence => "engine.io-protocol: the client MUST \"send a ping packet with the string probe\", the server MUST \"respond with a pong packet with the string probe\", then \"the client MUST send a upgrade packet\"; \"A client MUST NOT open more than one WebSocket connection per session\"",
            Rule::NothingAfterClose => "RFC 6455 §5.5.1: after sending a Close frame \"the endpoint MUST NOT send any more data frames\"",
            Rule::MaxPayload => "engine.io-protocol: maxPayload is \"the maximum number of bytes per chunk\"",
        }
    }
}

/// Where a decoder anomaly belongs: a rule broken by the sender, or a note about the capture
/// itself (gaps, truncation, a capture that began mid-connection), which binds no peer.
pub fn rule_of_anomaly(at: &str, rule: &str) -> Option<Rule> {
    // Capture limitations (what was not seen is no peer's fault) and sioscope's own limits.
    const NOTES: [&str; 14] = [
        "http-gap",
        "http-head-too-long",
        "http-too-many-headers",
        "sio-json-too-deep",
        "http-no-response",
        "not-http",
        "ws-gap",
        "ws-midstream",
        "ws-truncated-header",
        "ws-truncated-frame",
        "ws-unfinished-message",
        "ws-too-large",
        "reassembly-buffer-full",
        "ws-continuation-without-start",
    ];
    if NOTES.contains(&rule) || matches!(at, "capture" | "tcp") {
        return None;
    }
    Some(match rule {
        "ws-rsv1-without-extension" | "ws-rsv1-on-continuation" | "ws-rsv1-on-control" => {
            Rule::Rsv1Negotiated
        }
        "ws-invalid-close-code" | "ws-close-one-byte" | "ws-close-reason-utf8" => Rule::CloseCodes,
        "ws-after-close" => Rule::NothingAfterClose,
        _ => match at {
            "http" => Rule::HttpMessages,
            "ws" => Rule::WsFrames,
            "deflate" => Rule::Deflate,
            "eio" => Rule::EioPackets,
            _ => Rule::SioPackets,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_anomalies_map() {
        for r in ALL_RULES {
            assert_eq!(Rule::parse(r.as_str()), Some(r));
        }
        assert_eq!(
            rule_of_anomaly("ws", "ws-rsv1-without-extension"),
            Some(Rule::Rsv1Negotiated)
        );
        assert_eq!(
            rule_of_anomaly("deflate", "deflate-inflate-failed"),
            Some(Rule::Deflate)
        );
        assert_eq!(rule_of_anomaly("http", "http-no-response"), None);
        // A server fault, not a capture limitation.
        assert_eq!(
            rule_of_anomaly("http", "http-after-upgrade"),
            Some(Rule::HttpMessages)
        );
        assert_eq!(rule_of_anomaly("capture", "truncated-capture"), None);
    }
}
