//! The lecture board (`zaal`): participants post insights into the shared document; a +1
//! is one per signed identity, counted by the server; only the facilitator pins; nobody
//! forges totals or pins through the document; pinned insights reach the plenary live.

use serde_json::{Value, json};
use werktafel_shared::control;
use werktafel_shared::lecture::{self, InsightDraft, InsightKind, MAX_PINS};
use werktafel_tests::{Client, Server};
use yrs::{Map, WriteTxn};

use crate::summary::Plenary;

const EVENT: &str = "/api/events/atelierdag-2022";

/// A signed identity's token for `name`.
async fn token(server: &Server, name: &str) -> anyhow::Result<String> {
    let path = format!("{EVENT}/identity?key={}", server.keys.join);
    let (status, reply) = server.post(&path, &json!({ "name": name })).await?;
    anyhow::ensure!(status == 200, "identity answered {status}: {reply}");
    let v: Value = serde_json::from_str(&reply)?;
    Ok(v["token"].as_str().unwrap_or_default().to_string())
}

async fn plus_one(
    server: &Server,
    key: &str,
    token: &str,
    id: &str,
    delta: i32,
) -> anyhow::Result<(u16, Value)> {
    let path = format!("{EVENT}/zaal/plus-ones?key={key}");
    let body = json!({ "token": token, "insightId": id, "delta": delta });
    let (status, reply) = server.post(&path, &body).await?;
    Ok((status, serde_json::from_str(&reply).unwrap_or(Value::Null)))
}

async fn pin(server: &Server, key: &str, id: &str, pinned: bool) -> anyhow::Result<(u16, Value)> {
    let path = format!("{EVENT}/zaal/pins?key={key}");
    let (status, reply) = server
        .post(&path, &json!({ "insightId": id, "pinned": pinned }))
        .await?;
    Ok((status, serde_json::from_str(&reply).unwrap_or(Value::Null)))
}

/// A participant on the board who posts `ids` as insights.
async fn post(server: &Server, ids: &[&str]) -> anyhow::Result<Client> {
    let texts: Vec<(&str, String)> = ids
        .iter()
        .map(|id| (*id, format!("Inzicht {id}: fietsen is openbare ruimte")))
        .collect();
    let texts: Vec<(&str, &str)> = texts.iter().map(|(id, t)| (*id, t.as_str())).collect();
    post_insights(server, &texts).await
}

/// A participant on the board who posts `(id, text)` insights (a text ending in `?` as a
/// question), connected until dropped.
pub(crate) async fn post_insights(
    server: &Server,
    items: &[(&str, &str)],
) -> anyhow::Result<Client> {
    let phone = Client::connect(server, "zaal").await?;
    phone.synced().await?;
    phone.edit(|txn| {
        for (id, text) in items {
            lecture::insert_insight(
                txn,
                &InsightDraft {
                    id: (*id).into(),
                    text: (*text).into(),
                    kind: if text.ends_with('?') {
                        InsightKind::Vraag
                    } else {
                        InsightKind::Inzicht
                    },
                    author: "Anna".into(),
                    author_id: "dev-anna".into(),
                    now_ms: 1,
                },
            );
        }
    });
    phone.roundtrip().await?;
    Ok(phone)
}

#[tokio::test]
async fn a_plus_one_counts_once_per_identity() -> anyhow::Result<()> {
    let server = Server::start().await?;
    let phone = post(&server, &["ins-1"]).await?;
    let (anna, bo) = (token(&server, "Anna").await?, token(&server, "Bo").await?);
    let join = server.keys.join.clone();

    let (status, mine) = plus_one(&server, &join, &anna, "ins-1", 1).await?;
    assert_eq!((status, &mine["mine"]), (200, &json!(["ins-1"])));
    let (status, again) = plus_one(&server, &join, &anna, "ins-1", 1).await?;
    assert_eq!(
        (status, again["code"].as_str()),
        (409, Some("already")),
        "{again}"
    );
    assert_eq!(plus_one(&server, &join, &bo, "ins-1", 1).await?.0, 200);
    phone
        .wait_for("two +1s", |doc| {
            control::read_vote_totals(doc).get("ins-1") == Some(&2)
        })
        .await?;

    // Taken back once, not twice; other refusals say why.
    assert_eq!(plus_one(&server, &join, &bo, "ins-1", -1).await?.0, 200);
    let (status, reply) = plus_one(&server, &join, &bo, "ins-1", -1).await?;
    assert_eq!(
        (status, reply["code"].as_str()),
        (409, Some("nothing-to-take-back"))
    );
    assert_eq!(plus_one(&server, &join, &bo, "nope", 1).await?.0, 404);
    assert_eq!(plus_one(&server, &join, &bo, "ins-1", 2).await?.0, 400);
    assert_eq!(plus_one(&server, &join, "forged", "ins-1", 1).await?.0, 403);
    assert_eq!(
        plus_one(&server, &server.keys.view, &bo, "ins-1", 1)
            .await?
            .0,
        403
    );
    phone
        .wait_for("one +1 left", |doc| {
            control::read_vote_totals(doc).get("ins-1") == Some(&1)
        })
        .await?;
    let (status, reply) = server
        .get(&format!("{EVENT}/zaal/plus-ones?key={join}&token={anna}"))
        .await?;
    assert_eq!(status, 200);
    assert!(reply.contains("ins-1"), "{reply}");
    Ok(())
}

