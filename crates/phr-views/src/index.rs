//! The compact search index every view is derived from.
//!
//! # Key design decision: parse once, keep little
//!
//! [`Index::build`] reads each resource exactly once into a small fixed-size item plus a few
//! shared tables. All text lives in one arena string; repeated strings (test names, units, code
//! systems, statuses) are stored once. The *concept* of an item (its title and codes, e.g.
//! "Hemoglobin A1c" + LOINC 4548-4) is interned too, with its lower-cased, diacritic-free search
//! text, so 5,000 weight measurements share one concept. A search evaluates each distinct concept
//! once per query and then only scans each item's short own text (its value, reactions…), which is
//! what keeps a keystroke over 20,000 items within a frame. Nothing here borrows the record: the
//! index owns its data and refers back to entries by their opaque key.
//!
//! The build itself is one lean pass: each type is read through a small borrowed view
//! (`json`/`extract`: only the elements used, strings borrowed from the resource text), drafts
//! keep those borrows until they are interned, the interner and the key table hash into the arena
//! instead of holding copies, and grouping writes its fact keys into reused buffers. On the demo
//! EHR's 18,826 Synthea resources this is about 40 % fewer instructions than reading
//! `phr_fhir`'s owned views (see `examples/synthea.rs`).

use std::collections::HashMap;
use std::hash::BuildHasher;

use hashbrown::HashTable;
use rustc_hash::{FxBuildHasher, FxHashMap};

use crate::extract::{extract, Draft, DraftCode, DraftExtra};
use crate::group;
use crate::input::{SourceKind, ViewItem};
use crate::text::{fold_into, hash_str, Arena, Interner, Span};
use crate::time::When;

/// What a patient would call an entry; drives which screen shows it.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum Category {
    Allergy,
    Medication,
    /// A dose-log entry (MedicationAdministration): taken or skipped.
    DoseLog,
    Problem,
    LabResult,
    VitalSign,
    /// Other observations (social history, surveys, patient measurements without a category…).
    Observation,
    Immunization,
    Procedure,
    Visit,
    Document,
    /// DiagnosticReport.
    Report,
    Goal,
    CarePlan,
    CareTeam,
    Device,
    /// Claims, explanations of benefit, coverage.
    Billing,
    /// Things other entries point at: Patient, Practitioner, Organization, Location, Medication…
    Directory,
    Other,
}

impl Category {
    pub const ALL: [Category; 19] = [
        Category::Allergy,
        Category::Medication,
        Category::DoseLog,
        Category::Problem,
        Category::LabResult,
        Category::VitalSign,
        Category::Observation,
        Category::Immunization,
        Category::Procedure,
        Category::Visit,
        Category::Document,
        Category::Report,
        Category::Goal,
        Category::CarePlan,
        Category::CareTeam,
        Category::Device,
        Category::Billing,
        Category::Directory,
        Category::Other,
    ];

    /// A short English label for filters and badges.
    pub fn label(self) -> &'static str {
        match self {
            Category::Allergy => "Allergy",
            Category::Medication => "Medication",
            Category::DoseLog => "Dose log",
            Category::Problem => "Problem",
            Category::LabResult => "Lab result",
            Category::VitalSign => "Vital sign",
            Category::Observation => "Observation",
            Category::Immunization => "Immunization",
            Category::Procedure => "Procedure",
            Category::Visit => "Visit",
            Category::Document => "Document",
            Category::Report => "Report",
            Category::Goal => "Goal",
            Category::CarePlan => "Care plan",
            Category::CareTeam => "Care team",
            Category::Device => "Device",
            Category::Billing => "Billing",
            Category::Directory => "Directory",
            Category::Other => "Other",
        }
    }

    fn bit(self) -> u32 {
        1 << (self as u32)
    }
}

/// A set of categories (a filter).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CategorySet(u32);

impl CategorySet {
    pub const EMPTY: CategorySet = CategorySet(0);

    /// Every category.
    pub fn all() -> CategorySet {
        Category::ALL.into_iter().collect()
    }

    /// Exactly these categories.
    pub fn of(cats: &[Category]) -> CategorySet {
        cats.iter().copied().collect()
    }

    /// Adds a category.
    pub fn insert(&mut self, c: Category) {
        self.0 |= c.bit();
    }

    /// Removes a category.
    pub fn remove(&mut self, c: Category) {
        self.0 &= !c.bit();
    }

