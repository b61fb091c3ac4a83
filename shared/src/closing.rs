//! The closing feedback's next steps ("terugkoppeling", 16:15–17:00): what the room agrees
//! to do, each with an owner, a moment, where it came from (a table, a market stand, a
//! lecture insight) and the follow-up it feeds (werksessie, zomertour, anders), in the order
//! the facilitator gives them.
//!
//! They live in one event-level document that only the server writes (no client can open
//! it): the facilitator's requests are validated here ([`StepInput::validate`],
//! [`StepPatch`]), applied with [`add_step`], [`update_step`], [`remove_step`] and
//! [`reorder_steps`], and read back with [`read_steps`]. Viewers see them through the
//! plenary summary.

use serde::{Deserialize, Deserializer, Serialize};
use yrs::{Any, Map, MapPrelim, MapRef, Number, Out, ReadTxn, TransactionMut, WriteTxn};

use crate::event::{Event, TableId};
use crate::schema::{as_i64, get_string};

/// The store key (table part) of the event's closing document, beside the tables. It holds
/// a `/`, which no room name a client can open does.
pub const CLOSING_DOCUMENT: &str = "closing/next-steps";
/// Name of the top-level `Y.Map` of next steps: id → `Y.Map` of plain values.
pub const STEPS: &str = "steps";

/// Most next steps one closing feedback holds: a long list for a plenary of 45 minutes.
pub const MAX_STEPS: usize = 200;
/// Longest text of a next step, in characters.
pub const MAX_STEP_TEXT_CHARS: usize = 500;
/// Longest owner (wie), in characters.
pub const MAX_STEP_OWNER_CHARS: usize = 120;
/// Longest moment (wanneer), in characters.
pub const MAX_STEP_DUE_CHARS: usize = 80;
/// Longest id of a lecture insight a step may name (the board's note ids: 8 to 32).
pub const MAX_INSIGHT_ID_CHARS: usize = 32;

/// The follow-up a next step feeds, as the programme names them.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum FollowUp {
    Werksessie,
    Zomertour,
    #[default]
    Anders,
}

/// Where a next step comes from.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase", deny_unknown_fields)]
pub enum StepSource {
    /// A work table of the afternoon.
    Table { id: TableId },
    /// A development team's market stand.
    Stand { team: u32 },
    /// An insight or question of the lecture board.
    Lecture { insight: String },
}

/// One agreed next step, as stored and as the plenary shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClosingStep {
    pub id: String,
    pub text: String,
    /// Who takes it (wie); empty when unset.
    pub owner: String,
    /// When (wanneer), as people say it; empty when unset.
    pub due: String,
    pub source: Option<StepSource>,
    pub follow_up: FollowUp,
    /// Milliseconds since the Unix epoch.
    pub created_at: i64,
    pub updated_at: i64,
}

/// A new next step, as the facilitator sends it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct StepInput {
    pub text: String,
    pub owner: String,
    pub due: String,
    pub source: Option<StepSource>,
    pub follow_up: FollowUp,
}

/// A change to a next step: only the fields present change; `"source": null` clears it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct StepPatch {
    pub text: Option<String>,
    pub owner: Option<String>,
    pub due: Option<String>,
    #[serde(deserialize_with = "present")]
    pub source: Option<Option<StepSource>>,
    pub follow_up: Option<FollowUp>,
}

/// Why a request about next steps is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StepError {
    #[error("a next step needs a text")]
    EmptyText,
    #[error("{field} is at most {max} characters")]
    TooLong { field: &'static str, max: usize },
    #[error("the closing feedback holds at most {max} next steps")]
    TooMany { max: usize },
    #[error("the event has no table '{0}'")]
    UnknownTable(String),
    #[error("the event has no development team {0}")]
    UnknownTeam(u32),
    #[error("'{0}' is not a lecture insight id (1 to 32 of A-Z a-z 0-9 _ -)")]
    BadInsightId(String),
    #[error("there is no next step '{0}'")]
    UnknownStep(String),
    #[error("the new order must name every next step exactly once")]
    OrderMismatch,
}

impl FollowUp {
    pub const ALL: [FollowUp; 3] = [FollowUp::Werksessie, FollowUp::Zomertour, FollowUp::Anders];

    pub fn as_str(self) -> &'static str {
        match self {
            FollowUp::Werksessie => "werksessie",
            FollowUp::Zomertour => "zomertour",
            FollowUp::Anders => "anders",
        }
    }

    pub fn parse(value: &str) -> Option<FollowUp> {
        FollowUp::ALL.into_iter().find(|f| f.as_str() == value)
    }

    /// The heading of its group in the werkboek.
    pub fn title(self) -> &'static str {
        match self {
            FollowUp::Werksessie => "Werksessies",
            FollowUp::Zomertour => "Zomertours",
            FollowUp::Anders => "Anders",
        }
    }
}

