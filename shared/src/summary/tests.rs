//! Tests for the merged summary: fixed fixture tables, ranking, next steps, themes and totals.

use super::themes::{is_stop_word, merge_key};
use super::*;
use crate::schema::{Lane, Note, NoteColor};

fn note(id: &str, lane: Lane, text: &str) -> Note {
    Note {
        id: id.to_owned(),
        text: text.to_owned(),
        lane,
        color: NoteColor::Geel,
        x: 0.0,
        y: 0.0,
        author: "Anna".to_owned(),
        author_id: "dev-anna".to_owned(),
        created_at: 1_650_000_000_000,
        updated_at: 1_650_000_000_000,
        owner: String::new(),
        due: String::new(),
        group: None,
        votes: 0,
        poster: None,
        provenance: None,
    }
}

fn table(id: &str, participants: usize, notes: Vec<Note>) -> TableSnapshot {
    TableSnapshot {
        table_id: id.parse().expect("valid table id"),
        participants,
        notes,
        poster: Default::default(),
        groups: Vec::new(),
    }
}

fn terms(summary: &Summary) -> Vec<&str> {
    summary.themes.iter().map(|t| t.term.as_str()).collect()
}

fn theme<'a>(summary: &'a Summary, term: &str) -> &'a Theme {
    summary
        .themes
        .iter()
        .find(|t| t.term == term)
        .unwrap_or_else(|| panic!("no theme {term:?} in {:?}", terms(summary)))
}

#[test]
fn empty_tables_give_an_empty_summary_of_every_table() {
    let event = Event::builtin();
    let summary = summarize(&event, &[table("b", 3, vec![])]);

    let ids: Vec<&str> = summary.tables.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(ids, ["a", "b", "c", "d"]);
    assert_eq!(summary.tables[0].title, "Vitale systemen");
    assert!(summary.tables[0].question.starts_with("Welke systemen"));
    assert_eq!(summary.tables[1].participants, 3);
    assert!(summary.tables.iter().all(|t| t.note_count == 0));
    assert!(summary.tables.iter().all(|t| t.lanes.all().count() == 0));
    assert!(summary.next_steps.is_empty());
    assert!(summary.themes.is_empty());
    assert_eq!(
        summary.totals,
        Totals {
            notes: 0,
            participants: 3,
            tables: 4,
            next_steps: 0,
            per_lane: LaneCounts::default(),
        }
    );
}

#[test]
fn a_snapshot_of_an_undefined_table_is_reported_after_the_event_tables() {
    let event = Event::builtin();
    let summary = summarize(
        &event,
        &[table("zz", 1, vec![note("n1", Lane::Goed, "los")])],
    );
    let last = summary.tables.last().expect("tables");
    assert_eq!(last.id.as_str(), "zz");
    assert_eq!(last.title, "zz");
    assert_eq!(last.note_count, 1);
    assert_eq!(summary.totals.tables, 5);
    assert_eq!(summary.totals.notes, 1);
}

#[test]
fn notes_are_split_per_lane_and_next_steps_are_merged_in_table_order() {
    let event = Event::builtin();
    let summary = summarize(
        &event,
        &[
            table(
                "c",
                2,
                vec![note("c1", Lane::Vervolgstap, "Regisseur aanstellen")],
            ),
            table(
                "a",
                4,
                vec![
                    note("a1", Lane::Goed, "Samenwerking met netbeheerders"),
                    note("a2", Lane::Doorpakken, "Ondergrondse ordening"),
                    note("a3", Lane::Vervolgstap, "Kabels en leidingen in kaart"),
                ],
            ),
        ],
    );

    let a = summary.table("a").expect("table a");
    assert_eq!(a.note_count, 3);
    assert_eq!(
        a.lane_counts,
        LaneCounts {
            goed: 1,
            doorpakken: 1,
            vervolgstap: 1
        }
    );
    assert_eq!(a.lanes.goed[0].text, "Samenwerking met netbeheerders");
    let steps: Vec<(&str, &str, &str)> = summary
        .next_steps
        .iter()
        .map(|s| (s.table.as_str(), s.table_title.as_str(), s.note_id.as_str()))
        .collect();
    assert_eq!(
        steps,
        [
            ("a", "Vitale systemen", "a3"),
            ("c", "Rol van de gebiedsregisseur", "c1")
        ]
    );
    assert_eq!(summary.totals.participants, 6);
    assert_eq!(summary.totals.next_steps, 2);
    assert_eq!(summary.totals.per_lane.vervolgstap, 2);
}

