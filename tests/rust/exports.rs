//! Exports for the workbook: every format over HTTP, the anonymous flag, and
//! the command line on a data directory (with and without a running server),
//! including the archive's export → import → export round trip.

use std::io::Read;

use werktafel_shared::schema::{self, Lane};
use werktafel_tests::node_peer::interop_dir;
use werktafel_tests::{Client, Server};
use yrs::{Map, WriteTxn};

use crate::notes;

/// Texts that break naive exporters: quotes, separators, newlines, markup, emoji.
const TRICKY: &[(&str, Lane)] = &[
    ("Zeg \"ja\"; of nee, en dan?", Lane::Goed),
    ("Regel één\nregel twee", Lane::Doorpakken),
    ("<script>alert(1)</script> & co", Lane::Doorpakken),
    ("Groen 🌳 voor de stadsboulevard", Lane::Vervolgstap),
];

/// Writes the tricky notes at table `a` and waits until a second client has them.
async fn write_notes(server: &Server) -> anyhow::Result<()> {
    let writer = Client::connect(server, "a").await?;
    writer.synced().await?;
    for (i, (text, lane)) in TRICKY.iter().enumerate() {
        notes::add(&writer, &format!("n{i}"), text, *lane);
    }
    let witness = Client::connect(server, "a").await?;
    witness
        .wait_for("every note", |_| {
            (0..TRICKY.len()).all(|i| notes::has_note(&witness, &format!("n{i}")))
        })
        .await?;
    Ok(())
}

#[tokio::test]
async fn every_format_over_http_holds_every_note() -> anyhow::Result<()> {
    let server = Server::start().await?;
    write_notes(&server).await?;
    let base = "/api/events/atelierdag-2022";

    let (status, head, md) = server.get_bytes(&format!("{base}/export.md")).await?;
    assert_eq!(status, 200, "{head}");
    assert!(
        head.contains("attachment; filename=\"werktafel-atelierdag-2022.md\""),
        "{head}"
    );
    let md = String::from_utf8(md)?;
    for fragment in ["Zeg \"ja\"; of nee", "Regel één", "alert(1)", "Groen 🌳"] {
        assert!(md.contains(fragment), "markdown lacks {fragment:?}");
    }
    assert!(
        !md.contains("<script>"),
        "markup in a note is escaped in Markdown too"
    );

    let (status, _, csv) = server
        .get_bytes(&format!("{base}/export.csv?delimiter=semicolon"))
        .await?;
    assert_eq!(status, 200);
    assert!(
        csv.starts_with("\u{feff}".as_bytes()),
        "UTF-8 BOM for Excel"
    );
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(b';')
        .from_reader(&csv[3..]);
    let headers = reader.headers()?.clone();
    let text_col = headers
        .iter()
        .position(|h| h == "text")
        .expect("text column");
    let texts: Vec<String> = reader
        .records()
        .map(|r| r.map(|r| r[text_col].to_string()))
        .collect::<Result<_, _>>()?;
    for (text, _) in TRICKY {
        assert!(
            texts.iter().any(|t| t == text),
            "csv lost {text:?}: {texts:?}"
        );
    }

    for (ext, kind) in [
        ("xlsx", "spreadsheetml"),
        ("html", "text/html"),
        ("json", "application/json"),
        ("zip", "application/zip"),
    ] {
        let (status, head, body) = server.get_bytes(&format!("{base}/export.{ext}")).await?;
        assert_eq!(status, 200, "{ext}: {head}");
        assert!(head.contains(kind), "{ext}: {head}");
        assert!(!body.is_empty(), "{ext}");
    }
    let (_, _, html) = server.get_bytes(&format!("{base}/export.html")).await?;
    let html = String::from_utf8(html)?;
    assert!(
        !html.contains("<script>alert"),
        "note markup is escaped in the report"
    );
    assert!(html.contains("@page"), "A4 print stylesheet");

    let (_, _, zip) = server.get_bytes(&format!("{base}/export.zip")).await?;
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip))?;
    let mut names: Vec<String> = archive
        .file_names()
        .map(|n| n.map(|n| n.to_string()))
        .collect::<Result<_, _>>()?;
    names.sort();
    assert!(names.contains(&"borden/a.svg".to_string()), "{names:?}");
    let mut csv_in_zip = String::new();
    archive
        .by_name("notities.csv")?
        .read_to_string(&mut csv_in_zip)?;
    assert!(csv_in_zip.contains("Groen 🌳"));

    let (status, head, svg) = server
        .get_bytes(&format!("{base}/tables/a/board.svg"))
        .await?;
    assert_eq!(status, 200);
    assert!(head.contains("image/svg+xml"));
    assert!(String::from_utf8(svg)?.contains("Groen 🌳 voor de"));

    let (status, _, _) = server.get_bytes(&format!("{base}/export.doc")).await?;
    assert_eq!(status, 404);
    let (status, _, _) = server
        .get_bytes(&format!("{base}/export.csv?delimiter=tab"))
        .await?;
    assert_eq!(status, 400);
    let (status, _, _) = server
        .get_bytes(&format!("{base}/export.csv?formulas=evaluate"))
        .await?;
    assert_eq!(status, 400);
    let (status, _, _) = server
        .get_bytes(&format!("{base}/export.csv?formulas=keep"))
        .await?;
    assert_eq!(status, 200);
    Ok(())
}

