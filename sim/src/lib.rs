//! # nabo-sim
//!
//! Deterministic simulation of Nabo's real phones and real relay (ADR 0036, issue 14 item 1).
//! One thread runs everything: the relay (`nabo_server::start_on`: axum, the hub, the rules,
//! SQLite through sqlx) and 3–10 phones (`nabo_bindings::NaboClient`: the sync engine and the
//! encrypted store) as [turmoil] hosts on a simulated network and clock. The driver injects
//! faults from the seed — partitions, held and released links, phone restarts with their
//! store kept, relay restarts with the database kept, storage errors on both sides — then
//! heals everything and checks ([`check`]):
//!
//! 1. every head a phone stored as saved after an edit is in the relay's document (nothing
//!    saved is lost), unless the relay refused that document's changes (counted);
//! 2. every phone's documents are identical to the relay's, and phones of one login hold
//!    the same documents;
//! 3. phones of one login show the same roll calls and outreach log;
//! 4. no phone wiped itself without being told to.
//!
//! Randomness (`nabo_core::entropy`) and the clock (`nabo_core::time`) of Nabo's own code
//! are seeded from the run's seed on this thread, and each SQL call holds the host's clock
//! to its end before anything else on the thread runs ([`inline`]), so a seed replays bit for bit: [`Outcome::digest`] is a SHA-256 over
//! the log of every call with its simulated time and result, and the final state.
//! `cargo xtask sim --seed N` replays one seed and prints its digest.

pub mod batch;
pub mod inline;
pub mod net;
pub mod office;
pub mod phone;
pub mod storage;
pub mod template;
pub mod world;

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, UNIX_EPOCH};

use automerge::{ChangeHash, ReadDoc};
use nabo_bindings::api::ChangeKind;
use nabo_core::document::DocumentId;
use nabo_server::storage::{SqliteStorage, Storage};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use sha2::{Digest, Sha256};

use crate::phone::PhoneSpec;
use crate::storage::{Bus, Faults, SimStorage};
use crate::world::{Phase, World};

/// The logins the phones sign in as, in order: phone `i` is `USERS[i]`. Volunteer 1 and
/// outreach worker 1 have two phones each, so their views can be compared.
pub const USERS: &[&str] = &[
    "volunteer1",
    "outreach1",
    "volunteer1",
    "volunteer2",
    "outreach1",
    "volunteer3",
    "outreach2",
    "volunteer4",
    "volunteer5",
    "volunteer2",
];

/// The size of a run.
#[derive(Debug, Clone)]
pub struct Params {
    /// Phones (3–10).
    pub phones: usize,
    /// Relay nodes on the one database (1 or 2); a phone syncs with one node per boot, in
    /// turn ([`phone::PhoneSpec::relay`]).
    pub nodes: usize,
    /// Simulated time of editing under faults.
    pub work: Duration,
    /// Simulated time of healing before the final rounds.
    pub heal: Duration,
    /// Whether faults are injected.
    pub faults: bool,
    /// The most simulated time a run may take (past it: no convergence).
    pub cap: Duration,
}

impl Params {
    /// The suite's size: 3–5 phones, 40 seconds of work.
    pub fn suite(seed: u64) -> Self {
        Params {
            phones: 3 + (seed % 3) as usize,
            nodes: nodes_for(seed),
            work: Duration::from_secs(40),
            heal: Duration::from_secs(20),
            faults: true,
            cap: Duration::from_secs(600),
        }
    }

    /// The long run's size: 3–10 phones, five minutes of work.
    pub fn long(seed: u64) -> Self {
        Params {
            phones: 3 + (seed % 8) as usize,
            nodes: nodes_for(seed),
            work: Duration::from_secs(300),
            heal: Duration::from_secs(60),
            faults: true,
            cap: Duration::from_secs(3600),
        }
    }
}

