//! Fresh session ids for a replayed capture: every Engine.IO sid (and Socket.IO socket id) of a
//! capture renamed to another of the same length, wherever its bytes travel uncompressed.
//!
//! A capture replayed round after round ([`super::repeat`]) would otherwise carry the same sids
//! in every round, and whatever keys sessions by sid (`explain`, `sessions`) would see one
//! session growing round after round instead of many sessions one after another, which is what
//! a long real capture holds.
//!
//! The ids are the ones sioscope decodes from the capture: the sid of every open packet
//! (engine.io-protocol: "the sid ... MUST be included in the query of all subsequent
//! requests") and the socket id of every server answer to a Socket.IO CONNECT
//! (`40{"sid":"<socket id>"}`). Each TCP direction is laid out by sequence number and every
//! occurrence of an id is found in it, so an id split over segments, in a query string, a
//! handshake body, a `Set-Cookie`/`Cookie` header or a polling/WebSocket payload is renamed
//! the same way everywhere. A new id has the same length and the same kind of character at each
//! position (digit, lower- or upper-case letter; others kept), so segment lengths, sequence
//! numbers, `Content-Length`s, payload length prefixes and frame headers stay valid.
//!
//! An id that also travels where its bytes are not on the wire as such cannot be renamed
//! consistently, so it is not renamed at all: inside a permessage-deflate message (changing it
//! would mean compressing again, with other lengths), a masked client WebSocket message (RFC
//! 6455 §5.3: the bytes are XORed with a per-frame key), or a content-encoded HTTP body. The
//! sessions with such a sid ([`Renamer::kept`]) keep it in every round.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;

use super::link;
use super::replay::{replay, ReplayOptions};
use super::CaptureReader;
use crate::event::{Body, Dir, EioInfo, Event, HttpInfo, SioInfo, WsInfo};

/// Streams longer than this (per direction) are searched only up to it.
const MAX_STREAM: usize = 64 << 20;

/// One TCP direction of a capture: its first sequence number and where ids are in it.
#[derive(Default)]
struct Direction {
    /// Sequence number of the first payload byte (after the SYN).
    base: Option<u32>,
    /// The direction's bytes laid out from `base` (missing ranges are zeros).
    bytes: Vec<u8>,
    /// Where an id begins (offset from `base`) and which one, by offset.
    spots: Vec<(usize, usize)>,
}

/// The ids of one capture and where their bytes are, ready to be renamed round after round.
pub struct Renamer {
    /// The ids renamed.
    ids: Vec<Vec<u8>>,
    /// How many of `ids` are Engine.IO session ids (the others are socket ids).
    sessions: usize,
    /// Each direction, by (sender, receiver) as in the capture.
    dirs: HashMap<(SocketAddr, SocketAddr), Direction>,
    /// Session ids that are not renamed (see the module's documentation), in order.
    kept: Vec<String>,
}

/// What sioscope decodes of a capture that matters for renaming.
#[derive(Default)]
struct Seen {
    /// Session ids, in order, without repeats.
    sids: Vec<String>,
    /// Socket ids, in order, without repeats.
    socket_ids: Vec<String>,
    /// Texts whose bytes are not on the wire as such.
    hidden: Vec<String>,
}

impl Seen {
    fn event(&mut self, ev: &Event) {
        let push = |v: &mut Vec<String>, s: &str| {
            if !v.iter().any(|x| x == s) {
                v.push(s.to_string());
            }
        };
        match &ev.body {
            Body::Eio {
                eio:
                    EioInfo {
                        kind: "open",
                        sid: Some(sid),
                        ..
                    },
            } => push(&mut self.sids, sid),
            Body::Sio {
                sio: SioInfo { kind, data, .. },
                ..
            } if kind == "CONNECT" && ev.dir == Some(Dir::S2C) => {
                if let Some(id) = data
                    .as_ref()
                    .and_then(|d| d.get("sid"))
                    .and_then(serde_json::Value::as_str)
                {
                    push(&mut self.socket_ids, id);
                }
            }
            Body::Ws(WsInfo::Message {
                text, compressed, ..
            }) if *compressed || ev.dir == Some(Dir::C2S) => {
                self.hidden.extend(text.clone());
            }
            Body::Http(HttpInfo {
                content_encoding: Some(_),
                body_text,
                ..
            }) => self.hidden.extend(body_text.clone()),
            _ => {}
        }
    }
}

