//! The HTTP surface: health, the event API, and 404s before any upgrade.

use werktafel_shared::schema::{self, Lane};
use werktafel_tests::{Client, Server};

use crate::notes;

#[tokio::test]
async fn health_and_event_api() -> anyhow::Result<()> {
    let server = Server::start().await?;
    let (status, body) = server.get("/healthz").await?;
    assert_eq!((status, body.as_str()), (200, "ok"));

    let client = Client::connect(&server, "a").await?;
    client.synced().await?;
    notes::add(&client, "n1", "Eerste", Lane::Goed);
    let witness = Client::connect(&server, "a").await?;
    witness
        .wait_for("the note", |_| notes::has_note(&witness, "n1"))
        .await?;

    let (status, body) = server.get("/api/events/atelierdag-2022").await?;
    assert_eq!(status, 200, "{body}");
    let json: serde_json::Value = serde_json::from_str(&body)?;
    assert_eq!(json["slug"], "atelierdag-2022");
    let tables = json["tables"].as_array().expect("tables");
    let titles: Vec<_> = tables
        .iter()
        .map(|t| t["title"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(
        titles,
        [
            "Vitale systemen",
            "Afwegingskader",
            "Rol van de gebiedsregisseur",
            "Kosten-baten analyse"
        ]
    );
    assert_eq!(tables[0]["noteCount"], 1);
    assert_eq!(tables[0]["people"], 2);
    assert_eq!(tables[1]["noteCount"], 0);
    assert_eq!(tables[1]["cases"].as_array().map(Vec::len), Some(7));
    Ok(())
}

#[tokio::test]
async fn unknown_event_or_table_is_404_before_the_upgrade() -> anyhow::Result<()> {
    let server = Server::start().await?;
    for path in [
        "/sync/atelierdag-2022/z",
        "/sync/other-event/a",
        "/api/events/other-event",
    ] {
        let (status, body) = server.get(path).await?;
        assert_eq!(status, 404, "{path}: {body}");
        assert!(body.contains("not found"), "{path}: {body}");
    }
    let err = Client::connect_url(&server.ws("/sync/atelierdag-2022/z"))
        .await
        .err()
        .expect("upgrade refused");
    assert!(format!("{err:#}").contains("404"), "{err:#}");
    Ok(())
}

#[tokio::test]
async fn a_sync_request_that_is_no_websocket_handshake_says_why() -> anyhow::Result<()> {
    let server = Server::start().await?;
    let path = werktafel_tests::server::with_key("/sync/atelierdag-2022/a", &server.keys.join);
    let upgrade = "Upgrade: websocket\r\nConnection: Upgrade, close\r\n";
    let key = "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";
    let cases = [
        (
            "Connection: close\r\n".to_string(),
            426,
            "Connection: upgrade",
        ),
        (
            format!("{upgrade}Sec-WebSocket-Version: 8\r\n{key}"),
            400,
            "version 13",
        ),
        (
            format!("{upgrade}Sec-WebSocket-Version: 13\r\n"),
            400,
            "Sec-WebSocket-Key",
        ),
    ];
    for (headers, status, says) in cases {
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: {}\r\n{headers}\r\n",
            server.addr
        );
        let (got, head, body) = werktafel_tests::server::exchange(&server.addr, &request).await?;
        let body = String::from_utf8_lossy(&body);
        assert_eq!(got, status, "{headers:?}: {head}\n{body}");
        assert!(body.contains(says), "{headers:?}: {body}");
    }

    // The handshake done right upgrades, with the accept key of RFC 6455's example.
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut socket = tokio::net::TcpStream::connect(&server.addr).await?;
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n{key}\r\n",
        server.addr
    );
    socket.write_all(request.as_bytes()).await?;
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut byte = [0u8];
        anyhow::ensure!(socket.read(&mut byte).await? == 1, "closed after {head:?}");
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head).to_ascii_lowercase();
    assert!(head.starts_with("http/1.1 101"), "{head}");
    assert!(
        head.contains("sec-websocket-accept: s3pplmbitxaq9kygzzhzrbk+xoo="),
        "{head}"
    );
    Ok(())
}

