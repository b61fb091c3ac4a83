//! HTTP on any node of a cluster (docs/scale-out.md, HTTP on any node):
//! reads on a node that owns nothing see what the owner stored, the live
//! summary there follows other nodes, and writes issued anywhere land on
//! the room's owner, count once, and outlive the owner's kill -9.

use serde_json::{Value, json};
use werktafel_shared::schema::Lane;
use werktafel_tests::postgres::TestDb;
use werktafel_tests::server::exchange;
use werktafel_tests::{Client, NodePeer, Server};

use crate::cluster::{SECRET, insert, node, ws_base};
use crate::notes;
use crate::summary::Plenary;

const EVENT: &str = "/api/events/atelierdag-2022";

/// `method path` with a JSON body on `server`, the facilitator's key unless
/// `path` names one: (status, body as JSON or `Null`).
async fn send(
    server: &Server,
    method: &str,
    path: &str,
    body: &Value,
) -> anyhow::Result<(u16, Value)> {
    let path = werktafel_tests::server::with_key(path, &server.keys.facilitate);
    werktafel_tests::server::http_json(&server.addr, method, &path, &body.to_string()).await
}

/// A signed identity's token, minted on `server`.
async fn token(server: &Server, name: &str) -> anyhow::Result<String> {
    let path = format!("{EVENT}/identity?key={}", server.keys.join);
    let (status, reply) = server.post(&path, &json!({ "name": name })).await?;
    anyhow::ensure!(status == 200, "identity answered {status}: {reply}");
    let reply: Value = serde_json::from_str(&reply)?;
    Ok(reply["token"].as_str().unwrap_or_default().to_owned())
}

