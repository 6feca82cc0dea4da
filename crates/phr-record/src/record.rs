//! The record: every entry from every source, with provenance, plus the patient's hidden set,
//! label overrides and app data.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use phr_fhir::Resource;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::app::{is_app_doc_name, Settings, ShareLogEntry};
use crate::error::{invalid, RecordError, Result};
use crate::key::{EntryKey, ResourceKey};
use crate::patient::{Activity, Authored};
use crate::segments::{self, SaveState};
use crate::source::{Source, SourceId};
use crate::time::check_instant;

/// At most this many resources go into one storage segment. At about 2 KB per resource a full
/// chunk is about 1 MB of plaintext: small enough that a save after a sync re-encrypts little,
/// large enough that 20,000 resources make only 40 segments.
pub const CHUNK_MAX_ENTRIES: usize = 500;

/// A chunk stops taking new resources once it holds this many bytes of resource JSON (a soft
/// limit: one resource larger than this gets a chunk of its own).
pub const CHUNK_SOFT_MAX_BYTES: usize = 2 * 1024 * 1024;

/// The `request` recorded for the patient's own entries.
pub const PATIENT_REQUEST: &str = "entered by the patient in this app";

/// Whether an entry is still returned by its source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EntryStatus {
    /// Returned by the last sync that covered it (or never re-checked).
    Current,
    /// A full sync did not return it. It is kept (the record never deletes what a provider
    /// sent); it becomes current again if a later sync returns it.
    GoneAtSource { noticed_at: String },
}

impl EntryStatus {
    pub fn is_gone(&self) -> bool {
        matches!(self, EntryStatus::GoneAtSource { .. })
    }
}

/// One stored resource with its provenance. Imported resources are never edited: the
/// [`Resource`] keeps the bytes it arrived with.
#[derive(Clone)]
pub struct Entry {
    pub(crate) resource: Resource,
    pub(crate) fetched_at: Box<str>,
    pub(crate) request: Box<str>,
    pub(crate) updated_at: Option<Box<str>>,
    pub(crate) status: EntryStatus,
    pub(crate) authored: Option<Resource>,
    pub(crate) chunk: u32,
}

impl std::fmt::Debug for Entry {
    // Omits the request URL (it can name the patient and the codes searched for); the resource
    // prints without its content.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Entry")
            .field("resource", &self.resource)
            .field("fetched_at", &self.fetched_at)
            .field("updated_at", &self.updated_at)
            .field("status", &self.status)
            .field("chunk", &self.chunk)
            .finish_non_exhaustive()
    }
}

impl Entry {
    /// The resource, byte for byte as it arrived (or as the patient's builder made it).
    pub fn resource(&self) -> &Resource {
        &self.resource
    }

    /// When the resource was first fetched (or entered), RFC 3339.
    pub fn fetched_at(&self) -> &str {
        &self.fetched_at
    }

    /// The request the current bytes came from: a URL, a file name, or [`PATIENT_REQUEST`].
    pub fn request(&self) -> &str {
        &self.request
    }

    /// When the bytes were last replaced by a changed version (or edited by the patient).
    pub fn updated_at(&self) -> Option<&str> {
        self.updated_at.as_deref()
    }

    /// When the current bytes were obtained: `updated_at`, else `fetched_at`.
    pub fn current_since(&self) -> &str {
        self.updated_at().unwrap_or(self.fetched_at())
    }

    pub fn status(&self) -> &EntryStatus {
        &self.status
    }

    /// For the patient's own entries: the Provenance recording the patient as author.
    pub fn authored_provenance(&self) -> Option<&Resource> {
        self.authored.as_ref()
    }
}

/// What an import changed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MergeOutcome {
    /// New entries.
    pub added: usize,
    /// Entries whose bytes changed and were replaced.
    pub updated: usize,
    /// Entries that arrived with identical bytes (nothing stored changed).
    pub unchanged: usize,
    /// Of the updated and unchanged ones, how many had been flagged gone at source and are
    /// current again.
    pub returned: usize,
    /// The key of every resource in the batch, for the full-sync seen set.
    pub seen: Vec<ResourceKey>,
}

/// Which resource types a full sync fully covered. Entries of other types are not judged (a
/// sync whose Observation query failed must not flag every Observation as gone).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SyncCoverage {
    AllTypes,
    Types(BTreeSet<String>),
}

