//! The `explain` report for people: one screen per capture, grouped by client, each session with
//! its end cause in the libraries' own words, the frames that prove it, and what to change.

use std::io::{self, Write};

use owo_colors::{OwoColorize, Style};

use crate::event::{Dir, Timestamp};
use crate::explain::{Explanation, Finding};
use crate::session::Mark;

/// Writes an explanation as text.
pub struct ExplainText<W: Write> {
    out: W,
    color: bool,
    t0: Timestamp,
}

fn short(sid: &str) -> String {
    if sid.chars().count() > 8 {
        format!("{}…", sid.chars().take(6).collect::<String>())
    } else {
        sid.to_string()
    }
}

impl<W: Write> ExplainText<W> {
    /// A writer; `t0` is the capture's first timestamp (times are printed relative to it).
    pub fn new(out: W, color: bool, t0: Timestamp) -> Self {
        ExplainText { out, color, t0 }
    }

    fn paint(&self, s: &str, style: Style) -> String {
        if self.color {
            s.style(style).to_string()
        } else {
            s.to_string()
        }
    }

    fn rel(&self, ts: Timestamp) -> String {
        format!("{:.3} s", ts.0.saturating_sub(self.t0.0) as f64 / 1e9)
    }

    fn mark(&self, m: &Mark) -> String {
        let dir = match m.dir {
            Some(Dir::C2S) => "c2s",
            Some(Dir::S2C) => "s2c",
            None => "   ",
        };
        format!(
            "{} {}  {}",
            self.paint(&format!("frame {:<6}", m.frame), Style::new().cyan()),
            dir,
            m.what
        )
    }

    /// Writes the whole report.
    pub fn write(&mut self, name: &str, x: &Explanation) -> io::Result<()> {
        let mut groups: Vec<(String, Vec<&Finding>)> = vec![];
        for f in &x.sessions {
            let key = format!(
                "{}|{}",
                f.client
                    .rsplit_once(':')
                    .map(|(ip, _)| ip)
                    .unwrap_or(&f.client),
                f.user_agent.as_deref().unwrap_or("")
            );
            let chain = x.chains.iter().position(|c| c.sids.contains(&f.sid));
            let key = match chain {
                Some(i) => format!("chain{i}"),
                None => key,
            };
            match groups.iter_mut().find(|(k, _)| *k == key) {
                Some((_, v)) => v.push(f),
                None => groups.push((key, vec![f])),
            }
        }
        let abnormal = x.abnormal();
        writeln!(
            self.out,
            "{}  {} Engine.IO session{} · {} abnormal end{} · {:.1} s",
            self.paint(name, Style::new().bold()),
            x.sessions.len(),
            if x.sessions.len() == 1 { "" } else { "s" },
            abnormal,
            if abnormal == 1 { "" } else { "s" },
            x.duration
        )?;
        for (_, sessions) in &groups {
            let Some(first) = sessions.first() else {
                continue;
            };
            writeln!(self.out)?;
            let chain = x.chains.iter().find(|c| c.sids.contains(&first.sid));
            let chain_txt = chain
                .map(|c| {
                    format!(
                        "   sid chain: {}",
                        c.sids
                            .iter()
                            .map(|s| short(s))
                            .collect::<Vec<_>>()
                            .join(" → ")
                    )
                })
                .unwrap_or_default();
            writeln!(
                self.out,
                "{}{}{}",
                self.paint(&format!("client {}", first.client), Style::new().bold()),
                first
                    .user_agent
                    .as_deref()
                    .map(|u| format!(" ({})", u.chars().take(60).collect::<String>()))
                    .unwrap_or_default(),
                chain_txt
            )?;
            for f in sessions {
                self.session(f, x)?;
            }
        }
        if !x.sessionless_errors.is_empty() {
            writeln!(self.out)?;
            writeln!(
                self.out,
                "{}",
                self.paint("errors outside any session", Style::new().bold())
            )?;
            for m in &x.sessionless_errors {
                writeln!(self.out, "  {}", self.mark(m))?;
            }
        }
        writeln!(self.out)?;
        if abnormal > 0 {
            writeln!(
                self.out,
                "exit 1: {abnormal} session{} ended abnormally",
                if abnormal == 1 { "" } else { "s" }
            )?;
        } else {
            writeln!(
                self.out,
                "exit 0: every session ended cleanly or is still open"
            )?;
        }
        self.out.flush()
    }

