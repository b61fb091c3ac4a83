//! The real `werktafel` binary, started on `127.0.0.1:0` with its own data
//! directory; its stderr goes to a log file that failures point to.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use anyhow::{Context, bail};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

pub struct Server {
    child: Option<Child>,
    /// `127.0.0.1:PORT`.
    pub addr: String,
    /// The event's keys, read from the links the server prints.
    pub keys: Keys,
    pub data_dir: PathBuf,
    /// The extra `serve` arguments it was started with; a restart reuses them.
    pub extra: Vec<String>,
    pub log: PathBuf,
    /// Keeps a temporary data directory alive as long as the server value.
    _tmp: Option<std::sync::Arc<tempfile::TempDir>>,
}

/// The server binary: `$WERKTAFEL_BIN`, else `werktafel` beside the test
/// executable's target directory (`target/<profile>/werktafel`).
pub fn binary() -> PathBuf {
    if let Some(bin) = std::env::var_os("WERKTAFEL_BIN") {
        return PathBuf::from(bin);
    }
    let exe = std::env::current_exe().expect("current_exe");
    // target/<profile>/deps/<test> or target/<profile>/<bin>
    let mut dir = exe.parent().expect("exe dir").to_path_buf();
    if dir.ends_with("deps") {
        dir.pop();
    }
    let bin = dir.join("werktafel");
    assert!(
        bin.exists(),
        "server binary {} not found: build it first with `cargo build -p werktafel-server` (./test.sh does), or set WERKTAFEL_BIN",
        bin.display()
    );
    bin
}

impl Server {
    /// The value of one series in the server's `/metrics`, named as it is
    /// printed: `werktafel_room_reloads_total`, or with its labels,
    /// `werktafel_closes_total{code="4408"}`. Tests assert on these rather
    /// than on log wording.
    pub async fn metric(&self, series: &str) -> anyhow::Result<u64> {
        let (_, metrics) = self.get("/metrics").await?;
        metrics
            .lines()
            .find_map(|line| {
                let value: f64 = line
                    .strip_prefix(series)?
                    .strip_prefix(' ')?
                    .trim()
                    .parse()
                    .ok()?;
                Some(value as u64)
            })
            .with_context(|| format!("no {series} in /metrics:\n{metrics}"))
    }

    /// Waits (each try a round trip to `/metrics`, for at most
    /// [`crate::WAIT`]) until `series` reaches `at_least`, for counters the
    /// server moves just after what a client can observe; returns its value.
    pub async fn metric_reaches(&self, series: &str, at_least: u64) -> anyhow::Result<u64> {
        let deadline = tokio::time::Instant::now() + crate::WAIT;
        loop {
            let value = self.metric(series).await.unwrap_or(0);
            if value >= at_least {
                return Ok(value);
            }
            if tokio::time::Instant::now() >= deadline {
                bail!(
                    "{series} stayed at {value}, below {at_least}; log: {}",
                    self.log.display()
                );
            }
        }
    }

    /// Starts a server on a fresh temporary data directory.
    pub async fn start() -> anyhow::Result<Server> {
        let tmp = std::sync::Arc::new(tempfile::tempdir()?);
        let mut server = Self::start_in(tmp.path(), &[]).await?;
        server._tmp = Some(tmp);
        Ok(server)
    }

    /// Starts a server on `data_dir` with extra `serve` arguments.
    pub async fn start_in(data_dir: &Path, extra: &[&str]) -> anyhow::Result<Server> {
        Self::start_at("127.0.0.1:0", data_dir, extra).await
    }

