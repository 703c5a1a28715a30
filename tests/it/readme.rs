//! The README runs: every command line it shows is executed from the repository root, and the
//! output printed under each `$ command` of a `console` block must be exactly what the command
//! prints (stdout, then stderr). Lines of `sh` blocks must exit 0 or 1 (the documented codes)
//! with nothing on stderr. A block preceded by `<!-- readme-test: skip: REASON -->` is not run,
//! and must say why.
//!
//! `README_UPDATE=1` rewrites the outputs of the console blocks with what the commands print now
//! (after a deliberate change of output; review the diff).

use std::path::Path;
use std::process::Command;

use crate::common::root;

const SKIP: &str = "<!-- readme-test: skip:";

/// Runs one README command line with `bash -c`, `sioscope` (and `target/release/sioscope`) being
/// the binary under test. Returns exit code and stdout followed by stderr.
fn run(line: &str) -> (Option<i32>, String, String) {
    let bin = Path::new(env!("CARGO_BIN_EXE_sioscope"));
    let dir = bin.parent().expect("bin dir");
    let path = format!(
        "{}:{}",
        dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let cmd = line.replace("target/release/sioscope", "sioscope");
    let out = Command::new("bash")
        .arg("-o")
        .arg("pipefail")
        .arg("-c")
        .arg(&cmd)
        .current_dir(root())
        .env("PATH", path)
        .env("NO_COLOR", "1")
        .env_remove("COLUMNS")
        .output()
        .expect("run bash");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[derive(Default)]
struct Outcome {
    ran: usize,
    skipped: Vec<String>,
    failures: Vec<String>,
    rewritten: Vec<String>,
}

fn check_readme(text: &str) -> Outcome {
    let mut o = Outcome::default();
    let lines: Vec<&str> = text.lines().collect();
    let mut i = 0;
    let mut skip_reason: Option<String> = None;
    while let Some(&line) = lines.get(i) {
        o.rewritten.push(line.to_string());
        i += 1;
        if let Some(reason) = line.trim().strip_prefix(SKIP) {
            let reason = reason.trim_end_matches("-->").trim();
            assert!(!reason.is_empty(), "a skipped block must say why: {line}");
            skip_reason = Some(reason.to_string());
            continue;
        }
        let kind = match line.trim() {
            "```console" => "console",
            "```sh" => "sh",
            l if l.starts_with("```") => "other",
            _ => {
                if !line.trim().is_empty() {
                    skip_reason = None;
                }
                continue;
            }
        };
        // The block's body, up to its closing fence.
        let start = i;
        while lines.get(i).is_some_and(|l| l.trim() != "```") {
            i += 1;
        }
        let body = lines.get(start..i).unwrap_or_default();
        let skip = skip_reason.take();
        match (kind, skip) {
            ("other", _) => o.rewritten.extend(body.iter().map(|l| l.to_string())),
            (_, Some(reason)) => {
                o.skipped
                    .push(format!("{}: {reason}", body.first().unwrap_or(&"")));
                o.rewritten.extend(body.iter().map(|l| l.to_string()));
            }
            ("sh", None) => {
                for l in body.iter().filter(|l| !l.trim().is_empty()) {
                    o.rewritten.push(l.to_string());
                    let (code, _, err) = run(l);
                    o.ran += 1;
                    if !matches!(code, Some(0 | 1)) || !err.is_empty() {
                        o.failures
                            .push(format!("{l}\n  exit {code:?}, stderr: {err}"));
                    }
                }
            }
            _ => {
                // console: `$ cmd` then its expected output until the next `$ ` line.
                let mut j = 0;
                while let Some(l) = body.get(j) {
                    j += 1;
                    let Some(cmd) = l.strip_prefix("$ ") else {
                        o.failures.push(format!("output without a command: {l}"));
                        continue;
                    };
                    let mut expected = vec![];
                    while let Some(e) = body.get(j).filter(|e| !e.starts_with("$ ")) {
                        expected.push(*e);
                        j += 1;
                    }
                    let (_, out, err) = run(cmd);
                    o.ran += 1;
                    let got = format!("{out}{err}");
                    let got_lines: Vec<&str> = got.lines().collect();
                    if got_lines != expected {
                        o.failures.push(format!(
                            "$ {cmd}\n--- README\n{}\n--- printed\n{}",
                            expected.join("\n"),
                            got_lines.join("\n")
                        ));
                    }
                    o.rewritten.push(l.to_string());
                    o.rewritten.extend(got_lines.iter().map(|s| s.to_string()));
                }
            }
        }
        if let Some(close) = lines.get(i) {
            o.rewritten.push(close.to_string());
            i += 1;
        }
    }
    o
}

#[test]
fn every_command_line_of_the_readme_runs_and_prints_what_it_shows() {
    let path = root().join("README.md");
    let text = std::fs::read_to_string(&path).expect("README.md");
    let o = check_readme(&text);
    if std::env::var_os("README_UPDATE").is_some() {
        std::fs::write(&path, o.rewritten.join("\n") + "\n").expect("rewrite README.md");
        return;
    }
    assert!(o.ran >= 15, "ran only {} README command lines", o.ran);
    assert!(
        o.failures.is_empty(),
        "{} README command line(s) differ (README_UPDATE=1 rewrites the console outputs):\n\n{}",
        o.failures.len(),
        o.failures.join("\n\n")
    );
    // The skipped blocks are the ones the README marks, each with its reason.
    assert_eq!(o.skipped.len(), 4, "{:#?}", o.skipped);
}
