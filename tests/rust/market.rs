//! The morning market against the real binary: stand files (too large 413,
//! wrong type 415, served type and headers, the per-person quota and the
//! event's cap 507, kept across a restart), tips written by visitors and the
//! useful mark once per identity, and the overview's counts.

use serde_json::{Value, json};
use werktafel_shared::market::{TipDraft, TipKind, insert_tip, read_stand};
use werktafel_tests::{Client, Server};

const EVENT: &str = "/api/events/atelierdag-2022";

/// A tiny PNG (the signature and an IHDR is all the server reads).
const PNG: &[u8] =
    b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";
const PDF: &[u8] = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n";

async fn identity(server: &Server, name: &str) -> anyhow::Result<(String, String)> {
    let path = format!("{EVENT}/identity?key={}", server.keys.join);
    let (status, reply) = server.post(&path, &json!({ "name": name })).await?;
    anyhow::ensure!(status == 200, "identity answered {status}: {reply}");
    let v: Value = serde_json::from_str(&reply)?;
    Ok((
        v["id"].as_str().unwrap_or_default().into(),
        v["token"].as_str().unwrap_or_default().into(),
    ))
}

/// `POST` raw `body` bytes to `path`; the server may answer before reading
/// all of it (a 413 on the declared length), so a failed write is not an error.
async fn post_bytes(server: &Server, path: &str, body: &[u8]) -> anyhow::Result<(u16, String)> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = &server.addr;
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: image/png\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    let _ = stream.write_all(body).await;
    let mut buf = Vec::new();
    let _ = stream.read_to_end(&mut buf).await;
    let text = String::from_utf8_lossy(&buf).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    Ok((status, text))
}

fn upload_path(server: &Server, stand: &str, token: &str, name: &str) -> String {
    format!(
        "{EVENT}/stands/{stand}/files?key={}&token={token}&name={name}",
        server.keys.join
    )
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.eq_ignore_ascii_case(name).then_some(value.trim())
    })
}

