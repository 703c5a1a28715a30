//! Integration tests: one binary (like ripgrep's), one module per concern.

mod bad_input;
mod common;
mod conformance;
mod doctor;
mod explain_truth;
mod fixtures_truth;
mod rechunk;
mod tshark;
