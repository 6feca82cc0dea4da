//! The PHR app: a thin Leptos (client-side rendered) shell over the pure crates in `crates/`.
//!
//! Domain logic lives in the library crates; this crate only renders, stores and fetches.
//! See ARCHITECTURE.md for the codemap and invariants.

pub mod pages;
pub mod platform;
pub mod prefs;
pub mod route;
pub mod shell;

pub use shell::App;
