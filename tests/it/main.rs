//! Integration tests: one binary (like ripgrep's), one module per concern.

mod bad_input;
mod common;
mod fixtures_truth;
mod rechunk;
mod tshark;
