//! The `werktafel` command: parses the CLI, sets up logging, binds, wires
//! signals, and hands over to [`werktafel_server::run`].

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};
use werktafel_server::exports::{self, Format};
use werktafel_server::store::StoreConfig;
use werktafel_server::{Config, Limits};
use werktafel_shared::event::Event;
use werktafel_shared::export::{CsvDelimiter, ExportOptions, Formulas};

/// mimalloc, not glibc's malloc: yrs allocates every item, key and value of
/// an update on its own and frees them again when a transaction ends, and
/// with glibc a quarter of a note insert's apply went to consolidating and
/// unlinking free chunks (`cargo bench -p werktafel-server --bench
/// note_insert`, docs/benchmarks.md). Without transparent huge pages (the
/// `no_thp` feature, and [`no_huge_pages`] for kernels that use them
/// unasked): mimalloc's arenas otherwise ask for them, and every page it
/// hands back and touches again was a 2 MiB page for the kernel to zero,
/// a fifth of the server's CPU on note inserts.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
    Serve(Box<ServeArgs>),
    /// Export an event from a data directory (also while a server runs on it).
    Export(ExportArgs),
    /// Restore a JSON archive (`export --format json`) into an empty data directory.
    Import(ImportArgs),
}

#[derive(clap::Args)]
struct ExportArgs {
    #[arg(long, env = "WERKTAFEL_DATA_DIR", default_value = "./werktafel-data")]
    data_dir: PathBuf,
    /// `sqlite` (the database in --data-dir) or the PostgreSQL URL the servers use.
    #[arg(
        long,
        env = "WERKTAFEL_STORE",
        default_value = "sqlite",
        hide_env_values = true
    )]
    store: String,
    /// The event's slug.
    #[arg(long, default_value = "atelierdag-2022")]
    event: String,
    /// md, csv, xlsx, json, html, svg (one table: --table) or zip (all of them).
    #[arg(long)]
    format: Format,
    /// Write here instead of to standard output.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Leave author names out, for sharing outside the group.
    #[arg(long)]
    anonymous: bool,
    /// CSV field delimiter: comma, or semicolon for Excel with Dutch settings.
    #[arg(long, value_enum, default_value = "comma")]
    delimiter: Delimiter,
    /// The table whose board to draw (svg).
    #[arg(long)]
    table: Option<String>,
    /// CSV/XLSX cells that start like a formula (=, +, -, @, tab, CR):
    /// neutralise (a leading ') or keep them as typed.
    #[arg(long, value_enum, default_value = "neutralise")]
    formulas: FormulaCells,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Delimiter {
    Comma,
    Semicolon,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum FormulaCells {
    Neutralise,
    Keep,
}

#[derive(clap::Args)]
struct ImportArgs {
    /// The archive, as written by `werktafel export --format json`.
    file: PathBuf,
    #[arg(long, env = "WERKTAFEL_DATA_DIR", default_value = "./werktafel-data")]
    data_dir: PathBuf,
    /// `sqlite` (the database in --data-dir) or the PostgreSQL URL the servers use.
    #[arg(
        long,
        env = "WERKTAFEL_STORE",
        default_value = "sqlite",
        hide_env_values = true
    )]
    store: String,
}