/// Relay nodes for a seed: two where bit 3 of the seed is set (half the seeds, apart from the
/// phone counts' `seed % 3` and `seed % 8`), else one. Seeds with one node run exactly as
/// before nodes were added: the driver draws nothing more for them.
pub fn nodes_for(seed: u64) -> usize {
    1 + ((seed >> 3) & 1) as usize
}

/// What a run did and ended with.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// The seed.
    pub seed: u64,
    /// SHA-256 (hex) over the log and the final state: equal for equal seeds.
    pub digest: String,
    /// Phones.
    pub phones: usize,
    /// Relay nodes.
    pub nodes: usize,
    /// Simulation steps.
    pub steps: u64,
    /// Simulated milliseconds.
    pub sim_ms: u128,
    /// Calls that succeeded / failed.
    pub ok: usize,
    /// Calls that failed (offline, faults, refusals).
    pub failed: usize,
    /// Heads stored as saved after edits, all found at the relay.
    pub saved_heads: usize,
    /// Documents compared at the end (over all phones).
    pub documents: usize,
    /// Phones partitioned from the relay.
    pub partitions: u32,
    /// Links held and released later (messages reordered across connections).
    pub holds: u32,
    /// Phone restarts (store kept).
    pub phone_restarts: u32,
    /// Relay restarts (database kept).
    pub relay_restarts: u32,
    /// Times a node stopped hearing the other (its notices dropped, then told it missed some).
    pub deafened: u32,
    /// Notices between the nodes: (delivered, dropped on a deaf node).
    pub notices: (u64, u64),
    /// Relay storage calls failed on purpose: (before the work, after it).
    pub relay_storage_faults: (u64, u64),
    /// Phone store calls failed on purpose.
    pub phone_storage_faults: u64,
    /// Refusals the phones announced (their unsent changes were not accepted).
    pub refused: usize,
    /// Whether the office erased a person during the run (then checked gone everywhere).
    pub erased: bool,
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "seed={} phones={} nodes={} steps={} sim={}s calls ok={} failed={} saved-heads={} \
             docs={} partitions={} holds={} phone-restarts={} relay-restarts={} deafened={} \
             notices={}+{} relay-storage-faults={}+{} phone-storage-faults={} refused={} \
             erased={} digest={}",
            self.seed,
            self.phones,
            self.nodes,
            self.steps,
            self.sim_ms / 1000,
            self.ok,
            self.failed,
            self.saved_heads,
            self.documents,
            self.partitions,
            self.holds,
            self.phone_restarts,
            self.relay_restarts,
            self.deafened,
            self.notices.0,
            self.notices.1,
            self.relay_storage_faults.0,
            self.relay_storage_faults.1,
            self.phone_storage_faults,
            self.refused,
            self.erased,
            &self.digest[..16.min(self.digest.len())],
        )
    }
}

/// A failed seed: what failed, and how to replay it.
#[derive(Debug, Clone)]
pub struct Failure {
    /// The seed.
    pub seed: u64,
    /// What failed.
    pub check: String,
    /// The run so far.
    pub outcome: Box<Outcome>,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "SIM FAIL seed={} (phones={}, steps={}): {}; replay: cargo xtask sim --seed {}",
            self.seed, self.outcome.phones, self.outcome.steps, self.check, self.seed
        )
    }
}

fn sim_now() -> i64 {
    let since = turmoil::sim_elapsed().unwrap_or_default();
    template::EPOCH_MS + since.as_millis() as i64
}

/// Stamps trace lines with simulated milliseconds.
struct SimTimer;

impl tracing_subscriber::fmt::time::FormatTime for SimTimer {
    fn format_time(&self, w: &mut tracing_subscriber::fmt::format::Writer<'_>) -> std::fmt::Result {
        write!(
            w,
            "{}",
            turmoil::sim_elapsed().unwrap_or_default().as_millis()
        )
    }
}

/// Sets this thread up for a run and undoes it when dropped.
struct ThreadHooks;

