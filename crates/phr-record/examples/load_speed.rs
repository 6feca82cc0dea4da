//! How fast the unlock path's record load is: builds 20,000 synthetic ~2 KB Observations
//! (about 40 MB of plaintext), encodes every segment, then loads them back.
//!
//! Run: `cargo run --release -p phr-record --example load_speed [count]`

#[path = "../tests/common/synthetic.rs"]
mod synthetic;

use std::time::Instant;

use phr_record::Record;

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(20_000);
    let t = Instant::now();
    let record = synthetic::record_with(n);
    let built = t.elapsed();

    let t = Instant::now();
    let segments = synthetic::encode_all(&record);
    let encoded = t.elapsed();
    let bytes: usize = segments.iter().map(|(_, b)| b.len()).sum();
    drop(record);

    let t = Instant::now();
    let (loaded, errors) = Record::load(segments.iter().map(|(n, b)| (n.as_str(), b.as_slice())));
    let load = t.elapsed();
    assert!(errors.is_empty());
    assert_eq!(loaded.len(), n);

    let t = Instant::now();
    let export = loaded
        .export_bundle(&phr_record::ExportOptions {
            bundle_id: "00000000-0000-4000-8000-000000000001".into(),
            timestamp: "2024-05-01T08:00:00Z".into(),
            patient: "Patient/p1".into(),
        })
        .unwrap();
    let exported = t.elapsed();

    println!(
        "{n} resources, {:.1} MB plaintext in {} segments",
        bytes as f64 / 1e6,
        segments.len()
    );
    println!("import (merge) {built:?}, encode all {encoded:?}, load {load:?}");
    println!(
        "export bundle ({:.1} MB) {exported:?}",
        export.len() as f64 / 1e6
    );
}
