//! Single-rule tests on hand-written conversations: raw HTTP and WebSocket bytes put into a
//! synthesized capture, replayed through the real pipeline and folded by the checker.

use std::net::SocketAddr;

use super::{Checker, Rule, RuleResult, Side};
use crate::capture::link::TcpFlags;
use crate::capture::writer::{synth_packet, PcapNgWriter};
use crate::capture::{replay, ReplayOptions};
use crate::event::{Dir, Timestamp};

/// One TCP connection's worth of chunks: (direction, milliseconds, bytes).
struct Conv {
    client: SocketAddr,
    server: SocketAddr,
    chunks: Vec<(Dir, u64, Vec<u8>)>,
}

fn conv(port: u16) -> Conv {
    Conv {
        client: SocketAddr::from(([127, 0, 0, 1], port)),
        server: SocketAddr::from(([127, 0, 0, 1], 3000)),
        chunks: vec![],
    }
}

impl Conv {
    fn c(mut self, ms: u64, b: &[u8]) -> Self {
        self.chunks.push((Dir::C2S, ms, b.to_vec()));
        self
    }
    fn s(mut self, ms: u64, b: &[u8]) -> Self {
        self.chunks.push((Dir::S2C, ms, b.to_vec()));
        self
    }
}

/// Writes the conversations (each with its handshake and FINs) as one capture, in time order.
fn capture(convs: &[Conv]) -> Vec<u8> {
    let mut pkts: Vec<(u64, Vec<u8>)> = vec![];
    for (i, cv) in convs.iter().enumerate() {
        let (c, s) = (cv.client, cv.server);
        let t0 = cv.chunks.first().map_or(0, |x| x.1);
        let syn = TcpFlags {
            syn: true,
            ..Default::default()
        };
        let ack = TcpFlags {
            ack: true,
            ..Default::default()
        };
        let (mut cseq, mut sseq) = (1000u32 + i as u32 * 100_000, 5000u32);
        pkts.push((t0 * 1_000_000, synth_packet(c, s, cseq, None, syn, b"")));
        let synack = TcpFlags {
            syn: true,
            ack: true,
            ..Default::default()
        };
        pkts.push((
            t0 * 1_000_000 + 1,
            synth_packet(s, c, sseq, Some(cseq + 1), synack, b""),
        ));
        cseq += 1;
        sseq += 1;
        let mut last = t0;
        for (n, (dir, ms, bytes)) in cv.chunks.iter().enumerate() {
            let ts = ms * 1_000_000 + 2 + n as u64;
            last = *ms;
            let p = match dir {
                Dir::C2S => {
                    let p = synth_packet(c, s, cseq, Some(sseq), ack, bytes);
                    cseq = cseq.wrapping_add(bytes.len() as u32);
                    p
                }
                Dir::S2C => {
                    let p = synth_packet(s, c, sseq, Some(cseq), ack, bytes);
                    sseq = sseq.wrapping_add(bytes.len() as u32);
                    p
                }
            };
            pkts.push((ts, p));
        }
        let fin = TcpFlags {
            fin: true,
            ack: true,
            ..Default::default()
        };
        let end = (last + 1) * 1_000_000 + 900_000;
        pkts.push((end, synth_packet(c, s, cseq, Some(sseq), fin, b"")));
        pkts.push((end + 1, synth_packet(s, c, sseq, Some(cseq + 1), fin, b"")));
    }
    pkts.sort_by_key(|p| p.0);
    let mut w = PcapNgWriter::new(Vec::new()).expect("writer");
    for (ts, p) in pkts {
        w.packet(Timestamp(1_700_000_000_000_000_000 + ts), &p, None)
            .expect("packet");
    }
    w.into_inner()
}

fn run(convs: &[Conv]) -> Vec<RuleResult> {
    let bytes = capture(convs);
    let mut ch = Checker::new();
    replay(&bytes[..], &ReplayOptions::default(), &mut |e| ch.event(&e)).expect("replay");
    ch.finish().0
}

fn get(results: &[RuleResult], side: Side, rule: Rule) -> &RuleResult {
    results
        .iter()
        .find(|r| r.side == side && r.rule == rule)
        .expect("every rule has a result")
}