impl SyncCoverage {
    fn covers(&self, resource_type: &str) -> bool {
        match self {
            SyncCoverage::AllTypes => true,
            SyncCoverage::Types(t) => t.contains(resource_type),
        }
    }
}

/// What a full sync's end changed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FullSyncOutcome {
    /// Entries newly flagged gone at source.
    pub flagged_gone: usize,
    /// Entries that were gone and are current again.
    pub returned: usize,
    /// Entries that were gone before and still are.
    pub still_gone: usize,
}

/// A security label (DS4P) the patient added to or removed from an item.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct SecurityLabel {
    pub system: String,
    pub code: String,
}

/// Whether the patient added or removed a label.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LabelAction {
    Add,
    Remove,
}

/// One entry of the label audit list: what, which item, when.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabelChange {
    pub at: String,
    pub item: EntryKey,
    pub label: SecurityLabel,
    pub action: LabelAction,
}

/// The net effect of the patient's label changes on one item (the last change per label wins).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LabelOverrides {
    pub added: Vec<SecurityLabel>,
    pub removed: Vec<SecurityLabel>,
}

/// Whether [`Record::put_patient_item`] added or replaced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PutOutcome {
    Added,
    Replaced,
}

#[derive(Clone, Debug, Default)]
pub(crate) struct Chunk {
    pub members: Vec<ResourceKey>,
    pub bytes: usize,
}

#[derive(Clone, Debug)]
pub(crate) struct SourceData {
    pub meta: Option<Source>,
    pub slot: u32,
    pub entries: HashMap<ResourceKey, Entry>,
    pub chunks: BTreeMap<u32, Chunk>,
    /// Highest chunk index ever seen for this slot (including damaged segments), so that a new
    /// chunk never reuses the name of one still in storage.
    pub max_chunk: Option<u32>,
}

impl SourceData {
    pub(crate) fn new(meta: Option<Source>, slot: u32) -> SourceData {
        SourceData {
            meta,
            slot,
            entries: HashMap::new(),
            chunks: BTreeMap::new(),
            max_chunk: None,
        }
    }

    /// Picks the chunk for a new entry of `bytes` bytes: the newest chunk if it has room.
    fn place(&mut self, bytes: usize) -> u32 {
        if let Some((&idx, c)) = self.chunks.last_key_value() {
            let room = c.members.len() < CHUNK_MAX_ENTRIES
                && (c.members.is_empty() || c.bytes + bytes <= CHUNK_SOFT_MAX_BYTES);
            if Some(idx) == self.max_chunk && room {
                return idx;
            }
        }
        let idx = self.max_chunk.map_or(0, |m| m + 1);
        self.max_chunk = Some(idx);
        self.chunks.insert(idx, Chunk::default());
        idx
    }

    /// Adds a new entry (the key must not exist); returns its chunk.
    pub(crate) fn insert_new(&mut self, key: ResourceKey, mut entry: Entry) -> u32 {
        let bytes = entry.resource.raw().len();
        let idx = self.place(bytes);
        entry.chunk = idx;
        let chunk = self.chunks.get_mut(&idx).expect("placed chunk exists");
        chunk.members.push(key.clone());
        chunk.bytes += bytes;
        self.entries.insert(key, entry);
        idx
    }

    /// Removes an entry; returns it and whether its chunk became empty (and was dropped).
    fn remove(&mut self, key: &ResourceKey) -> Option<(Entry, bool)> {
        let entry = self.entries.remove(key)?;
        let mut emptied = false;
        if let Some(c) = self.chunks.get_mut(&entry.chunk) {
            c.members.retain(|k| k != key);
            c.bytes = c.bytes.saturating_sub(entry.resource.raw().len());
            if c.members.is_empty() {
                self.chunks.remove(&entry.chunk);
                emptied = true;
            }
        }
        Some((entry, emptied))
    }

    /// Entries in storage order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&ResourceKey, &Entry)> {
        self.chunks
            .values()
            .flat_map(|c| c.members.iter())
            .filter_map(|k| self.entries.get(k).map(|e| (k, e)))
    }
}

