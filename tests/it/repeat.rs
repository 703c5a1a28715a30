//! The corpus replayer (`sioscope::capture::repeat`): every round is new sessions, with fresh
//! session and socket ids, decoded exactly like the first.

use std::collections::BTreeSet;

use sioscope::capture::repeat::{repeat_corpus, Repeated, Until};
use sioscope::event::{Body, Event, TcpInfo};

use crate::common::{decode_bytes, root, sioscope};

/// The corpus replayed `rounds` times, in memory.
fn replayed(rounds: u32) -> (Vec<u8>, Repeated) {
    let mut bytes = vec![];
    let done = repeat_corpus(
        &root().join("fixtures/pcap"),
        &mut bytes,
        Until::Rounds(rounds),
    )
    .expect("replay the corpus");
    assert_eq!(done.rounds, rounds);
    (bytes, done)
}

/// Sessions as (client address, sid) and the distinct sids, from what sioscope decodes.
fn sessions(events: &[Event]) -> (BTreeSet<(String, String)>, BTreeSet<String>) {
    let mut clients = std::collections::HashMap::new();
    let (mut pairs, mut sids) = (BTreeSet::new(), BTreeSet::new());
    for ev in events {
        match &ev.body {
            Body::Tcp(TcpInfo::Open { client, .. }) => {
                let ip = client.rsplit_once(':').map_or(client.as_str(), |(a, _)| a);
                clients.insert(ev.conn.0, ip.to_string());
            }
            Body::Eio { eio } | Body::Sio { eio, .. } => {
                if let Some(s) = &eio.sid {
                    let ip = clients.get(&ev.conn.0).cloned().unwrap_or_default();
                    pairs.insert((ip, s.clone()));
                    sids.insert(s.clone());
                }
            }
            _ => {}
        }
    }
    (pairs, sids)
}

#[test]
fn every_round_of_the_replayed_corpus_has_fresh_sids_and_decodes_like_the_first() {
    let (one, d1) = replayed(1);
    let (three, d3) = replayed(3);
    let (ev1, ev3) = (decode_bytes(&one), decode_bytes(&three));
    // Renaming changes bytes in place: every round decodes to as many events, anomalies included.
    assert_eq!(ev3.len(), 3 * ev1.len());
    let anomalies = |v: &[Event]| {
        v.iter()
            .filter(|e| matches!(e.body, Body::Anomaly(_)))
            .count()
    };
    assert_eq!(anomalies(&ev3), 3 * anomalies(&ev1));
    let ((p1, s1), (p3, s3)) = (sessions(&ev1), sessions(&ev3));
    assert_eq!(p3.len(), 3 * p1.len());
    // The generator's count of distinct sids is exact: renamed ones are new each round, the kept
    // ones (inside compressed payloads only) repeat.
    assert_eq!(s1.len() as u64, d1.distinct_sids);
    assert_eq!(s3.len() as u64, d3.distinct_sids);
    assert_eq!(d3.sids_renamed, 3 * d1.sids_renamed);
    assert_eq!(d3.sids_kept, d1.sids_kept);
    assert_eq!(d3.distinct_sids, d3.sids_renamed + d3.sids_kept);
    assert!(
        d1.sids_kept * 10 < d1.sids_renamed,
        "most sids are renamed: {d1:?}"
    );
    // No renamed id of one round comes back in another.
    let original: BTreeSet<String> = crate::common::fixtures()
        .iter()
        .filter(|p| p.extension().is_some_and(|x| x == "pcap"))
        .flat_map(|p| sessions(&crate::common::decode(p)).1)
        .collect();
    let repeated: Vec<&String> = s3.intersection(&original).collect();
    assert_eq!(repeated.len() as u64, d3.sids_kept, "{repeated:?}");
    // explain keys sessions by sid: it sees every distinct one.
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("three.pcapng");
    std::fs::write(&path, &three).expect("write");
    let out = sioscope(&["explain", &path.to_string_lossy(), "--format", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(json["summary"]["sessions"].as_u64(), Some(d3.distinct_sids));
}
