//! `nabo-server`: the relay binary.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use nabo_server::keys::KeySource;

#[derive(Parser)]
#[command(
    name = "nabo-server",
    about = "The Nabo relay: offline-first records for boligsocialt arbejde"
)]
struct Cli {
    /// Seed the demo tenant (if not there yet) and print where to log in. Generates a
    /// key-encryption key in the data directory if none is given (demo only).
    #[arg(long)]
    demo: bool,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Data directory: the SQLite database and the token signing keys.
    #[arg(long, default_value = "nabo-data")]
    data_dir: PathBuf,
    /// Database URL: sqlite://… (default: in the data directory) or postgres://… (TLS with
    /// `?sslmode=verify-full&sslrootcert=/path/ca.pem`).
    #[arg(long, env = "DATABASE_URL")]
    database_url: Option<String>,
    /// The key-encryption key ring of subject keys (ADR 0014). Keep it apart from the
    /// database and its backups. Alternatively set NABO_KEK to the key ring's text.
    #[arg(long, env = "NABO_KEY_FILE")]
    key_file: Option<PathBuf>,
    /// The address people and phones use, e.g. https://nabo.example.dk: enrolment QR codes,
    /// the form origin check, and (https) Secure cookies and HSTS.
    #[arg(long, env = "NABO_PUBLIC_URL")]
    public_url: Option<nabo_server::http::PublicUrl>,
    /// A reverse proxy (address or CIDR) whose X-Forwarded-For and X-Forwarded-Proto are
    /// believed; repeat or separate with commas.
    #[arg(
        long = "trusted-proxy",
        env = "NABO_TRUSTED_PROXIES",
        value_delimiter = ','
    )]
    trusted_proxies: Vec<String>,
    /// Most simultaneous connections per user.
    #[arg(long, default_value_t = 8)]
    max_connections_per_user: usize,
    /// Most simultaneous TCP connections (HTTP and WebSocket); more get 503.
    #[arg(long, default_value_t = 10_000)]
    max_connections: usize,
    /// Bytes waiting to be sent to one connection before it is closed as too slow (1013).
    #[arg(long, default_value_t = 8 << 20)]
    max_outbound_bytes: usize,
    /// Memory in MiB for the review pages' decoded documents (ADR 0028; estimated from
    /// their stored size). 0 turns the cache off: every page load reads every document.
    #[arg(long, env = "NABO_PAGE_CACHE_MB", default_value_t = 1024)]
    page_cache_mb: u64,
    /// Largest ephemeral (presence) message, bytes.
    #[arg(long, default_value_t = 16 << 10)]
    max_ephemeral_bytes: usize,
    /// Ephemeral messages per second per connection (a burst of twice as many).
    #[arg(long, default_value_t = 10)]
    ephemeral_per_second: u32,
    /// Seconds to receive a request's headers, and separately its body.
    #[arg(long, default_value_t = 20)]
    http_read_timeout_secs: u64,
    /// Seconds in which a refresh token used a second time still gets the same new pair
    /// (two page loads at once); later it counts as reuse and ends the session. 0 turns the
    /// grace off.
    #[arg(long, default_value_t = 10)]
    refresh_grace_secs: u64,
    /// Log format.
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    /// Run the demo as if it were this moment (RFC 3339, e.g. 2026-11-25T00:30:00+01:00);
    /// the clock runs on from there. For trying the demo, and the phones' tests, at a chosen
    /// time of day. Only with --demo: a relay with real data always runs on the system clock.
    #[arg(long, requires = "demo", value_parser = parse_instant)]
    demo_at: Option<nabo_core::time::Timestamp>,
    /// A directory where activation and password-reset mails are written (RFC 5322 files in
    /// `new/`, for the installation's mail agent to send). Without it, links are shown to
    /// whoever made them.
    #[arg(long, env = "NABO_MAIL_OUTBOX")]
    mail_outbox: Option<PathBuf>,
    /// The sender of those mails.
    #[arg(long, env = "NABO_MAIL_FROM", default_value = "nabo@localhost")]
    mail_from: String,
    /// A file holding the operator's credential for the admin API (/api/v1/admin/…); or set
    /// NABO_OPERATOR_TOKEN. Without one there is no admin API.
    #[arg(long, env = "NABO_OPERATOR_TOKEN_FILE")]
    operator_token_file: Option<PathBuf>,
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
    /// Write a consistent copy of the SQLite store to a file (the relay may be running). The
    /// copy holds subject keys only wrapped: restoring it needs the same --key-file.
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
    /// The key-encryption key of subject keys (ADR 0014).
    #[command(subcommand)]
    Kek(Kek),
    /// Put a new access-token signing key in front (the previous two keep verifying); running
    /// relays on this key file pick it up within a second.
    RotateSigningKey,
    /// The organisations (tenants) of this installation (ADR 0017).
    #[command(subcommand)]
    Tenant(TenantCmd),
    /// The access log (ADR 0024).
    #[command(subcommand)]
    AccessLog(AccessLogCmd),
    /// Retention: delete or anonymise what is due (ADR 0024).
    #[command(subcommand)]
    Retention(RetentionCmd),
    /// Seed a synthetic tenant at a size of DOMAIN.md §2.3 (`national`: 162 areas, 8,000
    /// volunteers, about 250,000 attendance rows; `plan`: one typical plan), for measuring.
    /// Its administrator logs in as `central-<tenant>` with NABO_SEED_PASSWORD (or a printed
    /// password).
    Seed {
        /// `national` or `plan`.
        #[arg(long)]
        profile: String,
        /// The tenant's id (default: the profile's name).
        #[arg(long)]
        tenant: Option<String>,
        /// The seed the records follow from.
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
}