#[derive(clap::Args)]
struct ServeArgs {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, env = "WERKTAFEL_ADDR", default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
    /// Directory for the database (created on first start).
    #[arg(long, env = "WERKTAFEL_DATA_DIR", default_value = "./werktafel-data")]
    data_dir: PathBuf,
    /// Where tables, keys and secrets are stored: `sqlite` (the database in
    /// --data-dir) or a PostgreSQL URL, postgres://user:password@host:port/database
    /// (several nodes can share one; see docs/scale-out.md).
    #[arg(
        long,
        env = "WERKTAFEL_STORE",
        default_value = "sqlite",
        hide_env_values = true
    )]
    store: String,
    #[command(flatten)]
    cluster: werktafel_server::cluster::args::ClusterArgs,
    /// Event definition (TOML); without it, the built-in Atelierdag 2022.
    #[arg(long, env = "WERKTAFEL_EVENT")]
    event: Option<PathBuf>,
    /// Where people reach the server, for links and QR codes
    /// (e.g. `http://192.168.1.20:8080`); default: the address it listens on.
    #[arg(long, env = "WERKTAFEL_PUBLIC_URL")]
    public_url: Option<String>,
    /// Largest WebSocket message accepted, in bytes.
    #[arg(long, env = "WERKTAFEL_MAX_MESSAGE_BYTES", default_value_t = Limits::default().max_message_bytes)]
    max_message_bytes: usize,
    /// Messages queued per client before it counts as lagging.
    #[arg(long, env = "WERKTAFEL_OUTBOX_CAPACITY", default_value_t = Limits::default().outbox_capacity)]
    outbox_capacity: usize,
    /// Bytes of missed deliveries kept per lagging client to catch it up;
    /// beyond that it is resynced from the whole document.
    #[arg(long, env = "WERKTAFEL_CATCH_UP_BYTES", default_value_t = Limits::default().catch_up_bytes)]
    catch_up_bytes: usize,
    /// Seconds without any message from a client before it is disconnected.
    #[arg(long, env = "WERKTAFEL_IDLE_TIMEOUT_SECS", default_value_t = Limits::default().idle_timeout.as_secs())]
    idle_timeout_secs: u64,
    /// Seconds a client may take to accept a write before it is disconnected.
    #[arg(long, env = "WERKTAFEL_WRITE_TIMEOUT_SECS", default_value_t = Limits::default().write_timeout.as_secs())]
    write_timeout_secs: u64,
    /// Milliseconds of silence after which a connection gets a keepalive and a ping.
    #[arg(long, env = "WERKTAFEL_KEEPALIVE_MS", default_value_t = Limits::default().keepalive_interval.as_millis() as u64)]
    keepalive_ms: u64,
    /// Sustained messages per second one connection may send (bursts of twice that pass).
    #[arg(long, env = "WERKTAFEL_MESSAGES_PER_SECOND", default_value_t = Limits::default().messages_per_second)]
    messages_per_second: u32,
    /// Sustained bytes per second one connection may send.
    #[arg(long, env = "WERKTAFEL_BYTES_PER_SECOND", default_value_t = Limits::default().bytes_per_second)]
    bytes_per_second: u64,
    /// Largest table document, in stored bytes; writes beyond it close with 4413.
    #[arg(long, env = "WERKTAFEL_MAX_DOCUMENT_BYTES", default_value_t = Limits::default().max_document_bytes)]
    max_document_bytes: u64,
    /// Open connections for the event.
    #[arg(long, env = "WERKTAFEL_MAX_CONNECTIONS", default_value_t = Limits::default().max_connections)]
    max_connections: usize,
    /// Open connections from one remote address.
    #[arg(long, env = "WERKTAFEL_MAX_CONNECTIONS_PER_ADDRESS", default_value_t = Limits::default().max_connections_per_address)]
    max_connections_per_address: usize,
    /// Connection attempts from one remote address per minute.
    #[arg(long, env = "WERKTAFEL_CONNECTS_PER_MINUTE", default_value_t = Limits::default().connects_per_address_per_minute)]
    connects_per_minute: u32,
    /// Summaries, exports and board pictures one address may fetch per
    /// minute, after a burst of 10 (HTTP 429 with Retry-After beyond).
    #[arg(long, env = "WERKTAFEL_HEAVY_READS_PER_MINUTE", default_value_t = Limits::default().heavy_reads_per_minute)]
    heavy_reads_per_minute: u32,
    /// Milliseconds a client has to send a whole request head (and a
    /// keep-alive connection its next one) before it is disconnected.
    #[arg(long, env = "WERKTAFEL_HEADER_TIMEOUT_MS", default_value_t = Limits::default().header_read_timeout.as_millis() as u64)]
    header_timeout_ms: u64,
    /// Seconds an HTTP connection may read and write nothing before it is closed.
    #[arg(long, env = "WERKTAFEL_HTTP_IDLE_SECS", default_value_t = Limits::default().http_idle_timeout.as_secs())]
    http_idle_secs: u64,
    /// Open sockets (HTTP and WebSocket) from one remote address.
    #[arg(long, env = "WERKTAFEL_MAX_SOCKETS_PER_ADDRESS", default_value_t = Limits::default().max_sockets_per_address)]
    max_sockets_per_address: usize,
    /// New identities one remote address may mint per identity window (429 beyond).
    #[arg(long, env = "WERKTAFEL_IDENTITIES_PER_ADDRESS", default_value_t = Limits::default().identities_per_address)]
    identities_per_address: u32,
    /// Seconds over which minted identities are counted per address.
    #[arg(long, env = "WERKTAFEL_IDENTITY_WINDOW_SECS", default_value_t = Limits::default().identity_window.as_secs())]
    identity_window_secs: u64,
    /// Hours a signed identity (token and cookie) is accepted after it is issued.
    #[arg(long, env = "WERKTAFEL_IDENTITY_HOURS", default_value_t = Limits::default().identity_lifetime.as_secs() / 3600)]
    identity_hours: u64,
    /// Largest file uploaded to a market stand, in bytes; larger gets HTTP 413.
    #[arg(long, env = "WERKTAFEL_MAX_UPLOAD_BYTES", default_value_t = Limits::default().max_upload_bytes)]
    max_upload_bytes: u64,
    /// Bytes of stand files one identity may upload; beyond it HTTP 507.
    #[arg(long, env = "WERKTAFEL_UPLOAD_QUOTA_PER_IDENTITY", default_value_t = Limits::default().upload_quota_per_identity)]
    upload_quota_per_identity: u64,
    /// Bytes of stand files the event holds in all; beyond it HTTP 507.
    #[arg(long, env = "WERKTAFEL_MAX_UPLOAD_BYTES_TOTAL", default_value_t = Limits::default().max_upload_bytes_total)]
    max_upload_bytes_total: u64,
    /// Private drafts documents per event; a new one beyond gets HTTP 507.
    #[arg(long, env = "WERKTAFEL_MAX_DRAFTS_DOCUMENTS", default_value_t = Limits::default().max_drafts_documents)]
    max_drafts_documents: usize,
    /// Largest private drafts document, in stored bytes; writes beyond it close with 4413.
    #[arg(long, env = "WERKTAFEL_MAX_DRAFTS_BYTES", default_value_t = Limits::default().max_drafts_bytes)]
    max_drafts_bytes: u64,
    /// Exports rendered or sent at once; more get 429 with Retry-After.
    #[arg(long, env = "WERKTAFEL_MAX_CONCURRENT_EXPORTS", default_value_t = Limits::default().max_concurrent_exports)]
    max_concurrent_exports: usize,
    /// Seconds an empty table stays in memory.
    #[arg(long, env = "WERKTAFEL_ROOM_IDLE_SECS", default_value_t = Limits::default().room_idle_grace.as_secs())]
    room_idle_secs: u64,
}