#[tokio::test]
async fn the_root_redirects_to_the_event() -> anyhow::Result<()> {
    let server = Server::start().await?;
    let (status, _) = server.get("/").await?;
    assert_eq!(status, 307);
    let (status, body) = server.get("/e/atelierdag-2022/t/a").await?;
    assert_eq!(status, 200);
    assert!(
        body.contains("<"),
        "the app shell is served for client routes"
    );
    Ok(())
}

#[tokio::test]
async fn metrics_count_connections_updates_and_commits() -> anyhow::Result<()> {
    let server = Server::start().await?;
    let client = Client::connect(&server, "b").await?;
    client.synced().await?;
    notes::add(&client, "n1", "Gemeten", Lane::Goed);
    let witness = Client::connect(&server, "b").await?;
    witness
        .wait_for("the note", |_| notes::has_note(&witness, "n1"))
        .await?;

    let (status, body) = server.get("/metrics").await?;
    assert_eq!(status, 200);
    let value = |name: &str| -> f64 {
        body.lines()
            .find(|l| l.starts_with(name) && l[name.len()..].starts_with(' '))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{name} missing in:\n{body}"))
    };
    assert_eq!(value("werktafel_connections"), 2.0, "{body}");
    assert!(value("werktafel_updates_received_total") >= 1.0);
    assert!(value("werktafel_deliveries_total") >= 1.0);
    assert!(value("werktafel_commit_seconds_count") >= 1.0);
    Ok(())
}

