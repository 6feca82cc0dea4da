//! How the record maps to storage segments, which of them need saving, and their byte format.
//!
//! # Segment names
//!
//! The vault stores named, separately encrypted segments; names are visible in storage, so they
//! carry no health information and follow the vault's rules (`a-z 0-9 . _ -`, at most 64):
//!
//! | name | holds |
//! |---|---|
//! | `meta.sources` | the sources, each with its opaque *slot* number |
//! | `meta.hidden` | hidden items and when they were hidden |
//! | `meta.labels` | the patient's label changes (audit list) |
//! | `res.<slot>.<n>` | chunk `n` of a source's entries: at most [`crate::CHUNK_MAX_ENTRIES`] resources |
//! | `app.settings`, `app.sharelog`, `app.consents` | settings, share log, FHIR Consents |
//! | `app.doc.<name>` | an opaque app document (connections, import resume state) |
//!
//! A source gets a slot number when added; slots are never reused. A new entry goes into the
//! source's newest chunk while it has room, else into a new chunk, and stays in that chunk for
//! life, so an edit dirties exactly one chunk and a sync that adds 50 resources rewrites one or
//! two chunks, not the record.
//!
//! # Byte format (version 1)
//!
//! Every segment is a JSON object with `"v":1`. A chunk is
//! `{"v":1,"source":"ehr:x","entries":[{"t":"Observation","id":"o1","f":"<fetched>","q":"<request>","r":<resource>},…]}`
//! with optional `"h"` (content hash instead of `"id"`), `"u"` (updated at), `"g"` (gone at
//! source, noticed at) and `"pv"` (the patient's Provenance). `"r"` is the resource's original
//! text, embedded verbatim with `RawValue`: no escaping, byte-exact. Loading parses each segment
//! once, borrowing each `"r"` from the segment text, and copies each resource exactly once into
//! the record.
//!
//! # Damaged segments
//!
//! [`Record::load`] reports each segment it cannot read by name and loads the rest. A damaged
//! segment is never written or deleted afterwards (changes that would overwrite it are refused
//! with [`RecordError::DamagedSegment`]), and new chunks never reuse its name, so a restore from
//! backup can still recover it.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap};

use phr_fhir::Resource;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::app::{is_app_doc_name, Settings, ShareLogEntry};
use crate::error::{RecordError, Result};
use crate::key::{EntryKey, KeyForm, LocalId, ResourceKey};
use crate::record::{Chunk, Entry, EntryStatus, LabelChange, Record, SourceData};
use crate::source::{Source, SourceId};

/// The segment format version this crate writes and reads.
pub const SEGMENT_FORMAT_VERSION: u32 = 1;

pub const META_SOURCES: &str = "meta.sources";
pub const META_HIDDEN: &str = "meta.hidden";
pub const META_LABELS: &str = "meta.labels";
pub const APP_SETTINGS: &str = "app.settings";
pub const APP_SHARE_LOG: &str = "app.sharelog";
pub const APP_CONSENTS: &str = "app.consents";
const DOC_PREFIX: &str = "app.doc.";

/// The fixed segments (present in every record, possibly empty).
const FIXED: [&str; 6] = [
    META_SOURCES,
    META_HIDDEN,
    META_LABELS,
    APP_SETTINGS,
    APP_SHARE_LOG,
    APP_CONSENTS,
];

/// The segment name of chunk `idx` of slot `slot`.
pub fn chunk_name(slot: u32, idx: u32) -> String {
    format!("res.{slot}.{idx}")
}

