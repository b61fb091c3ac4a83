//! The merged summary of an event: every table's notes per lane, ranked, plus all next steps, the shared themes and totals,
//! and the day view beside them: the market's stands, the lecture's pinned insights and the
//! closing feedback's next steps.
//!
//! [`summarize_day`] is a pure function of the event definition, table snapshots and the
//! [`DaySnapshot`]; the plenary page receives its result as JSON (camelCase) and every export
//! is made from it, so all of them show the notes in the same order.

mod themes;

use std::cmp::Ordering;

use serde::Serialize;

use crate::closing::{ClosingStep, StepSource};
use crate::day::{DaySnapshot, LectureSummary, StandSummary};
use crate::event::{Event, TableDef, TableId};
use crate::poster::{BoardView, PosterLayer, PosterPoint};
use crate::schema::{Lane, Note, NoteColor};
use crate::snapshot::TableSnapshot;

pub use themes::{NoteRef, Origin, THEME_LIMIT, Theme, find_themes};

/// What the plenary sees: all tables side by side, then what they share.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    /// The event's slug.
    pub event: String,
    pub title: String,
    pub tables: Vec<TableSummary>,
    /// Every `vervolgstap` note of every table, table by table, each table's in rank order.
    pub next_steps: Vec<NextStep>,
    /// Words and two-word phrases that notes of two or more origins (tables, stands, the
    /// lecture) share, at most [`THEME_LIMIT`], most widely shared first: the "rode lijnen".
    pub themes: Vec<Theme>,
    pub totals: Totals,
    /// The market's stands in the event's team order, each with its best tips.
    pub market: Vec<StandSummary>,
    /// The lecture board: pinned insights and the most +1'd.
    pub lecture: LectureSummary,
    /// The closing feedback's next steps, in the facilitator's order.
    pub closing_steps: Vec<ClosingStepView>,
}

/// A closing next step with where it came from, said in words.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClosingStepView {
    #[serde(flatten)]
    pub step: ClosingStep,
    /// "Tafel A — Vitale systemen", "Markt: OT 2 …", "Lezing: …"; empty without a source.
    pub source_label: String,
}

/// One table: what it is about and its notes per lane, ranked.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TableSummary {
    pub id: TableId,
    pub title: String,
    pub question: String,
    pub participants: usize,
    pub note_count: usize,
    /// Notes per lane, for a bar chart per table.
    pub lane_counts: LaneCounts,
    pub lanes: LaneNotes,
    /// How the table is shown now: the facilitator's choice, else the event file's.
    pub view: BoardView,
    /// The poster's arrows and markers, for a table in poster view or one with anything on
    /// the poster; its notes' positions are in [`NoteView::poster`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub poster: Option<PosterLayer>,
}

/// The notes of one table, per lane, each lane in rank order (see [`rank`]).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LaneNotes {
    pub goed: Vec<NoteView>,
    pub doorpakken: Vec<NoteView>,
    pub vervolgstap: Vec<NoteView>,
}

/// A note as the summary and the exports show it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NoteView {
    pub id: String,
    pub text: String,
    pub lane: Lane,
    /// Empty when the note has no author or the snapshot was anonymized.
    pub author: String,
    pub color: NoteColor,
    /// Milliseconds since the Unix epoch.
    pub created_at: i64,
    /// Milliseconds since the Unix epoch.
    pub updated_at: i64,
    /// Dot votes, once published.
    pub votes: u32,
    /// For a next step: who takes it (wie); empty when unset.
    pub owner: String,
    /// For a next step: when (wanneer); empty when unset.
    pub due: String,
    /// Where the note sits on the poster, if it was placed there.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub poster: Option<PosterPoint>,
    /// The market tip the note was brought in from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provenance: Option<crate::schema::Provenance>,
}

/// One next step with the table it came from.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NextStep {
    pub table: TableId,
    pub table_title: String,
    pub note_id: String,
    pub text: String,
    pub author: String,
    /// Who takes it (wie); empty when unset.
    pub owner: String,
    /// When (wanneer); empty when unset.
    pub due: String,
    pub votes: u32,
}

/// Counts over all tables.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Totals {
    pub notes: usize,
    pub participants: usize,
    pub tables: usize,
    pub next_steps: usize,
    pub per_lane: LaneCounts,
}

/// A number per lane.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LaneCounts {
    pub goed: usize,
    pub doorpakken: usize,
    pub vervolgstap: usize,
}

