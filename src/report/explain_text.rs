//! The `explain` report for people: one screen per capture, grouped by client, each session with
//! its end cause in the libraries' own words, the frames that prove it, and what to change.

use std::io::{self, Write};

use owo_colors::Style;

use crate::event::{Dir, Timestamp};
use crate::explain::{Explanation, Finding, Initiator, Note, Summary, SummaryRow};
use crate::legs::HopKind;
use crate::session::{Mark, UpgradeState};

/// What the text report shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExplainView {
    /// Expand every session after the summary (`--all`).
    pub all: bool,
    /// Only abnormal ends and refusals (`--only-abnormal`).
    pub only_abnormal: bool,
    /// Column to wrap prose at.
    pub width: usize,
}

impl Default for ExplainView {
    fn default() -> Self {
        ExplainView {
            all: false,
            only_abnormal: false,
            width: 100,
        }
    }
}

/// Writes an explanation as text: the summary first (counts per cause and per fix), then each
/// distinct finding once with the sessions it applies to, then (with `all`) every session.
pub struct ExplainText<W: Write> {
    out: W,
    color: bool,
    t0: Timestamp,
    view: ExplainView,
}

/// Most relay-hop lines the text report prints.
const MAX_HOPS: usize = 12;

fn short(sid: &str) -> String {
    if sid.chars().count() > 8 {
        format!("{}…", sid.chars().take(6).collect::<String>())
    } else {
        sid.to_string()
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The upgrade's progress in words.
fn upgrade_words(state: UpgradeState) -> &'static str {
    match state {
        UpgradeState::None => "no upgrade",
        UpgradeState::Switched => "101 Switching Protocols, before the 2probe",
        UpgradeState::ProbeSent => "the client's 2probe, before the server's 3probe",
        UpgradeState::ProbeAnswered => "the server's 3probe, before the client's upgrade packet 5",
        UpgradeState::Upgraded => "the upgrade packet 5",
    }
}

/// Who ended a session, in words.
fn initiator_words(i: Initiator) -> &'static str {
    match i {
        Initiator::Client => "the client",
        Initiator::Server => "the server",
        Initiator::Network => "the network (neither peer on purpose)",
        Initiator::Unknown => "a side the capture does not show",
    }
}

/// Session ids, elided, at most `max` of them.
fn sid_list(sids: &[String], max: usize) -> String {
    let mut v: Vec<String> = sids.iter().take(max).map(|s| short(s)).collect();
    if sids.len() > max {
        v.push(format!("… {} more", sids.len() - max));
    }
    v.join(", ")
}

impl<W: Write> ExplainText<W> {
    /// A writer; `t0` is the capture's first timestamp (times are printed relative to it).
    pub fn new(out: W, color: bool, t0: Timestamp) -> Self {
        ExplainText {
            out,
            color,
            t0,
            view: ExplainView::default(),
        }
    }

    /// Chooses what the report shows.
    pub fn view(mut self, view: ExplainView) -> Self {
        self.view = view;
        self
    }

    fn paint(&self, s: &str, style: Style) -> String {
        super::paint(s, style, self.color)
    }

    fn rel(&self, ts: Timestamp) -> String {
        format!("{:.3} s", ts.0.saturating_sub(self.t0.0) as f64 / 1e9)
    }

    /// One piece of evidence: frame, direction and what it shows, wrapped under its text.
    fn evidence(&mut self, indent: usize, m: &Mark) -> io::Result<()> {
        let dir = match m.dir {
            Some(Dir::C2S) => "c2s",
            Some(Dir::S2C) => "s2c",
            None => "   ",
        };
        let label = format!("frame {:<6} {dir} ", m.frame);
        let width = self
            .view
            .width
            .saturating_sub(indent + label.chars().count() + 1)
            .max(40);
        let pad = " ".repeat(indent);
        let cont = " ".repeat(label.chars().count() + 1);
        let text = one_line(&m.what, 2000);
        for (i, line) in wrap(&text, width).into_iter().enumerate() {
            if i == 0 {
                writeln!(
                    self.out,
                    "{pad}{} {line}",
                    self.paint(&label, Style::new().cyan())
                )?;
            } else {
                writeln!(self.out, "{pad}{cont}{line}")?;
            }
        }
        Ok(())
    }

    /// Writes `text` wrapped at the view's width, every line indented by `indent` spaces.
    fn prose(&mut self, indent: usize, text: &str) -> io::Result<()> {
        let pad = " ".repeat(indent);
        for line in wrap(text, self.view.width.saturating_sub(indent).max(40)) {
            writeln!(self.out, "{pad}{line}")?;
        }
        Ok(())
    }

