//! Patient-facing wording for errors. The pure crates' messages already say what happened and
//! what to do; this adds what only the app knows (sizes, other tabs, browsers).

use phr_vault::VaultError;

/// Human-readable size: `1.4 MB`.
pub fn human_bytes(bytes: u64) -> String {
    let b = bytes as f64;
    if b >= 1e9 {
        format!("{:.1} GB", b / 1e9)
    } else if b >= 1e6 {
        format!("{:.1} MB", b / 1e6)
    } else if b >= 1e3 {
        format!("{:.0} kB", b / 1e3)
    } else {
        format!("{bytes} bytes")
    }
}

pub fn vault_error_message(e: &VaultError) -> String {
    match e {
        VaultError::QuotaExceeded { bytes_needed } => {
            let need = bytes_needed
                .map(|b| format!(" About {} more space is needed.", human_bytes(b)))
                .unwrap_or_default();
            format!(
                "Your browser's storage for this app is full, so the change was not saved.{need} \
                 Everything saved before is intact. Free up space on this device (or remove \
                 other sites' data in the browser settings), download an encrypted backup, and try again."
            )
        }
        VaultError::StorageUnavailable { detail } => format!(
            "This browser's storage cannot be used right now ({detail}). Nothing was changed. \
             If this is a private or incognito window, open the app in a normal window; otherwise \
             close other tabs of this app and reload."
        ),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn quota_message_says_how_much_space() {
        let m = vault_error_message(&VaultError::QuotaExceeded {
            bytes_needed: Some(2_500_000),
        });
        assert!(m.contains("2.5 MB"), "{m}");
        assert!(m.contains("intact"));
        assert_eq!(human_bytes(999), "999 bytes");
        assert_eq!(human_bytes(12_000), "12 kB");
    }
}