impl ThreadHooks {
    fn install(seed: u64, phone_faults: Rc<RefCell<PhoneFaults>>) -> Self {
        nabo_core::entropy::seed_this_thread(seed);
        nabo_core::time::set_thread_clock(Some(sim_now));
        nabo_bindings::run_inline_on_this_thread(true);
        nabo_core::store::set_thread_hook(Some(Rc::new(inline::PhoneHook {
            faults: phone_faults,
        })));
        ThreadHooks
    }
}

impl Drop for ThreadHooks {
    fn drop(&mut self) {
        nabo_core::store::set_thread_hook(None);
        nabo_bindings::run_inline_on_this_thread(false);
        nabo_core::time::set_thread_clock(None);
        nabo_core::entropy::unseed_this_thread();
    }
}

/// Storage faults on the phones' side: each store call fails with probability `p`.
#[derive(Debug)]
pub(crate) struct PhoneFaults {
    p: f64,
    rng: StdRng,
    injected: u64,
}

impl PhoneFaults {
    fn draw(&mut self) -> bool {
        if self.p <= 0.0 {
            return false;
        }
        let hit = self.rng.random_bool(self.p);
        self.injected += u64::from(hit);
        hit
    }
}

/// The driver's index in the log (faults it injects).
const DRIVER: usize = usize::MAX;

/// A fault to undo later.
#[derive(Debug, Clone)]
enum Undo {
    Repair(String),
    Release(String),
    RelayStorage(usize),
    PhoneStorage,
    HearAgain(usize),
}

/// Runs seed `seed` with `params` and checks the result, on a fresh thread of its own (the
/// hooks are per thread; the relay's and phones' futures need a deep stack unoptimised).
pub fn run(seed: u64, params: &Params) -> Result<Outcome, Failure> {
    let p = params.clone();
    let joined = std::thread::Builder::new()
        .name(format!("sim-{seed}"))
        .stack_size(64 << 20)
        .spawn(move || run_here(seed, &p))
        .map(std::thread::JoinHandle::join);
    match joined {
        Ok(Ok(r)) => r,
        Ok(Err(panic)) => Err(Failure {
            seed,
            check: format!("panicked: {}", panic_text(&panic)),
            outcome: Box::new(Outcome {
                seed,
                phones: params.phones,
                nodes: params.nodes,
                ..Outcome::default()
            }),
        }),
        Err(e) => Err(Failure {
            seed,
            check: format!("no thread: {e}"),
            outcome: Box::default(),
        }),
    }
}

fn panic_text(p: &Box<dyn std::any::Any + Send>) -> String {
    p.downcast_ref::<String>()
        .cloned()
        .or_else(|| p.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_else(|| "(no message)".into())
}

fn run_here(seed: u64, params: &Params) -> Result<Outcome, Failure> {
    // The template's first build numbers tasks too: before the counter is aligned.
    template::template();
    align_task_ids();
    let dir = template::base_dir().join(format!(
        "nabo-sim-{}-{seed}-{}",
        std::process::id(),
        nabo_core::entropy::uuid().simple()
    ));
    let r = run_in(seed, params, &dir);
    let _ = std::fs::remove_dir_all(&dir);
    r
}

/// tokio numbers its tasks from one counter per process, and a runtime that stops (a host
/// restarting) drops its tasks shard by shard, a task's shard being its number modulo the
/// shard count (4 on a current-thread runtime). The order in which a restarted host's sockets
/// close, and so the order of the network's draws, thus depends on where the counter stood
/// when the run began. Each run starts it at a multiple of 64, and a process runs one seed at
/// a time ([`batch`] runs seeds side by side in processes, not threads).
fn align_task_ids() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap_or_else(|e| panic!("a runtime to number tasks: {e}"));
    loop {
        let id = rt.spawn(async {}).id().to_string();
        let n: u64 = id
            .parse()
            .unwrap_or_else(|_| panic!("tokio's task id {id:?} is not a number"));
        if n % 64 == 63 {
            break;
        }
    }
}