#[tokio::test]
async fn anonymous_exports_name_nobody() -> anyhow::Result<()> {
    let server = Server::start().await?;
    write_notes(&server).await?;
    // The test client signs its notes "Test" (see notes.rs).
    for ext in ["md", "csv", "html"] {
        let (_, _, named) = server
            .get_bytes(&format!("/api/events/atelierdag-2022/export.{ext}"))
            .await?;
        let (_, _, anonymous) = server
            .get_bytes(&format!(
                "/api/events/atelierdag-2022/export.{ext}?anonymous=1"
            ))
            .await?;
        let named = String::from_utf8_lossy(&named);
        let anonymous = String::from_utf8_lossy(&anonymous);
        assert!(
            named.contains("Test"),
            "{ext}: the named export shows the author"
        );
        assert!(
            !anonymous.contains("Test"),
            "{ext}: the anonymous export shows an author"
        );
    }
    Ok(())
}

fn cli_ok(args: &[&str]) -> anyhow::Result<Vec<u8>> {
    let out = Server::cli(args, &[("SOURCE_DATE_EPOCH", "1654782300")])?;
    anyhow::ensure!(
        out.status.success(),
        "werktafel {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(out.stdout)
}

#[tokio::test]
async fn the_cli_exports_a_data_directory_and_the_archive_round_trips() -> anyhow::Result<()> {
    let mut server = Server::start().await?;
    write_notes(&server).await?;
    let dir = server.data_dir.clone();
    let dir_arg = dir.to_str().unwrap_or_default().to_string();

    // While the server runs.
    let md = cli_ok(&[
        "export",
        "--data-dir",
        &dir_arg,
        "--event",
        "atelierdag-2022",
        "--format",
        "md",
    ])?;
    assert!(String::from_utf8(md)?.contains("Groen 🌳 voor de stadsboulevard"));

    // And after it stopped.
    server.terminate().await?;
    let first = cli_ok(&["export", "--data-dir", &dir_arg, "--format", "json"])?;

    let restored = tempfile::tempdir()?;
    let archive = restored.path().join("archief.json");
    std::fs::write(&archive, &first)?;
    let target = restored.path().join("data");
    let target_arg = target.to_str().unwrap_or_default();
    cli_ok(&[
        "import",
        archive.to_str().unwrap_or_default(),
        "--data-dir",
        target_arg,
    ])?;
    let second = cli_ok(&["export", "--data-dir", target_arg, "--format", "json"])?;
    assert!(
        first == second,
        "export → import → export changed the archive"
    );

    // A restored directory serves the same notes.
    let restored_server = Server::start_in(&target, &[]).await?;
    let client = Client::connect(&restored_server, "a").await?;
    client.synced().await?;
    assert_eq!(client.notes().len(), TRICKY.len());

    // Importing twice, or importing garbage, is refused and changes nothing.
    let again = Server::cli(
        &[
            "import",
            archive.to_str().unwrap_or_default(),
            "--data-dir",
            target_arg,
        ],
        &[],
    )?;
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("import needs an empty one"));
    let garbage = restored.path().join("garbage.json");
    std::fs::write(&garbage, b"{\"format\": \"something else\"}")?;
    let empty = restored.path().join("empty");
    let refused = Server::cli(
        &[
            "import",
            garbage.to_str().unwrap_or_default(),
            "--data-dir",
            empty.to_str().unwrap_or_default(),
        ],
        &[],
    )?;
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("not a Werktafel archive"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );

    let unknown = Server::cli(
        &[
            "export",
            "--data-dir",
            &dir_arg,
            "--event",
            "nope",
            "--format",
            "md",
        ],
        &[],
    )?;
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no event 'nope'"));
    Ok(())
}

