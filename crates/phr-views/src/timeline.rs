//! The timeline: every dated fact, newest first, with filters, free-text search and windowing
//! helpers for a virtualised list.
//!
//! # Key design decision: precomputed order and haystacks, indices out
//!
//! The order (newest first) is computed once in [`Index::build`]. A query returns group ids
//! (`Vec<GroupId>`, 4 bytes each) and allocates nothing per item; rows are built only for the
//! window on screen ([`rows_for`]). Search text is folded (lower case, no diacritics) at build
//! time; a query folds its words once, tests each distinct concept's haystack once, and then only
//! each item's short own text. Multiple words must all match (in any field, in any copy of the
//! fact).

use std::ops::Range;

use crate::index::{Category, CategorySet, GroupId, Index, ItemId, SourceId};
use crate::rows::Row;
use crate::text::fold;
use crate::time::Day;

/// What the timeline shows.
#[derive(Clone, Debug, PartialEq)]
pub struct TimelineFilter {
    /// Categories to show (default: everything except [`Category::Directory`]).
    pub categories: CategorySet,
    /// Only these FHIR resource types (None: all types), e.g. `["Immunization"]`.
    pub resource_types: Option<Vec<String>>,
    /// Only facts with a copy from one of these sources (None: all sources).
    pub sources: Option<Vec<SourceId>>,
    /// First day to show, inclusive, on the date as written.
    pub from: Option<Day>,
    /// Last day to show, inclusive.
    pub to: Option<Day>,
    /// Free text: every word must match a display, code or value.
    pub text: String,
    pub include_hidden: bool,
}

impl Default for TimelineFilter {
    fn default() -> Self {
        let mut categories = CategorySet::all();
        categories.remove(Category::Directory);
        TimelineFilter {
            categories,
            resource_types: None,
            sources: None,
            from: None,
            to: None,
            text: String::new(),
            include_hidden: false,
        }
    }
}

impl TimelineFilter {
    /// The health timeline most patients want first: everything except the directory, billing
    /// (claims, explanations of benefit) and the dose log.
    pub fn clinical() -> TimelineFilter {
        let mut f = TimelineFilter::default();
        f.categories.remove(Category::Billing);
        f.categories.remove(Category::DoseLog);
        f
    }
}

/// A prepared free-text query: folded words, at most 64, each with a substring searcher built
/// once (a keystroke tests thousands of short texts; building the searcher per text used to
/// cost more than the search itself).
#[derive(Clone, Debug, Default)]
pub struct SearchQuery {
    words: Vec<String>,
    finders: Vec<memchr::memmem::Finder<'static>>,
}

impl PartialEq for SearchQuery {
    fn eq(&self, other: &SearchQuery) -> bool {
        self.words == other.words
    }
}

impl Eq for SearchQuery {}

impl SearchQuery {
    /// Folds the text and splits it into words (a word that is a prefix of another is dropped).
    pub fn new(text: &str) -> SearchQuery {
        let folded = fold(text);
        let mut words: Vec<String> = Vec::new();
        for w in folded.split_whitespace() {
            // A word that is a prefix of another adds nothing (both match at a word start).
            if !words.iter().any(|x| x.starts_with(w)) {
                words.retain(|x| !w.starts_with(x.as_str()));
                words.push(w.to_string());
            }
        }
        words.truncate(64);
        let finders = words
            .iter()
            .map(|w| memchr::memmem::Finder::new(w.as_bytes()).into_owned())
            .collect();
        SearchQuery { words, finders }
    }

    /// Whether there is nothing to search for.
    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// The folded words.
    pub fn words(&self) -> &[String] {
        &self.words
    }

    fn all(&self) -> u64 {
        if self.words.len() >= 64 {
            u64::MAX
        } else {
            (1u64 << self.words.len()) - 1
        }
    }

    fn mask(&self, hay: &str, already: u64) -> u64 {
        let mut m = already;
        for (i, f) in self.finders.iter().enumerate() {
            if m & (1 << i) == 0 && contains_word_start(hay, f) {
                m |= 1 << i;
            }
        }
        m
    }
}

/// Whether `word` occurs in `hay` at the start of a word (after the start of the text or a
/// character that is not a letter or digit): `chol` finds "Cholesterol", `140` finds CVX 140 but
/// not RxNorm 314076.
fn contains_word_start(hay: &str, word: &memchr::memmem::Finder<'_>) -> bool {
    // A match starts with the word's first byte, a UTF-8 lead byte: always a char boundary.
    word.find_iter(hay.as_bytes()).any(|i| {
        hay.get(..i)
            .and_then(|before| before.chars().next_back())
            .is_none_or(|c| !c.is_alphanumeric())
    })
}

/// Per-query search state: which words each concept matches.
pub(crate) struct Matcher<'a> {
    index: &'a Index,
    query: &'a SearchQuery,
    concept_masks: Vec<u64>,
}

