//! A Yjs client over a real WebSocket: it holds its own yrs document, speaks
//! the sync protocol like the stock y-websocket provider (sync step 1 on
//! connect, answers the server's step 1, applies updates), and lets a test
//! wait on signals (synced, a condition on the document, closed).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use anyhow::{Context, bail};
use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use tokio::sync::{mpsc, watch};
use tokio_tungstenite::tungstenite::Message;
use yrs::encoding::read::Cursor;
use yrs::sync::awareness::{AwarenessUpdate, AwarenessUpdateEntry};
use yrs::sync::{Message as YMessage, MessageReader, SyncMessage};
use yrs::updates::decoder::{Decode, DecoderV1};
use yrs::updates::encoder::Encode;
use yrs::{Doc, ReadTxn, Transact, TransactionMut, Update};

use crate::WAIT;

/// How a connection ended, as seen by the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Closed {
    /// The close code the server sent, if it sent a close frame.
    pub code: Option<u16>,
    pub reason: String,
}

pub struct Client {
    pub doc: Doc,
    pub url: String,
    out: mpsc::UnboundedSender<Message>,
    shared: Arc<Shared>,
    changed: watch::Receiver<u64>,
    awareness_clock: AtomicU32,
}

struct Shared {
    synced: AtomicBool,
    closed: Mutex<Option<Closed>>,
    /// Awareness states seen, by client id: (clock, json).
    awareness: Mutex<HashMap<u64, (u32, String)>>,
    /// Binary frames received.
    frames: AtomicU64,
    /// Sync step 1 messages received: one on connect, one more each time
    /// the server asks again (after reloading the table).
    step1s: AtomicU64,
    /// Sync step 2 messages received (answers to our step 1).
    step2s: AtomicU64,
    changed: watch::Sender<u64>,
    /// While true the client stops reading its socket, like a frozen tab.
    paused: watch::Sender<bool>,
}

impl Shared {
    fn bump(&self) {
        self.changed.send_modify(|v| *v += 1);
    }
}

impl Client {
    /// Connects to table `table` of the built-in event.
    pub async fn connect(server: &crate::Server, table: &str) -> anyhow::Result<Client> {
        Self::connect_url(&server.ws(&format!("/sync/atelierdag-2022/{table}"))).await
    }

    /// Connects to a sync URL and sends sync step 1.
    pub async fn connect_url(url: &str) -> anyhow::Result<Client> {
        let (ws, _) = tokio_tungstenite::connect_async(url)
            .await
            .with_context(|| format!("connecting to {url}"))?;
        let (mut sink, mut stream) = ws.split();
        let doc = Doc::new();
        let (out, mut out_rx) = mpsc::unbounded_channel::<Message>();
        let (changed_tx, changed) = watch::channel(0);
        let (paused, _) = watch::channel(false);
        let shared = Arc::new(Shared {
            synced: AtomicBool::new(false),
            closed: Mutex::new(None),
            awareness: Mutex::new(HashMap::new()),
            frames: AtomicU64::new(0),
            step1s: AtomicU64::new(0),
            step2s: AtomicU64::new(0),
            changed: changed_tx,
            paused,
        });
        tokio::spawn(async move {
            while let Some(message) = out_rx.recv().await {
                let is_close = matches!(message, Message::Close(_));
                if sink.send(message).await.is_err() || is_close {
                    break;
                }
            }
        });
        {
            let shared = shared.clone();
            let doc = doc.clone();
            let out = out.clone();
            tokio::spawn(async move {
                let mut closed = Closed {
                    code: None,
                    reason: "stream ended".into(),
                };
                let mut paused = shared.paused.subscribe();
                loop {
                    if paused.wait_for(|p| !*p).await.is_err() {
                        break;
                    }
                    let Some(message) = stream.next().await else {
                        break;
                    };
                    match message {
                        Ok(Message::Binary(frame)) => {
                            shared.frames.fetch_add(1, Ordering::Relaxed);
                            if let Err(e) = handle(&doc, &shared, &out, &frame) {
                                closed.reason =
                                    format!("client could not handle a server frame: {e}");
                                break;
                            }
                            shared.bump();
                        }
                        Ok(Message::Close(frame)) => {
                            closed = Closed {
                                code: frame.as_ref().map(|f| u16::from(f.code)),
                                reason: frame.map(|f| f.reason.to_string()).unwrap_or_default(),
                            };
                            break;
                        }
                        Ok(_) => {}
                        Err(e) => {
                            closed.reason = e.to_string();
                            break;
                        }
                    }
                }
                *shared.closed.lock().unwrap() = Some(closed);
                shared.bump();
            });
        }
        let client = Client {
            doc,
            url: url.to_string(),
            out,
            shared,
            changed,
            awareness_clock: AtomicU32::new(0),
        };
        let sv = client.doc.transact().state_vector();
        client.send_y(YMessage::Sync(SyncMessage::SyncStep1(sv)));
        Ok(client)
    }

    /// Waits until the server's sync step 2 has been applied.
    pub async fn synced(&self) -> anyhow::Result<()> {
        self.wait_until("synced", |c| c.shared.synced.load(Ordering::Acquire))
            .await
    }

    /// Waits until `cond` holds on the client's document.
    pub async fn wait_for(&self, what: &str, cond: impl Fn(&Doc) -> bool) -> anyhow::Result<()> {
        self.wait_until(what, |c| cond(&c.doc)).await
    }

    /// Waits until the connection is closed and returns how.
    pub async fn closed(&self) -> anyhow::Result<Closed> {
        self.wait_until("connection closed", |c| {
            c.shared.closed.lock().unwrap().is_some()
        })
        .await?;
        Ok(self
            .shared
            .closed
            .lock()
            .unwrap()
            .clone()
            .unwrap_or(Closed {
                code: None,
                reason: String::new(),
            }))
    }

