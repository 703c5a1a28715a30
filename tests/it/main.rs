//! Integration tests: one binary (like ripgrep's), one module per concern.

mod annotate;
mod bad_input;
mod check;
mod common;
mod conformance;
mod doctor;
mod explain_truth;
mod filters;
mod fixtures_truth;
mod linktypes;
mod proxy;
mod rechunk;
mod report;
mod sessions;
mod tshark;