impl Renamer {
    /// Finds the ids of `capture` (a pcap or pcapng) and every place their bytes are.
    pub fn new(capture: &[u8]) -> Self {
        let mut seen = Seen::default();
        let _ = replay(capture, &ReplayOptions::default(), &mut |ev| {
            seen.event(&ev)
        });
        let mut dirs: HashMap<(SocketAddr, SocketAddr), Direction> = HashMap::new();
        if let Ok(mut r) = CaptureReader::new(capture) {
            while let Ok(Some(p)) = r.next_packet() {
                let Ok(seg) = link::parse_tcp(&p) else {
                    continue;
                };
                let d = dirs.entry((seg.src, seg.dst)).or_default();
                if seg.flags.syn {
                    d.base.get_or_insert(seg.seq.wrapping_add(1));
                }
                if seg.payload.is_empty() {
                    continue;
                }
                let at = *d.base.get_or_insert(seg.seq);
                let Some(at) = offset(at, seg.seq) else {
                    continue;
                };
                let end = at.saturating_add(seg.payload.len());
                if end > MAX_STREAM {
                    continue;
                }
                if d.bytes.len() < end {
                    d.bytes.resize(end, 0);
                }
                if let Some(dst) = d.bytes.get_mut(at..end) {
                    dst.copy_from_slice(seg.payload);
                }
            }
        }
        let renameable = |id: &String| {
            !id.is_empty()
                && !seen.hidden.iter().any(|t| t.contains(id.as_str()))
                && dirs
                    .values()
                    .any(|d| find(&d.bytes, id.as_bytes()).next().is_some())
        };
        let (ids, kept): (Vec<String>, Vec<String>) =
            seen.sids.iter().cloned().partition(renameable);
        let sessions = ids.len();
        let mut ids: Vec<Vec<u8>> = ids.into_iter().map(String::into_bytes).collect();
        ids.extend(
            seen.socket_ids
                .iter()
                .filter(|s| !seen.sids.contains(s) && renameable(s))
                .map(|s| s.as_bytes().to_vec()),
        );
        for d in dirs.values_mut() {
            let mut spots: Vec<(usize, usize)> = ids
                .iter()
                .enumerate()
                .flat_map(|(i, id)| find(&d.bytes, id).map(move |at| (at, i)))
                .collect();
            spots.sort_unstable();
            // Overlapping occurrences: the first one wins.
            let mut end = 0;
            spots.retain(|&(at, i)| {
                let keep = at >= end;
                if keep {
                    end = at + ids.get(i).map_or(0, Vec::len);
                }
                keep
            });
            d.spots = spots;
            d.bytes = Vec::new();
        }
        Renamer {
            ids,
            sessions,
            dirs,
            kept,
        }
    }

    /// Session ids renamed each round.
    pub fn renamed_sessions(&self) -> usize {
        self.sessions
    }

    /// Session ids that are not renamed: they travel inside compressed or masked payloads, and
    /// every round repeats them.
    pub fn kept(&self) -> &[String] {
        &self.kept
    }

    /// The original ids, so that no new id is one of them.
    pub fn originals(&self) -> impl Iterator<Item = &[u8]> {
        self.ids
            .iter()
            .map(Vec::as_slice)
            .chain(self.kept.iter().map(|s| s.as_bytes()))
    }

    /// New ids for one round, none of them in `taken` (which gets them): the same length and
    /// kind of character as the originals, from `seed`.
    pub fn fresh(&self, seed: u64, taken: &mut HashSet<Vec<u8>>) -> Vec<Vec<u8>> {
        let mut rng = seed;
        self.ids
            .iter()
            .map(|id| loop {
                let new: Vec<u8> = id.iter().map(|&c| same_kind(c, next(&mut rng))).collect();
                if taken.insert(new.clone()) {
                    break new;
                }
            })
            .collect()
    }