#[tokio::test]
async fn uploads_are_checked_stored_and_served_with_their_real_type() -> anyhow::Result<()> {
    let tmp = tempfile::tempdir()?;
    let mut server = Server::start_in(tmp.path(), &["--max-upload-bytes", "4096"]).await?;
    let (_, anna) = identity(&server, "Anna").await?;
    let stand = Client::connect(&server, "markt-ot2").await?;
    stand.synced().await?;

    // Too large: 413, declared or not.
    let big = [PNG, &vec![0u8; 5000]].concat();
    let (status, body) = post_bytes(
        &server,
        &upload_path(&server, "markt-ot2", &anna, "big.png"),
        &big,
    )
    .await?;
    assert_eq!(status, 413, "{body}");
    // Not an image or PDF by its bytes, whatever it is called: 415.
    for (name, bytes) in [
        (
            "plaatje.png",
            &b"<svg xmlns='http://www.w3.org/2000/svg'><script>x</script></svg>"[..],
        ),
        ("pagina.pdf", b"<!DOCTYPE html><script>alert(1)</script>"),
    ] {
        let (status, body) = post_bytes(
            &server,
            &upload_path(&server, "markt-ot2", &anna, name),
            bytes,
        )
        .await?;
        assert_eq!(status, 415, "{name}: {body}");
    }
    // Without an identity, with the plenary key, or for a stand that does not exist.
    let no_token = format!("{EVENT}/stands/markt-ot2/files?key={}", server.keys.join);
    assert_eq!(post_bytes(&server, &no_token, PNG).await?.0, 403);
    let viewer = format!(
        "{EVENT}/stands/markt-ot2/files?key={}&token={anna}",
        server.keys.view
    );
    assert_eq!(post_bytes(&server, &viewer, PNG).await?.0, 403);
    for stand in ["markt-ot7", "a", "zaal"] {
        let (status, body) =
            post_bytes(&server, &upload_path(&server, stand, &anna, "x.png"), PNG).await?;
        assert_eq!(status, 404, "{stand}: {body}");
    }

    // A PDF: stored, on the stand as a material, served as a download.
    let (status, body) = post_bytes(
        &server,
        &upload_path(&server, "markt-ot2", &anna, "Routekaart%202022.pdf"),
        PDF,
    )
    .await?;
    assert_eq!(status, 201, "{body}");
    let reply: Value = serde_json::from_str(body.split("\r\n\r\n").nth(1).unwrap_or(""))?;
    let url = reply["url"].as_str().expect("url").to_owned();
    assert_eq!(reply["mime"], "application/pdf");
    let team = werktafel_shared::Event::builtin()
        .team(2)
        .cloned()
        .expect("team 2");
    stand
        .wait_for("the material", |doc| {
            read_stand(doc, &team).materials.len() == 1
        })
        .await?;
    let material = read_stand(&stand.doc, &team).materials.remove(0);
    assert_eq!(
        (material.kind.as_str(), material.url.as_str()),
        ("file", url.as_str())
    );
    assert_eq!(
        (material.author.as_str(), material.size),
        ("Anna", PDF.len() as u64)
    );

    let (status, head, bytes) = server.get_bytes(&url).await?;
    assert_eq!(status, 200, "{head}");
    assert_eq!(bytes, PDF);
    assert_eq!(header(&head, "content-type"), Some("application/pdf"));
    assert_eq!(header(&head, "x-content-type-options"), Some("nosniff"));
    assert_eq!(
        header(&head, "content-disposition"),
        Some("attachment; filename=\"Routekaart-2022.pdf\"")
    );
    assert!(header(&head, "content-security-policy").is_some_and(|c| c.contains("sandbox")));
    // An image shows inline, as the type its bytes are.
    let (status, body) = post_bytes(
        &server,
        &upload_path(&server, "markt-ot2", &anna, "foto.gif"),
        PNG,
    )
    .await?;
    assert_eq!(status, 201, "{body}");
    let reply: Value = serde_json::from_str(body.split("\r\n\r\n").nth(1).unwrap_or(""))?;
    let png_url = reply["url"].as_str().expect("url").to_owned();
    let (_, head, _) = server.get_bytes(&png_url).await?;
    assert_eq!(header(&head, "content-type"), Some("image/png"));
    assert_eq!(
        header(&head, "content-disposition"),
        Some("inline; filename=\"foto.png\"")
    );

    // The file is 0600 in the data directory, and outlives a restart.
    let id = url.rsplit('/').next().unwrap_or_default();
    let stored = tmp.path().join("files").join(id);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&stored)?.permissions().mode() & 0o777,
            0o600
        );
    }
    // Unknown or malformed ids are 404, never a path.
    for bad in [
        "0".repeat(64),
        "..%2f..%2fwerktafel.db".into(),
        "abc".into(),
    ] {
        let (status, _) = server.get(&format!("{EVENT}/files/{bad}")).await?;
        assert_eq!(status, 404, "{bad}");
    }
    server.terminate().await?;
    server.restart().await?;
    let (status, _, bytes) = server.get_bytes(&url).await?;
    assert_eq!((status, bytes.as_slice()), (200, PDF));
    Ok(())
}

#[tokio::test]
async fn the_quota_per_person_and_the_events_total_are_507() -> anyhow::Result<()> {
    let tmp = tempfile::tempdir()?;
    let args = [
        "--upload-quota-per-identity",
        "100",
        "--max-upload-bytes-total",
        "180",
    ];
    let server = Server::start_in(tmp.path(), &args).await?;
    let (_, anna) = identity(&server, "Anna").await?;
    let (_, bram) = identity(&server, "Bram").await?;
    let (_, cees) = identity(&server, "Cees").await?;
    let server = &server;
    let file = |n: u8| [PNG, &[n; 40][..]].concat(); // 73 bytes each
    let up = |token: &str, n: u8| {
        let path = upload_path(server, "markt-ot1", token, "f.png");
        let bytes = file(n);
        async move { post_bytes(server, &path, &bytes).await }
    };
    assert_eq!(up(&anna, 1).await?.0, 201);
    // The same bytes again cost nothing.
    assert_eq!(up(&anna, 1).await?.0, 201);
    let (status, body) = up(&anna, 2).await?;
    assert_eq!(status, 507, "Anna's quota: {body}");
    assert!(body.contains("quota"), "{body}");
    assert_eq!(up(&bram, 3).await?.0, 201);
    let (status, body) = up(&cees, 4).await?;
    assert_eq!(status, 507, "the event's total: {body}");
    assert!(body.contains("total"), "{body}");
    Ok(())
}

