//! The first screen: allergies, active medications, active problems, recent results, latest
//! vitals, upcoming goals, and the emergency card.
//!
//! "Active" means the source's own status says so (see [`crate::Activity`]); entries that are
//! hidden, entered in error, or gone at their source are not counted as active. A same fact from
//! several sources appears once. Patient-entered items appear with `patient_reported` set.

use std::collections::HashMap;

use crate::codes;
use crate::index::{Activity, Category, Extra, Index, ItemId, ItemRef};
use crate::input::SourceKind;
use crate::results::{bp_components, range_flag, reference_range, test_key, RangeFlag, VitalKind};
use crate::rows::Row;
use crate::time::{Day, When};

/// Inputs the summary needs from outside the record.
#[derive(Clone, Debug)]
pub struct SummaryOptions {
    /// Today's date in the patient's zone (for "upcoming" goals).
    pub today: Day,
    /// How many recent results to list.
    pub recent_results: usize,
    /// An emergency contact the patient entered in the app; wins over Patient.contact.
    pub emergency_contact: Option<EmergencyContact>,
}

impl SummaryOptions {
    /// Defaults: ten recent results, no app-entered emergency contact.
    pub fn new(today: Day) -> SummaryOptions {
        SummaryOptions {
            today,
            recent_results: 10,
            emergency_contact: None,
        }
    }
}

/// A lab result with its range.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ResultRow {
    pub row: Row,
    pub test_key: String,
    /// The value as a number (None for text results).
    pub value: Option<f64>,
    /// The value as written, with its unit (`7.2 %`).
    pub value_text: String,
    pub range: Option<String>,
    pub flag: RangeFlag,
}

/// The latest value of one vital sign.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct VitalRow {
    pub kind: VitalKind,
    pub row: Row,
    /// `120/80 mmHg`, `72 /min`, `81.2 kg`.
    pub value_text: String,
    /// Entry keys behind the value (for BP from two observations, both).
    pub keys: Vec<String>,
}

/// A goal the patient is working towards.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct GoalRow {
    pub row: Row,
    pub due: Option<When>,
    /// `Body weight < 80 kg by 2024-09-01`.
    pub target: String,
}

/// Someone to call.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct EmergencyContact {
    pub name: String,
    pub relationship: String,
    pub phone: Option<String>,
    /// Entered by the patient in the app (rather than from a provider's Patient record).
    pub patient_entered: bool,
}

/// One line of the emergency card.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CardLine {
    pub text: String,
    pub detail: String,
    pub patient_reported: bool,
    /// Source labels.
    pub sources: Vec<String>,
}

/// What a first responder needs, on one card.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct EmergencyCard {
    pub name: Option<String>,
    pub birth_date: Option<String>,
    pub allergies: Vec<CardLine>,
    pub medications: Vec<CardLine>,
    pub conditions: Vec<CardLine>,
    pub emergency_contact: Option<EmergencyContact>,
}

/// The version of [`Summary`]'s serialised shape (serde, e.g. JSON). A cached summary is a
/// boundary format: store this number with it and recompute the summary when it differs. Bump it
/// whenever a serialised field of the summary or of anything inside it ([`Row`], the result,
/// vital, goal and card types, [`crate::When`]) changes; a test freezes the current shape.
pub const SUMMARY_CACHE_VERSION: u32 = 1;

/// The summary screen. Serialisable (serde) so the app can cache the last one: see
/// [`SUMMARY_CACHE_VERSION`].
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Summary {
    pub allergies: Vec<Row>,
    pub medications: Vec<Row>,
    pub problems: Vec<Row>,
    pub recent_results: Vec<ResultRow>,
    pub vitals: Vec<VitalRow>,
    pub goals: Vec<GoalRow>,
    pub emergency_card: EmergencyCard,
}

fn is_current(it: &ItemRef<'_>) -> bool {
    !it.gone_at_source() && !it.entered_in_error()
}

fn sorted_rows(index: &Index, mut pairs: Vec<(crate::GroupId, ItemId)>) -> Vec<Row> {
    pairs.sort_by(|a, b| {
        let ia = index.item(a.1);
        let ib = index.item(b.1);
        ia.title()
            .to_lowercase()
            .cmp(&ib.title().to_lowercase())
            .then(a.0.cmp(&b.0))
    });
    pairs
        .into_iter()
        .map(|(g, rep)| index.row_with_rep(g, rep, false))
        .collect()
}

/// Active allergies (shown copies only), alphabetically.
pub fn active_allergies(index: &Index) -> Vec<Row> {
    let pairs = index
        .shown_groups(false, |it| {
            it.category() == Category::Allergy
                && it.activity() == Activity::Active
                && is_current(it)
        })
        .collect();
    sorted_rows(index, pairs)
}

/// Active medications: MedicationRequest/MedicationStatement whose status is active or on hold,
/// from EHRs, files and the patient's own entries, alphabetically.
pub fn active_medications(index: &Index) -> Vec<Row> {
    let pairs = index
        .shown_groups(false, |it| {
            matches!(
                it.resource_type(),
                "MedicationRequest" | "MedicationStatement"
            ) && matches!(it.activity(), Activity::Active | Activity::Paused)
                && is_current(it)
        })
        .collect();
    sorted_rows(index, pairs)
}