#[derive(Subcommand)]
enum AccessLogCmd {
    /// Check every tenant's hash chain (or one tenant's); exits non-zero naming the first bad
    /// entry. Prints each chain's head, to be noted down outside the database.
    Verify {
        /// Only this tenant.
        #[arg(long)]
        tenant: Option<String>,
    },
}

#[derive(Subcommand)]
enum RetentionCmd {
    /// Run the retention job once for every tenant, as the relay does on its interval (best
    /// with the relay stopped: a running relay sees the erasure marks when it next loads the
    /// registers; keys are destroyed at once either way).
    Run,
}

#[derive(Subcommand)]
enum TenantCmd {
    /// Create a tenant and its first central administrator. Prints the administrator's
    /// one-time activation link (and mails it with --mail-outbox); the link's address is
    /// --public-url, else http://<--listen>.
    Create {
        /// The organisation's name, e.g. "Boligsocial Nordby".
        #[arg(long)]
        name: String,
        /// The administrator's e-mail.
        #[arg(long)]
        admin_email: String,
        /// The administrator's name (default: the e-mail).
        #[arg(long)]
        admin_name: Option<String>,
        /// The tenant's id (default: from the name).
        #[arg(long)]
        id: Option<String>,
    },
    /// Set a tenant's identity provider (OpenID Connect) for staff sign-in.
    Oidc {
        /// The tenant's id.
        #[arg(long)]
        tenant: String,
        /// The provider's issuer URL (https; http only on this machine).
        #[arg(long)]
        issuer: String,
        /// Nabo's client id at the provider.
        #[arg(long)]
        client_id: String,
        /// A file holding Nabo's client secret (or set NABO_OIDC_CLIENT_SECRET).
        #[arg(long)]
        client_secret_file: Option<PathBuf>,
        /// GROUP=ROLE: members of the provider's group get the role (central, outreach,
        /// board) and may sign in without an invitation; repeat for more groups.
        #[arg(long = "group", value_parser = parse_group)]
        groups: Vec<(String, String)>,
        /// The claim with the groups.
        #[arg(long, default_value = "groups")]
        groups_claim: String,
        /// Scopes besides openid.
        #[arg(long, default_value = "profile email")]
        scopes: String,
        /// The button's text after "Log ind med".
        #[arg(long)]
        label: Option<String>,
    },
    /// List the tenants.
    List,
}

fn parse_group(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(g, r)| (g.trim().to_owned(), r.trim().to_owned()))
        .filter(|(g, r)| !g.is_empty() && !r.is_empty())
        .ok_or_else(|| "expected GROUP=ROLE, e.g. nabo-central=central".into())
}