#[tokio::test]
async fn only_the_facilitator_pins_and_the_plenary_sees_the_pin_live() -> anyhow::Result<()> {
    let server = Server::start().await?;
    let live = format!("{EVENT}/summary/live?key={}", server.keys.view);
    let mut plenary = Plenary::open(&server.addr, &live).await?;
    let ids: Vec<String> = (0..=MAX_PINS).map(|i| format!("ins-{i}")).collect();
    let id_refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let phone = post(&server, &id_refs).await?;

    for key in [&server.keys.join, &server.keys.view] {
        assert_eq!(pin(&server, key, "ins-0", true).await?.0, 403);
    }
    let (status, reply) = pin(&server, &server.keys.facilitate, "ins-0", true).await?;
    assert_eq!((status, &reply["pins"]), (200, &json!(["ins-0"])));
    plenary
        .until("the pinned insight", |s| {
            s["lecture"]["pinned"][0]["id"] == "ins-0"
        })
        .await?;
    assert!(
        plenary.summary["lecture"]["pinned"][0]["text"]
            .as_str()
            .is_some_and(|t| t.starts_with("Inzicht ins-0")),
        "{}",
        plenary.summary["lecture"]
    );
    phone
        .wait_for("the pin in the document", |doc| {
            lecture::read_lecture(doc)
                .items
                .iter()
                .any(|i| i.id == "ins-0" && i.pinned == Some(0))
        })
        .await?;

    // A few, not all; an unknown insight is not pinned.
    for id in &ids[1..MAX_PINS] {
        assert_eq!(
            pin(&server, &server.keys.facilitate, id, true).await?.0,
            200
        );
    }
    let (status, reply) = pin(&server, &server.keys.facilitate, &ids[MAX_PINS], true).await?;
    assert_eq!(
        (status, reply["code"].as_str()),
        (409, Some("too-many-pins")),
        "{reply}"
    );
    assert_eq!(
        pin(&server, &server.keys.facilitate, "nope", true).await?.0,
        404
    );
    let (status, reply) = pin(&server, &server.keys.facilitate, "ins-0", false).await?;
    assert_eq!(status, 200);
    assert_eq!(reply["pins"].as_array().map(Vec::len), Some(MAX_PINS - 1));
    Ok(())
}

#[tokio::test]
async fn participants_cannot_forge_plus_ones_or_pins_in_the_board() -> anyhow::Result<()> {
    let server = Server::start().await?;
    post(&server, &["ins-1"]).await?;
    let cheat = Client::connect(&server, "zaal").await?;
    cheat.synced().await?;
    cheat.edit(|txn| {
        txn.get_or_insert_map(control::VOTES)
            .insert(txn, "ins-1", 99.0);
    });
    assert_eq!(cheat.closed().await?.code, Some(1008));
    let cheat = Client::connect(&server, "zaal").await?;
    cheat.synced().await?;
    cheat.edit(|txn| {
        let pins = yrs::Any::Array(vec![yrs::Any::from("ins-1")].into());
        txn.get_or_insert_map(control::CONTROL)
            .insert(txn, lecture::PINS, pins);
    });
    assert_eq!(cheat.closed().await?.code, Some(1008));

    let fresh = Client::connect(&server, "zaal").await?;
    fresh.synced().await?;
    let items = lecture::read_lecture(&fresh.doc).items;
    assert_eq!(items.len(), 1, "the insight itself stays");
    assert_eq!((items[0].plus_ones, items[0].pinned), (0, None));
    Ok(())
}

/// A +1 answered with 200 is in the summary read right after it, while a
/// plenary is watching the live feed (whose recomputation waits a moment for
/// the rest of a burst: a read in that moment must not get the summary from
/// before the +1).
#[tokio::test]
async fn a_summary_read_after_a_plus_one_counts_it_while_the_plenary_watches() -> anyhow::Result<()>
{
    let server = Server::start().await?;
    let live = format!("{EVENT}/summary/live?key={}", server.keys.view);
    let mut plenary = Plenary::open(&server.addr, &live).await?;
    let _phone = post(&server, &["ins-1"]).await?;
    plenary
        .until("the insight", |s| s["lecture"]["top"][0]["id"] == "ins-1")
        .await?;
    let join = server.keys.join.clone();
    let summary_path = format!("{EVENT}/summary?key={}", server.keys.view);
    for (round, name) in ["Anna", "Bo", "Cas", "Dirk", "Eva"].iter().enumerate() {
        let voter = token(&server, name).await?;
        assert_eq!(plus_one(&server, &join, &voter, "ins-1", 1).await?.0, 200);
        let (status, body) = server.get(&summary_path).await?;
        assert_eq!(status, 200, "{body}");
        let summary: Value = serde_json::from_str(&body)?;
        assert_eq!(
            summary["lecture"]["top"][0]["plusOnes"],
            json!(round + 1),
            "the summary read right after +1 number {}: {}",
            round + 1,
            summary["lecture"]
        );
    }
    Ok(())
}