    fn session(&mut self, f: &Finding, x: &Explanation) -> io::Result<()> {
        let link = x
            .chains
            .iter()
            .flat_map(|c| &c.links)
            .find(|l| l.to == f.sid);
        let mut transports = f.transports.join(" → ");
        match (&f.upgrade_at, f.upgrade) {
            (Some(m), crate::session::UpgradeState::Upgraded) => {
                transports.push_str(&format!(" at {}", self.rel(m.ts)))
            }
            (Some(m), state) if state != crate::session::UpgradeState::None => transports.push_str(
                &format!(" (upgrade stalled after {:?} at {})", state, self.rel(m.ts)),
            ),
            _ => {}
        }
        let sockets: Vec<String> = f
            .sockets
            .iter()
            .map(|s| {
                let mut t = format!(
                    "{} (socket {})",
                    s.nsp,
                    s.socket_id
                        .as_deref()
                        .map(short)
                        .unwrap_or_else(|| "?".into())
                );
                if s.refused {
                    t.push_str(" refused");
                }
                match s.recovered {
                    Some(true) => t.push_str(" recovered"),
                    Some(false) => t.push_str(" not recovered, state lost"),
                    None => {}
                }
                t
            })
            .collect();
        let eio = f
            .eio
            .map(|v| format!("EIO {v}"))
            .unwrap_or_else(|| "socket.io 0.9".into());
        writeln!(
            self.out,
            "  ● {}  {} · {} · {}",
            self.paint(&short(&f.sid), Style::new().bold()),
            eio,
            transports,
            if sockets.is_empty() {
                "no namespace joined".to_string()
            } else {
                sockets.join(", ")
            }
        )?;
        if let Some(l) = link {
            let changed: Vec<String> = l
                .sockets
                .iter()
                .map(|s| {
                    let from = s.from.as_deref().map(short).unwrap_or_else(|| "?".into());
                    let to = s.to.as_deref().map(short).unwrap_or_else(|| "—".into());
                    if s.recovered {
                        format!("{} kept {from} (recovered)", s.nsp)
                    } else {
                        format!("{} {from} → {to}", s.nsp)
                    }
                })
                .collect();
            writeln!(
                self.out,
                "    ↳ reconnect {:.1} s after {} ended ({}) · {}",
                l.gap_ms / 1000.0,
                short(&l.from),
                l.cause.as_str(),
                if changed.is_empty() {
                    "no sockets".into()
                } else {
                    format!("socket ids: {}", changed.join(", "))
                }
            )?;
            if l.sockets.iter().any(|s| !s.recovered && s.from.is_some()) {
                writeln!(
                    self.out,
                    "      {}",
                    self.paint(
                        "⚠ state keyed by the old socket id (rooms, maps) does not carry over",
                        Style::new().yellow()
                    )
                )?;
            }
        }
        let e = &f.end;
        let (icon, style) = if f.abnormal() {
            ("✗", Style::new().red().bold())
        } else {
            ("✓", Style::new().green().bold())
        };
        let reasons = match (&e.reason, &e.client_reason) {
            (Some(r), Some(c)) if r != c => format!(" → server reported \"{r}\", client \"{c}\""),
            (Some(r), _) => format!(" (\"{r}\")"),
            (None, Some(c)) => format!(" (client: \"{c}\")"),
            (None, None) => String::new(),
        };
        writeln!(
            self.out,
            "    {} ended {}  {}{} · by {:?}",
            self.paint(icon, style),
            self.rel(e.at.ts),
            self.paint(e.cause.as_str(), style),
            reasons,
            e.initiator
        )?;
        for m in &e.evidence {
            writeln!(self.out, "      {}", self.mark(m))?;
        }
        // Faults injected on purpose by `sioscope proxy --fault` (recorded as packet comments).
        for m in &f.injected {
            let what = m.what.trim_start_matches("injected-fault: ");
            writeln!(
                self.out,
                "      {} {}  {}",
                self.paint("⚡ injected", Style::new().magenta().bold()),
                self.paint(&format!("frame {}", m.frame), Style::new().cyan()),
                what
            )?;
        }
        for line in wrap(&e.explanation, 92) {
            writeln!(self.out, "      {line}")?;
        }
        if let Some(fix) = &e.fix {
            for (i, line) in wrap(fix, 88).into_iter().enumerate() {
                let head = if i == 0 {
                    self.paint("fix:", Style::new().green())
                } else {
                    "    ".into()
                };
                writeln!(self.out, "      {head} {line}")?;
            }
        }
        for n in &f.notes {
            if n.kind == "lost-messages" {
                continue; // printed below with its frame range
            }
            writeln!(
                self.out,
                "      {} {}",
                self.paint("note", Style::new().yellow()),
                self.paint(n.kind, Style::new().bold())
            )?;
            for m in &n.evidence {
                writeln!(self.out, "        {}", self.mark(m))?;
            }
            for line in wrap(&n.text, 90) {
                writeln!(self.out, "        {line}")?;
            }
        }
        if !f.lost.is_empty() {
            let first = &f.lost[0];
            let last = &f.lost[f.lost.len() - 1];
            writeln!(
                self.out,
                "      {} {} {} sent after the session had ended (close frame, or session gone) {} lost (frames {}–{})",
                self.paint("⚠", Style::new().yellow()),
                f.lost.len(),
                if f.lost.len() == 1 { "message" } else { "messages" },
                if f.lost.len() == 1 { "was" } else { "were" },
                first.frame,
                last.frame
            )?;
        }
        Ok(())
    }
}

fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = vec![];
    let mut cur = String::new();
    for word in text.split_whitespace() {
        if !cur.is_empty() && cur.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut cur));
        }
        if !cur.is_empty() {
            cur.push(' ');
        }
        cur.push_str(word);
    }
    if !cur.is_empty() {
        lines.push(cur);
    }
    lines
}
