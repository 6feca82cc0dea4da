//! The row every list, the timeline and the summary show: one same-fact group, with all its
//! sources and the patient-reported flag.

use crate::index::{
    Activity, Category, GroupId, Index, ItemId, SourceId, F_ERROR, F_GONE, F_HIDDEN, F_PATIENT,
    NOTE_PARTIAL, NOTE_UNREADABLE,
};
use crate::input::SourceKind;
use crate::time::When;

/// One source's copy of a fact.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SourceBadge {
    pub source: SourceId,
    /// "Demo General Hospital", "You".
    pub label: String,
    pub kind: SourceKind,
    /// The entry key of this copy (open it, hide it, annotate it).
    pub key: String,
    /// This copy was entered by the patient.
    pub patient_reported: bool,
    pub gone_at_source: bool,
    pub hidden: bool,
}

/// One fact as shown on screen. Serialisable (serde) so the app can cache the last summary.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub group: GroupId,
    /// The key of the copy the row's text comes from (a clinician-sourced one when there is one).
    pub key: String,
    pub resource_type: String,
    pub category: Category,
    pub title: String,
    pub detail: String,
    /// The resource's status code as written.
    pub status: String,
    pub activity: Activity,
    pub date: Option<When>,
    /// Every source that has this fact (shown copies only).
    pub sources: Vec<SourceBadge>,
    /// True when every shown copy was entered by the patient: show "entered by you", never as
    /// clinician-verified. When false, at least one clinician source has the fact; copies entered
    /// by the patient are still marked in `sources`.
    pub patient_reported: bool,
    /// Every shown copy is gone at its source.
    pub gone_at_source: bool,
    /// The row is shown only because hidden entries were asked for.
    pub hidden: bool,
    /// A "could not read" note for malformed resources.
    pub note: Option<&'static str>,
}

/// The serialised form of a [`Row`]: the note (one of the crate's fixed texts) as a short code.
#[derive(serde::Serialize, serde::Deserialize)]
struct RowRepr {
    group: GroupId,
    key: String,
    resource_type: String,
    category: Category,
    title: String,
    detail: String,
    status: String,
    activity: Activity,
    date: Option<When>,
    sources: Vec<SourceBadge>,
    patient_reported: bool,
    gone_at_source: bool,
    hidden: bool,
    note: Option<NoteCode>,
}

#[derive(Clone, Copy, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
enum NoteCode {
    Unreadable,
    Partial,
}

impl NoteCode {
    fn of(text: &str) -> Option<NoteCode> {
        if text == NOTE_UNREADABLE {
            Some(NoteCode::Unreadable)
        } else if text == NOTE_PARTIAL {
            Some(NoteCode::Partial)
        } else {
            None
        }
    }

    fn text(self) -> &'static str {
        match self {
            NoteCode::Unreadable => NOTE_UNREADABLE,
            NoteCode::Partial => NOTE_PARTIAL,
        }
    }
}

impl serde::Serialize for Row {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        RowRepr::from(self.clone()).serialize(s)
    }
}

impl<'de> serde::Deserialize<'de> for Row {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        RowRepr::deserialize(d).map(Row::from)
    }
}

impl From<RowRepr> for Row {
    fn from(r: RowRepr) -> Row {
        Row {
            group: r.group,
            key: r.key,
            resource_type: r.resource_type,
            category: r.category,
            title: r.title,
            detail: r.detail,
            status: r.status,
            activity: r.activity,
            date: r.date,
            sources: r.sources,
            patient_reported: r.patient_reported,
            gone_at_source: r.gone_at_source,
            hidden: r.hidden,
            note: r.note.map(NoteCode::text),
        }
    }
}

