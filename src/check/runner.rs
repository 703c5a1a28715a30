//! Runs the cases one after another, each with a time limit, the whole suite with another.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::case::{CaseDef, Ctx, Stop, Suite};
use super::deviation;
use super::needs::{case_limit, needs, skip_reason, Needs};
use super::profile::{Profile, Settings};
use crate::client::{Endpoint, WireEntry};

/// How a case ended.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase", tag = "status", content = "reason")]
pub enum Outcome {
    /// Everything the case expected happened.
    Pass,
    /// Something else happened (what, and what was expected).
    Fail(String),
    /// The case does not apply (why).
    Skip(String),
    /// It failed with a known deviation the user accepts (`--allow`): what, and which.
    Allowed(String),
}

/// One case's result.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CaseReport {
    /// Case id.
    pub id: &'static str,
    /// Suite it belongs to.
    pub suite: Suite,
    /// The official test it mirrors.
    pub mirrors: &'static str,
    /// What it needs of the server (protocol only, a bare Engine.IO endpoint, the reference app).
    pub needs: Needs,
    /// How it ended.
    pub outcome: Outcome,
    /// Wall time in milliseconds.
    pub millis: u64,
    /// Bytes exchanged (only kept for failures).
    pub wire: Vec<WireEntry>,
    /// Transcript entries dropped past the limit.
    pub wire_dropped: usize,
}

/// The whole run.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SuiteReport {
    /// The server URL.
    pub url: String,
    /// Engine.IO revision tested.
    pub eio: u8,
    /// Socket.IO revision tested.
    pub sio: u8,
    /// The Socket.IO path.
    pub socketio_path: String,
    /// The settings the Socket.IO endpoint advertised.
    pub settings: Settings,
    /// The bare Engine.IO endpoint's path, when there is one.
    pub engineio_path: Option<String>,
    /// The settings it advertised.
    pub engineio_settings: Option<Settings>,
    /// Whether the reference-app cases ran.
    pub reference: bool,
    /// How that was settled.
    pub reference_why: String,
    /// Every case, in order.
    pub cases: Vec<CaseReport>,
    /// Total wall time in milliseconds.
    pub millis: u64,
}

impl SuiteReport {
    /// Number of cases with this kind of outcome: 0 pass, 1 fail, 2 skip, 3 allowed.
    pub fn count(&self, kind: u8) -> usize {
        self.cases
            .iter()
            .filter(|c| {
                matches!(
                    (&c.outcome, kind),
                    (Outcome::Pass, 0)
                        | (Outcome::Fail(_), 1)
                        | (Outcome::Skip(_), 2)
                        | (Outcome::Allowed(_), 3)
                )
            })
            .count()
    }

    /// The skipped cases grouped by reason, in order of first appearance.
    pub fn skips_by_reason(&self) -> Vec<(&str, Vec<&'static str>)> {
        let mut groups: Vec<(&str, Vec<&'static str>)> = Vec::new();
        for c in &self.cases {
            if let Outcome::Skip(why) = &c.outcome {
                match groups.iter_mut().find(|(w, _)| *w == why.as_str()) {
                    Some((_, ids)) => ids.push(c.id),
                    None => groups.push((why.as_str(), vec![c.id])),
                }
            }
        }
        groups
    }

    /// Whether no case failed.
    pub fn passed(&self) -> bool {
        self.count(1) == 0
    }
}

/// Limits of a run (each case's own limit comes from [`super::needs::case_limit`]).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Longest the whole suite may take; cases not started by then fail as not run.
    pub suite: Duration,
}

/// Runs `cases` against `endpoint`.
pub async fn run(
    url: &str,
    endpoint: &Endpoint,
    profile: Profile,
    cases: &[CaseDef],
    limits: Limits,
) -> SuiteReport {
    let profile = Arc::new(profile);
    let start = Instant::now();
    let mut reports = Vec::with_capacity(cases.len());
    for case in cases {
        let t0 = Instant::now();
        let ctx = Ctx::new(endpoint.clone(), profile.clone());
        let wire = ctx.wire.clone();
        let left = limits.suite.saturating_sub(start.elapsed());
        let outcome = if let Some(why) = skip_reason(case, &profile) {
            Outcome::Skip(why)
        } else if left.is_zero() {
            Outcome::Fail(format!(
                "not run: the suite's time limit ({:?}) was reached",
                limits.suite
            ))
        } else {
            let limit = case_limit(case.id, &profile).min(left);
            // The case runs in its own task so that a panic in it cannot take the suite down.
            let handle = tokio::spawn((case.run)(ctx));
            let abort = handle.abort_handle();
            match tokio::time::timeout(limit, handle).await {
                Ok(Ok(Ok(()))) => Outcome::Pass,
                Ok(Ok(Err(Stop::Fail(m)))) => Outcome::Fail(m),
                Ok(Ok(Err(Stop::Skip(m)))) => Outcome::Skip(m),
                Ok(Err(e)) => Outcome::Fail(format!("the case crashed: {e}")),
                Err(_) => {
                    abort.abort();
                    Outcome::Fail(format!("the case did not finish within {limit:?}"))
                }
            }
        };
        let outcome = match outcome {
            Outcome::Fail(m) => match deviation::known(case.id, &m, &profile) {
                Some(d) if deviation::allowed(d, &profile) => Outcome::Allowed(format!(
                    "{m} — allowed: likely {} deviation `{}`: {}{}",
                    d.library,
                    d.name,
                    d.what,
                    if d.accepted_by_default && !profile.strict {
                        " (accepted by default: the official suites do not fail it; --strict does)"
                    } else {
                        ""
                    }
                )),
                Some(d) => Outcome::Fail(format!(
                    "{m} — likely {} deviation `{}` ({}); --allow {} accepts it",
                    d.library, d.name, d.what, d.name
                )),
                None => Outcome::Fail(m),
            },
            other => other,
        };
        let (entries, dropped) = wire.snapshot();
        let failed = matches!(outcome, Outcome::Fail(_) | Outcome::Allowed(_));
        reports.push(CaseReport {
            id: case.id,
            suite: case.suite,
            mirrors: case.mirrors,
            needs: needs(case.id, profile.sio),
            outcome,
            millis: u64::try_from(t0.elapsed().as_millis()).unwrap_or(u64::MAX),
            wire: if failed { entries } else { Vec::new() },
            wire_dropped: if failed { dropped } else { 0 },
        });
    }
    SuiteReport {
        url: url.to_string(),
        eio: profile.eio.number(),
        sio: match profile.sio {
            crate::socketio::Version::V4 => 4,
            crate::socketio::Version::V5 => 5,
        },
        socketio_path: profile.sio_path.clone(),
        settings: profile.settings.clone(),
        engineio_path: profile
            .eio_settings
            .as_ref()
            .map(|_| profile.eio_path.clone()),
        engineio_settings: profile.eio_settings.clone(),
        reference: profile.reference,
        reference_why: profile.reference_why.clone(),
        cases: reports,
        millis: u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX),
    }
}