#[test]
fn notes_rank_by_edit_span_then_length_then_recency() {
    let at = |id: &str, text: &str, created: i64, updated: i64| Note {
        created_at: created,
        updated_at: updated,
        owner: String::new(),
        due: String::new(),
        group: None,
        votes: 0,
        provenance: None,
        ..note(id, Lane::Goed, text)
    };
    let event = Event::builtin();
    let summary = summarize(
        &event,
        &[table(
            "a",
            1,
            vec![
                at("recent", "kort", 1_000, 9_000),
                at("revisited", "kort", 1_000, 60_000),
                at("long", "een veel langere tekst", 5_000, 13_000),
                at("same-b", "kort", 0, 8_000),
                at("same-a", "kort", 0, 8_000),
                // A clock that went backwards counts as no span, not a negative one.
                at("skewed", "kort", 9_000, 1_000),
            ],
        )],
    );
    let order: Vec<&str> = summary.tables[0]
        .lanes
        .goed
        .iter()
        .map(|n| n.id.as_str())
        .collect();
    assert_eq!(
        order,
        ["revisited", "long", "recent", "same-a", "same-b", "skewed"]
    );
}

#[test]
fn a_table_with_a_thousand_notes() {
    let lanes = Lane::ALL;
    let notes: Vec<Note> = (0..1000)
        .map(|i| Note {
            created_at: 1_650_000_000_000 + i,
            updated_at: 1_650_000_000_000 + i * 3,
            owner: String::new(),
            due: String::new(),
            group: None,
            votes: 0,
            provenance: None,
            ..note(
                &format!("note-{i:04}"),
                lanes[i as usize % 3],
                &format!("Notitie {i} over ruimte"),
            )
        })
        .collect();
    let event = Event::builtin();
    let summary = summarize(&event, &[table("d", 12, notes)]);

    let d = summary.table("d").expect("table d");
    assert_eq!(d.note_count, 1000);
    assert_eq!(d.lane_counts.goed, 334);
    assert_eq!(d.lane_counts.doorpakken, 333);
    assert_eq!(d.lane_counts.vervolgstap, 333);
    assert_eq!(summary.next_steps.len(), 333);
    assert_eq!(summary.totals.notes, 1000);
    // Span grows with i, so the last note comes first in every lane.
    assert_eq!(d.lanes.goed[0].id, "note-0999");
    assert!(d.lanes.goed.windows(2).all(|w| rank(&w[0], &w[1]).is_lt()));
    // One table only: nothing is shared, however often "ruimte" recurs.
    assert!(summary.themes.is_empty());
}

#[test]
fn emoji_and_very_long_text_pass_through_unchanged() {
    let long = "Heel lange notitie over de openbare ruimte. ".repeat(500);
    let emoji = "Groen 🌳🌳 in de wijk 👍🏽 — café’s en terrassen ✨";
    let event = Event::builtin();
    let summary = summarize(
        &event,
        &[
            table("a", 1, vec![note("long", Lane::Doorpakken, &long)]),
            table("b", 1, vec![note("emoji", Lane::Goed, emoji)]),
            table("c", 1, vec![note("emoji2", Lane::Goed, "🌳 terras! 🌳")]),
        ],
    );
    assert_eq!(summary.tables[0].lanes.doorpakken[0].text, long);
    assert_eq!(summary.tables[1].lanes.goed[0].text, emoji);
    // "terrassen" and "terras" meet; on a tie the shorter spelling is shown.
    let terras = theme(&summary, "terras");
    assert_eq!(terras.count, 2);
    assert!(!terms(&summary).iter().any(|t| t.contains('🌳')));
}