#[derive(Subcommand)]
enum Kek {
    /// Write a new key ring with one fresh key (refuses to overwrite).
    Generate {
        /// Where to write it.
        #[arg(long)]
        out: PathBuf,
    },
    /// Put a new KEK in front of --key-file and re-wrap every stored key under it; the old
    /// KEKs stay readable (running relays pick up the file within a second).
    Rotate,
    /// Remove from --key-file every KEK no stored key uses any more (after a rotation, once
    /// every relay runs with the new file).
    Retire,
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
        // Four words and a number: at least 15 characters, as the password rules ask.
        let r: [u8; 4] = nabo_core::entropy::bytes();
        format!(
            "{}-{}-{}-{}",
            WORDS[r[0] as usize % WORDS.len()],
            WORDS[r[1] as usize % WORDS.len()],
            WORDS[r[2] as usize % WORDS.len()],
            10 + r[3] % 90
        )
    })
}

fn kek_source(cli: &Cli) -> anyhow::Result<KeySource> {
    if let Ok(text) = std::env::var("NABO_KEK") {
        return Ok(KeySource::Inline(text));
    }
    if let Some(path) = &cli.key_file {
        // The demo makes its KEK where it is told to keep it.
        return Ok(KeySource::File {
            path: path.clone(),
            create: cli.demo,
        });
    }
    if cli.demo {
        return Ok(KeySource::File {
            path: cli.data_dir.join("kek.keys"),
            create: true,
        });
    }
    anyhow::bail!(
        "no key-encryption key for subject keys (ADR 0014): pass --key-file FILE (make one with \
         `nabo-server kek generate --out FILE`) or set NABO_KEK; keep it apart from the database \
         and its backups"
    )
}