pub(crate) fn doc_name(name: &str) -> String {
    format!("{DOC_PREFIX}{name}")
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum SegmentName {
    Fixed(&'static str),
    Doc(String),
    Chunk { slot: u32, idx: u32 },
}

fn parse_number(s: &str) -> Option<u32> {
    // Canonical decimal only, so that the name <-> number mapping is one-to-one.
    if s.is_empty() || (s.len() > 1 && s.starts_with('0')) || !s.bytes().all(|c| c.is_ascii_digit())
    {
        return None;
    }
    s.parse().ok()
}

fn parse_name(name: &str) -> Option<SegmentName> {
    if let Some(f) = FIXED.iter().find(|f| **f == name) {
        return Some(SegmentName::Fixed(f));
    }
    if let Some(doc) = name.strip_prefix(DOC_PREFIX) {
        return is_app_doc_name(doc).then(|| SegmentName::Doc(doc.into()));
    }
    let rest = name.strip_prefix("res.")?;
    let (slot, idx) = rest.split_once('.')?;
    Some(SegmentName::Chunk {
        slot: parse_number(slot)?,
        idx: parse_number(idx)?,
    })
}

// ------------------------------------------------------------------------- save state

/// Which segments changed since the last save, which must be deleted, and which could not be
/// read (and are therefore never touched).
#[derive(Clone, Debug, Default)]
pub(crate) struct SaveState {
    seq: u64,
    dirty: BTreeMap<String, u64>,
    deleted: BTreeMap<String, u64>,
    persisted: BTreeSet<String>,
    damaged: BTreeSet<String>,
}

impl SaveState {
    pub(crate) fn mark_dirty(&mut self, name: &str) {
        self.seq += 1;
        self.deleted.remove(name);
        self.dirty.insert(name.into(), self.seq);
    }

    pub(crate) fn mark_deleted(&mut self, name: &str) {
        if self.damaged.contains(name) {
            return;
        }
        self.seq += 1;
        self.dirty.remove(name);
        self.deleted.insert(name.into(), self.seq);
    }

    pub(crate) fn dirty_count(&self) -> usize {
        self.dirty.len()
    }

    pub(crate) fn check_writable(&self, name: &str) -> Result<()> {
        if self.damaged.contains(name) {
            Err(RecordError::DamagedSegment {
                segment: name.into(),
            })
        } else {
            Ok(())
        }
    }
}

/// The segments to write and delete in one save. Take it with [`Record::pending_save`], encode
/// each `write` name with [`Record::encode_segment`] right away, save, and on success pass it to
/// [`Record::mark_saved`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SavePlan {
    /// Segments whose content changed: encode and write these.
    pub write: Vec<String>,
    /// Segments that no longer exist in the record: delete these from storage.
    pub delete: Vec<String>,
    seq: u64,
}

impl SavePlan {
    pub fn is_empty(&self) -> bool {
        self.write.is_empty() && self.delete.is_empty()
    }
}

// ------------------------------------------------------------------------- load errors

/// What was wrong with a segment that could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SegmentProblem {
    /// The vault could not decrypt or read it (the detail comes from the vault).
    Unreadable(String),
    /// The decrypted bytes are not UTF-8 text.
    NotText,
    /// The JSON is not a segment of this kind (position only: the text may hold health data).
    Malformed(String),
    /// A newer version of the app wrote it.
    NewerVersion(u32),
    /// The name is not one this version of the app knows.
    UnknownName,
    /// It contradicts another segment (e.g. a chunk claiming another source's slot).
    Inconsistent(&'static str),
}

impl std::fmt::Display for SegmentProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SegmentProblem::Unreadable(d) => write!(f, "it could not be read ({d})"),
            SegmentProblem::NotText => f.write_str("its content is damaged (not text)"),
            SegmentProblem::Malformed(d) => write!(f, "its content is damaged ({d})"),
            SegmentProblem::NewerVersion(v) => write!(
                f,
                "it was written by a newer version of the app (format {v}); update the app"
            ),
            SegmentProblem::UnknownName => {
                f.write_str("this version of the app does not know it; update the app")
            }
            SegmentProblem::Inconsistent(d) => {
                write!(f, "it contradicts the rest of the record ({d})")
            }
        }
    }
}

/// One segment that could not be loaded; the rest of the record loaded without it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("part of your record (\"{name}\") could not be loaded: {problem}. Everything else is available, and this part is left untouched in storage so that it can still be recovered (for example from a backup)")]
pub struct SegmentLoadError {
    pub name: String,
    pub problem: SegmentProblem,
}

fn malformed(e: &serde_json::Error) -> SegmentProblem {
    // Never include serde's message: it can quote the data.
    SegmentProblem::Malformed(format!(
        "{} at line {} column {}",
        match e.classify() {
            serde_json::error::Category::Io => "read error",
            serde_json::error::Category::Syntax => "invalid JSON",
            serde_json::error::Category::Data => "unexpected content",
            serde_json::error::Category::Eof => "cut short",
        },
        e.line(),
        e.column()
    ))
}

// ------------------------------------------------------------------------- wire forms

#[derive(Deserialize)]
struct VersionOnly {
    v: u32,
}

#[derive(Serialize)]
struct ChunkOut<'a> {
    v: u32,
    source: &'a str,
    entries: Vec<EntryOut<'a>>,
}

