//! Hostile and broken input: each bad frame closes only the connection that
//! sent it, with a documented close code, and leaves the document and every
//! other client untouched.

use werktafel_shared::schema::Lane;
use werktafel_tests::{Client, Server};

use crate::notes;

struct Case {
    name: &'static str,
    frame: Vec<u8>,
    code: u16,
}

fn cases() -> Vec<Case> {
    // A structurally valid update message whose update bytes are garbage.
    let garbage_update = vec![0, 2, 6, 0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0xfa];
    // An update claiming a million structs for a client, with nothing behind it.
    let truncated_update = vec![0, 2, 5, 1, 0xc0, 0x84, 0x3d, 7];
    vec![
        Case {
            name: "empty frame",
            frame: vec![],
            code: 1002,
        },
        Case {
            name: "unknown message type",
            frame: vec![9, 0],
            code: 1002,
        },
        Case {
            name: "truncated varint",
            frame: vec![0x80],
            code: 1002,
        },
        Case {
            name: "unknown sync type",
            frame: vec![0, 7, 0],
            code: 1002,
        },
        Case {
            name: "length past the end",
            frame: vec![0, 2, 50, 1, 2, 3],
            code: 1002,
        },
        Case {
            name: "huge length",
            frame: vec![0, 2, 0xff, 0xff, 0xff, 0xff, 0x0f],
            code: 1002,
        },
        Case {
            name: "bad state vector",
            frame: vec![0, 0, 3, 0xff, 0xff, 0xff],
            code: 1002,
        },
        Case {
            name: "auth from a client",
            frame: vec![2, 0, 0],
            code: 1002,
        },
        Case {
            name: "garbage awareness",
            frame: vec![1, 4, 1, 0xff, 0xff, 0xff],
            code: 1002,
        },
        Case {
            name: "garbage update",
            frame: garbage_update,
            code: 1007,
        },
        Case {
            name: "truncated update",
            frame: truncated_update,
            code: 1007,
        },
    ]
}

#[tokio::test]
async fn each_bad_frame_closes_only_its_connection_and_leaves_the_doc_intact() -> anyhow::Result<()>
{
    let server = Server::start().await?;
    let bystander = Client::connect(&server, "a").await?;
    bystander.synced().await?;
    notes::add(&bystander, "keep", "Blijft staan", Lane::Goed);

    for case in cases() {
        let attacker = Client::connect(&server, "a").await?;
        attacker.synced().await?;
        attacker.send_raw(case.frame.clone());
        let closed = attacker.closed().await?;
        assert!(
            closed.code == Some(case.code),
            "{}: sent {:?}, expected close {}, got {closed:?}; server log: {}",
            case.name,
            case.frame,
            case.code,
            server.log.display()
        );
        assert!(
            !bystander.is_closed(),
            "{}: the bystander was disconnected",
            case.name
        );
    }

    // The bystander still edits, and a newcomer sees exactly the intact doc.
    notes::type_into(&bystander, "keep", 0, "Nog steeds: ");
    let newcomer = Client::connect(&server, "a").await?;
    newcomer
        .wait_for("the intact note", |_| {
            notes::text_of(&newcomer, "keep").as_deref() == Some("Nog steeds: Blijft staan")
        })
        .await?;
    assert_eq!(newcomer.notes(), bystander.notes());
    Ok(())
}

#[tokio::test]
async fn a_text_frame_is_refused_with_1003() -> anyhow::Result<()> {
    let server = Server::start().await?;
    let client = Client::connect(&server, "b").await?;
    client.synced().await?;
    client.send_text("hello");
    assert_eq!(client.closed().await?.code, Some(1003));
    Ok(())
}

#[tokio::test]
async fn an_oversized_message_is_refused_with_1009() -> anyhow::Result<()> {
    let tmp = tempfile::tempdir()?;
    let server = Server::start_in(tmp.path(), &["--max-message-bytes", "4096"]).await?;
    let bystander = Client::connect(&server, "c").await?;
    bystander.synced().await?;
    let client = Client::connect(&server, "c").await?;
    client.synced().await?;
    // A valid note whose text is over the limit.
    notes::add(&client, "big", &"x".repeat(10_000), Lane::Goed);
    let closed = client.closed().await?;
    assert_eq!(
        closed.code,
        Some(1009),
        "{closed:?}; log: {}",
        server.log.display()
    );
    assert!(!bystander.is_closed());
    // Nothing of it reached the document.
    let newcomer = Client::connect(&server, "c").await?;
    newcomer.synced().await?;
    assert!(!notes::has_note(&newcomer, "big"));
    Ok(())
}

