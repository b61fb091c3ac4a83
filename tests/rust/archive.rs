//! The JSON archive carries the whole day (version 2): a stand, a pinned lecture insight
//! with its +1, a next step and a table note, exported from one data directory, imported
//! into a fresh one and served again; an archive of version 1 still imports.

use serde_json::{Value, json};
use werktafel_shared::market::{TipDraft, TipKind, insert_tip};
use werktafel_shared::schema::Lane;
use werktafel_tests::{Client, Server};
use yrs::{Map, TextPrelim, WriteTxn};

use crate::notes;
use crate::summary::Plenary;

const EVENT: &str = "/api/events/atelierdag-2022";

fn cli_ok(args: &[&str]) -> anyhow::Result<Vec<u8>> {
    let out = Server::cli(args, &[("SOURCE_DATE_EPOCH", "1654782300")])?;
    anyhow::ensure!(
        out.status.success(),
        "werktafel {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(out.stdout)
}

async fn post_ok(server: &Server, path: &str, body: Value) -> anyhow::Result<Value> {
    let (status, reply) = server.post(path, &body).await?;
    anyhow::ensure!(
        (200..300).contains(&status),
        "{path} answered {status}: {reply}"
    );
    Ok(serde_json::from_str(&reply).unwrap_or(Value::Null))
}

async fn token(server: &Server, name: &str) -> anyhow::Result<String> {
    let path = format!("{EVENT}/identity?key={}", server.keys.join);
    let reply = post_ok(server, &path, json!({ "name": name })).await?;
    Ok(reply["token"].as_str().unwrap_or_default().to_string())
}

/// Fills the day: OT 2's stand (texts and a tip), a lecture insight with a +1 and a pin, a
/// next step from that insight, and a note at table a.
async fn fill_the_day(server: &Server) -> anyhow::Result<()> {
    let stand = Client::connect(server, "markt-ot2").await?;
    stand.synced().await?;
    stand.edit(|txn| {
        let texts = txn.get_or_insert_map("stand");
        texts.insert(txn, "status", TextPrelim::new("Halverwege de pilots"));
        texts.insert(txn, "ambitions", TextPrelim::new("Elke wijk een plein"));
        insert_tip(
            txn,
            &TipDraft {
                id: "tipArchief01".into(),
                kind: TipKind::Tip,
                text: "Begin bij de bewoners".into(),
                author: "Bo".into(),
                author_id: "dev-bo".into(),
                now_ms: 1,
            },
        );
    });
    stand.roundtrip().await?;

    let phone = crate::lecture::post_insights(
        server,
        &[("insArchief1", "Ruimte voor de fiets is schaars")],
    )
    .await?;
    phone.roundtrip().await?;
    let anna = token(server, "Anna").await?;
    let path = format!("{EVENT}/zaal/plus-ones?key={}", server.keys.join);
    post_ok(
        server,
        &path,
        json!({ "token": anna, "insightId": "insArchief1", "delta": 1 }),
    )
    .await?;
    let path = format!("{EVENT}/zaal/pins?key={}", server.keys.facilitate);
    post_ok(
        server,
        &path,
        json!({ "insightId": "insArchief1", "pinned": true }),
    )
    .await?;
    let path = format!("{EVENT}/next-steps?key={}", server.keys.facilitate);
    post_ok(
        server,
        &path,
        json!({
            "text": "Zomertour langs de fietsstraten",
            "owner": "OT 2",
            "source": { "kind": "lecture", "insight": "insArchief1" },
            "followUp": "zomertour",
        }),
    )
    .await?;

    let table = Client::connect(server, "a").await?;
    table.synced().await?;
    notes::add(&table, "noteArchief1", "Groen in de wijk", Lane::Goed);
    table.roundtrip().await?;
    Ok(())
}

/// What the day view and the werkboek of a restored server show.
async fn assert_the_day_is_back(server: &Server) -> anyhow::Result<()> {
    let (status, body) = server.get(&format!("{EVENT}/summary")).await?;
    anyhow::ensure!(status == 200, "summary answered {status}: {body}");
    let summary: Value = serde_json::from_str(&body)?;
    let ot2 = summary["market"]
        .as_array()
        .and_then(|stands| stands.iter().find(|s| s["team"] == 2))
        .cloned()
        .unwrap_or_default();
    assert_eq!(ot2["topTips"][0]["text"], "Begin bij de bewoners", "{body}");
    let pinned = &summary["lecture"]["pinned"][0];
    assert_eq!(pinned["text"], "Ruimte voor de fiets is schaars", "{body}");
    assert_eq!(pinned["plusOnes"], 1, "{body}");
    let step = &summary["closingSteps"][0];
    assert_eq!(step["text"], "Zomertour langs de fietsstraten", "{body}");
    assert_eq!(step["followUp"], "zomertour");
    assert_eq!(
        step["sourceLabel"],
        "Lezing: Ruimte voor de fiets is schaars"
    );
    assert_eq!(summary["totals"]["notes"], 1, "{body}");

    let path = format!("{EVENT}/export.md?key={}", server.keys.facilitate);
    let (status, _, md) = server.get_bytes(&path).await?;
    anyhow::ensure!(status == 200, "export.md answered {status}");
    let md = String::from_utf8(md)?;
    for text in [
        "Halverwege de pilots",
        "Elke wijk een plein",
        "Begin bij de bewoners",
        "Ruimte voor de fiets is schaars",
        "Zomertour langs de fietsstraten",
        "Groen in de wijk",
    ] {
        assert!(md.contains(text), "the werkboek lacks {text:?}");
    }
    Ok(())
}

#[tokio::test]
async fn the_archive_moves_the_whole_day_to_a_fresh_data_directory() -> anyhow::Result<()> {
    let mut server = Server::start().await?;
    fill_the_day(&server).await?;

    // Over HTTP too, the archive holds the day's documents.
    let path = format!("{EVENT}/export.json?key={}", server.keys.facilitate);
    let (status, _, live) = server.get_bytes(&path).await?;
    anyhow::ensure!(status == 200, "export.json answered {status}");
    let live: Value = serde_json::from_slice(&live)?;
    assert_eq!(live["version"], 2);
    let rooms: Vec<&str> = live["documents"]
        .as_array()
        .map(|d| d.iter().filter_map(|d| d["room"].as_str()).collect())
        .unwrap_or_default();
    for room in ["closing/next-steps", "zaal", "zaal/ballots", "markt-ot2"] {
        assert!(rooms.contains(&room), "{room} missing from {rooms:?}");
    }

    server.terminate().await?;
    let dir = server.data_dir.to_str().unwrap_or_default().to_string();
    let first = cli_ok(&["export", "--data-dir", &dir, "--format", "json"])?;

    let restored = tempfile::tempdir()?;
    let archive = restored.path().join("archief.json");
    std::fs::write(&archive, &first)?;
    let target = restored.path().join("data");
    let target_arg = target.to_str().unwrap_or_default();
    let said = cli_ok(&[
        "import",
        archive.to_str().unwrap_or_default(),
        "--data-dir",
        target_arg,
    ])?;
    assert!(
        String::from_utf8_lossy(&said).contains("other documents of the day"),
        "{}",
        String::from_utf8_lossy(&said)
    );
    let second = cli_ok(&["export", "--data-dir", target_arg, "--format", "json"])?;
    assert!(
        first == second,
        "export → import → export changed the archive"
    );

    let restored_server = Server::start_in(&target, &[]).await?;
    assert_the_day_is_back(&restored_server).await?;

    // The ballots came along: a newcomer's +1 adds to the earlier one, not replaces it.
    let bo = token(&restored_server, "Bo").await?;
    let path = format!("{EVENT}/zaal/plus-ones?key={}", restored_server.keys.join);
    post_ok(
        &restored_server,
        &path,
        json!({ "token": bo, "insightId": "insArchief1", "delta": 1 }),
    )
    .await?;
    let archived: Value = serde_json::from_slice(&first)?;
    assert!(
        archived["documents"]
            .as_array()
            .is_some_and(|d| d.iter().any(|d| d["room"] == "zaal/ballots")),
        "the ballots are archived"
    );
    let live_path = format!("{EVENT}/summary/live?key={}", restored_server.keys.view);
    let mut plenary = Plenary::open(&restored_server.addr, &live_path).await?;
    plenary
        .until("two +1s", |s| s["lecture"]["pinned"][0]["plusOnes"] == 2)
        .await?;

    // A version 1 archive (tables only) still imports.
    let mut v1: Value = serde_json::from_slice(&first)?;
    v1["version"] = 1.into();
    v1.as_object_mut().map(|o| o.remove("documents"));
    let old = restored.path().join("v1.json");
    std::fs::write(&old, serde_json::to_vec(&v1)?)?;
    let old_target = restored.path().join("from-v1");
    let old_arg = old_target.to_str().unwrap_or_default();
    cli_ok(&[
        "import",
        old.to_str().unwrap_or_default(),
        "--data-dir",
        old_arg,
    ])?;
    let md = cli_ok(&["export", "--data-dir", old_arg, "--format", "md"])?;
    let md = String::from_utf8(md)?;
    assert!(md.contains("Groen in de wijk"), "the table's note");
    assert!(
        !md.contains("Zomertour langs de fietsstraten"),
        "v1 holds no steps"
    );
    Ok(())
}

#[tokio::test]
async fn an_archived_document_that_fails_the_screen_imports_nothing() -> anyhow::Result<()> {
    let mut server = Server::start().await?;
    fill_the_day(&server).await?;
    server.terminate().await?;
    let dir = server.data_dir.to_str().unwrap_or_default().to_string();
    let good = cli_ok(&["export", "--data-dir", &dir, "--format", "json"])?;
    let mut archive: Value = serde_json::from_slice(&good)?;

    // The lecture board replaced by a chain of maps nested past the screen's depth.
    let deep = {
        let doc = yrs::Doc::new();
        let mut txn = yrs::Transact::transact_mut(&doc);
        let mut map = txn.get_or_insert_map("insights");
        for _ in 0..100 {
            map = map.insert(&mut txn, "next", yrs::MapPrelim::default());
        }
        yrs::ReadTxn::encode_state_as_update_v1(&txn, &yrs::StateVector::default())
    };
    let documents = archive["documents"].as_array_mut().expect("documents");
    let zaal = documents
        .iter_mut()
        .find(|d| d["room"] == "zaal")
        .expect("the lecture is archived");
    use base64::Engine;
    zaal["state"] = base64::engine::general_purpose::STANDARD
        .encode(deep)
        .into();

    let restored = tempfile::tempdir()?;
    let file = restored.path().join("archief.json");
    std::fs::write(&file, serde_json::to_vec(&archive)?)?;
    let target = restored.path().join("data");
    let out = Server::cli(
        &[
            "import",
            file.to_str().unwrap_or_default(),
            "--data-dir",
            target.to_str().unwrap_or_default(),
        ],
        &[],
    )?;
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("document 'zaal' fails the checks"),
        "{stderr}"
    );
    assert!(stderr.contains("nothing was imported"), "{stderr}");
    // Nothing was written: the same directory then takes the good archive.
    std::fs::write(&file, &good)?;
    cli_ok(&[
        "import",
        file.to_str().unwrap_or_default(),
        "--data-dir",
        target.to_str().unwrap_or_default(),
    ])?;
    Ok(())
}
