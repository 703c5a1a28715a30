//! ws (placeholder, being written)