#[derive(Serialize)]
struct EntryOut<'a> {
    t: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    h: Option<String>,
    f: &'a str,
    q: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    u: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    g: Option<&'a str>,
    r: &'a RawValue,
    #[serde(skip_serializing_if = "Option::is_none")]
    pv: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct ChunkIn<'a> {
    v: u32,
    #[serde(borrow)]
    source: Cow<'a, str>,
    #[serde(borrow)]
    entries: Vec<EntryIn<'a>>,
}

#[derive(Deserialize)]
struct EntryIn<'a> {
    #[serde(borrow)]
    t: Cow<'a, str>,
    #[serde(default, borrow)]
    id: Option<Cow<'a, str>>,
    #[serde(default)]
    h: Option<String>,
    #[serde(borrow)]
    f: Cow<'a, str>,
    #[serde(borrow)]
    q: Cow<'a, str>,
    #[serde(default, borrow)]
    u: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    g: Option<Cow<'a, str>>,
    #[serde(borrow)]
    r: &'a RawValue,
    #[serde(default, borrow)]
    pv: Option<&'a RawValue>,
}

#[derive(Serialize, Deserialize)]
struct SlotForm {
    slot: u32,
    id: SourceId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    source: Option<Source>,
}

#[derive(Serialize, Deserialize)]
struct SourcesForm {
    v: u32,
    next_slot: u32,
    sources: Vec<SlotForm>,
}

#[derive(Serialize, Deserialize)]
struct HiddenItem {
    item: EntryKey,
    at: String,
}

#[derive(Serialize, Deserialize)]
struct HiddenForm {
    v: u32,
    hidden: Vec<HiddenItem>,
}

#[derive(Serialize, Deserialize)]
struct LabelsForm {
    v: u32,
    changes: Vec<LabelChange>,
}

#[derive(Serialize, Deserialize)]
struct SettingsForm {
    v: u32,
    settings: Settings,
}

#[derive(Serialize, Deserialize)]
struct ShareLogForm {
    v: u32,
    entries: Vec<ShareLogEntry>,
}

#[derive(Serialize)]
struct ConsentsOut<'a> {
    v: u32,
    consents: Vec<&'a RawValue>,
}

#[derive(Deserialize)]
struct ConsentsIn<'a> {
    v: u32,
    #[serde(borrow)]
    consents: Vec<&'a RawValue>,
}

#[derive(Serialize)]
struct DocOut<'a> {
    v: u32,
    doc: &'a RawValue,
}

#[derive(Deserialize)]
struct DocIn<'a> {
    v: u32,
    #[serde(borrow)]
    doc: &'a RawValue,
}

fn to_vec<T: Serialize>(value: &T) -> Vec<u8> {
    // Serialising these plain structs into memory cannot fail.
    serde_json::to_vec(value).unwrap_or_default()
}

// ------------------------------------------------------------------------- load staging

struct StagedChunk {
    name: String,
    source: SourceId,
    entries: Vec<(ResourceKey, Entry)>,
}

#[derive(Default)]
struct Loader {
    record: Record,
    errors: Vec<SegmentLoadError>,
    sources: Option<SourcesForm>,
    chunks: BTreeMap<(u32, u32), StagedChunk>,
    /// Damaged chunk names, by slot: the highest index seen.
    damaged_chunks: BTreeMap<u32, u32>,
}

fn check_version(v: u32) -> std::result::Result<(), SegmentProblem> {
    if v == SEGMENT_FORMAT_VERSION {
        Ok(())
    } else {
        Err(SegmentProblem::NewerVersion(v))
    }
}

/// On a parse failure, a newer version is the more helpful explanation if `v` says so.
fn parse_failure(text: &str, e: &serde_json::Error) -> SegmentProblem {
    match serde_json::from_str::<VersionOnly>(text) {
        Ok(VersionOnly { v }) if v != SEGMENT_FORMAT_VERSION => SegmentProblem::NewerVersion(v),
        _ => malformed(e),
    }
}

