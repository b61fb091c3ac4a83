//! The event definition: the day's programme, the development teams and the work tables, read from TOML.

use std::collections::HashSet;
use std::fmt;
use std::str::FromStr;
use std::sync::LazyLock;

use serde::{Deserialize, Serialize};

use crate::room::{Lecture, Market, is_reserved_room_name};

/// The TOML text of the built-in default event, the Atelierdag of the City Deal Openbare Ruimte.
pub const BUILTIN_EVENT_TOML: &str = include_str!("../events/atelierdag-2022.toml");

/// One event (a workshop day): what it is, its programme, and the work tables it runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Event {
    pub slug: String,
    pub title: String,
    pub venue: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub programme: Vec<ProgrammeItem>,
    /// The development teams, defined once; tables refer to them by [`Team::number`].
    #[serde(default)]
    pub teams: Vec<Team>,
    pub tables: Vec<TableDef>,
    /// The morning market (`[market]`); see [`Event::stands`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub market: Option<Market>,
    /// The lecture board (`[lecture]`); see [`Event::has_lecture`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lecture: Option<Lecture>,
}

/// One slot of the day's programme, with times as `"HH:MM"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProgrammeItem {
    pub start: String,
    pub end: String,
    pub kind: ProgrammeKind,
    pub title: String,
    #[serde(default)]
    pub description: String,
}

/// What happens during a programme slot; the client uses it to pick a view or an icon.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProgrammeKind {
    /// The morning market where development teams present themselves.
    Markt,
    Lunch,
    /// The afternoon sessions at the work tables: the part Werktafel supports.
    Werktafels,
    Pauze,
    Lezing,
    /// The plenary where the tables report back.
    Terugkoppeling,
}

/// A work table (a "middagsessie"): one Yjs document per table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TableDef {
    pub id: TableId,
    // Missing titles and questions default to empty so that validation, not the TOML
    // parser, reports them, naming the table they belong to.
    #[serde(default)]
    pub title: String,
    /// The table's central question ("Centrale vraag").
    #[serde(default)]
    pub question: String,
    pub cluster: Cluster,
    #[serde(default)]
    pub cases: Vec<Case>,
    /// Numbers of the linked development teams ("Verbonden ontwikkelteams").
    #[serde(default)]
    pub teams: Vec<u32>,
}

/// A cluster of similar cases that a table starts from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Cluster {
    pub id: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub question: String,
}

/// A municipal project that participates in the City Deal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Case {
    pub name: String,
    pub city: String,
}

/// A development team ("ontwikkelteam", OT) and the bullet points of its focus.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Team {
    pub number: u32,
    pub name: String,
    #[serde(default)]
    pub focus: Vec<String>,
}

/// A table id: 1 to 32 characters from `[a-z0-9-]`, safe in URLs, room names and file names.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TableId(String);

/// Why an event definition or a table id was rejected.
#[derive(Debug, thiserror::Error)]
pub enum EventError {
    #[error("event definition is not valid TOML: {0}")]
    Toml(#[from] toml::de::Error),
    #[error("event slug {slug:?} is invalid: expected 1 to 64 characters from [a-z0-9-]")]
    InvalidSlug { slug: String },
    #[error("table id {id:?} is invalid: expected 1 to 32 characters from [a-z0-9-]")]
    InvalidTableId { id: String },
    #[error("event has no tables: define at least one [[tables]] entry")]
    NoTables,
    #[error("table id {id:?} is defined more than once")]
    DuplicateTable { id: String },
    #[error("team number {number} is defined more than once")]
    DuplicateTeam { number: u32 },
    #[error("table {table:?} refers to team {number}, which is not defined in [[teams]]")]
    UnknownTeam { table: String, number: u32 },
    #[error(
        "table id {id:?} is reserved: \"zaal\" and names starting with \"markt-ot\" are the lecture board's and the market stands'"
    )]
    ReservedTableId { id: String },
    #[error("the market lists a stand for team {number}, which is not defined in [[teams]]")]
    UnknownStand { number: u32 },
    #[error("{field} must not be empty")]
    Empty { field: String },
    #[error("{field} is {value:?}: expected a time \"HH:MM\"")]
    InvalidTime { field: String, value: String },
    #[error("programme item {title:?} ends ({end}) before it starts ({start})")]
    EndsBeforeStart {
        title: String,
        start: String,
        end: String,
    },
}

static BUILTIN: LazyLock<Event> = LazyLock::new(|| {
    // A unit test proves that the embedded definition parses and validates.
    Event::from_toml(BUILTIN_EVENT_TOML)
        .unwrap_or_else(|err| panic!("built-in event definition is invalid: {err}"))
});