/// Two updates that are each well-formed but contradict each other: the
/// second hangs an item under an id that the first made a plain string.
/// yrs refuses it part-way through integrating, so the server must reload
/// the table from storage rather than trust its in-memory document.
fn contradicting_updates() -> (Vec<u8>, Vec<u8>) {
    use yrs::{Doc, Map, MapPrelim, Options, Transact};
    let options = || Options {
        client_id: yrs::ClientID::new(999),
        ..Options::default()
    };
    let as_string = Doc::with_options(options());
    let first = {
        let map = as_string.get_or_insert_map("scratch");
        let mut txn = as_string.transact_mut();
        map.insert(&mut txn, "k", "just a string");
        txn.encode_update_v1()
    };
    let as_type = Doc::with_options(options());
    let map = as_type.get_or_insert_map("scratch");
    let nested = {
        let mut txn = as_type.transact_mut();
        map.insert(&mut txn, "k", MapPrelim::default())
    };
    let second = {
        let mut txn = as_type.transact_mut();
        nested.insert(&mut txn, "child", 1.0);
        txn.encode_update_v1()
    };
    (first, second)
}

#[tokio::test]
async fn an_update_yrs_refuses_midway_reloads_the_table_from_storage() -> anyhow::Result<()> {
    use yrs::sync::{Message, SyncMessage};
    let server = Server::start().await?;
    let bystander = Client::connect(&server, "d").await?;
    bystander.synced().await?;
    notes::add(&bystander, "keep", "Blijft staan", Lane::Goed);
    let witness = Client::connect(&server, "d").await?;
    witness
        .wait_for("the note", |_| notes::has_note(&witness, "keep"))
        .await?;

    let (first, second) = contradicting_updates();
    let attacker = Client::connect(&server, "d").await?;
    attacker.synced().await?;
    attacker.send_y(Message::Sync(SyncMessage::Update(first)));
    attacker.send_y(Message::Sync(SyncMessage::Update(second)));
    let closed = attacker.closed().await?;
    assert_eq!(
        closed.code,
        Some(1007),
        "{closed:?}; log: {}",
        server.log.display()
    );

    // After the reload the server asks everyone for what it may lack.
    bystander
        .wait_until("the server's second sync step 1", |c| {
            c.step1s_received() >= 2
        })
        .await?;
    // The bystander is not disconnected; a newcomer sees the intact document.
    let newcomer = Client::connect(&server, "d").await?;
    newcomer.synced().await?;
    assert!(notes::has_note(&newcomer, "keep"));
    assert!(!bystander.is_closed());
    assert_eq!(
        server.metric("werktafel_room_reloads_total").await?,
        1,
        "the table was reloaded from storage once; log: {}",
        server.log.display()
    );
    Ok(())
}

#[tokio::test]
async fn writes_to_server_only_maps_are_refused_before_they_are_applied() -> anyhow::Result<()> {
    use werktafel_shared::control::{self, Phase};
    use werktafel_shared::schema;
    use yrs::sync::{Message, SyncMessage};
    use yrs::{Map, ReadTxn, StateVector, Transact, WriteTxn};
    let server = Server::start().await?;
    // The facilitator moves the table on: the server overwrites `control`,
    // so every copy of the table holds a delete the server made there.
    let (status, reply) = server
        .post(
            "/api/events/atelierdag-2022/control",
            &serde_json::json!({ "tables": ["a"], "phase": "clusteren" }),
        )
        .await?;
    anyhow::ensure!(status == 200, "control answered {status}: {reply}");
    let bystander = Client::connect(&server, "a").await?;
    bystander.synced().await?;
    let title = schema::read_meta(&bystander.doc).map(|m| m.title);
    assert!(title.is_some(), "the table has its meta");
    notes::add(&bystander, "keep", "Blijft staan", Lane::Goed);
    // A client's answer to a sync step 1 carries the delete set of its
    // whole copy, the server's deletes in `control` among it: it passes.
    let whole = bystander
        .doc
        .transact()
        .encode_state_as_update_v1(&StateVector::default());
    bystander.send_y(Message::Sync(SyncMessage::SyncStep2(whole)));
    bystander.roundtrip().await?;
    assert!(!bystander.is_closed(), "an honest sync step 2 was refused");

    type Cheat = fn(&mut yrs::TransactionMut);
    let cheats: [(&str, Cheat); 4] = [
        ("meta title", |txn| {
            let meta = txn.get_or_insert_map(schema::META);
            meta.insert(txn, "title", "Overgenomen");
        }),
        ("meta delete", |txn| {
            let meta = txn.get_or_insert_map(schema::META);
            meta.remove(txn, "title");
        }),
        ("control phase", |txn| {
            let control = txn.get_or_insert_map(control::CONTROL);
            control.insert(txn, "phase", "gesloten");
        }),
        ("votes", |txn| {
            let votes = txn.get_or_insert_map(control::VOTES);
            votes.insert(txn, "keep", 99.0);
        }),
    ];
    for (name, cheat) in cheats {
        let attacker = Client::connect(&server, "a").await?;
        attacker.synced().await?;
        attacker.edit(cheat);
        let closed = attacker.closed().await?;
        assert_eq!(
            closed.code,
            Some(1008),
            "{name}: {closed:?}; log: {}",
            server.log.display()
        );
    }
    // Refused before yrs saw them: nothing to undo, no reload.
    assert_eq!(server.metric("werktafel_room_reloads_total").await?, 0);
    assert_eq!(
        server.metric("werktafel_server_only_refused_total").await?,
        4
    );
    assert!(!bystander.is_closed(), "the bystander was disconnected");
    notes::type_into(&bystander, "keep", 0, "Nog steeds: ");
    let fresh = Client::connect(&server, "a").await?;
    fresh
        .wait_for("the bystander's edit", |_| {
            notes::text_of(&fresh, "keep").as_deref() == Some("Nog steeds: Blijft staan")
        })
        .await?;
    // A live update can reach a joining client before its sync step 2 does:
    // read the meta once the whole document has arrived.
    fresh.synced().await?;
    assert_eq!(schema::read_meta(&fresh.doc).map(|m| m.title), title);
    assert_eq!(control::read_control(&fresh.doc).phase, Phase::Clusteren);
    assert!(control::read_vote_totals(&fresh.doc).is_empty());
    Ok(())
}

