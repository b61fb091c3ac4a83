//! The werkboek of the whole day: the market per team, the tables, the lecture, the "rode
//! lijnen" and the closing feedback's next steps by follow-up, in the programme's order, in
//! Markdown, HTML and XLSX (the ZIP holds those three).

use werktafel_shared::closing::{ClosingStep, FollowUp, StepSource};
use werktafel_shared::day::{
    BoardItem, DaySnapshot, LectureSnapshot, MarketSummary, Material, StandSnapshot,
};
use werktafel_shared::export::{html, markdown, xlsx};
use werktafel_shared::snapshot::EventSnapshot;

use crate::support::*;

fn item(id: &str, text: &str, kind: &str, plus_ones: u32, pinned: Option<u32>) -> BoardItem {
    BoardItem {
        id: id.into(),
        text: text.into(),
        kind: kind.into(),
        author: "Bo de Vries".into(),
        created_at: 1_654_780_000_000,
        plus_ones,
        pinned,
    }
}

fn step(id: &str, text: &str, follow_up: FollowUp, source: Option<StepSource>) -> ClosingStep {
    ClosingStep {
        id: id.into(),
        text: text.into(),
        owner: "OT 2".into(),
        due: "juli".into(),
        source,
        follow_up,
        created_at: 1,
        updated_at: 1,
    }
}

/// A day with a stand (status, material, tips), a lecture (pinned and not) and closing
/// steps of every follow-up, beside the fixture's tables (whose notes say "ondergrond").
pub fn whole_day() -> DaySnapshot {
    DaySnapshot {
        market: MarketSummary {
            stands: vec![StandSnapshot {
                team: 2,
                name: "Stedelijk programmeren en samenwerken".into(),
                status: "Routekaart in concept".into(),
                materials: vec![Material {
                    title: "Routekaart".into(),
                    url: "/files/routekaart.pdf".into(),
                }],
                ambitions: "Catalogus van oplossingen".into(),
                tips: vec![
                    item(
                        "t1",
                        "Deel de routekaart met de ondergrond-experts",
                        "tip",
                        2,
                        None,
                    ),
                    item("t2", "Wie beheert de catalogus?", "vraag", 0, None),
                ],
            }],
        },
        lecture: LectureSnapshot {
            items: vec![
                item(
                    "i1",
                    "De straat is van iedereen: ondergrond en bovengrond samen",
                    "inzicht",
                    5,
                    Some(0),
                ),
                item("i2", "Hoe meten we leefbaarheid?", "vraag", 1, None),
            ],
        },
        closing: vec![
            step(
                "s1",
                "Zomertour langs de Bomenbuurt",
                FollowUp::Zomertour,
                Some(StepSource::Stand { team: 2 }),
            ),
            step(
                "s2",
                "Werksessie ondergrond",
                FollowUp::Werksessie,
                Some(StepSource::Lecture {
                    insight: "i1".into(),
                }),
            ),
            step("s3", "Nieuwsbrief", FollowUp::Anders, None),
        ],
    }
}

/// Where each of `needles` first occurs in `haystack`, failing on one that does not.
fn positions(haystack: &str, needles: &[&str]) -> Vec<usize> {
    needles
        .iter()
        .map(|n| {
            haystack
                .find(n)
                .unwrap_or_else(|| panic!("{n:?} is missing"))
        })
        .collect()
}

fn assert_in_order(haystack: &str, needles: &[&str]) {
    let at = positions(haystack, needles);
    assert!(
        at.windows(2).all(|w| w[0] < w[1]),
        "out of order: {needles:?} at {at:?}"
    );
}

