//! `sioscope conform` (the future `check --capture`) on every committed capture: clean captures
//! (every session ended by a deliberate disconnect) pass with no violation even with
//! `--deny abnormal`; fault captures fail with `--deny abnormal` and name the rule and the cause;
//! the JUnit XML parses and has one suite per side with one testcase per rule.

use std::collections::BTreeMap;

use quick_xml::events::Event as XmlEvent;
use quick_xml::Reader;
use serde_json::Value;
use sioscope::conformance::ALL_RULES;
use sioscope::explain::Cause;

use crate::common::{fixtures, sioscope, truth};

/// Per suite: testcase name → failure type (None when it passed or was skipped).
type Suites = BTreeMap<String, BTreeMap<String, Option<String>>>;

fn parse_junit(xml: &str) -> Suites {
    let mut r = Reader::from_str(xml);
    let mut suites = Suites::new();
    let mut suite = String::new();
    let mut case = String::new();
    loop {
        match r.read_event().expect("well-formed JUnit XML") {
            XmlEvent::Start(e) | XmlEvent::Empty(e) => {
                let attr = |k: &[u8]| {
                    e.attributes()
                        .filter_map(Result::ok)
                        .find(|a| a.key.as_ref() == k)
                        .map(|a| a.unescape_value().expect("attribute").into_owned())
                        .unwrap_or_default()
                };
                match e.name().as_ref() {
                    b"testsuite" => {
                        suite = attr(b"name");
                        suites.entry(suite.clone()).or_default();
                    }
                    b"testcase" => {
                        case = attr(b"name");
                        suites
                            .entry(suite.clone())
                            .or_default()
                            .insert(case.clone(), None);
                    }
                    b"failure" => {
                        let ty = attr(b"type");
                        if let Some(s) = suites.get_mut(&suite) {
                            s.insert(case.clone(), Some(ty));
                        }
                    }
                    _ => {}
                }
            }
            XmlEvent::Eof => break,
            _ => {}
        }
    }
    suites
}

struct Run {
    code: Option<i32>,
    json: Value,
    junit: Suites,
}

