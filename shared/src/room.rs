//! What a sync room is: the name after `/sync/{event}/` and the document behind it.
//!
//! A room is a work table (its [`TableId`](crate::event::TableId)), the market stand of a
//! development team (`markt-ot<N>`, one per team of the event's market) or the lecture board
//! (`zaal`). Table ids may not take the other two forms ([`Event::validate`] refuses them), so a
//! name means one room only.

use serde::{Deserialize, Serialize};

use crate::event::{Event, ProgrammeKind, TableDef, Team};

/// The room name of a market stand is this prefix and the team's number (`markt-ot2`).
pub const STAND_PREFIX: &str = "markt-ot";
/// The room name of the lecture board.
pub const LECTURE_ROOM: &str = "zaal";

/// The morning market as the event file declares it (`[market]`). Without it, an event whose
/// programme has a `markt` item has a market of every team, titled after that item.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Market {
    /// Shown above the overview; empty: the programme item's title, else "Markt".
    #[serde(default)]
    pub title: String,
    /// The team numbers that have a stand, in this order; absent: every team.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stands: Option<Vec<u32>>,
}

/// The lecture board as the event file declares it (`[lecture]`); an event whose programme has
/// a `lezing` item has one without it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Lecture {
    /// Shown above the board; empty: the programme item's title.
    #[serde(default)]
    pub title: String,
}

/// The document a room name stands for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RoomRef<'a> {
    Table(&'a TableDef),
    /// A team's stand at the market.
    Stand(&'a Team),
    Lecture,
}

impl RoomRef<'_> {
    /// The room name, as in the sync URL and the store.
    pub fn name(&self) -> String {
        match self {
            RoomRef::Table(table) => table.id.to_string(),
            RoomRef::Stand(team) => stand_room(team.number),
            RoomRef::Lecture => LECTURE_ROOM.to_owned(),
        }
    }
}

/// The room name of team `number`'s stand.
pub fn stand_room(number: u32) -> String {
    format!("{STAND_PREFIX}{number}")
}

/// Root of a ballots document ([`ballots_document`]): voter id → `Y.Map` of item id → vote.
pub const BALLOTS: &str = "ballots";

/// The server-only document beside `room` that keeps who voted what, one vote per signed
/// identity (`a/ballots`, `zaal/ballots`, `markt-ot2/useful`): the room's published totals
/// are recounted from it on every vote. The `/` keeps every sync connection out.
pub fn ballots_document(room: &RoomRef<'_>) -> String {
    match room {
        RoomRef::Stand(_) => format!("{}/useful", room.name()),
        RoomRef::Table(_) | RoomRef::Lecture => format!("{}/ballots", room.name()),
    }
}

/// Whether `id` has a form that belongs to a market stand or the lecture board, so it cannot
/// be a table id (whether or not this event has that stand).
pub fn is_reserved_room_name(id: &str) -> bool {
    id == LECTURE_ROOM || id.starts_with(STAND_PREFIX)
}

/// The team number in a stand's room name: digits only, no leading zero (one spelling per
/// stand, so one document per stand).
fn stand_number(name: &str) -> Option<u32> {
    let digits = name.strip_prefix(STAND_PREFIX)?;
    let canonical = !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'));
    if canonical { digits.parse().ok() } else { None }
}

