//! Sensitivity labelling for a patient-owned health record.
//!
//! # Key design decision: labels are computed, explained, and never stored in the data
//!
//! Imported resources are never edited, so labels are a *derived view*: [`label_record`] looks at
//! every item and returns, per item, the sensitive [`Category`]s it belongs to, each with the
//! human-readable [`Reason`]s that put it there ("EHR label PSY", "SNOMED 6525002 in value set
//! Substance use v1", "provider is a Part 2 program", "refers to Condition/123", "you added this
//! label"). The patient can see *why* something is considered sensitive and correct it with an
//! [`Override`]; overrides are inputs (the app records them elsewhere) and always win.
//!
//! Four sources feed the labels, in this order:
//! 1. labels the EHR sent (`meta.security`, `DocumentReference.securityLabel`): DS4P sensitivity
//!    codes from v3-ActCode, the `42CFRPart2` policy, and confidentiality `R`/`V`;
//! 2. codes matched against value sets shipped as data files (`data/*.json`, one per category,
//!    each naming its source and version; parsed once), plus whole-word keywords for free text
//!    and medication names;
//! 3. the provider directory: every item from a provider marked as a 42 CFR Part 2 program is
//!    substance-use data under Part 2;
//! 4. propagation: an item that refers to a labelled item (a MedicationRequest whose
//!    `reasonReference` is a substance-use Condition, an Observation in a substance-use Encounter)
//!    gets that item's categories, repeated to a fixed point.
//!
//! Code matching cannot see sensitive meaning hidden in narrative or notes; the share builder
//! (phr-share) therefore never copies narratives and regenerates its own.
//!
//! Where "sexual assault, abuse or domestic violence" (v3-ActCode SDV) fits: it is its own
//! category, [`Category::ViolenceAbuse`], so a patient can share reproductive or mental health
//! information without also revealing abuse (which can put them at risk from an abuser).

mod consent;
mod label;
mod resolve;
mod valuesets;

pub use consent::{build_consent, ConsentError, DisclosureChoice, Purpose, RIGHT_TO_REVOKE};
pub use label::{label_record, ItemLabels, LabelSubject, Labelling, Override, Reason};
pub use resolve::{
    clinical_references, is_non_propagating_type, references_in, references_of, Resolver,
};
pub use valuesets::{value_sets, ValueSet, ValueSetMatch};

use phr_fhir::types::systems;

/// A kind of sensitive information that is withheld from a share unless the patient includes it.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Category {
    /// Alcohol and drug use (42 CFR Part 2 where it comes from a Part 2 program). DS4P `ETH`.
    SubstanceUse,
    /// Mental health diagnoses, screenings, treatment. DS4P `PSY`.
    MentalHealth,
    /// Psychotherapy notes (HIPAA gives them extra protection). DS4P `PSYTHPN`. Never shared
    /// without an explicit, per-item choice.
    PsychotherapyNotes,
    /// HIV and other sexually transmitted infections. DS4P `HIV` / `STD`.
    HivSti,
    /// Contraception, pregnancy and its outcomes, fertility, sexual function, gender-affirming
    /// care. DS4P `SEX`.
    SexualReproductive,
    /// Genetic test results and genetic conditions. DS4P `GDIS`.
    Genetic,
    /// Sexual assault, abuse or domestic violence. DS4P `SDV`.
    ViolenceAbuse,
    /// Marked restricted (`R`) or very restricted (`V`) by the provider, with no topic given.
    ProviderRestricted,
}

impl Category {
    /// Every category, in display order.
    pub const ALL: [Category; 8] = [
        Category::SubstanceUse,
        Category::MentalHealth,
        Category::PsychotherapyNotes,
        Category::HivSti,
        Category::SexualReproductive,
        Category::Genetic,
        Category::ViolenceAbuse,
        Category::ProviderRestricted,
    ];

    /// A short name for the patient ("Substance use").
    pub fn label(self) -> &'static str {
        match self {
            Category::SubstanceUse => "Substance use",
            Category::MentalHealth => "Mental health",
            Category::PsychotherapyNotes => "Psychotherapy notes",
            Category::HivSti => "HIV and sexually transmitted infections",
            Category::SexualReproductive => "Sexual and reproductive health",
            Category::Genetic => "Genetic information",
            Category::ViolenceAbuse => "Abuse and violence",
            Category::ProviderRestricted => "Restricted by your provider",
        }
    }

    /// The stable identifier used in data files and stored choices (`substance-use`).
    pub fn id(self) -> &'static str {
        match self {
            Category::SubstanceUse => "substance-use",
            Category::MentalHealth => "mental-health",
            Category::PsychotherapyNotes => "psychotherapy-notes",
            Category::HivSti => "hiv-sti",
            Category::SexualReproductive => "sexual-reproductive",
            Category::Genetic => "genetic",
            Category::ViolenceAbuse => "violence-abuse",
            Category::ProviderRestricted => "provider-restricted",
        }
    }

    /// Parses [`Category::id`].
    pub fn from_id(id: &str) -> Option<Category> {
        Category::ALL.into_iter().find(|c| c.id() == id)
    }

    /// The v3-ActCode sensitivity code stamped on shared copies when no more specific code is
    /// known. `None` for [`Category::ProviderRestricted`], which is expressed by confidentiality `R`.
    pub fn default_act_code(self) -> Option<&'static str> {
        match self {
            Category::SubstanceUse => Some("ETH"),
            Category::MentalHealth => Some("PSY"),
            Category::PsychotherapyNotes => Some("PSYTHPN"),
            Category::HivSti => Some("HIV"),
            Category::SexualReproductive => Some("SEX"),
            Category::Genetic => Some("GDIS"),
            Category::ViolenceAbuse => Some("SDV"),
            Category::ProviderRestricted => None,
        }
    }

    /// Whether a bulk "include sensitive information" choice may include this category.
    /// Psychotherapy notes are never included in bulk: each note needs its own choice.
    pub fn bulk_includable(self) -> bool {
        self != Category::PsychotherapyNotes
    }
}

