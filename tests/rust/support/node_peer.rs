//! A stock Yjs client in Node (`tests/interop/peer.mjs`: yjs + y-websocket on
//! `ws`) run as a child process and driven over stdin/stdout JSON lines. Like
//! [`crate::Client`], a test waits on what the peer reported, never on time.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};

use anyhow::{Context, bail};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, Command};
use tokio::sync::watch;
use werktafel_shared::schema::{Note, TableMeta};

use crate::WAIT;

pub struct NodePeer {
    /// The Yjs client id of the peer's document (also its awareness id).
    pub client_id: u64,
    child: Child,
    stdin: ChildStdin,
    seen: Arc<Mutex<Seen>>,
    changed: watch::Receiver<u64>,
    next_seq: u64,
    /// Where the peer's stderr goes; failures print it.
    log: PathBuf,
    _log_dir: tempfile::TempDir,
}

/// What the peer has reported so far.
#[derive(Default)]
struct Seen {
    synced: Option<u64>,
    /// The notes after the latest change the peer reported.
    notes: Vec<Note>,
    /// Awareness states by client id, as of the latest change.
    awareness: HashMap<u64, Value>,
    /// Replies to commands, by sequence number.
    replies: HashMap<u64, Value>,
    /// Lines that were not JSON or not understood, for failure messages.
    garbage: Vec<String>,
    exited: bool,
}

/// `tests/interop/`, where the peer scripts live.
pub fn interop_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("interop")
}

