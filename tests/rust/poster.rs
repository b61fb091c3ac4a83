//! The droomproces poster over HTTP: the built-in drawing until an image is given, uploads
//! by the facilitator only, refused when too large (413) or not a PNG/JPEG/WebP (415), served
//! with their type and `nosniff`, stored 0600 and kept over a restart; the event file's image;
//! the facilitator's switch to poster view; the poster in the HTML export.

use serde_json::{Value, json};
use werktafel_shared::poster::MAX_POSTER_IMAGE_BYTES;
use werktafel_tests::Server;
use werktafel_tests::server::{exchange_bytes, http_put_bytes, with_key};

const POSTER: &str = "/api/events/atelierdag-2022/poster";

/// The smallest file that starts like a PNG; the server judges by the first bytes only.
fn png(len: usize) -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
    bytes.resize(len.max(8), 0x42);
    bytes
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().find_map(|line| {
        let (n, v) = line.split_once(':')?;
        n.eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

async fn put(server: &Server, key: &str, content_type: &str, body: &[u8]) -> (u16, String, String) {
    let (status, head, body) =
        http_put_bytes(&server.addr, &with_key(POSTER, key), content_type, body)
            .await
            .expect("the PUT gets an answer");
    (status, head, String::from_utf8_lossy(&body).into_owned())
}

#[tokio::test]
async fn the_builtin_drawing_is_the_poster_until_one_is_uploaded() -> anyhow::Result<()> {
    let server = Server::start().await?;
    let (status, head, body) = server
        .get_bytes(&with_key(POSTER, &server.keys.join))
        .await?;
    assert_eq!(status, 200, "{head}");
    assert_eq!(header(&head, "content-type"), Some("image/svg+xml"));
    assert_eq!(header(&head, "x-content-type-options"), Some("nosniff"));
    let svg = String::from_utf8(body)?;
    assert!(svg.contains("Droomproces") && svg.contains("Visievorming"));
    assert!(
        svg.contains("Ontwikkelteams") && svg.contains(">Harmonisatie"),
        "the event's teams"
    );
    Ok(())
}

#[tokio::test]
async fn only_the_facilitator_uploads_and_the_upload_is_served_stored_and_kept()
-> anyhow::Result<()> {
    let mut server = Server::start().await?;
    let image = png(4096);
    for (role, key) in [
        ("participant", server.keys.join.clone()),
        ("plenary", server.keys.view.clone()),
    ] {
        let (status, _, body) = put(&server, &key, "image/png", &image).await;
        assert_eq!(status, 403, "the {role} key may not upload: {body}");
    }
    let (status, _, body) = put(&server, &server.keys.facilitate, "image/png", &image).await;
    assert_eq!(status, 200, "{body}");
    let reply: Value = serde_json::from_str(&body)?;
    assert_eq!(reply, json!({ "type": "image/png", "bytes": 4096 }));

    let check = |server: &Server| {
        let path = with_key(POSTER, &server.keys.join);
        let addr = server.addr.clone();
        async move { werktafel_tests::server::http_get_bytes(&addr, &path).await }
    };
    let (status, head, served) = check(&server).await?;
    assert_eq!(status, 200);
    assert_eq!(header(&head, "content-type"), Some("image/png"));
    assert_eq!(header(&head, "x-content-type-options"), Some("nosniff"));
    assert_eq!(served, image);

    let stored = server.data_dir.join("poster.img");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&stored)?.permissions().mode() & 0o777;
        assert_eq!(
            mode, 0o600,
            "the stored poster is private to the server's user"
        );
    }
    server.restart().await?;
    let (status, _, served) = check(&server).await?;
    assert_eq!(
        (status, served),
        (200, image),
        "the upload outlives a restart"
    );
    Ok(())
}