impl std::fmt::Display for Category {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label())
    }
}

/// The category a v3-ActCode sensitivity code (as sent by an EHR in `meta.security`) stands for.
pub fn category_for_act_code(code: &str) -> Option<Category> {
    Some(match code {
        "ETH" | "ETHUD" | "OPIOIDUD" | "SUD" | "42CFRPart2" => Category::SubstanceUse,
        "PSY" | "MH" | "BH" => Category::MentalHealth,
        "PSYTHPN" => Category::PsychotherapyNotes,
        "HIV" | "STD" => Category::HivSti,
        "SEX" => Category::SexualReproductive,
        "GDIS" => Category::Genetic,
        "SDV" => Category::ViolenceAbuse,
        _ => return None,
    })
}

/// Code systems under which EHRs send DS4P sensitivity and policy codes (the current one and the
/// retired URIs still seen in the wild).
pub fn is_act_code_system(system: &str) -> bool {
    matches!(
        system,
        systems::ACT_CODE
            | "http://hl7.org/fhir/v3/ActCode"
            | "urn:oid:2.16.840.1.113883.5.4"
            | "http://terminology.hl7.org/CodeSystem/v3-ActUSPrivacyLaw"
            | "http://hl7.org/fhir/v3/ActUSPrivacyLaw"
    )
}

/// Code systems for confidentiality codes (`N`, `R`, `V`...).
pub fn is_confidentiality_system(system: &str) -> bool {
    matches!(
        system,
        systems::CONFIDENTIALITY
            | "http://hl7.org/fhir/v3/Confidentiality"
            | "urn:oid:2.16.840.1.113883.5.25"
    )
}

/// Well-known security label codings used when sharing.
pub mod labels {
    use phr_fhir::types::{systems, Coding};

    /// `v3-ObservationValue#PATAST`: patient asserted (entered by the patient, not a clinician).
    pub fn patast() -> Coding {
        Coding::new(systems::OBSERVATION_VALUE, "PATAST", "patient asserted")
    }

    /// `v3-ActCode#42CFRPart2`: 42 CFR Part 2 policy.
    pub fn part2() -> Coding {
        Coding::new(systems::ACT_CODE, "42CFRPart2", "42 CFR Part2")
    }

    /// `v3-ActCode#NORDSCLCD`: no redisclosure without consent directive (refrain policy).
    pub fn no_redisclosure() -> Coding {
        Coding::new(
            systems::ACT_CODE,
            "NORDSCLCD",
            "no redisclosure without consent directive",
        )
    }

    /// `v3-Confidentiality#R`: restricted.
    pub fn restricted() -> Coding {
        Coding::new(systems::CONFIDENTIALITY, "R", "restricted")
    }

    /// A v3-ActCode sensitivity code.
    pub fn act_code(code: &str) -> Coding {
        let display = match code {
            "ETH" => "substance abuse information sensitivity",
            "ETHUD" => "alcohol use disorder information sensitivity",
            "OPIOIDUD" => "opioid use disorder information sensitivity",
            "SUD" => "substance use disorder information sensitivity",
            "PSY" => "psychiatry disorder information sensitivity",
            "MH" => "mental health information sensitivity",
            "BH" => "behavioral health information sensitivity",
            "PSYTHPN" => "psychotherapy note information sensitivity",
            "HIV" => "HIV/AIDS information sensitivity",
            "STD" => "sexually transmitted disease information sensitivity",
            "SEX" => "sexuality and reproductive health information sensitivity",
            "GDIS" => "genetic disease information sensitivity",
            "SDV" => "sexual assault, abuse, or domestic violence information sensitivity",
            _ => "",
        };
        Coding::new(systems::ACT_CODE, code, display)
    }

    /// Whether a coding is PATAST.
    pub fn is_patast(c: &Coding) -> bool {
        c.system.as_deref() == Some(systems::OBSERVATION_VALUE)
            && c.code.as_deref() == Some("PATAST")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn category_ids_round_trip() {
        for c in Category::ALL {
            assert_eq!(Category::from_id(c.id()), Some(c));
            assert_eq!(
                serde_json::to_string(&c).unwrap(),
                format!("\"{}\"", c.id())
            );
        }
        assert_eq!(Category::from_id("nope"), None);
    }

    #[test]
    fn act_codes_map_to_categories() {
        assert_eq!(category_for_act_code("ETHUD"), Some(Category::SubstanceUse));
        assert_eq!(
            category_for_act_code("OPIOIDUD"),
            Some(Category::SubstanceUse)
        );
        assert_eq!(
            category_for_act_code("PSYTHPN"),
            Some(Category::PsychotherapyNotes)
        );
        assert_eq!(category_for_act_code("STD"), Some(Category::HivSti));
        assert_eq!(category_for_act_code("GDIS"), Some(Category::Genetic));
        assert_eq!(category_for_act_code("SDV"), Some(Category::ViolenceAbuse));
        assert_eq!(category_for_act_code("TBOO"), None);
        assert!(!Category::PsychotherapyNotes.bulk_includable());
        assert!(Category::SubstanceUse.bulk_includable());
    }
}