/// The patient's record. See the crate documentation for how it is stored.
#[derive(Clone, Default)]
pub struct Record {
    pub(crate) sources: BTreeMap<SourceId, SourceData>,
    pub(crate) next_slot: u32,
    pub(crate) hidden: BTreeMap<EntryKey, String>,
    pub(crate) label_changes: Vec<LabelChange>,
    pub(crate) settings: Settings,
    pub(crate) share_log: Vec<ShareLogEntry>,
    pub(crate) consents: BTreeMap<String, Resource>,
    pub(crate) docs: BTreeMap<String, Box<RawValue>>,
    pub(crate) save: SaveState,
}

impl std::fmt::Debug for Record {
    // Counts only: the record holds health data, tokens (app documents) and contacts, and Debug
    // output ends up in logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Record")
            .field("sources", &self.sources.len())
            .field("entries", &self.len())
            .field("hidden", &self.hidden.len())
            .field("label_changes", &self.label_changes.len())
            .field("app_docs", &self.docs.len())
            .field("dirty", &self.save.dirty_count())
            .finish_non_exhaustive()
    }
}

/// Trims JSON whitespace around a resource's text. It is outside the JSON value, so this changes
/// no content; it makes the stored bytes exactly those that embedding reproduces.
fn without_outer_whitespace(r: Resource) -> Resource {
    let ws: &[char] = &[' ', '\t', '\n', '\r'];
    let raw = r.raw();
    let trimmed = raw.trim_matches(ws);
    if trimmed.len() == raw.len() {
        return r;
    }
    Resource::from_json(trimmed).unwrap_or(r)
}

impl Record {
    /// An empty record (a new vault). Nothing is dirty until something is added.
    pub fn new() -> Record {
        Record::default()
    }

    // ---------------------------------------------------------------- sources

    /// Adds a source. Its id must be new.
    pub fn add_source(&mut self, source: Source) -> Result<()> {
        source.check_consistent()?;
        self.save.check_writable(segments::META_SOURCES)?;
        if let Some(sd) = self.sources.get_mut(&source.id) {
            if sd.meta.is_some() {
                return Err(RecordError::SourceExists {
                    source_id: source.id.to_string(),
                });
            }
            // Entries were loaded for a source whose details were lost: restore the details.
            sd.meta = Some(source);
        } else {
            let slot = self.next_slot;
            self.next_slot += 1;
            self.sources
                .insert(source.id.clone(), SourceData::new(Some(source), slot));
        }
        self.save.mark_dirty(segments::META_SOURCES);
        Ok(())
    }

    /// Updates an existing source's details (a provider renamed, a new FHIR base). The kind must
    /// stay the same; the sync times and `added_at` are kept from the stored source.
    pub fn update_source(&mut self, source: Source) -> Result<()> {
        source.check_consistent()?;
        self.save.check_writable(segments::META_SOURCES)?;
        let sd = self
            .sources
            .get_mut(&source.id)
            .ok_or_else(|| RecordError::UnknownSource {
                source_id: source.id.to_string(),
            })?;
        let mut source = source;
        if let Some(old) = &sd.meta {
            source.added_at = old.added_at.clone();
            source.last_sync_at = old.last_sync_at.clone();
            source.last_full_sync_at = old.last_full_sync_at.clone();
        }
        sd.meta = Some(source);
        self.save.mark_dirty(segments::META_SOURCES);
        Ok(())
    }

    /// Removes a source and every entry from it (the patient disconnected a provider or removed
    /// an imported file, and asked for its data to go). Returns how many entries were removed.
    /// The patient's own source cannot be removed this way: delete items one by one.
    pub fn remove_source(&mut self, id: &SourceId) -> Result<usize> {
        if id.is_patient() {
            return Err(RecordError::WrongSourceKind {
                detail: "your own entries are deleted one by one, not as a source",
            });
        }
        self.save.check_writable(segments::META_SOURCES)?;
        let hidden_hit = self.hidden.keys().any(|k| &k.source == id);
        if hidden_hit {
            self.save.check_writable(segments::META_HIDDEN)?;
        }
        let sd = self
            .sources
            .remove(id)
            .ok_or_else(|| RecordError::UnknownSource {
                source_id: id.to_string(),
            })?;
        for idx in sd.chunks.keys() {
            self.save.mark_deleted(&segments::chunk_name(sd.slot, *idx));
        }
        if hidden_hit {
            self.hidden.retain(|k, _| &k.source != id);
            self.save.mark_dirty(segments::META_HIDDEN);
        }
        self.save.mark_dirty(segments::META_SOURCES);
        Ok(sd.entries.len())
    }