#[tokio::test]
async fn the_html_report_prints_to_pdf_with_every_note() -> anyhow::Result<()> {
    let server = Server::start().await?;
    write_notes(&server).await?;
    // The rest of the day: a pinned lecture insight and a question, and closing steps
    // with a follow-up and a source.
    crate::lecture::post_insights(
        &server,
        &[
            ("pdf-ins-1", "Fietsers maken de straat: meet het gebruik"),
            (
                "pdf-ins-2",
                "Wie betaalt de herinrichting van de stadsboulevard?",
            ),
        ],
    )
    .await?;
    let pin = server
        .post(
            "/api/events/atelierdag-2022/zaal/pins",
            &serde_json::json!({ "insightId": "pdf-ins-1", "pinned": true }),
        )
        .await?;
    anyhow::ensure!(pin.0 == 200, "pin: {pin:?}");
    for (text, follow_up, source) in [
        (
            "Werksessie over het afwegingskader",
            "werksessie",
            serde_json::json!({ "kind": "table", "id": "b" }),
        ),
        (
            "Zomertour naar de Bomenbuurt",
            "zomertour",
            serde_json::json!({ "kind": "lecture", "insight": "pdf-ins-1" }),
        ),
    ] {
        let added = server
            .post(
                "/api/events/atelierdag-2022/next-steps",
                &serde_json::json!({ "text": text, "owner": "OT 4", "followUp": follow_up, "source": source }),
            )
            .await?;
        anyhow::ensure!(added.0 == 201, "next step: {added:?}");
    }
    let (_, _, html) = server
        .get_bytes("/api/events/atelierdag-2022/export.html")
        .await?;
    let dir = tempfile::tempdir()?;
    let page = dir.path().join("rapport.html");
    let pdf = dir.path().join("rapport.pdf");
    std::fs::write(&page, html)?;

    // Headless Chromium prints it as a browser's print dialog would (A4 from
    // the report's @page rule); pdftotext reads the PDF back.
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "chromium".into());
    let printed = std::process::Command::new(&chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
        ])
        .arg(format!(
            "--user-data-dir={}",
            dir.path().join("profile").display()
        ))
        .arg(format!("--print-to-pdf={}", pdf.display()))
        .arg("--no-pdf-header-footer")
        .arg(format!("file://{}", page.display()))
        .output()
        .map_err(|e| {
            anyhow::anyhow!("running {chromium} (apt-get install chromium; .ci/run does): {e}")
        })?;
    anyhow::ensure!(
        pdf.exists(),
        "no PDF: {}",
        String::from_utf8_lossy(&printed.stderr)
    );
    let text = std::process::Command::new("pdftotext")
        .arg("-layout")
        .arg(&pdf)
        .arg("-")
        .output()
        .map_err(|e| {
            anyhow::anyhow!("running pdftotext (apt-get install poppler-utils; .ci/run does): {e}")
        })?;
    let text = String::from_utf8_lossy(&text.stdout);
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    for fragment in [
        "Zeg \"ja\"; of nee, en dan?",
        "Regel één",
        "alert(1)",
        "voor de stadsboulevard",
        "Vitale systemen",
        "Kosten-baten analyse",
        // The whole day: the market, the lecture, rode lijnen, next steps by follow-up.
        "OT 2: Stedelijk programmeren en samenwerken",
        "Vastgepind voor de terugkoppeling",
        "Fietsers maken de straat: meet het gebruik",
        "Wie betaalt de herinrichting van de stadsboulevard?",
        "Rode lijnen",
        "stadsboulevard",
        "Werksessies",
        "Werksessie over het afwegingskader",
        "Tafel B — Afwegingskader",
        "Zomertours",
        "Zomertour naar de Bomenbuurt",
        "Lezing: Fietsers maken de straat",
    ] {
        assert!(
            flat.contains(fragment),
            "the printed report lacks {fragment:?}:\n{text}"
        );
    }
    Ok(())
}

