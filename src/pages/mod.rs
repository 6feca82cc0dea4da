//! One module per screen.

pub mod charts;
pub mod gate;
pub mod home;
pub mod import;
pub mod item;
pub mod privacy;
pub mod record;
pub mod settings;
pub mod share;
pub mod summary;
pub mod timeline;
pub mod tracking;
pub mod vault_page;
pub mod viewer;
