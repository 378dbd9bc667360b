//! Python bindings for used-insight (filled by its own issue).