fn conform(pcap: &str, deny: &str) -> Run {
    let dir = tempfile::tempdir().expect("tempdir");
    let xml = dir.path().join("out.xml");
    let out = sioscope(&[
        "check",
        "--format",
        "json",
        "--deny",
        deny,
        "--junit",
        xml.to_str().unwrap_or_default(),
        "--capture",
        pcap,
    ]);
    let json: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{pcap}: not JSON ({e}): {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let text = std::fs::read_to_string(&xml).expect("junit written");
    Run {
        code: out.status.code(),
        json,
        junit: parse_junit(&text),
    }
}

fn failed_rules(json: &Value) -> Vec<String> {
    json["rules"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| r["violations"].as_u64().unwrap_or(0) > 0)
        .map(|r| {
            format!(
                "{}/{}",
                r["side"].as_str().unwrap_or(""),
                r["rule"].as_str().unwrap_or("")
            )
        })
        .collect()
}

fn denied_causes(json: &Value) -> Vec<String> {
    json["causes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| c["denied"] == true)
        .map(|c| c["cause"].as_str().unwrap_or("").to_string())
        .collect()
}

#[test]
fn clean_captures_pass_and_fault_captures_fail_with_deny_abnormal() {
    let mut failures = vec![];
    let (mut clean, mut faulty) = (0, 0);
    for pcap in fixtures() {
        let name = pcap
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .to_string();
        let t = truth(&pcap);
        let expected: Vec<Cause> = t["expected"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| Cause::parse(e["cause"].as_str().unwrap_or("")))
            .collect();
        // A scenario may hold a protocol deviation by design while every session ends cleanly
        // (`protocol_deviations`: a hand-written peer's step); then exactly those are flagged.
        let deviations: Vec<String> = t["protocol_deviations"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|d| Some(format!("{}/{}", d["side"].as_str()?, d["rule"].as_str()?)))
            .collect();
        let is_clean = !expected.is_empty()
            && expected.iter().all(|c| !c.is_abnormal())
            && deviations.is_empty();
        let run = conform(pcap.to_str().unwrap_or_default(), "abnormal");
        // JUnit: one suite per side plus the causes suite, one testcase per rule.
        for side in ["server", "client"] {
            let cases = run.junit.get(side).map_or(0, |s| s.len());
            if cases != ALL_RULES.len() {
                failures.push(format!("{name}: JUnit suite {side} has {cases} testcases"));
            }
        }
        let junit_failed: Vec<String> = ["server", "client"]
            .iter()
            .flat_map(|side| {
                run.junit
                    .get(*side)
                    .into_iter()
                    .flatten()
                    .filter(|(_, f)| f.is_some())
                    .map(move |(case, _)| format!("{side}/{case}"))
            })
            .collect();
        let rules_failed = failed_rules(&run.json);
        // The same set of failed rules (the JUnit cases are read back into a sorted map).
        let sorted = |v: &[String]| {
            let mut v = v.to_vec();
            v.sort();
            v
        };
        if sorted(&junit_failed) != sorted(&rules_failed) {
            failures.push(format!(
                "{name}: JUnit failures {junit_failed:?} differ from the JSON's {rules_failed:?}"
            ));
        }
        if !deviations.is_empty() && expected.iter().all(|c| !c.is_abnormal()) {
            if sorted(&rules_failed) != sorted(&deviations) || run.code != Some(1) {
                failures.push(format!(
                    "{name}: declared deviations {deviations:?}, flagged {rules_failed:?} (exit {:?})",
                    run.code
                ));
            }
        } else if is_clean {
            clean += 1;
            if run.code != Some(0) || !rules_failed.is_empty() || run.json["ok"] != true {
                failures.push(format!(
                    "{name}: clean capture gave exit {:?}, violations {rules_failed:?}",
                    run.code
                ));
            }
        } else {
            faulty += 1;
            let denied = denied_causes(&run.json);
            if run.code != Some(1) || denied.is_empty() {
                failures.push(format!(
                    "{name}: fault capture gave exit {:?}, denied {denied:?}",
                    run.code
                ));
            }
            // Which cause each session ended with is explain's business (explain_truth checks
            // it against the truth files); here every denied cause must be an abnormal one.
            for d in &denied {
                let abnormal =
                    d == "handshake-refused" || Cause::parse(d).is_some_and(|c| c.is_abnormal());
                if !abnormal {
                    failures.push(format!("{name}: denied cause {d} is not abnormal"));
                }
            }
            let causes_suite = run
                .junit
                .get("causes")
                .map_or(0, |s| s.values().filter(|f| f.is_some()).count());
            if causes_suite != denied.len() {
                failures.push(format!(
                    "{name}: JUnit causes suite has {causes_suite} failures, JSON denies {}",
                    denied.len()
                ));
            }
        }
    }
    assert!(clean >= 10 && faulty >= 5, "clean {clean}, faulty {faulty}");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn fault_captures_name_the_broken_rule_and_the_cause() {
    // A byte flipped in a compressed client frame: the client's deflate stream is broken.
    let r = conform("fixtures/pcap/v4-corrupt-deflate.pcap", "deflate-error");
    assert_eq!(r.code, Some(1));
    assert_eq!(failed_rules(&r.json), ["client/deflate"]);
    assert_eq!(denied_causes(&r.json), ["deflate-error"]);
    assert_eq!(
        r.junit["client"]["deflate"].as_deref(),
        Some("deflate"),
        "{:?}",
        r.junit
    );
    assert_eq!(r.junit["causes"].values().flatten().count(), 1);
    let first = &r.json["rules"]
        .as_array()
        .and_then(|a| {
            a.iter()
                .find(|x| x["rule"] == "deflate" && x["side"] == "client")
        })
        .expect("deflate rule")["first"][0];
    assert_eq!(first["frame"], 28);
    assert!(first["detail"]
        .as_str()
        .is_some_and(|d| d.starts_with("deflate-inflate-failed")));

    // Seed bug: valid bytes the old server could not inflate. No client rule is broken; the
    // cause is what fails the run.
    let r = conform("fixtures/pcap/v1-3-deflate-fragmented.pcap", "abnormal");
    assert_eq!(r.code, Some(1));
    assert!(
        failed_rules(&r.json).is_empty(),
        "{:?}",
        failed_rules(&r.json)
    );
    assert_eq!(denied_causes(&r.json), ["deflate-error"]);

    // A client message above maxPayload.
    let r = conform("fixtures/pcap/v4-too-large.pcap", "abnormal");
    assert_eq!(r.code, Some(1));
    assert_eq!(failed_rules(&r.json), ["client/max-payload"]);
    assert!(denied_causes(&r.json)
        .iter()
        .all(|c| c == "message-too-large"));

    // A frozen client: the heartbeat rule names the client.
    let r = conform("fixtures/pcap/v4-ping-timeout.pcap", "ping-timeout");
    assert_eq!(failed_rules(&r.json), ["client/ping-answered"]);
    assert_eq!(denied_causes(&r.json), ["ping-timeout"]);
}

#[test]
fn without_deny_only_violations_fail_and_table_output_names_them() {
    // The seed-bug capture breaks no rule: without --deny it passes.
    let out = sioscope(&[
        "check",
        "--color",
        "never",
        "--capture",
        "fixtures/pcap/v1-3-deflate-fragmented.pcap",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("PASS: 0 violation(s)"), "{text}");
    let out = sioscope(&[
        "check",
        "--color",
        "never",
        "--capture",
        "fixtures/pcap/v4-corrupt-deflate.pcap",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("│ client │ deflate"), "{text}");
    assert!(text.contains("#28 c2: deflate-inflate-failed"), "{text}");
    // Errors: an unknown cause, a missing file.
    let out = sioscope(&[
        "check",
        "--deny",
        "bogus",
        "--capture",
        "fixtures/pcap/v4-ws-only.pcap",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown cause"));
    let out = sioscope(&["check", "--capture", "/nonexistent.pcap"]);
    assert_eq!(out.status.code(), Some(2));
}
