//! `sessions` output: the Engine.IO sessions of a capture as a table, the reconnect chains with
//! the socket ids that changed per namespace, and a field-by-field diff of two sessions.

use std::io::{self, Write};

use owo_colors::OwoColorize;
use tabled::builder::Builder;
use tabled::settings::peaker::Priority;
use tabled::settings::{Style, Width};

use crate::event::Timestamp;
use crate::explain::{Explanation, Finding};
use crate::session::{SessionRecord, UpgradeState};

fn short(sid: &str, full: bool) -> String {
    if !full && sid.chars().count() > 8 {
        format!("{}…", sid.chars().take(6).collect::<String>())
    } else {
        sid.to_string()
    }
}

fn secs(t0: Timestamp, t: Timestamp) -> String {
    format!("{:.3}", t.0.saturating_sub(t0.0) as f64 / 1e9)
}

fn sockets(f: &Finding, full: bool) -> String {
    f.sockets
        .iter()
        .map(|s| {
            format!(
                "{}={}{}",
                s.nsp,
                s.socket_id
                    .as_deref()
                    .map(|i| short(i, full))
                    .unwrap_or_else(|| "?".into()),
                match s.recovered {
                    Some(true) => " (recovered)",
                    Some(false) => " (not recovered)",
                    None => "",
                }
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Settings of the sessions tables.
#[derive(Debug, Clone, Copy, Default)]
pub struct SessionsOptions {
    /// Whole session and socket ids.
    pub full: bool,
    /// Abnormal ends in red.
    pub color: bool,
    /// Columns available (the terminal's width); [`DEFAULT_WIDTH`] when not given.
    pub width: Option<usize>,
}

/// Tables fit this many columns when the terminal's width is not known.
pub const DEFAULT_WIDTH: usize = 100;

/// Rounded borders, cells wrapped at word boundaries (widest column first) to fit `width`.
fn finish(b: Builder, width: usize) -> tabled::Table {
    let mut table = b.build();
    table.with(Style::rounded());
    table.with(
        Width::wrap(width)
            .keep_words(true)
            .priority(Priority::max(true)),
    );
    table
}

/// Writes the sessions table and the chains.
pub fn write_sessions<W: Write>(
    out: &mut W,
    x: &Explanation,
    t0: Timestamp,
    opts: SessionsOptions,
) -> io::Result<()> {
    let full = opts.full;
    let mut b = Builder::default();
    b.push_record([
        "#",
        "sid",
        "EIO",
        "client",
        "transports",
        "time s",
        "sockets",
        "end",
    ]);
    for (i, f) in x.sessions.iter().enumerate() {
        b.push_record([
            (i + 1).to_string(),
            short(&f.sid, full),
            f.eio.map(|v| v.to_string()).unwrap_or_else(|| "0.9".into()),
            f.client.clone(),
            f.transports
                .iter()
                .map(|t| if t == "websocket" { "ws" } else { t.as_str() })
                .collect::<Vec<_>>()
                .join("→"),
            format!("{}–{}", secs(t0, f.start.ts), secs(t0, f.end.at.ts)),
            sockets(f, full),
            format!(
                "{}{}",
                f.end.cause.as_str(),
                f.end
                    .reason
                    .as_deref()
                    .map(|r| format!("\n{}", wrap_words(&format!("\"{r}\""), 22)))
                    .unwrap_or_default()
            ),
        ]);
    }
    let width = opts.width.unwrap_or(DEFAULT_WIDTH);
    let table = finish(b, width);
    writeln!(out, "Engine.IO sessions\n{table}")?;
    let abnormal = x.abnormal();
    let line = format!(
        "{} session{}, {abnormal} ended abnormally",
        x.sessions.len(),
        if x.sessions.len() == 1 { "" } else { "s" }
    );
    match (opts.color, abnormal) {
        (false, _) => writeln!(out, "{line}")?,
        (true, 0) => writeln!(out, "{}", line.green())?,
        (true, _) => writeln!(out, "{}", line.red().bold())?,
    }
    if let Some(f) = &x.folded {
        writeln!(out, "{}", f.sentence())?;
    }
    if x.chains.is_empty() {
        writeln!(out, "\nNo reconnect chains: no session replaced another.")?;
        return Ok(());
    }
    writeln!(out, "\nReconnect chains (sessions of one client, in order)")?;
    let mut b = Builder::default();
    b.push_record([
        "from → to",
        "cause",
        "gap s",
        "linked by",
        "namespace",
        "socket id",
        "state",
    ]);
    for c in &x.chains {
        for l in &c.links {
            let first = l.sockets.first();
            let rows = l.sockets.len().max(1);
            for i in 0..rows {
                let s = l.sockets.get(i).or(first);
                let (nsp, ids, state) = match s {
                    Some(s) => (
                        s.nsp.clone(),
                        format!(
                            "{}→{}",
                            s.from
                                .as_deref()
                                .map(|v| short(v, full))
                                .unwrap_or_else(|| "?".into()),
                            s.to.as_deref()
                                .map(|v| short(v, full))
                                .unwrap_or_else(|| "(not joined)".into())
                        ),
                        if s.recovered {
                            "recovered".to_string()
                        } else if s.from.is_some() && s.from == s.to {
                            "same id".to_string()
                        } else {
                            "changed".to_string()
                        },
                    ),
                    None => (String::new(), String::new(), String::new()),
                };
                let head = i == 0;
                b.push_record([
                    if head {
                        format!("{}→{}", short(&l.from, full), short(&l.to, full))
                    } else {
                        String::new()
                    },
                    if head {
                        l.cause.as_str().to_string()
                    } else {
                        String::new()
                    },
                    if head {
                        format!("{:.3}", l.gap_ms / 1000.0)
                    } else {
                        String::new()
                    },
                    if head {
                        l.by.to_string()
                    } else {
                        String::new()
                    },
                    nsp,
                    ids,
                    state,
                ]);
            }
        }
    }
    writeln!(out, "{}", finish(b, width))?;
    writeln!(
        out,
        "recovered: same socket id, state restored\nchanged: state keyed by the old socket id \
         (rooms, maps) does not carry over"
    )
}

/// Writes a field-by-field comparison of two sessions.
pub fn write_diff<W: Write>(
    out: &mut W,
    a: (&SessionRecord, &Finding),
    b: (&SessionRecord, &Finding),
    t0: Timestamp,
) -> io::Result<()> {
    let fields = |r: &SessionRecord, f: &Finding| -> Vec<(&'static str, String)> {
        let nsps: Vec<String> = r.sockets.iter().map(|k| k.nsp.clone()).collect();
        vec![
            ("sid", r.sid.clone()),
            (
                "Engine.IO",
                r.eio.map(|v| v.to_string()).unwrap_or_else(|| "0.9".into()),
            ),
            ("client", r.client.clone()),
            (
                "User-Agent",
                r.user_agent.as_deref().unwrap_or_default().to_string(),
            ),
            ("server", r.server.clone()),
            (
                "Server header",
                r.server_software.clone().unwrap_or_default(),
            ),
            ("request", r.fingerprint.clone()),
            ("transports", f.transports.join(" → ")),
            ("upgrade", upgrade_words(r.upgrade).to_string()),
            (
                "pingInterval",
                r.ping_interval
                    .map(|v| format!("{v} ms"))
                    .unwrap_or_default(),
            ),
            (
                "pingTimeout",
                r.ping_timeout
                    .map(|v| format!("{v} ms"))
                    .unwrap_or_default(),
            ),
            (
                "maxPayload",
                r.max_payload.map(|v| v.to_string()).unwrap_or_default(),
            ),
            ("namespaces", nsps.join(", ")),
            ("socket ids", sockets(f, true)),
            (
                "events c2s / s2c",
                format!("{} / {}", r.events[0], r.events[1]),
            ),
            (
                "largest message c2s / s2c",
                format!("{} / {}", r.largest[0], r.largest[1]),
            ),
            ("connections", r.conns.len().to_string()),
            (
                "start",
                format!("{} s (frame {})", secs(t0, r.opened.ts), r.opened.frame),
            ),
            (
                "end",
                format!("{} s (frame {})", secs(t0, f.end.at.ts), f.end.at.frame),
            ),
            (
                "duration",
                format!(
                    "{:.3} s",
                    f.end.at.ts.0.saturating_sub(r.opened.ts.0) as f64 / 1e9
                ),
            ),
            ("end cause", f.end.cause.as_str().to_string()),
            ("reason", f.end.reason.clone().unwrap_or_default()),
            ("lost after close", f.lost.len().to_string()),
        ]
    };
    let fa = fields(a.0, a.1);
    let fb = fields(b.0, b.1);
    let mut t = Builder::default();
    t.push_record(["field", "A", "B", ""]);
    for ((name, va), (_, vb)) in fa.into_iter().zip(fb) {
        let mark = if name == "sid" || va == vb { "" } else { "≠" };
        t.push_record([name.to_string(), va, vb, mark.to_string()]);
    }
    writeln!(out, "{}", finish(t, DEFAULT_WIDTH))
}

/// How far the polling → WebSocket upgrade got, in words (engine.io-protocol "Upgrade": `101`,
/// `2probe`, `3probe`, `5`).
fn upgrade_words(u: UpgradeState) -> &'static str {
    match u {
        UpgradeState::None => "not attempted",
        UpgradeState::Switched => "WebSocket opened (101), no probe sent",
        UpgradeState::ProbeSent => "probe sent (2probe), not answered",
        UpgradeState::ProbeAnswered => "probe answered (3probe), upgrade packet (5) not sent",
        UpgradeState::Upgraded => "upgraded to WebSocket",
    }
}

/// Text broken into lines of at most `width` characters at spaces (a longer word stays whole).
fn wrap_words(text: &str, width: usize) -> String {
    let mut lines: Vec<String> = vec![];
    for word in text.split(' ') {
        match lines.last_mut() {
            Some(l) if l.chars().count() + 1 + word.chars().count() <= width => {
                l.push(' ');
                l.push_str(word);
            }
            _ => lines.push(word.to_string()),
        }
    }
    lines.join("\n")
}
