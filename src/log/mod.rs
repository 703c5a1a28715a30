//! Libraries' own debug logs as evidence on the packet timeline.

pub(crate) mod iso8601;
