//! The `sioscope` command line: a thin layer over the library, one file per subcommand.

mod check_capture;
mod common;
mod decode;
mod doctor;
mod explain;

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
    /// Check that the recorded traffic of both peers follows Engine.IO, Socket.IO, RFC 6455 and
    /// RFC 7692, and deny session ends by cause (`--deny abnormal`).
    ///
    /// Exit code 0 when clean, 1 on any violation or denied cause, 2 on error.
    Conform(check_capture::CheckCaptureArgs),
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
        Command::Conform(args) => check_capture::run(args),
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
