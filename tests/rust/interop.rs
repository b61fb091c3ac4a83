//! Interop with a stock Yjs client: yjs + y-websocket in Node
//! (`tests/interop/peer.mjs`) and our Rust client on the same table, through
//! the real server. Each side writes the schema with its own code
//! (`schema-js.mjs`, `werktafel_shared::schema`) and reads what the other wrote.

use serde_json::{Value, json};
use werktafel_shared::schema::{self, Lane, NoteColor, NoteDraft};
use werktafel_tests::{Client, NodePeer, Server};

use crate::notes;

/// The y-websocket server URL: the provider appends `/{room}` itself.
fn ws_base(server: &Server) -> String {
    format!("ws://{}/sync/atelierdag-2022", server.addr)
}

#[tokio::test]
async fn a_note_written_by_stock_yjs_reads_correctly_in_rust() -> anyhow::Result<()> {
    let server = Server::start().await?;
    let rust = Client::connect(&server, "a").await?;
    rust.synced().await?;
    let mut node = NodePeer::start(&ws_base(&server), "a", &server.keys.join).await?;

    node.request(json!({
        "cmd": "insertNote",
        "note": {
            "id": "js-note_1", "text": "Wijkdata delen 🌳", "lane": "doorpakken",
            "color": "blauw", "x": 12.5, "y": 40, "author": "Anna de Vries",
            "authorId": "dev-anna", "nowMs": 1_700_000_000_123_i64
        }
    }))
    .await?;
    // Typed into the Y.Text afterwards, a keystroke per transaction, as a browser does.
    node.request(json!({"cmd": "type", "id": "js-note_1", "index": 17, "text": " met Delft"}))
        .await?;

    let expected_text = "Wijkdata delen 🌳 met Delft";
    rust.wait_for("the stock client's note with its typed text", |_| {
        notes::text_of(&rust, "js-note_1").as_deref() == Some(expected_text)
    })
    .await?;
    let [note] = &rust.notes()[..] else {
        panic!("expected one note, got {:?}", rust.notes());
    };
    assert_eq!(note.id, "js-note_1");
    assert_eq!(note.text, expected_text);
    assert_eq!(note.lane, Lane::Doorpakken);
    assert_eq!(note.color, NoteColor::Blauw);
    assert_eq!((note.x, note.y), (12.5, 40.0));
    assert_eq!(note.author, "Anna de Vries");
    assert_eq!(note.author_id, "dev-anna");
    assert_eq!(note.created_at, 1_700_000_000_123);
    assert!(
        note.updated_at > note.created_at,
        "typing stamps updatedAt: {note:?}"
    );
    // Both readers agree on every field.
    assert_eq!(node.notes().await?, rust.notes());
    node.quit().await
}

#[tokio::test]
async fn a_note_written_by_rust_appears_in_the_stock_client() -> anyhow::Result<()> {
    let server = Server::start().await?;
    let rust = Client::connect(&server, "b").await?;
    rust.synced().await?;
    // One note before the stock client joins (it arrives in sync step 2) and
    // one while it is connected (a live update).
    rust.edit(|txn| schema::insert_note(txn, &draft("before-join", "Afwegen 1/2", Lane::Goed)));
    let witness = Client::connect(&server, "b").await?;
    witness
        .wait_for("the first note at the server", |d| {
            schema::note_count(d) == 1
        })
        .await?;

    let mut node = NodePeer::start(&ws_base(&server), "b", &server.keys.join).await?;
    assert_eq!(node.notes().await?, rust.notes(), "state from sync step 2");

    rust.edit(|txn| {
        schema::insert_note(
            txn,
            &NoteDraft {
                color: NoteColor::Paars,
                x: 200.0,
                ..draft("live", "Kosten én baten — 💶", Lane::Vervolgstap)
            },
        );
    });
    notes::type_into(&rust, "live", 0, "» ");
    node.wait_for_notes("the live note with its typed text", |notes| {
        notes
            .iter()
            .any(|n| n.id == "live" && n.text == "» Kosten én baten — 💶")
    })
    .await?;
    let seen = node.notes().await?;
    assert_eq!(seen, rust.notes());
    let live = seen.iter().find(|n| n.id == "live").expect("live note");
    assert_eq!(
        (live.lane, live.color, live.x),
        (Lane::Vervolgstap, NoteColor::Paars, 200.0)
    );
    node.quit().await
}