impl StepSource {
    /// Checks that what the source names exists in `event` (tables, teams) or is shaped
    /// like an insight id.
    pub fn validate(&self, event: &Event) -> Result<(), StepError> {
        match self {
            StepSource::Table { id } if event.table(id.as_str()).is_none() => {
                Err(StepError::UnknownTable(id.to_string()))
            }
            StepSource::Stand { team } if event.team(*team).is_none() => {
                Err(StepError::UnknownTeam(*team))
            }
            StepSource::Lecture { insight } if !is_insight_id(insight) => {
                Err(StepError::BadInsightId(insight.clone()))
            }
            _ => Ok(()),
        }
    }

    /// "Tafel A — Vitale systemen", "Markt: OT 2 Stedelijk programmeren…", "Lezing": how
    /// the plenary and the werkboek say where a step came from.
    pub fn label(&self, event: &Event) -> String {
        match self {
            StepSource::Table { id } => match event.table(id.as_str()) {
                Some(def) => format!("Tafel {} — {}", id.as_str().to_uppercase(), def.title),
                None => format!("Tafel {}", id.as_str().to_uppercase()),
            },
            StepSource::Stand { team } => match event.team(*team) {
                Some(t) => format!("Markt: OT {team} {}", t.name),
                None => format!("Markt: OT {team}"),
            },
            StepSource::Lecture { .. } => "Lezing".to_string(),
        }
    }
}

impl StepInput {
    /// The input trimmed and checked against the limits and the event.
    pub fn validate(mut self, event: &Event) -> Result<StepInput, StepError> {
        self.text = text_field(&self.text, "text", MAX_STEP_TEXT_CHARS)?;
        if self.text.is_empty() {
            return Err(StepError::EmptyText);
        }
        self.owner = text_field(&self.owner, "owner", MAX_STEP_OWNER_CHARS)?;
        self.due = text_field(&self.due, "due", MAX_STEP_DUE_CHARS)?;
        if let Some(source) = &self.source {
            source.validate(event)?;
        }
        Ok(self)
    }
}

/// Adds a validated step with id `id` (the server makes it) at the end of the list.
pub fn add_step(
    txn: &mut TransactionMut,
    event: &Event,
    id: &str,
    input: StepInput,
    now_ms: i64,
) -> Result<ClosingStep, StepError> {
    let input = input.validate(event)?;
    let current = read_steps_in(txn);
    if current.len() >= MAX_STEPS {
        return Err(StepError::TooMany { max: MAX_STEPS });
    }
    let step = ClosingStep {
        id: id.to_string(),
        text: input.text,
        owner: input.owner,
        due: input.due,
        source: input.source,
        follow_up: input.follow_up,
        created_at: now_ms,
        updated_at: now_ms,
    };
    let rank = current.len() as i64;
    write_step(txn, &step, rank);
    Ok(step)
}

/// Applies `patch` to step `id`.
pub fn update_step(
    txn: &mut TransactionMut,
    event: &Event,
    id: &str,
    patch: StepPatch,
    now_ms: i64,
) -> Result<ClosingStep, StepError> {
    let steps = read_steps_in(txn);
    let (rank, current) = steps
        .into_iter()
        .enumerate()
        .find(|(_, s)| s.id == id)
        .ok_or_else(|| StepError::UnknownStep(id.to_string()))?;
    let input = StepInput {
        text: patch.text.unwrap_or(current.text),
        owner: patch.owner.unwrap_or(current.owner),
        due: patch.due.unwrap_or(current.due),
        source: patch.source.unwrap_or(current.source),
        follow_up: patch.follow_up.unwrap_or(current.follow_up),
    }
    .validate(event)?;
    let step = ClosingStep {
        id: current.id,
        text: input.text,
        owner: input.owner,
        due: input.due,
        source: input.source,
        follow_up: input.follow_up,
        created_at: current.created_at,
        updated_at: now_ms,
    };
    write_step(txn, &step, rank as i64);
    Ok(step)
}

/// Deletes step `id`.
pub fn remove_step(txn: &mut TransactionMut, id: &str) -> Result<(), StepError> {
    let map = txn.get_or_insert_map(STEPS);
    if map.remove(txn, id).is_none() {
        return Err(StepError::UnknownStep(id.to_string()));
    }
    // Ranks stay 0..n, so a step added next is last by its rank alone.
    let ids: Vec<String> = read_steps_in(txn).into_iter().map(|s| s.id).collect();
    reorder_steps(txn, &ids)
}

/// Puts the steps in the order of `ids`, which must name every step exactly once (so a
/// facilitator whose list was out of date is told, not half-obeyed).
pub fn reorder_steps(txn: &mut TransactionMut, ids: &[String]) -> Result<(), StepError> {
    let steps = read_steps_in(txn);
    let mut wanted: Vec<&str> = ids.iter().map(String::as_str).collect();
    let mut have: Vec<&str> = steps.iter().map(|s| s.id.as_str()).collect();
    wanted.sort_unstable();
    have.sort_unstable();
    if wanted != have {
        return Err(StepError::OrderMismatch);
    }
    let map = txn.get_or_insert_map(STEPS);
    for (rank, id) in ids.iter().enumerate() {
        if let Some(Out::YMap(step)) = map.get(txn, id) {
            step.insert(txn, key::RANK, Any::Number(Number::Int(rank as i64)));
        }
    }
    Ok(())
}