/// Sends the same request until the answer is not 503 (the owner is gone
/// and its lease has not run out yet), polling as a client that honours
/// `Retry-After` would, a little faster.
async fn until_served(
    server: &Server,
    method: &str,
    path: &str,
    body: &Value,
) -> anyhow::Result<(u16, Value)> {
    for _ in 0..300 {
        let (status, reply) = send(server, method, path, body).await?;
        if status != 503 {
            return Ok((status, reply));
        }
        anyhow::ensure!(
            reply["code"] == "try-again",
            "a 503 says the client may try again: {reply}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    anyhow::bail!("{method} {path} was never served")
}

#[tokio::test]
async fn reads_on_a_node_that_owns_nothing_see_what_the_owner_stored() -> anyhow::Result<()> {
    let db = TestDb::create()?;
    let dir = tempfile::tempdir()?;
    let a = node(&db, dir.path(), "127.0.0.1", "n1").await?;
    let c = node(&db, dir.path(), "127.0.0.3", "n3").await?;
    let rust = Client::connect(&a, "a").await?;
    rust.synced().await?;
    let mut stock = NodePeer::start(&ws_base(&a), "a", &a.keys.join).await?;

    // Read once on n3 before the notes, so its copy must be renewed.
    let (status, before) = c.get(&format!("{EVENT}/summary")).await?;
    assert_eq!(status, 200, "{before}");
    notes::add(&rust, "r1", "Vanuit Rust geschreven", Lane::Goed);
    insert(&mut stock, "y1").await?;
    // Delivered means durable: each client got the other's note from the owner.
    stock
        .wait_for_notes("the Rust client's note", |n| n.iter().any(|n| n.id == "r1"))
        .await?;
    rust.wait_for("the stock client's note", |_| notes::has_note(&rust, "y1"))
        .await?;

    let (status, summary) = c.get(&format!("{EVENT}/summary")).await?;
    assert_eq!(status, 200, "{summary}");
    assert!(summary.contains("Vanuit Rust geschreven"), "{summary}");
    assert!(summary.contains("Notitie y1"), "{summary}");
    let (status, export) = c.get(&format!("{EVENT}/export.md")).await?;
    assert_eq!(status, 200, "{export}");
    assert!(export.contains("Vanuit Rust geschreven") && export.contains("Notitie y1"));
    let (status, board) = c.get(&format!("{EVENT}/tables/a/board.svg")).await?;
    assert_eq!(status, 200);
    assert!(board.contains("Notitie y1"), "{board}");
    let (status, console) = send(&c, "GET", &format!("{EVENT}/console"), &Value::Null).await?;
    assert_eq!(status, 200, "{console}");
    assert_eq!(console["tables"][0]["notes"], 2, "{console}");

    // A later note too, right after it was delivered: no stale copy.
    insert(&mut stock, "y2").await?;
    rust.wait_for("the later note", |_| notes::has_note(&rust, "y2"))
        .await?;
    let (_, summary) = c.get(&format!("{EVENT}/summary")).await?;
    assert!(summary.contains("Notitie y2"), "{summary}");
    assert_eq!(
        c.metric(crate::cluster::OWNED).await?,
        0,
        "n3 reads, owns nothing"
    );
    Ok(())
}

#[tokio::test]
async fn the_live_summary_on_a_node_that_owns_nothing_follows_the_owner() -> anyhow::Result<()> {
    let db = TestDb::create()?;
    let dir = tempfile::tempdir()?;
    let a = node(&db, dir.path(), "127.0.0.1", "n1").await?;
    let b = node(&db, dir.path(), "127.0.0.2", "n2").await?;
    let writer = Client::connect(&a, "b").await?;
    writer.synced().await?;
    let path = format!("{EVENT}/summary/live?key={}", b.keys.view);
    let mut live = Plenary::open(&b.addr, &path).await?;

    notes::add(&writer, "n1", "Fietsen naar het plein", Lane::Goed);
    live.until("the note written on n1", |s| {
        s.to_string().contains("Fietsen naar het plein")
    })
    .await?;
    notes::add(&writer, "n2", "Bankjes in de schaduw", Lane::Goed);
    live.until("a second note", |s| {
        s.to_string().contains("Bankjes in de schaduw")
    })
    .await?;
    assert_eq!(b.metric(crate::cluster::OWNED).await?, 0);
    Ok(())
}

#[tokio::test]
async fn a_lock_issued_on_a_non_owner_is_enforced_by_the_owner() -> anyhow::Result<()> {
    let db = TestDb::create()?;
    let dir = tempfile::tempdir()?;
    let a = node(&db, dir.path(), "127.0.0.1", "n1").await?;
    let b = node(&db, dir.path(), "127.0.0.2", "n2").await?;
    let c = node(&db, dir.path(), "127.0.0.3", "n3").await?;
    let writer = Client::connect(&a, "a").await?;
    writer.synced().await?;
    // Table b is nobody's yet: n2 claims it for the same request.
    let (status, reply) = send(
        &b,
        "POST",
        &format!("{EVENT}/control"),
        &json!({ "tables": ["a", "b"], "locked": true }),
    )
    .await?;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["tables"][0]["id"], "a", "{reply}");
    assert_eq!(reply["tables"][0]["control"]["locked"], true, "{reply}");
    assert_eq!(reply["tables"][1]["control"]["locked"], true, "{reply}");
    assert_eq!(b.metric(crate::cluster::OWNED).await?, 1, "n2 took table b");

    writer
        .wait_for("the lock from n2", |doc| {
            werktafel_shared::control::read_control(doc).locked
        })
        .await?;
    notes::add(&writer, "late", "Te laat", Lane::Goed);
    writer.roundtrip().await?;
    let fresh = Client::connect(&c, "a").await?;
    fresh.synced().await?;
    assert!(werktafel_shared::control::read_control(&fresh.doc).locked);
    assert!(
        !notes::has_note(&fresh, "late"),
        "the owner held the write back"
    );
    let (_, console) = send(&c, "GET", &format!("{EVENT}/console"), &Value::Null).await?;
    assert_eq!(console["tables"][0]["control"]["locked"], true, "{console}");
    assert_eq!(console["tables"][0]["notes"], 0, "{console}");
    Ok(())
}

#[tokio::test]
async fn votes_steps_and_plus_ones_on_a_non_owner_count_once_and_outlive_the_owner()
-> anyhow::Result<()> {
    let db = TestDb::create()?;
    let dir = tempfile::tempdir()?;
    let mut a = node(&db, dir.path(), "127.0.0.1", "n1").await?;
    let b = node(&db, dir.path(), "127.0.0.2", "n2").await?;
    let c = node(&db, dir.path(), "127.0.0.3", "n3").await?;
    // n1 serves the table, the lecture board and the next steps.
    let writer = Client::connect(&a, "a").await?;
    writer.synced().await?;
    notes::add(&writer, "n1", "Samen optrekken", Lane::Goed);
    writer.roundtrip().await?;
    let phone =
        crate::lecture::post_insights(&a, &[("ins-1", "Fietsen is openbare ruimte")]).await?;
    let steps = format!("{EVENT}/next-steps");
    let first = json!({ "text": "Wijkbudget aanvragen", "owner": "Anna" });
    let (status, reply) = send(&a, "POST", &steps, &first).await?;
    assert_eq!(status, 201, "{reply}");
    let owned_by_a = a.metric(crate::cluster::OWNED).await?;

    // All of it issued on n2, which owns none of it.
    let (status, reply) = send(
        &b,
        "POST",
        &format!("{EVENT}/control"),
        &json!({ "tables": ["a"], "phase": "stemmen", "voteBudget": 3 }),
    )
    .await?;
    assert_eq!(status, 200, "{reply}");
    let anna = token(&b, "Anna").await?;
    let votes = format!("{EVENT}/tables/a/votes?key={}", b.keys.join);
    let ballot = json!({ "token": anna, "noteId": "n1", "delta": 1 });
    let (status, reply) = send(&b, "POST", &votes, &ballot).await?;
    assert_eq!((status, &reply["used"]), (200, &json!(1)), "{reply}");
    let plus = format!("{EVENT}/zaal/plus-ones?key={}", b.keys.join);
    let once = json!({ "token": anna, "insightId": "ins-1", "delta": 1 });
    let (status, reply) = send(&b, "POST", &plus, &once).await?;
    assert_eq!(status, 200, "{reply}");
    // A second +1 of the same identity on a third node still counts once.
    let plus_c = format!("{EVENT}/zaal/plus-ones?key={}", c.keys.join);
    let (status, reply) = send(&c, "POST", &plus_c, &once).await?;
    assert!(status == 200 || status == 409, "{status} {reply}");
    let second = json!({ "text": "Bankjes plaatsen", "owner": "Bo" });
    let (status, reply) = send(&b, "POST", &steps, &second).await?;
    assert_eq!(status, 201, "{reply}");
    assert_eq!(
        a.metric(crate::cluster::OWNED).await?,
        owned_by_a,
        "n2 took nothing"
    );
    assert_eq!(b.metric(crate::cluster::OWNED).await?, 0);
    assert!(b.metric("werktafel_cluster_http_forwards_total").await? >= 4);
    let (_, console) = send(&c, "GET", &format!("{EVENT}/console"), &Value::Null).await?;
    assert_eq!(console["tables"][0]["votes"], 1, "{console}");
    drop(phone);

    a.kill().await;
    // While n1's lease runs out: a clear 503; then n3 takes the table over.
    let (status, reply) = until_served(
        &c,
        "POST",
        &votes.replace(&b.keys.join, &c.keys.join),
        &ballot,
    )
    .await?;
    assert_eq!(
        (status, &reply["used"]),
        (200, &json!(2)),
        "counted once before, once now: {reply}"
    );
    let (status, listed) = until_served(&c, "GET", &steps, &Value::Null).await?;
    assert_eq!(status, 200, "{listed}");
    let texts = listed.to_string();
    assert_eq!(texts.matches("Wijkbudget aanvragen").count(), 1, "{listed}");
    assert_eq!(texts.matches("Bankjes plaatsen").count(), 1, "{listed}");
    let (status, mine) = until_served(
        &c,
        "GET",
        &format!("{EVENT}/zaal/plus-ones?key={}&token={anna}", c.keys.join),
        &Value::Null,
    )
    .await?;
    assert_eq!((status, &mine["mine"]), (200, &json!(["ins-1"])), "{mine}");
    let (_, summary) = c.get(&format!("{EVENT}/summary")).await?;
    assert!(summary.contains("Bankjes plaatsen"), "{summary}");
    // The plus-one is in the lecture board's totals, once.
    let lecture = Client::connect(&c, "zaal").await?;
    lecture.synced().await?;
    let totals = werktafel_shared::lecture::read_lecture(&lecture.doc);
    let insight = totals.items.iter().find(|i| i.id == "ins-1");
    assert_eq!(insight.map(|i| i.plus_ones), Some(1), "{totals:?}");
    Ok(())
}

#[tokio::test]
async fn the_forwarded_api_wants_the_cluster_secret_and_is_never_forwarded_twice()
-> anyhow::Result<()> {
    let db = TestDb::create()?;
    let dir = tempfile::tempdir()?;
    let a = node(&db, dir.path(), "127.0.0.1", "n1").await?;
    let b = node(&db, dir.path(), "127.0.0.2", "n2").await?;
    let writer = Client::connect(&a, "a").await?;
    writer.synced().await?;
    let request = |addr: &str, secret: &str, path: &str| {
        let body = r#"{"tables":["a"],"locked":true}"#;
        format!(
            "POST /internal/http{EVENT}/{path} HTTP/1.1\r\nHost: {addr}\r\n\
             x-werktafel-role: facilitator\r\n{secret}Content-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
    };
    for (name, secret) in [
        ("no secret", String::new()),
        (
            "the wrong secret",
            "x-werktafel-cluster-secret: een-ander-geheim-1234567\r\n".into(),
        ),
    ] {
        let (status, _, _) = exchange(&b.addr, &request(&b.addr, &secret, "control")).await?;
        assert_eq!(status, 403, "{name}");
    }
    let right = format!("x-werktafel-cluster-secret: {SECRET}\r\n");
    // n2 does not own table a: a forwarded request is not forwarded again.
    let (status, _, body) = exchange(&b.addr, &request(&b.addr, &right, "control")).await?;
    assert_eq!(status, 503, "{}", String::from_utf8_lossy(&body));
    assert!(!werktafel_shared::control::read_control(&writer.doc).locked);
    // Only writes to rooms are taken from other nodes.
    let (status, _, _) = exchange(&b.addr, &request(&b.addr, &right, "keys/rotate")).await?;
    assert_eq!(status, 404);
    // The owner takes it.
    let (status, _, body) = exchange(&a.addr, &request(&a.addr, &right, "control")).await?;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));

    // One node alone has no such endpoint.
    let solo = Server::start().await?;
    let (status, _, _) = exchange(&solo.addr, &request(&solo.addr, &right, "control")).await?;
    assert_eq!(status, 404);
    Ok(())
}