#[tokio::test]
async fn a_tip_is_marked_useful_once_per_identity() -> anyhow::Result<()> {
    let server = Server::start().await?;
    let (_, anna) = identity(&server, "Anna").await?;
    let (_, bram) = identity(&server, "Bram").await?;
    let visitor = Client::connect(&server, "markt-ot6").await?;
    visitor.synced().await?;
    for (id, kind, text, at) in [
        ("tip-1", TipKind::Tip, "Kijk naar de omgevingswet", 1_000),
        ("vraag-1", TipKind::Vraag, "Wie trekt dit?", 2_000),
    ] {
        let draft = TipDraft {
            id: id.into(),
            kind,
            text: text.into(),
            author: "Cees".into(),
            author_id: "cees".into(),
            now_ms: at,
        };
        visitor.edit(|txn| insert_tip(txn, &draft));
    }
    let path = format!("{EVENT}/stands/markt-ot6/useful?key={}", server.keys.join);
    let server = &server;
    let mark = |token: &str, tip: &str, useful: bool| {
        let body = json!({ "token": token, "tipId": tip, "useful": useful });
        let path = path.clone();
        async move { server.post(&path, &body).await }
    };
    // The server has the tips once a second client sees them.
    let witness = Client::connect(server, "markt-ot6").await?;
    let team = werktafel_shared::Event::builtin()
        .team(6)
        .cloned()
        .expect("team 6");
    witness
        .wait_for("both tips", |doc| read_stand(doc, &team).tips.len() == 2)
        .await?;

    for _ in 0..3 {
        let (status, body) = mark(&anna, "tip-1", true).await?;
        assert_eq!(status, 200, "{body}");
    }
    assert_eq!(mark(&bram, "tip-1", true).await?.0, 200);
    let useful = |doc: &yrs::Doc| {
        read_stand(doc, &team)
            .tips
            .iter()
            .find(|t| t.id == "tip-1")
            .map(|t| t.useful)
    };
    witness
        .wait_for("two marks", |doc| useful(doc) == Some(2))
        .await?;
    // Taken back, the total drops; a tip the stand lacks is 404.
    let (status, body) = mark(&anna, "tip-1", false).await?;
    assert_eq!((status, body.as_str()), (200, r#"{"mine":[]}"#));
    witness
        .wait_for("one mark", |doc| useful(doc) == Some(1))
        .await?;
    assert_eq!(mark(&anna, "ghost", true).await?.0, 404);
    let bad = format!("{EVENT}/stands/markt-ot6/useful?key={}", server.keys.view);
    let (status, _) = server
        .post(
            &bad,
            &json!({ "token": anna, "tipId": "tip-1", "useful": true }),
        )
        .await?;
    assert_eq!(status, 403, "the plenary key cannot mark");
    // Nobody can write `votes` themselves: the connection is closed.
    witness.edit(|txn| {
        use yrs::{Map, WriteTxn};
        txn.get_or_insert_map("votes").insert(txn, "tip-1", 99);
    });
    witness.closed().await?;

    // The overview counts it all.
    let (status, body) = server.get(&format!("{EVENT}/market")).await?;
    assert_eq!(status, 200, "{body}");
    let overview: Value = serde_json::from_str(&body)?;
    let stands = overview["stands"].as_array().expect("stands");
    assert_eq!(stands.len(), 6);
    let six = &stands[5];
    assert_eq!(six["room"], "markt-ot6");
    assert_eq!(
        six["counts"],
        json!({ "tips": 1, "questions": 1, "useful": 1, "materials": 0 })
    );
    assert_eq!(overview["fresh"][0]["id"], "vraag-1", "newest first");
    assert_eq!(overview["fresh"][1]["teamName"], "Harmonisatie regelgeving");
    Ok(())
}

#[tokio::test]
async fn the_start_view_is_the_facilitators_and_the_event_names_the_market() -> anyhow::Result<()> {
    let mut server = Server::start().await?;
    let (status, body) = server.get(EVENT).await?;
    assert_eq!(status, 200, "{body}");
    let event: Value = serde_json::from_str(&body)?;
    assert_eq!(event["startView"], "auto");
    assert_eq!(event["hasMarket"], true);
    assert_eq!(event["hasLecture"], true);
    assert_eq!(event["marketInfo"]["stands"], json!([1, 2, 3, 4, 5, 6]));

    let path = format!("{EVENT}/start-view?key={}", server.keys.join);
    let (status, _) = server.post(&path, &json!({ "view": "markt" })).await?;
    assert_eq!(status, 403, "a participant cannot switch the start page");
    let (status, _) = server
        .post(&format!("{EVENT}/start-view"), &json!({ "view": "elders" }))
        .await?;
    assert!(
        (400..500).contains(&status),
        "an unknown view is refused: {status}"
    );
    let (status, body) = server
        .post(&format!("{EVENT}/start-view"), &json!({ "view": "markt" }))
        .await?;
    assert_eq!(status, 200, "{body}");
    server.terminate().await?;
    server.restart().await?;
    let (_, body) = server.get(EVENT).await?;
    let event: Value = serde_json::from_str(&body)?;
    assert_eq!(event["startView"], "markt", "kept across a restart");

    // A QR code per stand leads to the stand's page; none for a stand the market lacks.
    let (status, head, svg) = server
        .get_bytes(&format!("{EVENT}/qr.svg?table=markt-ot2"))
        .await?;
    assert_eq!(status, 200, "{head}");
    assert!(String::from_utf8_lossy(&svg).contains("<svg"));
    let (status, _) = server
        .get(&format!("{EVENT}/qr.svg?table=markt-ot9"))
        .await?;
    assert_eq!(status, 404);
    Ok(())
}

#[tokio::test]
async fn uploads_being_received_at_once_are_bounded() -> anyhow::Result<()> {
    use tokio::io::AsyncWriteExt;
    let server = Server::start().await?;
    let (_, anna) = identity(&server, "Anna").await?;
    let path = upload_path(&server, "markt-ot3", &anna, "f.png");
    // Uploads whose bodies never finish hold their slots.
    let mut held = Vec::new();
    for _ in 0..4 {
        let mut stream = tokio::net::TcpStream::connect(&server.addr).await?;
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: {}\r\nContent-Length: 1000\r\n\r\n",
            server.addr
        );
        stream.write_all(head.as_bytes()).await?;
        stream.write_all(PNG).await?;
        held.push(stream);
    }
    // Once the server has taken them up, one more is told to come back.
    let mut answers = Vec::new();
    for _ in 0..200 {
        let (status, body) = post_bytes(&server, &path, PNG).await?;
        answers.push(status);
        if status == 429 {
            assert!(
                body.to_ascii_lowercase().contains("retry-after: 2"),
                "{body}"
            );
            assert!(body.contains("uploads-busy"), "{body}");
            break;
        }
        assert_eq!(status, 201, "{body}");
    }
    assert_eq!(answers.last(), Some(&429), "{answers:?}");
    // A slot comes free when an upload ends.
    drop(held);
    let mut status = 0;
    for _ in 0..200 {
        status = post_bytes(&server, &path, PNG).await?.0;
        if status == 201 {
            break;
        }
    }
    assert_eq!(status, 201);
    Ok(())
}
