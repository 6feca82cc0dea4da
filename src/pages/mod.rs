//! One module per screen.

pub mod gate;
pub mod home;
pub mod privacy;
pub mod settings;
pub mod vault_page;
