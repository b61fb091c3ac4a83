//! The `werktafel` command: parses the CLI, sets up logging, binds, wires
//! signals, and hands over to [`werktafel_server::run`].

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};
use werktafel_server::{Config, Limits};
use werktafel_shared::event::Event;

#[derive(Parser)]
#[command(
    name = "werktafel",
    version,
    about = "Werktafel: live sticky-note boards for workshop tables"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the board, the sync endpoint and the API.
    Serve(ServeArgs),
}

#[derive(clap::Args)]
struct ServeArgs {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, env = "WERKTAFEL_ADDR", default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
    /// Directory for the database (created on first start).
    #[arg(long, env = "WERKTAFEL_DATA_DIR", default_value = "./werktafel-data")]
    data_dir: PathBuf,
    /// Event definition (TOML); without it, the built-in Atelierdag 2022.
    #[arg(long, env = "WERKTAFEL_EVENT")]
    event: Option<PathBuf>,
    /// Largest WebSocket message accepted, in bytes.
    #[arg(long, env = "WERKTAFEL_MAX_MESSAGE_BYTES", default_value_t = Limits::default().max_message_bytes)]
    max_message_bytes: usize,
    /// Messages queued per client before it is resynced instead.
    #[arg(long, env = "WERKTAFEL_OUTBOX_CAPACITY", default_value_t = Limits::default().outbox_capacity)]
    outbox_capacity: usize,
    /// Seconds without any message from a client before it is disconnected.
    #[arg(long, env = "WERKTAFEL_IDLE_TIMEOUT_SECS", default_value_t = Limits::default().idle_timeout.as_secs())]
    idle_timeout_secs: u64,
    /// Milliseconds of silence after which a connection gets a keepalive and a ping.
    #[arg(long, env = "WERKTAFEL_KEEPALIVE_MS", default_value_t = Limits::default().keepalive_interval.as_millis() as u64)]
    keepalive_ms: u64,
    /// Seconds an empty table stays in memory.
    #[arg(long, env = "WERKTAFEL_ROOM_IDLE_SECS", default_value_t = Limits::default().room_idle_grace.as_secs())]
    room_idle_secs: u64,
}

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("WERKTAFEL_LOG")
                .unwrap_or_else(|_| "info,werktafel_server=info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    match cli.command {
        Command::Serve(args) => runtime.block_on(serve(args)),
    }
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let event = match &args.event {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading event file {}", path.display()))?;
            Event::from_toml(&text).with_context(|| format!("in event file {}", path.display()))?
        }
        None => Event::builtin(),
    };
    let limits = Limits {
        max_message_bytes: args.max_message_bytes,
        outbox_capacity: args.outbox_capacity.max(1),
        idle_timeout: Duration::from_secs(args.idle_timeout_secs.max(1)),
        room_idle_grace: Duration::from_secs(args.room_idle_secs),
        keepalive_interval: Duration::from_millis(args.keepalive_ms.max(10)),
        ..Limits::default()
    };
    let config = Config {
        data_dir: args.data_dir,
        event: Arc::new(event),
        limits,
    };
    let listener = tokio::net::TcpListener::bind(args.addr)
        .await
        .with_context(|| format!("binding {}", args.addr))?;
    let local = listener.local_addr()?;
    // Tests and scripts wait for exactly this line on stdout.
    println!("listening on http://{local}");
    println!("board: http://{local}/e/{}", config.event.slug);
    werktafel_server::run(listener, config, shutdown_signal()).await?;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}
