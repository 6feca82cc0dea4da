//! Merge and re-sync: no duplicates, updates, gone-at-source flags and their return.

mod common;

use std::collections::{BTreeMap, HashSet};

use common::*;
use phr_fhir::Resource;
use phr_record::{
    EntryKey, EntryStatus, MergeOutcome, Record, RecordError, ResourceKey, SourceId, SyncCoverage,
};
use proptest::prelude::*;

fn key(source: &SourceId, id: &str) -> EntryKey {
    EntryKey::new(source.clone(), ResourceKey::new("Observation", id))
}

#[test]
fn reimporting_identical_bytes_adds_nothing_and_dirties_nothing() {
    let mut r = Record::new();
    let a = ehr(&mut r, "a");
    let out = r
        .apply_import(&a, page("a", vec![obs("o1", "1.50"), obs("o2", "2")]), T0)
        .unwrap();
    assert_eq!((out.added, out.updated, out.unchanged), (2, 0, 0));
    let mut store = BTreeMap::new();
    save_all(&mut r, &mut store);

    let again = r
        .apply_import(&a, page("a", vec![obs("o1", "1.50"), obs("o2", "2")]), T1)
        .unwrap();
    assert_eq!((again.added, again.updated, again.unchanged), (0, 0, 2));
    assert_eq!(r.len(), 2, "no duplicates");
    assert!(r.dirty_segments().is_empty(), "nothing to save");
    // The first fetch time is kept; nothing was updated.
    let e = r.get(&key(&a, "o1")).unwrap();
    assert_eq!(e.fetched_at(), T0);
    assert_eq!(e.updated_at(), None);
}

#[test]
fn changed_bytes_replace_the_stored_ones() {
    let mut r = Record::new();
    let a = ehr(&mut r, "a");
    r.apply_import(&a, page("a", vec![obs("o1", "1.50")]), T0)
        .unwrap();
    let newer = obs("o1", "1.60");
    let out = r
        .apply_import(
            &a,
            vec![(
                newer.clone(),
                "https://a.example.org/fhir/Observation/o1".into(),
            )],
            T1,
        )
        .unwrap();
    assert_eq!((out.added, out.updated, out.unchanged), (0, 1, 0));
    assert_eq!(r.len(), 1);
    let e = r.get(&key(&a, "o1")).unwrap();
    assert_eq!(e.resource().raw(), newer.raw());
    assert_eq!(e.updated_at(), Some(T1));
    assert_eq!(e.fetched_at(), T0);
    assert_eq!(e.current_since(), T1);
    assert_eq!(e.request(), "https://a.example.org/fhir/Observation/o1");
}

#[test]
fn full_sync_flags_unseen_entries_and_they_come_back() {
    let mut r = Record::new();
    let a = ehr(&mut r, "a");
    let first = r
        .apply_import(
            &a,
            page("a", vec![obs("o1", "1"), obs("o2", "2"), obs("o3", "3")]),
            T0,
        )
        .unwrap();
    let seen: HashSet<ResourceKey> = first.seen.into_iter().collect();
    let done = r
        .finish_full_sync(&a, &seen, &SyncCoverage::AllTypes, T0)
        .unwrap();
    assert_eq!(done.flagged_gone, 0);

    // The second full sync no longer returns o2.
    let second = r
        .apply_import(&a, page("a", vec![obs("o1", "1"), obs("o3", "3")]), T1)
        .unwrap();
    let seen: HashSet<ResourceKey> = second.seen.into_iter().collect();
    let done = r
        .finish_full_sync(&a, &seen, &SyncCoverage::AllTypes, T1)
        .unwrap();
    assert_eq!(done.flagged_gone, 1);
    assert_eq!(r.len(), 3, "gone entries are kept");
    assert_eq!(
        r.get(&key(&a, "o2")).unwrap().status(),
        &EntryStatus::GoneAtSource {
            noticed_at: T1.into()
        }
    );
    assert_eq!(
        r.get(&key(&a, "o1")).unwrap().status(),
        &EntryStatus::Current
    );
    assert_eq!(r.source(&a).unwrap().last_full_sync_at.as_deref(), Some(T1));

    // A third sync that does not return it again: still gone, noticed time unchanged.
    let done = r
        .finish_full_sync(&a, &seen, &SyncCoverage::AllTypes, T2)
        .unwrap();
    assert_eq!((done.flagged_gone, done.still_gone), (0, 1));
    assert!(matches!(
        r.get(&key(&a, "o2")).unwrap().status(),
        EntryStatus::GoneAtSource { noticed_at } if noticed_at == T1
    ));

    // It comes back: current again, counted as returned.
    let back = r
        .apply_import(&a, page("a", vec![obs("o2", "2")]), T2)
        .unwrap();
    assert_eq!((back.unchanged, back.returned), (1, 1));
    assert_eq!(
        r.get(&key(&a, "o2")).unwrap().status(),
        &EntryStatus::Current
    );
}