fn main() -> anyhow::Result<()> {
    no_huge_pages();
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
        Command::Serve(args) => runtime.block_on(serve(*args)),
        Command::Export(args) => export(args),
        Command::Import(args) => import(args),
    }
}

/// Turns transparent huge pages off for this process (see [`ALLOCATOR`]):
/// with `enabled=always` the kernel would back the allocator's 2 MiB-aligned
/// ranges with huge pages even though mimalloc no longer asks for them.
/// Failing (an old kernel) only costs speed.
fn no_huge_pages() {
    #[cfg(target_os = "linux")]
    if let Err(error) = rustix::thread::disable_transparent_huge_pages(true) {
        eprintln!("could not turn transparent huge pages off: {error}");
    }
}

fn export(args: ExportArgs) -> anyhow::Result<()> {
    // SOURCE_DATE_EPOCH (seconds) pins the export time, for reproducible files.
    let at_ms = match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(secs) => {
            secs.trim()
                .parse::<i64>()
                .context("SOURCE_DATE_EPOCH is not a number")?
                * 1000
        }
        Err(_) => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_millis() as i64,
    };
    let mut options = ExportOptions::new(at_ms);
    if args.anonymous {
        options = options.anonymous();
    }
    if let Delimiter::Semicolon = args.delimiter {
        options = options.with_csv_delimiter(CsvDelimiter::Semicolon);
    }
    if let FormulaCells::Keep = args.formulas {
        options = options.with_formulas(Formulas::Keep);
    }
    let store = StoreConfig::parse(&args.store, &args.data_dir).context("in --store")?;
    let bytes = exports::export_data_dir(
        &store,
        &args.data_dir,
        &args.event,
        args.format,
        args.table.as_deref(),
        &options,
    )
    .with_context(|| format!("exporting {} from {store}", args.event))?;
    match &args.out {
        Some(path) => {
            std::fs::write(path, &bytes).with_context(|| format!("writing {}", path.display()))?;
        }
        None => std::io::Write::write_all(&mut std::io::stdout().lock(), &bytes)?,
    }
    Ok(())
}