#[tokio::test]
async fn concurrent_typing_from_both_sides_converges_identically() -> anyhow::Result<()> {
    let server = Server::start().await?;
    let rust = Client::connect(&server, "c").await?;
    rust.synced().await?;
    let mut node = NodePeer::start(&ws_base(&server), "c", &server.keys.join).await?;
    rust.edit(|txn| schema::insert_note(txn, &draft("shared", "", Lane::Doorpakken)));
    node.wait_for_notes("the shared note", |notes| {
        notes.iter().any(|n| n.id == "shared")
    })
    .await?;

    // Both type 50 characters into the same Y.Text at the same time without
    // waiting for each other: the stock client at a moving cursor from 0, the
    // Rust client always at 0.
    const N: usize = 50;
    let typing = json!({"cmd": "type", "id": "shared", "index": 0, "text": "n".repeat(N)});
    let (node_typed, ()) = tokio::join!(node.request(typing), async {
        for _ in 0..N {
            notes::type_into(&rust, "shared", 0, "r");
            tokio::task::yield_now().await;
        }
    });
    node_typed?;

    let complete = |text: &str| text.matches('n').count() == N && text.matches('r').count() == N;
    rust.wait_for("every character at the Rust client", |_| {
        notes::text_of(&rust, "shared").is_some_and(|t| complete(&t))
    })
    .await?;
    node.wait_for_notes("every character at the stock client", |notes| {
        notes.iter().any(|n| n.id == "shared" && complete(&n.text))
    })
    .await?;
    let (at_node, at_rust) = (node.notes().await?, rust.notes());
    assert_eq!(at_node, at_rust, "the two documents diverged");
    assert_eq!(at_rust[0].text.len(), 2 * N);
    node.quit().await
}

#[tokio::test]
async fn the_stock_client_sees_the_meta_the_server_wrote() -> anyhow::Result<()> {
    let server = Server::start().await?;
    let mut node = NodePeer::start(&ws_base(&server), "a", &server.keys.join).await?;
    let meta = node.meta().await?.expect("meta in the stock client's doc");
    assert_eq!(meta.title, "Vitale systemen");
    assert_eq!(meta.table_id.as_str(), "a");
    assert_eq!(meta.schema_version, schema::SCHEMA_VERSION);

    let rust = Client::connect(&server, "a").await?;
    rust.synced().await?;
    assert_eq!(
        Some(meta),
        schema::read_meta(&rust.doc),
        "JS and Rust read meta alike"
    );
    node.quit().await
}

#[tokio::test]
async fn presence_crosses_between_stock_and_rust_clients() -> anyhow::Result<()> {
    let server = Server::start().await?;
    let rust = Client::connect(&server, "d").await?;
    rust.synced().await?;
    let mut node = NodePeer::start(&ws_base(&server), "d", &server.keys.join).await?;

    let user = json!({"id": "k3J-anna", "name": "Anna", "color": "#d9480f"});
    node.request(json!({"cmd": "setUser", "user": user}))
        .await?;
    let node_id = node.client_id;
    rust.wait_until("the stock client's presence", |c| {
        c.awareness().get(&node_id).is_some_and(|state| {
            serde_json::from_str::<Value>(state).is_ok_and(|s| s["user"] == user)
        })
    })
    .await?;

    // And the other way: the Rust client's state reaches the stock client.
    rust.set_awareness(
        r##"{"user":{"id":"u-bram","name":"Bram","color":"#1971c2"},"editing":"shared"}"##,
    );
    let rust_id = rust.doc.client_id().get();
    node.wait_for_awareness("the Rust client's presence", |states| {
        states
            .get(&rust_id)
            .is_some_and(|s| s["user"]["name"] == "Bram" && s["editing"] == "shared")
    })
    .await?;
    assert_eq!(
        node.awareness_of(node_id).map(|s| s["user"].clone()),
        Some(user)
    );

    // When the stock client leaves, the server removes its presence.
    node.quit().await?;
    rust.wait_until("the stock client's presence removed", |c| {
        !c.awareness().contains_key(&node_id)
    })
    .await?;
    Ok(())
}

fn draft(id: &str, text: &str, lane: Lane) -> NoteDraft {
    NoteDraft {
        id: id.into(),
        text: text.into(),
        lane,
        color: NoteColor::Groen,
        x: 10.0,
        y: 30.0,
        author: "Bram".into(),
        author_id: "dev-bram".into(),
        now_ms: 1_700_000_000_000,
    }
}