#[test]
fn the_werkboek_follows_the_programme_in_markdown_and_html() {
    let fixture = fixture();
    let mut snapshot = EventSnapshot {
        day: whole_day(),
        ..fixture.snapshot()
    };
    // Table A clusters its first note into a group.
    let a = &mut snapshot.tables[0];
    a.groups.push(werktafel_shared::groups::Group {
        id: "grp1".into(),
        title: "Samen beheren".into(),
    });
    a.notes[0].group = Some("grp1".into());
    let grouped = a.notes[0]
        .text
        .lines()
        .next()
        .unwrap_or_default()
        .trim()
        .to_string();
    let md = markdown::workbook(&snapshot, &options());
    assert_in_order(
        &md,
        &[
            "## Markt",
            "### OT 2: Stedelijk programmeren",
            "**Waar staan we:** Routekaart in concept",
            "Routekaart: /files/routekaart.pdf",
            "**Ambities:** Catalogus van oplossingen",
            "- Deel de routekaart met de ondergrond-experts (2 × nuttig) — _Bo de Vries_",
            "- Wie beheert de catalogus? (vraag)",
            "## Tafel A",
            "### Groepen",
            &format!("- **Samen beheren** (1): {grouped}"),
            "## Tafel D",
            "## Lezing: Inspirerende presentatie",
            "### Vastgepind voor de terugkoppeling",
            "- De straat is van iedereen: ondergrond en bovengrond samen (5 × +1)",
            "### Inzichten en vragen",
            "- Hoe meten we leefbaarheid? (vraag · 1 × +1)",
            "## Rode lijnen",
            "- **ondergrond**: Tafel A, Tafel B, Markt OT 2, Lezing",
            "## Vervolgstappen van de terugkoppeling",
            "### Werksessies",
            "- Werksessie ondergrond (wie: OT 2 · wanneer: juli · bron: Lezing: De straat",
            "### Zomertours",
            "- Zomertour langs de Bomenbuurt (wie: OT 2 · wanneer: juli · bron: Markt: OT 2 Stedelijk",
            "### Anders",
            "- Nieuwsbrief (wie: OT 2 · wanneer: juli)",
            "## Vervolgstappen van de tafels",
        ],
    );

    let page = html::report(&snapshot, &options());
    assert_in_order(
        &page,
        &[
            "<section class=\"market\"",
            "Deel de routekaart met de ondergrond-experts",
            "<section class=\"table\" id=\"tafel-a\">",
            "<h3>Groepen</h3>",
            "<section class=\"lecture\"",
            "Vastgepind voor de terugkoppeling",
            "De straat is van iedereen",
            "Hoe meten we leefbaarheid?",
            "<h2>Rode lijnen</h2>",
            "Tafel A, Tafel B, Markt OT 2, Lezing",
            "<h3>Werksessies</h3>",
            "Werksessie ondergrond",
            "<h3>Zomertours</h3>",
            "<h3>Anders</h3>",
            "Vervolgstappen van de tafels",
        ],
    );

    // Anonymous: no tip or insight author anywhere.
    let anonymous = markdown::workbook(&snapshot, &options().anonymous());
    assert!(!anonymous.contains("Bo de Vries"));
    assert!(!html::report(&snapshot, &options().anonymous()).contains("Bo de Vries"));
}

#[test]
fn the_werkboek_xlsx_has_the_days_sheets_in_order() {
    let fixture = fixture();
    let snapshot = EventSnapshot {
        day: whole_day(),
        ..fixture.snapshot()
    };
    let sheets = xlsx_sheets(&xlsx::workbook(&snapshot, &options()).expect("workbook"));
    let sheet = |name: &str| {
        &sheets
            .iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("no sheet {name}"))
            .1
    };
    assert_eq!(sheets.first().map(|(n, _)| n.as_str()), Some("Markt"));
    let names: Vec<&str> = sheets.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names[names.len() - 3..],
        ["Lezing", "Rode lijnen", "Terugkoppeling"]
    );

    let market = sheet("Markt");
    let parts: Vec<&str> = market[1..].iter().map(|row| row[2].as_str()).collect();
    assert_eq!(
        parts,
        ["waar staan we", "ambities", "materiaal", "tip", "vraag"]
    );
    let lecture = sheet("Lezing");
    assert_eq!(lecture[1][0], "1", "the pinned insight first, numbered");
    assert_eq!(lecture[2][2], "Hoe meten we leefbaarheid?");
    let themes = sheet("Rode lijnen");
    assert!(
        themes
            .iter()
            .any(|row| row[0] == "ondergrond" && row[1] == "Tafel A, Tafel B, Markt OT 2, Lezing")
    );
    let closing = sheet("Terugkoppeling");
    let rows: Vec<(&str, &str)> = closing[1..]
        .iter()
        .map(|r| (r[0].as_str(), r[1].as_str()))
        .collect();
    assert_eq!(
        rows,
        [
            ("werksessie", "Werksessie ondergrond"),
            ("zomertour", "Zomertour langs de Bomenbuurt"),
            ("anders", "Nieuwsbrief"),
        ]
    );
}
