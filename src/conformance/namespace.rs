//! Socket.IO namespaces and acks, per session: who may send on a namespace (CONNECT first,
//! nothing after the sender's DISCONNECT) and which event ids await an ACK.
//!
//! socket.io-protocol: "At the beginning of a Socket.IO session, the client MUST send a CONNECT
//! packet"; the server answers CONNECT (with the socket id) or CONNECT_ERROR. Protocol v4
//! (socket.io 1.x/2.x) connects `/` implicitly. An EVENT with an id asks for an ACK: "The
//! receiver MUST respond with an ACK packet with the same event ID".

use std::collections::{HashMap, HashSet};

use super::rule::{Rule, Side};
use crate::event::SioInfo;

/// Outstanding event ids remembered per session and direction (ack matching stops beyond).
const MAX_PENDING_ACKS: usize = 4096;
/// Namespaces tracked per session (checks stop beyond).
const MAX_NAMESPACES: usize = 1024;

/// A namespace's state as one side sees its own sending rights.
#[derive(Clone, Copy, PartialEq, Eq, Default)]
enum NspState {
    /// Never connected.
    #[default]
    Never,
    /// Connected: events may flow.
    Open,
    /// This side closed it (DISCONNECT): it must not send more.
    ClosedBySelf,
    /// The other side closed it: what was in flight is a race, not a fault.
    ClosedByPeer,
    /// Server only: the client asked to recover a session (`pid` and `offset` in its CONNECT).
    /// socket.io 4.8.4 replays the missed packets *before* its CONNECT answer (seen in the
    /// `v4-recovery` capture) and socket.io-client buffers them, so events are allowed here.
    Recovering,
}

fn si(side: Side) -> usize {
    match side {
        Side::Client => 0,
        Side::Server => 1,
    }
}

/// One session's namespaces and pending acks.
#[derive(Default)]
pub(super) struct SioState {
    /// Per namespace: [client, server] sending rights.
    nsps: HashMap<String, [NspState; 2]>,
    /// Event ids awaiting an ack, per sender [client, server].
    acks: [HashSet<(String, u64)>; 2],
    /// Too many outstanding ids (or namespaces): matching stopped.
    overflow: bool,
}

impl SioState {
    /// Takes one packet sent by `side`; returns the verdicts of the rules it was checked against.
    pub(super) fn packet(&mut self, side: Side, sio: &SioInfo) -> Vec<(Rule, Result<(), String>)> {
        let mut verdicts: Vec<(Rule, Result<(), String>)> = vec![];
        if !self.nsps.contains_key(&sio.nsp) && self.nsps.len() >= MAX_NAMESPACES {
            self.overflow = true;
            return verdicts;
        }
        let v5 = sio.version >= 5;
        let state = self.nsps.entry(sio.nsp.clone()).or_default();
        if !v5 && sio.nsp == "/" && *state == [NspState::Never; 2] {
            // Protocol v4 (socket.io 2.x): the server connects `/` implicitly.
            *state = [NspState::Open; 2];
        }
        let me = si(side);
        let peer = 1 - me;
        let mine = state[me];
        let theirs = state[peer];
        let kind = sio.kind.as_str();
        match kind {
            "CONNECT" => {
                // socket.io-protocol: "the client MUST send a CONNECT packet"; the server
                // answers it, never the other way round.
                let ok = if side == Side::Server && v5 && theirs != NspState::Open {
                    Err(format!(
                        "server CONNECT for {} without a client CONNECT",
                        sio.nsp
                    ))
                } else {
                    Ok(())
                };
                verdicts.push((Rule::ConnectFirst, ok));
                state[me] = NspState::Open;
                if side == Side::Client {
                    // A new CONNECT opens a new exchange; the server's reply decides.
                    let recovery = sio.data.as_ref().is_some_and(|d| {
                        d.get("pid").is_some_and(|v| v.is_string())
                            && d.get("offset").is_some_and(|v| v.is_string())
                    });
                    state[peer] = match theirs {
                        NspState::Open => NspState::Open,
                        _ if recovery => NspState::Recovering,
                        _ => NspState::Never,
                    };
                }
            }
            "CONNECT_ERROR" | "ERROR" => {
                state[me] = NspState::ClosedBySelf;
                state[peer] = NspState::ClosedByPeer;
            }
            "DISCONNECT" => {
                let ok = if mine == NspState::ClosedBySelf {
                    Err(format!("DISCONNECT on {} sent twice", sio.nsp))
                } else {
                    Ok(())
                };
                verdicts.push((Rule::NothingAfterClose, ok));
                state[me] = NspState::ClosedBySelf;
                state[peer] = NspState::ClosedByPeer;
            }
            _ => {
                let ok = match mine {
                    NspState::Open | NspState::ClosedByPeer | NspState::Recovering => Ok(()),
                    NspState::Never => Err(format!("{kind} on {} before CONNECT", sio.nsp)),
                    NspState::ClosedBySelf => {
                        verdicts.push((
                            Rule::NothingAfterClose,
                            Err(format!(
                                "{kind} on {} after this side's DISCONNECT",
                                sio.nsp
                            )),
                        ));
                        Ok(())
                    }
                };
                verdicts.push((Rule::ConnectFirst, ok));
                let key = (sio.nsp.clone(), sio.id.unwrap_or(0));
                match (kind, sio.id) {
                    ("EVENT" | "BINARY_EVENT", Some(_)) => {
                        if self.acks[me].len() < MAX_PENDING_ACKS {
                            self.acks[me].insert(key);
                        } else {
                            self.overflow = true;
                        }
                    }
                    ("ACK" | "BINARY_ACK", id) => {
                        // socket.io-protocol: "The receiver MUST respond with an ACK packet with
                        // the same event ID".
                        let ok = match id {
                            _ if self.overflow => Ok(()),
                            None => Err("ACK without an id".to_string()),
                            Some(_) if self.acks[peer].remove(&key) => Ok(()),
                            Some(n) => Err(format!(
                                "ACK {n} on {} answers no event id the other side sent (or answers it twice)",
                                sio.nsp
                            )),
                        };
                        verdicts.push((Rule::AckIds, ok));
                    }
                    _ => {}
                }
            }
        }
        verdicts
    }
}