/// A WebSocket frame: FIN set, masked with a fixed key when `mask`.
fn frame(opcode: u8, rsv1: bool, payload: &[u8], mask: bool) -> Vec<u8> {
    let mut out = vec![0x80 | if rsv1 { 0x40 } else { 0 } | opcode];
    let m = if mask { 0x80 } else { 0 };
    assert!(payload.len() < 126);
    out.push(m | payload.len() as u8);
    let key = [1u8, 2, 3, 4];
    if mask {
        out.extend_from_slice(&key);
        out.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    } else {
        out.extend_from_slice(payload);
    }
    out
}

fn ctext(p: &str) -> Vec<u8> {
    frame(1, false, p.as_bytes(), true)
}
fn stext(p: &str) -> Vec<u8> {
    frame(1, false, p.as_bytes(), false)
}

const WS_REQ: &[u8] = b"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
const WS_101: &[u8] = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";
const OPEN: &str =
    r#"0{"sid":"S1","upgrades":[],"pingInterval":300,"pingTimeout":200,"maxPayload":1000}"#;

/// A direct WebSocket session: handshake, open, CONNECT and its answer.
fn ws_session() -> Conv {
    conv(40000)
        .c(0, WS_REQ)
        .s(1, WS_101)
        .s(2, &stext(OPEN))
        .c(3, &ctext("40"))
        .s(4, &stext(r#"40{"sid":"K1"}"#))
}

#[test]
fn a_clean_session_breaks_no_rule() {
    let r = run(&[ws_session()
        .c(5, &ctext(r#"421["hi"]"#))
        .s(6, &stext(r#"431["ok"]"#))
        .s(300, &stext("2"))
        .c(310, &ctext("3"))
        .c(320, &ctext("41"))]);
    let bad: Vec<_> = r.iter().filter(|r| r.violations > 0).collect();
    assert!(bad.is_empty(), "{bad:#?}");
    assert_eq!(get(&r, Side::Client, Rule::PingAnswered).checked, 1);
    assert_eq!(get(&r, Side::Server, Rule::AckIds).checked, 1);
}

#[test]
fn event_before_connect_is_the_clients_fault() {
    let r = run(&[conv(40001)
        .c(0, WS_REQ)
        .s(1, WS_101)
        .s(2, &stext(OPEN))
        .c(3, &ctext(r#"42["early"]"#))]);
    let cf = get(&r, Side::Client, Rule::ConnectFirst);
    assert_eq!(cf.violations, 1, "{cf:#?}");
    assert!(cf.first[0].detail.contains("before CONNECT"));
    assert_eq!(cf.first[0].sid.as_deref(), Some("S1"));
}

#[test]
fn an_ack_for_an_id_never_sent_is_the_senders_fault() {
    let r = run(&[ws_session()
        .c(5, &ctext(r#"427["q"]"#))
        .s(6, &stext(r#"438["a"]"#))
        .s(7, &stext(r#"437["a"]"#))
        .s(8, &stext(r#"437["again"]"#))]);
    let a = get(&r, Side::Server, Rule::AckIds);
    assert_eq!((a.checked, a.violations), (3, 2), "{a:#?}");
}

#[test]
fn a_ping_unanswered_past_ping_timeout_is_the_answerers_fault() {
    // pingTimeout is 200 ms; the pong comes 250 ms after the ping.
    let late = run(&[ws_session().s(300, &stext("2")).c(550, &ctext("3"))]);
    let p = get(&late, Side::Client, Rule::PingAnswered);
    assert_eq!(p.violations, 1, "{p:#?}");
    // Answered in 150 ms: fine.
    let fine = run(&[ws_session().s(300, &stext("2")).c(450, &ctext("3"))]);
    assert_eq!(get(&fine, Side::Client, Rule::PingAnswered).violations, 0);
}

#[test]
fn rsv1_without_negotiated_deflate_is_a_violation() {
    let r = run(&[ws_session().c(5, &frame(1, true, b"\x02\x00", true))]);
    assert_eq!(get(&r, Side::Client, Rule::Rsv1Negotiated).violations, 1);
}

#[test]
fn close_code_1005_must_not_be_sent() {
    let r = run(&[ws_session().s(5, &frame(8, false, &1005u16.to_be_bytes(), false))]);
    let c = get(&r, Side::Server, Rule::CloseCodes);
    assert_eq!(c.violations, 1, "{c:#?}");
}

#[test]
fn data_after_a_close_frame_is_a_violation() {
    let r = run(&[ws_session()
        .c(5, &frame(8, false, &1000u16.to_be_bytes(), true))
        .c(6, &ctext(r#"42["late"]"#))]);
    assert!(get(&r, Side::Client, Rule::NothingAfterClose).violations >= 1);
}

fn poll(port: u16, method: &str, ms: u64) -> Conv {
    let req = format!(
        "{method} /socket.io/?EIO=4&transport=polling&sid=P1 HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n{}",
        if method == "POST" { 2 } else { 0 },
        if method == "POST" { "40" } else { "" }
    );
    conv(port).c(ms, req.as_bytes())
}

fn ok(body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

#[test]
fn two_gets_in_flight_for_one_sid_is_the_clients_fault() {
    let open = r#"0{"sid":"P1","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000}"#;
    let hs = conv(41000)
        .c(
            0,
            b"GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n\r\n",
        )
        .s(1, &ok(open));
    let g1 = poll(41001, "GET", 2).s(50, &ok("6"));
    let g2 = poll(41002, "GET", 3).s(51, &ok("6"));
    let r = run(&[hs, g1, g2]);
    let p = get(&r, Side::Client, Rule::OnePollPerMethod);
    assert_eq!((p.checked, p.violations), (2, 1), "{p:#?}");
    // One after the other: fine.
    let hs = conv(42000)
        .c(
            0,
            b"GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n\r\n",
        )
        .s(1, &ok(open));
    let r = run(&[
        hs,
        poll(42001, "GET", 2).s(3, &ok("6")),
        poll(42002, "GET", 10).s(11, &ok("6")),
    ]);
    assert_eq!(get(&r, Side::Client, Rule::OnePollPerMethod).violations, 0);
}

#[test]
fn upgrade_before_the_probe_answer_is_the_clients_fault() {
    let open = r#"0{"sid":"P1","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000}"#;
    let hs = conv(43000)
        .c(
            0,
            b"GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n\r\n",
        )
        .s(1, &ok(open));
    let req = b"GET /socket.io/?EIO=4&transport=websocket&sid=P1 HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    let ws = conv(43001)
        .c(2, req)
        .s(3, WS_101)
        .c(4, &ctext("2probe"))
        .c(5, &ctext("5"))
        .s(6, &stext("3probe"));
    let r = run(&[hs, ws]);
    let u = get(&r, Side::Client, Rule::UpgradeSequence);
    assert_eq!(u.violations, 1, "{u:#?}");
    assert!(u.first[0]
        .detail
        .contains("before the server answered 3probe"));
}

#[test]
fn a_recovering_server_may_replay_events_before_its_connect_answer() {
    // socket.io 4.8.4 with connection state recovery: the missed EVENT comes before `40{…}`.
    let base = || conv(44000).c(0, WS_REQ).s(1, WS_101).s(2, &stext(OPEN));
    let r = run(&[base()
        .c(3, &ctext(r#"40{"pid":"P","offset":"O1"}"#))
        .s(4, &stext(r#"42["news",1,"O2"]"#))
        .s(5, &stext(r#"40{"sid":"K1","pid":"P"}"#))]);
    assert_eq!(get(&r, Side::Server, Rule::ConnectFirst).violations, 0);
    // Without recovery the same order is the server's fault.
    let r = run(&[base()
        .c(3, &ctext("40"))
        .s(4, &stext(r#"42["news",1]"#))
        .s(5, &stext(r#"40{"sid":"K1"}"#))]);
    assert_eq!(get(&r, Side::Server, Rule::ConnectFirst).violations, 1);
}

#[test]
fn a_second_websocket_for_one_session_is_the_clients_fault() {
    let open = r#"0{"sid":"P1","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000}"#;
    let hs = conv(45000)
        .c(
            0,
            b"GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n\r\n",
        )
        .s(1, &ok(open));
    let req = b"GET /socket.io/?EIO=4&transport=websocket&sid=P1 HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    let r = run(&[
        hs,
        conv(45001).c(2, req).s(3, WS_101),
        conv(45002).c(4, req).s(5, WS_101),
    ]);
    let u = get(&r, Side::Client, Rule::UpgradeSequence);
    assert_eq!(u.violations, 1, "{u:#?}");
    assert!(u.first[0].detail.contains("WebSocket #2"));
}