impl Event {
    /// Parses and validates an event definition.
    pub fn from_toml(text: &str) -> Result<Event, EventError> {
        let event: Event = toml::from_str(text)?;
        event.validate()?;
        Ok(event)
    }

    /// The embedded default event, `atelierdag-2022`.
    pub fn builtin() -> Event {
        BUILTIN.clone()
    }

    pub fn table(&self, id: &str) -> Option<&TableDef> {
        self.tables.iter().find(|table| table.id.as_str() == id)
    }

    pub fn team(&self, number: u32) -> Option<&Team> {
        self.teams.iter().find(|team| team.number == number)
    }

    /// Checks what [`Event::from_toml`] checks, for an event that arrived another way (an archive).
    pub fn validate(&self) -> Result<(), EventError> {
        if !is_slug(&self.slug, 64) {
            return Err(EventError::InvalidSlug {
                slug: self.slug.clone(),
            });
        }
        require("event title", &self.title)?;
        require("event venue", &self.venue)?;

        for item in &self.programme {
            item.validate()?;
        }

        let mut team_numbers = HashSet::new();
        for team in &self.teams {
            if !team_numbers.insert(team.number) {
                return Err(EventError::DuplicateTeam {
                    number: team.number,
                });
            }
            require(&format!("name of team {}", team.number), &team.name)?;
        }

        if self.tables.is_empty() {
            return Err(EventError::NoTables);
        }
        let mut table_ids = HashSet::new();
        for table in &self.tables {
            let id = table.id.as_str();
            if is_reserved_room_name(id) {
                return Err(EventError::ReservedTableId { id: id.to_owned() });
            }
            if !table_ids.insert(id) {
                return Err(EventError::DuplicateTable { id: id.to_owned() });
            }
            require(&format!("title of table {id:?}"), &table.title)?;
            require(&format!("question of table {id:?}"), &table.question)?;
            require(&format!("cluster id of table {id:?}"), &table.cluster.id)?;
            require(
                &format!("cluster title of table {id:?}"),
                &table.cluster.title,
            )?;
            require(
                &format!("cluster question of table {id:?}"),
                &table.cluster.question,
            )?;
            for case in &table.cases {
                require(&format!("name of a case of table {id:?}"), &case.name)?;
            }
            if let Some(&number) = table.teams.iter().find(|n| !team_numbers.contains(n)) {
                return Err(EventError::UnknownTeam {
                    table: id.to_owned(),
                    number,
                });
            }
        }
        let stands = self.market.as_ref().and_then(|m| m.stands.as_deref());
        if let Some(&number) = stands
            .unwrap_or_default()
            .iter()
            .find(|n| !team_numbers.contains(n))
        {
            return Err(EventError::UnknownStand { number });
        }
        Ok(())
    }
}

impl ProgrammeItem {
    fn validate(&self) -> Result<(), EventError> {
        require("title of a programme item", &self.title)?;
        let start = minutes_of_day(&self.start).ok_or_else(|| EventError::InvalidTime {
            field: format!("start of programme item {:?}", self.title),
            value: self.start.clone(),
        })?;
        let end = minutes_of_day(&self.end).ok_or_else(|| EventError::InvalidTime {
            field: format!("end of programme item {:?}", self.title),
            value: self.end.clone(),
        })?;
        if end < start {
            return Err(EventError::EndsBeforeStart {
                title: self.title.clone(),
                start: self.start.clone(),
                end: self.end.clone(),
            });
        }
        Ok(())
    }
}

impl TableId {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for TableId {
    type Err = EventError;

    fn from_str(id: &str) -> Result<Self, Self::Err> {
        if is_slug(id, 32) {
            Ok(TableId(id.to_owned()))
        } else {
            Err(EventError::InvalidTableId { id: id.to_owned() })
        }
    }
}

impl TryFrom<String> for TableId {
    type Error = EventError;

