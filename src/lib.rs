//! The PHR app: a thin Leptos (client-side rendered) shell over the pure crates in `crates/`.
//!
//! Domain logic lives in the library crates; this crate only renders, stores and fetches.
//! See ARCHITECTURE.md for the codemap and invariants.

pub mod components;
pub mod format;
pub mod import;
pub mod messages;
pub mod pages;
pub mod perf;
pub mod platform;
pub mod prefs;
pub mod record_app;
pub mod record_util;
pub mod route;
pub mod session;
pub mod share;
pub mod shell;
pub mod state;
pub mod tracking;
pub mod views;

pub use shell::App;