fn decode_chunk(
    text: &str,
) -> std::result::Result<(SourceId, Vec<(ResourceKey, Entry)>), SegmentProblem> {
    let c: ChunkIn = serde_json::from_str(text).map_err(|e| parse_failure(text, &e))?;
    check_version(c.v)?;
    let source = SourceId::parse(&c.source)
        .map_err(|_| SegmentProblem::Inconsistent("it names an invalid source"))?;
    let mut out = Vec::with_capacity(c.entries.len());
    let mut seen = std::collections::HashSet::with_capacity(c.entries.len());
    for e in c.entries {
        let form = KeyForm {
            s: None,
            t: e.t,
            id: e.id,
            h: e.h,
        };
        let key = form
            .resource_key()
            .map_err(|_| SegmentProblem::Inconsistent("an entry has an invalid key"))?;
        // The one copy of the resource text.
        let resource = Resource::from_raw_value(e.r)
            .map_err(|_| SegmentProblem::Inconsistent("an entry is not a FHIR resource"))?;
        let matches = resource.resource_type() == key.resource_type()
            && match key.local() {
                LocalId::Id(id) => resource.id() == Some(id),
                LocalId::Content(h) => {
                    resource.id().is_none() && crate::ids::sha256(resource.raw().as_bytes()) == *h
                }
            };
        if !matches {
            return Err(SegmentProblem::Inconsistent(
                "an entry's key does not match its resource",
            ));
        }
        if !seen.insert(key.clone()) {
            return Err(SegmentProblem::Inconsistent("an entry appears twice"));
        }
        let authored = match e.pv {
            Some(pv) => Some(Resource::from_raw_value(pv).map_err(|_| {
                SegmentProblem::Inconsistent("an entry's Provenance is not a FHIR resource")
            })?),
            None => None,
        };
        out.push((
            key,
            Entry {
                resource,
                fetched_at: e.f.into(),
                request: e.q.into(),
                updated_at: e.u.map(Into::into),
                status: match e.g {
                    Some(t) => EntryStatus::GoneAtSource {
                        noticed_at: t.into_owned(),
                    },
                    None => EntryStatus::Current,
                },
                authored,
                chunk: 0,
            },
        ));
    }
    Ok((source, out))
}

impl Loader {
    fn fail(&mut self, name: &str, problem: SegmentProblem) {
        self.record.save.damaged.insert(name.into());
        if let Some(SegmentName::Chunk { slot, idx }) = parse_name(name) {
            let m = self.damaged_chunks.entry(slot).or_insert(idx);
            *m = (*m).max(idx);
        }
        self.errors.push(SegmentLoadError {
            name: name.into(),
            problem,
        });
    }

    fn segment(&mut self, name: &str, bytes: &[u8]) {
        let Some(kind) = parse_name(name) else {
            return self.fail(name, SegmentProblem::UnknownName);
        };
        let Ok(text) = std::str::from_utf8(bytes) else {
            return self.fail(name, SegmentProblem::NotText);
        };
        if let Err(p) = self.decode(name, kind, text) {
            self.fail(name, p);
        }
    }

    fn decode(
        &mut self,
        name: &str,
        kind: SegmentName,
        text: &str,
    ) -> std::result::Result<(), SegmentProblem> {
        fn parse<'a, T: Deserialize<'a>>(text: &'a str) -> std::result::Result<T, SegmentProblem> {
            serde_json::from_str(text).map_err(|e| parse_failure(text, &e))
        }
        let r = &mut self.record;
        match kind {
            SegmentName::Chunk { slot, idx } => {
                let (source, entries) = decode_chunk(text)?;
                self.chunks.insert(
                    (slot, idx),
                    StagedChunk {
                        name: name.into(),
                        source,
                        entries,
                    },
                );
            }
            SegmentName::Fixed(META_SOURCES) => {
                let f: SourcesForm = parse(text)?;
                check_version(f.v)?;
                let mut slots = BTreeSet::new();
                let mut ids = BTreeSet::new();
                for s in &f.sources {
                    let consistent = s
                        .source
                        .as_ref()
                        .is_none_or(|m| m.id == s.id && m.check_consistent().is_ok());
                    if !consistent || !slots.insert(s.slot) || !ids.insert(s.id.clone()) {
                        return Err(SegmentProblem::Inconsistent(
                            "two sources share a slot or an id",
                        ));
                    }
                }
                self.sources = Some(f);
            }
            SegmentName::Fixed(META_HIDDEN) => {
                let f: HiddenForm = parse(text)?;
                check_version(f.v)?;
                r.hidden = f.hidden.into_iter().map(|h| (h.item, h.at)).collect();
            }
            SegmentName::Fixed(META_LABELS) => {
                let f: LabelsForm = parse(text)?;
                check_version(f.v)?;
                r.label_changes = f.changes;
            }
            SegmentName::Fixed(APP_SETTINGS) => {
                let f: SettingsForm = parse(text)?;
                check_version(f.v)?;
                r.settings = f.settings;
            }
            SegmentName::Fixed(APP_SHARE_LOG) => {
                let f: ShareLogForm = parse(text)?;
                check_version(f.v)?;
                r.share_log = f.entries;
            }
            SegmentName::Fixed(APP_CONSENTS) => {
                let f: ConsentsIn = parse(text)?;
                check_version(f.v)?;
                let mut consents = BTreeMap::new();
                for raw in f.consents {
                    let c = Resource::from_raw_value(raw)
                        .map_err(|_| SegmentProblem::Inconsistent("a consent is not FHIR"))?;
                    let id = c
                        .id()
                        .filter(|_| c.resource_type() == "Consent")
                        .ok_or(SegmentProblem::Inconsistent("a consent has no id"))?
                        .to_string();
                    consents.insert(id, c);
                }
                r.consents = consents;
            }
            SegmentName::Fixed(_) => return Err(SegmentProblem::UnknownName),
            SegmentName::Doc(doc) => {
                let f: DocIn = parse(text)?;
                check_version(f.v)?;
                r.docs.insert(doc, f.doc.to_owned());
            }
        }
        Ok(())
    }