    /// A source's details.
    pub fn source(&self, id: &SourceId) -> Option<&Source> {
        self.sources.get(id).and_then(|sd| sd.meta.as_ref())
    }

    /// All sources with known details, by id.
    pub fn sources(&self) -> impl Iterator<Item = &Source> {
        self.sources.values().filter_map(|sd| sd.meta.as_ref())
    }

    /// Ids of sources that have entries but whose details could not be loaded.
    pub fn sources_without_details(&self) -> impl Iterator<Item = &SourceId> {
        self.sources
            .iter()
            .filter(|(_, sd)| sd.meta.is_none())
            .map(|(id, _)| id)
    }

    // ---------------------------------------------------------------- merge

    fn import_source_mut(&mut self, source: &SourceId) -> Result<&mut SourceData> {
        if source.is_patient() {
            return Err(RecordError::WrongSourceKind {
                detail: "your own entries are added with the entry forms, not imported",
            });
        }
        self.sources
            .get_mut(source)
            .ok_or_else(|| RecordError::UnknownSource {
                source_id: source.to_string(),
            })
    }

    /// Merges fetched resources into a source: new keys are added; a key seen before with
    /// identical bytes is left untouched (no duplicate, nothing to save); changed bytes replace
    /// the stored ones and set the entry's `updated_at`. An entry flagged gone at source becomes
    /// current again. Each item is `(resource, request it came from)`.
    pub fn apply_import<I>(
        &mut self,
        source: &SourceId,
        items: I,
        fetched_at: &str,
    ) -> Result<MergeOutcome>
    where
        I: IntoIterator<Item = (Resource, String)>,
    {
        check_instant("The fetch time", fetched_at)?;
        let slot;
        let mut touched = BTreeSet::new();
        let mut out = MergeOutcome::default();
        {
            let sd = self.import_source_mut(source)?;
            slot = sd.slot;
            let items = items.into_iter();
            // One allocation of the final table instead of a doubling series (a large file would
            // otherwise hold the old and the new table at once while it grows).
            sd.entries.reserve(items.size_hint().0);
            for (resource, request) in items {
                let resource = without_outer_whitespace(resource);
                let key = ResourceKey::of(&resource);
                out.seen.push(key.clone());
                if let Some(e) = sd.entries.get_mut(&key) {
                    let was_gone = e.status.is_gone();
                    if e.resource.raw() == resource.raw() {
                        out.unchanged += 1;
                        if was_gone {
                            e.status = EntryStatus::Current;
                            out.returned += 1;
                            touched.insert(e.chunk);
                        }
                        continue;
                    }
                    let (old_len, new_len) = (e.resource.raw().len(), resource.raw().len());
                    e.resource = resource;
                    e.request = request.into();
                    e.updated_at = Some(fetched_at.into());
                    e.status = EntryStatus::Current;
                    out.updated += 1;
                    out.returned += usize::from(was_gone);
                    let chunk = e.chunk;
                    touched.insert(chunk);
                    if let Some(c) = sd.chunks.get_mut(&chunk) {
                        c.bytes = c.bytes - old_len.min(c.bytes) + new_len;
                    }
                } else {
                    let entry = Entry {
                        resource,
                        fetched_at: fetched_at.into(),
                        request: request.into(),
                        updated_at: None,
                        status: EntryStatus::Current,
                        authored: None,
                        chunk: 0,
                    };
                    touched.insert(sd.insert_new(key, entry));
                    out.added += 1;
                }
            }
        }
        for idx in touched {
            self.save.mark_dirty(&segments::chunk_name(slot, idx));
        }
        Ok(out)
    }

