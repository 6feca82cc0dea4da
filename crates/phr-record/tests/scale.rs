//! 20,000 resources (about 40 MB): everything loads, byte-exact. Asserts correctness only (no
//! timings); see `examples/load_speed.rs` for speed.

mod common;

use common::synthetic::{encode_all, lab, record_with};
use phr_record::{EntryKey, Record, ResourceKey, SourceId, CHUNK_MAX_ENTRIES};

const N: usize = 20_000;

#[test]
fn twenty_thousand_resources_round_trip_exactly() {
    let r = record_with(N);
    assert_eq!(r.len(), N);
    let segments = encode_all(&r);
    let plaintext: usize = segments.iter().map(|(_, b)| b.len()).sum();
    assert!(
        plaintext > 35_000_000,
        "about 40 MB of plaintext, got {plaintext}"
    );
    let chunks = segments
        .iter()
        .filter(|(n, _)| n.starts_with("res."))
        .count();
    assert_eq!(chunks, N.div_ceil(3).div_ceil(CHUNK_MAX_ENTRIES) * 3);
    assert!(segments.iter().all(|(_, b)| b.len() < 2 * 1024 * 1024));

    let (loaded, errors) = Record::load(segments.iter().map(|(n, b)| (n.as_str(), b.as_slice())));
    assert!(errors.is_empty());
    assert_eq!(loaded.len(), N);
    // Every resource, byte for byte, in its source.
    for (i, src) in (0..N).zip(["north", "south", "east"].iter().cycle()) {
        let key = EntryKey::new(
            SourceId::ehr(src).unwrap(),
            ResourceKey::new("Observation", &format!("obs-{i}")),
        );
        let e = loaded
            .get(&key)
            .unwrap_or_else(|| panic!("obs-{i} missing"));
        assert_eq!(e.resource().raw(), lab(i).raw());
    }
    // Re-encoding gives the same bytes.
    assert_eq!(encode_all(&loaded), segments);
    assert!(loaded.dirty_segments().is_empty());
}
