//! Reassembly of Socket.IO binary packets from their attachments.
//!
//! A BINARY_EVENT or BINARY_ACK announces `N` attachments in its header and puts a placeholder
//! where each binary value was; the `N` binary values follow as the next `N` Engine.IO binary
//! messages of the same direction (WebSocket binary frames, or `b…` packets when polling):
//!
//! ```text
//! 451-["upload",{"_placeholder":true,"num":0}]     text: the packet, 1 attachment announced
//! <binary 01 02 03>                                 binary: attachment 0
//! ```
//!
//! [`AttachmentAssembler`] (one per session and direction) pairs them. A completed packet keeps
//! its attachments as bytes, and [`BinaryPacket::json_view`] shows the payload with every
//! placeholder replaced by `{"_binary": <length>}`. Broken sequences become errors: a binary
//! message with nothing pending, a text packet while attachments are missing (the pending
//! packet is abandoned), a placeholder `num` out of range, an attachment count over the cap.
//! Attachments are stored as they arrive, so an announced count never allocates by itself.

use serde_json::{Map, Value};

use super::error::{excerpt, SioError};
use super::packet::{encode, Packet};

/// The default cap on attachments announced by one packet.
pub const DEFAULT_MAX_ATTACHMENTS: u32 = 10_000;

/// A packet with its attachments (empty for packets without binary data).
#[derive(Debug, Clone, PartialEq)]
pub struct BinaryPacket {
    /// The packet as decoded, placeholders included.
    pub packet: Packet,
    /// The attachments in order: placeholder `num` k refers to `attachments[k]`.
    pub attachments: Vec<Vec<u8>>,
}

impl BinaryPacket {
    /// The payload with each placeholder replaced by `{"_binary": <length in bytes>}`.
    ///
    /// Fails with [`SioError::PlaceholderOutOfRange`] when a placeholder's `num` is not the
    /// index of an attachment.
    pub fn json_view(&self) -> Result<Option<Value>, SioError> {
        let Some(data) = &self.packet.data else {
            return Ok(None);
        };
        check_placeholders(data, &self.attachments)?;
        let mut view = data.clone();
        resolve_placeholders(&mut view, &self.attachments);
        Ok(Some(view))
    }

    /// The packet with [`BinaryPacket::json_view`] as its data, made in place (no copy of the
    /// payload). On an error the packet is given back unchanged beside it.
    pub fn into_viewed(self) -> (Packet, Option<SioError>) {
        let BinaryPacket {
            mut packet,
            attachments,
        } = self;
        let Some(data) = packet.data.as_mut() else {
            return (packet, None);
        };
        if let Err(e) = check_placeholders(data, &attachments) {
            return (packet, Some(e));
        }
        resolve_placeholders(data, &attachments);
        (packet, None)
    }
}

/// Whether `value` is a placeholder object (`{"_placeholder":true,…}`).
fn is_placeholder(map: &Map<String, Value>) -> bool {
    map.get("_placeholder") == Some(&Value::Bool(true))
}

/// The attachment a placeholder names. socket.io-parser reconstructPacket: the index must be a
/// number within the received buffers, else "illegal attachments".
fn attachment_of<'a>(
    map: &Map<String, Value>,
    attachments: &'a [Vec<u8>],
) -> Result<&'a [u8], SioError> {
    let num = map.get("num");
    num.and_then(Value::as_u64)
        .and_then(|n| usize::try_from(n).ok())
        .and_then(|n| attachments.get(n))
        .map(Vec::as_slice)
        .ok_or_else(|| SioError::PlaceholderOutOfRange {
            num: excerpt(&num.map(Value::to_string).unwrap_or_default()),
            count: u32::try_from(attachments.len()).unwrap_or(u32::MAX),
        })
}

/// Checks that every placeholder of `value` names an attachment; the error is the first
/// placeholder that does not, in document order.
fn check_placeholders(value: &Value, attachments: &[Vec<u8>]) -> Result<(), SioError> {
    match value {
        Value::Object(map) if is_placeholder(map) => attachment_of(map, attachments).map(drop),
        Value::Object(map) => map
            .values()
            .try_for_each(|v| check_placeholders(v, attachments)),
        Value::Array(items) => items
            .iter()
            .try_for_each(|v| check_placeholders(v, attachments)),
        _ => Ok(()),
    }
}