#[tokio::test]
async fn a_viewer_sending_an_update_is_refused_with_1008_unread() -> anyhow::Result<()> {
    use yrs::sync::{Message, SyncMessage};
    use yrs::{ReadTxn, StateVector, Transact};
    let server = Server::start().await?;
    let url = server.ws(&format!("/sync/atelierdag-2022/b?key={}", server.keys.view));
    // A stock read-only client answers the server's step 1 with its copy's
    // delete set and no blocks: dropped, the viewer stays.
    let viewer = Client::connect_url(&url).await?;
    viewer.synced().await?;
    let whole = viewer
        .doc
        .transact()
        .encode_state_as_update_v1(&StateVector::default());
    let no_blocks = [&[0u8][..], &whole[1..]].concat();
    viewer.send_y(Message::Sync(SyncMessage::SyncStep2(no_blocks)));
    viewer.roundtrip().await?;
    assert!(!viewer.is_closed());
    // Garbage from a viewer is refused for who sent it, not for what it is.
    viewer.send_raw(vec![0, 2, 6, 0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0xfa]);
    let closed = viewer.closed().await?;
    assert_eq!(closed.code, Some(1008), "{closed:?}");
    Ok(())
}

/// An update of two strings of client 777, each next to the other: the
/// walk cannot tell where they hang, so only applying it could.
fn a_cycle() -> Vec<u8> {
    let client = [0x89, 0x06]; // 777
    let mut update = vec![1, 2];
    update.extend(client);
    update.push(0);
    for (origin, text) in [(1, b'a'), (0, b'b')] {
        update.push(0x84); // a string with an origin
        update.extend(client);
        update.extend([origin, 1, text]);
    }
    update.push(0);
    update
}

#[tokio::test]
async fn an_update_the_walk_cannot_decide_reloads_the_table_at_most_once_a_second()
-> anyhow::Result<()> {
    use yrs::sync::{Message, SyncMessage};
    let server = Server::start().await?;
    let bystander = Client::connect(&server, "c").await?;
    bystander.synced().await?;
    notes::add(&bystander, "keep", "Blijft staan", Lane::Goed);
    let first = Client::connect(&server, "c").await?;
    let second = Client::connect(&server, "c").await?;
    first.synced().await?;
    second.synced().await?;

    first.send_y(Message::Sync(SyncMessage::Update(a_cycle())));
    let closed = first.closed().await?;
    assert_eq!(closed.code, Some(1007), "{closed:?}");
    assert_eq!(server.metric("werktafel_room_reloads_total").await?, 1);
    // Sent at once after the first (the limit is a second, this takes
    // milliseconds): refused without applying it, so without a reload.
    second.send_y(Message::Sync(SyncMessage::Update(a_cycle())));
    let closed = second.closed().await?;
    assert_eq!(
        closed.code,
        Some(1008),
        "{closed:?}; log: {}",
        server.log.display()
    );
    assert_eq!(server.metric("werktafel_room_reloads_total").await?, 1);
    assert!(!bystander.is_closed());
    let fresh = Client::connect(&server, "c").await?;
    fresh.synced().await?;
    assert!(notes::has_note(&fresh, "keep"));
    Ok(())
}