    /// Whether the set has this category.
    pub fn contains(self, c: Category) -> bool {
        self.0 & c.bit() != 0
    }

    /// Whether the set has no category.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
}

impl FromIterator<Category> for CategorySet {
    fn from_iter<I: IntoIterator<Item = Category>>(iter: I) -> Self {
        let mut s = CategorySet::EMPTY;
        for c in iter {
            s.insert(c);
        }
        s
    }
}

/// Whether an entry is current, read from its type's own status element.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Activity {
    /// Active problem, allergy, medication, goal, care team.
    Active,
    /// On hold.
    Paused,
    /// Intended / planned / proposed, not started.
    Planned,
    /// Resolved, stopped, completed, cancelled.
    Ended,
    /// No status, or a type without one.
    Unknown,
}

/// Position of an item in the index.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ItemId(pub u32);

/// A same-fact group (one row); every item belongs to exactly one group.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct GroupId(pub u32);

/// Position of a source in [`Index::sources`].
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct SourceId(pub u16);

/// A source as the index knows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceInfo {
    pub id: String,
    pub label: String,
    pub kind: SourceKind,
}

/// A coding of an item's main concept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Code<'a> {
    pub system: &'a str,
    pub code: &'a str,
    pub display: &'a str,
}

impl Code<'_> {
    /// `system|code`.
    pub fn token(&self) -> String {
        format!("{}|{}", self.system, self.code)
    }
}

pub(crate) const F_PATIENT: u8 = 1;
pub(crate) const F_HIDDEN: u8 = 2;
pub(crate) const F_GONE: u8 = 4;
pub(crate) const F_UNREADABLE: u8 = 8;
pub(crate) const F_ERROR: u8 = 16;
pub(crate) const F_PARTIAL: u8 = 32;

/// Shown on entries whose resource could not be read at all.
pub const NOTE_UNREADABLE: &str =
    "We could not read this entry. The original is kept unchanged; ask the source to check it.";
/// Shown on entries read only in part.
pub const NOTE_PARTIAL: &str =
    "Some details of this entry could not be read. The original is kept unchanged.";