#[tokio::test]
async fn an_upload_too_large_or_not_an_image_is_refused_and_changes_nothing() -> anyhow::Result<()>
{
    let server = Server::start().await?;
    let key = server.keys.facilitate.clone();
    let (status, _, first) = put(
        &server,
        &key,
        "image/jpeg",
        &[0xff, 0xd8, 0xff, 0xe0, 1, 2, 3],
    )
    .await;
    assert_eq!(status, 200, "{first}");

    // Claimed as PNG, but SVG (which can carry script) or text: judged by the bytes.
    for body in [
        &b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>"[..],
        b"GIF89a......",
        b"",
    ] {
        let (status, _, reply) = put(&server, &key, "image/png", body).await;
        assert_eq!(status, 415, "{:?}: {reply}", String::from_utf8_lossy(body));
        assert!(reply.contains("PNG, JPEG or WebP"), "{reply}");
    }

    // One byte past the limit, sent whole (chunked, so no length is declared up front).
    let big = png(MAX_POSTER_IMAGE_BYTES + 1);
    let mut request = format!(
        "PUT {} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Type: image/png\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n",
        with_key(POSTER, &key),
        server.addr,
        big.len()
    )
    .into_bytes();
    request.extend_from_slice(&big);
    request.extend_from_slice(b"\r\n0\r\n\r\n");
    let (status, _, reply) = exchange_bytes(&server.addr, &request).await?;
    assert_eq!(status, 413, "{}", String::from_utf8_lossy(&reply));

    // A declared length past the limit is refused before the body is sent.
    let head = format!(
        "PUT {} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Type: image/png\r\nContent-Length: {}\r\nExpect: 100-continue\r\n\r\n",
        with_key(POSTER, &key),
        server.addr,
        MAX_POSTER_IMAGE_BYTES + 1
    );
    let (status, _, _) = exchange_bytes(&server.addr, head.as_bytes()).await?;
    assert_eq!(status, 413);

    let (_, head, served) = server.get_bytes(POSTER).await?;
    assert_eq!(
        header(&head, "content-type"),
        Some("image/jpeg"),
        "the refused uploads changed nothing"
    );
    assert_eq!(served, [0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]);
    Ok(())
}

#[tokio::test]
async fn the_event_file_names_the_poster_and_a_table_opens_in_poster_view() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let toml = werktafel_shared::BUILTIN_EVENT_TOML
        .replacen("slug = ", "poster = \"droom.webp\"\nslug = ", 1)
        .replacen("id = \"a\"", "id = \"a\"\nview = \"poster\"", 1);
    assert!(
        toml.contains("view = \"poster\""),
        "the fixture found table a"
    );
    let event = dir.path().join("event.toml");
    std::fs::write(&event, &toml)?;
    let webp = b"RIFF\x20\x00\x00\x00WEBPVP8 rest".to_vec();
    std::fs::write(dir.path().join("droom.webp"), &webp)?;
    let data = dir.path().join("data");
    std::fs::create_dir(&data)?;
    let server = Server::start_in(&data, &["--event", event.to_str().unwrap_or_default()]).await?;

    let (_, head, served) = server.get_bytes(POSTER).await?;
    assert_eq!(header(&head, "content-type"), Some("image/webp"));
    assert_eq!(served, webp);
    let (_, body) = server.get("/api/events/atelierdag-2022").await?;
    let info: Value = serde_json::from_str(&body)?;
    assert_eq!(info["tables"][0]["view"], "poster");
    assert_eq!(info["tables"][1]["view"], "lanes");
    let (_, body) = server.get("/api/events/atelierdag-2022/summary").await?;
    let summary: Value = serde_json::from_str(&body)?;
    assert_eq!(summary["tables"][0]["view"], "poster");
    assert!(summary["tables"][0]["poster"]["arrows"].is_array());
    assert!(
        summary["tables"][1].get("poster").is_none(),
        "a lanes table without poster items has none"
    );

    // An event file naming an image that is not one does not start.
    std::fs::write(dir.path().join("droom.webp"), b"<svg/>")?;
    let refused = Server::start_in(&data, &["--event", event.to_str().unwrap_or_default()]).await;
    assert!(
        refused.is_err(),
        "a server with a bad poster image must not start"
    );
    Ok(())
}

#[tokio::test]
async fn the_facilitator_switches_a_table_to_poster_view_and_the_export_draws_it()
-> anyhow::Result<()> {
    let server = Server::start().await?;
    let body = json!({ "tables": ["a"], "view": "poster" });
    let (status, _) = werktafel_tests::server::http_post(
        &server.addr,
        &with_key("/api/events/atelierdag-2022/control", &server.keys.join),
        &body,
    )
    .await?;
    assert_eq!(status, 403, "a participant cannot switch the view");
    let (status, reply) = server
        .post("/api/events/atelierdag-2022/control", &body)
        .await?;
    assert_eq!(status, 200, "{reply}");
    let reply: Value = serde_json::from_str(&reply)?;
    assert_eq!(reply["tables"][0]["control"]["view"], "poster");
    let (status, reply) = server
        .post(
            "/api/events/atelierdag-2022/control",
            &json!({ "tables": ["a"], "view": "kaart" }),
        )
        .await?;
    assert!(
        status == 400 || status == 422,
        "an unknown view is refused: {status} {reply}"
    );

    let (_, _, html) = server
        .get_bytes("/api/events/atelierdag-2022/export.html")
        .await?;
    let html = String::from_utf8(html)?;
    assert_eq!(
        html.matches("<h3>Poster</h3>").count(),
        1,
        "only table A shows a poster"
    );
    assert!(html.contains("Poster — ") && html.contains("Visievorming"));
    Ok(())
}
