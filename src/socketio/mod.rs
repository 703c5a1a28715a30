//! socketio (placeholder, being written)