/// An awareness message with `entries` of (client id, clock, JSON).
fn presence(entries: &[(u64, u32, &str)]) -> yrs::sync::Message {
    use yrs::sync::awareness::{AwarenessUpdate, AwarenessUpdateEntry};
    let clients = entries
        .iter()
        .map(|(client, clock, json)| {
            let entry = AwarenessUpdateEntry {
                clock: *clock,
                json: (*json).into(),
            };
            (yrs::ClientID::new(*client), entry)
        })
        .collect();
    yrs::sync::Message::Awareness(AwarenessUpdate { clients })
}

#[tokio::test]
async fn only_the_connection_that_introduced_a_presence_sets_or_removes_it() -> anyhow::Result<()> {
    let server = Server::start().await?;
    let anna = Client::connect(&server, "a").await?;
    let watcher = Client::connect(&server, "a").await?;
    let attacker = Client::connect(&server, "a").await?;
    for c in [&anna, &watcher, &attacker] {
        c.synced().await?;
    }
    let anna_id = anna.doc.client_id().get();
    let annas = r##"{"user":{"id":"u1","name":"Anna","color":"#d9480f"}}"##;
    anna.set_awareness(annas);
    watcher
        .wait_until("Anna's presence", |c| c.awareness().contains_key(&anna_id))
        .await?;
    // Anna's client id with a higher clock: overwritten, then removed.
    attacker.send_y(presence(&[(anna_id, 100, r#"{"user":{"name":"Evil"}}"#)]));
    attacker.send_y(presence(&[(anna_id, 101, "null")]));
    // Then its own, which reaches the watcher no earlier than the forgeries would.
    let attacker_id = attacker.doc.client_id().get();
    attacker.set_awareness(r#"{"user":{"id":"u2","name":"Bert"}}"#);
    watcher
        .wait_until("the attacker's own presence", |c| {
            c.awareness().contains_key(&attacker_id)
        })
        .await?;
    assert_eq!(
        watcher.awareness().get(&anna_id).map(String::as_str),
        Some(annas),
        "Anna's presence was overwritten or removed by another connection"
    );
    assert!(
        !attacker.is_closed(),
        "a foreign entry is dropped, not refused"
    );
    let (_, metrics) = server.get("/metrics").await?;
    assert!(
        metrics.contains(r#"werktafel_awareness_dropped_total{reason="foreign"} 2"#),
        "{metrics}"
    );
    // Anna herself still removes hers.
    anna.send_y(presence(&[(anna_id, 2, "null")]));
    watcher
        .wait_until("Anna's presence gone", |c| {
            !c.awareness().contains_key(&anna_id)
        })
        .await?;
    Ok(())
}

#[tokio::test]
async fn a_viewers_presence_is_dropped() -> anyhow::Result<()> {
    let server = Server::start().await?;
    let url = server.ws(&format!("/sync/atelierdag-2022/b?key={}", server.keys.view));
    let viewer = Client::connect_url(&url).await?;
    let participant = Client::connect(&server, "b").await?;
    let watcher = Client::connect(&server, "b").await?;
    for c in [&viewer, &participant, &watcher] {
        c.synced().await?;
    }
    viewer.set_awareness(r#"{"user":{"id":"v","name":"Scherm"}}"#);
    viewer.roundtrip().await?;
    let participant_id = participant.doc.client_id().get();
    participant.set_awareness(r#"{"user":{"id":"p","name":"Anna"}}"#);
    watcher
        .wait_until("the participant's presence", |c| {
            c.awareness().contains_key(&participant_id)
        })
        .await?;
    assert!(
        !watcher
            .awareness()
            .contains_key(&viewer.doc.client_id().get()),
        "the viewer's presence reached the table: {:?}",
        watcher.awareness()
    );
    // Dropped, not refused: the plenary's stock provider stays connected.
    assert!(!viewer.is_closed());
    Ok(())
}

#[tokio::test]
async fn pages_forbid_every_remote_fetch() -> anyhow::Result<()> {
    // Whatever a participant gets rendered (a presence colour of
    // `url(http://…)`), the page may load and connect only to this server.
    let server = Server::start().await?;
    let (status, head, _) = server.get_bytes("/e/atelierdag-2022/t/a").await?;
    assert_eq!(status, 200, "{head}");
    let csp = head
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-security-policy")
                .then(|| value.trim().to_string())
        })
        .ok_or_else(|| anyhow::anyhow!("no Content-Security-Policy in\n{head}"))?;
    for directive in [
        "default-src 'self'",
        "img-src 'self' data: blob:",
        "connect-src 'self'",
        "style-src 'self'",
    ] {
        assert!(csp.contains(directive), "{directive} missing from {csp}");
    }
    assert!(!csp.contains("http"), "no remote host is allowed: {csp}");
    Ok(())
}