#[test]
fn themes_are_words_and_phrases_shared_by_two_or_more_tables() {
    let event = Event::builtin();
    let summary = summarize(
        &event,
        &[
            table(
                "a",
                1,
                vec![
                    note("a1", Lane::Goed, "De openbare ruimte is van iedereen"),
                    note("a2", Lane::Doorpakken, "Ondergrond en bewoners"),
                ],
            ),
            table(
                "b",
                1,
                vec![note("b1", Lane::Goed, "Openbare ruimte: wie betaalt?")],
            ),
            table(
                "c",
                1,
                vec![
                    note(
                        "c1",
                        Lane::Vervolgstap,
                        "Meer openbare ruimte voor bewoners",
                    ),
                    note("c2", Lane::Goed, "Ondergrond eerst"),
                ],
            ),
        ],
    );

    let shared = theme(&summary, "openbare ruimte");
    let tables: Vec<&str> = shared.tables.iter().map(TableId::as_str).collect();
    assert_eq!(tables, ["a", "b", "c"]);
    assert_eq!(shared.count, 3);
    let notes: Vec<(&str, &str)> = shared
        .notes
        .iter()
        .map(|n| match &n.origin {
            Origin::Table { id } => (id.as_str(), n.note_id.as_str()),
            other => panic!("a table's note, not {other:?}"),
        })
        .collect();
    assert_eq!(notes, [("a", "a1"), ("b", "b1"), ("c", "c1")]);
    // Said by exactly the same notes as the phrase, the single words add nothing.
    assert!(!terms(&summary).contains(&"openbare"));
    assert!(!terms(&summary).contains(&"ruimte"));
    // Most tables first.
    assert_eq!(summary.themes[0].term, "openbare ruimte");
    assert_eq!(theme(&summary, "ondergrond").tables.len(), 2);
    assert_eq!(theme(&summary, "bewoners").count, 2);
    // "iedereen", "betaalt", "eerst" occur at one table only.
    assert!(!terms(&summary).contains(&"iedereen"));
}

#[test]
fn stop_words_short_words_and_numbers_are_no_themes() {
    let event = Event::builtin();
    let text = "We moeten dit echt goed doen en the plan is 2024 ok";
    let summary = summarize(
        &event,
        &[
            table("a", 1, vec![note("a1", Lane::Goed, text)]),
            table("b", 1, vec![note("b1", Lane::Goed, text)]),
        ],
    );
    assert_eq!(terms(&summary), ["plan"]);
    for word in ["de", "het", "een", "moeten", "the", "and", "of"] {
        assert!(is_stop_word(word), "{word:?} should be a stop word");
    }
    assert!(!is_stop_word("ruimte"));
}

#[test]
fn plurals_and_case_are_merged() {
    let event = Event::builtin();
    let summary = summarize(
        &event,
        &[
            table(
                "a",
                1,
                vec![note(
                    "a1",
                    Lane::Goed,
                    "Gemeenten, straten, initiatieven, AUTO'S en Bewoners",
                )],
            ),
            table(
                "b",
                1,
                vec![note(
                    "b1",
                    Lane::Goed,
                    "Gemeente, straat, initiatief, auto, bewoner",
                )],
            ),
            table("c", 1, vec![note("c1", Lane::Goed, "gemeente; plannen")]),
            table("d", 1, vec![note("d1", Lane::Goed, "GEMEENTE plan")]),
        ],
    );
    let gemeente = theme(&summary, "gemeente");
    assert_eq!(gemeente.tables.len(), 4);
    assert_eq!(gemeente.count, 4);
    for term in ["initiatief", "straat", "auto", "plan"] {
        let found = summary
            .themes
            .iter()
            .find(|t| merge_key(&t.term) == merge_key(term))
            .unwrap_or_else(|| panic!("no theme for {term:?} in {:?}", terms(&summary)));
        assert_eq!(found.tables.len(), 2, "{term:?}");
    }
    assert_eq!(summary.themes[0].term, "gemeente");
}

#[test]
fn merge_key_folds_common_plurals_and_keeps_other_words_apart() {
    let same = [
        ("gemeente", "gemeenten"),
        ("kans", "kansen"),
        ("straat", "straten"),
        ("bewoner", "bewoners"),
        ("plan", "plannen"),
        ("auto", "auto's"),
        ("foto", "foto’s"),
        ("ruimte", "ruimtes"),
        ("buurt", "buurten"),
        ("initiatief", "initiatieven"),
        ("huis", "huizen"),
        ("groot", "grote"),
        ("system", "systems"),
    ];
    for (a, b) in same {
        assert_eq!(merge_key(a), merge_key(b), "{a:?} and {b:?} should meet");
    }
    let apart = [("kans", "kan"), ("plan", "plein"), ("ruimte", "ruim")];
    for (a, b) in apart {
        assert_ne!(
            merge_key(a),
            merge_key(b),
            "{a:?} and {b:?} should stay apart"
        );
    }
    assert_eq!(merge_key("één"), "één");
}