    /// [`Server::start_in`] listening on `addr` (e.g. `127.0.0.2:0`, for a
    /// node of a cluster on its own loopback address).
    pub async fn start_at(addr: &str, data_dir: &Path, extra: &[&str]) -> anyhow::Result<Server> {
        let log = data_dir.join(format!("server-{}.log", unique()));
        let log_file = std::fs::File::create(&log)?;
        let mut child = Command::new(binary())
            .arg("serve")
            .arg("--addr")
            .arg(addr)
            .arg("--data-dir")
            .arg(data_dir)
            .args(extra)
            .env("WERKTAFEL_LOG", "debug")
            .stdout(Stdio::piped())
            .stderr(log_file)
            .kill_on_drop(true)
            .spawn()
            .context("spawning the werktafel binary")?;
        let stdout = child.stdout.take().context("no stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let mut addr = None;
        let mut keys = Keys::default();
        // The address, then one link per role, each with its key.
        while addr.is_none() || keys.view.is_empty() {
            let Some(line) = tokio::time::timeout(crate::WAIT, lines.next_line())
                .await
                .with_context(|| {
                    format!(
                        "server did not print its address and links; log: {}",
                        log.display()
                    )
                })??
            else {
                bail!(
                    "server exited before listening; log: {}\n{}",
                    log.display(),
                    read(&log)
                );
            };
            let key_of = |line: &str| {
                line.rsplit_once("key=")
                    .map(|(_, k)| k.trim().to_string())
                    .unwrap_or_default()
            };
            if let Some(url) = line.strip_prefix("listening on http://") {
                addr = Some(url.trim().to_string());
            } else if line.starts_with("participant link: ") {
                keys.join = key_of(&line);
            } else if line.starts_with("facilitator link: ") {
                keys.facilitate = key_of(&line);
            } else if line.starts_with("plenary link: ") {
                keys.view = key_of(&line);
            }
        }
        let addr = addr.unwrap_or_default();
        // Keep draining stdout so the server never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(Server {
            child: Some(child),
            addr,
            keys,
            data_dir: data_dir.to_path_buf(),
            extra: extra.iter().map(ToString::to_string).collect(),
            log,
            _tmp: None,
        })
    }

    /// Restarts on the same data directory and arguments (after
    /// [`Server::kill`] or [`Server::terminate`]).
    pub async fn restart(&mut self) -> anyhow::Result<()> {
        let tmp = self._tmp.take();
        let extra: Vec<&str> = self.extra.iter().map(String::as_str).collect();
        let mut next = Self::start_in(&self.data_dir, &extra).await?;
        next._tmp = tmp;
        *self = next;
        Ok(())
    }

    pub fn http(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// A WebSocket URL for `path`, with the participant key added.
    pub fn ws(&self, path: &str) -> String {
        format!("ws://{}{}", self.addr, with_key(path, &self.keys.join))
    }

    /// SIGKILL: no chance to flush anything.
    pub async fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.start_kill();
            let _ = child.wait().await;
        }
    }

    /// SIGTERM and wait; returns the exit code.
    pub async fn terminate(&mut self) -> anyhow::Result<Option<i32>> {
        let mut child = self.child.take().context("server not running")?;
        let pid = child.id().context("no pid")?;
        let status = std::process::Command::new("kill")
            .arg("-TERM")
            .arg(pid.to_string())
            .status()?;
        anyhow::ensure!(status.success(), "kill -TERM failed");
        let status = tokio::time::timeout(crate::WAIT, child.wait())
            .await
            .with_context(|| {
                format!(
                    "server did not exit after SIGTERM; log: {}",
                    self.log.display()
                )
            })??;
        Ok(status.code())
    }

    /// The server process id while it runs (the load bench reads its CPU time).
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().and_then(Child::id)
    }

    /// The server's log so far, for failure messages.
    pub fn log_text(&self) -> String {
        read(&self.log)
    }

    /// `GET path`, returning status, headers and the body bytes.
    /// With the facilitator's key added unless `path` names a key.
    pub async fn get_bytes(&self, path: &str) -> anyhow::Result<(u16, String, Vec<u8>)> {
        http_get_bytes(&self.addr, &with_key(path, &self.keys.facilitate)).await
    }

    /// Runs the `werktafel` binary with `args` (e.g. `export`), returning its output.
    pub fn cli(args: &[&str], env: &[(&str, &str)]) -> anyhow::Result<std::process::Output> {
        let mut cmd = std::process::Command::new(binary());
        cmd.args(args);
        for (k, v) in env {
            cmd.env(k, v);
        }
        Ok(cmd.output()?)
    }

    /// `GET path`, returning status and body.
    /// With the facilitator's key added unless `path` names a key.
    pub async fn get(&self, path: &str) -> anyhow::Result<(u16, String)> {
        http_get(&self.addr, &with_key(path, &self.keys.facilitate)).await
    }

    /// `GET path` exactly as given: no key added.
    pub async fn get_raw(&self, path: &str) -> anyhow::Result<(u16, String)> {
        http_get(&self.addr, path).await
    }

    /// `POST path` with a JSON body, the facilitator's key added unless `path` names one.
    pub async fn post(
        &self,
        path: &str,
        body: &serde_json::Value,
    ) -> anyhow::Result<(u16, String)> {
        http_post(&self.addr, &with_key(path, &self.keys.facilitate), body).await
    }
}

/// The keys of the served event.
#[derive(Debug, Clone, Default)]
pub struct Keys {
    pub join: String,
    pub view: String,
    pub facilitate: String,
}

/// `path` with `key=…` added to its query, unless it has a key already or
/// is not an API or sync path.
pub fn with_key(path: &str, key: &str) -> String {
    if path.contains("key=") || !(path.starts_with("/api/") || path.starts_with("/sync/")) {
        return path.to_string();
    }
    let sep = if path.contains('?') { '&' } else { '?' };
    format!("{path}{sep}key={key}")
}

/// A minimal HTTP/1.1 POST with a JSON body.
pub async fn http_post(
    addr: &str,
    path: &str,
    body: &serde_json::Value,
) -> anyhow::Result<(u16, String)> {
    let body = body.to_string();
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let (status, _, body) = exchange(addr, &request).await?;
    Ok((status, String::from_utf8_lossy(&body).into_owned()))
}

