//! The closing feedback's next steps: only the facilitator writes them, within named
//! limits; the plenary sees them live; no sync connection can reach their document.

use serde_json::{Value, json};
use werktafel_shared::closing::{MAX_STEP_TEXT_CHARS, MAX_STEPS};
use werktafel_tests::{Client, Server};

use crate::summary::Plenary;

const STEPS: &str = "/api/events/atelierdag-2022/next-steps";

/// Sends `method path` with a JSON body and `key`: (status, body as JSON or `Null`).
async fn send(
    server: &Server,
    method: &str,
    path: &str,
    key: &str,
    body: Option<&Value>,
) -> anyhow::Result<(u16, Value)> {
    let body = body.map(Value::to_string).unwrap_or_default();
    let sep = if path.contains('?') { '&' } else { '?' };
    let path = format!("{path}{sep}key={key}");
    werktafel_tests::server::http_json(&server.addr, method, &path, &body).await
}

async fn add(server: &Server, body: Value) -> anyhow::Result<Value> {
    let (status, step) = send(server, "POST", STEPS, &server.keys.facilitate, Some(&body)).await?;
    anyhow::ensure!(status == 201, "adding {body} answered {status}: {step}");
    Ok(step)
}

async fn list(server: &Server) -> anyhow::Result<Vec<Value>> {
    let (status, body) = send(server, "GET", STEPS, &server.keys.view, None).await?;
    anyhow::ensure!(status == 200, "listing answered {status}: {body}");
    Ok(body["steps"].as_array().cloned().unwrap_or_default())
}

#[tokio::test]
async fn only_the_facilitator_writes_next_steps_and_the_plenary_sees_them_live()
-> anyhow::Result<()> {
    let server = Server::start().await?;
    let live_path = format!(
        "/api/events/atelierdag-2022/summary/live?key={}",
        server.keys.view
    );
    let mut plenary = Plenary::open(&server.addr, &live_path).await?;
    assert_eq!(plenary.summary["closingSteps"], json!([]));

    let step = add(
        &server,
        json!({
            "text": "Werksessie over het afwegingskader",
            "owner": "OT 1",
            "due": "september",
            "source": { "kind": "table", "id": "b" },
            "followUp": "werksessie",
        }),
    )
    .await?;
    let id = step["id"].as_str().unwrap_or_default().to_string();
    plenary
        .until("the new step", |s| {
            s["closingSteps"][0]["text"] == "Werksessie over het afwegingskader"
        })
        .await?;
    let shown = &plenary.summary["closingSteps"][0];
    assert_eq!(shown["sourceLabel"], "Tafel B — Afwegingskader");
    assert_eq!(shown["followUp"], "werksessie");

    // Participants and the plenary's key are refused, and nothing changes.
    let body = json!({ "text": "Ik ook" });
    for key in [&server.keys.join, &server.keys.view] {
        let (status, reply) = send(&server, "POST", STEPS, key, Some(&body)).await?;
        assert_eq!(status, 403, "{reply}");
        let (status, _) =
            send(&server, "PATCH", &format!("{STEPS}/{id}"), key, Some(&body)).await?;
        assert_eq!(status, 403);
        let (status, _) = send(&server, "DELETE", &format!("{STEPS}/{id}"), key, None).await?;
        assert_eq!(status, 403);
        let order = json!({ "ids": [id] });
        let (status, _) =
            send(&server, "PUT", &format!("{STEPS}/order"), key, Some(&order)).await?;
        assert_eq!(status, 403);
    }
    assert_eq!(list(&server).await?.len(), 1);

    // Edits and reordering reach the plenary too.
    let second = add(
        &server,
        json!({ "text": "Zomertour Leiden", "followUp": "zomertour" }),
    )
    .await?;
    let second_id = second["id"].as_str().unwrap_or_default().to_string();
    let (status, _) = send(
        &server,
        "PATCH",
        &format!("{STEPS}/{id}"),
        &server.keys.facilitate,
        Some(&json!({ "owner": "OT 2", "source": null })),
    )
    .await?;
    assert_eq!(status, 200);
    let order = json!({ "ids": [second_id, id] });
    let (status, reply) = send(
        &server,
        "PUT",
        &format!("{STEPS}/order"),
        &server.keys.facilitate,
        Some(&order),
    )
    .await?;
    assert_eq!(status, 200, "{reply}");
    plenary
        .until("the new order and owner", |s| {
            s["closingSteps"][0]["text"] == "Zomertour Leiden"
                && s["closingSteps"][1]["owner"] == "OT 2"
        })
        .await?;
    assert_eq!(plenary.summary["closingSteps"][1]["sourceLabel"], "");
    let (status, _) = send(
        &server,
        "DELETE",
        &format!("{STEPS}/{second_id}"),
        &server.keys.facilitate,
        None,
    )
    .await?;
    assert_eq!(status, 204);
    plenary
        .until("the removal", |s| {
            s["closingSteps"].as_array().map(Vec::len) == Some(1)
        })
        .await?;
    Ok(())
}