/// Active problems (conditions), alphabetically.
pub fn active_problems(index: &Index) -> Vec<Row> {
    let pairs = index
        .shown_groups(false, |it| {
            it.category() == Category::Problem
                && it.activity() == Activity::Active
                && is_current(it)
        })
        .collect();
    sorted_rows(index, pairs)
}

pub(crate) fn result_row(index: &Index, g: crate::GroupId, rep: ItemId) -> ResultRow {
    let row = index.row_with_rep(g, rep, false);
    let o = index.obs(rep);
    let value = o.and_then(|o| o.value.as_ref()).map(|q| q.value);
    ResultRow {
        test_key: test_key(index, rep),
        value,
        value_text: row.detail.clone(),
        range: reference_range(index, rep).map(|r| r.text),
        flag: range_flag(index, rep),
        row,
    }
}

/// The latest result of each lab test, most recent first, at most `limit`.
pub fn recent_results(index: &Index, limit: usize) -> Vec<ResultRow> {
    let mut latest: HashMap<String, (crate::GroupId, ItemId)> = HashMap::new();
    for (g, rep) in index.shown_groups(false, |it| {
        it.category() == Category::LabResult && it.date().is_some() && !it.detail().is_empty()
    }) {
        let key = test_key(index, rep);
        let newer = match latest.get(&key) {
            None => true,
            Some(&(_, cur)) => {
                index.item(rep).date().map(|d| d.sort_key())
                    > index.item(cur).date().map(|d| d.sort_key())
            }
        };
        if newer {
            latest.insert(key, (g, rep));
        }
    }
    let mut list: Vec<_> = latest.into_values().collect();
    list.sort_by(|a, b| {
        let da = index.item(a.1).date().map(|d| d.sort_key());
        let db = index.item(b.1).date().map(|d| d.sort_key());
        db.cmp(&da)
            .then_with(|| index.item(a.1).title().cmp(index.item(b.1).title()))
            .then(a.0.cmp(&b.0))
    });
    list.truncate(limit);
    list.into_iter()
        .map(|(g, rep)| result_row(index, g, rep))
        .collect()
}

fn newer(index: &Index, a: ItemId, b: Option<ItemId>) -> bool {
    match b {
        None => true,
        Some(b) => {
            let ka = index.item(a).date().map(|d| d.sort_key());
            let kb = index.item(b).date().map(|d| d.sort_key());
            ka > kb || (ka == kb && a < b)
        }
    }
}

/// The latest value of each vital sign that has one. Blood pressure comes from a BP panel's
/// components or from separate systolic/diastolic observations taken at the same time.
pub fn latest_vitals(index: &Index) -> Vec<VitalRow> {
    let mut best: HashMap<VitalKind, ItemId> = HashMap::new();
    let mut systolic: Vec<ItemId> = Vec::new();
    let mut diastolic: HashMap<(i64, u16), ItemId> = HashMap::new();
    for (_, rep) in index.shown_groups(false, |it| {
        it.resource_type() == "Observation" && it.date().is_some()
    }) {
        let it = index.item(rep);
        if let Some(kind) = VitalKind::of(index, rep) {
            let has_value = if kind == VitalKind::BloodPressure {
                bp_components(index, rep).is_some()
            } else {
                index.obs(rep).and_then(|o| o.value.as_ref()).is_some()
            };
            if has_value && newer(index, rep, best.get(&kind).copied()) {
                best.insert(kind, rep);
            }
        } else if it.code_in(codes::LOINC) == Some(codes::SYSTOLIC) {
            systolic.push(rep);
        } else if it.code_in(codes::LOINC) == Some(codes::DIASTOLIC) {
            if let Some(d) = it.date() {
                diastolic.insert((d.timestamp().0, it.source_id().0), rep);
            }
        }
    }
    // Separate systolic + diastolic at the same instant from the same source.
    let mut bp_pair: Option<(ItemId, ItemId)> = None;
    for s in systolic {
        let it = index.item(s);
        let Some(d) = it.date() else { continue };
        if let Some(&di) = diastolic.get(&(d.timestamp().0, it.source_id().0)) {
            let both = index.obs(s).and_then(|o| o.value).is_some()
                && index.obs(di).and_then(|o| o.value).is_some();
            if both && newer(index, s, bp_pair.map(|p| p.0)) {
                bp_pair = Some((s, di));
            }
        }
    }
    let mut out = Vec::new();
    for kind in VitalKind::ALL {
        if kind == VitalKind::BloodPressure {
            let panel = best.get(&kind).copied();
            let use_pair = match (panel, bp_pair) {
                (_, None) => false,
                (None, Some(_)) => true,
                (Some(p), Some((s, _))) => newer(index, s, Some(p)),
            };
            if use_pair {
                let (s, di) = bp_pair.unwrap_or((ItemId(0), ItemId(0)));
                let (Some(sq), Some(dq)) = (
                    index.obs(s).and_then(|o| o.value),
                    index.obs(di).and_then(|o| o.value),
                ) else {
                    continue;
                };
                let mut row = index.row_with_rep(index.group_of(s), s, false);
                row.title = kind.label().to_string();
                let value_text = format!(
                    "{}/{} {}",
                    index.text(sq.text),
                    index.text(dq.text),
                    index.text(sq.label)
                )
                .trim()
                .to_string();
                row.detail = value_text.clone();
                out.push(VitalRow {
                    kind,
                    keys: vec![
                        index.item(s).key().to_string(),
                        index.item(di).key().to_string(),
                    ],
                    row,
                    value_text,
                });
                continue;
            }
        }
        let Some(&id) = best.get(&kind) else { continue };
        let row = index.row_with_rep(index.group_of(id), id, false);
        let value_text = row.detail.clone();
        out.push(VitalRow {
            kind,
            keys: vec![row.key.clone()],
            row,
            value_text,
        });
    }
    out
}

