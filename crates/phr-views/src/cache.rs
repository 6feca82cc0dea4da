//! A compact, versioned binary form of the [`Index`], for the app's encrypted cache.
//!
//! # Key design decision: the index's own tables, written as they are
//!
//! Loading must be much cheaper than building, so the cache is not a re-parse of anything: it is
//! the index's tables written in order (varints for numbers, the text arena as one UTF-8 blob,
//! spans into it as offset/length pairs) and read back with bounds checks. Nothing is interned,
//! folded, grouped or sorted again.
//!
//! The bytes are trusted no more than any stored data: every length, span and cross-reference is
//! checked on load, so damaged, truncated or foreign bytes give an [`IndexCacheError`] (the app
//! then rebuilds from the record), never a panic and never an index that could panic later. A
//! checksum over the whole blob catches damage that would still be well-formed.
//!
//! Layout (version 2; version 1 had the same layout, but its search text left out the words of
//! the patient's own notes): `b"PHIX"`, version `u32` LE, the tables (see [`Index::to_bytes`]), then a
//! 64-bit checksum (LE) of everything before it. Bump [`INDEX_CACHE_VERSION`] whenever the layout
//! or the meaning of any field changes (including how the build derives what is stored); a test
//! freezes the bytes of a small index.

use crate::index::{
    Activity, AttachmentInfo, Category, CodeEntry, Component, Concept, ContactData, Extra, Group,
    Index, Interp, Item, ObsData, Qty, RefRange, SourceInfo, NO_EXTRA, NO_RANGE,
};
use crate::input::SourceKind;
use crate::text::{Arena, Span};
use crate::time::When;

/// The cache layout version [`Index::to_bytes`] writes and [`Index::from_bytes`] reads.
pub const INDEX_CACHE_VERSION: u32 = 2;

const MAGIC: &[u8; 4] = b"PHIX";

/// Why cached index bytes could not be used. In every case the app rebuilds the index from the
/// record; the record itself is not affected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IndexCacheError {
    /// Not a cached index at all (too short or wrong header).
    #[error("the saved search index is not in a format this app knows; it will be rebuilt from your record, which is not affected")]
    NotAnIndex,
    /// Written by a different version of the app.
    #[error("the saved search index was made by another version of the app (format {found}, this app reads {expected}); it will be rebuilt from your record, which is not affected")]
    Version { found: u32, expected: u32 },
    /// Damaged: checksum mismatch, truncated, or inconsistent tables.
    #[error("the saved search index is damaged ({detail}); it will be rebuilt from your record, which is not affected")]
    Corrupt { detail: &'static str },
}

fn corrupt(detail: &'static str) -> IndexCacheError {
    IndexCacheError::Corrupt { detail }
}

/// A fixed 64-bit checksum (word-at-a-time multiply-rotate with a final mix). Any change confined
/// to one aligned 8-byte word always changes it; it guards against accidental damage (the vault's
/// AES-GCM already authenticates the stored segment).
fn checksum(b: &[u8]) -> u64 {
    const K: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut h: u64 = 0x5048_4958_0000_0001 ^ (b.len() as u64).wrapping_mul(K);
    let mut chunks = b.chunks_exact(8);
    for c in &mut chunks {
        let w = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        h = (h ^ w).wrapping_mul(K).rotate_left(29);
    }
    let mut last = [0u8; 8];
    let rest = chunks.remainder();
    last[..rest.len()].copy_from_slice(rest);
    h = (h ^ u64::from_le_bytes(last))
        .wrapping_mul(K)
        .rotate_left(29);
    h ^= h >> 33;
    h = h.wrapping_mul(0xFF51_AFD7_ED55_8CCD);
    h ^= h >> 33;
    h = h.wrapping_mul(0xC4CE_B9FE_1A85_EC53);
    h ^ (h >> 33)
}

struct W(Vec<u8>);

impl W {
    fn u(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.0.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.0.push(v as u8);
    }

    fn u32(&mut self, v: u32) {
        self.u(u64::from(v));
    }

    fn len(&mut self, n: usize) {
        self.u(n as u64);
    }

    fn i(&mut self, v: i64) {
        self.u(((v << 1) ^ (v >> 63)) as u64);
    }

    fn byte(&mut self, b: u8) {
        self.0.push(b);
    }

