//! `nabo-server`: the relay binary.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};

#[derive(Parser)]
#[command(
    name = "nabo-server",
    about = "The Nabo relay: offline-first records for boligsocialt arbejde"
)]
struct Cli {
    /// Seed the demo tenant (if not there yet) and print where to log in.
    #[arg(long)]
    demo: bool,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Data directory: the SQLite database and the token signing key.
    #[arg(long, default_value = "nabo-data")]
    data_dir: PathBuf,
    /// Database URL: sqlite://… (default: in the data directory) or postgres://….
    #[arg(long, env = "DATABASE_URL")]
    database_url: Option<String>,
    /// Most simultaneous connections per user.
    #[arg(long, default_value_t = 8)]
    max_connections_per_user: usize,
    /// Log format.
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    /// Run the demo as if it were this moment (RFC 3339, e.g. 2026-11-25T00:30:00+01:00);
    /// the clock runs on from there. For trying the demo, and the phones' tests, at a chosen
    /// time of day. Only with --demo: a relay with real data always runs on the system clock.
    #[arg(long, requires = "demo", value_parser = parse_instant)]
    demo_at: Option<nabo_core::time::Timestamp>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Clone, Copy, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Write a consistent copy of the SQLite store to a file (the relay may be running).
    Backup {
        /// The backup file to write.
        #[arg(long)]
        out: PathBuf,
    },
    /// Replace the SQLite store with a backup (stop the relay first).
    Restore {
        /// The backup file to read.
        #[arg(long)]
        from: PathBuf,
    },
}

fn parse_instant(s: &str) -> Result<nabo_core::time::Timestamp, String> {
    chrono::DateTime::parse_from_rfc3339(s)
        .map(|t| nabo_core::time::Timestamp(t.timestamp_millis()))
        .map_err(|e| format!("not an RFC 3339 time such as 2026-11-25T00:30:00+01:00: {e}"))
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    match format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}

fn demo_password() -> String {
    std::env::var("NABO_DEMO_PASSWORD").unwrap_or_else(|_| {
        const WORDS: &[&str] = &[
            "kaffe", "lektie", "opgang", "gaard", "bog", "fodbold", "have", "cykel", "kage",
            "skole",
        ];
        let r: [u8; 3] = rand::random();
        format!(
            "{}-{}-{}",
            WORDS[r[0] as usize % WORDS.len()],
            WORDS[r[1] as usize % WORDS.len()],
            10 + r[2] % 90
        )
    })
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    init_logging(cli.log_format);
    let config = nabo_server::Config {
        listen: cli.listen,
        data_dir: cli.data_dir.clone(),
        database_url: cli.database_url.clone(),
        limits: nabo_server::relay::Limits {
            max_connections_per_user: cli.max_connections_per_user,
            ..Default::default()
        },
        clock: cli.demo_at.map_or_else(
            nabo_core::time::Clock::system,
            nabo_core::time::Clock::starting_at,
        ),
    };
    match cli.command {
        Some(Command::Backup { out }) => {
            let storage = nabo_server::storage::open(&config.database_url()).await?;
            storage.backup_to(&out).await.context("backup failed")?;
            storage.close().await;
            println!("backup written to {}", out.display());
            return Ok(());
        }
        Some(Command::Restore { from }) => {
            restore(&config, &from).await?;
            return Ok(());
        }
        None => {}
    }
    std::fs::create_dir_all(&config.data_dir)?;
    let storage = nabo_server::storage::open(&config.database_url()).await?;
    // Seed before listening, so nobody logs in to a half-made demo.
    let seeded = if cli.demo {
        let password = demo_password();
        Some((
            nabo_server::demo::seed(storage.as_ref(), &password, &config.clock).await?,
            password,
        ))
    } else {
        None
    };
    let running = nabo_server::start_with(config, storage).await?;
    if let Some((seeded, password)) = seeded {
        let url = format!("http://{}", running.addr);
        println!();
        println!("  Nabo kører på {url}");
        println!("  Log ind i browseren: {url}/log-ind (central medarbejder: «central»)");
        println!("  Synkronisering: ws://{}/sync", running.addr);
        if !running.state.clock.is_system() {
            println!(
                "  Demoens ur: {} (dansk tid)",
                running
                    .state
                    .clock
                    .now()
                    .local_dk()
                    .format("%d.%m.%Y kl. %H.%M")
            );
        }
        if seeded {
            println!("  Demo-logins (adgangskode: {password}):");
            for u in nabo_server::demo::USERS {
                println!("    {:<11} {}", u.username, u.description);
            }
        } else {
            println!(
                "  Demo-lejeren findes allerede; brug de adgangskoder, der blev vist første gang."
            );
        }
        println!();
    } else {
        tracing::info!(addr = %running.addr, "nabo-server listening");
    }
    tokio::signal::ctrl_c().await.ok();
    tracing::info!("shutting down");
    running.shutdown().await;
    Ok(())
}

async fn restore(config: &nabo_server::Config, from: &std::path::Path) -> anyhow::Result<()> {
    let url = config.database_url();
    let path = url
        .strip_prefix("sqlite://")
        .context("restore is for the SQLite store")?;
    // Check the backup opens and is current before replacing anything.
    let probe =
        nabo_server::storage::SqliteStorage::connect(&format!("sqlite://{}", from.display()))
            .await
            .context("the backup does not open")?;
    use nabo_server::storage::Storage;
    probe.ping().await?;
    probe.close().await;
    let target = std::path::Path::new(path);
    if let Some(dir) = target.parent() {
        std::fs::create_dir_all(dir)?;
    }
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{path}{suffix}"));
    }
    let tmp = target.with_extension("restore-tmp");
    std::fs::copy(from, &tmp)?;
    std::fs::rename(&tmp, target)?;
    println!("restored {} from {}", target.display(), from.display());
    Ok(())
}