/// Note texts that try to get HTML through a Markdown renderer: markup right after a URL
/// (which marked and markdown-it's linkify take into the link, backslash and all), raw
/// tags, entities that decode to tags, and a `javascript:` link.
const HOSTILE_MARKDOWN: &[&str] = &[
    "http://h/x<img src=x onerror=alert(1)//>",
    "http://h/x\\<img src=x onerror=alert(2)//>",
    "www.example.nl/<script>alert(3)</script>",
    "<img src=x onerror=alert(4)>",
    "&lt;img src=x onerror=alert(5)&gt; &#60;script&#62;",
    "[klik](javascript:alert(6)) <a href=\"javascript:alert(7)\">x</a>",
    "> <svg onload=alert(8)>",
    "`<img src=x onerror=alert(9)>` ``` <script>alert(10)</script>",
];

/// Writes `fields` (key → value) onto note `id` as plain strings, the way a
/// hostile client can set any of a note's fields.
fn set_fields(client: &Client, id: &str, fields: &[(&str, &str)]) {
    client.edit(|txn| {
        let notes = txn.get_or_insert_map(schema::NOTES);
        let Some(yrs::Out::YMap(note)) = notes.get(txn, id) else {
            panic!("note {id} missing");
        };
        for (key, value) in fields {
            note.insert(txn, *key, *value);
        }
    });
}

/// The tag names allowed in a rendered workbook: what Markdown itself makes.
const MARKDOWN_TAGS: &[&str] = &[
    "h1",
    "h2",
    "h3",
    "p",
    "ul",
    "li",
    "strong",
    "em",
    "br",
    "a",
    "code",
    "blockquote",
    "hr",
];

/// Every tag in `html` that Markdown would not make, or that carries an event
/// handler or a `javascript:` URL.
fn foreign_tags(html: &str) -> Vec<String> {
    let mut found = Vec::new();
    for (at, _) in html.match_indices('<') {
        let tag = &html[at..html[at..].find('>').map_or(html.len(), |end| at + end + 1)];
        let name: String = tag
            .trim_start_matches(['<', '/'])
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        let lower = tag.to_ascii_lowercase();
        let handler = lower
            .split(|c: char| c.is_whitespace() || c == '/')
            .any(|attr| attr.starts_with("on") && attr.contains('='));
        if !MARKDOWN_TAGS.contains(&name.as_str()) || handler || lower.contains("javascript:") {
            found.push(tag.to_string());
        }
    }
    found
}

#[tokio::test]
async fn the_markdown_export_renders_no_html_from_notes_in_marked_or_markdown_it()
-> anyhow::Result<()> {
    let modules = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("node_modules");
    anyhow::ensure!(
        modules.join("marked").exists() && modules.join("markdown-it").exists(),
        "{} lacks marked/markdown-it: run `npm ci` in tests/ first (./test.sh does)",
        modules.display()
    );
    let server = Server::start().await?;
    let writer = Client::connect(&server, "a").await?;
    writer.synced().await?;
    for (i, text) in HOSTILE_MARKDOWN.iter().enumerate() {
        let id = format!("h{i}");
        notes::add(&writer, &id, text, Lane::Vervolgstap);
        // The same markup in every other field a note's author controls.
        set_fields(
            &writer,
            &id,
            &[("author", text), ("owner", text), ("due", text)],
        );
    }
    let witness = Client::connect(&server, "a").await?;
    witness
        .wait_for("every hostile note", |_| {
            witness
                .notes()
                .iter()
                .filter(|n| n.id.starts_with('h') && n.due == n.text)
                .count()
                == HOSTILE_MARKDOWN.len()
        })
        .await?;

    let (status, head, markdown) = server
        .get_bytes("/api/events/atelierdag-2022/export.md")
        .await?;
    assert_eq!(status, 200, "{head}");
    let html = render_markdown(&markdown).await?;
    for renderer in ["marked", "markdownIt", "markdownItHtml"] {
        let html = html[renderer].as_str().unwrap_or_default();
        assert!(
            html.contains("alert(1)"),
            "{renderer} lost the note's text:\n{html}"
        );
        let foreign = foreign_tags(html);
        assert!(
            foreign.is_empty(),
            "{renderer} made HTML from a note: {foreign:?}\nmarkdown:\n{}",
            String::from_utf8_lossy(&markdown)
        );
    }
    Ok(())
}