fn run_in(seed: u64, params: &Params, dir: &Path) -> Result<Outcome, Failure> {
    let relay_dir = dir.join("relay");
    let mut outcome = Outcome {
        seed,
        phones: params.phones,
        nodes: params.nodes,
        ..Outcome::default()
    };
    let fail = |outcome: &Outcome, check: String| Failure {
        seed,
        check,
        outcome: Box::new(outcome.clone()),
    };
    template::copy_to(&relay_dir).map_err(|e| fail(&outcome, format!("set-up: {e}")))?;

    let phone_faults = Rc::new(RefCell::new(PhoneFaults {
        p: 0.0,
        rng: StdRng::seed_from_u64(seed ^ 0xFA17),
        injected: 0,
    }));
    let hooks = ThreadHooks::install(seed, phone_faults.clone());
    // NABO_SIM_TRACE=FILE: the relay's and the phones' tracing at debug, stamped with
    // simulated time (comparing two runs of a seed finds where they part).
    let _trace = std::env::var("NABO_SIM_TRACE").ok().and_then(|path| {
        let file = std::fs::File::create(path).ok()?;
        let subscriber = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(
                std::env::var("NABO_SIM_TRACE_FILTER").unwrap_or_else(|_| "debug".into()),
            ))
            .with_timer(SimTimer)
            .with_ansi(false)
            .with_writer(Mutex::new(file))
            .finish();
        Some(tracing::subscriber::set_default(subscriber))
    });
    let world = Rc::new(RefCell::new(World::new(params.phones)));
    let nodes = params.nodes.clamp(1, net::RELAY_HOSTS.len());
    let faults: Vec<Arc<Faults>> = (0..nodes).map(|_| Arc::new(Faults::default())).collect();
    let bus = (nodes > 1).then(|| Arc::new(Bus::default()));
    // A phone's links: to every node (cut or held together, as when it is out of reach).
    let relays = &net::RELAY_HOSTS[..nodes];

    let mut sim = turmoil::Builder::new()
        .rng_seed(seed)
        .epoch(UNIX_EPOCH + Duration::from_millis(template::EPOCH_MS as u64))
        .tick_duration(Duration::from_millis(10))
        .min_message_latency(Duration::from_millis(1))
        .max_message_latency(Duration::from_millis(60))
        .simulation_duration(params.cap)
        .build();

    let configs = (0..nodes)
        .map(|n| template::node_config(&relay_dir, n))
        .collect::<std::io::Result<Vec<_>>>()
        .map_err(|e| fail(&outcome, format!("set-up of the relay nodes: {e}")))?;
    // Node 0 first and node 1 last: a run with one node registers its hosts as before.
    let relay_host = |sim: &mut turmoil::Sim<'_>, node: usize| {
        let config = configs[node].clone();
        let faults = faults[node].clone();
        let bus = bus.clone().map(|b| (node, b));
        sim.host(net::RELAY_HOSTS[node], move || {
            relay(config.clone(), faults.clone(), bus.clone())
        });
    };
    relay_host(&mut sim, 0);
    let phones: Vec<PhoneSpec> = (0..params.phones)
        .map(|i| PhoneSpec {
            index: i,
            user: USERS[i % USERS.len()],
            dir: dir.join(phone::host(i)),
            seed,
            nodes,
        })
        .collect();
    for spec in &phones {
        let spec = spec.clone();
        let world = world.clone();
        sim.host(spec.host(), move || phone::run(spec.clone(), world.clone()));
    }

    let mut rng = StdRng::seed_from_u64(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD21E);
    // In three runs of four the office erases a child at a moment of the work (part of the
    // workload, not a fault).
    if rng.random_range(0..4) > 0 {
        let mut w = world.borrow_mut();
        w.erase_at = Some(Duration::from_millis(
            rng.random_range(5_000..params.work.as_millis().max(5_001) as u64),
        ));
        w.erase_pick = rng.random_range(0..1_000);
    }
    {
        let world = world.clone();
        // The office works through the last node (with two, not every phone's).
        sim.host("office", move || {
            office::run(world.clone(), net::RELAY_HOSTS[nodes - 1])
        });
    }
    for node in 1..nodes {
        relay_host(&mut sim, node);
    }
    let mut next_fault = Duration::from_millis(rng.random_range(2_000..6_000));
    let mut undo: Vec<(Duration, Undo)> = Vec::new();
    // NABO_SIM_PROGRESS=1: simulated against real time every thousand steps.
    let progress = std::env::var_os("NABO_SIM_PROGRESS").is_some();
    let started = std::time::Instant::now();
    let heal_at = params.work;
    let final_at = params.work + params.heal;
    loop {
        let now = sim.elapsed();
        let phase = world.borrow().phase;
        match phase {
            Phase::Work if now >= heal_at => {
                // Heal: every link up, every fault off.
                for spec in &phones {
                    for r in relays {
                        sim.repair(spec.host(), *r);
                        sim.release(spec.host(), *r);
                    }
                }
                undo.clear();
                for f in &faults {
                    f.off();
                }
                if let Some(bus) = &bus {
                    (0..nodes).for_each(|n| bus.hear_again(n));
                }
                phone_faults.borrow_mut().p = 0.0;
                world.borrow_mut().phase = Phase::Heal;
            }
            Phase::Work if params.faults => {
                undo.retain(|(at, u)| {
                    if *at > now {
                        return true;
                    }
                    match u {
                        Undo::Repair(h) => relays.iter().for_each(|r| sim.repair(h.as_str(), *r)),
                        Undo::Release(h) => relays.iter().for_each(|r| sim.release(h.as_str(), *r)),
                        Undo::RelayStorage(n) => faults[*n].off(),
                        Undo::PhoneStorage => phone_faults.borrow_mut().p = 0.0,
                        Undo::HearAgain(n) => {
                            if let Some(bus) = &bus {
                                bus.hear_again(*n);
                            }
                        }
                    }
                    false
                });
                if now >= next_fault {
                    let later = now + Duration::from_millis(rng.random_range(500..15_000));
                    let h = phone::host(rng.random_range(0..params.phones));
                    let mut who = h.clone();
                    // With two nodes a relay fault draws its node (with one, nothing more is
                    // drawn: such runs are as before).
                    let node = |rng: &mut StdRng, who: &mut String| {
                        if nodes == 1 {
                            return 0;
                        }
                        let n = rng.random_range(0..nodes);
                        *who = net::RELAY_HOSTS[n].to_owned();
                        n
                    };
                    let roll = rng.random_range(0..100);
                    let what = match roll {
                        0..30 => {
                            relays.iter().for_each(|r| sim.partition(h.as_str(), *r));
                            undo.push((later, Undo::Repair(h)));
                            outcome.partitions += 1;
                            "partition"
                        }
                        30..45 => {
                            relays.iter().for_each(|r| sim.hold(h.as_str(), *r));
                            undo.push((later, Undo::Release(h)));
                            outcome.holds += 1;
                            "hold"
                        }
                        45..65 => {
                            sim.bounce(h.as_str());
                            outcome.phone_restarts += 1;
                            "restart"
                        }
                        65..75 => {
                            let n = node(&mut rng, &mut who);
                            match &bus {
                                // Half of these with two nodes: a node's listening
                                // connection lost (PostgreSQL restarted, a network cut).
                                Some(bus) if roll >= 70 => {
                                    bus.deafen(n);
                                    undo.push((later, Undo::HearAgain(n)));
                                    outcome.deafened += 1;
                                    "deafen-relay"
                                }
                                _ => {
                                    sim.bounce(net::RELAY_HOSTS[n]);
                                    outcome.relay_restarts += 1;
                                    "restart-relay"
                                }
                            }
                        }
                        75..90 => {
                            let n = node(&mut rng, &mut who);
                            faults[n].set(0.05, 0.05, rng.random_range(0..u64::MAX));
                            undo.push((later, Undo::RelayStorage(n)));
                            "relay-storage-faults"
                        }
                        _ => {
                            phone_faults.borrow_mut().p = 0.05;
                            undo.push((later, Undo::PhoneStorage));
                            "phone-storage-faults"
                        }
                    };
                    world
                        .borrow_mut()
                        .events
                        .push((now.as_millis(), DRIVER, what, who));
                    next_fault = now + Duration::from_millis(rng.random_range(1_000..8_000));
                }
            }
            Phase::Heal if now >= final_at => world.borrow_mut().phase = Phase::Final,
            Phase::Final if world.borrow().turn >= 2 * params.phones => {
                world.borrow_mut().phase = Phase::Report;
            }
            Phase::Report
                if world.borrow().reports.iter().all(Option::is_some)
                    && !sim.is_host_running("office") =>
            {
                break;
            }
            _ => {}
        }
        if now > params.cap {
            write_log(&world.borrow());
            outcome.sim_ms = now.as_millis();
            let w = world.borrow();
            let stuck = match w.phase {
                Phase::Final => format!(
                    "phone{} never synced in the final round",
                    w.turn % params.phones
                ),
                p => format!("still in phase {p:?}"),
            };
            drop(w);
            drop(sim);
            drop(hooks);
            return Err(fail(
                &outcome,
                format!(
                    "no convergence within {:?} of simulated time: {stuck}",
                    params.cap
                ),
            ));
        }
        outcome.steps += 1;
        if progress && outcome.steps.is_multiple_of(1000) {
            let w = world.borrow();
            eprintln!(
                "seed {seed}: sim {:?} after {:.1?} real, phase {:?}, {} calls",
                sim.elapsed(),
                started.elapsed(),
                w.phase,
                w.events.len()
            );
        }
        if let Err(e) = sim.step() {
            write_log(&world.borrow());
            outcome.sim_ms = sim.elapsed().as_millis();
            let phase = world.borrow().phase;
            drop(sim);
            drop(hooks);
            return Err(fail(&outcome, format!("{e} (in phase {phase:?})")));
        }
    }
    outcome.sim_ms = sim.elapsed().as_millis();
    drop(sim);
    outcome.relay_storage_faults = faults
        .iter()
        .map(|f| f.injected())
        .fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
    outcome.notices = bus.as_ref().map(|b| b.counts()).unwrap_or_default();
    outcome.phone_storage_faults = phone_faults.borrow().injected;
    drop(hooks);
    let world = Rc::try_unwrap(world)
        .map_err(|_| fail(&outcome, "the world is still shared".into()))?
        .into_inner();
    write_log(&world);
    check(&world, &relay_dir, &mut outcome).map_err(|c| fail(&outcome, c))?;
    Ok(outcome)
}