fn config(cli: &Cli, kek: KeySource) -> anyhow::Result<nabo_server::Config> {
    let trusted_proxies = cli
        .trusted_proxies
        .iter()
        .filter(|p| !p.trim().is_empty())
        .map(|p| {
            let p = p.trim();
            p.parse::<ipnet::IpNet>()
                .or_else(|_| p.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .with_context(|| format!("--trusted-proxy {p}: not an address or CIDR"))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let mut config = nabo_server::Config::new(cli.listen, cli.data_dir.clone(), kek);
    config.auth.refresh_grace = std::time::Duration::from_secs(cli.refresh_grace_secs);
    Ok(nabo_server::Config {
        database_url: cli.database_url.clone(),
        limits: nabo_server::relay::Limits {
            max_connections_per_user: cli.max_connections_per_user,
            max_connections: cli.max_connections,
            max_outbound_bytes: cli.max_outbound_bytes,
            page_cache_bytes: cli.page_cache_mb.saturating_mul(1 << 20),
            max_ephemeral_bytes: cli.max_ephemeral_bytes,
            ephemeral_per_second: cli.ephemeral_per_second,
            ephemeral_burst: cli.ephemeral_per_second.saturating_mul(2),
            http_read_timeout: std::time::Duration::from_secs(cli.http_read_timeout_secs.max(1)),
            ..Default::default()
        },
        site: nabo_server::http::Site {
            public_url: cli.public_url.clone(),
            trusted_proxies,
        },
        mail: nabo_server::mail::Outbox::new(cli.mail_outbox.clone(), cli.mail_from.clone()),
        operator_token: operator_token(cli)?,
        clock: cli.demo_at.map_or_else(
            nabo_core::time::Clock::system,
            nabo_core::time::Clock::starting_at,
        ),
        ..config
    })
}

/// The operator's credential: `NABO_OPERATOR_TOKEN`, or the first line of the token file.
fn operator_token(cli: &Cli) -> anyhow::Result<Option<nabo_server::admin::OperatorToken>> {
    let text = match (
        &cli.operator_token_file,
        std::env::var("NABO_OPERATOR_TOKEN"),
    ) {
        (_, Ok(t)) => t,
        (Some(f), _) => std::fs::read_to_string(f)
            .with_context(|| format!("--operator-token-file {}", f.display()))?,
        (None, _) => return Ok(None),
    };
    let token = text.lines().next().unwrap_or_default().trim().to_owned();
    anyhow::ensure!(
        token.len() >= 32,
        "the operator token must be at least 32 characters (e.g. `openssl rand -base64 32`)"
    );
    Ok(Some(nabo_server::admin::OperatorToken(token)))
}

async fn seed_command(
    cli: &Cli,
    profile: &str,
    tenant: Option<&str>,
    seed: u64,
) -> anyhow::Result<()> {
    use nabo_server::demo::national;
    let Some(p) = national::profile(profile) else {
        let names: Vec<&str> = national::PROFILES.iter().map(|p| p.name).collect();
        anyhow::bail!(
            "--profile {profile}: not a profile (one of: {})",
            names.join(", ")
        );
    };
    let tenant = tenant.unwrap_or(p.name);
    let vault = nabo_server::vault::Vault::open(kek_source(cli)?)?;
    let config = config(cli, kek_source(cli)?)?;
    std::fs::create_dir_all(&config.data_dir)?;
    let storage = nabo_server::storage::open(&config.database_url()).await?;
    let password = std::env::var("NABO_SEED_PASSWORD").unwrap_or_else(|_| demo_password());
    let started = std::time::Instant::now();
    let made = national::seed(
        storage.as_ref(),
        &vault,
        tenant,
        p,
        seed,
        &password,
        &config.clock,
    )
    .await;
    storage.close().await;
    match made? {
        None => println!("The tenant {tenant} exists already; nothing seeded."),
        Some(s) => {
            println!(
                "Seeded {tenant} (profile {}, seed {seed}) in {:.1} s: {} documents, {} attendance rows, {:.1} MB stored.",
                p.name,
                started.elapsed().as_secs_f64(),
                s.documents,
                s.attendance_rows,
                s.bytes as f64 / 1e6
            );
            println!(
                "Log in as {} with password {password}",
                national::login(tenant)
            );
        }
    }
    Ok(())
}

async fn tenant_command(cli: &Cli, cmd: &TenantCmd) -> anyhow::Result<()> {
    let vault = nabo_server::vault::Vault::open(kek_source(cli)?)?;
    let config = config(cli, kek_source(cli)?)?;
    std::fs::create_dir_all(&config.data_dir)?;
    let storage = nabo_server::storage::open(&config.database_url()).await?;
    let result = tenant_run(cli, cmd, &config, storage.as_ref(), &vault).await;
    storage.close().await;
    result
}

async fn tenant_run(
    cli: &Cli,
    cmd: &TenantCmd,
    config: &nabo_server::Config,
    storage: &dyn nabo_server::storage::Storage,
    vault: &nabo_server::vault::Vault,
) -> anyhow::Result<()> {
    use nabo_server::people;
    let refused = |e: people::PeopleError| match e {
        people::PeopleError::Refused(r) => {
            anyhow::anyhow!("{} ({}: {})", r.message, r.field, r.reason)
        }
        other => anyhow::anyhow!(other),
    };
    match cmd {
        TenantCmd::Create {
            name,
            admin_email,
            admin_name,
            id,
        } => {
            let ops = people::People {
                storage,
                vault,
                docs: people::Docs::Storage,
                by: nabo_core::model::By::System,
                at: nabo_core::time::Timestamp::now(),
            };
            let (tenant, created) = people::create_tenant(
                &ops,
                people::NewTenant {
                    id: id.clone(),
                    name: name.clone(),
                    admin: people::NewStaff {
                        name: admin_name.clone().unwrap_or_default(),
                        title: "Administrator".into(),
                        email: admin_email.clone(),
                        ..Default::default()
                    },
                },
            )
            .await
            .map_err(refused)?;
            let user = storage
                .user(&created.user_id)
                .await?
                .context("the administrator was not stored")?;
            let origin = cli.public_url.as_ref().map_or_else(
                || format!("http://{}", cli.listen),
                |u| u.origin().to_owned(),
            );
            let link = people::issue_link(
                &ops,
                &config.mail,
                &user,
                nabo_server::storage::LinkPurpose::Activate,
                None,
                &origin,
            )
            .await
            .map_err(refused)?;
            println!(
                "Organisationen «{}» er oprettet (id: {tenant}).",
                name.trim()
            );
            println!(
                "Central administrator: {} (brugernavn: {})",
                user.display_name, user.username
            );
            println!(
                "Aktiveringslink (virker én gang, udløber {}):",
                nabo_server::web::fmt::datetime(nabo_core::time::Timestamp(link.expires_at))
            );
            println!("  {}", link.url);
            if link.mailed {
                println!("Linket er også sendt til {admin_email} (mail-udbakken).");
            }
        }
        TenantCmd::Oidc {
            tenant,
            issuer,
            client_id,
            client_secret_file,
            groups,
            groups_claim,
            scopes,
            label,
        } => {
            let secret = match (std::env::var("NABO_OIDC_CLIENT_SECRET"), client_secret_file) {
                (Ok(s), _) => s,
                (_, Some(f)) => std::fs::read_to_string(f)
                    .with_context(|| format!("--client-secret-file {}", f.display()))?
                    .lines()
                    .next()
                    .unwrap_or_default()
                    .to_owned(),
                _ => anyhow::bail!(
                    "give the client secret in --client-secret-file or NABO_OIDC_CLIENT_SECRET"
                ),
            };
            let t: nabo_core::ids::TenantId = tenant
                .parse()
                .map_err(|_| anyhow::anyhow!("no tenant {tenant}"))?;
            nabo_server::admin::configure_oidc(
                storage,
                vault,
                &t,
                nabo_server::admin::OidcInput {
                    issuer: issuer.clone(),
                    client_id: client_id.clone(),
                    client_secret: secret,
                    scopes: Some(scopes.clone()),
                    groups_claim: Some(groups_claim.clone()),
                    groups: groups.iter().cloned().collect(),
                    label: label.clone(),
                },
            )
            .await
            .map_err(|e| match e {
                people::PeopleError::NotFound => anyhow::anyhow!("no tenant {tenant}"),
                other => refused(other),
            })?;
            println!("Organisationens login er sat op for {tenant}: {issuer}");
            println!("Redirect-URI hos udbyderen: <offentlig adresse>/oidc/callback");
        }
        TenantCmd::List => {
            for t in storage.tenants().await? {
                println!("{t}");
            }
        }
    }
    Ok(())
}

/// Resolves on SIGTERM (the service manager stopping the relay) or Ctrl-C.
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
                return;
            }
            Err(e) => tracing::warn!(error = %e, "cannot listen for SIGTERM"),
        }
    }
    tokio::signal::ctrl_c().await.ok();
}

