//! One module per screen.

pub mod home;
pub mod privacy;
pub mod settings;
