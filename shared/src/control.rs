//! How a table is being run: its phase, lock, timer, private writing and
//! voting rules (`control`), and the published vote totals (`votes`). Both
//! top-level maps are written only by the server; the server refuses client
//! updates that touch them.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use yrs::{Any, Doc, Map, Number, Out, ReadTxn, Transact, TransactionMut, WriteTxn};

use crate::poster::BoardView;
use crate::schema::{as_i64, get_string};

/// Name of the top-level `Y.Map` with the table's steering state.
pub const CONTROL: &str = "control";
/// Name of the top-level `Y.Map` of published vote totals: note id → number.
pub const VOTES: &str = "votes";
/// Name of the top-level `Y.Map` of groups: group id → `Y.Map { title: Y.Text, … }`.
pub const GROUPS: &str = "groups";
/// Name of the top-level `Y.Map` of connectors: id → `Y.Map { from, to, label: Y.Text, … }`.
pub const CONNECTORS: &str = "connectors";
/// Top-level names that only the server writes.
pub const SERVER_ONLY: [&str; 3] = [crate::schema::META, CONTROL, VOTES];

/// The phases a table goes through, in order.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    /// Write notes (privately, if the facilitator chose so).
    #[default]
    Schrijven,
    /// Cluster notes into groups.
    Clusteren,
    /// Dot voting.
    Stemmen,
    /// Agree on next steps, with owners and moments.
    Vervolgstappen,
    /// Read-only.
    Gesloten,
}

impl Phase {
    pub const ALL: [Phase; 5] = [
        Phase::Schrijven,
        Phase::Clusteren,
        Phase::Stemmen,
        Phase::Vervolgstappen,
        Phase::Gesloten,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Schrijven => "schrijven",
            Phase::Clusteren => "clusteren",
            Phase::Stemmen => "stemmen",
            Phase::Vervolgstappen => "vervolgstappen",
            Phase::Gesloten => "gesloten",
        }
    }

    pub fn parse(s: &str) -> Option<Phase> {
        Phase::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

/// Whether participants see vote counts while voting runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum VoteVisibility {
    /// Totals are published with every vote.
    Always,
    /// Totals are published when the table leaves `stemmen`: nobody follows the herd.
    #[default]
    After,
}

impl VoteVisibility {
    pub fn as_str(self) -> &'static str {
        match self {
            VoteVisibility::Always => "always",
            VoteVisibility::After => "after",
        }
    }

    pub fn parse(s: &str) -> Option<VoteVisibility> {
        match s {
            "always" => Some(VoteVisibility::Always),
            "after" => Some(VoteVisibility::After),
            _ => None,
        }
    }
}

/// Default votes per participant per table.
pub const DEFAULT_VOTE_BUDGET: u32 = 3;

/// A table's steering state, as in `control`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Control {
    pub phase: Phase,
    /// Nobody but the facilitator writes while locked.
    pub locked: bool,
    /// When the countdown ends (ms since the epoch); `None` when no timer runs.
    pub timer_ends_at: Option<i64>,
    /// Notes written during `schrijven` stay with their author until revealed.
    pub private_writing: bool,
    /// When drafts were last revealed (ms since the epoch).
    pub revealed_at: Option<i64>,
    pub vote_budget: u32,
    pub vote_visibility: VoteVisibility,
    /// Lanes or poster, as the facilitator chose; `None` until then (the event file's
    /// `view` for the table applies).
    #[serde(default)]
    pub view: Option<BoardView>,
}

impl Default for Control {
    fn default() -> Self {
        Control {
            phase: Phase::Schrijven,
            locked: false,
            timer_ends_at: None,
            private_writing: false,
            revealed_at: None,
            vote_budget: DEFAULT_VOTE_BUDGET,
            vote_visibility: VoteVisibility::After,
            view: None,
        }
    }
}

impl Control {
    /// Whether participants may change the table's content now.
    pub fn accepts_writes(&self) -> bool {
        !self.locked && self.phase != Phase::Gesloten
    }