/// `method path` with a JSON body (may be empty): the status and the
/// answer as JSON, `Null` when it is none.
pub async fn http_json(
    addr: &str,
    method: &str,
    path: &str,
    body: &str,
) -> anyhow::Result<(u16, serde_json::Value)> {
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len(),
    );
    let (status, _, reply) = exchange(addr, &request).await?;
    Ok((
        status,
        serde_json::from_slice(&reply).unwrap_or(serde_json::Value::Null),
    ))
}

/// A minimal HTTP/1.1 GET over a raw socket (the tests need nothing more).
pub async fn http_get(addr: &str, path: &str) -> anyhow::Result<(u16, String)> {
    let (status, _, body) = http_get_bytes(addr, path).await?;
    Ok((status, String::from_utf8_lossy(&body).into_owned()))
}

/// One event of a server-sent-events stream.
#[derive(Debug, Clone, Default)]
pub struct SseEvent {
    /// The `event:` name (empty for an unnamed event).
    pub event: String,
    /// The `id:` as a number (0 when absent or not a number).
    pub id: u64,
    /// The `data:` lines, joined.
    pub data: String,
}

/// Opens a server-sent-events stream and yields each event as it arrives.
pub async fn sse(
    addr: &str,
    path: &str,
) -> anyhow::Result<tokio::sync::mpsc::UnboundedReceiver<SseEvent>> {
    use tokio::io::AsyncWriteExt;
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    stream
        .write_all(
            format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nAccept: text/event-stream\r\n\r\n")
                .as_bytes(),
        )
        .await?;
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut lines = BufReader::new(stream).lines();
        let mut event = SseEvent::default();
        while let Ok(Some(line)) = lines.next_line().await {
            let value = |rest: &str| rest.strip_prefix(' ').unwrap_or(rest).to_string();
            if let Some(rest) = line.strip_prefix("data:") {
                event.data.push_str(&value(rest));
            } else if let Some(rest) = line.strip_prefix("event:") {
                event.event = value(rest);
            } else if let Some(rest) = line.strip_prefix("id:") {
                event.id = value(rest).parse().unwrap_or(0);
            } else if line.is_empty()
                && !event.data.is_empty()
                && tx.send(std::mem::take(&mut event)).is_err()
            {
                return;
            }
        }
    });
    Ok(rx)
}

/// `GET path` returning the raw body bytes (for binary exports).
pub async fn http_get_bytes(addr: &str, path: &str) -> anyhow::Result<(u16, String, Vec<u8>)> {
    exchange(
        addr,
        &format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"),
    )
    .await
}

/// Sends one raw HTTP/1.1 request as written, over a fresh socket, and
/// reads the whole answer (until the server closes): status, head and body
/// (de-chunked).
pub async fn exchange(addr: &str, request: &str) -> anyhow::Result<(u16, String, Vec<u8>)> {
    exchange_bytes(addr, request.as_bytes()).await
}

/// `POST path` with `body` as it is (binary), `content_type` as its type.
pub async fn http_post_bytes(
    addr: &str,
    path: &str,
    content_type: &str,
    body: &[u8],
) -> anyhow::Result<(u16, String, Vec<u8>)> {
    send_bytes("POST", addr, path, content_type, body).await
}

/// `PUT path` with `body` as it is (binary), `content_type` as its type.
pub async fn http_put_bytes(
    addr: &str,
    path: &str,
    content_type: &str,
    body: &[u8],
) -> anyhow::Result<(u16, String, Vec<u8>)> {
    send_bytes("PUT", addr, path, content_type, body).await
}

async fn send_bytes(
    method: &str,
    addr: &str,
    path: &str,
    content_type: &str,
    body: &[u8],
) -> anyhow::Result<(u16, String, Vec<u8>)> {
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(body);
    exchange_bytes(addr, &request).await
}

/// [`exchange`] with a request of any bytes.
pub async fn exchange_bytes(addr: &str, request: &[u8]) -> anyhow::Result<(u16, String, Vec<u8>)> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    stream.write_all(request).await?;
    let mut buf = Vec::new();
    stream.read_to_end(&mut buf).await?;
    let split = buf
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .with_context(|| format!("bad HTTP response: {}", String::from_utf8_lossy(&buf)))?;
    let head = String::from_utf8_lossy(&buf[..split]).to_string();
    let status: u16 = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .with_context(|| format!("bad HTTP status line: {head}"))?;
    let mut body = buf[split + 4..].to_vec();
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        body = dechunk_bytes(&body);
    }
    Ok((status, head, body))
}

fn dechunk_bytes(mut rest: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(pos) = rest.windows(2).position(|w| w == b"\r\n") {
        let Ok(n) = usize::from_str_radix(String::from_utf8_lossy(&rest[..pos]).trim(), 16) else {
            break;
        };
        let start = pos + 2;
        if n == 0 || rest.len() < start + n {
            break;
        }
        out.extend_from_slice(&rest[start..start + n]);
        rest = &rest[(start + n + 2).min(rest.len())..];
    }
    out
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            let _ = child.start_kill();
        }
    }
}
