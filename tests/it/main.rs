//! Integration tests: one binary (like ripgrep's), one module per concern.

mod bad_input;
mod check;
mod common;
mod conformance;
mod doctor;
mod explain_truth;
mod filters;
mod fixtures_truth;
mod har;
mod linktypes;
mod log;
mod proxy;
mod rechunk;
mod sessions;
mod tshark;