    /// Whether vote totals belong in the shared document now.
    pub fn votes_public(&self) -> bool {
        self.vote_visibility == VoteVisibility::Always || self.phase > Phase::Stemmen
    }
}

mod key {
    pub const PHASE: &str = "phase";
    pub const LOCKED: &str = "locked";
    pub const TIMER_ENDS_AT: &str = "timerEndsAt";
    pub const PRIVATE_WRITING: &str = "privateWriting";
    pub const REVEALED_AT: &str = "revealedAt";
    pub const VOTE_BUDGET: &str = "voteBudget";
    pub const VOTE_VISIBILITY: &str = "voteVisibility";
    pub const VIEW: &str = "view";
}

/// Reads `control`; a table never steered reads as [`Control::default`].
pub fn read_control(doc: &Doc) -> Control {
    read_control_in(&doc.transact())
}

/// [`read_control`] within a transaction already open.
pub fn read_control_in<T: ReadTxn>(txn: &T) -> Control {
    let Some(map) = txn.get_map(CONTROL) else {
        return Control::default();
    };
    let defaults = Control::default();
    let int = |name: &str| map.get(txn, name).and_then(|o| as_i64(&o));
    let flag = |name: &str| matches!(map.get(txn, name), Some(Out::Any(Any::Bool(true))));
    Control {
        phase: get_string(txn, &map, key::PHASE)
            .and_then(|p| Phase::parse(&p))
            .unwrap_or(defaults.phase),
        locked: flag(key::LOCKED),
        timer_ends_at: int(key::TIMER_ENDS_AT),
        private_writing: flag(key::PRIVATE_WRITING),
        revealed_at: int(key::REVEALED_AT),
        vote_budget: int(key::VOTE_BUDGET)
            .and_then(|b| u32::try_from(b).ok())
            .unwrap_or(defaults.vote_budget),
        vote_visibility: get_string(txn, &map, key::VOTE_VISIBILITY)
            .and_then(|v| VoteVisibility::parse(&v))
            .unwrap_or(defaults.vote_visibility),
        view: get_string(txn, &map, key::VIEW).and_then(|v| BoardView::parse(&v)),
    }
}

/// Writes every key of `control` whose value differs from `current`.
pub fn write_control(txn: &mut TransactionMut, current: &Control, next: &Control) {
    let map = txn.get_or_insert_map(CONTROL);
    let first = map.len(txn) == 0;
    let opt = |v: Option<i64>| v.map_or(Any::Null, |v| Any::Number(Number::Float(v as f64)));
    let set = |txn: &mut TransactionMut, name: &str, changed: bool, value: Any| {
        if first || changed {
            map.insert(txn, name, value);
        }
    };
    set(
        txn,
        key::PHASE,
        next.phase != current.phase,
        Any::from(next.phase.as_str()),
    );
    set(
        txn,
        key::LOCKED,
        next.locked != current.locked,
        Any::Bool(next.locked),
    );
    set(
        txn,
        key::TIMER_ENDS_AT,
        next.timer_ends_at != current.timer_ends_at,
        opt(next.timer_ends_at),
    );
    set(
        txn,
        key::PRIVATE_WRITING,
        next.private_writing != current.private_writing,
        Any::Bool(next.private_writing),
    );
    set(
        txn,
        key::REVEALED_AT,
        next.revealed_at != current.revealed_at,
        opt(next.revealed_at),
    );
    set(
        txn,
        key::VOTE_BUDGET,
        next.vote_budget != current.vote_budget,
        Any::Number(Number::Int(i64::from(next.vote_budget))),
    );
    set(
        txn,
        key::VOTE_VISIBILITY,
        next.vote_visibility != current.vote_visibility,
        Any::from(next.vote_visibility.as_str()),
    );
    set(
        txn,
        key::VIEW,
        next.view != current.view,
        next.view.map_or(Any::Null, |v| Any::from(v.as_str())),
    );
}

/// The published vote totals: note id → votes.
pub fn read_vote_totals(doc: &Doc) -> HashMap<String, u32> {
    read_vote_totals_in(&doc.transact())
}