    pub fn is_closed(&self) -> bool {
        self.shared.closed.lock().unwrap().is_some()
    }

    /// Waits until `cond` holds on the client; re-checked on every frame.
    pub async fn wait_until(
        &self,
        what: &str,
        cond: impl Fn(&Client) -> bool,
    ) -> anyhow::Result<()> {
        let mut changed = self.changed.clone();
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            if cond(self) {
                return Ok(());
            }
            if let Some(closed) = self.shared.closed.lock().unwrap().clone() {
                if cond(self) {
                    return Ok(());
                }
                if what != "connection closed" {
                    bail!(
                        "waiting for {what} on {}: connection closed ({closed:?})",
                        self.url
                    );
                }
            }
            match tokio::time::timeout_at(deadline, changed.changed()).await {
                Ok(Ok(())) => {}
                Ok(Err(_)) => bail!("waiting for {what} on {}: client task ended", self.url),
                Err(_) => bail!("waiting for {what} on {}: nothing after {WAIT:?}", self.url),
            }
        }
    }

    /// Edits the document locally and sends the resulting update.
    pub fn edit<R>(&self, f: impl FnOnce(&mut TransactionMut) -> R) -> R {
        let mut txn = self.doc.transact_mut();
        let result = f(&mut txn);
        let update = txn.encode_update_v1();
        drop(txn);
        self.send_y(YMessage::Sync(SyncMessage::Update(update)));
        result
    }

    /// Publishes this client's awareness state (JSON).
    pub fn set_awareness(&self, json: &str) {
        let clock = self.awareness_clock.fetch_add(1, Ordering::Relaxed) + 1;
        let mut clients = HashMap::new();
        clients.insert(
            self.doc.client_id(),
            AwarenessUpdateEntry {
                clock,
                json: json.into(),
            },
        );
        self.send_y(YMessage::Awareness(AwarenessUpdate { clients }));
    }

    /// The awareness states this client has seen with content, by client id.
    pub fn awareness(&self) -> HashMap<u64, String> {
        self.shared
            .awareness
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, (_, json))| json != "null")
            .map(|(id, (_, json))| (*id, json.clone()))
            .collect()
    }

    /// Stops reading the socket (the server's writes back up) until [`Client::resume`].
    pub fn pause(&self) {
        self.shared.paused.send_replace(true);
    }

    pub fn resume(&self) {
        self.shared.paused.send_replace(false);
    }

    /// Sends a sync step 1 and waits for the answer. The server handles a
    /// connection's messages in order, so everything sent before has been
    /// handled when this returns.
    pub async fn roundtrip(&self) -> anyhow::Result<()> {
        let before = self.shared.step2s.load(Ordering::Relaxed);
        let sv = self.doc.transact().state_vector();
        self.send_y(YMessage::Sync(SyncMessage::SyncStep1(sv)));
        self.wait_until("the answer to a sync step 1", |c| {
            c.shared.step2s.load(Ordering::Relaxed) > before
        })
        .await
    }

    pub fn step1s_received(&self) -> u64 {
        self.shared.step1s.load(Ordering::Relaxed)
    }

    pub fn frames_received(&self) -> u64 {
        self.shared.frames.load(Ordering::Relaxed)
    }

    pub fn send_y(&self, message: YMessage) {
        let _ = self
            .out
            .send(Message::Binary(Bytes::from(message.encode_v1())));
    }

    pub fn send_raw(&self, bytes: impl Into<Bytes>) {
        let _ = self.out.send(Message::Binary(bytes.into()));
    }

    pub fn send_text(&self, text: &str) {
        let _ = self.out.send(Message::Text(text.into()));
    }

    /// The notes in this client's document.
    pub fn notes(&self) -> Vec<werktafel_shared::schema::Note> {
        werktafel_shared::schema::read_notes(&self.doc)
    }
}

impl Drop for Client {
    /// Closes the connection politely, as a browser tab does when it closes.
    fn drop(&mut self) {
        let _ = self.out.send(Message::Close(None));
    }
}

fn handle(
    doc: &Doc,
    shared: &Shared,
    out: &mpsc::UnboundedSender<Message>,
    frame: &[u8],
) -> anyhow::Result<()> {
    let mut decoder = DecoderV1::new(Cursor::new(frame));
    for message in MessageReader::new(&mut decoder) {
        match message? {
            YMessage::Sync(SyncMessage::SyncStep1(sv)) => {
                shared.step1s.fetch_add(1, Ordering::Relaxed);
                let update = doc.transact().encode_state_as_update_v1(&sv);
                let reply = YMessage::Sync(SyncMessage::SyncStep2(update)).encode_v1();
                let _ = out.send(Message::Binary(Bytes::from(reply)));
            }
            YMessage::Sync(SyncMessage::SyncStep2(update)) => {
                doc.transact_mut()
                    .apply_update(Update::decode_v1(&update)?)?;
                shared.synced.store(true, Ordering::Release);
                shared.step2s.fetch_add(1, Ordering::Relaxed);
            }
            YMessage::Sync(SyncMessage::Update(update)) => {
                doc.transact_mut()
                    .apply_update(Update::decode_v1(&update)?)?;
            }
            YMessage::Awareness(update) => {
                let mut states = shared.awareness.lock().unwrap();
                for (client, entry) in update.clients {
                    let known = states.get(&client.get()).map(|(c, _)| *c);
                    if known.is_none_or(|c| c <= entry.clock) {
                        states.insert(client.get(), (entry.clock, entry.json.to_string()));
                    }
                }
            }
            _ => {}
        }
    }
    Ok(())
}
