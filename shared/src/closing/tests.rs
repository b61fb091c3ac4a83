use yrs::{Doc, Transact};

use super::*;

fn event() -> Event {
    Event::builtin()
}

fn input(text: &str) -> StepInput {
    StepInput {
        text: text.into(),
        ..StepInput::default()
    }
}

fn add(doc: &Doc, id: &str, input: StepInput) -> Result<ClosingStep, StepError> {
    add_step(&mut doc.transact_mut(), &event(), id, input, 1_000)
}

fn ids(doc: &Doc) -> Vec<String> {
    read_steps(doc).into_iter().map(|s| s.id).collect()
}

#[test]
fn a_step_round_trips_with_every_field() {
    let doc = Doc::new();
    let sources = [
        Some(StepSource::Table {
            id: "a".parse().unwrap(),
        }),
        Some(StepSource::Stand { team: 2 }),
        Some(StepSource::Lecture {
            insight: "ins-1".into(),
        }),
        None,
    ];
    for (i, source) in sources.iter().enumerate() {
        let step = add(
            &doc,
            &format!("s{i}"),
            StepInput {
                text: format!("  Stap {i}  "),
                owner: "Gemeente Leiden".into(),
                due: "voor de zomer".into(),
                source: source.clone(),
                follow_up: FollowUp::Zomertour,
            },
        )
        .unwrap();
        assert_eq!(step.text, format!("Stap {i}"), "trimmed");
    }
    let steps = read_steps(&doc);
    assert_eq!(steps.len(), 4);
    for (step, source) in steps.iter().zip(&sources) {
        assert_eq!(&step.source, source);
        assert_eq!(step.owner, "Gemeente Leiden");
        assert_eq!(step.due, "voor de zomer");
        assert_eq!(step.follow_up, FollowUp::Zomertour);
        assert_eq!(step.created_at, 1_000);
    }
}

#[test]
fn bad_input_is_refused_with_its_reason_and_changes_nothing() {
    let doc = Doc::new();
    let long = |n: usize| "x".repeat(n);
    let cases = [
        (input("   "), StepError::EmptyText),
        (
            input(&long(MAX_STEP_TEXT_CHARS + 1)),
            StepError::TooLong {
                field: "text",
                max: MAX_STEP_TEXT_CHARS,
            },
        ),
        (
            StepInput {
                owner: long(MAX_STEP_OWNER_CHARS + 1),
                ..input("ok")
            },
            StepError::TooLong {
                field: "owner",
                max: MAX_STEP_OWNER_CHARS,
            },
        ),
        (
            StepInput {
                due: long(MAX_STEP_DUE_CHARS + 1),
                ..input("ok")
            },
            StepError::TooLong {
                field: "due",
                max: MAX_STEP_DUE_CHARS,
            },
        ),
        (
            StepInput {
                source: Some(StepSource::Table {
                    id: "z".parse().unwrap(),
                }),
                ..input("ok")
            },
            StepError::UnknownTable("z".into()),
        ),
        (
            StepInput {
                source: Some(StepSource::Stand { team: 9 }),
                ..input("ok")
            },
            StepError::UnknownTeam(9),
        ),
        (
            StepInput {
                source: Some(StepSource::Lecture {
                    insight: "a b".into(),
                }),
                ..input("ok")
            },
            StepError::BadInsightId("a b".into()),
        ),
    ];
    for (bad, expected) in cases {
        assert_eq!(add(&doc, "x", bad), Err(expected));
    }
    assert!(read_steps(&doc).is_empty());
    // Characters, not bytes: the longest text of "é"s is fine.
    add(&doc, "ok", input(&"é".repeat(MAX_STEP_TEXT_CHARS))).unwrap();
}

#[test]
fn the_list_holds_at_most_max_steps() {
    let doc = Doc::new();
    for i in 0..MAX_STEPS {
        add(&doc, &format!("s{i}"), input("stap")).unwrap();
    }
    assert_eq!(
        add(&doc, "one-more", input("stap")),
        Err(StepError::TooMany { max: MAX_STEPS })
    );
    assert_eq!(read_steps(&doc).len(), MAX_STEPS);
}