async fn verify_access_log(cli: &Cli, only: Option<&str>) -> anyhow::Result<()> {
    let config = config(cli, KeySource::Inline(String::new()))?;
    let storage = nabo_server::storage::open(&config.database_url()).await?;
    let tenants = match only {
        Some(t) => vec![
            t.parse()
                .map_err(|_| anyhow::anyhow!("not a tenant id: {t}"))?,
        ],
        None => storage.tenants().await?,
    };
    let mut broken = Vec::new();
    for tenant in &tenants {
        match nabo_server::access_log::verify(storage.as_ref(), tenant).await {
            Ok(v) => println!(
                "{tenant}: intact, {} entries checked, head {} {}",
                v.checked,
                v.head.seq,
                nabo_core::access_log::hex(&v.head.hash)
            ),
            Err(nabo_server::access_log::VerifyError::Broken(b)) => {
                println!("{tenant}: BROKEN at entry {}: {b}", b.seq());
                broken.push(format!("{tenant} entry {}", b.seq()));
            }
            Err(e) => return Err(e.into()),
        }
    }
    storage.close().await;
    anyhow::ensure!(
        broken.is_empty(),
        "the access log is broken: first bad entry {}",
        broken.join("; ")
    );
    Ok(())
}

async fn retention_run(cli: &Cli) -> anyhow::Result<()> {
    let config = config(cli, kek_source(cli)?)?;
    let storage = nabo_server::storage::open(&config.database_url()).await?;
    let state = nabo_server::state_for(&config, storage.clone()).await?;
    let reports = nabo_server::retention::run(&state).await?;
    for r in reports {
        println!(
            "{}: {} anonymised, {} reports anonymised or deleted, {} kept by a legal hold, {} access-log entries pruned (as of {})",
            r.tenant, r.anonymised, r.reports, r.held, r.log_pruned, r.today
        );
    }
    storage.close().await;
    Ok(())
}

