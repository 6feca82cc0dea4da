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

use rustc_hash::FxHashMap;

use crate::codes;
use crate::index::{
    Extra, Group, Index, Item, ItemId, F_ERROR, F_GONE, F_HIDDEN, F_PATIENT, F_UNREADABLE,
};
use crate::time::{Precision, When};

fn day_keys(w: Option<When>) -> Vec<String> {
    match w {
        None => vec!["-".into()],
        Some(w) if w.precision() < Precision::Day => vec![format!("p{}", w)],
        Some(w) => {
            let mut v = vec![format!("d{}", w.day().0)];
            if let Some(u) = w.utc_day() {
                if u != w.day() {
                    v.push(format!("d{}", u.0));
                }
            }
            v
        }
    }
}

fn time_key(w: Option<When>) -> String {
    match w {
        None => "-".into(),
        Some(w) if w.has_time() => format!("t{}", w.timestamp().0.div_euclid(60)),
        Some(w) => format!("p{w}"),
    }
}

fn num(v: f64) -> String {
    format!("{v}")
}

fn obs_value_key(index: &Index, id: ItemId) -> String {
    let item = index.raw(id);
    match index.obs(id) {
        Some(o) => {
            if let Some(q) = &o.value {
                return format!(
                    "q{}{}{}",
                    index.text(q.comparator),
                    num(q.value),
                    index.text(q.unit)
                );
            }
            if !o.components.is_empty() {
                let mut parts: Vec<String> = o
                    .components
                    .iter()
                    .map(|c| {
                        let v = match &c.value {
                            Some(q) => format!("{}{}", num(q.value), index.text(q.unit)),
                            None => crate::text::fold(index.text(c.text)),
                        };
                        format!("{}={}", index.text(c.code.code), v)
                    })
                    .collect();
                parts.sort();
                return format!("c{}", parts.join(","));
            }
            format!("s{}", crate::text::fold(index.text(item.detail)))
        }
        None => format!("s{}", crate::text::fold(index.text(item.detail))),
    }
}

/// Fact keys of one item; two items sharing any key (and sources) are the same fact.
fn fact_keys(index: &Index, id: ItemId) -> Vec<String> {
    let item: &Item = index.raw(id);
    if item.flags & (F_ERROR | F_UNREADABLE) != 0 {
        return Vec::new();
    }
    let rtype = index.item(id).resource_type();
    let codes_all: Vec<(&str, &str)> = index
        .concept_codes(item.concept)
        .iter()
        .map(|c| {
            let r = index.code_ref(c);
            (r.system, r.code)
        })
        .collect();
    let in_system = |sys: &str| -> Vec<(&str, &str)> {
        codes_all
            .iter()
            .filter(|(s, _)| *s == sys)
            .copied()
            .collect()
    };
    let mut keys = Vec::new();
    let mut cross = |prefix: &str, codes: &[(&str, &str)], rest: &[String]| {
        for (s, c) in codes {
            for r in rest {
                let mut k = String::with_capacity(prefix.len() + s.len() + c.len() + r.len() + 3);
                k.push_str(prefix);
                k.push('|');
                k.push_str(s);
                k.push('|');
                k.push_str(c);
                k.push('|');
                k.push_str(r);
                keys.push(k);
            }
        }
    };
    match rtype {
        "Immunization" => {
            let cvx = in_system(codes::CVX);
            let codes = if cvx.is_empty() {
                codes_all.clone()
            } else {
                cvx
            };
            cross("imm", &codes, &day_keys(item.date));
        }
        "Condition" => cross("cond", &codes_all, &day_keys(item.date)),
        "AllergyIntolerance" => cross("alg", &codes_all, &["".to_string()]),
        "MedicationRequest" | "MedicationStatement" => {
            cross("med", &in_system(codes::RXNORM), &day_keys(item.date))
        }
        "Observation" => {
            let rest = format!("{}|{}", time_key(item.date), obs_value_key(index, id));
            cross("obs", &codes_all, &[rest]);
        }
        "Procedure" => cross("proc", &codes_all, &day_keys(item.date)),
        "Encounter" => {
            let end = match index.extra(id) {
                Some(Extra::Ended { end }) => *end,
                _ => None,
            };
            let rest = format!("{}|{}", time_key(item.date), time_key(end));
            cross("enc", &codes_all, &[rest]);
        }
        "DiagnosticReport" => cross("dr", &codes_all, &[time_key(item.date)]),
        "DocumentReference" => {
            let rest = format!(
                "{}|{}",
                time_key(item.date),
                crate::text::fold(index.item(id).title())
            );
            cross("doc", &codes_all, &[rest]);
        }
        "Goal" => {
            let mut codes = codes_all.clone();
            let title = crate::text::fold(index.item(id).title());
            if codes.is_empty() {
                codes.push(("title", &title));
            }
            cross("goal", &codes, &day_keys(item.date));
        }
        "Practitioner" => {
            if let Some(Extra::Practitioner { npi: Some(n), .. }) = index.extra(id) {
                keys.push(format!("npi|{n}"));
            }
        }
        _ => {}
    }
    keys
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
    for i in 0..n as u32 {
        for k in fact_keys(index, ItemId(i)) {
            buckets.entry(k).or_default().push(i);
        }
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