/// Replaces each placeholder of `value` by `{"_binary": <length>}`, in place. Placeholders
/// that name no attachment (which [`check_placeholders`] rejects first) are left as they are.
fn resolve_placeholders(value: &mut Value, attachments: &[Vec<u8>]) {
    match value {
        Value::Object(map) if is_placeholder(map) => {
            if let Ok(a) = attachment_of(map, attachments) {
                let mut m = Map::new();
                m.insert("_binary".into(), Value::from(a.len()));
                *value = Value::Object(m);
            }
        }
        Value::Object(map) => map
            .values_mut()
            .for_each(|v| resolve_placeholders(v, attachments)),
        Value::Array(items) => items
            .iter_mut()
            .for_each(|v| resolve_placeholders(v, attachments)),
        _ => {}
    }
}

/// What the assembler did with a packet or an attachment.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// A packet is complete: a packet without attachments passes straight through.
    Ready(BinaryPacket),
    /// A binary packet waits for more attachments.
    Waiting {
        /// Attachments announced.
        expected: u32,
        /// Attachments received so far.
        received: u32,
    },
}

#[derive(Debug, Clone)]
struct Pending {
    packet: Packet,
    expected: u32,
    received: Vec<Vec<u8>>,
}

/// Pairs binary packets with the binary messages that follow them (one per session and
/// direction).
#[derive(Debug, Clone)]
pub struct AttachmentAssembler {
    pending: Option<Pending>,
    max_attachments: u32,
}

impl Default for AttachmentAssembler {
    fn default() -> Self {
        Self::new()
    }
}

impl AttachmentAssembler {
    /// An assembler with the default attachment cap.
    pub fn new() -> Self {
        Self::with_max_attachments(DEFAULT_MAX_ATTACHMENTS)
    }

    /// An assembler that refuses packets announcing more than `max` attachments.
    pub fn with_max_attachments(max: u32) -> Self {
        AttachmentAssembler {
            pending: None,
            max_attachments: max,
        }
    }

    /// Whether a binary packet is waiting for attachments.
    pub fn is_pending(&self) -> bool {
        self.pending.is_some()
    }

    /// Takes a decoded (text) packet. Returns, in order, an error for a pending binary packet
    /// this one interrupts (if any), then the outcome for this packet.
    pub fn push_packet(&mut self, packet: Packet) -> Vec<Result<Step, SioError>> {
        let mut out = Vec::with_capacity(2);
        if let Some(p) = self.pending.take() {
            // socket.io-protocol: the attachments are sent in the frames *following* the
            // packet, so a packet before the last attachment breaks the sequence.
            out.push(Err(SioError::TextWhileAttachmentsPending {
                header: excerpt(&encode(&p.packet)),
                missing: p
                    .expected
                    .saturating_sub(u32::try_from(p.received.len()).unwrap_or(u32::MAX)),
            }));
        }
        let expected = if packet.ty.is_binary() {
            packet.attachments.unwrap_or(0)
        } else {
            0
        };
        if expected > self.max_attachments {
            out.push(Err(SioError::TooManyAttachments {
                count: expected,
                cap: self.max_attachments,
            }));
            return out;
        }
        if expected == 0 {
            out.push(finish(packet, Vec::new()));
        } else {
            self.pending = Some(Pending {
                packet,
                expected,
                received: Vec::new(),
            });
            out.push(Ok(Step::Waiting {
                expected,
                received: 0,
            }));
        }
        out
    }

    /// Takes a binary message (an attachment).
    pub fn push_binary(&mut self, bytes: &[u8]) -> Result<Step, SioError> {
        let Some(mut pending) = self.pending.take() else {
            return Err(SioError::UnexpectedAttachment { len: bytes.len() });
        };
        pending.received.push(bytes.to_vec());
        let received = u32::try_from(pending.received.len()).unwrap_or(u32::MAX);
        if received >= pending.expected {
            finish(pending.packet, pending.received)
        } else {
            let expected = pending.expected;
            self.pending = Some(pending);
            Ok(Step::Waiting { expected, received })
        }
    }
}

/// Completes a packet once its attachments are in: every placeholder must point at one.
fn finish(packet: Packet, attachments: Vec<Vec<u8>>) -> Result<Step, SioError> {
    if let Some(data) = &packet.data {
        check_placeholders(data, &attachments)?;
    }
    Ok(Step::Ready(BinaryPacket {
        packet,
        attachments,
    }))
}

#[cfg(test)]
mod tests {
    use super::super::packet::decode;
    use super::*;
    use serde_json::json;

    fn ready(step: &Result<Step, SioError>) -> &BinaryPacket {
        match step {
            Ok(Step::Ready(bp)) => bp,
            other => panic!("not ready: {other:?}"),
        }
    }

