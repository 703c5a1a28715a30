//! The `sioscope` command line: a thin layer over the library, one file per subcommand.

mod check;
mod check_capture;
mod common;
mod decode;
mod doctor;
mod explain;
mod har_input;
mod log_input;
mod proxy;
mod sessions;

use std::io;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// See inside Socket.IO and Engine.IO traffic, and learn why connections dropped.
#[derive(Parser, Debug)]
#[command(name = "sioscope", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Decode a pcap/pcapng capture (or `-` for stdin) down to Socket.IO packets.
    ///
    /// Examples:
    ///   sioscope decode app.pcapng
    ///   sioscope decode app.pcap --layer all --format ndjson | jq .
    ///   tcpdump -i lo -U -w - port 3000 | sioscope decode -
    Decode(decode::DecodeArgs),
    /// Explain how every Engine.IO session ended, with evidence, and how sessions chain across
    /// reconnects.
    ///
    /// Exit code 0 when every session ended cleanly or is still open, 1 when any ended
    /// abnormally, 2 on error.
    Explain(explain::ExplainArgs),
    /// List the Engine.IO sessions of a capture, how they chain across reconnects and which
    /// socket ids changed; `--diff A B` compares two sessions.
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
    ///   sioscope doctor https://chat.example.com/ --path /ws/ --timeout 2
    Doctor(doctor::DoctorArgs),
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

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
    })
}
