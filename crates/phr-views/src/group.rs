//! Same fact from two sources, shown once.
//!
//! Two items are the same fact when they come from **different sources** and share a *fact key*
//! built from exact codes and dates. The rules, per type:
//!
//! | type | same fact when … |
//! |---|---|
//! | Immunization | same CVX code (any code if neither has CVX) and same day |
//! | Condition | same code (any shared coding) and same onset day (both without onset also match) |
//! | AllergyIntolerance | same code (any shared coding) |
//! | MedicationRequest / MedicationStatement | same RxNorm code and same day (authored / effective) |
//! | Observation | same code, same effective time (to the minute, or the day for date-only values) and same value (number and unit, components, or text) |
//! | Procedure | same code and same day |
//! | Encounter | same start and end (to the minute, or day) and a shared type code (class when untyped) |
//! | DiagnosticReport | same code and same effective time |
//! | DocumentReference | same type code, same date and same title |
//! | Goal | same code or title and same start day |
//! | Practitioner | same NPI |
//!
//! "Same day" compares the calendar day as written, and also the UTC day when both values carry a
//! time and offset, so `2024-03-05T23:30-05:00` and `2024-03-06T04:30Z` match. Items from the
//! same source are never merged (a source listing a fact twice is its own business), a group holds
//! at most one item per source, entered-in-error and unreadable items stay alone, and nothing is
//! matched by similarity of names: a shared exact code is required (no medical knowledge is
//! invented). Every original stays addressable by its key; a group's representative is a
//! clinician-sourced copy when there is one, so a patient-entered copy never stands in for an EHR
//! one, and every source is listed on the row.

use std::fmt::Write;

use rustc_hash::FxHashMap;

use crate::codes;
use crate::index::{
    Extra, Group, Index, Item, ItemId, F_ERROR, F_GONE, F_HIDDEN, F_PATIENT, F_UNREADABLE,
};
use crate::time::{Precision, When};

/// `-`, `p<when>` below day precision, else `d<day>` (and the UTC day when it differs).
fn day_keys(w: Option<When>) -> ([String; 2], usize) {
    match w {
        None => (["-".into(), String::new()], 1),
        Some(w) if w.precision() < Precision::Day => ([format!("p{}", w), String::new()], 1),
        Some(w) => {
            let mut v = [String::new(), String::new()];
            let _ = write!(v[0], "d{}", w.day().0);
            match w.utc_day() {
                Some(u) if u != w.day() => {
                    let _ = write!(v[1], "d{}", u.0);
                    (v, 2)
                }
                _ => (v, 1),
            }
        }
    }
}

fn push_time_key(out: &mut String, w: Option<When>) {
    let _ = match w {
        None => write!(out, "-"),
        Some(w) if w.has_time() => write!(out, "t{}", w.timestamp().0.div_euclid(60)),
        Some(w) => write!(out, "p{w}"),
    };
}

fn push_obs_value_key(out: &mut String, index: &Index, id: ItemId) {
    let item = index.raw(id);
    let Some(o) = index.obs(id) else {
        out.push('s');
        crate::text::fold_into(out, index.text(item.detail));
        return;
    };
    if let Some(q) = &o.value {
        let _ = write!(
            out,
            "q{}{}{}",
            index.text(q.comparator),
            q.value,
            index.text(q.unit)
        );
        return;
    }
    if !o.components.is_empty() {
        let mut parts: Vec<String> = o
            .components
            .iter()
            .map(|c| {
                let mut p = String::new();
                p.push_str(index.text(c.code.code));
                p.push('=');
                match &c.value {
                    Some(q) => {
                        let _ = write!(p, "{}{}", q.value, index.text(q.unit));
                    }
                    None => crate::text::fold_into(&mut p, index.text(c.text)),
                }
                p
            })
            .collect();
        parts.sort();
        out.push('c');
        for (i, p) in parts.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(p);
        }
        return;
    }
    out.push('s');
    crate::text::fold_into(out, index.text(item.detail));
}

