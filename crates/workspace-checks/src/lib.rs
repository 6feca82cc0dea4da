//! No code: this crate only holds `tests/`, which check the invariants listed in ARCHITECTURE.md.