#[test]
fn patches_change_only_what_they_name_and_can_clear_the_source() {
    let doc = Doc::new();
    add(
        &doc,
        "s1",
        StepInput {
            source: Some(StepSource::Stand { team: 3 }),
            owner: "OT 3".into(),
            ..input("Eerst")
        },
    )
    .unwrap();
    let patch: StepPatch =
        serde_json::from_str(r#"{"text":"Later","followUp":"werksessie"}"#).unwrap();
    let step = update_step(&mut doc.transact_mut(), &event(), "s1", patch, 2_000).unwrap();
    assert_eq!((step.text.as_str(), step.owner.as_str()), ("Later", "OT 3"));
    assert_eq!(step.source, Some(StepSource::Stand { team: 3 }));
    assert_eq!((step.created_at, step.updated_at), (1_000, 2_000));
    let clear: StepPatch = serde_json::from_str(r#"{"source":null}"#).unwrap();
    update_step(&mut doc.transact_mut(), &event(), "s1", clear, 3_000).unwrap();
    assert_eq!(read_steps(&doc)[0].source, None);
    let empty: StepPatch = serde_json::from_str(r#"{"text":" "}"#).unwrap();
    assert_eq!(
        update_step(&mut doc.transact_mut(), &event(), "s1", empty, 4_000),
        Err(StepError::EmptyText)
    );
    assert_eq!(
        read_steps(&doc)[0].text,
        "Later",
        "a refused patch changes nothing"
    );
    assert_eq!(
        update_step(
            &mut doc.transact_mut(),
            &event(),
            "nope",
            StepPatch::default(),
            1
        ),
        Err(StepError::UnknownStep("nope".into()))
    );
    assert!(
        serde_json::from_str::<StepPatch>(r#"{"colour":"rood"}"#).is_err(),
        "unknown fields refused"
    );
}

#[test]
fn reordering_needs_every_step_once_and_removal_keeps_the_order() {
    let doc = Doc::new();
    for id in ["a", "b", "c"] {
        add(&doc, id, input(id)).unwrap();
    }
    let order = |ids: &[&str]| ids.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    reorder_steps(&mut doc.transact_mut(), &order(&["c", "a", "b"])).unwrap();
    assert_eq!(ids(&doc), ["c", "a", "b"]);
    for bad in [&["c", "a"][..], &["c", "a", "a"], &["c", "a", "b", "d"]] {
        assert_eq!(
            reorder_steps(&mut doc.transact_mut(), &order(bad)),
            Err(StepError::OrderMismatch)
        );
    }
    assert_eq!(ids(&doc), ["c", "a", "b"]);
    remove_step(&mut doc.transact_mut(), "a").unwrap();
    add(&doc, "d", input("d")).unwrap();
    assert_eq!(ids(&doc), ["c", "b", "d"], "a new step comes last");
    assert_eq!(
        remove_step(&mut doc.transact_mut(), "a"),
        Err(StepError::UnknownStep("a".into()))
    );
}

#[test]
fn grouping_follows_the_programmes_follow_ups_and_keeps_the_list_order() {
    let doc = Doc::new();
    for (id, follow_up) in [
        ("1", FollowUp::Anders),
        ("2", FollowUp::Zomertour),
        ("3", FollowUp::Werksessie),
        ("4", FollowUp::Zomertour),
    ] {
        add(
            &doc,
            id,
            StepInput {
                follow_up,
                ..input(id)
            },
        )
        .unwrap();
    }
    let steps = read_steps(&doc);
    let groups: Vec<(FollowUp, Vec<&str>)> = group_by_follow_up(&steps)
        .into_iter()
        .map(|(f, g)| (f, g.into_iter().map(|s| s.id.as_str()).collect()))
        .collect();
    assert_eq!(
        groups,
        [
            (FollowUp::Werksessie, vec!["3"]),
            (FollowUp::Zomertour, vec!["2", "4"]),
            (FollowUp::Anders, vec!["1"]),
        ]
    );
    let only_other: Vec<_> = group_by_follow_up(&steps[..1])
        .into_iter()
        .map(|(f, _)| f)
        .collect();
    assert_eq!(only_other, [FollowUp::Anders], "empty groups are left out");
}

#[test]
fn sources_say_where_a_step_came_from() {
    let event = event();
    assert_eq!(
        StepSource::Table {
            id: "a".parse().unwrap()
        }
        .label(&event),
        "Tafel A — Vitale systemen"
    );
    assert!(
        StepSource::Stand { team: 2 }
            .label(&event)
            .starts_with("Markt: OT 2 ")
    );
    assert_eq!(
        StepSource::Lecture {
            insight: "x1".into()
        }
        .label(&event),
        "Lezing"
    );
    let json = serde_json::to_value(StepSource::Stand { team: 2 }).unwrap();
    assert_eq!(json, serde_json::json!({ "kind": "stand", "team": 2 }));
}
