//! Tests for the day view: themes across tables, stands and the lecture; the market's and
//! the lecture's summaries; the closing steps with their sources.

use super::*;
use crate::closing::{FollowUp, StepSource};
use crate::day::{
    BoardItem, LectureSnapshot, MarketSummary, StandSnapshot, TOP_INSIGHTS, TOP_TIPS,
};
use crate::schema::{Lane, Note, NoteColor};

fn note(id: &str, text: &str) -> Note {
    Note {
        id: id.into(),
        text: text.into(),
        lane: Lane::Doorpakken,
        color: NoteColor::Geel,
        x: 0.0,
        y: 0.0,
        author: "Anna".into(),
        author_id: "dev-anna".into(),
        created_at: 1,
        updated_at: 1,
        owner: String::new(),
        due: String::new(),
        group: None,
        votes: 0,
        provenance: None,
        poster: None,
    }
}

fn item(id: &str, text: &str, plus_ones: u32, pinned: Option<u32>) -> BoardItem {
    BoardItem {
        id: id.into(),
        text: text.into(),
        kind: "inzicht".into(),
        author: "Bo".into(),
        created_at: 10,
        plus_ones,
        pinned,
    }
}

fn stand(team: u32, tips: Vec<BoardItem>) -> StandSnapshot {
    StandSnapshot {
        team,
        name: format!("Team {team}"),
        tips,
        ..StandSnapshot::default()
    }
}

fn table(id: &str, notes: Vec<Note>) -> TableSnapshot {
    TableSnapshot {
        table_id: id.parse().unwrap(),
        participants: 1,
        notes,
        groups: Vec::new(),
        poster: Default::default(),
    }
}

fn theme<'a>(summary: &'a Summary, term: &str) -> &'a Theme {
    summary
        .themes
        .iter()
        .find(|t| t.term == term)
        .unwrap_or_else(|| {
            let terms: Vec<_> = summary.themes.iter().map(|t| &t.term).collect();
            panic!("no theme {term:?} in {terms:?}")
        })
}

#[test]
fn a_theme_recurs_across_a_table_a_stand_and_the_lecture_and_says_where() {
    let event = Event::builtin();
    let day = DaySnapshot {
        market: MarketSummary {
            stands: vec![stand(
                2,
                vec![item("t1", "Deel de fietsstraat data", 0, None)],
            )],
        },
        lecture: LectureSnapshot {
            items: vec![item("i1", "De fietsstraat is openbare ruimte", 0, None)],
        },
        closing: vec![],
    };
    let tables = [table("a", vec![note("a1", "Een fietsstraat per wijk")])];
    let summary = summarize_day(&event, &tables, &day);
    let fiets = theme(&summary, "fietsstraat");
    assert_eq!(
        fiets.origins,
        [
            Origin::Table {
                id: "a".parse().unwrap()
            },
            Origin::Stand { team: 2 },
            Origin::Lecture
        ]
    );
    let tables: Vec<&str> = fiets.tables.iter().map(TableId::as_str).collect();
    assert_eq!(tables, ["a"], "tables keep their own list for the tiles");
    assert_eq!(fiets.count, 3);
    let labels: Vec<String> = fiets.origins.iter().map(Origin::label).collect();
    assert_eq!(labels, ["Tafel A", "Markt OT 2", "Lezing"]);

    // Two stands alone make a theme too; one origin never does.
    let day = DaySnapshot {
        market: MarketSummary {
            stands: vec![
                stand(
                    1,
                    vec![
                        item("x", "kennisdeling graag", 0, None),
                        item("y", "meer kennisdeling", 0, None),
                    ],
                ),
                stand(3, vec![item("z", "Kennisdeling!", 0, None)]),
            ],
        },
        ..DaySnapshot::default()
    };
    let summary = summarize_day(&event, &[], &day);
    assert_eq!(theme(&summary, "kennisdeling").origins.len(), 2);
    let lecture_only = DaySnapshot {
        lecture: LectureSnapshot {
            items: vec![
                item("a", "zomertour", 0, None),
                item("b", "zomertour", 0, None),
            ],
        },
        ..DaySnapshot::default()
    };
    assert!(summarize_day(&event, &[], &lecture_only).themes.is_empty());
}

