//! Running a table, enforced by the server against raw clients that ignore
//! the UI: keys, read-only plenary connections, locked and closed tables,
//! server-only maps, dot voting within a budget and phase, private drafts,
//! and forged identities.

use serde_json::{Value, json};
use werktafel_shared::control::{self, Phase};
use werktafel_shared::schema::{self, Lane};
use werktafel_tests::{Client, Server};
use yrs::{Map, WriteTxn};

use crate::notes;

const EVENT: &str = "/api/events/atelierdag-2022";

fn sync_url(server: &Server, room: &str, query: &str) -> String {
    format!("ws://{}/sync/atelierdag-2022/{room}?{query}", server.addr)
}

/// Steers tables as the facilitator; fails the test on anything but 200.
async fn steer(server: &Server, body: Value) -> anyhow::Result<Value> {
    let (status, reply) = server.post(&format!("{EVENT}/control"), &body).await?;
    anyhow::ensure!(status == 200, "control {body} answered {status}: {reply}");
    Ok(serde_json::from_str(&reply)?)
}

/// A signed identity for `name`: (id, token).
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

async fn vote(
    server: &Server,
    table: &str,
    token: &str,
    note: &str,
    delta: i32,
) -> anyhow::Result<(u16, Value)> {
    let path = format!("{EVENT}/tables/{table}/votes?key={}", server.keys.join);
    let (status, reply) = server
        .post(
            &path,
            &json!({ "token": token, "noteId": note, "delta": delta }),
        )
        .await?;
    Ok((status, serde_json::from_str(&reply).unwrap_or(Value::Null)))
}

#[tokio::test]
async fn requests_without_a_valid_key_get_403() -> anyhow::Result<()> {
    let server = Server::start().await?;
    for path in [
        EVENT.to_string(),
        format!("{EVENT}?key=wrong"),
        format!("{EVENT}/summary"),
        format!("{EVENT}/export.md"),
    ] {
        let (status, body) = server.get_raw(&path).await?;
        assert_eq!(status, 403, "{path}: {body}");
    }
    let refused = Client::connect_url(&sync_url(&server, "a", "key=wrong"))
        .await
        .err()
        .expect("refused");
    assert!(format!("{refused:#}").contains("403"), "{refused:#}");
    let refused = Client::connect_url(&format!("ws://{}/sync/atelierdag-2022/a", server.addr))
        .await
        .err()
        .expect("refused");
    assert!(format!("{refused:#}").contains("403"), "{refused:#}");
    // Participants read the event but do not export; the plenary exports.
    let (status, _) = server
        .get(&format!("{EVENT}/export.md?key={}", server.keys.join))
        .await?;
    assert_eq!(status, 403);
    let (status, _) = server
        .get(&format!("{EVENT}/export.md?key={}", server.keys.view))
        .await?;
    assert_eq!(status, 200);
    // No key appears in the server's log.
    let log = server.log_text();
    for key in [
        &server.keys.join,
        &server.keys.view,
        &server.keys.facilitate,
    ] {
        assert!(!log.contains(key.as_str()), "a key was logged");
    }
    Ok(())
}

#[tokio::test]
async fn a_plenary_connection_cannot_write() -> anyhow::Result<()> {
    let server = Server::start().await?;
    let plenary = Client::connect_url(&sync_url(
        &server,
        "a",
        &format!("key={}", server.keys.view),
    ))
    .await?;
    plenary.synced().await?;
    notes::add(&plenary, "sneaky", "Vanaf het scherm", Lane::Goed);
    let closed = plenary.closed().await?;
    assert_eq!(closed.code, Some(1008), "{closed:?}");
    let fresh = Client::connect(&server, "a").await?;
    fresh.synced().await?;
    assert!(!notes::has_note(&fresh, "sneaky"));
    Ok(())
}