    /// Writes a labelled paragraph: `label text`, continuation lines aligned under the text.
    fn labelled(&mut self, indent: usize, label: &str, style: Style, text: &str) -> io::Result<()> {
        let width = self
            .view
            .width
            .saturating_sub(indent + label.chars().count() + 1)
            .max(40);
        let pad = " ".repeat(indent);
        let cont = " ".repeat(label.chars().count() + 1);
        for (i, line) in wrap(text, width).into_iter().enumerate() {
            if i == 0 {
                writeln!(self.out, "{pad}{} {line}", self.paint(label, style))?;
            } else {
                writeln!(self.out, "{pad}{cont}{line}")?;
            }
        }
        Ok(())
    }

    /// Writes the whole report.
    pub fn write(&mut self, name: &str, x: &Explanation) -> io::Result<()> {
        let summary = x.summary();
        let refused: usize = x.refusals.iter().map(|r| r.count).sum();
        let mut counts = vec![
            plural(x.sessions.len(), "Engine.IO session", "Engine.IO sessions"),
            plural(summary.abnormal, "abnormal", "abnormal"),
        ];
        if refused > 0 {
            counts.push(plural(refused, "refused request", "refused requests"));
        }
        counts.push(format!("{:.1} s", x.duration));
        writeln!(
            self.out,
            "{}  {}",
            self.paint(name, Style::new().bold()),
            counts.join(" · ")
        )?;
        if let Some(f) = &x.folded {
            writeln!(self.out, "{}", f.sentence())?;
        }
        self.summary(&summary)?;
        self.findings(x, &summary)?;
        self.refusals(x)?;
        self.hops(x)?;
        self.chains(x)?;
        if self.view.all {
            self.sessions(x)?;
        }
        writeln!(self.out)?;
        // Nothing to explain is not a clean bill: the binary exits 1 then (explain.rs), and the
        // closing line states the code it exits with.
        let nothing = x.sessions.is_empty() && x.sessionless_errors.is_empty();
        let code = if x.has_problems() || nothing { 1 } else { 0 };
        let mut why = vec![];
        if summary.abnormal > 0 {
            why.push(format!(
                "{} ended abnormally",
                plural(summary.abnormal, "session", "sessions")
            ));
        }
        if refused > 0 {
            why.push(format!(
                "{} refused before any session opened",
                plural(refused, "request was", "requests were")
            ));
        }
        if why.is_empty() {
            if x.sessions.is_empty() {
                why.push("no Engine.IO session in the capture, nothing to explain".to_string());
            } else {
                why.push("every session ended cleanly or is still open".to_string());
            }
        }
        writeln!(self.out, "exit {code}: {}", why.join("; "))?;
        self.out.flush()
    }

    fn summary(&mut self, s: &Summary) -> io::Result<()> {
        if s.causes.is_empty() {
            return Ok(());
        }
        self.section("summary")?;
        let causes: Vec<String> = s
            .causes
            .iter()
            .map(|c| format!("{} {}", c.count, c.name))
            .collect();
        self.prose(2, &causes.join(" · "))?;
        for fix in &s.fixes {
            let label = format!("{} × fix:", fix.count);
            self.labelled(2, &label, Style::new().green(), &fix.name)?;
        }
        Ok(())
    }

    fn findings(&mut self, x: &Explanation, s: &Summary) -> io::Result<()> {
        let rows: Vec<&SummaryRow> = s
            .findings
            .iter()
            .filter(|r| !self.view.only_abnormal || r.cause.is_abnormal())
            .collect();
        if rows.is_empty() {
            return Ok(());
        }
        self.section(if self.view.all {
            "findings"
        } else {
            "findings (each once; --all shows every session)"
        })?;
        for r in rows {
            let Some(f) = r.members.first().and_then(|&i| x.sessions.get(i)) else {
                continue;
            };
            let (icon, style) = if r.cause.is_abnormal() {
                ("✗", Style::new().red().bold())
            } else {
                ("✓", Style::new().green().bold())
            };
            writeln!(
                self.out,
                "  {} {} · {} · {}: {}",
                self.paint(icon, style),
                self.paint(r.cause.as_str(), style),
                r.certainty.as_str(),
                plural(r.count, "session", "sessions"),
                sid_list(&r.sids, 6)
            )?;
            self.words(f)?;
            self.injected(f)?;
            self.end_detail(f, r.count > 1)?;
            self.group_notes(x, &r.members)?;
        }
        Ok(())
    }