    fn f64(&mut self, v: f64) {
        self.0.extend_from_slice(&v.to_bits().to_le_bytes());
    }

    fn str(&mut self, s: &str) {
        self.len(s.len());
        self.0.extend_from_slice(s.as_bytes());
    }

    fn opt_str(&mut self, s: &Option<String>) {
        match s {
            None => self.byte(0),
            Some(s) => {
                self.byte(1);
                self.str(s);
            }
        }
    }

    fn span(&mut self, s: Span) {
        self.u32(s.start());
        self.u32(s.len());
    }

    /// `u32::MAX` sentinels are written as 0, others shifted by one.
    fn opt_idx(&mut self, v: u32) {
        self.u(if v == u32::MAX { 0 } else { u64::from(v) + 1 });
    }

    fn when(&mut self, w: Option<When>) {
        match w {
            None => self.byte(0),
            Some(w) => {
                let (utc, off, p) = w.to_parts();
                self.byte(1 + p);
                self.i(utc);
                self.i(i64::from(off));
            }
        }
    }

    fn qty(&mut self, q: &Qty) {
        self.f64(q.value);
        self.span(q.text);
        self.span(q.unit);
        self.span(q.label);
        self.span(q.comparator);
    }

    fn opt_qty(&mut self, q: &Option<Qty>) {
        match q {
            None => self.byte(0),
            Some(q) => {
                self.byte(1);
                self.qty(q);
            }
        }
    }

    fn code(&mut self, c: &CodeEntry) {
        self.u32(u32::from(c.system));
        self.span(c.code);
        self.span(c.display);
    }

    fn codes(&mut self, cs: &[CodeEntry]) {
        self.len(cs.len());
        for c in cs {
            self.code(c);
        }
    }

    fn idx_list(&mut self, v: &[u32]) {
        self.len(v.len());
        for &x in v {
            self.u32(x);
        }
    }
}

struct R<'b> {
    b: &'b [u8],
    at: usize,
}

type Res<T> = Result<T, IndexCacheError>;

impl<'b> R<'b> {
    fn byte(&mut self) -> Res<u8> {
        let v = *self.b.get(self.at).ok_or(corrupt("truncated"))?;
        self.at += 1;
        Ok(v)
    }

