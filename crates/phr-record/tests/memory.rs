//! Memory while loading 20,000 resources stays within 3x the plaintext size. This test binary
//! has a single test and counts every allocation (peak_alloc), so nothing else runs beside it.

mod common;

use common::synthetic::{encode_all, record_with};
use peak_alloc::PeakAlloc;
use phr_record::Record;

#[global_allocator]
static ALLOC: PeakAlloc = PeakAlloc;

#[test]
fn loading_twenty_thousand_resources_stays_within_three_times_the_plaintext() {
    let segments = {
        let r = record_with(20_000);
        encode_all(&r)
    };
    let plaintext: usize = segments.iter().map(|(_, b)| b.len()).sum();
    let before = ALLOC.current_usage();
    ALLOC.reset_peak_usage();

    // The segments stay alive during the load (as they would if the shell read them all
    // first), so the whole peak, segments included, is measured.
    let (record, errors) = Record::load(segments.iter().map(|(n, b)| (n.as_str(), b.as_slice())));
    let peak = ALLOC.peak_usage();
    let after = ALLOC.current_usage();
    eprintln!("plaintext {plaintext} before {before} peak {peak} after {after}");
    assert!(errors.is_empty());
    assert_eq!(record.len(), 20_000);
    assert!(
        before >= plaintext,
        "the segments are counted in the baseline"
    );
    assert!(
        peak <= 3 * plaintext,
        "peak {peak} bytes for {plaintext} bytes of plaintext"
    );
    // The loaded record itself is about the size of the resources it holds.
    let kept = after - before;
    assert!(
        kept <= plaintext + plaintext / 2,
        "record holds {kept} bytes for {plaintext} bytes of plaintext"
    );
}