    /// The notes of a group of sessions, each kind once: how many sessions carry it, and the
    /// first one's evidence and words (a swallowed WebSocket under a clean end must not vanish
    /// from the grouped view).
    fn group_notes(&mut self, x: &Explanation, members: &[usize]) -> io::Result<()> {
        let mut kinds: Vec<(&str, usize, &Finding)> = vec![];
        for f in members.iter().filter_map(|&i| x.sessions.get(i)) {
            for n in &f.notes {
                match kinds.iter_mut().find(|(k, _, _)| *k == n.kind) {
                    Some(row) => row.1 += 1,
                    None => kinds.push((n.kind, 1, f)),
                }
            }
        }
        for (kind, count, f) in kinds {
            let Some(n) = f.notes.iter().find(|n| n.kind == kind) else {
                continue;
            };
            let of = if members.len() > 1 {
                format!(
                    " · {} (e.g. {})",
                    plural(count, "session", "sessions"),
                    short(&f.sid)
                )
            } else {
                String::new()
            };
            self.note(4, n, &of)?;
        }
        Ok(())
    }

    /// A blank line, then a section title in bold.
    fn section(&mut self, title: &str) -> io::Result<()> {
        writeln!(self.out)?;
        writeln!(self.out, "{}", self.paint(title, Style::new().bold()))
    }

    /// One note: its kind (and `suffix`) at `indent`, then its evidence and words below it.
    fn note(&mut self, indent: usize, n: &Note, suffix: &str) -> io::Result<()> {
        writeln!(
            self.out,
            "{:indent$}{} {}{suffix}",
            "",
            self.paint("note", Style::new().yellow()),
            self.paint(n.kind, Style::new().bold())
        )?;
        for m in &n.evidence {
            self.evidence(indent + 2, m)?;
        }
        self.prose(indent + 2, &n.text)
    }

    /// Both sides' words and the implementations they were taken from.
    fn words(&mut self, f: &Finding) -> io::Result<()> {
        let e = &f.end;
        let quote = |r: &Option<String>| match r {
            Some(r) => format!("\"{r}\""),
            None => "nothing".to_string(),
        };
        let p = &f.implementation;
        let client = match (&e.client_reason, &e.client_reason_if) {
            (Some(_), Some(condition)) => {
                format!("{} {condition}, else nothing", quote(&e.client_reason))
            }
            _ => quote(&e.client_reason),
        };
        let text = format!(
            "server reports {} ({}, {}) · client reports {} ({}, {})",
            quote(&e.reason),
            p.server.as_str(),
            p.server_by,
            client,
            p.client.as_str(),
            p.client_by
        );
        self.prose(4, &text)
    }

    /// Faults injected on purpose by `sioscope proxy --fault` (recorded as packet comments).
    fn injected(&mut self, f: &Finding) -> io::Result<()> {
        for m in &f.injected {
            let what = m.what.trim_start_matches("injected-fault: ");
            let label = format!("⚡ injected frame {}", m.frame);
            self.labelled(4, &label, Style::new().magenta().bold(), what)?;
        }
        Ok(())
    }

    /// Evidence, explanation, certainty, candidates and fix of one session's end.
    fn end_detail(&mut self, f: &Finding, example: bool) -> io::Result<()> {
        let e = &f.end;
        if example {
            writeln!(self.out, "    evidence of {}:", short(&f.sid))?;
        }
        for m in &e.evidence {
            self.evidence(4, m)?;
        }
        self.prose(4, &e.explanation)?;
        self.labelled(
            4,
            &format!("{}:", e.certainty.as_str()),
            Style::new().yellow(),
            &e.certainty_reason,
        )?;
        for c in &e.candidates {
            self.labelled(
                4,
                &format!("or {}?", c.cause.as_str()),
                Style::new().yellow(),
                &format!("decide by {}", c.decide),
            )?;
        }
        if let Some(fix) = &e.fix {
            self.labelled(4, "fix:", Style::new().green(), fix)?;
        }
        Ok(())
    }

    fn refusals(&mut self, x: &Explanation) -> io::Result<()> {
        if x.refusals.is_empty() {
            return Ok(());
        }
        self.section("refused before any session opened")?;
        for r in &x.refusals {
            writeln!(
                self.out,
                "  {} {} · {} · {} (frames {}–{})",
                self.paint("✗", Style::new().red().bold()),
                self.paint(r.kind, Style::new().red().bold()),
                r.certainty.as_str(),
                plural(r.count, "request", "requests"),
                r.first.frame,
                r.last.frame
            )?;
            self.evidence(4, &r.first)?;
            self.prose(4, &r.explanation)?;
            if let Some(fix) = &r.fix {
                self.labelled(4, "fix:", Style::new().green(), fix)?;
            }
        }
        Ok(())
    }