    /// Ends a full sync: entries of covered types whose keys are not in `seen` are flagged
    /// [`EntryStatus::GoneAtSource`] (kept, never deleted); seen entries that were gone become
    /// current. Records the sync time on the source. Never call this after an incremental sync
    /// (those simply don't flag anything) or after a sync that failed part-way.
    pub fn finish_full_sync(
        &mut self,
        source: &SourceId,
        seen: &HashSet<ResourceKey>,
        coverage: &SyncCoverage,
        now: &str,
    ) -> Result<FullSyncOutcome> {
        check_instant("The sync time", now)?;
        self.save.check_writable(segments::META_SOURCES)?;
        let mut out = FullSyncOutcome::default();
        let mut touched = BTreeSet::new();
        let sd = self.import_source_mut(source)?;
        for (key, e) in sd.entries.iter_mut() {
            if !coverage.covers(key.resource_type()) {
                continue;
            }
            match (seen.contains(key), e.status.is_gone()) {
                (true, true) => {
                    e.status = EntryStatus::Current;
                    out.returned += 1;
                    touched.insert(e.chunk);
                }
                (false, false) => {
                    e.status = EntryStatus::GoneAtSource {
                        noticed_at: now.into(),
                    };
                    out.flagged_gone += 1;
                    touched.insert(e.chunk);
                }
                (false, true) => out.still_gone += 1,
                (true, false) => {}
            }
        }
        let slot = sd.slot;
        let has_meta = if let Some(m) = sd.meta.as_mut() {
            m.last_sync_at = Some(now.into());
            m.last_full_sync_at = Some(now.into());
            true
        } else {
            false
        };
        for idx in touched {
            self.save.mark_dirty(&segments::chunk_name(slot, idx));
        }
        if has_meta {
            self.save.mark_dirty(segments::META_SOURCES);
        }
        Ok(out)
    }

    /// Ends an incremental sync: records the time; flags nothing.
    pub fn finish_incremental_sync(&mut self, source: &SourceId, now: &str) -> Result<()> {
        check_instant("The sync time", now)?;
        self.save.check_writable(segments::META_SOURCES)?;
        let sd = self.import_source_mut(source)?;
        if let Some(m) = sd.meta.as_mut() {
            m.last_sync_at = Some(now.into());
            self.save.mark_dirty(segments::META_SOURCES);
        }
        Ok(())
    }

    // ---------------------------------------------------------------- reading

    /// One entry.
    pub fn get(&self, key: &EntryKey) -> Option<&Entry> {
        self.sources.get(&key.source)?.entries.get(&key.resource)
    }

    /// Every entry, by source id, then in storage order.
    pub fn entries(&self) -> impl Iterator<Item = (&SourceId, &ResourceKey, &Entry)> {
        self.sources
            .iter()
            .flat_map(|(sid, sd)| sd.iter().map(move |(k, e)| (sid, k, e)))
    }