impl<'a> Matcher<'a> {
    pub(crate) fn new(index: &'a Index, query: &'a SearchQuery) -> Matcher<'a> {
        let concept_masks = if query.is_empty() {
            Vec::new()
        } else {
            index
                .concepts
                .iter()
                .map(|c| query.mask(index.text(c.hay), 0))
                .collect()
        };
        Matcher {
            index,
            query,
            concept_masks,
        }
    }

    pub(crate) fn matches(&self, id: ItemId) -> bool {
        if self.query.is_empty() {
            return true;
        }
        let it = self.index.raw(id);
        let all = self.query.all();
        let m = self.concept_masks[it.concept as usize];
        m == all || self.query.mask(self.index.text(it.hay), m) == all
    }
}

/// Whether one item matches a free-text query.
pub fn item_matches(index: &Index, id: ItemId, query: &SearchQuery) -> bool {
    Matcher::new(index, query).matches(id)
}

/// The timeline: group ids, newest first, filtered.
pub fn timeline(index: &Index, filter: &TimelineFilter) -> Vec<GroupId> {
    let query = SearchQuery::new(&filter.text);
    let matcher = Matcher::new(index, &query);
    let mut out = Vec::new();
    for &g in &index.timeline {
        let g = GroupId(g);
        let Some(rep) = index.shown_rep(g, filter.include_hidden) else {
            continue;
        };
        let it = index.raw(rep);
        if !filter.categories.contains(it.category) {
            continue;
        }
        if let Some(types) = &filter.resource_types {
            let t = index.item(rep).resource_type();
            if !types.iter().any(|x| x == t) {
                continue;
            }
        }
        if let Some(d) = it.date {
            if filter.from.is_some_and(|f| d.day() < f) || filter.to.is_some_and(|t| d.day() > t) {
                continue;
            }
        }
        if filter.sources.is_none() && query.is_empty() {
            out.push(g);
            continue;
        }
        let mut source_ok = filter.sources.is_none();
        let mut text_ok = query.is_empty();
        for m in index.shown_members(g, filter.include_hidden) {
            if !source_ok {
                if let Some(s) = &filter.sources {
                    source_ok = s.contains(&SourceId(index.raw(m).source));
                }
            }
            if !text_ok {
                text_ok = matcher.matches(m);
            }
            if source_ok && text_ok {
                break;
            }
        }
        if source_ok && text_ok {
            out.push(g);
        }
    }
    out
}

/// Builds the rows for a slice of results (the visible window).
pub fn rows_for(index: &Index, groups: &[GroupId], include_hidden: bool) -> Vec<Row> {
    groups
        .iter()
        .filter_map(|&g| index.row(g, include_hidden))
        .collect()
}

/// Which rows of a virtualised list to render.
#[derive(Clone, Debug, PartialEq)]
pub struct Window {
    /// Rows `range` (clamped to the list) are rendered…
    pub range: Range<usize>,
    /// …starting this many pixels from the top of the list.
    pub offset_px: f64,
    /// The height of the whole list, for the scroll area.
    pub total_px: f64,
}

/// The window of a fixed-row-height list scrolled to `scroll_top`, with `overscan` extra rows
/// above and below.
pub fn window(
    total_rows: usize,
    row_height: f64,
    scroll_top: f64,
    viewport_height: f64,
    overscan: usize,
) -> Window {
    let total_px = total_rows as f64 * row_height.max(0.0);
    if total_rows == 0 || row_height <= 0.0 || !row_height.is_finite() {
        return Window {
            range: 0..0,
            offset_px: 0.0,
            total_px: total_px.max(0.0),
        };
    }
    let top = if scroll_top.is_finite() {
        scroll_top.max(0.0)
    } else {
        0.0
    };
    let first = ((top / row_height).floor() as usize).min(total_rows.saturating_sub(1));
    let visible = (viewport_height.max(0.0) / row_height).ceil() as usize + 1;
    let start = first.saturating_sub(overscan);
    let end = (first + visible + overscan).min(total_rows);
    Window {
        range: start..end,
        offset_px: start as f64 * row_height,
        total_px,
    }
}

/// Page `page` (0-based) of `per_page` items; empty past the end.
pub fn page<T>(items: &[T], page: usize, per_page: usize) -> &[T] {
    if per_page == 0 {
        return &[];
    }
    let start = page.saturating_mul(per_page).min(items.len());
    let end = start.saturating_add(per_page).min(items.len());
    &items[start..end]
}

/// Number of pages for `len` items.
pub fn page_count(len: usize, per_page: usize) -> usize {
    if per_page == 0 {
        0
    } else {
        len.div_ceil(per_page)
    }
}

/// Month headers for a result list: `(year, month, index of the first row of that month)`.
pub fn month_breaks(index: &Index, groups: &[GroupId]) -> Vec<(i32, u32, usize)> {
    let mut out: Vec<(i32, u32, usize)> = Vec::new();
    for (i, &g) in groups.iter().enumerate() {
        let Some(d) = index.item(index.group_rep(g)).date() else {
            continue;
        };
        let (y, m, _) = d.day().ymd();
        if out.last().is_none_or(|&(ly, lm, _)| (ly, lm) != (y, m)) {
            out.push((y, m, i));
        }
    }
    out
}
