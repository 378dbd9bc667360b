//! C ABI for used-insight (filled by its own issue).