    fn try_from(id: String) -> Result<Self, Self::Error> {
        if is_slug(&id, 32) {
            Ok(TableId(id))
        } else {
            Err(EventError::InvalidTableId { id })
        }
    }
}

impl From<TableId> for String {
    fn from(id: TableId) -> String {
        id.0
    }
}

impl AsRef<str> for TableId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TableId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whether `text` is 1 to `max_len` characters from `[a-z0-9-]`.
fn is_slug(text: &str, max_len: usize) -> bool {
    (1..=max_len).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

fn require(field: &str, value: &str) -> Result<(), EventError> {
    if value.trim().is_empty() {
        Err(EventError::Empty {
            field: field.to_owned(),
        })
    } else {
        Ok(())
    }
}

/// Parses `"HH:MM"` (24-hour clock) into minutes since midnight.
fn minutes_of_day(time: &str) -> Option<u32> {
    let (hours, minutes) = time.split_once(':')?;
    if hours.len() != 2 || minutes.len() != 2 {
        return None;
    }
    let hours: u32 = hours.parse().ok()?;
    let minutes: u32 = minutes.parse().ok()?;
    (hours < 24 && minutes < 60).then_some(hours * 60 + minutes)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small valid event; tests break one thing in it at a time.
    const MINIMAL: &str = r#"
        slug = "test-dag"
        title = "Testdag"
        venue = "Ergens"

        [[teams]]
        number = 1
        name = "Eén"

        [[tables]]
        id = "a"
        title = "Tafel A"
        question = "Vraag A?"
        teams = [1]
        cluster = { id = "A", title = "Cluster A", question = "Clustervraag A?" }

        [[tables]]
        id = "b"
        title = "Tafel B"
        question = "Vraag B?"
        cluster = { id = "B", title = "Cluster B", question = "Clustervraag B?" }
    "#;

    fn error_of(text: &str) -> String {
        match Event::from_toml(text) {
            Ok(event) => panic!("expected an error, but the event parsed: {event:#?}"),
            Err(err) => err.to_string(),
        }
    }

    fn assert_mentions(message: &str, needles: &[&str]) {
        for needle in needles {
            assert!(
                message.contains(needle),
                "error message should mention {needle:?}, got: {message}"
            );
        }
    }

    #[test]
    fn builtin_event_parses_with_four_tables() {
        let event = Event::from_toml(BUILTIN_EVENT_TOML).expect("built-in event is valid");
        assert_eq!(event, Event::builtin());
        assert_eq!(event.slug, "atelierdag-2022");
        assert_eq!(event.title, "Atelierdag City Deal Openbare Ruimte");
        assert_eq!(event.venue, "De Observant, Stadhuisplein 7, Amersfoort");

        let titles: Vec<(&str, &str)> = event
            .tables
            .iter()
            .map(|t| (t.id.as_str(), t.title.as_str()))
            .collect();
        assert_eq!(
            titles,
            [
                ("a", "Vitale systemen"),
                ("b", "Afwegingskader"),
                ("c", "Rol van de gebiedsregisseur"),
                ("d", "Kosten-baten analyse"),
            ]
        );
        let case_counts: Vec<usize> = event.tables.iter().map(|t| t.cases.len()).collect();
        assert_eq!(case_counts, [4, 7, 5, 3]);
        let team_refs: Vec<&[u32]> = event.tables.iter().map(|t| t.teams.as_slice()).collect();
        assert_eq!(team_refs, [&[2, 6][..], &[1, 2, 5], &[1, 3], &[3, 4]]);
        let cluster_ids: Vec<&str> = event.tables.iter().map(|t| t.cluster.id.as_str()).collect();
        assert_eq!(cluster_ids, ["A", "B", "C", "D"]);
    }

    #[test]
    fn builtin_table_a_has_laakhavens() {
        let event = Event::builtin();
        let a = event.table("a").expect("table a");
        assert!(a.question.starts_with("Welke systemen vallen tussen"));
        assert_eq!(
            a.cluster.title,
            "Inrichting centrum-stedelijke zone vanuit druk/momentum stedelijke ontwikkelingen"
        );
        assert_eq!(
            a.cases[0],
            Case {
                name: "Laakhavens: grote ambities, knellende ruimte".into(),
                city: "Den Haag".into(),
            }
        );
        assert_eq!(a.teams, [2, 6]);
        assert!(event.table("e").is_none());
    }

    #[test]
    fn builtin_teams_and_programme() {
        let event = Event::builtin();
        let teams: Vec<(u32, &str)> = event
            .teams
            .iter()
            .map(|t| (t.number, t.name.as_str()))
            .collect();
        assert_eq!(
            teams,
            [
                (1, "Integrale opgave en beleidsontwikkeling"),
                (2, "Stedelijk programmeren en samenwerken"),
                (3, "Integraal uitvoeren"),
                (4, "Stedelijk investeren en business cases"),
                (5, "Data-gedreven sturen"),
                (6, "Harmonisatie regelgeving"),
            ]
        );
        let first_focus = |n: u32| event.team(n).expect("team exists").focus[0].as_str();
        assert!(first_focus(1).starts_with("Afwegingskader voor integraliteit"));
        assert!(first_focus(2).starts_with("Via intervisies tussen gemeenten"));
        assert!(first_focus(3).starts_with("Wijkgericht"));
        assert!(first_focus(4).starts_with("Bundelen van integrale investeringsmiddelen"));
        assert!(first_focus(5).starts_with("Slimmer omgaan met bestaande data"));
        assert!(first_focus(6).starts_with("Inventariseren regelgeving"));
        assert!(event.team(7).is_none());

        let programme: Vec<(&str, &str, ProgrammeKind)> = event
            .programme
            .iter()
            .map(|p| (p.start.as_str(), p.end.as_str(), p.kind))
            .collect();
        assert_eq!(
            programme,
            [
                ("09:30", "12:30", ProgrammeKind::Markt),
                ("12:30", "13:30", ProgrammeKind::Lunch),
                ("13:30", "15:15", ProgrammeKind::Werktafels),
                ("15:15", "15:30", ProgrammeKind::Pauze),
                ("15:30", "16:15", ProgrammeKind::Lezing),
                ("16:15", "17:00", ProgrammeKind::Terugkoppeling),
            ]
        );
    }

    #[test]
    fn event_serializes_to_json_for_the_web_client() {
        let event = Event::builtin();
        let json = serde_json::to_value(&event).expect("serializes");
        assert_eq!(json["tables"][0]["id"], "a");
        assert_eq!(json["tables"][0]["cluster"]["id"], "A");
        assert_eq!(json["programme"][2]["kind"], "werktafels");
        let back: Event = serde_json::from_value(json).expect("deserializes");
        assert_eq!(back, event);
    }

    #[test]
    fn minimal_event_parses() {
        let event = Event::from_toml(MINIMAL).expect("minimal event is valid");
        assert_eq!(event.tables.len(), 2);
        assert!(event.programme.is_empty());
    }

    #[test]
    fn duplicate_table_id_is_rejected() {
        let text = MINIMAL.replace(r#"id = "b""#, r#"id = "a""#);
        assert_mentions(&error_of(&text), &["\"a\"", "more than once"]);
    }

    #[test]
    fn bad_slug_is_rejected() {
        let text = MINIMAL.replace("test-dag", "Test Dag!");
        assert_mentions(&error_of(&text), &["slug", "Test Dag!"]);
    }

    #[test]
    fn bad_table_id_is_rejected() {
        let text = MINIMAL.replace(r#"id = "b""#, r#"id = "B/1""#);
        assert_mentions(&error_of(&text), &["B/1"]);
    }

    #[test]
    fn unknown_team_reference_is_rejected() {
        let text = MINIMAL.replace("teams = [1]", "teams = [1, 9]");
        assert_mentions(&error_of(&text), &["\"a\"", "team 9"]);
    }

    #[test]
    fn missing_question_is_rejected() {
        let text = MINIMAL.replace("question = \"Vraag B?\"\n", "");
        assert_mentions(&error_of(&text), &["question", "\"b\""]);
    }

    #[test]
    fn no_tables_is_rejected() {
        let end = MINIMAL.find("[[tables]]").expect("has tables");
        // A top-level key has to come before the first [[teams]] header.
        let text = format!("tables = []\n{}", &MINIMAL[..end]);
        assert_mentions(&error_of(&text), &["no tables"]);
    }

    #[test]
    fn invalid_toml_is_rejected() {
        let text = MINIMAL.replace("venue = \"Ergens\"", "venue = \"Ergens");
        assert_mentions(&error_of(&text), &["TOML", "venue"]);
    }

    #[test]
    fn unknown_field_is_rejected() {
        let text = MINIMAL.replace("question = \"Vraag A?\"", "questoin = \"Vraag A?\"");
        assert_mentions(&error_of(&text), &["questoin"]);
    }

    #[test]
    fn bad_programme_time_is_rejected() {
        let text = format!(
            "{MINIMAL}\n[[programme]]\nstart = \"9:30\"\nend = \"12:30\"\nkind = \"markt\"\ntitle = \"Markt\"\n"
        );
        assert_mentions(&error_of(&text), &["Markt", "9:30"]);
    }

    #[test]
    fn table_id_validation() {
        assert_eq!("a-1".parse::<TableId>().expect("valid").to_string(), "a-1");
        assert!("".parse::<TableId>().is_err());
        assert!("A".parse::<TableId>().is_err());
        assert!("x".repeat(33).parse::<TableId>().is_err());
        assert!(serde_json::from_str::<TableId>("\"a b\"").is_err());
        let id: TableId = serde_json::from_str("\"d\"").expect("valid id");
        assert_eq!(serde_json::to_string(&id).expect("serializes"), "\"d\"");
        assert_eq!(id.as_ref(), "d");
    }
}