fn import(args: ImportArgs) -> anyhow::Result<()> {
    let bytes =
        std::fs::read(&args.file).with_context(|| format!("reading {}", args.file.display()))?;
    let store = StoreConfig::parse(&args.store, &args.data_dir).context("in --store")?;
    let imported = exports::import_archive(&store, &bytes)
        .with_context(|| format!("importing {} into {store}", args.file.display()))?;
    println!(
        "imported event {} with {} tables and {} other documents of the day into {}",
        imported.event, imported.tables, imported.documents, store
    );
    Ok(())
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
    let poster_image = match (&args.event, &event.poster) {
        (Some(path), Some(poster)) => Some(
            werktafel_server::poster::PosterImage::from_event_file(path, poster)
                .with_context(|| format!("in event file {}", path.display()))?,
        ),
        _ => None,
    };
    let limits = Limits {
        max_message_bytes: args.max_message_bytes,
        outbox_capacity: args.outbox_capacity.max(1),
        catch_up_bytes: args.catch_up_bytes,
        idle_timeout: Duration::from_secs(args.idle_timeout_secs.max(1)),
        write_timeout: Duration::from_secs(args.write_timeout_secs.max(1)),
        room_idle_grace: Duration::from_secs(args.room_idle_secs),
        keepalive_interval: Duration::from_millis(args.keepalive_ms.max(10)),
        messages_per_second: args.messages_per_second.max(1),
        bytes_per_second: args.bytes_per_second.max(1),
        max_document_bytes: args.max_document_bytes,
        max_connections: args.max_connections,
        max_connections_per_address: args.max_connections_per_address,
        connects_per_address_per_minute: args.connects_per_minute,
        heavy_reads_per_minute: args.heavy_reads_per_minute,
        header_read_timeout: Duration::from_millis(args.header_timeout_ms.max(1)),
        http_idle_timeout: Duration::from_secs(args.http_idle_secs.max(1)),
        max_sockets_per_address: args.max_sockets_per_address.max(1),
        identities_per_address: args.identities_per_address,
        identity_window: Duration::from_secs(args.identity_window_secs.max(1)),
        identity_lifetime: Duration::from_secs(args.identity_hours.max(1) * 3600),
        max_drafts_documents: args.max_drafts_documents,
        max_drafts_bytes: args.max_drafts_bytes,
        max_concurrent_exports: args.max_concurrent_exports.max(1),
        max_upload_bytes: args.max_upload_bytes,
        upload_quota_per_identity: args.upload_quota_per_identity,
        max_upload_bytes_total: args.max_upload_bytes_total,
    };
    let store = StoreConfig::parse(&args.store, &args.data_dir).context("in --store")?;
    // Before anything is created: what is created is private, but what the
    // operator made before may not be.
    for (path, mode) in store
        .data_dir()
        .map(werktafel_server::store::loose_permissions)
        .unwrap_or_default()
    {
        tracing::warn!(
            path = %path.display(),
            mode = format_args!("{mode:o}"),
            "others than this user can read or enter this path of the data directory, which holds the event keys and the signing secret; chmod it to 700 (directory) or 600 (files)"
        );
    }
    tracing::info!(%store, "opening the store");
    let listener = tokio::net::TcpListener::bind(args.addr)
        .await
        .with_context(|| format!("binding {}", args.addr))?;
    let local = listener.local_addr()?;
    let cluster = args
        .cluster
        .build(&store, &args.store, &args.data_dir, local)?;
    if let Some(cluster) = &cluster
        && cluster.secret.is_none()
    {
        tracing::warn!(
            "no --cluster-secret: this node serves alone and can neither relay clients to other nodes nor take theirs"
        );
    }
    let config = Config {
        store,
        data_dir: args.data_dir.clone(),
        event: Arc::new(event),
        public_url: args.public_url.clone(),
        limits,
        poster_image,
        cluster,
    };
    let base = args
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{local}"));
    let (store, slug) = (config.store.clone(), config.event.slug.clone());
    // Opening the store blocks: not on the async runtime.
    let links = tokio::task::spawn_blocking(move || {
        werktafel_server::links(&store, &slug, base.trim_end_matches('/'))
    })
    .await?
    .with_context(|| format!("opening the store ({})", config.store))?;
    // Tests and scripts wait for exactly this line on stdout; it comes once
    // the store is open, so a store that cannot be reached fails before it.
    println!("listening on http://{local}");
    println!("participant link: {}", links.participant);
    println!("facilitator link: {}", links.facilitator);
    println!("plenary link: {}", links.plenary);
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