impl Event {
    /// The room called `name`, if this event has it.
    pub fn room(&self, name: &str) -> Option<RoomRef<'_>> {
        if let Some(table) = self.table(name) {
            return Some(RoomRef::Table(table));
        }
        if name == LECTURE_ROOM {
            return self.has_lecture().then_some(RoomRef::Lecture);
        }
        let number = stand_number(name)?;
        self.stands()
            .into_iter()
            .find(|team| team.number == number)
            .map(RoomRef::Stand)
    }

    /// Whether the event has a morning market: declared, or in the programme.
    pub fn has_market(&self) -> bool {
        self.market.is_some() || self.has_programme_item(ProgrammeKind::Markt)
    }

    /// Whether the event has a lecture board: declared, or in the programme.
    pub fn has_lecture(&self) -> bool {
        self.lecture.is_some() || self.has_programme_item(ProgrammeKind::Lezing)
    }

    /// The teams that have a stand, in the market's order; none without a market.
    pub fn stands(&self) -> Vec<&Team> {
        if !self.has_market() {
            return Vec::new();
        }
        match self.market.as_ref().and_then(|m| m.stands.as_deref()) {
            Some(listed) => listed.iter().filter_map(|&n| self.team(n)).collect(),
            None => self.teams.iter().collect(),
        }
    }

    /// The market's title: declared, else the programme's `markt` item, else "Markt".
    pub fn market_title(&self) -> String {
        self.market
            .as_ref()
            .map(|m| m.title.trim())
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
            .or_else(|| self.programme_title(ProgrammeKind::Markt))
            .unwrap_or_else(|| "Markt".to_owned())
    }

    /// Every room of the event: tables, then stands, then the lecture board.
    pub fn rooms(&self) -> Vec<RoomRef<'_>> {
        let tables = self.tables.iter().map(RoomRef::Table);
        let stands = self.stands().into_iter().map(RoomRef::Stand);
        let lecture = self.has_lecture().then_some(RoomRef::Lecture);
        tables.chain(stands).chain(lecture).collect()
    }

    fn has_programme_item(&self, kind: ProgrammeKind) -> bool {
        self.programme.iter().any(|item| item.kind == kind)
    }

    fn programme_title(&self, kind: ProgrammeKind) -> Option<String> {
        let item = self.programme.iter().find(|item| item.kind == kind)?;
        Some(item.title.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::EventError;

    /// One table, two teams, no programme: no market and no lecture unless declared.
    const BARE: &str = r#"
        slug = "test-dag"
        title = "Testdag"
        venue = "Ergens"

        [[teams]]
        number = 1
        name = "Eén"

        [[teams]]
        number = 2
        name = "Twee"

        [[tables]]
        id = "a"
        title = "Tafel A"
        question = "Vraag A?"
        cluster = { id = "A", title = "Cluster A", question = "Clustervraag A?" }
    "#;

    fn names(event: &Event) -> Vec<String> {
        event.rooms().iter().map(RoomRef::name).collect()
    }

    #[test]
    fn builtin_event_has_four_tables_six_stands_and_the_lecture() {
        let event = Event::builtin();
        assert_eq!(
            names(&event),
            [
                "a",
                "b",
                "c",
                "d",
                "markt-ot1",
                "markt-ot2",
                "markt-ot3",
                "markt-ot4",
                "markt-ot5",
                "markt-ot6",
                "zaal"
            ]
        );
        assert_eq!(event.market_title(), "Markt");
        for room in event.rooms() {
            assert_eq!(event.room(&room.name()), Some(room));
        }
    }

    #[test]
    fn a_name_resolves_to_its_room_or_to_nothing() {
        let event = Event::builtin();
        assert!(matches!(event.room("a"), Some(RoomRef::Table(t)) if t.id.as_str() == "a"));
        assert!(matches!(event.room("markt-ot6"), Some(RoomRef::Stand(t)) if t.number == 6));
        assert_eq!(event.room("zaal"), Some(RoomRef::Lecture));
        for unknown in [
            "e",
            "markt-ot7",
            "markt-ot0",
            "markt-ot06",
            "markt-ot",
            "markt-ot+6",
            "markt-ot6 ",
            "markt-ot99999999999",
            "zaal2",
            "Zaal",
            "a.drafts",
            "",
        ] {
            assert_eq!(event.room(unknown), None, "{unknown:?}");
        }
    }

    #[test]
    fn without_programme_or_declaration_there_is_no_market_and_no_lecture() {
        let event = Event::from_toml(BARE).expect("valid");
        assert_eq!(names(&event), ["a"]);
        assert_eq!(event.room("markt-ot1"), None);
        assert_eq!(event.room("zaal"), None);
    }

    #[test]
    fn a_declared_market_has_every_team_or_the_listed_ones() {
        let every =
            Event::from_toml(&format!("{BARE}\n[market]\ntitle = \"Ochtend\"\n")).expect("valid");
        assert_eq!(names(&every), ["a", "markt-ot1", "markt-ot2"]);
        assert_eq!(every.market_title(), "Ochtend");

        let listed = Event::from_toml(&format!("{BARE}\n[market]\nstands = [2]\n[lecture]\n"))
            .expect("valid");
        assert_eq!(names(&listed), ["a", "markt-ot2", "zaal"]);
        assert_eq!(listed.room("markt-ot1"), None);
    }

    #[test]
    fn a_stand_of_an_undefined_team_is_refused() {
        let text = format!("{BARE}\n[market]\nstands = [1, 9]\n");
        let err = Event::from_toml(&text).expect_err("team 9 is not defined");
        assert!(
            matches!(err, EventError::UnknownStand { number: 9 }),
            "{err}"
        );
    }

    #[test]
    fn table_ids_cannot_take_a_stand_or_lecture_name() {
        for id in ["zaal", "markt-ot1", "markt-ot9", "markt-ot", "markt-otx"] {
            let text = BARE.replace(r#"id = "a""#, &format!("id = \"{id}\""));
            let err = Event::from_toml(&text).expect_err(id);
            assert!(
                matches!(&err, EventError::ReservedTableId { id: got } if got == id),
                "{id}: {err}"
            );
        }
        // Close but not reserved.
        for id in ["markt", "markt-o", "zaal-2", "markt-team1"] {
            let text = BARE.replace(r#"id = "a""#, &format!("id = \"{id}\""));
            Event::from_toml(&text).unwrap_or_else(|e| panic!("{id}: {e}"));
        }
    }
}