    fn u(&mut self) -> Res<u64> {
        let mut v: u64 = 0;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            v |= u64::from(b & 0x7F) << shift;
            if b & 0x80 == 0 {
                if shift == 63 && b > 1 {
                    break;
                }
                return Ok(v);
            }
        }
        Err(corrupt("bad number"))
    }

    fn u32(&mut self) -> Res<u32> {
        u32::try_from(self.u()?).map_err(|_| corrupt("number out of range"))
    }

    fn u16(&mut self) -> Res<u16> {
        u16::try_from(self.u()?).map_err(|_| corrupt("number out of range"))
    }

    /// A count of things each taking at least `min_bytes`: refuses counts the remaining bytes
    /// cannot hold, so a damaged length never makes us allocate wildly.
    fn count(&mut self, min_bytes: usize) -> Res<usize> {
        let n = usize::try_from(self.u()?).map_err(|_| corrupt("length out of range"))?;
        let left = self.b.len() - self.at;
        if n.saturating_mul(min_bytes.max(1)) > left {
            return Err(corrupt("length beyond the end"));
        }
        Ok(n)
    }

    fn i(&mut self) -> Res<i64> {
        let z = self.u()?;
        Ok(((z >> 1) as i64) ^ -((z & 1) as i64))
    }

    fn f64(&mut self) -> Res<f64> {
        let end = self.at.checked_add(8).ok_or(corrupt("truncated"))?;
        let s = self.b.get(self.at..end).ok_or(corrupt("truncated"))?;
        self.at = end;
        Ok(f64::from_bits(u64::from_le_bytes([
            s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7],
        ])))
    }

    fn str(&mut self) -> Res<String> {
        let n = self.count(1)?;
        let s = &self.b[self.at..self.at + n];
        self.at += n;
        std::str::from_utf8(s)
            .map(str::to_string)
            .map_err(|_| corrupt("text is not UTF-8"))
    }

    fn opt_str(&mut self) -> Res<Option<String>> {
        match self.byte()? {
            0 => Ok(None),
            1 => self.str().map(Some),
            _ => Err(corrupt("bad option")),
        }
    }

    fn bool(&mut self) -> Res<bool> {
        match self.byte()? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(corrupt("bad flag")),
        }
    }

    fn span(&mut self, arena: &Arena) -> Res<Span> {
        let s = Span::new(self.u32()?, self.u32()?);
        if arena.contains(s) {
            Ok(s)
        } else {
            Err(corrupt("text reference out of range"))
        }
    }

    fn opt_idx(&mut self, limit: usize) -> Res<u32> {
        match self.u()? {
            0 => Ok(u32::MAX),
            v => {
                let i = v - 1;
                if (i as usize) < limit && i < u64::from(u32::MAX) {
                    Ok(i as u32)
                } else {
                    Err(corrupt("reference out of range"))
                }
            }
        }
    }

    fn idx(&mut self, limit: usize) -> Res<u32> {
        let v = self.u32()?;
        if (v as usize) < limit {
            Ok(v)
        } else {
            Err(corrupt("reference out of range"))
        }
    }

    fn when(&mut self) -> Res<Option<When>> {
        match self.byte()? {
            0 => Ok(None),
            t @ 1..=4 => {
                let utc = self.i()?;
                let off = i16::try_from(self.i()?).map_err(|_| corrupt("bad date"))?;
                When::from_parts(utc, off, t - 1)
                    .map(Some)
                    .ok_or(corrupt("bad date"))
            }
            _ => Err(corrupt("bad date")),
        }
    }

    fn qty(&mut self, arena: &Arena) -> Res<Qty> {
        let value = self.f64()?;
        if !value.is_finite() {
            // A build only keeps finite values.
            return Err(corrupt("bad number"));
        }
        Ok(Qty {
            value,
            text: self.span(arena)?,
            unit: self.span(arena)?,
            label: self.span(arena)?,
            comparator: self.span(arena)?,
        })
    }

    fn opt_qty(&mut self, arena: &Arena) -> Res<Option<Qty>> {
        match self.byte()? {
            0 => Ok(None),
            1 => self.qty(arena).map(Some),
            _ => Err(corrupt("bad option")),
        }
    }

    fn code(&mut self, arena: &Arena, systems: usize) -> Res<CodeEntry> {
        let system = self.u16()?;
        if usize::from(system) >= systems {
            return Err(corrupt("code system out of range"));
        }
        Ok(CodeEntry {
            system,
            code: self.span(arena)?,
            display: self.span(arena)?,
        })
    }

    fn codes(&mut self, arena: &Arena, systems: usize) -> Res<Vec<CodeEntry>> {
        let n = self.count(3)?;
        (0..n).map(|_| self.code(arena, systems)).collect()
    }

    fn idx_list(&mut self, limit: usize) -> Res<Vec<u32>> {
        let n = self.count(1)?;
        (0..n).map(|_| self.idx(limit)).collect()
    }
}

fn category_code(c: Category) -> u8 {
    Category::ALL.iter().position(|x| *x == c).unwrap_or(0) as u8
}

fn category_of(b: u8) -> Res<Category> {
    Category::ALL
        .get(usize::from(b))
        .copied()
        .ok_or(corrupt("bad category"))
}

const ACTIVITIES: [Activity; 5] = [
    Activity::Active,
    Activity::Paused,
    Activity::Planned,
    Activity::Ended,
    Activity::Unknown,
];

fn activity_code(a: Activity) -> u8 {
    ACTIVITIES.iter().position(|x| *x == a).unwrap_or(4) as u8
}

const INTERPS: [Interp; 7] = [
    Interp::None,
    Interp::Normal,
    Interp::High,
    Interp::Low,
    Interp::CriticalHigh,
    Interp::CriticalLow,
    Interp::Abnormal,
];

const KINDS: [SourceKind; 3] = [SourceKind::Ehr, SourceKind::File, SourceKind::Patient];

