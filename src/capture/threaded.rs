//! A replay on two threads: decoding on one, the consumer of its events on the caller's.
//!
//! The decoding thread runs [`replay_packets`] itself (reading, TCP reassembly, HTTP, WebSocket,
//! inflate, Engine.IO, Socket.IO, all state shared between connections included) and hands its
//! events over in order, in batches; the calling thread gives them to the sink (a reporter, the
//! session tracker, the conformance checker). Nothing is decoded differently and nothing is
//! reordered: the sink sees exactly the sequence of a one-thread replay, so the output is the
//! same bytes with any number of threads.
//!
//! Connections are not split between workers: the Engine.IO session state of the pipeline
//! (attachments, whether a session carries Socket.IO) is shared by every TCP connection of a
//! session id, polling requests and relay legs alike, and a connection's sid is only known once
//! its handshake or request is decoded, so no split decided up front is provably the same.

use std::sync::mpsc::sync_channel;

use super::merge::PacketSource;
use super::replay::{replay_packets, ReplayOptions, ReplayStats};
use super::CaptureError;
use crate::event::Event;

/// Events per batch handed between the threads (one channel message each).
const BATCH: usize = 256;

/// Batches in flight at most: how far decoding may run ahead of the consumer (bounded memory).
const IN_FLIGHT: usize = 8;

/// [`replay_packets`] with `threads` threads: 1 runs everything on the calling thread, 2 or
/// more decode on a second one (more are not used). `sink` always runs on the calling thread,
/// and sees the same events in the same order whatever `threads` is.
pub fn replay_packets_threaded(
    reader: &mut (dyn PacketSource + Send),
    opts: &ReplayOptions,
    threads: usize,
    sink: &mut dyn FnMut(Event),
) -> Result<ReplayStats, CaptureError> {
    if threads < 2 {
        return replay_packets(reader, opts, sink);
    }
    std::thread::scope(|scope| {
        let (tx, rx) = sync_channel::<Vec<Event>>(IN_FLIGHT);
        let decoder = scope.spawn(move || {
            let mut batch = Vec::with_capacity(BATCH);
            let mut consumer_gone = false;
            let res = replay_packets(reader, opts, &mut |ev| {
                if consumer_gone {
                    return;
                }
                batch.push(ev);
                if batch.len() == BATCH {
                    let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
                    consumer_gone = tx.send(full).is_err();
                }
            });
            if !consumer_gone && !batch.is_empty() {
                // The receiver outlives this thread (it is dropped after the join below).
                let _ = tx.send(batch);
            }
            res
        });
        for batch in rx.iter() {
            for ev in batch {
                sink(ev);
            }
        }
        match decoder.join() {
            Ok(res) => res,
            Err(panic) => std::panic::resume_unwind(panic),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::CaptureReader;

    /// Every event of a fixture, as NDJSON, replayed with `threads` threads.
    fn ndjson(path: &str, threads: usize) -> Vec<u8> {
        let bytes = std::fs::read(path).unwrap_or_default();
        let Ok(mut reader) = CaptureReader::new(std::io::Cursor::new(bytes)) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        let _ =
            replay_packets_threaded(&mut reader, &ReplayOptions::default(), threads, &mut |ev| {
                out.extend(serde_json::to_vec(&ev).unwrap_or_default());
                out.push(b'\n');
            });
        out
    }

    #[test]
    fn two_threads_give_the_events_of_one() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/pcap/v4-ws-upgrade-deflate.pcap"
        );
        let one = ndjson(path, 1);
        assert!(one.len() > 1000, "the fixture decodes to events");
        assert_eq!(ndjson(path, 2), one);
        assert_eq!(ndjson(path, 8), one);
    }
}