#[tokio::test]
async fn locked_and_closed_tables_refuse_writes_and_change_nothing() -> anyhow::Result<()> {
    let server = Server::start().await?;
    steer(&server, json!({ "tables": ["b"], "locked": true })).await?;
    let writer = Client::connect(&server, "b").await?;
    writer.synced().await?;
    assert!(
        control::read_control(&writer.doc).locked,
        "the lock is in the document"
    );
    notes::add(&writer, "late", "Te laat", Lane::Goed);
    writer.roundtrip().await?;
    // Held back, not applied: nobody else sees it, and the writer stays.
    let fresh = Client::connect(&server, "b").await?;
    fresh.synced().await?;
    assert!(!notes::has_note(&fresh, "late"));
    assert!(
        !writer.is_closed(),
        "a write in the moment of locking does not cut the writer off"
    );

    steer(
        &server,
        json!({ "tables": "all", "locked": false, "phase": "gesloten" }),
    )
    .await?;
    let closer = Client::connect(&server, "b").await?;
    closer.synced().await?;
    assert_eq!(control::read_control(&closer.doc).phase, Phase::Gesloten);
    notes::add(&closer, "closed", "Na sluiting", Lane::Goed);
    closer.roundtrip().await?;
    let fresh = Client::connect(&server, "b").await?;
    fresh.synced().await?;
    assert!(!notes::has_note(&fresh, "late") && !notes::has_note(&fresh, "closed"));
    let (_, metrics) = server.get("/metrics").await?;
    assert!(
        metrics.contains("werktafel_writes_held_back_total 2"),
        "{metrics}"
    );

    // Reopened, the server asks everyone for what it lacks: the held-back
    // edits arrive, as the writers made them.
    steer(
        &server,
        json!({ "tables": ["b"], "phase": "vervolgstappen" }),
    )
    .await?;
    fresh
        .wait_for("the held-back notes after reopening", |_| {
            notes::has_note(&fresh, "late") && notes::has_note(&fresh, "closed")
        })
        .await?;
    Ok(())
}

#[tokio::test]
async fn clients_cannot_write_the_server_only_maps() -> anyhow::Result<()> {
    let server = Server::start().await?;
    let cheat = Client::connect(&server, "c").await?;
    cheat.synced().await?;
    cheat.edit(|txn| {
        let control = txn.get_or_insert_map(control::CONTROL);
        control.insert(txn, "phase", "gesloten");
    });
    assert_eq!(cheat.closed().await?.code, Some(1008));
    let cheat = Client::connect(&server, "c").await?;
    cheat.synced().await?;
    cheat.edit(|txn| {
        let votes = txn.get_or_insert_map(control::VOTES);
        votes.insert(txn, "n1", 99.0);
    });
    assert_eq!(cheat.closed().await?.code, Some(1008));

    let fresh = Client::connect(&server, "c").await?;
    fresh.synced().await?;
    assert_eq!(control::read_control(&fresh.doc).phase, Phase::Schrijven);
    assert!(control::read_vote_totals(&fresh.doc).is_empty());
    assert_eq!(
        schema::read_meta(&fresh.doc).map(|m| m.title).as_deref(),
        Some("Rol van de gebiedsregisseur")
    );
    Ok(())
}