#[tokio::test]
async fn marks_and_the_start_view_on_a_non_owner_land_on_the_owner() -> anyhow::Result<()> {
    use werktafel_shared::market::{TipDraft, TipKind, insert_tip, read_stand};
    let db = TestDb::create()?;
    let dir = tempfile::tempdir()?;
    let a = node(&db, dir.path(), "127.0.0.1", "n1").await?;
    let b = node(&db, dir.path(), "127.0.0.2", "n2").await?;
    let c = node(&db, dir.path(), "127.0.0.3", "n3").await?;
    // n1 serves stand 6 (its visitor wrote a tip) and the event's settings.
    let visitor = Client::connect(&a, "markt-ot6").await?;
    visitor.synced().await?;
    let draft = TipDraft {
        id: "tip-1".into(),
        kind: TipKind::Tip,
        text: "Kijk naar de omgevingswet".into(),
        author: "Cees".into(),
        author_id: "cees".into(),
        now_ms: 1_000,
    };
    visitor.edit(|txn| insert_tip(txn, &draft));
    visitor.roundtrip().await?;
    let view = format!("{EVENT}/start-view");
    let (status, reply) = send(&a, "POST", &view, &json!({ "view": "werktafels" })).await?;
    assert_eq!(status, 200, "{reply}");

    // Marked twice by one identity on two other nodes: one mark.
    let anna = token(&b, "Anna").await?;
    let body = json!({ "token": anna, "tipId": "tip-1", "useful": true });
    for node in [&b, &c] {
        let path = format!("{EVENT}/stands/markt-ot6/useful?key={}", node.keys.join);
        let (status, reply) = send(node, "POST", &path, &body).await?;
        assert_eq!(status, 200, "{reply}");
    }
    let team = werktafel_shared::Event::builtin()
        .team(6)
        .cloned()
        .expect("team 6");
    visitor
        .wait_for("Anna's mark", |doc| {
            read_stand(doc, &team).tips.first().map(|t| t.useful) == Some(1)
        })
        .await?;
    let (status, reply) = send(&c, "POST", &view, &json!({ "view": "markt" })).await?;
    assert_eq!(status, 200, "{reply}");
    let (_, event) = send(&b, "GET", EVENT, &Value::Null).await?;
    assert_eq!(event["startView"], "markt", "{event}");
    let (_, market) = send(&b, "GET", &format!("{EVENT}/market"), &Value::Null).await?;
    assert!(market.to_string().contains("omgevingswet"), "{market}");
    assert_eq!(b.metric(crate::cluster::OWNED).await?, 0, "n2 took nothing");
    assert_eq!(c.metric(crate::cluster::OWNED).await?, 0, "n3 took nothing");

    // A body past the forwarding limit is refused before it goes anywhere.
    let path = format!("{EVENT}/stands/markt-ot6/useful?key={}", b.keys.join);
    let huge = json!({ "token": "x".repeat(300 * 1024), "tipId": "tip-1", "useful": true });
    let (status, _) = send(&b, "POST", &path, &huge).await?;
    assert_eq!(status, 413);
    Ok(())
}

