//! Integration tests: one binary (like ripgrep's), one module per concern.

mod annotate;
mod bad_input;
mod bare_engineio;
mod check;
mod cli;
mod common;
mod conformance;
mod connection_close;
mod doctor;
mod explain_truth;
mod filters;
mod fixtures_truth;
mod har;
mod legs;
mod limits;
mod linktypes;
mod log;
mod ping_answered;
mod props;
mod proxy;
mod readme;
mod rechunk;
mod report;
mod sessions;
mod tshark;
mod upgrade_faults;