    /// The payload of a segment from `src` to `dst` at `seq`, with every id in it replaced by
    /// its new one (`fresh`, from [`Renamer::fresh`]).
    pub fn patch<'a>(
        &self,
        src: SocketAddr,
        dst: SocketAddr,
        seq: u32,
        payload: &'a [u8],
        fresh: &[Vec<u8>],
    ) -> Cow<'a, [u8]> {
        let Some(d) = self.dirs.get(&(src, dst)) else {
            return Cow::Borrowed(payload);
        };
        let Some(start) = d.base.and_then(|b| offset(b, seq)) else {
            return Cow::Borrowed(payload);
        };
        let end = start.saturating_add(payload.len());
        let longest = self.ids.iter().map(Vec::len).max().unwrap_or(0);
        let first = d.spots.partition_point(|&(at, _)| at + longest <= start);
        let mut out = Cow::Borrowed(payload);
        for &(at, i) in d.spots.get(first..).unwrap_or_default() {
            if at >= end {
                break;
            }
            let Some(new) = fresh.get(i) else { continue };
            for (k, &b) in new.iter().enumerate() {
                let pos = at + k;
                if (start..end).contains(&pos) {
                    if let Some(x) = out.to_mut().get_mut(pos - start) {
                        *x = b;
                    }
                }
            }
        }
        out
    }
}

/// Offset of `seq` from `base`, none when `seq` comes before it.
fn offset(base: u32, seq: u32) -> Option<usize> {
    let d = seq.wrapping_sub(base);
    (d < 1 << 30).then_some(d as usize)
}

/// Every position of `needle` in `hay`.
fn find<'a>(hay: &'a [u8], needle: &'a [u8]) -> impl Iterator<Item = usize> + 'a {
    hay.windows(needle.len().max(1))
        .enumerate()
        .filter(move |(_, w)| !needle.is_empty() && *w == needle)
        .map(|(i, _)| i)
}

/// splitmix64: the next pseudo-random number.
fn next(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A character of the same kind as `c` (digit, lower-case, upper-case letter), chosen by `r`;
/// any other character is kept.
fn same_kind(c: u8, r: u64) -> u8 {
    let pick = |first: u8, n: u64| first + (r % n) as u8;
    match c {
        b'0'..=b'9' => pick(b'0', 10),
        b'a'..=b'z' => pick(b'a', 26),
        b'A'..=b'Z' => pick(b'A', 26),
        _ => c,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_id_keeps_the_kind_of_every_character() {
        let r = Renamer {
            ids: vec![b"aZ09-_x".to_vec()],
            sessions: 1,
            dirs: HashMap::new(),
            kept: vec![],
        };
        let mut taken = HashSet::new();
        for seed in 0..50 {
            let new = r.fresh(seed, &mut taken);
            let [id] = new.as_slice() else {
                panic!("{new:?}")
            };
            assert_eq!(id.len(), 7);
            assert!(id[0].is_ascii_lowercase() && id[1].is_ascii_uppercase());
            assert!(id[2].is_ascii_digit() && id[3].is_ascii_digit());
            assert_eq!(&id[4..6], b"-_");
        }
        assert_eq!(taken.len(), 50, "every round's id is new");
    }

    #[test]
    fn an_id_split_over_two_segments_is_renamed_in_both() {
        let (a, b): (SocketAddr, SocketAddr) = (
            "127.0.0.1:5000".parse().unwrap(),
            "127.0.0.1:3000".parse().unwrap(),
        );
        let r = Renamer {
            ids: vec![b"ABCDEF".to_vec()],
            sessions: 1,
            dirs: [(
                (a, b),
                Direction {
                    base: Some(1000),
                    bytes: vec![],
                    spots: vec![(4, 0)],
                },
            )]
            .into_iter()
            .collect(),
            kept: vec![],
        };
        let fresh = vec![b"uvwxyz".to_vec()];
        assert_eq!(&*r.patch(a, b, 1000, b"sid=ABC", &fresh), b"sid=uvw");
        assert_eq!(&*r.patch(a, b, 1007, b"DEF&t=1", &fresh), b"xyz&t=1");
        // The other direction, and bytes before the id, are left alone.
        assert_eq!(&*r.patch(b, a, 1000, b"sid=ABC", &fresh), b"sid=ABC");
        assert_eq!(&*r.patch(a, b, 1000, b"sid=", &fresh), b"sid=");
    }
}
