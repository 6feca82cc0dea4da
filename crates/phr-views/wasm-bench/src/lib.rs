//! Raw wasm exports for timing phr-views in Node: the JS side writes each NDJSON file into
//! [`buffer`], calls [`load`], then times [`build`], [`to_bytes`], [`from_bytes`], [`summarize`]
//! and [`search`] (the query is written into the buffer too). No unsafe code, no imports.

use std::cell::RefCell;

use phr_fhir::Resource;
use phr_views::summary::{summary, SummaryOptions};
use phr_views::timeline::{timeline, TimelineFilter};
use phr_views::{Day, Index, SourceKind, SourceRef, ViewItem};

const IDS: [&str; 2] = ["ehr:demo-general", "ehr:demo-clinic"];
const LABELS: [&str; 2] = ["Demo General Hospital", "Demo Behavioral Health Clinic"];

#[derive(Default)]
struct State {
    input: Vec<u8>,
    entries: Vec<(String, Resource, usize)>,
    index: Option<Index>,
    bytes: Vec<u8>,
}

thread_local! {
    static STATE: RefCell<State> = RefCell::new(State::default());
}

/// A buffer of `n` bytes for the JS side to fill; valid until the next call.
#[no_mangle]
pub extern "C" fn buffer(n: usize) -> *mut u8 {
    STATE.with_borrow_mut(|s| {
        s.input = vec![0; n];
        s.input.as_mut_ptr()
    })
}

fn input(s: &State) -> String {
    String::from_utf8_lossy(&s.input).into_owned()
}

/// Reads the buffer as NDJSON from source 0 (general) or 1 (clinic); returns the entry count.
#[no_mangle]
pub extern "C" fn load(source: usize) -> usize {
    STATE.with_borrow_mut(|s| {
        let text = input(s);
        for l in text.lines().filter(|l| !l.trim().is_empty()) {
            if let Ok(r) = Resource::from_json(l) {
                let key = format!(
                    "{{\"s\":\"{}\",\"t\":\"{}\",\"id\":\"{}\"}}",
                    IDS[source % 2],
                    r.resource_type(),
                    r.id().unwrap_or("")
                );
                s.entries.push((key, r, source % 2));
            }
        }
        s.entries.len()
    })
}

#[no_mangle]
pub extern "C" fn build() -> usize {
    STATE.with_borrow_mut(|s| {
        let items = s.entries.iter().map(|(k, r, src)| ViewItem {
            key: k,
            resource: r,
            source: SourceRef {
                id: IDS[*src],
                label: LABELS[*src],
                kind: SourceKind::Ehr,
            },
            hidden: false,
            gone_at_source: false,
        });
        let index = Index::build(items);
        let n = index.len();
        s.index = Some(index);
        n
    })
}

#[no_mangle]
pub extern "C" fn to_bytes() -> usize {
    STATE.with_borrow_mut(|s| {
        s.bytes = s.index.as_ref().map(Index::to_bytes).unwrap_or_default();
        s.bytes.len()
    })
}

#[no_mangle]
pub extern "C" fn from_bytes() -> usize {
    STATE.with_borrow(|s| Index::from_bytes(&s.bytes).map_or(0, |i| i.len()))
}

#[no_mangle]
pub extern "C" fn summarize() -> usize {
    STATE.with_borrow(|s| {
        let today = Day::from_ymd(2025, 1, 1).unwrap_or(Day(0));
        s.index.as_ref().map_or(0, |i| {
            summary(i, &SummaryOptions::new(today)).problems.len()
        })
    })
}

/// Searches the clinical timeline for the text in the buffer; returns the row count.
#[no_mangle]
pub extern "C" fn search() -> usize {
    STATE.with_borrow(|s| {
        let f = TimelineFilter {
            text: input(s),
            ..TimelineFilter::clinical()
        };
        s.index.as_ref().map_or(0, |i| timeline(i, &f).len())
    })
}