/// Merges the tables of `event` into one [`Summary`].
///
/// Tables come in the event's order. A table of the event without a snapshot is reported
/// empty (no notes, no participants); a snapshot of a table the event does not define comes
/// after the event's tables, titled by its id, so no note is ever dropped.
pub fn summarize(event: &Event, tables: &[TableSnapshot]) -> Summary {
    summarize_day(event, tables, &DaySnapshot::default())
}

/// [`summarize`] plus the rest of the day: the market, the lecture and the closing
/// feedback's next steps; themes are found across tables, stand tips and lecture insights.
pub fn summarize_day(event: &Event, tables: &[TableSnapshot], day: &DaySnapshot) -> Summary {
    let mut summaries: Vec<TableSummary> = event
        .tables
        .iter()
        .map(|def| {
            let snapshot = tables.iter().find(|t| t.table_id == def.id);
            table_summary(Some(def), &def.id, snapshot)
        })
        .collect();
    summaries.extend(
        tables
            .iter()
            .filter(|t| event.table(t.table_id.as_str()).is_none())
            .map(|t| table_summary(None, &t.table_id, Some(t))),
    );

    let next_steps: Vec<NextStep> = summaries
        .iter()
        .flat_map(|table| {
            table.lanes.vervolgstap.iter().map(|note| NextStep {
                table: table.id.clone(),
                table_title: table.title.clone(),
                note_id: note.id.clone(),
                text: note.text.clone(),
                author: note.author.clone(),
                owner: note.owner.clone(),
                due: note.due.clone(),
                votes: note.votes,
            })
        })
        .collect();

    let mut totals = Totals {
        tables: summaries.len(),
        next_steps: next_steps.len(),
        ..Totals::default()
    };
    for table in &summaries {
        totals.notes += table.note_count;
        totals.participants += table.participants;
        totals.per_lane.goed += table.lane_counts.goed;
        totals.per_lane.doorpakken += table.lane_counts.doorpakken;
        totals.per_lane.vervolgstap += table.lane_counts.vervolgstap;
    }

    let table_origins: Vec<Origin> = summaries
        .iter()
        .map(|table| Origin::Table {
            id: table.id.clone(),
        })
        .collect();
    let stand_origins: Vec<Origin> = day
        .market
        .stands
        .iter()
        .map(|stand| Origin::Stand { team: stand.team })
        .collect();
    let lecture = Origin::Lecture;
    let table_notes = summaries
        .iter()
        .zip(&table_origins)
        .flat_map(|(table, origin)| {
            table
                .lanes
                .all()
                .map(move |note| (origin, note.id.as_str(), note.text.as_str()))
        });
    let stand_tips = day
        .market
        .stands
        .iter()
        .zip(&stand_origins)
        .flat_map(|(stand, origin)| {
            stand
                .tips
                .iter()
                .map(move |tip| (origin, tip.id.as_str(), tip.text.as_str()))
        });
    let insights = day
        .lecture
        .items
        .iter()
        .map(|item| (&lecture, item.id.as_str(), item.text.as_str()));
    let themes = find_themes(table_notes.chain(stand_tips).chain(insights));

    let closing_steps = day
        .closing
        .iter()
        .map(|step| ClosingStepView {
            source_label: step
                .source
                .as_ref()
                .map(|source| source_label(event, day, source))
                .unwrap_or_default(),
            step: step.clone(),
        })
        .collect();

    Summary {
        event: event.slug.clone(),
        title: event.title.clone(),
        tables: summaries,
        next_steps,
        themes,
        totals,
        market: day.market.summary(),
        lecture: day.lecture.summary(),
        closing_steps,
    }
}

/// Where a closing step came from, in words; a lecture insight is quoted when the board
/// still has it.
fn source_label(event: &Event, day: &DaySnapshot, source: &StepSource) -> String {
    match source {
        StepSource::Lecture { insight } => {
            match day.lecture.items.iter().find(|i| &i.id == insight) {
                Some(item) => format!("Lezing: {}", item.text),
                None => "Lezing".to_string(),
            }
        }
        other => other.label(event),
    }
}