impl NodePeer {
    /// Starts `node tests/interop/peer.mjs <ws_base> <table>` and waits until
    /// the peer reports its provider synced.
    /// Starts a stock client on `table` under `ws_base`, passing `key` in the
    /// provider's `params` as a browser does.
    pub async fn start(ws_base: &str, table: &str, key: &str) -> anyhow::Result<NodePeer> {
        let tests_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
        let modules = tests_dir.join("node_modules");
        if !modules.join("yjs").exists() || !modules.join("y-websocket").exists() {
            bail!(
                "{} is missing yjs/y-websocket: run `npm ci` in {} first (./test.sh does)",
                modules.display(),
                tests_dir.display()
            );
        }
        let log_dir = tempfile::tempdir()?;
        let log = log_dir.path().join("node-peer.log");
        let mut child = Command::new("node")
            .arg(interop_dir().join("peer.mjs"))
            .arg(ws_base)
            .arg(table)
            .arg(key)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log)?)
            .kill_on_drop(true)
            .spawn()
            .context("spawning `node` (Node.js 20 must be on PATH)")?;
        let stdin = child.stdin.take().context("no stdin")?;
        let stdout = child.stdout.take().context("no stdout")?;
        let seen = Arc::new(Mutex::new(Seen::default()));
        let (changed_tx, changed) = watch::channel(0u64);
        {
            let seen = seen.clone();
            tokio::spawn(async move {
                let mut lines = BufReader::new(stdout).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    seen.lock().unwrap().record(&line);
                    changed_tx.send_modify(|v| *v += 1);
                }
                seen.lock().unwrap().exited = true;
                changed_tx.send_modify(|v| *v += 1);
            });
        }
        let mut peer = NodePeer {
            client_id: 0,
            child,
            stdin,
            seen,
            changed,
            next_seq: 0,
            log,
            _log_dir: log_dir,
        };
        peer.wait_until("the peer's provider synced", |s| s.synced.is_some())
            .await?;
        peer.client_id = peer.seen.lock().unwrap().synced.unwrap_or_default();
        Ok(peer)
    }

    /// Sends a command and waits for its reply (`{"event":"ok",...}`).
    pub async fn request(&mut self, mut command: Value) -> anyhow::Result<Value> {
        self.next_seq += 1;
        let seq = self.next_seq;
        command["seq"] = json!(seq);
        let line = format!("{command}\n");
        self.stdin
            .write_all(line.as_bytes())
            .await
            .with_context(|| format!("writing {command} to the peer"))?;
        self.stdin.flush().await?;
        let what = format!("the reply to {command}");
        self.wait_until(&what, |s| s.replies.contains_key(&seq))
            .await?;
        let reply = self.seen.lock().unwrap().replies.remove(&seq);
        let reply = reply.unwrap_or_default();
        if reply["event"] != "ok" {
            bail!(
                "peer refused {command}: {}\npeer log:\n{}",
                reply["message"],
                self.log_text()
            );
        }
        Ok(reply)
    }

    /// Waits until the peer's latest reported notes satisfy `cond`.
    pub async fn wait_for_notes(
        &self,
        what: &str,
        cond: impl Fn(&[Note]) -> bool,
    ) -> anyhow::Result<()> {
        self.wait_until(what, |s| cond(&s.notes)).await
    }

    /// The notes as the peer read them with `schema-js.mjs`, asked now.
    pub async fn notes(&mut self) -> anyhow::Result<Vec<Note>> {
        let reply = self.request(json!({"cmd": "notes"})).await?;
        serde_json::from_value(reply["notes"].clone())
            .with_context(|| format!("the peer's notes do not match the schema: {reply}"))
    }

    /// `meta` as the peer read it, `None` if it has none.
    pub async fn meta(&mut self) -> anyhow::Result<Option<TableMeta>> {
        let reply = self.request(json!({"cmd": "meta"})).await?;
        serde_json::from_value(reply["meta"].clone())
            .with_context(|| format!("the peer's meta does not match the schema: {reply}"))
    }

    /// The latest awareness state the peer saw for `client_id`.
    pub fn awareness_of(&self, client_id: u64) -> Option<Value> {
        self.seen.lock().unwrap().awareness.get(&client_id).cloned()
    }

    /// Waits until the peer's awareness satisfies `cond`.
    pub async fn wait_for_awareness(
        &self,
        what: &str,
        cond: impl Fn(&HashMap<u64, Value>) -> bool,
    ) -> anyhow::Result<()> {
        self.wait_until(what, |s| cond(&s.awareness)).await
    }

    /// Asks the peer to quit and waits for it to exit.
    pub async fn quit(mut self) -> anyhow::Result<()> {
        self.request(json!({"cmd": "quit"})).await?;
        let status = tokio::time::timeout(WAIT, self.child.wait())
            .await
            .context("the peer did not exit after quit")??;
        anyhow::ensure!(
            status.success(),
            "peer exited with {status}\n{}",
            self.log_text()
        );
        Ok(())
    }

    /// The peer's stderr so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    async fn wait_until(&self, what: &str, cond: impl Fn(&Seen) -> bool) -> anyhow::Result<()> {
        let mut changed = self.changed.clone();
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            {
                let seen = self.seen.lock().unwrap();
                if cond(&seen) {
                    return Ok(());
                }
                if seen.exited {
                    bail!(
                        "waiting for {what}: the Node peer exited\nunparsed output: {:?}\npeer log:\n{}",
                        seen.garbage,
                        self.log_text()
                    );
                }
            }
            match tokio::time::timeout_at(deadline, changed.changed()).await {
                Ok(Ok(())) => {}
                Ok(Err(_)) => bail!("waiting for {what}: the peer reader ended"),
                Err(_) => {
                    let seen = self.seen.lock().unwrap();
                    bail!(
                        "waiting for {what}: nothing after {WAIT:?}\nlatest notes: {:?}\nawareness: {:?}\nunparsed output: {:?}\npeer log:\n{}",
                        seen.notes,
                        seen.awareness,
                        seen.garbage,
                        self.log_text()
                    )
                }
            }
        }
    }
}

impl Seen {
    fn record(&mut self, line: &str) {
        let Ok(value) = serde_json::from_str::<Value>(line) else {
            self.garbage.push(line.to_string());
            return;
        };
        match value["event"].as_str() {
            Some("synced") => self.synced = value["clientId"].as_u64(),
            Some("notes") => match serde_json::from_value(value["notes"].clone()) {
                Ok(notes) => self.notes = notes,
                Err(e) => self.garbage.push(format!("{line} ({e})")),
            },
            Some("awareness") => {
                self.awareness = value["states"]
                    .as_object()
                    .into_iter()
                    .flatten()
                    .filter_map(|(id, state)| Some((id.parse().ok()?, state.clone())))
                    .collect();
            }
            Some("ok" | "error") if value["seq"].is_u64() => {
                let seq = value["seq"].as_u64().unwrap_or_default();
                self.replies.insert(seq, value);
            }
            _ => self.garbage.push(line.to_string()),
        }
    }
}
