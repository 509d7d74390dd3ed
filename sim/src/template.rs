//! The relay's starting database: the demo tenant, seeded once per process at the simulation's
//! epoch and copied for each seed (seeding hashes ten passwords with Argon2; a copy is a few
//! file writes).

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use nabo_server::storage::SqliteStorage;

/// Every demo login's password in the simulation.
pub const PASSWORD: &str = "simuleret-kodeord-1";

/// The simulation's epoch: Tuesday 10 November 2026, 14:00 UTC (15:00 in Denmark), when the
/// demo lektiecafé meets.
pub const EPOCH_MS: i64 = 1_794_319_200_000;

/// The relay database's file name in its data directory.
pub const DB_FILE: &str = "relay.sqlite";

/// Where the simulation keeps its files: tmpfs when the machine has one (SQLite's full
/// fsyncs are free there).
pub fn base_dir() -> PathBuf {
    let shm = Path::new("/dev/shm");
    if shm.is_dir() {
        shm.to_path_buf()
    } else {
        std::env::temp_dir()
    }
}

/// The relay's configuration in the simulation, on `dir`.
pub fn relay_config(dir: &Path) -> nabo_server::Config {
    nabo_server::Config {
        database_url: Some(database_url(dir)),
        // Retention runs on its own clock; the simulation leaves it out.
        retention_interval: None,
        // One Argon2 worker: two hashes on two threads would finish in a thread race.
        auth: nabo_server::auth::AuthConfig {
            password_workers: 1,
            ..nabo_server::auth::AuthConfig::default()
        },
        ..nabo_server::Config::new(
            ([0, 0, 0, 0], crate::net::RELAY_PORT).into(),
            dir.to_path_buf(),
            nabo_server::keys::KeySource::File {
                path: dir.join("kek.keys"),
                create: true,
            },
        )
    }
}

/// The configuration of relay node `node` of a run whose relay directory is `dir`. Node 0 is
/// [`relay_config`]; another node keeps its own data (its erasure journal) in a directory
/// of its own, made here with a copy of the signing keys, and shares the database and the
/// key-encryption key: as an operator sets up a second node on one database (ADR 0025).
pub fn node_config(dir: &Path, node: usize) -> std::io::Result<nabo_server::Config> {
    let mut config = relay_config(dir);
    if node > 0 {
        let own = dir.join(format!("node{node}"));
        std::fs::create_dir_all(&own)?;
        std::fs::copy(dir.join("jwt.keys"), own.join("jwt.keys"))?;
        config.data_dir = own;
    }
    Ok(config)
}

/// The SQLite URL of the relay's database in `dir`.
pub fn database_url(dir: &Path) -> String {
    format!("sqlite://{}", dir.join(DB_FILE).display())
}

/// The template's directory (built on first use).
pub fn template() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| match std::thread::spawn(build).join() {
        Ok(Ok(dir)) => dir,
        Ok(Err(e)) => panic!("the simulation's template database: {e:#}"),
        Err(_) => panic!("the simulation's template database: the builder panicked"),
    })
}

fn epoch() -> i64 {
    EPOCH_MS
}

/// Seeds the template on a thread of its own, with seed 0 and the clock at the epoch.
fn build() -> anyhow::Result<PathBuf> {
    nabo_core::entropy::seed_this_thread(0);
    nabo_core::time::set_thread_clock(Some(epoch));
    remove_dead_templates();
    let dir = base_dir().join(format!("{TEMPLATE_PREFIX}{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let config = relay_config(&dir);
        let storage = Arc::new(
            SqliteStorage::connect_with(&database_url(&dir), crate::storage::CONNECTIONS).await?,
        );
        let state = nabo_server::state_for(&config, storage).await?;
        nabo_server::demo::seed(
            state.storage.as_ref(),
            &state.vault,
            PASSWORD,
            &config.clock,
        )
        .await?;
        state.storage.close().await;
        anyhow::Ok(())
    })?;
    Ok(dir)
}

const TEMPLATE_PREFIX: &str = "nabo-sim-template-";

/// Removes the templates and run directories of processes that are gone (every process
/// leaves its template behind, a batch starts one per worker, and a killed run leaves its
/// directory). Only where `/proc` tells which processes live.
fn remove_dead_templates() {
    if !Path::new("/proc/self").exists() {
        return;
    }
    let Ok(entries) = std::fs::read_dir(base_dir()) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name();
        // `nabo-sim-template-<pid>` and a run's `nabo-sim-<pid>-<seed>-<id>`.
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix("nabo-sim-"))
            .map(|n| n.strip_prefix("template-").unwrap_or(n))
            .and_then(|n| n.split('-').next())
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        if !Path::new(&format!("/proc/{pid}")).exists() {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

/// Copies the template into `to` (created).
pub fn copy_to(to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for e in std::fs::read_dir(template())? {
        let e = e?;
        if e.file_type()?.is_file() {
            std::fs::copy(e.path(), to.join(e.file_name()))?;
        }
    }
    Ok(())
}