#[test]
fn the_day_view_has_top_tips_pinned_insights_and_labelled_closing_steps() {
    let event = Event::builtin();
    let tips: Vec<BoardItem> = (0..5)
        .map(|i| item(&format!("t{i}"), "tip", i, None))
        .collect();
    let mut insights: Vec<BoardItem> = (0..8)
        .map(|i| item(&format!("i{i}"), "inzicht", i, None))
        .collect();
    insights[1].pinned = Some(1);
    insights[6].pinned = Some(0);
    let day = DaySnapshot {
        market: MarketSummary {
            stands: vec![stand(2, tips)],
        },
        lecture: LectureSnapshot { items: insights },
        closing: vec![
            ClosingStep {
                id: "s1".into(),
                text: "Werksessie over data".into(),
                owner: "OT 5".into(),
                due: "juni".into(),
                source: Some(StepSource::Lecture {
                    insight: "i6".into(),
                }),
                follow_up: FollowUp::Werksessie,
                created_at: 1,
                updated_at: 1,
            },
            ClosingStep {
                id: "s2".into(),
                text: "Zomertour Leiden".into(),
                owner: String::new(),
                due: String::new(),
                source: Some(StepSource::Table {
                    id: "b".parse().unwrap(),
                }),
                follow_up: FollowUp::Zomertour,
                created_at: 2,
                updated_at: 2,
            },
        ],
    };
    let summary = summarize_day(&event, &[], &day);
    let stand = &summary.market[0];
    assert_eq!(stand.tip_count, 5);
    let top: Vec<&str> = stand.top_tips.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(top, ["t4", "t3", "t2"][..TOP_TIPS]);
    let pinned: Vec<&str> = summary
        .lecture
        .pinned
        .iter()
        .map(|i| i.id.as_str())
        .collect();
    assert_eq!(pinned, ["i6", "i1"], "in pin order");
    let top: Vec<&str> = summary.lecture.top.iter().map(|i| i.id.as_str()).collect();
    assert_eq!(
        top,
        ["i7", "i5", "i4", "i3", "i2"][..TOP_INSIGHTS],
        "the rest by +1s"
    );
    assert_eq!(summary.lecture.count, 8);
    let labels: Vec<&str> = summary
        .closing_steps
        .iter()
        .map(|s| s.source_label.as_str())
        .collect();
    assert_eq!(labels, ["Lezing: inzicht", "Tafel B — Afwegingskader"]);
    let json = serde_json::to_value(&summary.closing_steps[0]).unwrap();
    assert_eq!(json["followUp"], "werksessie");
    assert_eq!(json["source"]["kind"], "lecture");
    assert_eq!(json["sourceLabel"], "Lezing: inzicht");
}

#[test]
fn a_stand_document_becomes_the_days_stand_with_its_tips_and_useful_marks() {
    use crate::market::{TipDraft, TipKind, insert_tip, read_stand, write_stand_texts};
    let event = Event::builtin();
    let team = event.team(2).unwrap();
    let doc = yrs::Doc::new();
    write_stand_texts(&doc, "Routekaart in concept", "Een catalogus");
    {
        let mut txn = yrs::Transact::transact_mut(&doc);
        for (id, kind, text) in [
            ("t1", TipKind::Tip, "Deel de routekaart"),
            ("t2", TipKind::Vraag, "Wie beheert het?"),
        ] {
            insert_tip(
                &mut txn,
                &TipDraft {
                    id: id.into(),
                    kind,
                    text: text.into(),
                    author: "Bo".into(),
                    author_id: "b".into(),
                    now_ms: 3,
                },
            );
        }
        crate::control::write_vote_totals(&mut txn, &[("t2".to_string(), 4)].into());
    }
    let stand = crate::day::StandSnapshot::from(&read_stand(&doc, team));
    assert_eq!((stand.team, stand.name.as_str()), (2, team.name.as_str()));
    assert_eq!(
        (stand.status.as_str(), stand.ambitions.as_str()),
        ("Routekaart in concept", "Een catalogus")
    );
    let mut tips: Vec<(&str, &str, u32)> = stand
        .tips
        .iter()
        .map(|t| (t.id.as_str(), t.kind.as_str(), t.plus_ones))
        .collect();
    tips.sort();
    assert_eq!(tips, [("t1", "tip", 0), ("t2", "vraag", 4)]);
    let summary = summarize_day(
        &event,
        &[],
        &DaySnapshot {
            market: MarketSummary {
                stands: vec![stand],
            },
            ..DaySnapshot::default()
        },
    );
    assert_eq!(summary.market[0].top_tips[0].id, "t2", "most useful first");
}

#[test]
fn anonymizing_the_day_clears_tip_and_insight_authors() {
    let mut day = DaySnapshot {
        market: MarketSummary {
            stands: vec![stand(1, vec![item("t", "tip", 0, None)])],
        },
        lecture: LectureSnapshot {
            items: vec![item("i", "x", 0, None)],
        },
        closing: vec![],
    };
    day.anonymize();
    assert_eq!(day.market.stands[0].tips[0].author, "");
    assert_eq!(day.lecture.items[0].author, "");
}