#[tokio::test]
async fn bad_next_steps_get_a_clear_error_and_change_nothing() -> anyhow::Result<()> {
    let server = Server::start().await?;
    let key = server.keys.facilitate.clone();
    let first = add(&server, json!({ "text": "Eerste" })).await?;
    let id = first["id"].as_str().unwrap_or_default().to_string();
    let long = "x".repeat(MAX_STEP_TEXT_CHARS + 1);
    let cases = [
        (json!({ "text": "  " }), 400, "needs a text"),
        (json!({ "text": long }), 400, "at most"),
        (
            json!({ "text": "ok", "owner": "o".repeat(121) }),
            400,
            "owner",
        ),
        (
            json!({ "text": "ok", "source": { "kind": "table", "id": "q" } }),
            400,
            "no table",
        ),
        (
            json!({ "text": "ok", "source": { "kind": "stand", "team": 9 } }),
            400,
            "team 9",
        ),
        (json!({ "text": "ok", "followUp": "borrel" }), 422, ""),
        (json!({ "text": "ok", "colour": "rood" }), 422, ""),
    ];
    for (body, expected, says) in cases {
        let (status, reply) = send(&server, "POST", STEPS, &key, Some(&body)).await?;
        assert_eq!(status, expected, "{body} → {reply}");
        assert!(reply.to_string().contains(says), "{body} → {reply}");
    }
    let (status, _) = send(
        &server,
        "PATCH",
        &format!("{STEPS}/nope"),
        &key,
        Some(&json!({ "text": "x" })),
    )
    .await?;
    assert_eq!(status, 404);
    let (status, reply) = send(
        &server,
        "PUT",
        &format!("{STEPS}/order"),
        &key,
        Some(&json!({ "ids": [] })),
    )
    .await?;
    assert_eq!(
        (status, reply["code"].as_str()),
        (409, Some("order-mismatch"))
    );
    let steps = list(&server).await?;
    assert_eq!(steps.len(), 1);
    assert_eq!(steps[0]["id"], id.as_str());
    assert_eq!(steps[0]["text"], "Eerste");

    // The list is bounded.
    for i in 1..MAX_STEPS {
        add(&server, json!({ "text": format!("stap {i}") })).await?;
    }
    let (status, reply) = send(
        &server,
        "POST",
        STEPS,
        &key,
        Some(&json!({ "text": "te veel" })),
    )
    .await?;
    assert_eq!(
        (status, reply["code"].as_str()),
        (409, Some("too-many-steps")),
        "{reply}"
    );
    assert_eq!(list(&server).await?.len(), MAX_STEPS);
    Ok(())
}

#[tokio::test]
async fn no_sync_connection_reaches_the_closing_document() -> anyhow::Result<()> {
    let server = Server::start().await?;
    add(&server, json!({ "text": "Eerste" })).await?;
    for room in ["closing%2Fnext-steps", "closing", "next-steps"] {
        let url = format!(
            "ws://{}/sync/atelierdag-2022/{room}?key={}",
            server.addr, server.keys.facilitate
        );
        let refused = Client::connect_url(&url).await.err();
        assert!(refused.is_some(), "{room} opened a sync connection");
    }
    Ok(())
}

#[tokio::test]
async fn the_werkboek_of_a_stopped_server_holds_the_closing_steps_and_the_lecture()
-> anyhow::Result<()> {
    let mut server = Server::start().await?;
    crate::lecture::post_insights(&server, &[("cli-ins-1", "Ruimte voor de fiets")]).await?;
    add(
        &server,
        json!({ "text": "Zomertour langs de pleinen", "owner": "OT 6", "followUp": "zomertour" }),
    )
    .await?;
    server.terminate().await?;
    let dir = server.data_dir.to_str().unwrap_or_default().to_string();
    let out = Server::cli(
        &["export", "--data-dir", &dir, "--format", "md"],
        &[("SOURCE_DATE_EPOCH", "1654782300")],
    )?;
    anyhow::ensure!(
        out.status.success(),
        "export failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let md = String::from_utf8(out.stdout)?;
    for expected in [
        "## Lezing",
        "- Ruimte voor de fiets",
        "### Zomertours",
        "- Zomertour langs de pleinen (wie: OT 6)",
    ] {
        assert!(md.contains(expected), "{expected:?} missing from:\n{md}");
    }
    Ok(())
}

#[tokio::test]
async fn a_market_tip_reaches_the_day_view_and_the_werkboek() -> anyhow::Result<()> {
    use werktafel_shared::market::{TipDraft, TipKind, insert_tip};
    let server = Server::start().await?;
    let visitor = Client::connect(&server, "markt-ot2").await?;
    visitor.synced().await?;
    visitor.edit(|txn| {
        insert_tip(
            txn,
            &TipDraft {
                id: "tip-markt-1".into(),
                kind: TipKind::Tip,
                text: "Koppel de routekaart aan de fietsstraat".into(),
                author: "Bo".into(),
                author_id: "dev-bo".into(),
                now_ms: 1,
            },
        );
    });
    visitor.roundtrip().await?;
    let (status, body) = server.get("/api/events/atelierdag-2022/summary").await?;
    assert_eq!(status, 200, "{body}");
    let summary: Value = serde_json::from_str(&body)?;
    let stand = summary["market"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["team"] == 2))
        .cloned()
        .unwrap_or_default();
    assert_eq!(stand["tipCount"], 1, "{}", summary["market"]);
    assert_eq!(
        stand["topTips"][0]["text"],
        "Koppel de routekaart aan de fietsstraat"
    );
    let (_, _, md) = server
        .get_bytes("/api/events/atelierdag-2022/export.md")
        .await?;
    let md = String::from_utf8(md)?;
    assert!(
        md.contains("- Koppel de routekaart aan de fietsstraat — _Bo_"),
        "{md}"
    );
    Ok(())
}