#[tokio::test]
async fn votes_keep_to_the_budget_the_phase_and_the_voter() -> anyhow::Result<()> {
    let server = Server::start().await?;
    let writer = Client::connect(&server, "d").await?;
    writer.synced().await?;
    notes::add(
        &writer,
        "n1",
        "Business case samen opstellen",
        Lane::Doorpakken,
    );
    notes::add(&writer, "n2", "Baathouders in beeld", Lane::Goed);
    let witness = Client::connect(&server, "d").await?;
    witness
        .wait_for("both notes", |d| schema::note_count(d) == 2)
        .await?;
    let (_, anna) = identity(&server, "Anna").await?;
    let (_, bram) = identity(&server, "Bram").await?;

    let (status, reply) = vote(&server, "d", &anna, "n1", 1).await?;
    assert_eq!(status, 409, "no voting before stemmen: {reply}");

    steer(
        &server,
        json!({ "tables": ["d"], "phase": "stemmen", "voteBudget": 2 }),
    )
    .await?;
    assert_eq!(vote(&server, "d", &anna, "n1", 1).await?.0, 200);
    let (status, mine) = vote(&server, "d", &anna, "n1", 1).await?;
    assert_eq!((status, mine["used"].as_u64()), (200, Some(2)), "{mine}");
    let (status, reply) = vote(&server, "d", &anna, "n2", 1).await?;
    assert_eq!(status, 409, "a third vote on a budget of two: {reply}");
    assert_eq!(reply["code"], "budget", "{reply}");
    assert_eq!(
        vote(&server, "d", &anna, "n2", -1).await?.0,
        409,
        "nothing to take back"
    );
    assert_eq!(vote(&server, "d", &anna, "n1", -1).await?.0, 200);
    assert_eq!(vote(&server, "d", &bram, "n1", 1).await?.0, 200);
    assert_eq!(vote(&server, "d", &anna, "ghost", 1).await?.0, 404);

    // Forged tokens and the plenary key do not vote.
    let forged = format!("{}x", &anna[..anna.len() - 1]);
    assert_eq!(vote(&server, "d", &forged, "n1", 1).await?.0, 403);
    let path = format!("{EVENT}/tables/d/votes?key={}", server.keys.view);
    let (status, _) = server
        .post(&path, &json!({ "token": bram, "noteId": "n1", "delta": 1 }))
        .await?;
    assert_eq!(status, 403);

    // Counts stay hidden while voting runs ("after"), then appear.
    assert!(control::read_vote_totals(&witness.doc).is_empty());
    steer(
        &server,
        json!({ "tables": ["d"], "phase": "vervolgstappen" }),
    )
    .await?;
    witness
        .wait_for("published totals", |d| {
            control::read_vote_totals(d).get("n1") == Some(&2)
        })
        .await?;
    let n1 = witness
        .notes()
        .into_iter()
        .find(|n| n.id == "n1")
        .expect("n1");
    assert_eq!(n1.votes, 2);
    assert_eq!(
        vote(&server, "d", &anna, "n2", 1).await?.0,
        409,
        "voting closed again"
    );
    Ok(())
}

#[tokio::test]
async fn a_draft_never_reaches_another_participant_until_revealed() -> anyhow::Result<()> {
    let server = Server::start().await?;
    steer(&server, json!({ "tables": ["a"], "privateWriting": true })).await?;
    let (_, anna) = identity(&server, "Anna").await?;
    let (_, bram) = identity(&server, "Bram").await?;
    let key = &server.keys.join;

    let anna_drafts = Client::connect_url(&sync_url(
        &server,
        "a.drafts",
        &format!("key={key}&token={anna}"),
    ))
    .await?;
    anna_drafts.synced().await?;
    notes::add(&anna_drafts, "secret", "Nog geheim idee", Lane::Goed);
    // Anna's second device proves the draft is stored.
    let anna_again = Client::connect_url(&sync_url(
        &server,
        "a.drafts",
        &format!("key={key}&token={anna}"),
    ))
    .await?;
    anna_again
        .wait_for("anna's own draft", |_| {
            notes::has_note(&anna_again, "secret")
        })
        .await?;

    let bram_table = Client::connect(&server, "a").await?;
    let bram_drafts = Client::connect_url(&sync_url(
        &server,
        "a.drafts",
        &format!("key={key}&token={bram}"),
    ))
    .await?;
    bram_table.synced().await?;
    bram_drafts.synced().await?;
    assert!(!notes::has_note(&bram_table, "secret"));
    assert!(
        !notes::has_note(&bram_drafts, "secret"),
        "bram's drafts are his own"
    );

    // A draft room needs a valid token; a forged one is refused before the upgrade.
    let forged = format!("{}x", &anna[..anna.len() - 1]);
    for query in [
        format!("key={key}"),
        format!("key={key}&token={forged}"),
        format!("key={}&token={anna}", server.keys.view),
    ] {
        let err = Client::connect_url(&sync_url(&server, "a.drafts", &query))
            .await
            .err()
            .expect("refused");
        assert!(format!("{err:#}").contains("403"), "{query}: {err:#}");
    }

    let (status, reply) = server.get(&format!("{EVENT}/console")).await?;
    assert_eq!(status, 200, "{reply}");
    let console: Value = serde_json::from_str(&reply)?;
    assert_eq!(console["tables"][0]["drafts"], 1, "{console}");

    steer(&server, json!({ "tables": ["a"], "reveal": true })).await?;
    bram_table
        .wait_for("the revealed note", |_| {
            notes::text_of(&bram_table, "secret").as_deref() == Some("Nog geheim idee")
        })
        .await?;
    anna_drafts
        .wait_for("the drafts emptied", |d| schema::note_count(d) == 0)
        .await?;
    bram_table
        .wait_for("reveal ending private writing", |d| {
            !control::read_control(d).private_writing
        })
        .await?;
    let author = bram_table
        .notes()
        .into_iter()
        .find(|n| n.id == "secret")
        .map(|n| n.author);
    assert_eq!(author.as_deref(), Some("Test"));
    Ok(())
}