fn write_extra(w: &mut W, e: &Extra) {
    match e {
        Extra::Obs(o) => {
            w.byte(0);
            w.opt_qty(&o.value);
            w.opt_idx(o.range);
            w.byte(INTERPS.iter().position(|x| *x == o.interp).unwrap_or(0) as u8);
            w.len(o.components.len());
            for c in o.components.iter() {
                w.code(&c.code);
                w.opt_qty(&c.value);
                w.span(c.text);
            }
        }
        Extra::Med { ingredients, end } => {
            w.byte(1);
            w.codes(ingredients);
            w.when(*end);
        }
        Extra::Allergy {
            criticality,
            substances,
        } => {
            w.byte(2);
            w.opt_str(criticality);
            w.codes(substances);
        }
        Extra::Ended { end } => {
            w.byte(3);
            w.when(*end);
        }
        Extra::Goal { due, target } => {
            w.byte(4);
            w.when(*due);
            w.str(target);
        }
        Extra::Patient {
            name,
            birth_date,
            contacts,
        } => {
            w.byte(5);
            w.str(name);
            w.opt_str(birth_date);
            w.len(contacts.len());
            for c in contacts {
                w.str(&c.name);
                w.str(&c.relationship);
                w.len(c.relationship_codes.len());
                for r in &c.relationship_codes {
                    w.str(r);
                }
                w.opt_str(&c.phone);
            }
        }
        Extra::CareTeam { participants } => {
            w.byte(6);
            w.len(participants.len());
            for (n, r) in participants {
                w.str(n);
                w.str(r);
            }
        }
        Extra::Practitioner { qualification, npi } => {
            w.byte(7);
            w.str(qualification);
            w.opt_str(npi);
        }
        Extra::Document {
            attachments,
            related,
        } => {
            w.byte(8);
            w.len(attachments.len());
            for a in attachments {
                w.opt_str(&a.content_type);
                w.opt_str(&a.title);
                w.byte(u8::from(a.has_data));
                w.opt_str(&a.url);
                match a.size {
                    None => w.byte(0),
                    Some(s) => {
                        w.byte(1);
                        w.u(s);
                    }
                }
            }
            w.len(related.len());
            for r in related {
                w.str(r);
            }
        }
    }
}

fn read_extra(r: &mut R<'_>, arena: &Arena, systems: usize, ranges: usize) -> Res<Extra> {
    Ok(match r.byte()? {
        0 => {
            let value = r.opt_qty(arena)?;
            let range = r.opt_idx(ranges)?;
            let interp = *INTERPS
                .get(usize::from(r.byte()?))
                .ok_or(corrupt("bad interpretation"))?;
            let n = r.count(4)?;
            let components = (0..n)
                .map(|_| {
                    Ok(Component {
                        code: r.code(arena, systems)?,
                        value: r.opt_qty(arena)?,
                        text: r.span(arena)?,
                    })
                })
                .collect::<Res<Vec<_>>>()?
                .into_boxed_slice();
            Extra::Obs(ObsData {
                value,
                range,
                interp,
                components,
            })
        }
        1 => Extra::Med {
            ingredients: r.codes(arena, systems)?,
            end: r.when()?,
        },
        2 => Extra::Allergy {
            criticality: r.opt_str()?,
            substances: r.codes(arena, systems)?,
        },
        3 => Extra::Ended { end: r.when()? },
        4 => Extra::Goal {
            due: r.when()?,
            target: r.str()?,
        },
        5 => {
            let name = r.str()?;
            let birth_date = r.opt_str()?;
            let n = r.count(4)?;
            let contacts = (0..n)
                .map(|_| {
                    let name = r.str()?;
                    let relationship = r.str()?;
                    let k = r.count(1)?;
                    let relationship_codes = (0..k).map(|_| r.str()).collect::<Res<Vec<_>>>()?;
                    Ok(ContactData {
                        name,
                        relationship,
                        relationship_codes,
                        phone: r.opt_str()?,
                    })
                })
                .collect::<Res<Vec<_>>>()?;
            Extra::Patient {
                name,
                birth_date,
                contacts,
            }
        }
        6 => {
            let n = r.count(2)?;
            let participants = (0..n)
                .map(|_| Ok((r.str()?, r.str()?)))
                .collect::<Res<Vec<_>>>()?;
            Extra::CareTeam { participants }
        }
        7 => Extra::Practitioner {
            qualification: r.str()?,
            npi: r.opt_str()?,
        },
        8 => {
            let n = r.count(5)?;
            let attachments = (0..n)
                .map(|_| {
                    Ok(AttachmentInfo {
                        content_type: r.opt_str()?,
                        title: r.opt_str()?,
                        has_data: r.bool()?,
                        url: r.opt_str()?,
                        size: match r.byte()? {
                            0 => None,
                            1 => Some(r.u()?),
                            _ => return Err(corrupt("bad option")),
                        },
                    })
                })
                .collect::<Res<Vec<_>>>()?;
            let k = r.count(1)?;
            let related = (0..k).map(|_| r.str()).collect::<Res<Vec<_>>>()?;
            Extra::Document {
                attachments,
                related,
            }
        }
        _ => return Err(corrupt("bad detail kind")),
    })
}