    fn finish(mut self) -> (Record, Vec<SegmentLoadError>) {
        let mut next_slot = 0u32;
        // Sources with details, from meta.sources.
        let mut slot_owner: BTreeMap<u32, SourceId> = BTreeMap::new();
        if let Some(f) = self.sources.take() {
            next_slot = f.next_slot;
            for s in f.sources {
                slot_owner.insert(s.slot, s.id.clone());
                self.record
                    .sources
                    .insert(s.id, SourceData::new(s.source, s.slot));
                next_slot = next_slot.max(s.slot.saturating_add(1));
            }
        }
        // Chunks, in (slot, index) order so the outcome does not depend on the input order.
        let chunks = std::mem::take(&mut self.chunks);
        for ((slot, idx), chunk) in chunks {
            next_slot = next_slot.max(slot.saturating_add(1));
            let owner_ok = match slot_owner.get(&slot) {
                Some(owner) => *owner == chunk.source,
                None => !self.record.sources.contains_key(&chunk.source),
            };
            if !owner_ok {
                self.fail(
                    &chunk.name,
                    SegmentProblem::Inconsistent("it belongs to a different source"),
                );
                continue;
            }
            slot_owner.insert(slot, chunk.source.clone());
            let sd = self
                .record
                .sources
                .entry(chunk.source.clone())
                .or_insert_with(|| SourceData::new(None, slot));
            if chunk
                .entries
                .iter()
                .any(|(k, _)| sd.entries.contains_key(k))
            {
                self.fail(
                    &chunk.name,
                    SegmentProblem::Inconsistent("it repeats entries of another part"),
                );
                continue;
            }
            let mut members = Vec::with_capacity(chunk.entries.len());
            let mut bytes = 0;
            sd.entries.reserve(chunk.entries.len());
            for (key, mut entry) in chunk.entries {
                entry.chunk = idx;
                bytes += entry.resource.raw().len();
                members.push(key.clone());
                sd.entries.insert(key, entry);
            }
            sd.chunks.insert(idx, Chunk { members, bytes });
            sd.max_chunk = Some(sd.max_chunk.map_or(idx, |m| m.max(idx)));
        }
        for (slot, idx) in std::mem::take(&mut self.damaged_chunks) {
            next_slot = next_slot.max(slot.saturating_add(1));
            if let Some(sd) = self.record.sources.values_mut().find(|sd| sd.slot == slot) {
                sd.max_chunk = Some(sd.max_chunk.map_or(idx, |m| m.max(idx)));
            }
        }
        self.record.next_slot = next_slot;
        (self.record, self.errors)
    }
}

// ------------------------------------------------------------------------- Record API

impl Record {
    /// Loads a record from its segments (name, decrypted bytes). A segment that cannot be
    /// decoded is reported by name and the rest loads; see the module docs on damaged segments.
    /// Segments are processed one at a time, so an iterator that yields owned buffers lets each
    /// be freed before the next is decoded.
    pub fn load<N, B, I>(segments: I) -> (Record, Vec<SegmentLoadError>)
    where
        I: IntoIterator<Item = (N, B)>,
        N: AsRef<str>,
        B: AsRef<[u8]>,
    {
        Record::load_results(
            segments
                .into_iter()
                .map(|(n, b)| (n, Ok::<B, std::convert::Infallible>(b))),
        )
    }

