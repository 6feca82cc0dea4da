//! Selective sharing: the patient decides what a care team sees.
//!
//! The pipeline, each step pure (time and random bytes are parameters):
//!
//! 1. [`plan`] / [`Selection`]: the share composer model. Sensitive categories start excluded;
//!    the plan says what is withheld per category ("Withheld: 3 items in Substance use").
//! 2. [`select`]: segmentation. Produces prepared *copies* of only the included items (see the
//!    [`select`](mod@select) module for why nothing withheld can leak).
//! 3. [`build_ips`]: the International Patient Summary document Bundle, with a Provenance per
//!    source and, when substance-use data is included, the 42 CFR Part 2 notice.
//! 4. [`jwe::encrypt`] (dir + A256GCM + DEF) and [`shl::build_link`] (`U`-flag SMART Health
//!    Link), and [`qr::QrMatrix`] for the QR code.
//! 5. On the receiving side: [`shl::parse_link`], [`jwe::decrypt`], [`view_document`], and
//!    [`summary::render_html`] for the printable summary.
//!
//! # Key design decision: one description path for everything a person reads
//!
//! Section narratives, the preview, the viewer and the printable summary all describe resources
//! through [`describe`], and the printable summary is rendered from the viewer's model of the
//! built document. What a patient previews and prints is what the recipient sees.

pub mod describe;
pub mod ips;
pub mod json;
pub mod jwe;
pub mod narrative;
pub mod qr;
pub mod section;
pub mod select;
pub mod shl;
pub mod summary;
pub mod viewer;

pub use describe::{describe, Row};
pub use ips::{build_ips, DocumentMeta};
pub use section::{section_for, Section};
pub use select::{
    plan, select, Decision, Prepared, PreviewRow, Segmented, Selection, ShareItem, SharePlan,
    SourceKind, SourceRef,
};
pub use viewer::{view_document, DocumentView, PatientView, RowView, SectionView, ViewError};

/// Why a share could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShareError {
    #[error("the patient record to share is not a Patient resource; this is a problem in the app, please report it")]
    NotAPatient,
    #[error("the document time \"{0}\" is not a valid FHIR instant; this is a problem in the app, please report it")]
    BadTimestamp(String),
    #[error("the document has no identifier; this is a problem in the app, please report it")]
    MissingIdentifier,
    #[error(
        "an item could not be prepared for sharing; this is a problem in the app, please report it"
    )]
    Internal,
}

/// Title of the notice section that goes with substance-use data.
pub const PART2_NOTICE_TITLE: &str = "Notice to recipients: 42 CFR part 2";

/// 42 CFR 2.32(a)(1), "Statement 1", as amended by the 2024 final rule (89 FR 12472,
/// 16 February 2024), verbatim. It accompanies every disclosure of substance-use data.
pub const PART2_NOTICE: &str = "This record which has been disclosed to you is protected by Federal confidentiality rules (42 CFR part 2). These rules prohibit you from using or disclosing this record, or testimony that describes the information contained in this record, in any civil, criminal, administrative, or legislative proceedings by any Federal, State, or local authority, against the patient, unless authorized by the consent of the patient, except as provided at 42 CFR 2.12(c)(5) or as authorized by a court in accordance with 42 CFR 2.64 or 2.65. In addition, the Federal rules prohibit you from making any other use or disclosure of this record unless at least one of the following applies: (i) Further use or disclosure is expressly permitted by the written consent of the individual whose information is being disclosed in this record or as otherwise permitted by 42 CFR part 2. (ii) You are a covered entity or business associate and have received the record for treatment, payment, or health care operations, or (iii) You have received the record from a covered entity or business associate as permitted by 45 CFR part 164, subparts A and E. A general authorization for the release of medical or other information is NOT sufficient to meet the required elements of written consent to further use or redisclose the record (see 42 CFR 2.31).";

/// The line every shared document and printout carries.
pub const LEGAL_RECORD_LINE: &str = "This summary was assembled by the patient from copies of their records. The records held by their healthcare providers remain the legal medical record; items marked patient-reported were entered by the patient and have not been verified by a clinician.";

pub use phr_fhir::primitives::is_instant;