#[tokio::test]
async fn identities_need_a_name_and_a_participant_key() -> anyhow::Result<()> {
    let server = Server::start().await?;
    let (status, _) = server
        .post(
            &format!("{EVENT}/identity?key={}", server.keys.join),
            &json!({ "name": "  " }),
        )
        .await?;
    assert_eq!(status, 400);
    let (status, _) = server
        .post(
            &format!("{EVENT}/identity?key={}", server.keys.view),
            &json!({ "name": "Plenair" }),
        )
        .await?;
    assert_eq!(status, 403);
    let (status, _) = server
        .post(
            &format!("{EVENT}/control?key={}", server.keys.join),
            &json!({ "tables": "all", "locked": true }),
        )
        .await?;
    assert_eq!(status, 403, "participants do not steer");
    let (status, body) = server
        .post(
            &format!("{EVENT}/control"),
            &json!({ "tables": "all", "voteBudget": 0 }),
        )
        .await?;
    assert_eq!(status, 400, "{body}");
    let (status, body) = server
        .post(
            &format!("{EVENT}/control"),
            &json!({ "tables": ["z"], "locked": true }),
        )
        .await?;
    assert_eq!(status, 404, "{body}");
    Ok(())
}

#[tokio::test]
async fn the_qr_code_carries_the_participant_link() -> anyhow::Result<()> {
    let server = Server::start().await?;
    let (status, head, svg) = server.get_bytes(&format!("{EVENT}/qr.svg?table=b")).await?;
    assert_eq!(status, 200, "{head}");
    assert!(head.contains("image/svg+xml"));
    let svg = String::from_utf8(svg)?;
    assert!(svg.starts_with("<?xml") || svg.contains("<svg"), "{svg}");
    let (status, _, _) = server
        .get_bytes(&format!("{EVENT}/qr.svg?table=zz"))
        .await?;
    assert_eq!(status, 404);
    Ok(())
}

/// The plenary key is read-only: it must not lead to the participant link
/// (the QR code carries it), while participants and the facilitator hand
/// it on.
#[tokio::test]
async fn the_plenary_key_gets_no_participant_qr_code() -> anyhow::Result<()> {
    let server = Server::start().await?;
    for table in ["", "?table=b"] {
        let path = format!("{EVENT}/qr.svg{table}");
        let sep = if table.is_empty() { '?' } else { '&' };
        let (status, _, body) = server
            .get_bytes(&format!("{path}{sep}key={}", server.keys.view))
            .await?;
        let body = String::from_utf8_lossy(&body);
        assert_eq!(status, 403, "viewer {path}: {body}");
        assert!(!body.contains(&server.keys.join), "{body}");
        for key in [&server.keys.join, &server.keys.facilitate] {
            let (status, head, _) = server.get_bytes(&format!("{path}{sep}key={key}")).await?;
            assert_eq!(status, 200, "{path}: {head}");
        }
    }
    Ok(())
}

