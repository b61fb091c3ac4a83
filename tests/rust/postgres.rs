//! The server on PostgreSQL (`--store postgres://…`): what a restart and a
//! `kill -9` must not lose holds there as it does on SQLite. Each test has
//! a database of its own on `WERKTAFEL_TEST_PG`.

use werktafel_shared::schema::Lane;
use werktafel_tests::postgres::TestDb;
use werktafel_tests::{Client, Server};

use crate::notes;

#[tokio::test]
async fn notes_come_back_after_a_restart_on_postgres() -> anyhow::Result<()> {
    let db = TestDb::create()?;
    let dir = tempfile::tempdir()?;
    let server = Server::start_in(dir.path(), &["--store", &db.url]).await?;
    crate::persistence::a_restart_keeps_every_note_of(server).await?;
    assert!(
        !dir.path().join("werktafel.db").exists(),
        "nothing was stored in SQLite"
    );
    Ok(())
}

#[tokio::test]
async fn the_event_keys_live_in_postgres_and_survive_a_restart() -> anyhow::Result<()> {
    let db = TestDb::create()?;
    let dir = tempfile::tempdir()?;
    let mut server = Server::start_in(dir.path(), &["--store", &db.url]).await?;
    let keys = server.keys.clone();
    server.terminate().await?;
    // Another data directory: whatever the server needs is in the database.
    let elsewhere = tempfile::tempdir()?;
    let again = Server::start_in(elsewhere.path(), &["--store", &db.url]).await?;
    assert_eq!(again.keys.join, keys.join);
    assert_eq!(again.keys.facilitate, keys.facilitate);
    Ok(())
}

#[tokio::test]
async fn repeated_kill_9_under_load_on_postgres_loses_nothing_any_client_saw() -> anyhow::Result<()>
{
    let db = TestDb::create()?;
    let dir = tempfile::tempdir()?;
    let outcome =
        werktafel_tests::crash::drill_with(dir.path(), &["--store", &db.url], 4, 20, 11).await?;
    assert_eq!(outcome.rounds, 4);
    assert!(outcome.observed > 0);
    assert!(
        outcome.lost.is_empty(),
        "lost after a kill: {:?}",
        outcome.lost
    );
    Ok(())
}

#[test]
fn an_unreachable_database_fails_at_start_with_its_address() -> anyhow::Result<()> {
    // A port nothing listens on: bound, then closed again.
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let url = format!("postgres://wt:geheim@127.0.0.1:{port}/werktafel");
    let dir = tempfile::tempdir()?;
    let data_dir = dir.path().to_string_lossy().to_string();
    let args = [
        "serve",
        "--addr",
        "127.0.0.1:0",
        "--data-dir",
        &data_dir,
        "--store",
        &url,
    ];
    let output = Server::cli(&args, &[])?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(!output.status.success(), "it must not serve: {stdout}");
    assert!(!stdout.contains("listening on"), "{stdout}");
    assert!(
        stderr.contains(&format!("127.0.0.1:{port}/werktafel")),
        "{stderr}"
    );
    assert!(
        !stderr.contains("geheim"),
        "no password in the error: {stderr}"
    );

    let bad = Server::cli(
        &["serve", "--data-dir", &data_dir, "--store", "mysql://db/x"],
        &[],
    )?;
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(!bad.status.success());
    assert!(
        stderr.contains("postgres://"),
        "says what to write: {stderr}"
    );
    Ok(())
}

#[tokio::test]
async fn the_cli_exports_from_postgres_and_imports_into_another_database() -> anyhow::Result<()> {
    let (db, target) = (TestDb::create()?, TestDb::create()?);
    let dir = tempfile::tempdir()?;
    let mut server = Server::start_in(dir.path(), &["--store", &db.url]).await?;
    let writer = Client::connect(&server, "b").await?;
    writer.synced().await?;
    notes::add(&writer, "pg-1", "Opgeslagen in PostgreSQL", Lane::Goed);
    let witness = Client::connect(&server, "b").await?;
    witness
        .wait_for("the note", |_| notes::has_note(&witness, "pg-1"))
        .await?;
    server.terminate().await?;

    let cli = |args: Vec<String>| {
        let out = Server::cli(&args.iter().map(String::as_str).collect::<Vec<_>>(), &[])?;
        anyhow::ensure!(
            out.status.success(),
            "werktafel {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Ok(out.stdout)
    };
    let args = |words: &[&str]| words.iter().map(ToString::to_string).collect::<Vec<_>>();
    let md = cli(args(&["export", "--store", &db.url, "--format", "md"]))?;
    assert!(String::from_utf8_lossy(&md).contains("Opgeslagen in PostgreSQL"));
    let archive = cli(args(&["export", "--store", &db.url, "--format", "json"]))?;
    let file = dir.path().join("archief.json");
    std::fs::write(&file, &archive)?;
    let file = file.to_string_lossy().to_string();
    cli(args(&["import", &file, "--store", &target.url]))?;
    let md = cli(args(&["export", "--store", &target.url, "--format", "md"]))?;
    assert!(String::from_utf8_lossy(&md).contains("Opgeslagen in PostgreSQL"));

    let again = Server::cli(&["import", &file, "--store", &target.url], &[])?;
    assert!(!again.status.success(), "a database with tables is refused");
    Ok(())
}