    #[test]
    fn spec_two_attachments() {
        // socket.io-protocol test suite: a packet with two attachments, then [1,2,3], [4,5,6].
        let mut a = AttachmentAssembler::new();
        let p =
            decode(r#"52-["message",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#)
                .unwrap();
        assert_eq!(
            a.push_packet(p),
            vec![Ok(Step::Waiting {
                expected: 2,
                received: 0
            })]
        );
        assert!(a.is_pending());
        assert_eq!(
            a.push_binary(&[1, 2, 3]),
            Ok(Step::Waiting {
                expected: 2,
                received: 1
            })
        );
        let done = a.push_binary(&[4, 5, 6]);
        let bp = ready(&done);
        assert_eq!(bp.attachments, vec![vec![1, 2, 3], vec![4, 5, 6]]);
        assert_eq!(
            bp.json_view(),
            Ok(Some(json!(["message", {"_binary": 3}, {"_binary": 3}])))
        );
        assert!(!a.is_pending());
    }

    #[test]
    fn nested_placeholders_and_binary_ack() {
        let mut a = AttachmentAssembler::new();
        let p = decode(r#"61-/admin,1[{"file":{"_placeholder":true,"num":0},"n":2}]"#).unwrap();
        a.push_packet(p);
        let done = a.push_binary(&[9; 10]);
        assert_eq!(
            ready(&done).json_view(),
            Ok(Some(json!([{"file": {"_binary": 10}, "n": 2}])))
        );
    }

    #[test]
    fn text_packets_pass_through() {
        let mut a = AttachmentAssembler::new();
        let out = a.push_packet(decode(r#"2["hello"]"#).unwrap());
        assert_eq!(ready(&out[0]).attachments, Vec::<Vec<u8>>::new());
        // A binary event with zero attachments is complete at once.
        let out = a.push_packet(decode(r#"50-["x"]"#).unwrap());
        assert_eq!(out.len(), 1);
        ready(&out[0]);
    }

    /// The packet made in place has the data the view shows; a placeholder out of range gives
    /// the view's error and the packet back as it was decoded.
    #[test]
    fn the_packet_viewed_in_place_has_the_views_data_and_is_unchanged_on_an_error() {
        let ok = BinaryPacket {
            packet: decode(r#"52-["up",{"a":[{"_placeholder":true,"num":1}],"b":{"_placeholder":true,"num":0}},"x"]"#)
                .unwrap(),
            attachments: vec![vec![1, 2, 3], vec![4]],
        };
        let view = ok.json_view().unwrap();
        assert_eq!(
            view,
            Some(json!(["up", {"a": [{"_binary": 1}], "b": {"_binary": 3}}, "x"]))
        );
        let (packet, error) = ok.clone().into_viewed();
        assert_eq!((packet.data, error), (view, None));
        let bad = BinaryPacket {
            packet: decode(
                r#"52-["up",{"_placeholder":true,"num":0},{"_placeholder":true,"num":7}]"#,
            )
            .unwrap(),
            attachments: vec![vec![1]],
        };
        let (packet, error) = bad.clone().into_viewed();
        assert_eq!(Some(error.unwrap()), bad.json_view().err());
        assert_eq!(packet, bad.packet);
    }

    #[test]
    fn errors() {
        let mut a = AttachmentAssembler::with_max_attachments(3);
        assert_eq!(
            a.push_binary(&[1, 2]),
            Err(SioError::UnexpectedAttachment { len: 2 })
        );
        a.push_packet(decode(r#"52-["a",{"_placeholder":true,"num":0}]"#).unwrap());
        a.push_binary(&[1]).unwrap();
        let out = a.push_packet(decode(r#"2["b"]"#).unwrap());
        assert_eq!(out.len(), 2);
        assert_eq!(
            out[0],
            Err(SioError::TextWhileAttachmentsPending {
                header: r#"52-["a",{"_placeholder":true,"num":0}]"#.into(),
                missing: 1
            })
        );
        ready(&out[1]);
        // Placeholder out of range.
        a.push_packet(decode(r#"51-["a",{"_placeholder":true,"num":1}]"#).unwrap());
        assert_eq!(
            a.push_binary(&[1]),
            Err(SioError::PlaceholderOutOfRange {
                num: "1".into(),
                count: 1
            })
        );
        a.push_packet(decode(r#"51-["a",{"_placeholder":true,"num":"x"}]"#).unwrap());
        assert!(matches!(
            a.push_binary(&[1]),
            Err(SioError::PlaceholderOutOfRange { .. })
        ));
        // A hostile count is refused without allocating.
        let out = a.push_packet(decode(r#"54294967295-["a"]"#).unwrap());
        assert_eq!(
            out,
            vec![Err(SioError::TooManyAttachments {
                count: u32::MAX,
                cap: 3
            })]
        );
        assert!(!a.is_pending());
    }
}