#[derive(Clone, Copy, Debug)]
pub(crate) struct Item {
    pub(crate) key: Span,
    pub(crate) concept: u32,
    pub(crate) detail: Span,
    pub(crate) status: Span,
    pub(crate) hay: Span,
    pub(crate) date: Option<When>,
    pub(crate) extra: u32,
    pub(crate) source: u16,
    pub(crate) rtype: u16,
    pub(crate) category: Category,
    pub(crate) activity: Activity,
    pub(crate) flags: u8,
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct Concept {
    pub(crate) title: Span,
    pub(crate) codes_start: u32,
    pub(crate) codes_len: u32,
    pub(crate) hay: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct CodeEntry {
    pub(crate) system: u16,
    pub(crate) code: Span,
    pub(crate) display: Span,
}

/// A quantity value, stored compactly.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Qty {
    pub(crate) value: f64,
    /// The digits as written.
    pub(crate) text: Span,
    /// UCUM code (or free-text unit when not UCUM).
    pub(crate) unit: Span,
    /// The unit as the source displays it.
    pub(crate) label: Span,
    pub(crate) comparator: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Interp {
    None,
    Normal,
    High,
    Low,
    CriticalHigh,
    CriticalLow,
    Abnormal,
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct RefRange {
    pub(crate) low: Option<Qty>,
    pub(crate) high: Option<Qty>,
    pub(crate) text: Span,
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct Component {
    pub(crate) code: CodeEntry,
    pub(crate) value: Option<Qty>,
    pub(crate) text: Span,
}

#[derive(Clone, Debug)]
pub(crate) struct ObsData {
    pub(crate) value: Option<Qty>,
    /// Index into [`Index::ranges`] (reference ranges repeat, so they are stored once).
    pub(crate) range: u32,
    pub(crate) interp: Interp,
    pub(crate) components: Box<[Component]>,
}

#[derive(Clone, Debug)]
pub(crate) struct ContactData {
    pub(crate) name: String,
    pub(crate) relationship: String,
    pub(crate) relationship_codes: Vec<String>,
    pub(crate) phone: Option<String>,
}

#[derive(Clone, Debug)]
pub(crate) struct AttachmentInfo {
    pub(crate) content_type: Option<String>,
    pub(crate) title: Option<String>,
    pub(crate) has_data: bool,
    pub(crate) url: Option<String>,
    pub(crate) size: Option<u64>,
}

#[derive(Clone, Debug)]
pub(crate) enum Extra {
    Obs(ObsData),
    Med {
        ingredients: Vec<CodeEntry>,
        end: Option<When>,
    },
    Allergy {
        criticality: Option<String>,
        substances: Vec<CodeEntry>,
    },
    Ended {
        end: Option<When>,
    },
    Goal {
        due: Option<When>,
        target: String,
    },
    Patient {
        name: String,
        birth_date: Option<String>,
        contacts: Vec<ContactData>,
    },
    CareTeam {
        participants: Vec<(String, String)>,
    },
    Practitioner {
        qualification: String,
        npi: Option<String>,
    },
    Document {
        attachments: Vec<AttachmentInfo>,
        related: Vec<String>,
    },
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct Group {
    pub(crate) rep: u32,
    pub(crate) start: u32,
    pub(crate) len: u32,
}

/// The index: every entry of the record, parsed once, grouped and ordered.
pub struct Index {
    pub(crate) arena: Arena,
    pub(crate) items: Vec<Item>,
    pub(crate) concepts: Vec<Concept>,
    pub(crate) codes: Vec<CodeEntry>,
    pub(crate) systems: Vec<Box<str>>,
    pub(crate) types: Vec<Box<str>>,
    pub(crate) sources: Vec<SourceInfo>,
    pub(crate) extras: Vec<Extra>,
    pub(crate) ranges: Vec<RefRange>,
    /// Item ids hashed by entry key (compared in the arena); the first item wins for a key given
    /// twice.
    pub(crate) by_key: HashTable<u32>,
    pub(crate) group_of: Vec<u32>,
    pub(crate) groups: Vec<Group>,
    pub(crate) members: Vec<u32>,
    /// Groups with a date, newest first.
    pub(crate) timeline: Vec<u32>,
}

impl std::fmt::Debug for Index {
    // Content is PHI: only sizes.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Index")
            .field("items", &self.items.len())
            .field("groups", &self.groups.len())
            .field("sources", &self.sources.len())
            .finish()
    }
}

pub(crate) const NO_EXTRA: u32 = u32::MAX;
pub(crate) const NO_RANGE: u32 = u32::MAX;

type QtyKey = (u64, Span, Span, Span, Span);
type RangeKey = (Option<QtyKey>, Option<QtyKey>, Span);

fn qty_key(q: &Qty) -> QtyKey {
    (q.value.to_bits(), q.text, q.unit, q.label, q.comparator)
}

struct Builder {
    arena: Arena,
    interner: Interner,
    systems: Vec<Box<str>>,
    system_ids: FxHashMap<String, u16>,
    types: Vec<Box<str>>,
    type_ids: FxHashMap<String, u16>,
    concepts: Vec<Concept>,
    /// Concept ids, hashed by title and codes (compared in `concepts`/`codes`).
    concept_ids: HashTable<u32>,
    codes: Vec<CodeEntry>,
    ranges: Vec<RefRange>,
    range_ids: FxHashMap<RangeKey, u32>,
    scratch: String,
    scratch_codes: Vec<CodeEntry>,
}

impl Builder {
    fn system(&mut self, s: &str) -> u16 {
        if let Some(&id) = self.system_ids.get(s) {
            return id;
        }
        let id = self.systems.len().min(u16::MAX as usize) as u16;
        self.systems.push(s.into());
        self.system_ids.insert(s.to_string(), id);
        id
    }

    fn rtype(&mut self, s: &str) -> u16 {
        if let Some(&id) = self.type_ids.get(s) {
            return id;
        }
        let id = self.types.len().min(u16::MAX as usize) as u16;
        self.types.push(s.into());
        self.type_ids.insert(s.to_string(), id);
        id
    }

    fn intern(&mut self, s: &str) -> Span {
        self.interner.intern(&mut self.arena, s)
    }

    fn code(&mut self, c: &DraftCode) -> CodeEntry {
        CodeEntry {
            system: self.system(&c.system),
            code: self.intern(&c.code),
            display: self.intern(c.display.as_deref().unwrap_or("")),
        }
    }

    fn qty(&mut self, q: &crate::extract::DraftQty) -> Qty {
        Qty {
            value: q.value,
            text: self.intern(&q.text),
            unit: self.intern(&q.unit),
            label: self.intern(&q.label),
            comparator: self.intern(&q.comparator),
        }
    }

    fn concept(&mut self, title: &str, codes: &[DraftCode]) -> u32 {
        let title_span = self.intern(title);
        let mut entries = std::mem::take(&mut self.scratch_codes);
        entries.clear();
        for c in codes {
            let e = self.code(c);
            entries.push(e);
        }
        let h = FxBuildHasher.hash_one((title_span, &entries[..]));
        let (concepts, all_codes) = (&self.concepts, &self.codes);
        let same = |&id: &u32| {
            let c = &concepts[id as usize];
            c.title == title_span
                && all_codes[c.codes_start as usize..(c.codes_start + c.codes_len) as usize]
                    == entries[..]
        };
        if let Some(&id) = self.concept_ids.find(h, same) {
            self.scratch_codes = entries;
            return id;
        }
        let mut hay = std::mem::take(&mut self.scratch);
        hay.clear();
        fold_into(&mut hay, title);
        for c in codes {
            if let Some(d) = c.display.as_deref().filter(|d| *d != title) {
                hay.push(' ');
                fold_into(&mut hay, d);
            }
            hay.push(' ');
            fold_into(&mut hay, &c.code);
        }
        let hay_span = self.intern(&hay);
        self.scratch = hay;
        let id = self.concepts.len() as u32;
        self.concepts.push(Concept {
            title: title_span,
            codes_start: self.codes.len() as u32,
            codes_len: entries.len() as u32,
            hay: hay_span,
        });
        self.codes.extend_from_slice(&entries);
        self.scratch_codes = entries;
        let (concepts, all_codes) = (&self.concepts, &self.codes);
        self.concept_ids.insert_unique(h, id, |&id| {
            let c = &concepts[id as usize];
            FxBuildHasher.hash_one((
                c.title,
                &all_codes[c.codes_start as usize..(c.codes_start + c.codes_len) as usize],
            ))
        });
        id
    }
}

impl Index {
    /// Builds the index: parses each resource once, groups same facts across sources, orders the
    /// timeline. Never fails: unreadable resources become items carrying [`NOTE_UNREADABLE`].
    pub fn build<'a>(items: impl IntoIterator<Item = ViewItem<'a>>) -> Index {
        let mut sources: Vec<SourceInfo> = Vec::new();
        let mut source_ids: HashMap<&'a str, u16> = HashMap::new();
        let items = items.into_iter();
        let mut drafts: Vec<Draft<'a>> = Vec::with_capacity(items.size_hint().0);
        for vi in items {
            let sid = *source_ids.entry(vi.source.id).or_insert_with(|| {
                sources.push(SourceInfo {
                    id: vi.source.id.to_string(),
                    label: vi.source.label.to_string(),
                    kind: vi.source.kind,
                });
                (sources.len() - 1).min(u16::MAX as usize) as u16
            });
            drafts.push(extract(&vi, sid));
        }
        resolve_references(&mut drafts);

        let raw_guess: usize = drafts
            .iter()
            .map(|d| d.key.len() + d.detail.len() + 16)
            .sum();
        let mut b = Builder {
            arena: Arena::with_capacity(raw_guess * 2),
            interner: Interner::with_capacity(drafts.len() * 2),
            systems: Vec::new(),
            system_ids: FxHashMap::default(),
            types: Vec::new(),
            type_ids: FxHashMap::default(),
            concepts: Vec::new(),
            concept_ids: HashTable::new(),
            codes: Vec::new(),
            ranges: Vec::new(),
            range_ids: FxHashMap::default(),
            scratch: String::new(),
            scratch_codes: Vec::new(),
        };
        let mut out_items = Vec::with_capacity(drafts.len());
        let mut extras = Vec::new();
        let mut hay = String::new();
        for d in drafts {
            let concept = b.concept(&d.title, &d.codes);
            hay.clear();
            fold_into(&mut hay, &d.detail);
            if !d.search.is_empty() {
                hay.push(' ');
                fold_into(&mut hay, &d.search);
            }
            let extra = finish_extra(&mut b, d.extra);
            let extra_id = match extra {
                None => NO_EXTRA,
                Some(e) => {
                    extras.push(e);
                    (extras.len() - 1) as u32
                }
            };
            let item = Item {
                key: b.arena.push(d.key),
                concept,
                detail: b.intern(&d.detail),
                status: b.intern(&d.status),
                hay: b.intern(hay.trim()),
                date: d.date,
                extra: extra_id,
                source: d.source,
                rtype: b.rtype(d.rtype),
                category: d.category,
                activity: d.activity,
                flags: d.flags,
            };
            out_items.push(item);
        }
        b.arena.shrink();
        out_items.shrink_to_fit();
        extras.shrink_to_fit();
        b.codes.shrink_to_fit();
        b.concepts.shrink_to_fit();
        b.ranges.shrink_to_fit();

        let mut index = Index {
            arena: b.arena,
            items: out_items,
            concepts: b.concepts,
            codes: b.codes,
            systems: b.systems,
            types: b.types,
            sources,
            extras,
            ranges: b.ranges,
            by_key: HashTable::new(),
            group_of: Vec::new(),
            groups: Vec::new(),
            members: Vec::new(),
            timeline: Vec::new(),
        };
        index.index_keys();
        group::build_groups(&mut index);
        index.build_timeline();
        index
    }

    fn build_timeline(&mut self) {
        // Newest first; the group id breaks ties, so equal dates stay in group order.
        let mut t: Vec<(std::cmp::Reverse<(i32, i64)>, u32)> = (0..self.groups.len() as u32)
            .filter_map(|g| {
                let rep = &self.items[self.groups[g as usize].rep as usize];
                let d = rep.date.filter(|_| rep.category != Category::Directory)?;
                Some((std::cmp::Reverse(d.sort_key()), g))
            })
            .collect();
        t.sort_unstable();
        self.timeline = t.into_iter().map(|(_, g)| g).collect();
    }

    /// Number of items.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether there are no items.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The sources, in the order first seen.
    pub fn sources(&self) -> &[SourceInfo] {
        &self.sources
    }

    /// A source by its position.
    pub fn source(&self, id: SourceId) -> Option<&SourceInfo> {
        self.sources.get(id.0 as usize)
    }

    /// Finds a source by its stable id.
    pub fn source_by_id(&self, id: &str) -> Option<SourceId> {
        self.sources
            .iter()
            .position(|s| s.id == id)
            .map(|i| SourceId(i as u16))
    }

    /// Fills the key table from the items (after a build or a cache load).
    pub(crate) fn index_keys(&mut self) {
        let mut table = HashTable::with_capacity(self.items.len());
        let (arena, items) = (&self.arena, &self.items);
        for (i, it) in items.iter().enumerate() {
            let key = arena.get(it.key);
            let h = hash_str(key);
            if table
                .find(h, |&j: &u32| arena.get(items[j as usize].key) == key)
                .is_none()
            {
                table.insert_unique(h, i as u32, |&j| hash_str(arena.get(items[j as usize].key)));
            }
        }
        self.by_key = table;
    }

    /// The item for an entry key.
    pub fn find(&self, key: &str) -> Option<ItemId> {
        self.by_key
            .find(hash_str(key), |&i| {
                self.items
                    .get(i as usize)
                    .is_some_and(|it| self.arena.get(it.key) == key)
            })
            .map(|&i| ItemId(i))
    }

    /// The item with this id. Ids come from this index (`find`, `items`, groups); an id from
    /// another index may panic: use [`Index::get`] for ids of unknown origin.
    pub fn item(&self, id: ItemId) -> ItemRef<'_> {
        ItemRef { index: self, id }
    }

    /// The item with this id, if it exists.
    pub fn get(&self, id: ItemId) -> Option<ItemRef<'_>> {
        ((id.0 as usize) < self.items.len()).then_some(ItemRef { index: self, id })
    }

    /// Every item, in input order.
    pub fn items(&self) -> impl Iterator<Item = ItemRef<'_>> + '_ {
        (0..self.items.len() as u32).map(move |i| self.item(ItemId(i)))
    }

    /// The same-fact group an item belongs to.
    pub fn group_of(&self, id: ItemId) -> GroupId {
        GroupId(self.group_of[id.0 as usize])
    }

    /// Number of groups (rows before filtering).
    pub fn group_count(&self) -> usize {
        self.groups.len()
    }

    /// All members of a group (every source's copy, hidden ones included); empty for an
    /// unknown group.
    pub fn group_members(&self, g: GroupId) -> &[u32] {
        match self.groups.get(g.0 as usize) {
            Some(gr) => &self.members[gr.start as usize..(gr.start + gr.len) as usize],
            None => &[],
        }
    }

    /// The member shown for the group: a clinician-sourced copy when there is one.
    pub fn group_rep(&self, g: GroupId) -> ItemId {
        ItemId(self.groups[g.0 as usize].rep)
    }

    /// Approximate heap bytes held by the index (for the memory budget).
    pub fn heap_size(&self) -> usize {
        use std::mem::size_of;
        let extras: usize = self
            .extras
            .iter()
            .map(|e| match e {
                Extra::Obs(o) => o.components.len() * size_of::<Component>(),
                Extra::Med { ingredients, .. } => ingredients.capacity() * size_of::<CodeEntry>(),
                Extra::Allergy {
                    criticality,
                    substances,
                } => {
                    substances.capacity() * size_of::<CodeEntry>()
                        + criticality.as_ref().map_or(0, String::capacity)
                }
                Extra::Goal { target, .. } => target.capacity(),
                Extra::Patient { name, contacts, .. } => name.capacity() + contacts.len() * 128,
                Extra::CareTeam { participants } => participants
                    .iter()
                    .map(|(a, b)| a.capacity() + b.capacity() + 48)
                    .sum(),
                Extra::Practitioner { qualification, .. } => qualification.capacity() + 32,
                Extra::Document {
                    attachments,
                    related,
                } => attachments.len() * 160 + related.iter().map(String::capacity).sum::<usize>(),
                Extra::Ended { .. } => 0,
            })
            .sum();
        self.arena.capacity()
            + self.items.capacity() * size_of::<Item>()
            + self.concepts.capacity() * size_of::<Concept>()
            + self.codes.capacity() * size_of::<CodeEntry>()
            + self.systems.iter().map(|s| s.len() + 16).sum::<usize>()
            + self.types.iter().map(|s| s.len() + 16).sum::<usize>()
            + self.extras.capacity() * size_of::<Extra>()
            + self.ranges.capacity() * size_of::<RefRange>()
            + extras
            + (self.by_key.capacity() * 2
                + self.group_of.capacity()
                + self.members.capacity()
                + self.timeline.capacity())
                * 4
            + self.groups.capacity() * size_of::<Group>()
    }

    pub(crate) fn concept_codes(&self, concept: u32) -> &[CodeEntry] {
        let c = &self.concepts[concept as usize];
        &self.codes[c.codes_start as usize..(c.codes_start + c.codes_len) as usize]
    }

    pub(crate) fn code_ref(&self, c: &CodeEntry) -> Code<'_> {
        Code {
            system: self.systems.get(c.system as usize).map_or("", |s| s),
            code: self.arena.get(c.code),
            display: self.arena.get(c.display),
        }
    }