/// `POST path` with a JSON body and, if given, a `Cookie` header, exactly as
/// written (no key added): status, head, body.
async fn post_with_cookie(
    server: &Server,
    path: &str,
    body: &Value,
    cookie: Option<&str>,
) -> anyhow::Result<(u16, String, Value)> {
    let body = body.to_string();
    let cookie = cookie
        .map(|c| format!("Cookie: {c}\r\n"))
        .unwrap_or_default();
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n{cookie}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        server.addr,
        body.len()
    );
    let (status, head, reply) = werktafel_tests::server::exchange(&server.addr, &request).await?;
    Ok((
        status,
        head,
        serde_json::from_slice(&reply).unwrap_or(Value::Null),
    ))
}

/// The `name=value` of the identity cookie a response sets, checking its
/// attributes.
fn identity_cookie(head: &str) -> String {
    let line = head
        .lines()
        .find(|l| {
            l.to_ascii_lowercase()
                .starts_with("set-cookie: werktafel_identity=")
        })
        .unwrap_or_else(|| panic!("no identity cookie set:\n{head}"));
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(line.contains(attribute), "{attribute} missing: {line}");
    }
    let value = &line["set-cookie: ".len()..];
    value.split(';').next().unwrap_or_default().to_string()
}

/// Minting identities to multiply one's votes: a device that holds an
/// identity (its cookie, or its token) is renamed, never given a second
/// one, and one address mints at most `--identities-per-address` per window.
#[tokio::test]
async fn a_device_keeps_one_identity_and_minting_is_limited_per_address() -> anyhow::Result<()> {
    let tmp = tempfile::tempdir()?;
    let server = Server::start_in(tmp.path(), &["--identities-per-address", "3"]).await?;
    let path = format!("{EVENT}/identity?key={}", server.keys.join);
    let (status, head, anna) =
        post_with_cookie(&server, &path, &json!({ "name": "Anna" }), None).await?;
    assert_eq!(status, 200, "{head}");
    let cookie = identity_cookie(&head);
    assert_eq!(
        cookie,
        format!(
            "werktafel_identity={}",
            anna["token"].as_str().unwrap_or("?")
        )
    );

    // The same device asking again, by cookie or by token, is renamed.
    let (status, head, renamed) =
        post_with_cookie(&server, &path, &json!({ "name": "Anna B." }), Some(&cookie)).await?;
    assert_eq!(status, 200, "{head}");
    assert_eq!(
        (&renamed["id"], renamed["name"].as_str()),
        (&anna["id"], Some("Anna B."))
    );
    let (_, _, again) = post_with_cookie(
        &server,
        &path,
        &json!({ "name": "Anna", "token": anna["token"] }),
        None,
    )
    .await?;
    assert_eq!(again["id"], anna["id"]);

    // Fresh devices from the same address: three in all, then 429.
    for name in ["Bram", "Carla"] {
        let (status, head, _) =
            post_with_cookie(&server, &path, &json!({ "name": name }), None).await?;
        assert_eq!(status, 200, "{name}: {head}");
    }
    let (status, head, body) =
        post_with_cookie(&server, &path, &json!({ "name": "Sybil" }), None).await?;
    assert_eq!(status, 429, "{head}");
    assert_eq!(body["code"], "identities", "{body}");
    let retry: u64 = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("retry-after: ")
                .map(str::to_string)
        })
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no Retry-After:\n{head}"));
    assert!((1..=600).contains(&retry), "Retry-After {retry}");
    // Renaming is not minting: the first device still may.
    let (status, _, _) =
        post_with_cookie(&server, &path, &json!({ "name": "Anna" }), Some(&cookie)).await?;
    assert_eq!(status, 200);
    Ok(())
}