impl From<Row> for RowRepr {
    fn from(r: Row) -> RowRepr {
        RowRepr {
            group: r.group,
            key: r.key,
            resource_type: r.resource_type,
            category: r.category,
            title: r.title,
            detail: r.detail,
            status: r.status,
            activity: r.activity,
            date: r.date,
            sources: r.sources,
            patient_reported: r.patient_reported,
            gone_at_source: r.gone_at_source,
            hidden: r.hidden,
            note: r.note.and_then(NoteCode::of),
        }
    }
}

impl Index {
    /// Members of a group that are shown: not entered-in-error, and not hidden unless asked.
    pub(crate) fn shown_members(
        &self,
        g: GroupId,
        include_hidden: bool,
    ) -> impl Iterator<Item = ItemId> + '_ {
        self.group_members(g)
            .iter()
            .copied()
            .filter(move |&i| {
                let f = self.items[i as usize].flags;
                f & F_ERROR == 0 && (include_hidden || f & F_HIDDEN == 0)
            })
            .map(ItemId)
    }

    /// The shown copy whose text represents the group, or None when nothing is shown.
    pub(crate) fn shown_rep(&self, g: GroupId, include_hidden: bool) -> Option<ItemId> {
        if g.0 as usize >= self.groups.len() {
            return None;
        }
        let rep = self.group_rep(g);
        let f = self.items[rep.0 as usize].flags;
        if f & F_ERROR == 0 && (include_hidden || f & F_HIDDEN == 0) {
            return Some(rep);
        }
        self.shown_members(g, include_hidden).min_by_key(|&i| {
            let it = &self.items[i.0 as usize];
            (
                it.flags & F_PATIENT != 0,
                it.flags & F_GONE != 0,
                it.flags & F_HIDDEN != 0,
                std::cmp::Reverse(it.date.map(|d| d.sort_key())),
                i.0,
            )
        })
    }

    /// The row for a group; None when every copy is hidden (and hidden are not asked for) or
    /// entered in error.
    pub fn row(&self, g: GroupId, include_hidden: bool) -> Option<Row> {
        let rep = self.shown_rep(g, include_hidden)?;
        Some(self.row_with_rep(g, rep, include_hidden))
    }

    /// The row of the group an item belongs to.
    pub fn row_of(&self, id: ItemId, include_hidden: bool) -> Option<Row> {
        self.row(self.group_of(id), include_hidden)
    }

    pub(crate) fn row_with_rep(&self, g: GroupId, rep: ItemId, include_hidden: bool) -> Row {
        let it = self.item(rep);
        let sources: Vec<SourceBadge> = self
            .shown_members(g, include_hidden)
            .map(|m| {
                let mi = self.item(m);
                SourceBadge {
                    source: mi.source_id(),
                    label: mi.source().label.clone(),
                    kind: mi.source().kind,
                    key: mi.key().to_string(),
                    patient_reported: mi.patient_reported(),
                    gone_at_source: mi.gone_at_source(),
                    hidden: mi.hidden(),
                }
            })
            .collect();
        Row {
            group: g,
            key: it.key().to_string(),
            resource_type: it.resource_type().to_string(),
            category: it.category(),
            title: it.title().to_string(),
            detail: it.detail().to_string(),
            status: it.status().to_string(),
            activity: it.activity(),
            date: it.date(),
            patient_reported: sources.iter().all(|s| s.patient_reported),
            gone_at_source: sources.iter().all(|s| s.gone_at_source),
            hidden: it.hidden(),
            note: it.note(),
            sources,
        }
    }

    /// Groups whose shown representative satisfies `keep`, in group order.
    pub(crate) fn shown_groups<'a>(
        &'a self,
        include_hidden: bool,
        mut keep: impl FnMut(&crate::index::ItemRef<'a>) -> bool + 'a,
    ) -> impl Iterator<Item = (GroupId, ItemId)> + 'a {
        (0..self.groups.len() as u32).filter_map(move |g| {
            let g = GroupId(g);
            let rep = self.shown_rep(g, include_hidden)?;
            keep(&self.item(rep)).then_some((g, rep))
        })
    }
}