    /// The relay section: what differed between the two legs of relayed connections, at most
    /// `MAX_HOPS` lines (the JSON has every one).
    fn hops(&mut self, x: &Explanation) -> io::Result<()> {
        // Every altered, swallowed or injected frame; a first FIN/RST only where the relay itself
        // sent it (an endpoint closing its own connection is the ordinary end).
        let shown: Vec<_> = x
            .hops
            .iter()
            .filter(|h| !matches!(h.kind, HopKind::FirstClose { hop, .. } if !hop.is_relay()))
            .collect();
        if shown.is_empty() {
            return Ok(());
        }
        self.section("relay hops (both legs of a connection compared)")?;
        for h in shown.iter().take(MAX_HOPS) {
            let sid = h.sid.as_deref().map(short).unwrap_or_default();
            let line = if sid.is_empty() {
                h.describe()
            } else {
                format!("{sid}  {}", h.describe())
            };
            self.prose(2, &line)?;
        }
        if shown.len() > MAX_HOPS {
            writeln!(
                self.out,
                "  … {} more (--format json lists every one)",
                shown.len() - MAX_HOPS
            )?;
        }
        Ok(())
    }

    fn chains(&mut self, x: &Explanation) -> io::Result<()> {
        if x.chains.is_empty() {
            return Ok(());
        }
        self.section("reconnect chains")?;
        for c in &x.chains {
            let sids: Vec<String> = c.sids.iter().map(|s| short(s)).collect();
            let lost = c
                .links
                .iter()
                .any(|l| l.sockets.iter().any(|s| !s.recovered && s.from.is_some()));
            let ambiguous = c.links.iter().any(|l| l.by == "ambiguous");
            let text = format!(
                "client {}: {}{}{}",
                c.client,
                sids.join(" → "),
                if lost {
                    " · socket ids changed: state keyed by the old id is lost"
                } else {
                    ""
                },
                if ambiguous {
                    " · some links are ambiguous (several clients fit)"
                } else {
                    ""
                }
            );
            self.prose(2, &text)?;
        }
        Ok(())
    }

    /// Every session, grouped per client (`--all`).
    fn sessions(&mut self, x: &Explanation) -> io::Result<()> {
        let mut groups: Vec<(String, Vec<&Finding>)> = vec![];
        for f in &x.sessions {
            if self.view.only_abnormal && !f.abnormal() {
                continue;
            }
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
            let head = format!(
                "{}{}{}",
                self.paint(&format!("client {}", first.client), Style::new().bold()),
                first
                    .user_agent
                    .as_deref()
                    .map(|u| format!(" ({})", u.chars().take(40).collect::<String>()))
                    .unwrap_or_default(),
                chain_txt
            );
            writeln!(self.out, "{}", one_line(&head, self.view.width + 16))?;
            for f in sessions {
                self.session(f, x)?;
            }
        }
        Ok(())
    }

    fn session(&mut self, f: &Finding, x: &Explanation) -> io::Result<()> {
        let link = x
            .chains
            .iter()
            .flat_map(|c| &c.links)
            .find(|l| l.to == f.sid);
        let mut transports = f.transports.join(" → ");
        match (&f.upgrade_at, f.upgrade) {
            (Some(m), UpgradeState::Upgraded) => {
                transports.push_str(&format!(" at {}", self.rel(m.ts)))
            }
            (Some(m), state) if state != UpgradeState::None => transports.push_str(&format!(
                " (upgrade stalled after {} at {})",
                upgrade_words(state),
                self.rel(m.ts)
            )),
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
        writeln!(
            self.out,
            "    {} ended {}  {} · {} · by {}",
            self.paint(icon, style),
            self.rel(e.at.ts),
            self.paint(e.cause.as_str(), style),
            e.certainty.as_str(),
            initiator_words(e.initiator)
        )?;
        self.words(f)?;
        self.injected(f)?;
        self.end_detail(f, false)?;
        for n in &f.notes {
            if n.kind == "lost-messages" {
                continue; // printed below with its frame range
            }
            self.note(6, n, "")?;
        }
        if let (Some(first), Some(last)) = (f.lost.first(), f.lost.last()) {
            let text = format!(
                "{} sent after the session had ended (after a close frame, or refused because the session was gone) {} lost (frames {}–{})",
                plural(f.lost.len(), "message", "messages"),
                if f.lost.len() == 1 { "was" } else { "were" },
                first.frame,
                last.frame
            );
            self.labelled(6, "⚠", Style::new().yellow(), &text)?;
        }
        Ok(())
    }
}

/// One line of evidence text: raw newlines escaped, cut at `max` characters.
fn one_line(text: &str, max: usize) -> String {
    let flat = text.replace('\r', "\\r").replace('\n', "\\n");
    if flat.chars().count() > max {
        format!(
            "{}…",
            flat.chars().take(max.saturating_sub(1)).collect::<String>()
        )
    } else {
        flat
    }
}

/// Splits prose into lines of at most `width` characters (a longer word gets a line of its own).
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