    /// Like [`Record::load`], for segments the vault may have failed to read (e.g. the map from
    /// `phr_vault::Vault::read_all`). Pass every segment the vault has: a failed one is reported
    /// and protected from being overwritten.
    pub fn load_results<N, B, E, I>(segments: I) -> (Record, Vec<SegmentLoadError>)
    where
        I: IntoIterator<Item = (N, std::result::Result<B, E>)>,
        N: AsRef<str>,
        B: AsRef<[u8]>,
        E: std::fmt::Display,
    {
        let mut loader = Loader::default();
        for (name, result) in segments {
            let name = name.as_ref();
            loader.record.save.persisted.insert(name.into());
            match result {
                Ok(bytes) => loader.segment(name, bytes.as_ref()),
                Err(e) => loader.fail(name, SegmentProblem::Unreadable(e.to_string())),
            }
        }
        loader.finish()
    }

    /// Segments that could not be loaded and are protected from being overwritten.
    pub fn damaged_segments(&self) -> impl Iterator<Item = &str> {
        self.save.damaged.iter().map(String::as_str)
    }

    /// The segments changed since the last save (exactly those to rewrite).
    pub fn dirty_segments(&self) -> Vec<String> {
        self.save.dirty.keys().cloned().collect()
    }

    /// Segments in storage that no longer exist in the record (to delete).
    pub fn deleted_segments(&self) -> Vec<String> {
        self.save
            .deleted
            .keys()
            .filter(|n| self.save.persisted.contains(*n))
            .cloned()
            .collect()
    }

    /// What to write and delete now. Encode the `write` segments before making further changes.
    pub fn pending_save(&self) -> SavePlan {
        SavePlan {
            write: self.dirty_segments(),
            delete: self.deleted_segments(),
            seq: self.save.seq,
        }
    }

    /// Records that `plan` was saved. Segments changed again after the plan was taken stay
    /// dirty.
    pub fn mark_saved(&mut self, plan: &SavePlan) {
        let s = &mut self.save;
        for name in &plan.write {
            s.persisted.insert(name.clone());
            if s.dirty.get(name).is_some_and(|q| *q <= plan.seq) {
                s.dirty.remove(name);
            }
        }
        for name in &plan.delete {
            s.persisted.remove(name);
        }
        let seq = plan.seq;
        let persisted = &s.persisted;
        s.deleted
            .retain(|name, q| *q > seq || persisted.contains(name));
    }

    /// Every segment the record has now (for a first save or a full rewrite).
    pub fn segment_names(&self) -> Vec<String> {
        let mut names: Vec<String> = FIXED.iter().map(|s| s.to_string()).collect();
        names.extend(self.docs.keys().map(|d| doc_name(d)));
        for sd in self.sources.values() {
            names.extend(sd.chunks.keys().map(|i| chunk_name(sd.slot, *i)));
        }
        names.retain(|n| !self.save.damaged.contains(n));
        names.sort();
        names
    }

    /// Marks every segment dirty (e.g. to write a fresh vault from a record built in memory).
    pub fn mark_all_dirty(&mut self) {
        for n in self.segment_names() {
            self.save.mark_dirty(&n);
        }
    }