/// Pipes `markdown` through `tests/interop/render-markdown.mjs` (marked with its
/// defaults; markdown-it with linkify, without and with raw HTML) and returns its JSON.
async fn render_markdown(markdown: &[u8]) -> anyhow::Result<serde_json::Value> {
    use tokio::io::AsyncWriteExt;
    let mut child = tokio::process::Command::new("node")
        .arg(interop_dir().join("render-markdown.mjs"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| anyhow::anyhow!("spawning `node` (Node.js 20 must be on PATH): {e}"))?;
    let mut stdin = child
        .stdin
        .take()
        .ok_or_else(|| anyhow::anyhow!("no stdin"))?;
    stdin.write_all(markdown).await?;
    drop(stdin);
    let out = tokio::time::timeout(werktafel_tests::WAIT, child.wait_with_output()).await??;
    anyhow::ensure!(
        out.status.success(),
        "render-markdown.mjs failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(serde_json::from_slice(&out.stdout)?)
}

#[tokio::test]
async fn a_field_longer_than_an_excel_cell_exports_in_every_format() -> anyhow::Result<()> {
    // Excel holds 32,767 characters per cell; rust_xlsxwriter refused longer
    // strings, and the XLSX and ZIP exports failed with 500 for everyone.
    let long = "y".repeat(40_000);
    let server = Server::start().await?;
    let writer = Client::connect(&server, "a").await?;
    writer.synced().await?;
    notes::add(&writer, "long", &long, Lane::Vervolgstap);
    set_fields(
        &writer,
        "long",
        &[("author", &long), ("owner", &long), ("due", &long)],
    );
    writer.edit(|txn| {
        use yrs::{MapPrelim, TextPrelim};
        let groups = txn.get_or_insert_map("groups");
        let group = groups.insert(txn, "g", MapPrelim::default());
        group.insert(txn, "title", TextPrelim::new(long.as_str()));
        let connectors = txn.get_or_insert_map("connectors");
        let arrow = connectors.insert(txn, "c", MapPrelim::default());
        arrow.insert(txn, "from", "long");
        arrow.insert(txn, "to", "g");
        arrow.insert(txn, "label", TextPrelim::new(long.as_str()));
    });
    let witness = Client::connect(&server, "a").await?;
    witness
        .wait_for("the long note", |_| {
            witness
                .notes()
                .iter()
                .any(|n| n.id == "long" && n.due == long)
        })
        .await?;

    let base = "/api/events/atelierdag-2022";
    for path in [
        "export.xlsx",
        "export.zip",
        "export.md",
        "export.csv",
        "export.html",
        "export.json",
        "tables/a/board.svg",
    ] {
        let (status, head, body) = server.get_bytes(&format!("{base}/{path}")).await?;
        assert_eq!(
            status,
            200,
            "{path}: {head}\n{}\nlog: {}",
            String::from_utf8_lossy(&body),
            server.log.display()
        );
        assert!(!body.is_empty(), "{path}");
    }
    Ok(())
}

/// The most a socket's send buffer grows to on this machine (Linux), so a test
/// can make a response that cannot fit in the buffers between server and client.
fn send_buffer_max() -> usize {
    std::fs::read_to_string("/proc/sys/net/ipv4/tcp_wmem")
        .ok()
        .and_then(|s| s.split_whitespace().nth(2)?.parse().ok())
        .unwrap_or(4 * 1024 * 1024)
}

#[tokio::test]
async fn exports_beyond_the_bound_get_429_and_an_unchanged_export_comes_from_the_cache()
-> anyhow::Result<()> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    // One slot. A download holds its slot until its last piece has gone out,
    // so a client that stops reading a response larger than every buffer
    // between it and the server holds the slot for as long as it likes.
    let note_bytes = send_buffer_max() + 2 * 1024 * 1024;
    let message_limit = (2 * note_bytes).to_string();
    let dir = tempfile::tempdir()?;
    let server = Server::start_in(
        dir.path(),
        &[
            "--max-concurrent-exports",
            "1",
            "--max-message-bytes",
            &message_limit,
        ],
    )
    .await?;
    let writer = Client::connect(&server, "a").await?;
    writer.synced().await?;
    let big = "werktafel ".repeat(note_bytes / 10);
    notes::add(&writer, "big", &big, Lane::Goed);
    let witness = Client::connect(&server, "a").await?;
    witness
        .wait_for("the big note", |_| notes::has_note(&witness, "big"))
        .await?;

    // The archive carries the note (base64, a third larger): more than fits.
    let socket = tokio::net::TcpSocket::new_v4()?;
    socket.set_recv_buffer_size(4096)?;
    let mut slow = socket.connect(server.addr.parse()?).await?;
    let path = werktafel_tests::server::with_key(
        "/api/events/atelierdag-2022/export.json",
        &server.keys.facilitate,
    );
    slow.write_all(
        format!(
            "GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            server.addr
        )
        .as_bytes(),
    )
    .await?;
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut byte = [0u8; 1];
        anyhow::ensure!(slow.read(&mut byte).await? == 1, "closed before the head");
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head).to_string();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");

    // The slot is taken: another export is refused, with when to come back.
    let (status, busy_head, body) = server
        .get_bytes("/api/events/atelierdag-2022/export.md")
        .await?;
    assert_eq!(
        status,
        429,
        "{busy_head}\n{}",
        String::from_utf8_lossy(&body)
    );
    assert!(
        busy_head.to_ascii_lowercase().contains("retry-after: 2"),
        "{busy_head}"
    );
    assert_eq!(server.metric("werktafel_exports_refused_total").await?, 1);

    // The slow client reads on; the slot is free once it has everything.
    let mut rest = Vec::new();
    slow.read_to_end(&mut rest).await?;
    assert!(
        rest.len() > note_bytes,
        "the whole archive: {} bytes",
        rest.len()
    );

    let (status, _, first) = server
        .get_bytes("/api/events/atelierdag-2022/export.md")
        .await?;
    assert_eq!(status, 200);
    let rendered = server.metric("werktafel_exports_rendered_total").await?;
    let hits = server.metric("werktafel_export_cache_hits_total").await?;

    // Nothing changed: the same export again is the cached one.
    let (status, _, again) = server
        .get_bytes("/api/events/atelierdag-2022/export.md")
        .await?;
    assert_eq!(status, 200);
    assert!(first == again, "the cached export is the same file");
    assert_eq!(
        server.metric("werktafel_export_cache_hits_total").await?,
        hits + 1
    );
    assert_eq!(
        server.metric("werktafel_exports_rendered_total").await?,
        rendered,
        "served without rendering"
    );

    // A change makes the next export new.
    notes::add(&writer, "small", "Nieuwe notitie", Lane::Goed);
    witness
        .wait_for("the new note", |_| notes::has_note(&witness, "small"))
        .await?;
    let before_change = server.metric("werktafel_exports_rendered_total").await?;
    let (_, _, changed) = server
        .get_bytes("/api/events/atelierdag-2022/export.md")
        .await?;
    assert!(String::from_utf8_lossy(&changed).contains("Nieuwe notitie"));
    assert_eq!(
        server.metric("werktafel_exports_rendered_total").await?,
        before_change + 1,
        "the changed tables are rendered anew (rendered {rendered} after the first export, {before_change} before this one)"
    );
    Ok(())
}