#[test]
fn themes_are_capped_and_ranked_by_tables_then_notes() {
    let words: Vec<String> = (0..30).map(|i| format!("thema{i:02}")).collect();
    let all = words.join(" . ");
    let event = Event::builtin();
    let summary = summarize(
        &event,
        &[
            table("a", 1, vec![note("a1", Lane::Goed, &all)]),
            table("b", 1, vec![note("b1", Lane::Goed, &all)]),
            table(
                "c",
                1,
                vec![
                    note("c1", Lane::Goed, "thema29"),
                    note("c2", Lane::Goed, "thema29"),
                ],
            ),
        ],
    );
    assert_eq!(summary.themes.len(), THEME_LIMIT);
    assert_eq!(summary.themes[0].term, "thema29");
    assert_eq!(summary.themes[0].count, 4);
    assert_eq!(summary.themes[1].term, "thema00");
}

#[test]
fn summary_serializes_as_camel_case_json() {
    let event = Event::builtin();
    let summary = summarize(
        &event,
        &[table("a", 2, vec![note("a1", Lane::Vervolgstap, "Stap")])],
    );
    let json = serde_json::to_value(&summary).expect("summary serializes");
    assert_eq!(json["tables"][0]["noteCount"], 1);
    assert_eq!(
        json["tables"][0]["lanes"]["vervolgstap"][0]["createdAt"],
        1_650_000_000_000_i64
    );
    assert_eq!(json["tables"][0]["laneCounts"]["vervolgstap"], 1);
    assert_eq!(json["nextSteps"][0]["tableTitle"], "Vitale systemen");
    assert_eq!(json["nextSteps"][0]["noteId"], "a1");
    assert_eq!(json["totals"]["perLane"]["vervolgstap"], 1);
    assert_eq!(json["totals"]["nextSteps"], 1);
    assert!(json["themes"].is_array());
}

/// `n` distinct words, none a stop word and no two with the same merge key (consonants
/// only, no `s` or `n`, never a doubled last letter), space-separated.
fn unique_words(n: usize) -> String {
    const LETTERS: &[u8] = b"bcdfghjkptvwz";
    (0..n)
        .map(|i| {
            let mut word = String::from("wq");
            let mut k = i;
            loop {
                word.push(char::from(LETTERS[k % LETTERS.len()]));
                k /= LETTERS.len();
                if k == 0 {
                    break;
                }
            }
            word.push('x');
            word
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn a_note_contributes_only_its_first_distinct_words() {
    use super::themes::WORDS_PER_NOTE;
    let event = Event::builtin();
    let filler = unique_words(WORDS_PER_NOTE);
    // The same filler at both tables, then one word each table shares past the cap.
    let late = format!("{filler} gebiedsregisseur");
    let summary = summarize(
        &event,
        &[
            table("a", 1, vec![note("a1", Lane::Goed, &late)]),
            table("b", 1, vec![note("b1", Lane::Goed, &late)]),
            table("c", 1, vec![note("c1", Lane::Goed, "gebiedsregisseur")]),
        ],
    );
    assert!(
        !terms(&summary).contains(&"gebiedsregisseur"),
        "a word after the first {WORDS_PER_NOTE} distinct ones counts: {:?}",
        terms(&summary)
    );
    // Repeating words already counted does not use up the cap.
    let early = format!("{} gebiedsregisseur", "wqbx wqcx ".repeat(500));
    let summary = summarize(
        &event,
        &[
            table("a", 1, vec![note("a1", Lane::Goed, &early)]),
            table("c", 1, vec![note("c1", Lane::Goed, "gebiedsregisseur")]),
        ],
    );
    assert!(terms(&summary).contains(&"gebiedsregisseur"));
}

#[test]
fn a_huge_note_at_two_tables_gives_at_most_the_theme_limit() {
    // The case that was quadratic: 24,000 unique words, the same at two tables. Speed is
    // measured by `cargo bench -p werktafel-shared --bench themes`; this checks the result.
    let event = Event::builtin();
    let text = unique_words(24_000);
    let summary = summarize(
        &event,
        &[
            table("a", 1, vec![note("a1", Lane::Goed, &text)]),
            table("b", 1, vec![note("b1", Lane::Goed, &text)]),
        ],
    );
    assert_eq!(summary.themes.len(), THEME_LIMIT);
    for theme in &summary.themes {
        assert_eq!(theme.tables.len(), 2);
        assert_eq!(theme.count, 2);
        assert_eq!(
            theme.term.split(' ').count(),
            2,
            "phrases say more than their words"
        );
    }
    assert_eq!(
        summary.tables[0].lanes.goed[0].text, text,
        "the note itself is whole"
    );
}
