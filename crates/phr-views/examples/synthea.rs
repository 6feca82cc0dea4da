//! Native timing of the index over the demo EHR's real Synthea data (no assertions; tests check
//! correctness).
//!
//! Run from the workspace root:
//! `cargo run --release -p phr-views --example synthea [DIR] [ROUNDS]`
//! where DIR holds `general.ndjson` and `clinic.ndjson` (default: `sandbox/data`), one resource
//! per line. The general hospital's file is imported as an EHR source and the clinic's as a second
//! one, keyed the way the app keys entries.
//!
//! Measured on the 2-core development machine (busy, best of 9–15 runs), 18,826 resources, 18 MB:
//!
//! | | before (phr-fhir owned views) | now |
//! |---|---|---|
//! | `Index::build`, instructions (callgrind) | 1,416 M | 820 M |
//! | `Index::build`, native release | 132–143 ms | 74 ms |
//! | `Index::build`, wasm in Node 22 (opt-level z, LTO) | 156–167 ms | 97–100 ms |
//! | `to_bytes` / `from_bytes`, native | – | 2.2 ms / 4.1 ms (2.8 MB) |
//! | `to_bytes` / `from_bytes`, wasm | – | 4.0 ms / 8.2 ms |
//! | `summary`, native / wasm | 5 ms / 8.4 ms | 5 ms / 8.2 ms |
//! | slowest search keystroke, native / wasm | 1.4 ms / 1.95 ms | 1.2 ms / 1.7 ms |
//!
//! The wasm numbers come from `wasm-bench/` (see its `Cargo.toml`).
//!
//! For reproducible instruction counts on a busy machine, count `... sandbox/data once` and
//! `... sandbox/data load` with `valgrind --tool=callgrind`: the difference is one build
//! (`cached` adds `to_bytes`, `load-cached` adds `to_bytes` and `from_bytes`).

use std::time::{Duration, Instant};

use phr_fhir::Resource;
use phr_views::summary::{summary, SummaryOptions};
use phr_views::timeline::{timeline, TimelineFilter};
use phr_views::{Day, Index, SourceKind, SourceRef, ViewItem};

fn load(path: &std::path::Path) -> Vec<Resource> {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .filter_map(|l| Resource::from_json(l).ok())
        .collect()
}

fn best<T>(rounds: usize, mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut best = Duration::MAX;
    let mut out = None;
    for _ in 0..rounds.max(1) {
        let t = Instant::now();
        let v = f();
        best = best.min(t.elapsed());
        out = Some(v);
    }
    (best, out.expect("at least one round"))
}

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = std::path::PathBuf::from(args.next().unwrap_or_else(|| "sandbox/data".into()));
    // ROUNDS: best of this many runs; `load` stops after loading, `once` after one build (for
    // instruction counts: the difference of the two is the build).
    let mode = args.next().unwrap_or_else(|| "5".into());
    let rounds: usize = mode.parse().unwrap_or(1);
    let sources = [
        (
            "general.ndjson",
            "ehr:demo-general",
            "Demo General Hospital",
        ),
        (
            "clinic.ndjson",
            "ehr:demo-clinic",
            "Demo Behavioral Health Clinic",
        ),
    ];
    let mut entries: Vec<(String, Resource, usize)> = Vec::new();
    for (s, (file, id, _)) in sources.iter().enumerate() {
        for r in load(&dir.join(file)) {
            let key = format!(
                "{{\"s\":\"{id}\",\"t\":\"{}\",\"id\":\"{}\"}}",
                r.resource_type(),
                r.id().unwrap_or("")
            );
            entries.push((key, r, s));
        }
    }
    let raw: usize = entries.iter().map(|(_, r, _)| r.raw().len()).sum();
    let items = || {
        entries.iter().map(|(k, r, s)| ViewItem {
            key: k,
            resource: r,
            source: SourceRef {
                id: sources[*s].1,
                label: sources[*s].2,
                kind: SourceKind::Ehr,
            },
            hidden: false,
            gone_at_source: false,
        })
    };
    if mode == "load" {
        println!("loaded {} resources", entries.len());
        return;
    }
    if mode == "cached" {
        let bytes = Index::build(items()).to_bytes();
        println!("{} bytes", bytes.len());
        return;
    }
    if mode == "load-cached" {
        let bytes = Index::build(items()).to_bytes();
        println!("{} items", Index::from_bytes(&bytes).map_or(0, |i| i.len()));
        return;
    }
    if mode == "once" {
        println!("built {} items", Index::build(items()).len());
        return;
    }
    let (t, index) = best(rounds, || Index::build(items()));
    println!(
        "build: {t:?} for {} resources ({} KiB); index {} KiB, {} groups",
        index.len(),
        raw / 1024,
        index.heap_size() / 1024,
        index.group_count()
    );
    let (t, bytes) = best(rounds, || index.to_bytes());
    println!("to_bytes: {t:?}, {} KiB", bytes.len() / 1024);
    let (t, back) = best(rounds, || Index::from_bytes(&bytes).expect("round trip"));
    println!("from_bytes: {t:?} ({} items)", back.len());
    let opts = SummaryOptions::new(Day::from_ymd(2025, 1, 1).expect("valid day"));
    let (t, s) = best(rounds, || summary(&index, &opts));
    println!(
        "summary: {t:?} ({} problems, {} medications, {} results)",
        s.problems.len(),
        s.medications.len(),
        s.recent_results.len()
    );
    let (t, n) = best(rounds, || {
        timeline(&index, &TimelineFilter::clinical()).len()
    });
    println!("clinical timeline: {t:?} ({n} rows)");
    let mut worst = Duration::ZERO;
    for query in ["hemoglobin a1c", "glucose 9", "zzzz", "dr. "] {
        let mut typed = String::new();
        for c in query.chars() {
            typed.push(c);
            let f = TimelineFilter {
                text: typed.clone(),
                ..TimelineFilter::clinical()
            };
            let (t, n) = best(rounds, || timeline(&index, &f).len());
            worst = worst.max(t);
            if typed.len() == query.len() {
                println!("search {typed:?}: {n} rows, {t:?}");
            }
        }
    }
    println!("slowest keystroke: {worst:?}");
}