impl Index {
    /// The index as compact bytes for a cache ([`INDEX_CACHE_VERSION`]); read back with
    /// [`Index::from_bytes`]. The bytes hold the record's text (PHI): store them encrypted.
    ///
    /// In order: the text arena; code systems; resource types; sources; codes; concepts;
    /// reference ranges; item details; items; each item's group; the groups; their members;
    /// the timeline order. (The key lookup table is rebuilt on load.)
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w = W(Vec::with_capacity(
            self.arena.as_str().len() + self.items.len() * 48 + 64,
        ));
        w.0.extend_from_slice(MAGIC);
        w.0.extend_from_slice(&INDEX_CACHE_VERSION.to_le_bytes());
        w.str(self.arena.as_str());
        w.len(self.systems.len());
        for s in &self.systems {
            w.str(s);
        }
        w.len(self.types.len());
        for s in &self.types {
            w.str(s);
        }
        w.len(self.sources.len());
        for s in &self.sources {
            w.str(&s.id);
            w.str(&s.label);
            w.byte(KINDS.iter().position(|k| *k == s.kind).unwrap_or(0) as u8);
        }
        w.len(self.codes.len());
        for c in &self.codes {
            w.code(c);
        }
        w.len(self.concepts.len());
        for c in &self.concepts {
            w.span(c.title);
            w.u32(c.codes_start);
            w.u32(c.codes_len);
            w.span(c.hay);
        }
        w.len(self.ranges.len());
        for r in &self.ranges {
            w.opt_qty(&r.low);
            w.opt_qty(&r.high);
            w.span(r.text);
        }
        w.len(self.extras.len());
        for e in &self.extras {
            write_extra(&mut w, e);
        }
        w.len(self.items.len());
        for it in &self.items {
            w.span(it.key);
            w.u32(it.concept);
            w.span(it.detail);
            w.span(it.status);
            w.span(it.hay);
            w.when(it.date);
            w.opt_idx(it.extra);
            w.u32(u32::from(it.source));
            w.u32(u32::from(it.rtype));
            w.byte(category_code(it.category));
            w.byte(activity_code(it.activity));
            w.byte(it.flags);
        }
        w.idx_list(&self.group_of);
        w.len(self.groups.len());
        for g in &self.groups {
            w.u32(g.rep);
            w.u32(g.start);
            w.u32(g.len);
        }
        w.idx_list(&self.members);
        w.idx_list(&self.timeline);
        let sum = checksum(&w.0);
        w.0.extend_from_slice(&sum.to_le_bytes());
        w.0
    }

    /// Reads bytes written by [`Index::to_bytes`]. Damaged, truncated, foreign or other-version
    /// bytes give an error (never a panic); the caller then rebuilds with [`Index::build`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Index, IndexCacheError> {
        if bytes.len() < MAGIC.len() + 4 + 8 || &bytes[..4] != MAGIC {
            return Err(IndexCacheError::NotAnIndex);
        }
        let version = u32::from_le_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]);
        if version != INDEX_CACHE_VERSION {
            return Err(IndexCacheError::Version {
                found: version,
                expected: INDEX_CACHE_VERSION,
            });
        }
        let (body, sum) = bytes.split_at(bytes.len() - 8);
        let sum = u64::from_le_bytes([
            sum[0], sum[1], sum[2], sum[3], sum[4], sum[5], sum[6], sum[7],
        ]);
        if checksum(body) != sum {
            return Err(corrupt("checksum mismatch"));
        }
        let mut r = R { b: body, at: 8 };
        let arena = Arena::from_string(r.str()?);
        let a = &arena;
        let n = r.count(1)?;
        let systems = (0..n)
            .map(|_| r.str().map(String::into_boxed_str))
            .collect::<Res<Vec<_>>>()?;
        let n = r.count(1)?;
        let types = (0..n)
            .map(|_| r.str().map(String::into_boxed_str))
            .collect::<Res<Vec<_>>>()?;
        let n = r.count(3)?;
        let sources = (0..n)
            .map(|_| {
                Ok(SourceInfo {
                    id: r.str()?,
                    label: r.str()?,
                    kind: *KINDS
                        .get(usize::from(r.byte()?))
                        .ok_or(corrupt("bad source kind"))?,
                })
            })
            .collect::<Res<Vec<_>>>()?;
        let codes = r.codes(a, systems.len())?;
        let n = r.count(6)?;
        let concepts = (0..n)
            .map(|_| {
                let title = r.span(a)?;
                let codes_start = r.u32()?;
                let codes_len = r.u32()?;
                if u64::from(codes_start) + u64::from(codes_len) > codes.len() as u64 {
                    return Err(corrupt("codes out of range"));
                }
                Ok(Concept {
                    title,
                    codes_start,
                    codes_len,
                    hay: r.span(a)?,
                })
            })
            .collect::<Res<Vec<_>>>()?;
        let n = r.count(4)?;
        let ranges = (0..n)
            .map(|_| {
                Ok(RefRange {
                    low: r.opt_qty(a)?,
                    high: r.opt_qty(a)?,
                    text: r.span(a)?,
                })
            })
            .collect::<Res<Vec<_>>>()?;
        let n = r.count(2)?;
        let extras = (0..n)
            .map(|_| read_extra(&mut r, a, systems.len(), ranges.len()))
            .collect::<Res<Vec<_>>>()?;
        let n = r.count(16)?;
        let mut items = Vec::with_capacity(n);
        for _ in 0..n {
            let key = r.span(a)?;
            let concept = r.idx(concepts.len())?;
            let detail = r.span(a)?;
            let status = r.span(a)?;
            let hay = r.span(a)?;
            let date = r.when()?;
            let extra = r.opt_idx(extras.len())?;
            let source = r.u16()?;
            if usize::from(source) >= sources.len() {
                return Err(corrupt("source out of range"));
            }
            let rtype = r.u16()?;
            if usize::from(rtype) >= types.len() {
                return Err(corrupt("resource type out of range"));
            }
            items.push(Item {
                key,
                concept,
                detail,
                status,
                hay,
                date,
                extra,
                source,
                rtype,
                category: category_of(r.byte()?)?,
                activity: *ACTIVITIES
                    .get(usize::from(r.byte()?))
                    .ok_or(corrupt("bad activity"))?,
                flags: r.byte()?,
            });
        }
        let n = r.count(1)?;
        let group_of_raw = (0..n).map(|_| r.u32()).collect::<Res<Vec<_>>>()?;
        let n = r.count(3)?;
        let mut groups = Vec::with_capacity(n);
        for _ in 0..n {
            let rep = r.idx(items.len())?;
            groups.push(Group {
                rep,
                start: r.u32()?,
                len: r.u32()?,
            });
        }
        let members = r.idx_list(items.len())?;
        let timeline = r.idx_list(groups.len())?;
        if r.at != body.len() {
            return Err(corrupt("unexpected bytes at the end"));
        }
        if group_of_raw.len() != items.len() {
            return Err(corrupt("tables of different lengths"));
        }
        if group_of_raw.iter().any(|&g| g as usize >= groups.len()) {
            return Err(corrupt("group out of range"));
        }
        if groups
            .iter()
            .any(|g| u64::from(g.start) + u64::from(g.len) > members.len() as u64)
        {
            return Err(corrupt("group members out of range"));
        }
        if extras.iter().any(|e| match e {
            Extra::Obs(o) => o.range != NO_RANGE && o.range as usize >= ranges.len(),
            _ => false,
        }) || items
            .iter()
            .any(|it| it.extra != NO_EXTRA && it.extra as usize >= extras.len())
        {
            return Err(corrupt("detail out of range"));
        }
        let mut index = Index {
            arena,
            items,
            concepts,
            codes,
            systems,
            types,
            sources,
            extras,
            ranges,
            by_key: hashbrown::HashTable::new(),
            group_of: group_of_raw,
            groups,
            members,
            timeline,
        };
        index.index_keys();
        Ok(index)
    }
}
