//! QR codes for links, error correction level M (as the SMART Health Links spec recommends),
//! rendered as an accessible SVG. Uses the `qrcode` crate without its image/SVG features: only
//! the module matrix is needed and the SVG is written here (one path, runs merged per row).

use qrcode::{Color, EcLevel, QrCode};

use crate::narrative::escape;

/// Modules of quiet zone around the code (the QR standard's minimum).
pub const QUIET_ZONE: usize = 4;

/// Why a QR code could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QrError {
    #[error("the link is too long to fit in a QR code; share it as a link instead")]
    TooLong,
}

/// A QR code's module matrix (without quiet zone).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QrMatrix {
    /// Modules per side.
    pub width: usize,
    /// Row-major, `true` = dark.
    pub modules: Vec<bool>,
}

impl QrMatrix {
    /// Encodes `data` (byte mode, ECC level M).
    pub fn encode(data: &str) -> Result<QrMatrix, QrError> {
        let code = QrCode::with_error_correction_level(data.as_bytes(), EcLevel::M)
            .map_err(|_| QrError::TooLong)?;
        let width = code.width();
        let modules = code
            .to_colors()
            .into_iter()
            .map(|c| c == Color::Dark)
            .collect();
        Ok(QrMatrix { width, modules })
    }

    /// Whether the module at (x, y) is dark.
    pub fn dark(&self, x: usize, y: usize) -> bool {
        x < self.width && y < self.width && self.modules[y * self.width + x]
    }

    /// The QR version (1–40).
    pub fn version(&self) -> usize {
        (self.width - 17) / 4
    }

    /// Modules per side of the whole symbol, quiet zone included (the SVG `viewBox` size).
    pub fn size_with_quiet_zone(&self) -> usize {
        self.width + 2 * QUIET_ZONE
    }

    /// The dark modules as SVG path data in quiet-zone coordinates (one unit per module; runs of
    /// dark modules in a row merged into one rectangle). For rendering the code with DOM
    /// elements (`<path d=…>`) instead of markup.
    pub fn path_data(&self) -> String {
        let mut path = String::new();
        for y in 0..self.width {
            let mut x = 0;
            while x < self.width {
                if self.dark(x, y) {
                    let start = x;
                    while x < self.width && self.dark(x, y) {
                        x += 1;
                    }
                    path.push_str(&format!(
                        "M{} {}h{}v1h-{}z",
                        start + QUIET_ZONE,
                        y + QUIET_ZONE,
                        x - start,
                        x - start
                    ));
                } else {
                    x += 1;
                }
            }
        }
        path
    }

    /// A standalone SVG: white background with a quiet zone, `role="img"` and an accessible
    /// name (`aria-label` and `<title>`). `size_px` is the rendered width and height.
    pub fn svg(&self, accessible_label: &str, size_px: u32) -> String {
        let n = self.size_with_quiet_zone();
        let label = escape(accessible_label);
        let path = self.path_data();
        format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {n} {n}\" width=\"{size_px}\" height=\"{size_px}\" role=\"img\" aria-label=\"{label}\" shape-rendering=\"crispEdges\"><title>{label}</title><rect width=\"{n}\" height=\"{n}\" fill=\"#fff\"/><path fill=\"#000\" d=\"{path}\"/></svg>"
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_with_finder_patterns_and_svg() {
        let m = QrMatrix::encode("shlink:/eyJ1cmwiOiJodHRwczovL2V4YW1wbGUifQ").unwrap();
        assert_eq!(m.modules.len(), m.width * m.width);
        // Finder pattern corners: dark border, light ring, dark core.
        assert!(m.dark(0, 0) && m.dark(6, 0) && m.dark(0, 6) && m.dark(6, 6));
        assert!(!m.dark(1, 1) && m.dark(2, 2) && m.dark(4, 4));
        assert!(m.dark(m.width - 1, 0) && m.dark(0, m.width - 1));
        let svg = m.svg("QR code <for> the link", 256);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains("role=\"img\""));
        assert!(svg.contains("aria-label=\"QR code &lt;for&gt; the link\""));
        let n = m.width + 8;
        assert_eq!(m.size_with_quiet_zone(), n);
        assert!(svg.contains(&format!("viewBox=\"0 0 {n} {n}\"")));
        // The path data starts at the quiet zone and is what the SVG carries.
        let d = m.path_data();
        assert!(d.starts_with("M4 4h7v1h-7z"), "{}", &d[..20]);
        assert!(svg.contains(&format!("d=\"{d}\"")));
        assert!(QrMatrix::encode(&"x".repeat(5000)).is_err());
    }
}
