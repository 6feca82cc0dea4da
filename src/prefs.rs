//! Non-sensitive display preferences, kept in localStorage through `gloo-storage`.
//!
//! Nothing health-related may ever be stored here: only how the app looks.

use gloo_storage::{LocalStorage, Storage};
use serde::{Deserialize, Serialize};

const KEY: &str = "phr.prefs.v1";

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum TextSize {
    #[default]
    Normal,
    Large,
    Larger,
}

impl TextSize {
    pub const ALL: [TextSize; 3] = [TextSize::Normal, TextSize::Large, TextSize::Larger];

    pub fn label(self) -> &'static str {
        match self {
            TextSize::Normal => "Normal",
            TextSize::Large => "Large",
            TextSize::Larger => "Larger",
        }
    }

    pub fn class(self) -> &'static str {
        match self {
            TextSize::Normal => "text-normal",
            TextSize::Large => "text-large",
            TextSize::Larger => "text-larger",
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Theme {
    #[default]
    System,
    Light,
    Dark,
}

impl Theme {
    pub const ALL: [Theme; 3] = [Theme::System, Theme::Light, Theme::Dark];

    pub fn label(self) -> &'static str {
        match self {
            Theme::System => "Same as my device",
            Theme::Light => "Light",
            Theme::Dark => "Dark",
        }
    }

    pub fn class(self) -> &'static str {
        match self {
            Theme::System => "theme-system",
            Theme::Light => "theme-light",
            Theme::Dark => "theme-dark",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Prefs {
    pub text_size: TextSize,
    pub theme: Theme,
    /// Lock the vault after this many minutes without activity (0 = never).
    pub idle_lock_minutes: u32,
}

impl Default for Prefs {
    fn default() -> Self {
        Prefs {
            text_size: TextSize::default(),
            theme: Theme::default(),
            idle_lock_minutes: 15,
        }
    }
}

/// The idle-lock choices offered in Settings.
pub const IDLE_LOCK_CHOICES: [u32; 6] = [1, 5, 15, 30, 60, 0];

impl Prefs {
    /// Loads the preferences; anything unreadable falls back to the defaults (they are only looks).
    pub fn load() -> Prefs {
        LocalStorage::get(KEY).unwrap_or_default()
    }

    /// Saves the preferences. A failure (storage disabled or full) is returned to the caller.
    pub fn save(&self) -> Result<(), String> {
        LocalStorage::set(KEY, self).map_err(|e| e.to_string())
    }

    /// CSS classes for the app root.
    pub fn classes(&self) -> String {
        format!("app {} {}", self.text_size.class(), self.theme.class())
    }
}
