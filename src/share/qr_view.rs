//! A QR code rendered as SVG elements (one `<path>`), from `phr_share`'s module matrix.

use leptos::prelude::*;
use phr_share::qr::QrMatrix;

use crate::components::ErrorBox;

/// Screen pixels per module.
const PX_PER_MODULE: usize = 4;

/// A QR code (already encoded), with an accessible name.
#[component]
pub fn QrCode(
    matrix: QrMatrix,
    #[prop(into)] label: String,
    #[prop(into)] id: String,
) -> impl IntoView {
    let n = matrix.size_with_quiet_zone();
    // Whole pixels per module keep every module the same size on screen (scanners need that).
    let px = (n * PX_PER_MODULE).to_string();
    view! {
        <svg
            class="qr"
            id=id
            viewBox=format!("0 0 {n} {n}")
            width=px.clone()
            height=px
            role="img"
            aria-label=label.clone()
            shape-rendering="crispEdges"
        >
            <title>{label.clone()}</title>
            <rect width=n height=n fill="#fff" />
            <path fill="#000" d=matrix.path_data() />
        </svg>
    }
}

/// The QR code of `data` (error correction level M), or why it cannot be made.
#[component]
pub fn QrOf(data: String, #[prop(into)] label: String, #[prop(into)] id: String) -> impl IntoView {
    match QrMatrix::encode(&data) {
        Ok(matrix) => view! { <QrCode matrix=matrix label=label id=id /> }.into_any(),
        Err(e) => view! { <ErrorBox text=e.to_string() /> }.into_any(),
    }
}
