//! The server's limits, each with its documented refusal: message rate,
//! document size, connections per event and per address, and connection
//! attempts per minute. Everyone else carries on.

use werktafel_shared::schema::Lane;
use werktafel_tests::{Client, Server};

use crate::notes;

async fn server_with(args: &[&str]) -> anyhow::Result<(tempfile::TempDir, Server)> {
    let tmp = tempfile::tempdir()?;
    let server = Server::start_in(tmp.path(), args).await?;
    Ok((tmp, server))
}

#[tokio::test]
async fn a_client_sending_too_fast_is_closed_with_4429() -> anyhow::Result<()> {
    let (_tmp, server) = server_with(&["--messages-per-second", "5"]).await?;
    let bystander = Client::connect(&server, "a").await?;
    bystander.synced().await?;
    let flood = Client::connect(&server, "a").await?;
    flood.synced().await?;
    for i in 0..200 {
        flood.set_awareness(&format!("{{\"user\":{{\"name\":\"n{i}\"}}}}"));
    }
    let closed = flood.closed().await?;
    assert_eq!(closed.code, Some(4429), "{closed:?}");
    notes::add(&bystander, "still", "Gaat door", Lane::Goed);
    let witness = Client::connect(&server, "a").await?;
    witness
        .wait_for("the bystander's note", |_| {
            notes::has_note(&witness, "still")
        })
        .await?;
    Ok(())
}

#[tokio::test]
async fn a_full_table_refuses_more_with_4413_and_keeps_what_it_has() -> anyhow::Result<()> {
    let (_tmp, server) = server_with(&["--max-document-bytes", "20000"]).await?;
    let writer = Client::connect(&server, "b").await?;
    writer.synced().await?;
    notes::add(&writer, "small", "Past nog", Lane::Goed);
    let witness = Client::connect(&server, "b").await?;
    witness
        .wait_for("the small note", |_| notes::has_note(&witness, "small"))
        .await?;
    notes::add(&writer, "big", &"x".repeat(30_000), Lane::Goed);
    let closed = writer.closed().await?;
    assert_eq!(closed.code, Some(4413), "{closed:?}");
    let fresh = Client::connect(&server, "b").await?;
    fresh.synced().await?;
    assert!(notes::has_note(&fresh, "small") && !notes::has_note(&fresh, "big"));
    Ok(())
}

#[tokio::test]
async fn connections_beyond_the_limits_get_429() -> anyhow::Result<()> {
    let (_tmp, server) = server_with(&["--max-connections", "3"]).await?;
    let mut open = Vec::new();
    for _ in 0..3 {
        let c = Client::connect(&server, "c").await?;
        c.synced().await?;
        open.push(c);
    }
    let refused = Client::connect(&server, "c")
        .await
        .err()
        .expect("a fourth connection is refused");
    assert!(format!("{refused:#}").contains("429"), "{refused:#}");
    // That a closed connection frees its place is shown by gate.rs's unit test.
    drop(open);

    let (_tmp, server) = server_with(&["--max-connections-per-address", "2"]).await?;
    let _a = Client::connect(&server, "d").await?;
    let _b = Client::connect(&server, "d").await?;
    let refused = Client::connect(&server, "d")
        .await
        .err()
        .expect("per-address limit");
    assert!(format!("{refused:#}").contains("429"), "{refused:#}");

    let (_tmp, server) = server_with(&["--connects-per-minute", "3"]).await?;
    for _ in 0..3 {
        drop(Client::connect(&server, "a").await?);
    }
    let refused = Client::connect(&server, "a")
        .await
        .err()
        .expect("attempts per minute");
    assert!(format!("{refused:#}").contains("429"), "{refused:#}");
    Ok(())
}

#[tokio::test]
async fn a_presence_over_4_kib_is_refused_with_1009_and_reaches_nobody() -> anyhow::Result<()> {
    let server = Server::start().await?;
    let watcher = Client::connect(&server, "a").await?;
    let sender = Client::connect(&server, "a").await?;
    watcher.synced().await?;
    sender.synced().await?;
    // 4 KiB exactly passes; one byte more does not.
    let name = |len: usize| {
        let frame = r#"{"user":{"name":""}}"#;
        format!(
            r#"{{"user":{{"name":"{}"}}}}"#,
            "x".repeat(len - frame.len())
        )
    };
    sender.set_awareness(&name(4096));
    let sender_id = sender.doc.client_id().get();
    watcher
        .wait_until("the 4 KiB presence", |c| {
            c.awareness()
                .get(&sender_id)
                .is_some_and(|s| s.len() == 4096)
        })
        .await?;
    sender.set_awareness(&name(4 * 1024 * 1024));
    let closed = sender.closed().await?;
    assert_eq!(closed.code, Some(1009), "{closed:?}");
    // Its presence goes with it; the big one never reached the watcher.
    watcher
        .wait_until("the sender's presence removed", |c| {
            !c.awareness().contains_key(&sender_id)
        })
        .await?;
    assert!(!watcher.is_closed());
    Ok(())
}

#[tokio::test]
async fn a_connection_publishing_more_than_4_presences_is_refused_with_1008() -> anyhow::Result<()>
{
    use yrs::sync::awareness::{AwarenessUpdate, AwarenessUpdateEntry};
    let server = Server::start().await?;
    let watcher = Client::connect(&server, "a").await?;
    let sender = Client::connect(&server, "a").await?;
    watcher.synced().await?;
    sender.synced().await?;
    let fakes: std::collections::HashMap<_, _> = (1..=1000u64)
        .map(|i| {
            let entry = AwarenessUpdateEntry {
                clock: 1,
                json: format!(r#"{{"user":{{"id":"f{i}","name":"Nep {i}"}}}}"#).into(),
            };
            (yrs::ClientID::new(1_000_000 + i), entry)
        })
        .collect();
    sender.send_y(yrs::sync::Message::Awareness(AwarenessUpdate {
        clients: fakes,
    }));
    let closed = sender.closed().await?;
    assert_eq!(closed.code, Some(1008), "{closed:?}");
    // None of them is at the table: a newcomer asks for everyone's presence.
    let newcomer = Client::connect(&server, "a").await?;
    newcomer.synced().await?;
    newcomer.send_raw(vec![3]);
    newcomer.roundtrip().await?;
    assert!(
        newcomer.awareness().is_empty(),
        "{:?}",
        newcomer.awareness().len()
    );
    assert!(!watcher.is_closed());
    Ok(())
}