/// Every step, in the facilitator's order.
pub fn read_steps(doc: &yrs::Doc) -> Vec<ClosingStep> {
    read_steps_in(&yrs::Transact::transact(doc))
}

/// [`read_steps`] within a transaction already open.
pub fn read_steps_in<T: ReadTxn>(txn: &T) -> Vec<ClosingStep> {
    let Some(map) = txn.get_map(STEPS) else {
        return Vec::new();
    };
    let mut ranked: Vec<(i64, ClosingStep)> = map
        .iter(txn)
        .filter_map(|(id, value)| match value {
            Out::YMap(step) => Some((
                step.get(txn, key::RANK)
                    .and_then(|r| as_i64(&r))
                    .unwrap_or(i64::MAX),
                read_step(txn, id, &step),
            )),
            _ => None,
        })
        .collect();
    ranked.sort_by(|(a_rank, a), (b_rank, b)| {
        a_rank
            .cmp(b_rank)
            .then(a.created_at.cmp(&b.created_at))
            .then_with(|| a.id.cmp(&b.id))
    });
    ranked.into_iter().map(|(_, step)| step).collect()
}

/// The steps grouped by follow-up, in [`FollowUp::ALL`] order, each group in list order;
/// groups without steps are left out.
pub fn group_by_follow_up(steps: &[ClosingStep]) -> Vec<(FollowUp, Vec<&ClosingStep>)> {
    FollowUp::ALL
        .into_iter()
        .map(|f| (f, steps.iter().filter(|s| s.follow_up == f).collect()))
        .filter(|(_, group): &(FollowUp, Vec<&ClosingStep>)| !group.is_empty())
        .collect()
}

/// Whether `id` is shaped like a board item id.
pub fn is_insight_id(id: &str) -> bool {
    (1..=MAX_INSIGHT_ID_CHARS).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

mod key {
    pub const TEXT: &str = "text";
    pub const OWNER: &str = "owner";
    pub const DUE: &str = "due";
    pub const SOURCE_KIND: &str = "sourceKind";
    pub const SOURCE_ID: &str = "sourceId";
    pub const FOLLOW_UP: &str = "followUp";
    pub const RANK: &str = "rank";
    pub const CREATED_AT: &str = "createdAt";
    pub const UPDATED_AT: &str = "updatedAt";
}

/// Trims `value` and checks its length.
fn text_field(value: &str, field: &'static str, max: usize) -> Result<String, StepError> {
    let value = value.trim();
    if value.chars().count() > max {
        return Err(StepError::TooLong { field, max });
    }
    Ok(value.to_string())
}

fn write_step(txn: &mut TransactionMut, step: &ClosingStep, rank: i64) {
    let (kind, id) = match &step.source {
        None => ("", String::new()),
        Some(StepSource::Table { id }) => ("table", id.to_string()),
        Some(StepSource::Stand { team }) => ("stand", team.to_string()),
        Some(StepSource::Lecture { insight }) => ("lecture", insight.clone()),
    };
    let int = |n: i64| Any::Number(Number::Int(n));
    let values: [(&str, Any); 9] = [
        (key::TEXT, Any::from(step.text.as_str())),
        (key::OWNER, Any::from(step.owner.as_str())),
        (key::DUE, Any::from(step.due.as_str())),
        (key::SOURCE_KIND, Any::from(kind)),
        (key::SOURCE_ID, Any::from(id.as_str())),
        (key::FOLLOW_UP, Any::from(step.follow_up.as_str())),
        (key::RANK, int(rank)),
        (key::CREATED_AT, int(step.created_at)),
        (key::UPDATED_AT, int(step.updated_at)),
    ];
    let map = txn.get_or_insert_map(STEPS);
    let entry = match map.get(txn, &step.id) {
        Some(Out::YMap(entry)) => entry,
        _ => map.insert(txn, step.id.as_str(), MapPrelim::default()),
    };
    for (name, value) in values {
        entry.insert(txn, name, value);
    }
}

fn read_step<T: ReadTxn>(txn: &T, id: &str, map: &MapRef) -> ClosingStep {
    let string = |name: &str| get_string(txn, map, name).unwrap_or_default();
    let int = |name: &str| map.get(txn, name).and_then(|o| as_i64(&o)).unwrap_or(0);
    let source_id = string(key::SOURCE_ID);
    let source = match string(key::SOURCE_KIND).as_str() {
        "table" => source_id.parse().ok().map(|id| StepSource::Table { id }),
        "stand" => source_id
            .parse()
            .ok()
            .map(|team| StepSource::Stand { team }),
        "lecture" => Some(StepSource::Lecture { insight: source_id }),
        _ => None,
    };
    ClosingStep {
        id: id.to_string(),
        text: string(key::TEXT),
        owner: string(key::OWNER),
        due: string(key::DUE),
        source,
        follow_up: FollowUp::parse(&string(key::FOLLOW_UP)).unwrap_or_default(),
        created_at: int(key::CREATED_AT),
        updated_at: int(key::UPDATED_AT),
    }
}

/// Deserializes a present field (`null` included) as `Some`, so a patch can tell "clear"
/// from "leave as it is".
fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

#[cfg(test)]
mod tests;
