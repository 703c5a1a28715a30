//! The `sioscope` command line: a thin layer over the library, one file per subcommand.

/// jemalloc, not glibc's malloc: with `--threads`, the events a worker allocates are freed by
/// the thread that writes them, and glibc then serialises both threads on its arena lock
/// (measured in `docs/performance.md`).
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOC: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

mod annotate;
mod check;
mod check_capture;
mod common;
mod completions;
mod decode;
mod decode_log;
mod doctor;
mod explain;
mod log_input;
mod proxy;
mod report;
mod sessions;

use std::io;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[cfg(test)]
use clap::CommandFactory;

/// See inside Socket.IO and Engine.IO traffic, and learn why connections dropped.
#[derive(Parser, Debug)]
#[command(
    name = "sioscope",
    version,
    about,
    long_about = None,
    after_help = "Examples:
  sioscope decode app.pcapng                       Socket.IO packets, one line each
  sioscope explain app.pcapng                      why each session ended, with evidence
  sioscope sessions app.pcapng --format json       sessions and reconnect chains as JSON
  sioscope proxy --upstream 127.0.0.1:3000 --record app.pcapng
  sioscope check --capture app.pcapng --deny abnormal
  sioscope completions bash > /etc/bash_completion.d/sioscope

Exit codes: 0 clean, 1 a problem was found (explain, check, doctor), 2 error."
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Decode pcap/pcapng captures (`.gz`/`.zst` too, several merged by time, or `-` for
    /// stdin) down to Socket.IO packets.
    ///
    /// Examples:
    ///   sioscope decode app.pcapng
    ///   sioscope decode app.pcap --layer all --format ndjson | jq .
    ///   sioscope decode app.pcap.gz --nsp chat --event message --time absolute
    ///   sioscope decode left.pcapng right.pcapng        (merged by time)
    ///   tcpdump -i lo -U -w - port 3000 | sioscope decode -
    #[command(verbatim_doc_comment)]
    Decode(decode::DecodeArgs),
    /// Explain how every Engine.IO session ended, with evidence, and how sessions chain across
    /// reconnects.
    ///
    /// Exit code 0 when every session ended cleanly or is still open, 1 when any ended
    /// abnormally or the capture holds no Socket.IO traffic, 2 on error.
    ///
    /// Examples:
    ///   sioscope explain app.pcapng
    ///   sioscope explain app.pcapng --format json | jq .summary
    #[command(verbatim_doc_comment)]
    Explain(explain::ExplainArgs),
    /// List the Engine.IO sessions of a capture, how they chain across reconnects and which
    /// socket ids changed; `--diff A B` compares two sessions.
    ///
    /// Examples:
    ///   sioscope sessions app.pcapng
    ///   sioscope sessions app.pcapng --nsp chat --format ndjson
    ///   sioscope sessions app.pcapng --diff 3FXApC… ZnrR4_…
    #[command(verbatim_doc_comment)]
    Sessions(sessions::SessionsArgs),
    /// Relay a live app (client → proxy → server), print its Socket.IO traffic as it flows,
    /// record it as pcapng, and inject faults on purpose.
    ///
    /// Examples:
    ///   sioscope proxy --listen 127.0.0.1:8080 --upstream 127.0.0.1:3000
    ///   sioscope proxy --upstream example.com:443 --upstream-tls --record app.pcapng
    ///   sioscope proxy --upstream 127.0.0.1:3000 --fault corrupt-deflate --format ndjson
    #[command(verbatim_doc_comment)]
    Proxy(proxy::ProxyArgs),
    /// Check protocol conformance: of a live server running the reference app (the official
    /// engine.io-protocol and socket.io-protocol cases, plus compression, maxPayload and
    /// recovery; docs/check-cases.md), or with --capture of recorded traffic, for both peers,
    /// with --deny rules for CI (docs/conformance.md).
    ///
    /// Exit code 0 when every case passed (or was skipped), 1 when any failed, 2 when the
    /// check could not run.
    ///
    /// Examples:
    ///   sioscope check http://127.0.0.1:3000
    ///   sioscope check --capture app.pcapng --deny abnormal --junit conformance.xml
    ///   sioscope check http://127.0.0.1:3000 --eio 3 --sio 4 --junit check.xml
    #[command(verbatim_doc_comment)]
    Check(check::CheckArgs),
    /// Probe a live Socket.IO server: polling, WebSocket, the upgrade, with and without
    /// permessage-deflate; say what works, what is blocked, the server's settings, what to change.
    ///
    /// Exit code 0 when all is well, 1 when a problem was found (a server that is down is one),
    /// 2 when doctor could not run (bad URL).
    ///
    /// Examples:
    ///   sioscope doctor http://127.0.0.1:3000
    ///   sioscope doctor https://chat.example.com/ --path /ws/ --timeout 2s
    #[command(verbatim_doc_comment)]
    Doctor(doctor::DoctorArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell) to stdout.
    ///
    /// Examples:
    ///   sioscope completions bash > ~/.local/share/bash-completion/completions/sioscope
    ///   sioscope completions zsh > ~/.zfunc/_sioscope
    #[command(verbatim_doc_comment)]
    Completions(completions::CompletionsArgs),
    /// Print the manual page (roff) to stdout: `sioscope man | man -l -`.
    Man,
    /// Write one self-contained HTML report of captures: a timeline of sessions per client,
    /// reconnect chains, heartbeats, the explain findings and a filterable packet table.
    ///
    /// Example:
    ///   sioscope report app.pcapng -o report.html
    #[command(verbatim_doc_comment)]
    Report(report::ReportArgs),
    /// Write a capture back as pcapng with a packet comment on every frame that carries an
    /// Engine.IO / Socket.IO packet or a finding (Wireshark: `frame.comment contains "deflate"`).
    ///
    /// Example:
    ///   sioscope annotate app.pcap -o app-annotated.pcapng
    #[command(verbatim_doc_comment)]
    Annotate(annotate::AnnotateArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Decode(args) => decode::run(args),
        Command::Explain(args) => explain::run(args),
        Command::Sessions(args) => sessions::run(args),
        Command::Proxy(args) => proxy::run(args),
        Command::Check(args) => check::run(args),
        Command::Doctor(args) => doctor::run(args),
        Command::Completions(args) => completions::run(args),
        Command::Man => completions::man(),
        Command::Report(args) => report::run(args),
        Command::Annotate(args) => annotate::run(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            if is_broken_pipe(&e) {
                return ExitCode::SUCCESS;
            }
            eprintln!("sioscope: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// A closed pipe (`| head`) anywhere in the error's chain, also inside a serde_json error.
fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
            || c.downcast_ref::<serde_json::Error>()
                .is_some_and(|j| j.io_error_kind() == Some(io::ErrorKind::BrokenPipe))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
