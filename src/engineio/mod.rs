//! engineio (placeholder, being written)
