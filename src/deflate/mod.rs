//! deflate (placeholder, being written)
