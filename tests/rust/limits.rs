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