async fn kek_command(cli: &Cli, cmd: &Kek) -> anyhow::Result<()> {
    if let Kek::Generate { out } = cmd {
        anyhow::ensure!(!out.exists(), "{} exists; not overwritten", out.display());
        nabo_server::keys::write(out, &nabo_server::keys::Keyring::generate())?;
        println!(
            "key-encryption key written to {} (keep it apart from the database and its backups)",
            out.display()
        );
        return Ok(());
    }
    let vault = nabo_server::vault::Vault::open(kek_source(cli)?)?;
    let config = config(cli, kek_source(cli)?)?;
    let storage = nabo_server::storage::open(&config.database_url()).await?;
    match cmd {
        Kek::Rotate => {
            let (id, n) = nabo_server::vault::rotate(&vault, storage.as_ref()).await?;
            println!(
                "new key-encryption key {id}; {n} subject keys re-wrapped; the old keys stay readable until `nabo-server kek retire`"
            );
        }
        Kek::Retire => {
            let retired = nabo_server::vault::retire(&vault, storage.as_ref()).await?;
            println!("retired: {}", retired.join(", "));
        }
        Kek::Generate { .. } => {}
    }
    storage.close().await;
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    init_logging(cli.log_format);
    match &cli.command {
        Some(Command::Backup { out }) => {
            let config = config(&cli, KeySource::Inline(String::new()))?;
            let storage = nabo_server::storage::open(&config.database_url()).await?;
            storage.backup_to(out).await.context("backup failed")?;
            storage.close().await;
            println!("backup written to {}", out.display());
            return Ok(());
        }
        Some(Command::Restore { from }) => {
            let config = config(&cli, KeySource::Inline(String::new()))?;
            restore(&config, from).await?;
            return Ok(());
        }
        Some(Command::Kek(k)) => return kek_command(&cli, k).await,
        Some(Command::Tenant(t)) => return tenant_command(&cli, t).await,
        Some(Command::AccessLog(AccessLogCmd::Verify { tenant })) => {
            return verify_access_log(&cli, tenant.as_deref()).await;
        }
        Some(Command::Retention(RetentionCmd::Run)) => return retention_run(&cli).await,
        Some(Command::Seed {
            profile,
            tenant,
            seed,
        }) => return seed_command(&cli, profile, tenant.as_deref(), *seed).await,
        Some(Command::RotateSigningKey) => {
            let keys = nabo_server::auth::open_signing_keys(nabo_server::auth::signing_keys(
                &cli.data_dir,
            )?)?;
            let id = nabo_server::auth::rotate_signing_key(&keys)?;
            println!("new signing key {id} in {}", keys.source_name());
            return Ok(());
        }
        None => {}
    }
    let kek = kek_source(&cli)?;
    let config = config(&cli, kek.clone())?;
    std::fs::create_dir_all(&config.data_dir)?;
    let storage = nabo_server::storage::open(&config.database_url()).await?;
    // Seed before listening, so nobody logs in to a half-made demo.
    let seeded = if cli.demo {
        let password = demo_password();
        let vault = nabo_server::vault::Vault::open(kek)?;
        Some((
            nabo_server::demo::seed(storage.as_ref(), &vault, &password, &config.clock).await?,
            password,
        ))
    } else {
        None
    };
    let public = config.site.public_url.clone();
    let running = nabo_server::start_with(config, storage).await?;
    if let Some((seeded, password)) = seeded {
        let url = public.map_or_else(
            || format!("http://{}", running.addr),
            |u| u.origin().to_owned(),
        );
        let ws = format!(
            "{}/sync",
            url.replacen("https://", "wss://", 1)
                .replacen("http://", "ws://", 1)
        );
        println!();
        println!("  Nabo kører på {url}");
        println!("  Log ind i browseren: {url}/log-ind (central medarbejder: «central»)");
        println!("  Synkronisering: {ws}");
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
    stop_signal().await;
    tracing::info!("shutting down");
    running.shutdown().await;
    tracing::info!("stopped");
    Ok(())
}

async fn restore(config: &nabo_server::Config, from: &std::path::Path) -> anyhow::Result<()> {
    let target = nabo_server::restore_sqlite(&config.database_url(), from).await?;
    println!(
        "restored {} from {}; erasures made since the backup are applied again when the relay starts (ADR 0032)",
        target.display(),
        from.display()
    );
    Ok(())
}