    pub(crate) fn extra(&self, id: ItemId) -> Option<&Extra> {
        let e = self.items[id.0 as usize].extra;
        (e != NO_EXTRA).then(|| &self.extras[e as usize])
    }

    pub(crate) fn obs(&self, id: ItemId) -> Option<&ObsData> {
        match self.extra(id) {
            Some(Extra::Obs(o)) => Some(o),
            _ => None,
        }
    }

    pub(crate) fn range(&self, o: &ObsData) -> Option<&RefRange> {
        self.ranges.get(o.range as usize)
    }

    pub(crate) fn raw(&self, id: ItemId) -> &Item {
        &self.items[id.0 as usize]
    }

    pub(crate) fn text(&self, s: Span) -> &str {
        self.arena.get(s)
    }
}

/// A read-only view of one item.
#[derive(Clone, Copy)]
pub struct ItemRef<'a> {
    index: &'a Index,
    id: ItemId,
}

impl<'a> ItemRef<'a> {
    fn it(&self) -> &'a Item {
        &self.index.items[self.id.0 as usize]
    }

    /// The item's id in this index.
    pub fn id(&self) -> ItemId {
        self.id
    }

    /// The entry key given at build time.
    pub fn key(&self) -> &'a str {
        self.index.arena.get(self.it().key)
    }

    /// The FHIR resource type (`Observation`…).
    pub fn resource_type(&self) -> &'a str {
        self.index
            .types
            .get(self.it().rtype as usize)
            .map_or("", |s| s)
    }

    /// The screen category.
    pub fn category(&self) -> Category {
        self.it().category
    }

    /// Whether it is current, from its own status.
    pub fn activity(&self) -> Activity {
        self.it().activity
    }

    /// Its date: effective/onset/authored/period start…, by type.
    pub fn date(&self) -> Option<When> {
        self.it().date
    }

    /// Its name: the main concept's text or display, else a type label.
    pub fn title(&self) -> &'a str {
        let c = &self.index.concepts[self.it().concept as usize];
        self.index.arena.get(c.title)
    }

    /// The value or short description (e.g. `7.2 %`, `Hives, high criticality`).
    pub fn detail(&self) -> &'a str {
        self.index.arena.get(self.it().detail)
    }

    /// The resource's own status code as written (`active`, `final`, `completed`…).
    pub fn status(&self) -> &'a str {
        self.index.arena.get(self.it().status)
    }

    /// The codings of the main concept.
    pub fn codes(&self) -> impl Iterator<Item = Code<'a>> + 'a {
        let index = self.index;
        index
            .concept_codes(self.it().concept)
            .iter()
            .map(move |c| index.code_ref(c))
    }

    /// The first code in `system`.
    pub fn code_in(&self, system: &str) -> Option<&'a str> {
        self.codes().find(|c| c.system == system).map(|c| c.code)
    }

    /// The source's position in [`Index::sources`].
    pub fn source_id(&self) -> SourceId {
        SourceId(self.it().source)
    }

    /// The source it came from.
    pub fn source(&self) -> &'a SourceInfo {
        &self.index.sources[self.it().source as usize]
    }

    /// Entered by the patient (source kind Patient, or `meta.security` PATAST).
    pub fn patient_reported(&self) -> bool {
        self.it().flags & F_PATIENT != 0
    }

    /// Hidden by the patient.
    pub fn hidden(&self) -> bool {
        self.it().flags & F_HIDDEN != 0
    }

    /// No longer returned by its source.
    pub fn gone_at_source(&self) -> bool {
        self.it().flags & F_GONE != 0
    }

    /// Marked entered-in-error by its source: left out of every derived view.
    pub fn entered_in_error(&self) -> bool {
        self.it().flags & F_ERROR != 0
    }

    /// A "could not read" note for malformed resources.
    pub fn note(&self) -> Option<&'static str> {
        let f = self.it().flags;
        if f & F_UNREADABLE != 0 {
            Some(NOTE_UNREADABLE)
        } else if f & F_PARTIAL != 0 {
            Some(NOTE_PARTIAL)
        } else {
            None
        }
    }

    /// The folded search text: concept part, then the item's own part.
    pub fn haystack(&self) -> (&'a str, &'a str) {
        let c = &self.index.concepts[self.it().concept as usize];
        (
            self.index.arena.get(c.hay),
            self.index.arena.get(self.it().hay),
        )
    }

    /// The same-fact group it belongs to.
    pub fn group(&self) -> GroupId {
        self.index.group_of(self.id)
    }

    /// When it ended: a condition's abatement, a visit's or procedure's period end, a
    /// medication's effective end.
    pub fn end_date(&self) -> Option<When> {
        match self.index.extra(self.id) {
            Some(Extra::Ended { end }) | Some(Extra::Med { end, .. }) => *end,
            _ => None,
        }
    }
}