    /// The plaintext of one segment (versioned JSON; resources embedded byte-exactly).
    pub fn encode_segment(&self, name: &str) -> Result<Vec<u8>> {
        let unknown = || RecordError::UnknownSegment { name: name.into() };
        if self.save.damaged.contains(name) {
            return Err(RecordError::DamagedSegment {
                segment: name.into(),
            });
        }
        let v = SEGMENT_FORMAT_VERSION;
        Ok(match parse_name(name).ok_or_else(unknown)? {
            SegmentName::Fixed(META_SOURCES) => to_vec(&SourcesForm {
                v,
                next_slot: self.next_slot,
                sources: {
                    let mut s: Vec<SlotForm> = self
                        .sources
                        .iter()
                        .map(|(id, sd)| SlotForm {
                            slot: sd.slot,
                            id: id.clone(),
                            source: sd.meta.clone(),
                        })
                        .collect();
                    s.sort_by_key(|f| f.slot);
                    s
                },
            }),
            SegmentName::Fixed(META_HIDDEN) => to_vec(&HiddenForm {
                v,
                hidden: self
                    .hidden
                    .iter()
                    .map(|(k, at)| HiddenItem {
                        item: k.clone(),
                        at: at.clone(),
                    })
                    .collect(),
            }),
            SegmentName::Fixed(META_LABELS) => to_vec(&LabelsForm {
                v,
                changes: self.label_changes.clone(),
            }),
            SegmentName::Fixed(APP_SETTINGS) => to_vec(&SettingsForm {
                v,
                settings: self.settings.clone(),
            }),
            SegmentName::Fixed(APP_SHARE_LOG) => to_vec(&ShareLogForm {
                v,
                entries: self.share_log.clone(),
            }),
            SegmentName::Fixed(APP_CONSENTS) => to_vec(&ConsentsOut {
                v,
                consents: self.consents.values().map(Resource::raw_value).collect(),
            }),
            SegmentName::Fixed(_) => return Err(unknown()),
            SegmentName::Doc(d) => to_vec(&DocOut {
                v,
                doc: self.docs.get(&d).ok_or_else(unknown)?,
            }),
            SegmentName::Chunk { slot, idx } => {
                let (id, sd) = self
                    .sources
                    .iter()
                    .find(|(_, sd)| sd.slot == slot)
                    .ok_or_else(unknown)?;
                let chunk = sd.chunks.get(&idx).ok_or_else(unknown)?;
                encode_chunk(id, &sd.entries, chunk)
            }
        })
    }
}

fn encode_chunk(id: &SourceId, entries: &HashMap<ResourceKey, Entry>, chunk: &Chunk) -> Vec<u8> {
    // Size the buffer from the parts so it is not over-allocated (a doubling Vec would hold
    // up to twice the segment size while the shell encrypts it).
    let estimate: usize = chunk
        .members
        .iter()
        .filter_map(|k| entries.get(k).map(|e| (k, e)))
        .map(|(k, e)| {
            64 + k.resource_type().len()
                + k.id().map_or(64, str::len)
                + e.fetched_at().len()
                + e.request().len()
                + e.updated_at().map_or(0, str::len)
                + match e.status() {
                    EntryStatus::GoneAtSource { noticed_at } => noticed_at.len() + 8,
                    EntryStatus::Current => 0,
                }
                + e.resource().raw().len()
                + e.authored_provenance().map_or(0, |p| p.raw().len() + 8)
        })
        .sum::<usize>()
        + id.as_str().len()
        + 64;
    let mut out = Vec::with_capacity(estimate);
    let form = ChunkOut {
        v: SEGMENT_FORMAT_VERSION,
        source: id.as_str(),
        entries: chunk
            .members
            .iter()
            .filter_map(|k| entries.get(k).map(|e| (k, e)))
            .map(|(k, e)| EntryOut {
                t: k.resource_type(),
                id: k.id(),
                h: match k.local() {
                    LocalId::Content(h) => Some(crate::ids::hex(h)),
                    LocalId::Id(_) => None,
                },
                f: e.fetched_at(),
                q: e.request(),
                u: e.updated_at(),
                g: match e.status() {
                    EntryStatus::GoneAtSource { noticed_at } => Some(noticed_at),
                    EntryStatus::Current => None,
                },
                r: e.resource().raw_value(),
                pv: e.authored_provenance().map(Resource::raw_value),
            })
            .collect(),
    };
    // Writing plain structs into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut out, &form);
    if out.capacity() > out.len() + out.len() / 8 {
        out.shrink_to_fit();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_follow_vault_rules() {
        for n in ["res.0.0", "res.12.3", "meta.sources", "app.doc.connections"] {
            assert!(parse_name(n).is_some(), "{n}");
            assert!(n.len() <= 64);
            assert!(n
                .bytes()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || b"._-".contains(&c)));
        }
        for n in [
            "res.01.0",
            "res.0",
            "res.a.b",
            "app.doc.",
            "app.doc.X",
            "manifest",
            "res.0.0.0",
        ] {
            assert!(parse_name(n).is_none(), "{n}");
        }
        assert_eq!(chunk_name(3, 14), "res.3.14");
        assert_eq!(
            parse_name("res.3.14"),
            Some(SegmentName::Chunk { slot: 3, idx: 14 })
        );
    }
}