#[tokio::test]
async fn a_write_for_an_unreachable_owner_gets_503_and_goes_through_once_it_is_back()
-> anyhow::Result<()> {
    let db = TestDb::create()?;
    let dir = tempfile::tempdir()?;
    // n1 is reached by the other nodes only through a proxy the test cuts;
    // its heartbeat goes to PostgreSQL directly, so it keeps its tables.
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let proxy = werktafel_tests::proxy::Proxy::start(format!("127.0.0.1:{port}").parse()?).await?;
    let advertise = proxy.addr.to_string();
    let args = [
        "--store",
        &db.url,
        "--node-id",
        "n1",
        "--cluster-secret",
        SECRET,
        "--advertise",
        &advertise,
    ];
    let a = Server::start_at(&format!("127.0.0.1:{port}"), dir.path(), &args).await?;
    let b = node(&db, dir.path(), "127.0.0.2", "n2").await?;
    let writer = Client::connect(&a, "a").await?;
    writer.synced().await?;

    proxy.cut();
    let control = format!("{EVENT}/control");
    let lock = json!({ "tables": ["a"], "locked": true });
    let path = werktafel_tests::server::with_key(&control, &b.keys.facilitate);
    let body = lock.to_string();
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len(),
        addr = b.addr,
    );
    let (status, head, reply) = exchange(&b.addr, &request).await?;
    let reply: Value = serde_json::from_slice(&reply)?;
    assert_eq!(status, 503, "{reply}");
    assert_eq!(reply["code"], "try-again", "{reply}");
    assert!(
        head.to_ascii_lowercase().contains("retry-after: 1"),
        "{head}"
    );
    assert!(!werktafel_shared::control::read_control(&writer.doc).locked);
    assert_eq!(
        b.metric(crate::cluster::OWNED).await?,
        0,
        "n1 still owns it"
    );

    proxy.restore();
    let (status, reply) = send(&b, "POST", &control, &lock).await?;
    assert_eq!(status, 200, "{reply}");
    writer
        .wait_for("the lock, once n1 is reachable", |doc| {
            werktafel_shared::control::read_control(doc).locked
        })
        .await?;
    assert!(
        b.metric("werktafel_cluster_http_forward_failures_total")
            .await?
            >= 1
    );
    Ok(())
}
