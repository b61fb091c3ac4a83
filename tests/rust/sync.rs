//! Live sync between clients of one table, isolation between tables,
//! presence, and the meta the server writes.

use werktafel_shared::schema::{self, Lane};
use werktafel_tests::{Client, Server};

use crate::notes;

#[tokio::test]
async fn a_note_typed_at_one_client_appears_at_the_other() -> anyhow::Result<()> {
    let server = Server::start().await?;
    let anna = Client::connect(&server, "a").await?;
    let bram = Client::connect(&server, "a").await?;
    anna.synced().await?;
    bram.synced().await?;

    notes::add(&anna, "note-1", "Data delen", Lane::Goed);
    notes::type_into(&anna, "note-1", 10, " tussen gemeenten");
    bram.wait_for("anna's note", |_| {
        notes::text_of(&bram, "note-1").as_deref() == Some("Data delen tussen gemeenten")
    })
    .await?;
    let note = bram
        .notes()
        .into_iter()
        .find(|n| n.id == "note-1")
        .expect("note");
    assert_eq!(note.lane, Lane::Goed);
    assert_eq!(note.author, "Test");
    Ok(())
}

#[tokio::test]
async fn concurrent_typing_in_one_note_loses_no_characters() -> anyhow::Result<()> {
    let server = Server::start().await?;
    let anna = Client::connect(&server, "b").await?;
    let bram = Client::connect(&server, "b").await?;
    anna.synced().await?;
    bram.synced().await?;
    notes::add(&anna, "shared", "", Lane::Doorpakken);
    bram.wait_for("the shared note", |_| notes::has_note(&bram, "shared"))
        .await?;

    // Both type at the start of the same text at the same time, without
    // waiting for each other: every keystroke must survive the merge.
    for i in 0..50 {
        notes::type_into(&anna, "shared", 0, "a");
        notes::type_into(&bram, "shared", 0, "b");
        if i % 10 == 0 {
            tokio::task::yield_now().await;
        }
    }
    let done = |c: &Client| {
        notes::text_of(c, "shared")
            .is_some_and(|t| t.matches('a').count() == 50 && t.matches('b').count() == 50)
    };
    anna.wait_until("all 100 characters at anna", done).await?;
    bram.wait_until("all 100 characters at bram", done).await?;
    assert_eq!(
        notes::text_of(&anna, "shared"),
        notes::text_of(&bram, "shared")
    );
    Ok(())
}

#[tokio::test]
async fn a_late_joiner_gets_the_full_state() -> anyhow::Result<()> {
    let server = Server::start().await?;
    let early = Client::connect(&server, "c").await?;
    early.synced().await?;
    for i in 0..40 {
        notes::add(
            &early,
            &format!("n{i}"),
            &format!("Notitie {i} 🌳"),
            Lane::Vervolgstap,
        );
    }
    // A second client proves the server has them all before the late joiner comes.
    let witness = Client::connect(&server, "c").await?;
    witness
        .wait_for("40 notes", |d| schema::note_count(d) == 40)
        .await?;

    let late = Client::connect(&server, "c").await?;
    late.synced().await?;
    assert_eq!(late.notes(), early.notes());
    assert_eq!(late.notes().len(), 40);
    Ok(())
}

#[tokio::test]
async fn tables_do_not_see_each_others_notes() -> anyhow::Result<()> {
    let server = Server::start().await?;
    let at_a = Client::connect(&server, "a").await?;
    let at_b = Client::connect(&server, "b").await?;
    at_a.synced().await?;
    at_b.synced().await?;
    notes::add(&at_a, "only-a", "Alleen aan tafel A", Lane::Goed);
    notes::add(&at_b, "only-b", "Alleen aan tafel B", Lane::Goed);
    // Once a second client of each table has its table's note, both notes
    // are on the server; anything misrouted would reach these clients too.
    for (table, id) in [("a", "only-a"), ("b", "only-b")] {
        let witness = Client::connect(&server, table).await?;
        witness
            .wait_for(id, |_| notes::has_note(&witness, id))
            .await?;
    }
    for (table, id) in [("a", "only-a"), ("b", "only-b")] {
        let fresh = Client::connect(&server, table).await?;
        fresh.synced().await?;
        let ids: Vec<_> = fresh.notes().into_iter().map(|n| n.id).collect();
        assert_eq!(ids, [id], "table {table}");
    }
    assert!(!notes::has_note(&at_a, "only-b"));
    assert!(!notes::has_note(&at_b, "only-a"));
    Ok(())
}

#[tokio::test]
async fn the_server_writes_each_tables_meta() -> anyhow::Result<()> {
    let server = Server::start().await?;
    let client = Client::connect(&server, "d").await?;
    client.synced().await?;
    let meta = schema::read_meta(&client.doc).expect("meta written by the server");
    assert_eq!(meta.title, "Kosten-baten analyse");
    assert_eq!(meta.table_id.as_str(), "d");
    assert!(
        meta.question
            .starts_with("Hoe breng je de baat- en kostenhouders")
    );
    assert_eq!(meta.cases.len(), 3);
    assert_eq!(
        meta.teams.iter().map(|t| t.number).collect::<Vec<_>>(),
        vec![3, 4]
    );
    Ok(())
}

#[tokio::test]
async fn presence_reaches_others_and_leaves_with_its_client() -> anyhow::Result<()> {
    let server = Server::start().await?;
    let anna = Client::connect(&server, "a").await?;
    let bram = Client::connect(&server, "a").await?;
    anna.synced().await?;
    bram.synced().await?;
    anna.set_awareness(r##"{"user":{"id":"u1","name":"Anna","color":"#d9480f"},"editing":null}"##);
    let anna_id = anna.doc.client_id().get();
    bram.wait_until("anna's presence", |c| {
        c.awareness()
            .get(&anna_id)
            .is_some_and(|s| s.contains("Anna"))
    })
    .await?;

    // A newcomer gets the presence of those already there.
    let cees = Client::connect(&server, "a").await?;
    cees.wait_until("anna's presence for the newcomer", |c| {
        c.awareness().contains_key(&anna_id)
    })
    .await?;

    drop(anna);
    bram.wait_until("anna's presence removed", |c| {
        !c.awareness().contains_key(&anna_id)
    })
    .await?;
    Ok(())
}