/// Calls `add` with each fact key of one item; two items sharing any key (and sources) are the
/// same fact. `key` and `rest` are scratch buffers.
fn fact_keys(
    index: &Index,
    id: ItemId,
    key: &mut String,
    rest: &mut String,
    mut add: impl FnMut(&str),
) {
    let item: &Item = index.raw(id);
    if item.flags & (F_ERROR | F_UNREADABLE) != 0 {
        return;
    }
    let rtype = index.item(id).resource_type();
    let concept = index.concept_codes(item.concept);
    let all = |_: &str| true;
    let mut cross = |prefix: &str, keep: &dyn Fn(&str) -> bool, rests: &[&str]| {
        for c in concept {
            let r = index.code_ref(c);
            if !keep(r.system) {
                continue;
            }
            for rest in rests {
                key.clear();
                key.push_str(prefix);
                key.push('|');
                key.push_str(r.system);
                key.push('|');
                key.push_str(r.code);
                key.push('|');
                key.push_str(rest);
                add(key);
            }
        }
    };
    let days = |w| {
        let (d, n) = day_keys(w);
        (d, n)
    };
    rest.clear();
    match rtype {
        "Immunization" => {
            let has_cvx = concept
                .iter()
                .any(|c| index.code_ref(c).system == codes::CVX);
            let (d, n) = days(item.date);
            let rests: Vec<&str> = d[..n].iter().map(String::as_str).collect();
            if has_cvx {
                cross("imm", &|s| s == codes::CVX, &rests);
            } else {
                cross("imm", &all, &rests);
            }
        }
        "Condition" | "Procedure" => {
            let (d, n) = days(item.date);
            let rests: Vec<&str> = d[..n].iter().map(String::as_str).collect();
            let prefix = if rtype == "Condition" { "cond" } else { "proc" };
            cross(prefix, &all, &rests);
        }
        "AllergyIntolerance" => cross("alg", &all, &[""]),
        "MedicationRequest" | "MedicationStatement" => {
            let (d, n) = days(item.date);
            let rests: Vec<&str> = d[..n].iter().map(String::as_str).collect();
            cross("med", &|s| s == codes::RXNORM, &rests);
        }
        "Observation" => {
            push_time_key(rest, item.date);
            rest.push('|');
            push_obs_value_key(rest, index, id);
            cross("obs", &all, &[rest.as_str()]);
        }
        "Encounter" => {
            let end = match index.extra(id) {
                Some(Extra::Ended { end }) => *end,
                _ => None,
            };
            push_time_key(rest, item.date);
            rest.push('|');
            push_time_key(rest, end);
            cross("enc", &all, &[rest.as_str()]);
        }
        "DiagnosticReport" => {
            push_time_key(rest, item.date);
            cross("dr", &all, &[rest.as_str()]);
        }
        "DocumentReference" => {
            push_time_key(rest, item.date);
            rest.push('|');
            crate::text::fold_into(rest, index.item(id).title());
            cross("doc", &all, &[rest.as_str()]);
        }
        "Goal" => {
            let (d, n) = days(item.date);
            let rests: Vec<&str> = d[..n].iter().map(String::as_str).collect();
            if concept.is_empty() {
                let title = crate::text::fold(index.item(id).title());
                for r in &rests {
                    key.clear();
                    key.push_str("goal|title|");
                    key.push_str(&title);
                    key.push('|');
                    key.push_str(r);
                    add(key);
                }
            } else {
                cross("goal", &all, &rests);
            }
        }
        "Practitioner" => {
            if let Some(Extra::Practitioner { npi: Some(n), .. }) = index.extra(id) {
                key.clear();
                key.push_str("npi|");
                key.push_str(n);
                add(key);
            }
        }
        _ => {}
    }
}

struct Sets {
    parent: Vec<u32>,
    sources: Vec<Vec<u16>>,
}

impl Sets {
    fn find(&mut self, mut x: u32) -> u32 {
        while self.parent[x as usize] != x {
            let p = self.parent[x as usize];
            self.parent[x as usize] = self.parent[p as usize];
            x = p;
        }
        x
    }

    /// Joins two sets unless they share a source.
    fn try_union(&mut self, a: u32, b: u32) -> bool {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra == rb {
            return true;
        }
        if self.sources[ra as usize]
            .iter()
            .any(|s| self.sources[rb as usize].contains(s))
        {
            return false;
        }
        let (keep, gone) = if ra < rb { (ra, rb) } else { (rb, ra) };
        let moved = std::mem::take(&mut self.sources[gone as usize]);
        self.sources[keep as usize].extend(moved);
        self.parent[gone as usize] = keep;
        true
    }
}

pub(crate) fn build_groups(index: &mut Index) {
    let n = index.items.len();
    let mut buckets: FxHashMap<String, Vec<u32>> = FxHashMap::default();
    let (mut key, mut rest) = (String::new(), String::new());
    for i in 0..n as u32 {
        fact_keys(index, ItemId(i), &mut key, &mut rest, |k| {
            match buckets.get_mut(k) {
                Some(v) => v.push(i),
                None => {
                    buckets.insert(k.to_string(), vec![i]);
                }
            }
        });
    }
    let mut list: Vec<Vec<u32>> = buckets
        .into_values()
        .filter(|v| v.len() > 1)
        .map(|mut v| {
            v.sort_unstable();
            v.dedup();
            v
        })
        .filter(|v| v.len() > 1)
        .collect();
    list.sort();
    let mut sets = Sets {
        parent: (0..n as u32).collect(),
        sources: index.items.iter().map(|it| vec![it.source]).collect(),
    };
    for members in &list {
        for (j, &m) in members.iter().enumerate() {
            for &earlier in &members[..j] {
                if sets.try_union(earlier, m) {
                    break;
                }
            }
        }
    }
    let mut group_of = vec![u32::MAX; n];
    let mut groups: Vec<Vec<u32>> = Vec::new();
    let mut root_group: FxHashMap<u32, u32> = FxHashMap::default();
    for i in 0..n as u32 {
        let r = sets.find(i);
        let g = *root_group.entry(r).or_insert_with(|| {
            groups.push(Vec::new());
            (groups.len() - 1) as u32
        });
        groups[g as usize].push(i);
        group_of[i as usize] = g;
    }
    let mut members = Vec::with_capacity(n);
    let mut out = Vec::with_capacity(groups.len());
    for g in groups {
        let rep = *g
            .iter()
            .min_by_key(|&&i| {
                let it = &index.items[i as usize];
                (
                    it.flags & F_PATIENT != 0,
                    it.flags & F_GONE != 0,
                    it.flags & F_HIDDEN != 0,
                    std::cmp::Reverse(it.date.map(|d| d.sort_key())),
                    i,
                )
            })
            .unwrap_or(&g[0]);
        out.push(Group {
            rep,
            start: members.len() as u32,
            len: g.len() as u32,
        });
        members.extend(g);
    }
    index.group_of = group_of;
    index.groups = out;
    index.members = members;
}
