//! The seam between the connection layer and the Engine.IO layer.
//!
//! The connection layer (HTTP, WebSocket framing, permessage-deflate) keeps state per TCP
//! connection only; the Engine.IO layer ([`EioLayer`]: sessions, attachments, whether a session
//! carries Socket.IO, a WebSocket's session id) is shared by every connection of a session id.
//! The connection layer therefore never calls the Engine.IO layer: it emits [`Step`]s, finished
//! events and, in the place where the Engine.IO layer's events belong, the work to do there
//! ([`EioStep`]). Applying the steps in the order they were emitted gives the same events
//! whether it happens at once ([`super::Pipeline`]) or on another thread after the connections
//! were decoded on several ([`crate::capture::replay_packets_threaded`]).

use foldhash::HashMap;

use super::engine::{EioCtx, Sessions};
use super::{Emit, PipelineOptions, Sink};
use crate::event::{Body, ConnId, Dir, Event, Origin, WsInfo};

/// What the connection layer emits: an event, or Engine.IO work to do at this place.
// Events are most steps and are moved on at once: boxing them would cost an allocation each.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Step {
    /// A finished event.
    Event(Event),
    /// Work of the Engine.IO layer; its events go here.
    Eio(EioStep),
}

impl From<Event> for Step {
    fn from(ev: Event) -> Self {
        Step::Event(ev)
    }
}

/// What a WebSocket message hands the Engine.IO layer besides its event.
pub(crate) enum WsPayload {
    /// The message event's own text is Engine.IO (a complete text message).
    Text,
    /// These bytes are an Engine.IO binary message (a complete binary message).
    Binary(Vec<u8>),
    /// Nothing to decode (incomplete, not inflated, skipped).
    Nothing,
}

/// A polling body (request or response) for the Engine.IO layer.
pub(crate) struct PollingBody {
    /// The connection.
    pub(crate) conn: ConnId,
    /// The request's Engine.IO context.
    pub(crate) ctx: EioCtx,
    /// The body, content encoding undone.
    pub(crate) body: Vec<u8>,
    /// `Content-Type: application/octet-stream`.
    pub(crate) binary: bool,
    /// Where the HTTP message began.
    pub(crate) first: Origin,
    /// Where it ended.
    pub(crate) last: Origin,
}

/// Engine.IO work, in the place of the stream where its events go.
pub(crate) enum EioStep {
    /// A polling request's body, after its request event.
    PollingBody(PollingBody),
    /// A polling response to a `GET` and the response's HTTP event: the event carries the
    /// session id the body names (a handshake answer), so the body is decoded first; the event
    /// goes out, then its packets.
    PollingResponse(PollingBody, Box<Event>),
    /// A connection became WebSocket (after its `101`, or picked up mid-stream): its Engine.IO
    /// context from now on.
    WsOpen {
        /// The connection.
        conn: ConnId,
        /// Its context (revision, session id if the upgrade request named one, path).
        ctx: EioCtx,
    },
    /// A WebSocket message: its event takes the connection's session id as it was before the
    /// message, goes out, then the Engine.IO and Socket.IO events of its payload follow.
    WsMessage {
        /// The connection.
        conn: ConnId,
        /// Its direction.
        dir: Dir,
        /// The message event.
        message: Box<Event>,
        /// What is decoded of it.
        payload: WsPayload,
        /// Where the message began.
        first: Origin,
        /// Where it ended.
        last: Origin,
    },
    /// A connection closed: it no longer holds its sessions open.
    ConnClosed(ConnId),
}

/// The Engine.IO layer: applies [`Step`]s in order and emits the events.
pub(crate) struct EioLayer {
    sessions: Sessions,
    /// The Engine.IO context of each WebSocket connection (a WebSocket-only handshake names its
    /// session id on the way).
    ws: HashMap<ConnId, EioCtx>,
    /// Events of a body or text held until the event that carries it is out (reused).
    held: Vec<Event>,
}

impl EioLayer {
    /// An Engine.IO layer with these settings.
    pub(crate) fn new(opts: &PipelineOptions) -> Self {
        EioLayer {
            sessions: Sessions::new(opts.max_json_depth, opts.max_sessions),
            ws: HashMap::default(),
            held: Vec::new(),
        }
    }

    /// Applies one step: passes an event on, or does the Engine.IO work and emits its events.
    pub(crate) fn apply(&mut self, step: Step, sink: &mut Sink<'_>) {
        let step = match step {
            Step::Event(ev) => return sink(ev),
            Step::Eio(s) => s,
        };
        match step {
            EioStep::PollingBody(p) => {
                let mut emit = Emit { conn: p.conn, sink };
                self.sessions
                    .polling_body(p.ctx, &p.body, p.binary, p.first, p.last, &mut emit);
            }
            EioStep::PollingResponse(mut p, mut response) => {
                let sessions = &mut self.sessions;
                first_then_held(&mut self.held, p.conn, sink, |emit| {
                    sessions.polling_response(&mut p.ctx, &p.body, p.binary, p.first, p.last, emit);
                    if let Body::Http(info) = &mut response.body {
                        info.sid = p.ctx.sid;
                    }
                    *response
                });
            }
            EioStep::WsOpen { conn, ctx } => {
                self.ws.insert(conn, ctx);
            }
            EioStep::WsMessage {
                conn,
                dir,
                mut message,
                payload,
                first,
                last,
            } => {
                let ctx = self.ws.entry(conn).or_default();
                if let Body::Ws(WsInfo::Message { sid, .. }) = &mut message.body {
                    sid.clone_from(&ctx.sid);
                }
                match payload {
                    WsPayload::Text => {
                        let sessions = &mut self.sessions;
                        first_then_held(&mut self.held, conn, sink, |emit| {
                            if let Body::Ws(WsInfo::Message { text: Some(t), .. }) = &message.body {
                                sessions.ws_text(ctx, dir, t, first, last, emit);
                            }
                            *message
                        });
                    }
                    WsPayload::Binary(bytes) => {
                        sink(*message);
                        let mut emit = Emit { conn, sink };
                        self.sessions
                            .ws_binary(ctx, dir, &bytes, first, last, &mut emit);
                    }
                    WsPayload::Nothing => sink(*message),
                }
            }
            EioStep::ConnClosed(conn) => {
                self.sessions.conn_closed(conn);
                self.ws.remove(&conn);
            }
        }
    }
}

/// Runs `decode` with the events it emits held (in `held`, reused), gives the event it returns
/// to `sink`, then the held ones: the event that carries a body or text goes out before the
/// packets decoded from it, though they are decoded first (they may name the session id it
/// carries, or it takes their text without a copy).
fn first_then_held(
    held: &mut Vec<Event>,
    conn: ConnId,
    sink: &mut Sink<'_>,
    decode: impl FnOnce(&mut Emit<'_, '_>) -> Event,
) {
    let first = {
        let mut hold = |e| held.push(e);
        let mut emit = Emit {
            conn,
            sink: &mut hold,
        };
        decode(&mut emit)
    };
    sink(first);
    for ev in held.drain(..) {
        sink(ev);
    }
}