/// A relay node's program from (re)start: the real relay on the copied database, through the
/// faulty storage (and with two nodes, the bus between them), on the simulated network.
async fn relay(
    config: nabo_server::Config,
    faults: Arc<Faults>,
    bus: Option<(usize, Arc<Bus>)>,
) -> turmoil::Result {
    let url = config.database_url();
    loop {
        let storage = inline::block(SqliteStorage::connect_with(&url, storage::CONNECTIONS));
        let storage = match storage {
            Ok(s) => Arc::new(SimStorage::new(Arc::new(s), faults.clone(), bus.clone())),
            Err(_) => {
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        let listener =
            net::SimListener(turmoil::net::TcpListener::bind(("0.0.0.0", net::RELAY_PORT)).await?);
        match nabo_server::start_on(config.clone(), storage, listener).await {
            Ok(_running) => {
                std::future::pending::<()>().await;
            }
            Err(_) => tokio::time::sleep(Duration::from_secs(1)).await,
        }
    }
}

/// NABO_SIM_LOG=FILE: every call with its simulated time and result, for reading a seed.
fn write_log(world: &World) {
    if let Ok(path) = std::env::var("NABO_SIM_LOG") {
        let text: String = world
            .events
            .iter()
            .map(|(at, i, call, result)| {
                let who = match *i {
                    DRIVER => "driver".to_owned(),
                    i if i == world.phones() => "office".to_owned(),
                    i => phone::host(i),
                };
                format!("{at} {who} {call} {result}\n")
            })
            .collect();
        let _ = std::fs::write(path, text);
    }
}

/// What the relay holds after the run.
struct RelayState {
    docs: BTreeMap<DocumentId, automerge::Automerge>,
    /// Whether the erased person's key is still stored, and whether the erasure is logged.
    erased: Option<(bool, bool)>,
}

/// Reads the relay's documents (and the erased person's traces) from its database.
fn relay_state(
    dir: &Path,
    ids: &BTreeSet<DocumentId>,
    erased: Option<&str>,
) -> Result<RelayState, String> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    rt.block_on(async {
        let s = SqliteStorage::connect_with(&template::database_url(dir), 1)
            .await
            .map_err(|e| format!("the relay's database: {e}"))?;
        let mut docs = BTreeMap::new();
        for id in ids {
            let chunks = s
                .chunks(*id)
                .await
                .map_err(|e| format!("chunks of {id}: {e}"))?;
            if chunks.is_empty() {
                continue;
            }
            let doc = nabo_core::document::load_automerge(&chunks.concat())
                .map_err(|e| format!("the relay's {id} does not load: {e}"))?;
            docs.insert(*id, doc);
        }
        let erased = match erased {
            Some(x) => {
                let tenant = nabo_server::demo::TENANT
                    .parse()
                    .map_err(|e| format!("{e}"))?;
                let key = s
                    .subject_key(&tenant, x)
                    .await
                    .map_err(|e| format!("subject key: {e}"))?;
                let logged = s
                    .erased_among(&tenant, &[x.to_owned()])
                    .await
                    .map_err(|e| format!("erased: {e}"))?;
                Some((key.is_some(), logged.iter().any(|l| l == x)))
            }
            None => None,
        };
        s.close().await;
        Ok(RelayState { docs, erased })
    })
}

fn sorted(mut h: Vec<ChangeHash>) -> Vec<ChangeHash> {
    h.sort();
    h
}

/// The checks after healing (see the crate's documentation); also computes the digest.
fn check(world: &World, relay_dir: &Path, outcome: &mut Outcome) -> Result<(), String> {
    outcome.ok = world.events.iter().filter(|e| e.3 == "ok").count();
    outcome.failed = world.events.len() - outcome.ok;
    let reports: Vec<&world::Report> = world.reports.iter().flatten().collect();
    let notices = world
        .notices
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    outcome.refused = notices
        .iter()
        .filter(|n| n.1 == ChangeKind::Refused)
        .count();
    if let Some(w) = notices.iter().find(|n| n.1 == ChangeKind::Wiped) {
        return Err(format!("phone{} wiped itself unasked", w.0));
    }
    // A sync fails only while the relay is out of reach (a partition, a restart, its storage
    // failing: 503) or the phone's own storage errs; anything else is the relay and the phone
    // disagreeing (as when unenrolled phones had their erasure confirmations refused).
    if let Some((at, i, _, result)) = world.events.iter().find(|e| {
        e.2 == "sync"
            && e.3 != "ok"
            && !e.3.starts_with("err: offline:")
            && !e.3.contains(inline::PHONE_FAULT)
    }) {
        return Err(format!(
            "phone{i}'s sync at {at} ms failed with \"{result}\", neither offline nor a storage fault"
        ));
    }
    let refused: BTreeSet<(usize, String)> = notices
        .iter()
        .filter(|n| n.1 == ChangeKind::Refused)
        .filter_map(|n| n.2.clone().map(|d| (n.0, d)))
        .collect();

    let mut ids = BTreeSet::new();
    for r in &reports {
        ids.extend(r.docs.keys().copied());
    }
    for s in &world.saved {
        ids.extend(s.keys().copied());
    }
    let state = relay_state(relay_dir, &ids, world.erased.as_deref())?;
    let relay = &state.docs;

    // 1. Nothing saved is lost.
    for (i, saved) in world.saved.iter().enumerate() {
        for (d, heads) in saved {
            if refused.contains(&(i, d.to_string())) {
                continue;
            }
            let Some(doc) = relay.get(d) else {
                return Err(format!(
                    "phone{i} saved document {d}, which the relay does not have"
                ));
            };
            for h in heads {
                if doc.get_change_by_hash(h).is_none() {
                    return Err(format!(
                        "phone{i} saved change {h} of {d}, which the relay does not have"
                    ));
                }
                outcome.saved_heads += 1;
            }
        }
    }
    // 2. Every phone's documents are the relay's.
    for (i, r) in world.reports.iter().enumerate() {
        let Some(r) = r else {
            return Err(format!("phone{i} did not report"));
        };
        for (d, heads) in &r.docs {
            let Some(doc) = relay.get(d) else {
                return Err(format!("phone{i} holds {d}, which the relay does not have"));
            };
            let relay_heads = sorted(doc.get_heads());
            if sorted(heads.clone()) != relay_heads {
                return Err(format!(
                    "phone{i}'s {d} differs from the relay's: heads {heads:?} vs {relay_heads:?}"
                ));
            }
            outcome.documents += 1;
        }
    }
    // 2b and 3. Phones of one login hold the same documents and show the same.
    for (i, a) in world.reports.iter().enumerate() {
        for (j, b) in world.reports.iter().enumerate().skip(i + 1) {
            let (Some(a), Some(b)) = (a, b) else { continue };
            if a.view.first() != b.view.first() {
                continue;
            }
            let (da, db): (BTreeSet<_>, BTreeSet<_>) =
                (a.docs.keys().collect(), b.docs.keys().collect());
            if da != db {
                return Err(format!(
                    "phone{i} and phone{j} (one login) hold different documents: {da:?} vs {db:?}"
                ));
            }
            if a.view != b.view {
                return Err(format!(
                    "phone{i} and phone{j} (one login) show different things:\n{:#?}\n{:#?}",
                    a.view, b.view
                ));
            }
        }
    }

    // 4. No erased person back: no key at the relay or on a phone, no name on a roll call.
    if let Some(x) = &world.erased {
        outcome.erased = true;
        match state.erased {
            Some((false, true)) => {}
            Some((key, logged)) => {
                return Err(format!(
                    "erased {x}: key still at the relay: {key}, erasure logged: {logged}"
                ));
            }
            None => return Err(format!("erased {x}: not read back")),
        }
        for (i, r) in reports.iter().enumerate() {
            if r.keys.contains(x) {
                return Err(format!("phone{i} still holds the key of erased {x}"));
            }
            if let Some((_, Some(label))) = r.labels.iter().find(|(p, l)| p == x && l.is_some()) {
                return Err(format!("phone{i} shows erased {x} as {label:?}"));
            }
        }
    }

    let mut h = Sha256::new();
    for (at, i, call, result) in &world.events {
        h.update(format!("{at} {i} {call} {result}\n"));
    }
    for r in &reports {
        for (d, heads) in &r.docs {
            h.update(format!("{d} {heads:?}\n"));
        }
        for v in &r.view {
            h.update(v);
        }
    }
    for (d, doc) in relay {
        h.update(format!("relay {d} {:?}\n", sorted(doc.get_heads())));
    }
    outcome.digest = hex::encode(h.finalize());
    Ok(())
}