/// Copies names and codes of referenced Medication resources (same source) into medication
/// entries that only point at them, and practitioner names into care-team participants.
fn resolve_references(drafts: &mut [Draft<'_>]) {
    let mut meds: HashMap<(u16, &str), usize> = HashMap::new();
    let mut people: HashMap<(u16, &str), usize> = HashMap::new();
    for (i, d) in drafts.iter().enumerate() {
        if let Some(id) = d.rid {
            match d.rtype {
                "Medication" => {
                    meds.insert((d.source, id), i);
                }
                "Practitioner" | "RelatedPerson" | "Organization" | "PractitionerRole" => {
                    people.insert((d.source, id), i);
                }
                _ => {}
            }
        }
    }
    let mut med_updates = Vec::new();
    let mut team_updates = Vec::new();
    for (i, d) in drafts.iter().enumerate() {
        if let Some((_, id)) = d.med_ref.as_deref().and_then(split_ref) {
            if let Some(&m) = meds.get(&(d.source, id)) {
                let med = &drafts[m];
                let ingredients = match &med.extra {
                    DraftExtra::Med { ingredients, .. } => ingredients.clone(),
                    _ => Vec::new(),
                };
                med_updates.push((i, med.title.clone(), med.codes.clone(), ingredients));
            }
        }
        if let DraftExtra::CareTeam { participants } = &d.extra {
            for (p, part) in participants.iter().enumerate() {
                if part.0.is_empty() {
                    if let Some((_, id)) = part.2.as_deref().and_then(split_ref) {
                        if let Some(&who) = people.get(&(d.source, id)) {
                            team_updates.push((i, p, drafts[who].title.clone()));
                        }
                    }
                }
            }
        }
    }
    for (i, title, codes, ingredients) in med_updates {
        let d = &mut drafts[i];
        if d.codes.is_empty() {
            d.codes = codes;
            if !title.is_empty() && d.title_is_fallback {
                d.title = title;
                d.title_is_fallback = false;
            }
        }
        if let DraftExtra::Med {
            ingredients: ing, ..
        } = &mut d.extra
        {
            if ing.is_empty() {
                *ing = ingredients;
            }
        }
    }
    for (i, p, name) in team_updates {
        if let DraftExtra::CareTeam { participants } = &mut drafts[i].extra {
            participants[p].0 = name.into_owned();
        }
        let d = &mut drafts[i];
        if !d.search.is_empty() {
            d.search.push(' ');
        }
        if let DraftExtra::CareTeam { participants } = &d.extra {
            let n = participants[p].0.clone();
            d.search.push_str(&n);
            if d.detail.is_empty() {
                d.detail = n;
            } else if !d.detail.contains(&participants[p].0) {
                d.detail.push_str(", ");
                d.detail.push_str(&participants[p].0);
            }
        }
    }
}

/// `(type, id)` of a literal reference, relative or absolute.
pub(crate) fn split_ref(r: &str) -> Option<(&str, &str)> {
    let r = r.split("/_history/").next()?;
    let mut parts = r.rsplitn(3, '/');
    let id = parts.next()?;
    let ty = parts.next()?;
    (phr_fhir::is_resource_type_name(ty) && !id.is_empty()).then_some((ty, id))
}

fn finish_extra(b: &mut Builder, e: DraftExtra) -> Option<Extra> {
    Some(match e {
        DraftExtra::None => return None,
        DraftExtra::Obs {
            value,
            range,
            interp,
            components,
        } => {
            let value = value.as_ref().map(|q| b.qty(q));
            let range = match range {
                None => NO_RANGE,
                Some((low, high, text)) => {
                    let r = RefRange {
                        low: low.as_ref().map(|q| b.qty(q)),
                        high: high.as_ref().map(|q| b.qty(q)),
                        text: b.intern(&text),
                    };
                    let key = (
                        r.low.as_ref().map(qty_key),
                        r.high.as_ref().map(qty_key),
                        r.text,
                    );
                    let next = b.ranges.len() as u32;
                    let id = *b.range_ids.entry(key).or_insert(next);
                    if id == next {
                        b.ranges.push(r);
                    }
                    id
                }
            };
            let components = components
                .into_iter()
                .map(|c| Component {
                    code: b.code(&c.code),
                    value: c.value.as_ref().map(|q| b.qty(q)),
                    text: b.intern(&c.text),
                })
                .collect::<Vec<_>>()
                .into_boxed_slice();
            Extra::Obs(ObsData {
                value,
                range,
                interp,
                components,
            })
        }
        DraftExtra::Med { ingredients, end } => Extra::Med {
            ingredients: ingredients.iter().map(|c| b.code(c)).collect(),
            end,
        },
        DraftExtra::Allergy {
            criticality,
            substances,
        } => Extra::Allergy {
            criticality,
            substances: substances.iter().map(|c| b.code(c)).collect(),
        },
        DraftExtra::Ended { end } => Extra::Ended { end },
        DraftExtra::Goal { due, target } => Extra::Goal { due, target },
        DraftExtra::Patient {
            name,
            birth_date,
            contacts,
        } => Extra::Patient {
            name,
            birth_date,
            contacts,
        },
        DraftExtra::CareTeam { participants } => Extra::CareTeam {
            participants: participants.into_iter().map(|(n, r, _)| (n, r)).collect(),
        },
        DraftExtra::Practitioner { qualification, npi } => {
            Extra::Practitioner { qualification, npi }
        }
        DraftExtra::Document {
            attachments,
            related,
        } => Extra::Document {
            attachments,
            related,
        },
    })
}