/// Votes need a signed identity, by cookie or token; the console counts the
/// identities behind them against those connected to the table, so votes
/// from minted identities nobody sits behind stand out.
#[tokio::test]
async fn the_console_counts_voters_against_identities_at_the_table() -> anyhow::Result<()> {
    let server = Server::start().await?;
    let writer = Client::connect(&server, "a").await?;
    writer.synced().await?;
    notes::add(&writer, "n1", "Samen optrekken", Lane::Goed);
    writer.roundtrip().await?;
    steer(
        &server,
        json!({ "tables": ["a"], "phase": "stemmen", "voteBudget": 3 }),
    )
    .await?;
    let path = format!("{EVENT}/identity?key={}", server.keys.join);
    let (_, head, anna) =
        post_with_cookie(&server, &path, &json!({ "name": "Anna" }), None).await?;
    let cookie = identity_cookie(&head);
    let anna_token = anna["token"].as_str().unwrap_or_default();
    let at_table = Client::connect_url(&sync_url(
        &server,
        "a",
        &format!("key={}&token={anna_token}", server.keys.join),
    ))
    .await?;
    at_table.synced().await?;

    // Anna votes with her cookie alone; without cookie or token, nobody does.
    let votes = format!("{EVENT}/tables/a/votes?key={}", server.keys.join);
    let (status, _, mine) = post_with_cookie(
        &server,
        &votes,
        &json!({ "noteId": "n1", "delta": 1 }),
        Some(&cookie),
    )
    .await?;
    assert_eq!((status, mine["used"].as_u64()), (200, Some(1)), "{mine}");
    let (status, _, _) = post_with_cookie(
        &server,
        &votes,
        &json!({ "noteId": "n1", "delta": 1 }),
        None,
    )
    .await?;
    assert_eq!(status, 403);
    // Two minted identities nobody sits behind vote too.
    for name in ["Sybil 1", "Sybil 2"] {
        let (_, token) = identity(&server, name).await?;
        assert_eq!(vote(&server, "a", &token, "n1", 1).await?.0, 200);
    }

    let (status, body) = server.get(&format!("{EVENT}/console")).await?;
    assert_eq!(status, 200, "{body}");
    let console: Value = serde_json::from_str(&body)?;
    let a = &console["tables"][0];
    assert_eq!(a["id"], "a");
    assert_eq!(
        (
            &a["identities"],
            &a["voters"],
            &a["votersPresent"],
            &a["votes"]
        ),
        (&json!(1), &json!(3), &json!(1), &json!(3)),
        "{a}"
    );
    Ok(())
}