#[tokio::test]
async fn clients_joining_at_once_cost_at_most_one_encode_of_the_table() -> anyhow::Result<()> {
    let tmp = tempfile::tempdir()?;
    // The writer sends 300 notes at once, faster than a person may.
    let server = Server::start_in(tmp.path(), &["--messages-per-second", "100000"]).await?;
    let writer = Client::connect(&server, "c").await?;
    writer.synced().await?;
    for i in 0..200 {
        notes::add(&writer, &format!("n{i}"), "Een notitie", Lane::Goed);
    }
    let full_encodes = || async {
        let (_, body) = server.get("/metrics").await?;
        let count = body
            .lines()
            .find_map(|l| l.strip_prefix(r#"werktafel_document_encodes_total{kind="full"} "#))
            .map_or(Ok(0.0), str::parse::<f64>)?;
        anyhow::Ok(count)
    };
    let storm = |clients: usize, notes: usize| {
        let server = &server;
        futures_util::future::try_join_all((0..clients).map(move |_| async move {
            let client = Client::connect(server, "c").await?;
            client
                .wait_for("every note", |d| schema::note_count(d) == notes)
                .await?;
            anyhow::Ok(client)
        }))
    };
    let witness = Client::connect(&server, "c").await?;
    witness
        .wait_for("all 200 notes", |d| schema::note_count(d) == 200)
        .await?;
    notes::add(&writer, "last", "De laatste", Lane::Goed);
    witness
        .wait_for("the last note", |d| schema::note_count(d) == 201)
        .await?;

    // A few small edits since the last full encode: thirty fresh clients at
    // once get that encode plus the edits, and nothing is encoded again.
    let before = full_encodes().await?;
    storm(30, 201).await?;
    assert_eq!(
        full_encodes().await? - before,
        0.0,
        "log: {}",
        server.log.display()
    );

    // 100 KB of edits outgrow what is kept beside the encode: the next
    // thirty cost exactly one more.
    let text = "x".repeat(1024);
    for i in 0..100 {
        notes::add(&writer, &format!("big{i}"), &text, Lane::Goed);
    }
    witness
        .wait_for("the big notes", |d| schema::note_count(d) == 301)
        .await?;
    let before = full_encodes().await?;
    storm(30, 301).await?;
    assert_eq!(
        full_encodes().await? - before,
        1.0,
        "log: {}",
        server.log.display()
    );
    Ok(())
}

/// Reads until the server hangs up (EOF or a reset), returning what it sent.
async fn until_hung_up(socket: &mut tokio::net::TcpStream) -> anyhow::Result<Vec<u8>> {
    use anyhow::Context;
    use tokio::io::AsyncReadExt;
    let mut got = Vec::new();
    let read = tokio::time::timeout(werktafel_tests::WAIT, socket.read_to_end(&mut got))
        .await
        .with_context(|| {
            format!(
                "the server kept the socket open; it sent {:?}",
                String::from_utf8_lossy(&got)
            )
        })?;
    // A reset is a hang-up too.
    if let Err(error) = read {
        anyhow::ensure!(
            error.kind() == std::io::ErrorKind::ConnectionReset,
            "{error}"
        );
    }
    Ok(got)
}

#[tokio::test]
async fn a_request_head_that_never_ends_is_cut_off() -> anyhow::Result<()> {
    use tokio::io::AsyncWriteExt;
    let tmp = tempfile::tempdir()?;
    let server = Server::start_in(tmp.path(), &["--header-timeout-ms", "300"]).await?;
    // Slowloris: half a request line, then nothing.
    let mut half = tokio::net::TcpStream::connect(&server.addr).await?;
    half.write_all(b"GET /healthz HT").await?;
    until_hung_up(&mut half).await?;
    // A socket that sends nothing at all, likewise.
    let mut silent = tokio::net::TcpStream::connect(&server.addr).await?;
    until_hung_up(&mut silent).await?;
    // Whole requests are served as before.
    let (status, body) = server.get("/healthz").await?;
    assert_eq!((status, body.as_str()), (200, "ok"));
    Ok(())
}

#[tokio::test]
async fn a_request_whose_body_never_comes_is_closed_when_idle() -> anyhow::Result<()> {
    use tokio::io::AsyncWriteExt;
    let tmp = tempfile::tempdir()?;
    let server = Server::start_in(tmp.path(), &["--http-idle-secs", "1"]).await?;
    let path = werktafel_tests::server::with_key(
        "/api/events/atelierdag-2022/identity",
        &server.keys.join,
    );
    // The head is complete (so the header timeout is done with it); the
    // promised body never arrives.
    let mut socket = tokio::net::TcpStream::connect(&server.addr).await?;
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{",
        server.addr
    );
    socket.write_all(head.as_bytes()).await?;
    until_hung_up(&mut socket).await?;
    Ok(())
}

#[tokio::test]
async fn sockets_beyond_the_cap_per_address_get_429() -> anyhow::Result<()> {
    use tokio::io::AsyncWriteExt;
    let tmp = tempfile::tempdir()?;
    let server = Server::start_in(tmp.path(), &["--max-sockets-per-address", "3"]).await?;
    // Three idle sockets hold the address's places (the server accepts in
    // order, so they are counted before the next).
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(tokio::net::TcpStream::connect(&server.addr).await?);
    }
    let (status, head, body) = werktafel_tests::server::exchange(
        &server.addr,
        &format!("GET /healthz HTTP/1.1\r\nHost: {}\r\n\r\n", server.addr),
    )
    .await?;
    let body = String::from_utf8_lossy(&body);
    assert_eq!(status, 429, "{head}\n{body}");
    assert!(body.contains("too many connections"), "{body}");

    // One of them finishes a request and is closed: its place is free again.
    let mut first = held.remove(0);
    first
        .write_all(
            format!(
                "GET /healthz HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
                server.addr
            )
            .as_bytes(),
        )
        .await?;
    let answer = until_hung_up(&mut first).await?;
    assert!(answer.starts_with(b"HTTP/1.1 200"), "{answer:?}");
    // The server frees the place as it drops the socket, a moment after
    // the client sees it closed: ask until it is free (each try is a round trip).
    let mut statuses = Vec::new();
    for _ in 0..200 {
        let (status, _) = server.get("/healthz").await?;
        statuses.push(status);
        if status == 200 {
            return Ok(());
        }
    }
    anyhow::bail!("no place came free: {statuses:?}");
}

/// The database holds the event keys and the signing secret: a server
/// started with the common umask 022 on a fresh directory still creates
/// the directory 0700 and the database files 0600.
#[cfg(unix)]
#[tokio::test]
async fn secrets_on_disk_are_private_to_the_servers_user() -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    use tokio::io::{AsyncBufReadExt, BufReader};

    let tmp = tempfile::tempdir()?;
    let data_dir = tmp.path().join("fresh");
    let mut child = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(r#"umask 022 && exec "$0" serve --addr 127.0.0.1:0 --data-dir "$1""#)
        .arg(werktafel_tests::server::binary())
        .arg(&data_dir)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()?;
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let mut addr = None;
    while let Some(line) = tokio::time::timeout(werktafel_tests::WAIT, lines.next_line()).await?? {
        if let Some(a) = line.strip_prefix("listening on http://") {
            addr = Some(a.trim().to_string());
            break;
        }
    }
    let addr = addr.expect("the server printed its address");
    // Once it answers, it has opened the database and written to it (WAL).
    let (status, _) = werktafel_tests::server::http_get(&addr, "/healthz").await?;
    assert_eq!(status, 200);
    let mode = |name: &str| -> anyhow::Result<u32> {
        Ok(std::fs::metadata(data_dir.join(name))?.permissions().mode() & 0o777)
    };
    assert_eq!(mode("")?, 0o700, "the data directory");
    for file in ["werktafel.db", "werktafel.db-wal", "werktafel.db-shm"] {
        assert_eq!(mode(file)?, 0o600, "{file}");
    }
    child.kill().await?;
    Ok(())
}

/// A data directory someone made world-readable before is left as it is,
/// but the server says so at start.
#[cfg(unix)]
#[tokio::test]
async fn a_loose_data_directory_is_warned_about_at_start() -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir()?;
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o755))?;
    let server = Server::start_in(tmp.path(), &[]).await?;
    let log = server.log_text();
    assert!(
        log.lines()
            .any(|l| l.contains("WARN") && l.contains("chmod it to 700")),
        "no warning about the 0755 data directory in the log:\n{log}"
    );
    Ok(())
}