#[test]
fn incremental_syncs_flag_nothing() {
    let mut r = Record::new();
    let a = ehr(&mut r, "a");
    r.apply_import(&a, page("a", vec![obs("o1", "1"), obs("o2", "2")]), T0)
        .unwrap();
    r.apply_import(&a, page("a", vec![obs("o3", "3")]), T1)
        .unwrap();
    r.finish_incremental_sync(&a, T1).unwrap();
    assert!(r
        .entries()
        .all(|(_, _, e)| e.status() == &EntryStatus::Current));
    assert_eq!(r.source(&a).unwrap().last_sync_at.as_deref(), Some(T1));
    assert_eq!(r.source(&a).unwrap().last_full_sync_at, None);
}

#[test]
fn full_sync_judges_only_the_types_it_covered() {
    let mut r = Record::new();
    let a = ehr(&mut r, "a");
    let cond = Resource::from_json(r#"{"resourceType":"Condition","id":"c1"}"#).unwrap();
    r.apply_import(
        &a,
        vec![(obs("o1", "1"), "q".into()), (cond, "q".into())],
        T0,
    )
    .unwrap();
    // The Observation query failed this time; only Conditions were fetched (none returned).
    let coverage = SyncCoverage::Types(["Condition".to_string()].into());
    let done = r
        .finish_full_sync(&a, &HashSet::new(), &coverage, T1)
        .unwrap();
    assert_eq!(done.flagged_gone, 1);
    assert_eq!(
        r.get(&key(&a, "o1")).unwrap().status(),
        &EntryStatus::Current
    );
    let c1 = EntryKey::new(a.clone(), ResourceKey::new("Condition", "c1"));
    assert!(r.get(&c1).unwrap().status().is_gone());
}

#[test]
fn same_id_at_two_providers_is_two_entries() {
    let mut r = Record::new();
    let a = ehr(&mut r, "a");
    let b = ehr(&mut r, "b");
    r.apply_import(&a, page("a", vec![obs("o1", "1")]), T0)
        .unwrap();
    r.apply_import(&b, page("b", vec![obs("o1", "1")]), T0)
        .unwrap();
    assert_eq!(r.len(), 2);
    assert!(r.get(&key(&a, "o1")).is_some());
    assert!(r.get(&key(&b, "o1")).is_some());
    assert_ne!(
        r.reference_to(&key(&a, "o1")),
        r.reference_to(&key(&b, "o1"))
    );
    assert_eq!(
        r.reference_to(&key(&a, "o1")).as_deref(),
        Some("https://a.example.org/fhir/Observation/o1")
    );
}

#[test]
fn resources_without_id_are_keyed_by_their_bytes() {
    let mut r = Record::new();
    let a = ehr(&mut r, "a");
    let out = r
        .apply_import(&a, page("a", vec![anon("1"), anon("1"), anon("2")]), T0)
        .unwrap();
    assert_eq!((out.added, out.unchanged), (2, 1));
    assert_eq!(r.len(), 2);
    let again = r.apply_import(&a, page("a", vec![anon("2")]), T1).unwrap();
    assert_eq!(again.unchanged, 1);
    let k = ResourceKey::of(&anon("1"));
    assert_eq!(k.id(), None);
    assert!(k.label().starts_with("Observation#sha256:"));
    assert_eq!(k, ResourceKey::of(&anon("1")), "deterministic");
    assert_ne!(k, ResourceKey::of(&anon("2")));
    assert!(r.get(&EntryKey::new(a, k)).is_some());
}

#[test]
fn outer_whitespace_is_not_part_of_the_resource() {
    let mut r = Record::new();
    let a = ehr(&mut r, "a");
    let padded = Resource::from_json(format!("  {}\n", obs("o1", "1").raw())).unwrap();
    r.apply_import(&a, vec![(padded, "q".into())], T0).unwrap();
    let out = r
        .apply_import(&a, page("a", vec![obs("o1", "1")]), T1)
        .unwrap();
    assert_eq!(out.unchanged, 1);
    assert_eq!(
        r.get(&key(&a, "o1")).unwrap().resource().raw(),
        obs("o1", "1").raw()
    );
}

#[test]
fn imports_are_refused_where_they_do_not_belong() {
    let mut r = Record::new();
    let a = ehr(&mut r, "a");
    assert!(matches!(
        r.apply_import(&SourceId::patient(), page("a", vec![obs("o1", "1")]), T0),
        Err(RecordError::WrongSourceKind { .. })
    ));
    let unknown = SourceId::ehr("nobody").unwrap();
    assert!(matches!(
        r.apply_import(&unknown, page("a", vec![]), T0),
        Err(RecordError::UnknownSource { .. })
    ));
    assert!(matches!(
        r.apply_import(&a, page("a", vec![obs("o1", "1")]), "2024-05-01"),
        Err(RecordError::InvalidTime { .. })
    ));
    assert!(matches!(
        r.add_source(
            phr_record::Source::ehr("a", "A again", "https://a.example.org/fhir", false, T0)
                .unwrap()
        ),
        Err(RecordError::SourceExists { .. })
    ));
    assert!(r.is_empty());
}

#[test]
fn removing_a_source_removes_its_entries_and_segments() {
    let mut r = Record::new();
    let a = ehr(&mut r, "a");
    let b = ehr(&mut r, "b");
    r.apply_import(&a, page("a", vec![obs("o1", "1")]), T0)
        .unwrap();
    r.apply_import(&b, page("b", vec![obs("o1", "1")]), T0)
        .unwrap();
    r.hide(&key(&a, "o1"), T0).unwrap();
    let mut store = BTreeMap::new();
    save_all(&mut r, &mut store);
    assert!(store.contains_key("res.0.0"));

    assert_eq!(r.remove_source(&a).unwrap(), 1);
    assert_eq!(r.deleted_segments(), vec!["res.0.0".to_string()]);
    assert_eq!(
        r.dirty_segments(),
        vec!["meta.hidden".to_string(), "meta.sources".to_string()]
    );
    assert!(!r.is_hidden(&key(&a, "o1")));
    save_all(&mut r, &mut store);
    assert!(!store.contains_key("res.0.0"));
    let (loaded, errors) = Record::load(store.iter());
    assert!(errors.is_empty());
    assert_eq!(loaded.len(), 1);
    assert!(loaded.source(&a).is_none());
    // A new source never reuses the removed source's slot.
    let mut loaded = loaded;
    let c = ehr(&mut loaded, "c");
    loaded
        .apply_import(&c, page("c", vec![obs("x", "1")]), T1)
        .unwrap();
    assert!(loaded.dirty_segments().contains(&"res.2.0".to_string()));
}

// ----------------------------------------------------------------------------- property test

#[derive(Clone, Debug)]
enum Op {
    /// Import these (id, value) pairs into source 0 or 1.
    Import(usize, Vec<(u8, u8)>),
    /// Full sync of a source that saw exactly these ids.
    FullSync(usize, Vec<u8>),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0..2usize, prop::collection::vec((0..8u8, 0..3u8), 0..6))
            .prop_map(|(s, v)| Op::Import(s, v)),
        (0..2usize, prop::collection::vec(0..8u8, 0..6)).prop_map(|(s, v)| Op::FullSync(s, v)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// The record agrees with a plain map model: one entry per (source, id) holding the last
    /// bytes imported, flagged gone exactly when the last full sync did not see it and no import
    /// has brought it back since.
    #[test]
    fn merge_matches_a_simple_model(ops in prop::collection::vec(op(), 1..12)) {
        let mut r = Record::new();
        let sources = [ehr(&mut r, "a"), ehr(&mut r, "b")];
        // (source, id) -> (value, gone)
        let mut model: BTreeMap<(usize, u8), (u8, bool)> = BTreeMap::new();
        for (step, op) in ops.into_iter().enumerate() {
            let now = format!("2024-06-01T00:00:{:02}Z", step % 60);
            match op {
                Op::Import(s, items) => {
                    let mut expect = MergeOutcome::default();
                    for (id, v) in &items {
                        match model.get_mut(&(s, *id)) {
                            None => { expect.added += 1; model.insert((s, *id), (*v, false)); }
                            Some(m) => {
                                if m.0 == *v { expect.unchanged += 1 } else { expect.updated += 1 }
                                if m.1 { expect.returned += 1 }
                                *m = (*v, false);
                            }
                        }
                    }
                    let res: Vec<Resource> = items.iter().map(|(id, v)| obs(&format!("o{id}"), &v.to_string())).collect();
                    let out = r.apply_import(&sources[s], page("x", res), &now).unwrap();
                    prop_assert_eq!((out.added, out.updated, out.unchanged, out.returned),
                        (expect.added, expect.updated, expect.unchanged, expect.returned));
                }
                Op::FullSync(s, ids) => {
                    let seen: HashSet<ResourceKey> = ids.iter().map(|i| ResourceKey::new("Observation", &format!("o{i}"))).collect();
                    r.finish_full_sync(&sources[s], &seen, &SyncCoverage::AllTypes, &now).unwrap();
                    for ((ms, id), m) in model.iter_mut() {
                        if *ms == s { m.1 = !ids.contains(id); }
                    }
                }
            }
        }
        prop_assert_eq!(r.len(), model.len());
        for ((s, id), (v, gone)) in &model {
            let e = r.get(&key(&sources[*s], &format!("o{id}"))).unwrap();
            let want = obs(&format!("o{id}"), &v.to_string());
            prop_assert_eq!(e.resource().raw(), want.raw());
            prop_assert_eq!(e.status().is_gone(), *gone);
        }
    }
}