/// The order of notes within a lane: most votes first; without votes (before or without
/// a voting round), most worked-on first.
///
/// A note's document holds three signals of how much a group did with it: when it was
/// created, when it was last edited, and its text. After **votes**, we rank by
///
/// 1. **edit span** (`updatedAt − createdAt`), longest first: a note that the group came back
///    to and changed half an hour after writing it was discussed; one typed once and left
///    was not. Unlike "most recently updated first", this does not simply favour whatever
///    was written last.
/// 2. **text length** in characters, longest first: between notes worked on equally long, the
///    more elaborated one says more in a plenary.
/// 3. **last update**, most recent first, then the note id, so the order is total and the
///    same on every call.
///
/// Limits: a note typed slowly has a longer span than one pasted at once, and the span of a
/// note written at the end of the session is short however important it is. Votes, once the
/// document has them, replace the first key.
pub fn rank(a: &NoteView, b: &NoteView) -> Ordering {
    let span = |note: &NoteView| note.updated_at.saturating_sub(note.created_at).max(0);
    // Votes decide first once there are any; edit activity orders the rest.
    b.votes
        .cmp(&a.votes)
        .then_with(|| span(b).cmp(&span(a)))
        .then_with(|| b.text.chars().count().cmp(&a.text.chars().count()))
        .then(b.updated_at.cmp(&a.updated_at))
        .then_with(|| a.id.cmp(&b.id))
}

impl Summary {
    /// The table with this id.
    pub fn table(&self, id: &str) -> Option<&TableSummary> {
        self.tables.iter().find(|table| table.id.as_str() == id)
    }
}

impl LaneNotes {
    pub fn lane(&self, lane: Lane) -> &[NoteView] {
        match lane {
            Lane::Goed => &self.goed,
            Lane::Doorpakken => &self.doorpakken,
            Lane::Vervolgstap => &self.vervolgstap,
        }
    }

    /// Every note, lane by lane in display order.
    pub fn all(&self) -> impl Iterator<Item = &NoteView> {
        Lane::ALL.into_iter().flat_map(|lane| self.lane(lane))
    }

    fn lane_mut(&mut self, lane: Lane) -> &mut Vec<NoteView> {
        match lane {
            Lane::Goed => &mut self.goed,
            Lane::Doorpakken => &mut self.doorpakken,
            Lane::Vervolgstap => &mut self.vervolgstap,
        }
    }
}

impl LaneCounts {
    pub fn get(&self, lane: Lane) -> usize {
        match lane {
            Lane::Goed => self.goed,
            Lane::Doorpakken => self.doorpakken,
            Lane::Vervolgstap => self.vervolgstap,
        }
    }
}

/// How a table is shown: the facilitator's choice in `control.view`, else the event file's.
pub fn effective_view(def: Option<&TableDef>, snapshot: Option<&TableSnapshot>) -> BoardView {
    snapshot
        .and_then(|s| s.poster.view)
        .or(def.map(|d| d.view))
        .unwrap_or_default()
}

impl From<&Note> for NoteView {
    fn from(note: &Note) -> NoteView {
        NoteView {
            id: note.id.clone(),
            text: note.text.clone(),
            lane: note.lane,
            author: note.author.clone(),
            color: note.color,
            created_at: note.created_at,
            updated_at: note.updated_at,
            votes: note.votes,
            owner: note.owner.clone(),
            due: note.due.clone(),
            poster: note.poster,
            provenance: note.provenance.clone(),
        }
    }
}

fn table_summary(
    def: Option<&TableDef>,
    id: &TableId,
    snapshot: Option<&TableSnapshot>,
) -> TableSummary {
    let notes = snapshot.map_or(&[][..], |s| s.notes.as_slice());
    let view = effective_view(def, snapshot);
    let mut lanes = LaneNotes::default();
    for note in notes {
        lanes.lane_mut(note.lane).push(NoteView::from(note));
    }
    for lane in Lane::ALL {
        lanes.lane_mut(lane).sort_by(rank);
    }
    TableSummary {
        id: id.clone(),
        title: def.map_or_else(|| id.to_string(), |d| d.title.clone()),
        question: def.map(|d| d.question.clone()).unwrap_or_default(),
        participants: snapshot.map_or(0, |s| s.participants),
        note_count: notes.len(),
        lane_counts: LaneCounts {
            goed: lanes.goed.len(),
            doorpakken: lanes.doorpakken.len(),
            vervolgstap: lanes.vervolgstap.len(),
        },
        lanes,
        view,
        poster: snapshot
            .filter(|s| {
                view == BoardView::Poster
                    || !s.poster.arrows.is_empty()
                    || !s.poster.markers.is_empty()
                    || s.notes.iter().any(|n| n.poster.is_some())
            })
            .map(|s| s.poster.clone()),
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod day_tests;