/// A leaked participant link or token is revoked by renewing the key from
/// the console: the old key gets 403, identities issued under it are
/// refused, its open connections close with 4403; new ones work, and the
/// new key survives a restart.
#[tokio::test]
async fn renewing_the_participant_key_revokes_old_links_and_identities() -> anyhow::Result<()> {
    let mut server = Server::start().await?;
    let old_key = server.keys.join.clone();
    let (_, old_token) = identity(&server, "Anna").await?;
    let table = Client::connect(&server, "a").await?;
    table.synced().await?;
    let drafts = Client::connect_url(&sync_url(
        &server,
        "a.drafts",
        &format!("key={old_key}&token={old_token}"),
    ))
    .await?;
    drafts.synced().await?;

    let rotate = format!("{EVENT}/keys/rotate");
    for key in [&server.keys.join, &server.keys.view] {
        let (status, body) = server
            .post(&format!("{rotate}?key={key}"), &json!({}))
            .await?;
        assert_eq!(status, 403, "only the facilitator renews: {body}");
    }
    let (status, body) = server.post(&rotate, &json!({})).await?;
    assert_eq!(status, 200, "{body}");
    let reply: Value = serde_json::from_str(&body)?;
    let link = reply["participantLink"].as_str().unwrap_or_default();
    let new_key = link
        .rsplit_once("key=")
        .map(|(_, k)| k.to_string())
        .unwrap_or_default();
    assert!(!new_key.is_empty() && new_key != old_key, "{reply}");

    // What the old key opened is closed; the old key opens nothing more.
    assert_eq!(table.closed().await?.code, Some(4403));
    assert_eq!(drafts.closed().await?.code, Some(4403));
    let (status, _) = server.get_raw(&format!("{EVENT}?key={old_key}")).await?;
    assert_eq!(status, 403);
    let refused = Client::connect_url(&sync_url(&server, "a", &format!("key={old_key}")))
        .await
        .err()
        .expect("the old key is refused");
    assert!(format!("{refused:#}").contains("403"), "{refused:#}");

    // The old identity is refused even with the new key; a new one works.
    let (status, _) = server
        .get_raw(&format!(
            "{EVENT}/tables/a/votes?key={new_key}&token={old_token}"
        ))
        .await?;
    assert_eq!(status, 403, "an identity from before the renewal");
    let refused = Client::connect_url(&sync_url(
        &server,
        "a.drafts",
        &format!("key={new_key}&token={old_token}"),
    ))
    .await
    .err()
    .expect("old identity refused for drafts");
    assert!(format!("{refused:#}").contains("403"), "{refused:#}");
    server.keys.join = new_key.clone();
    let (_, new_token) = identity(&server, "Anna").await?;
    let (status, body) = server
        .get_raw(&format!(
            "{EVENT}/tables/a/votes?key={new_key}&token={new_token}"
        ))
        .await?;
    assert_eq!(status, 200, "{body}");
    let fresh = Client::connect_url(&sync_url(
        &server,
        "a.drafts",
        &format!("key={new_key}&token={new_token}"),
    ))
    .await?;
    fresh.synced().await?;
    drop(fresh);

    // The renewal is stored: after a restart the link printed is the new one.
    server.terminate().await?;
    server.restart().await?;
    assert_eq!(server.keys.join, new_key);
    let (status, body) = server
        .get_raw(&format!(
            "{EVENT}/tables/a/votes?key={new_key}&token={new_token}"
        ))
        .await?;
    assert_eq!(status, 200, "the new identity outlives a restart: {body}");
    Ok(())
}

/// Private drafts cost storage per identity and table: an event holds at
/// most `--max-drafts-documents` of them (a new one beyond is refused with
/// 507, existing ones still open) and each at most `--max-drafts-bytes`
/// (a write beyond closes with 4413 and is not kept).
#[tokio::test]
async fn drafts_documents_and_their_size_are_capped_per_event() -> anyhow::Result<()> {
    let tmp = tempfile::tempdir()?;
    let server = Server::start_in(
        tmp.path(),
        &["--max-drafts-documents", "2", "--max-drafts-bytes", "4096"],
    )
    .await?;
    let key = server.keys.join.clone();
    let drafts = |token: &str, table: &str| {
        let url = sync_url(
            &server,
            &format!("{table}.drafts"),
            &format!("key={key}&token={token}"),
        );
        async move { Client::connect_url(&url).await }
    };
    let (_, anna) = identity(&server, "Anna").await?;
    let (_, bram) = identity(&server, "Bram").await?;
    let (_, carla) = identity(&server, "Carla").await?;
    let anna_a = drafts(&anna, "a").await?;
    anna_a.synced().await?;
    drafts(&bram, "a").await?.synced().await?;
    for (who, token, table) in [("Carla", &carla, "a"), ("Anna", &anna, "b")] {
        let refused = drafts(token, table)
            .await
            .err()
            .unwrap_or_else(|| panic!("a third drafts document ({who} at {table}) was admitted"));
        assert!(format!("{refused:#}").contains("507"), "{refused:#}");
    }
    let again = drafts(&anna, "a").await?;
    again.synced().await?;

    notes::add(&anna_a, "small", "Past nog", Lane::Goed);
    again
        .wait_for("the small draft", |_| notes::has_note(&again, "small"))
        .await?;
    notes::add(&anna_a, "big", &"x".repeat(8 * 1024), Lane::Goed);
    assert_eq!(anna_a.closed().await?.code, Some(4413));
    let fresh = drafts(&anna, "a").await?;
    fresh.synced().await?;
    assert!(notes::has_note(&fresh, "small") && !notes::has_note(&fresh, "big"));
    Ok(())
}