pub(crate) fn read_vote_totals_in<T: ReadTxn>(txn: &T) -> HashMap<String, u32> {
    let Some(map) = txn.get_map(VOTES) else {
        return HashMap::new();
    };
    map.iter(txn)
        .filter_map(|(id, value)| {
            let n = as_i64(&value)?;
            Some((id.to_string(), u32::try_from(n).ok()?))
        })
        .collect()
}

/// Makes `votes` hold exactly `totals` (notes without votes are left out),
/// touching only the entries that change.
pub fn write_vote_totals(txn: &mut TransactionMut, totals: &HashMap<String, u32>) {
    let map = txn.get_or_insert_map(VOTES);
    let current = read_vote_totals_in(txn);
    for id in current.keys() {
        if !totals.contains_key(id) {
            map.remove(txn, id);
        }
    }
    for (id, n) in totals {
        if *n > 0 && current.get(id) != Some(n) {
            map.insert(txn, id.as_str(), Any::Number(Number::Int(i64::from(*n))));
        } else if *n == 0 && current.contains_key(id) {
            map.remove(txn, id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_round_trips_and_defaults() {
        let doc = Doc::new();
        assert_eq!(read_control(&doc), Control::default());
        let next = Control {
            phase: Phase::Stemmen,
            locked: true,
            timer_ends_at: Some(1_700_000_000_000),
            private_writing: true,
            revealed_at: Some(1_700_000_000_500),
            vote_budget: 5,
            vote_visibility: VoteVisibility::Always,
            view: Some(BoardView::Poster),
        };
        write_control(&mut doc.transact_mut(), &Control::default(), &next);
        assert_eq!(read_control(&doc), next);
        let later = Control {
            timer_ends_at: None,
            view: Some(BoardView::Lanes),
            ..next.clone()
        };
        write_control(&mut doc.transact_mut(), &next, &later);
        assert_eq!(read_control(&doc), later);
    }

    #[test]
    fn only_changed_keys_are_written() {
        let doc = Doc::new();
        write_control(
            &mut doc.transact_mut(),
            &Control::default(),
            &Control::default(),
        );
        let before = doc.transact().state_vector();
        write_control(
            &mut doc.transact_mut(),
            &Control::default(),
            &Control::default(),
        );
        assert_eq!(
            doc.transact().state_vector(),
            before,
            "no change, no update"
        );
    }

    #[test]
    fn writes_and_publishing_follow_the_phase() {
        let mut c = Control::default();
        assert!(c.accepts_writes());
        assert!(!c.votes_public());
        c.phase = Phase::Vervolgstappen;
        assert!(c.votes_public());
        c.phase = Phase::Gesloten;
        assert!(!c.accepts_writes());
        c.phase = Phase::Stemmen;
        c.vote_visibility = VoteVisibility::Always;
        assert!(c.votes_public());
        c.locked = true;
        assert!(!c.accepts_writes());
        assert_eq!(Phase::parse("stemmen"), Some(Phase::Stemmen));
        assert_eq!(Phase::parse("voting"), None);
    }

    #[test]
    fn vote_totals_are_replaced_exactly_and_read_into_notes() {
        let doc = Doc::new();
        {
            let mut txn = doc.transact_mut();
            crate::schema::insert_note(
                &mut txn,
                &crate::schema::NoteDraft {
                    id: "n1".into(),
                    text: "Een".into(),
                    lane: crate::schema::Lane::Goed,
                    color: crate::schema::NoteColor::Geel,
                    x: 0.0,
                    y: 0.0,
                    author: "A".into(),
                    author_id: "a".into(),
                    now_ms: 1,
                },
            );
        }
        let totals: HashMap<String, u32> = [("n1".to_string(), 4), ("n2".to_string(), 1)].into();
        write_vote_totals(&mut doc.transact_mut(), &totals);
        assert_eq!(read_vote_totals(&doc), totals);
        assert_eq!(crate::schema::read_notes(&doc)[0].votes, 4);
        let fewer: HashMap<String, u32> = [("n1".to_string(), 2)].into();
        write_vote_totals(&mut doc.transact_mut(), &fewer);
        assert_eq!(read_vote_totals(&doc), fewer);
    }
}