    /// The entries of one source, in storage order.
    pub fn source_entries<'a>(
        &'a self,
        source: &SourceId,
    ) -> impl Iterator<Item = (&'a ResourceKey, &'a Entry)> + 'a {
        self.sources
            .get(source)
            .into_iter()
            .flat_map(|sd| sd.iter())
    }

    /// How many entries the record holds.
    pub fn len(&self) -> usize {
        self.sources.values().map(|sd| sd.entries.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The reference other resources use to point at an entry, and the fullUrl the export gives
    /// it: `<fhir_base>/<type>/<id>` for EHR items (unique across sources with different bases),
    /// `urn:uuid:<id>` for file and patient items whose id is a UUID, else a UUID derived from
    /// the key. Notes use this to point at the exact item, even when two providers use the same
    /// id.
    pub fn reference_to(&self, key: &EntryKey) -> Option<String> {
        let sd = self.sources.get(&key.source)?;
        sd.entries.get(&key.resource)?;
        Some(crate::export::canonical_url(
            &key.source,
            sd.meta.as_ref(),
            &key.resource,
        ))
    }

    // ---------------------------------------------------------------- patient items

    /// Stores one of the patient's own items (built by a builder in [`crate::patient`]). An
    /// [`Activity::Create`] item must be new; an [`Activity::Update`] item must exist and
    /// replaces it, Provenance included.
    pub fn put_patient_item(&mut self, item: Authored) -> Result<PutOutcome> {
        let patient = SourceId::patient();
        if !self.sources.contains_key(&patient) {
            self.save.check_writable(segments::META_SOURCES)?;
            let slot = self.next_slot;
            self.next_slot += 1;
            self.sources.insert(
                patient.clone(),
                SourceData::new(Some(Source::patient(&item.recorded)), slot),
            );
            self.save.mark_dirty(segments::META_SOURCES);
        }
        let sd = self.sources.get_mut(&patient).expect("inserted above");
        let key = ResourceKey::of(&item.resource);
        let slot = sd.slot;
        let (outcome, chunk) = match (sd.entries.get_mut(&key), item.activity) {
            (Some(_), Activity::Create) => return Err(RecordError::AlreadyExists),
            (None, Activity::Update) => {
                return Err(RecordError::NotFound {
                    what: format!("{} of yours", key.resource_type()),
                })
            }
            (Some(e), Activity::Update) => {
                let (old_len, new_len) = (e.resource.raw().len(), item.resource.raw().len());
                e.resource = item.resource;
                e.authored = Some(item.provenance);
                e.updated_at = Some(item.recorded.into());
                let chunk = e.chunk;
                if let Some(c) = sd.chunks.get_mut(&chunk) {
                    c.bytes = c.bytes - old_len.min(c.bytes) + new_len;
                }
                (PutOutcome::Replaced, chunk)
            }
            (None, Activity::Create) => {
                let entry = Entry {
                    resource: item.resource,
                    fetched_at: item.recorded.into(),
                    request: PATIENT_REQUEST.into(),
                    updated_at: None,
                    status: EntryStatus::Current,
                    authored: Some(item.provenance),
                    chunk: 0,
                };
                (PutOutcome::Added, sd.insert_new(key, entry))
            }
        };
        self.save.mark_dirty(&segments::chunk_name(slot, chunk));
        Ok(outcome)
    }

    /// Deletes one of the patient's own items (with its Provenance). Items from a provider or a
    /// file can't be deleted: hide them instead.
    pub fn delete_patient_item(&mut self, key: &EntryKey) -> Result<Entry> {
        if !key.source.is_patient() {
            return Err(RecordError::NotPatientEntered);
        }
        let hidden = self.hidden.contains_key(key);
        if hidden {
            self.save.check_writable(segments::META_HIDDEN)?;
        }
        let sd = self
            .sources
            .get_mut(&key.source)
            .ok_or_else(|| RecordError::NotFound {
                what: "item".into(),
            })?;
        let slot = sd.slot;
        let (entry, emptied) = sd
            .remove(&key.resource)
            .ok_or_else(|| RecordError::NotFound {
                what: "item".into(),
            })?;
        let name = segments::chunk_name(slot, entry.chunk);
        if emptied {
            self.save.mark_deleted(&name);
        } else {
            self.save.mark_dirty(&name);
        }
        if hidden {
            self.hidden.remove(key);
            self.save.mark_dirty(segments::META_HIDDEN);
        }
        Ok(entry)
    }

    // ---------------------------------------------------------------- hiding

    /// Hides an item from the patient's views (reversible; the item is untouched). Returns false
    /// if it was already hidden.
    pub fn hide(&mut self, key: &EntryKey, now: &str) -> Result<bool> {
        check_instant("The time", now)?;
        self.save.check_writable(segments::META_HIDDEN)?;
        if self.get(key).is_none() {
            return Err(RecordError::NotFound {
                what: "item".into(),
            });
        }
        if self.hidden.contains_key(key) {
            return Ok(false);
        }
        self.hidden.insert(key.clone(), now.into());
        self.save.mark_dirty(segments::META_HIDDEN);
        Ok(true)
    }

    /// Shows a hidden item again. Returns false if it was not hidden.
    pub fn unhide(&mut self, key: &EntryKey) -> Result<bool> {
        self.save.check_writable(segments::META_HIDDEN)?;
        if self.hidden.remove(key).is_none() {
            return Ok(false);
        }
        self.save.mark_dirty(segments::META_HIDDEN);
        Ok(true)
    }

    pub fn is_hidden(&self, key: &EntryKey) -> bool {
        self.hidden.contains_key(key)
    }

    /// Hidden items with the time each was hidden.
    pub fn hidden(&self) -> impl Iterator<Item = (&EntryKey, &str)> {
        self.hidden.iter().map(|(k, t)| (k, t.as_str()))
    }

    // ---------------------------------------------------------------- labels

    /// Records that the patient added or removed a sensitivity label on an item. The labels
    /// themselves are computed elsewhere; this is the audit list of overrides.
    pub fn change_label(
        &mut self,
        item: &EntryKey,
        label: SecurityLabel,
        action: LabelAction,
        at: &str,
    ) -> Result<()> {
        check_instant("The time", at)?;
        self.save.check_writable(segments::META_LABELS)?;
        if label.system.is_empty() || label.code.is_empty() {
            return Err(invalid("The label", "needs a system and a code"));
        }
        if self.get(item).is_none() {
            return Err(RecordError::NotFound {
                what: "item".into(),
            });
        }
        self.label_changes.push(LabelChange {
            at: at.into(),
            item: item.clone(),
            label,
            action,
        });
        self.save.mark_dirty(segments::META_LABELS);
        Ok(())
    }

    /// Every label change, oldest first.
    pub fn label_changes(&self) -> &[LabelChange] {
        &self.label_changes
    }

    /// The net overrides for one item.
    pub fn label_overrides(&self, item: &EntryKey) -> LabelOverrides {
        let mut last: BTreeMap<&SecurityLabel, LabelAction> = BTreeMap::new();
        for c in self.label_changes.iter().filter(|c| &c.item == item) {
            last.insert(&c.label, c.action);
        }
        let mut out = LabelOverrides::default();
        for (label, action) in last {
            match action {
                LabelAction::Add => out.added.push(label.clone()),
                LabelAction::Remove => out.removed.push(label.clone()),
            }
        }
        out
    }

    // ---------------------------------------------------------------- app data

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    pub fn set_settings(&mut self, settings: Settings) -> Result<()> {
        self.save.check_writable(segments::APP_SETTINGS)?;
        if settings != self.settings {
            self.settings = settings;
            self.save.mark_dirty(segments::APP_SETTINGS);
        }
        Ok(())
    }

    /// The share log, oldest first.
    pub fn share_log(&self) -> &[ShareLogEntry] {
        &self.share_log
    }

    /// Adds a share log entry, or replaces the one with the same id (e.g. to record a
    /// revocation).
    pub fn put_share_log_entry(&mut self, entry: ShareLogEntry) -> Result<()> {
        self.save.check_writable(segments::APP_SHARE_LOG)?;
        if entry.id.is_empty() {
            return Err(invalid("The share log entry", "needs an id"));
        }
        match self.share_log.iter_mut().find(|e| e.id == entry.id) {
            Some(e) => *e = entry,
            None => self.share_log.push(entry),
        }
        self.save.mark_dirty(segments::APP_SHARE_LOG);
        Ok(())
    }

    /// The patient's FHIR Consent resources, by id.
    pub fn consents(&self) -> impl Iterator<Item = &Resource> {
        self.consents.values()
    }

    /// Stores a FHIR Consent (replacing one with the same id).
    pub fn put_consent(&mut self, consent: Resource) -> Result<()> {
        self.save.check_writable(segments::APP_CONSENTS)?;
        if consent.resource_type() != "Consent" {
            return Err(invalid("The consent", "must be a FHIR Consent resource"));
        }
        let id = consent
            .id()
            .filter(|id| crate::ids::is_fhir_id(id))
            .ok_or_else(|| invalid("The consent", "needs a valid id"))?
            .to_string();
        let consent = without_outer_whitespace(consent);
        if self.consents.get(&id).map(Resource::raw) != Some(consent.raw()) {
            self.consents.insert(id, consent);
            self.save.mark_dirty(segments::APP_CONSENTS);
        }
        Ok(())
    }

    /// Removes a Consent; false if there was none with this id.
    pub fn remove_consent(&mut self, id: &str) -> Result<bool> {
        self.save.check_writable(segments::APP_CONSENTS)?;
        let removed = self.consents.remove(id).is_some();
        if removed {
            self.save.mark_dirty(segments::APP_CONSENTS);
        }
        Ok(removed)
    }

    /// An opaque app document (see [`crate::app::docs`]), as its JSON text.
    pub fn app_doc(&self, name: &str) -> Option<&RawValue> {
        self.docs.get(name).map(|b| &**b)
    }

    /// An app document read as `T`.
    pub fn app_doc_as<T: serde::de::DeserializeOwned>(&self, name: &str) -> Option<T> {
        serde_json::from_str(self.app_doc(name)?.get()).ok()
    }

    /// Stores an opaque app document. `name`: 1 to 32 of `a-z 0-9 -` (it becomes part of a
    /// storage segment name, so it must say nothing about the patient's health).
    pub fn set_app_doc<T: Serialize + ?Sized>(&mut self, name: &str, doc: &T) -> Result<()> {
        if !is_app_doc_name(name) {
            return Err(invalid(
                "The document name",
                "use 1 to 32 of a-z, 0-9 and '-', starting with a letter",
            ));
        }
        let seg = segments::doc_name(name);
        self.save.check_writable(&seg)?;
        let text = serde_json::to_string(doc)
            .map_err(|e| invalid("The document", format!("cannot be stored as JSON ({e})")))?;
        let raw = RawValue::from_string(text)
            .map_err(|e| invalid("The document", format!("is not JSON ({e})")))?;
        if self.docs.get(name).map(|r| r.get()) != Some(raw.get()) {
            self.docs.insert(name.into(), raw);
            self.save.mark_dirty(&seg);
        }
        Ok(())
    }

    /// Removes an app document; false if there was none.
    pub fn remove_app_doc(&mut self, name: &str) -> Result<bool> {
        let seg = segments::doc_name(name);
        self.save.check_writable(&seg)?;
        let removed = self.docs.remove(name).is_some();
        if removed {
            self.save.mark_deleted(&seg);
        }
        Ok(removed)
    }

    // ---------------------------------------------------------------- file import

    /// Imports a FHIR file (already parsed with `phr_fhir::parse_import`) as a File source.
    ///
    /// The source id is derived from the file's resources, so importing the same file again
    /// adds nothing (every resource is `unchanged`), while two different files never share a
    /// source even if they have the same name. Each entry's provenance records the file name and
    /// import time; the export states `file: <name>, imported at <time>`.
    pub fn import_file(
        &mut self,
        parsed: phr_fhir::ParsedImport,
        file_name: &str,
        imported_at: &str,
    ) -> Result<FileImport> {
        let (source_id, new_source) =
            self.begin_file_import(&parsed.resources, file_name, imported_at)?;
        let request = file_request(file_name);
        let merge = self.apply_import(
            &source_id,
            parsed.resources.into_iter().map(|r| (r, request.clone())),
            imported_at,
        )?;
        Ok(FileImport {
            source: source_id,
            new_source,
            merge,
            issues: parsed.issues,
        })
    }

    /// The first half of [`Record::import_file`], for a shell that merges a large file in parts
    /// (saving between them, so memory stays low and a crash loses little): checks the file is
    /// not empty, derives its source id from all its resources, and adds the source if it is
    /// new. Then call [`Record::apply_import`] with each part, each resource with
    /// [`file_request`]`(file_name)` as its request. Returns the source and whether it is new.
    pub fn begin_file_import(
        &mut self,
        resources: &[Resource],
        file_name: &str,
        imported_at: &str,
    ) -> Result<(SourceId, bool)> {
        check_instant("The import time", imported_at)?;
        if resources.is_empty() {
            return Err(RecordError::EmptyImport);
        }
        let mut h = sha2::Sha256::default();
        for r in resources {
            use sha2::Digest;
            let raw = without_ws(r.raw());
            h.update((raw.len() as u64).to_be_bytes());
            h.update(raw.as_bytes());
        }
        let digest: [u8; 32] = sha2::Digest::finalize(h).into();
        let source_id = SourceId::file(&crate::ids::hex(&digest[..16]))?;
        let new_source = !self.sources.contains_key(&source_id);
        if new_source {
            self.add_source(Source::file(
                source_id.as_str().trim_start_matches("file:"),
                file_request(file_name).as_str(),
                imported_at,
            )?)?;
        }
        Ok((source_id, new_source))
    }
}

/// The name an imported file's entries record as their request (and the file source's name).
pub fn file_request(file_name: &str) -> String {
    let name = file_name.trim();
    if name.is_empty() {
        "unnamed file".into()
    } else {
        name.into()
    }
}

fn without_ws(s: &str) -> &str {
    s.trim_matches(&[' ', '\t', '\n', '\r'][..])
}

/// The result of [`Record::import_file`].
#[derive(Clone, Debug)]
pub struct FileImport {
    pub source: SourceId,
    /// False when this exact file had been imported before.
    pub new_source: bool,
    pub merge: MergeOutcome,
    /// Entries of the file that could not be read (from `phr_fhir`), to show the patient.
    pub issues: Vec<phr_fhir::ImportIssue>,
}