/// Goals that are active, planned or on hold and not past due, soonest due first (goals without
/// a due date last).
pub fn upcoming_goals(index: &Index, today: Day) -> Vec<GoalRow> {
    let mut goals: Vec<GoalRow> = index
        .shown_groups(false, |it| {
            it.category() == Category::Goal
                && matches!(
                    it.activity(),
                    Activity::Active | Activity::Planned | Activity::Paused
                )
                && is_current(it)
        })
        .filter_map(|(g, rep)| {
            let (due, target) = match index.extra(rep) {
                Some(Extra::Goal { due, target }) => (*due, target.clone()),
                _ => (None, String::new()),
            };
            if due.is_some_and(|d| d.day() < today) {
                return None;
            }
            Some(GoalRow {
                row: index.row_with_rep(g, rep, false),
                due,
                target,
            })
        })
        .collect();
    goals.sort_by(|a, b| {
        let ka = (a.due.is_none(), a.due.map(|d| d.sort_key()));
        let kb = (b.due.is_none(), b.due.map(|d| d.sort_key()));
        ka.cmp(&kb).then_with(|| a.row.title.cmp(&b.row.title))
    });
    goals
}

fn card_lines(rows: &[Row]) -> Vec<CardLine> {
    rows.iter()
        .map(|r| CardLine {
            text: r.title.clone(),
            detail: r.detail.clone(),
            patient_reported: r.patient_reported,
            sources: r.sources.iter().map(|s| s.label.clone()).collect(),
        })
        .collect()
}

/// The emergency card. The contact passed in (entered by the patient) wins; otherwise the
/// Patient resource's contact with role "emergency contact" (v2-0131 `C`), then next-of-kin (`N`),
/// then the first contact with a phone number.
pub fn emergency_card(index: &Index, contact: Option<EmergencyContact>) -> EmergencyCard {
    let allergies = active_allergies(index);
    let meds = active_medications(index);
    let problems = active_problems(index);
    let mut patients: Vec<ItemId> = index
        .items()
        .filter(|it| it.resource_type() == "Patient" && !it.hidden())
        .map(|it| it.id())
        .collect();
    // Prefer a provider's Patient record, then files, then the patient's own.
    patients.sort_by_key(|&p| {
        let k = index.item(p).source().kind;
        (
            match k {
                SourceKind::Ehr => 0,
                SourceKind::File => 1,
                SourceKind::Patient => 2,
            },
            p,
        )
    });
    let mut name = None;
    let mut birth_date = None;
    let mut found_contact = None;
    for p in &patients {
        if let Some(Extra::Patient {
            name: n,
            birth_date: b,
            contacts,
        }) = index.extra(*p)
        {
            if name.is_none() && !n.is_empty() {
                name = Some(n.clone());
            }
            if birth_date.is_none() {
                birth_date = b.clone();
            }
            if found_contact.is_none() {
                let pick = contacts
                    .iter()
                    .find(|c| c.relationship_codes.iter().any(|r| r == "C"))
                    .or_else(|| {
                        contacts
                            .iter()
                            .find(|c| c.relationship_codes.iter().any(|r| r == "N"))
                    })
                    .or_else(|| contacts.iter().find(|c| c.phone.is_some()));
                found_contact = pick.map(|c| EmergencyContact {
                    name: c.name.clone(),
                    relationship: c.relationship.clone(),
                    phone: c.phone.clone(),
                    patient_entered: index.item(*p).patient_reported(),
                });
            }
        }
    }
    EmergencyCard {
        name,
        birth_date,
        allergies: card_lines(&allergies),
        medications: card_lines(&meds),
        conditions: card_lines(&problems),
        emergency_contact: contact.or(found_contact),
    }
}

/// The whole summary screen.
pub fn summary(index: &Index, opts: &SummaryOptions) -> Summary {
    Summary {
        allergies: active_allergies(index),
        medications: active_medications(index),
        problems: active_problems(index),
        recent_results: recent_results(index, opts.recent_results),
        vitals: latest_vitals(index),
        goals: upcoming_goals(index, opts.today),
        emergency_card: emergency_card(index, opts.emergency_contact.clone()),
    }
}