/// Summaries and exports are megabytes each: a loop of them from one address
/// would take the core every table shares. After its burst, an address waits
/// (429 with `Retry-After`); cheap requests and the tables are untouched.
#[tokio::test]
async fn heavy_reads_beyond_an_addresss_budget_get_429() -> anyhow::Result<()> {
    let tmp = tempfile::tempdir()?;
    let server = Server::start_in(tmp.path(), &["--heavy-reads-per-minute", "1"]).await?;
    let heavy = [
        "/api/events/atelierdag-2022/summary",
        "/api/events/atelierdag-2022/export.md",
        "/api/events/atelierdag-2022/tables/a/board.svg",
    ];
    // The burst (10), spread over the three kinds: one budget for all.
    for i in 0..10 {
        let path = heavy[i % heavy.len()];
        let (status, _, _) = server.get_bytes(path).await?;
        assert_eq!(status, 200, "heavy read {i} ({path}) is within the burst");
    }
    for path in heavy {
        let (status, head, body) = server.get_bytes(path).await?;
        let body = String::from_utf8_lossy(&body);
        assert_eq!(status, 429, "{path}: {head}\n{body}");
        let retry: u64 = head
            .lines()
            .find_map(|l| {
                l.to_ascii_lowercase()
                    .strip_prefix("retry-after: ")
                    .map(str::to_owned)
            })
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("{path}: no Retry-After in {head}"));
        assert!((1..=60).contains(&retry), "{path}: Retry-After {retry}");
        assert!(body.contains("too often"), "{path}: {body}");
    }
    // Cheap requests and the tables are not part of the budget.
    let (status, body) = server.get("/healthz").await?;
    assert_eq!((status, body.as_str()), (200, "ok"));
    let (status, _) = server.get("/api/events/atelierdag-2022").await?;
    assert_eq!(status, 200);
    let writer = Client::connect(&server, "a").await?;
    writer.synced().await?;
    notes::add(&writer, "n1", "Nog steeds welkom", Lane::Goed);
    let reader = Client::connect(&server, "a").await?;
    reader
        .wait_for("the note", |_| notes::has_note(&reader, "n1"))
        .await?;
    Ok(())
}
