//! A simulated phone: the real `NaboClient` (the bindings' sync engine and encrypted store) on
//! a turmoil host, doing what its user does: volunteers take roll calls, add children and
//! check in at today's lektiecafé; outreach workers log contacts, note known persons and
//! refer. Every call's result goes into the run's log; after each edit the phone reports the
//! heads of everything it stores as saved, which the relay must hold at the end.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use automerge::ChangeHash;
use nabo_bindings::NaboClient;
use nabo_bindings::api::{self, ChangeKind};
use nabo_core::document::DocumentId;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use crate::world::{Phase, Report, World};

/// The store key of every simulated phone.
const STORE_KEY: [u8; 32] = [7; 32];

/// One phone's fixed facts.
#[derive(Debug, Clone)]
pub struct PhoneSpec {
    /// Its index (host `phone{index}`).
    pub index: usize,
    /// The demo login it signs in as.
    pub user: &'static str,
    /// Its data directory (kept across restarts).
    pub dir: PathBuf,
    /// The run's seed.
    pub seed: u64,
    /// The relay nodes of the run (1 or 2).
    pub nodes: usize,
}

impl PhoneSpec {
    /// The turmoil host name.
    pub fn host(&self) -> String {
        host(self.index)
    }

    /// The relay node the phone syncs with after boot `boot` (from 1): with two nodes, every
    /// restart reaches the other one, as a phone behind a load balancer may. Its sync state
    /// is then the one the other node stored.
    pub fn relay(&self, boot: u32) -> &'static str {
        crate::net::RELAY_HOSTS[(self.index + boot as usize - 1) % self.nodes.max(1)]
    }
}

/// The host name of phone `i`.
pub fn host(i: usize) -> String {
    format!("phone{i}")
}

/// Records the phone's change notifications that matter to the checks.
#[derive(Debug)]
struct Listener {
    index: usize,
    seen: crate::world::Notices,
    edited: Arc<Mutex<Vec<(usize, String)>>>,
}

impl api::ChangeListener for Listener {
    fn on_change(&self, event: api::ChangeEvent) -> Result<(), nabo_bindings::ListenerError> {
        if let (ChangeKind::LocalEdit, Some(doc)) = (event.kind, &event.document_id) {
            self.edited
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push((self.index, doc.clone()));
        }
        if matches!(event.kind, ChangeKind::Refused | ChangeKind::Wiped) {
            self.seen.lock().unwrap_or_else(|e| e.into_inner()).push((
                self.index,
                event.kind,
                event.document_id,
            ));
        }
        Ok(())
    }
}

fn short<T>(r: &Result<T, nabo_bindings::NaboError>) -> String {
    match r {
        Ok(_) => "ok".into(),
        Err(e) => format!("err: {e}"),
    }
}

async fn pause(rng: &mut StdRng, min_ms: u64, max_ms: u64) {
    tokio::time::sleep(Duration::from_millis(rng.random_range(min_ms..=max_ms))).await;
}

/// The phone's program from (re)boot: open the store, sign in if it has no account, then
/// follow the run's phase.
pub async fn run(spec: PhoneSpec, world: Rc<RefCell<World>>) -> turmoil::Result {
    let i = spec.index;
    let boot = {
        let mut w = world.borrow_mut();
        w.boots[i] += 1;
        w.boots[i]
    };
    let mut rng = StdRng::seed_from_u64(
        spec.seed ^ ((i as u64 + 1) << 40) ^ (u64::from(boot) << 24) ^ 0x5EED_F00D,
    );
    let client = loop {
        let r = NaboClient::open_with_net(
            spec.dir.display().to_string(),
            format!("http://{}:{}", spec.relay(boot), crate::net::RELAY_PORT),
            STORE_KEY.to_vec(),
            nabo_core::time::Clock::system(),
            Arc::new(crate::net::SimNet),
        )
        .await;
        world.borrow_mut().log(i, "open", &short(&r));
        match r {
            Ok(c) => break c,
            Err(_) => pause(&mut rng, 500, 2000).await,
        }
    };
    let (seen, edited) = {
        let w = world.borrow();
        (w.notices.clone(), w.edited.clone())
    };
    let _subscription = client.subscribe(Arc::new(Listener {
        index: i,
        seen,
        edited: edited.clone(),
    }));
    while client.me().is_none() {
        let r = client
            .login(spec.user.into(), crate::template::PASSWORD.into())
            .await;
        world.borrow_mut().log(i, "login", &short(&r));
        if r.is_err() {
            pause(&mut rng, 1000, 3000).await;
        }
    }
    loop {
        let phase = world.borrow().phase;
        match phase {
            Phase::Work => {
                let (op, r, edit) = step(&client, &mut rng, &world).await;
                world.borrow_mut().log(i, op, &r);
                if edit && r == "ok" {
                    // The edit's notice reaches the listener's task by the next tick.
                    tokio::time::sleep(Duration::from_millis(1)).await;
                    let docs: BTreeSet<String> = {
                        let mut e = edited.lock().unwrap_or_else(|e| e.into_inner());
                        let (mine, others) = e.drain(..).partition(|(p, _)| *p == i);
                        *e = others;
                        mine.into_iter().map(|(_, d)| d).collect()
                    };
                    let ids = docs.iter().filter_map(|d| DocumentId::parse(d).ok());
                    let heads = heads_of(&client, ids).await;
                    world.borrow_mut().saved(i, heads);
                }
                pause(&mut rng, 100, 2500).await;
            }
            Phase::Heal => {
                let r = client.sync_now().await;
                world.borrow_mut().log(i, "heal-sync", &short(&r));
                pause(&mut rng, 500, 1500).await;
            }
            Phase::Final => {
                let turn = world.borrow().turn;
                if turn % world.borrow().phones() == i {
                    let r = client.sync_now().await;
                    let ok = r.is_ok();
                    let mut w = world.borrow_mut();
                    w.log(i, "final-sync", &short(&r));
                    if ok {
                        w.turn += 1;
                    }
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Phase::Report => {
                let report = report(&client).await;
                world.borrow_mut().reports[i] = Some(report);
                return Ok(());
            }
        }
    }
}

/// One thing the user does: (what, result, whether it was an edit).
async fn step(
    client: &NaboClient,
    rng: &mut StdRng,
    world: &Rc<RefCell<World>>,
) -> (&'static str, String, bool) {
    let r: u32 = rng.random_range(0..100);
    if r < 25 {
        return ("sync", short(&client.sync_now().await), false);
    }
    let Some(me) = client.me() else {
        return ("me", "err: signed out".into(), false);
    };
    if me.volunteer_id.is_some() {
        volunteer(client, rng, r, world).await
    } else {
        outreach(client, rng, r, &me).await
    }
}

async fn volunteer(
    client: &NaboClient,
    rng: &mut StdRng,
    r: u32,
    world: &Rc<RefCell<World>>,
) -> (&'static str, String, bool) {
    let sessions = match client.todays_sessions().await {
        Ok(s) => s,
        Err(e) => return ("sessions", format!("err: {e}"), false),
    };
    if sessions.is_empty() {
        let r = client
            .add_session(
                "act-lektiecafe".into(),
                client.today(),
                "15:00".into(),
                "17:00".into(),
                None,
            )
            .await;
        return ("add_session", short(&r), true);
    }
    let session = sessions[rng.random_range(0..sessions.len())].id.clone();
    if r < 65 {
        let call = match client.roll_call(session.clone()).await {
            Ok(c) => c,
            Err(e) => return ("roll_call", format!("err: {e}"), false),
        };
        world
            .borrow_mut()
            .seen_children
            .extend(call.entries.iter().map(|e| e.participant_id.clone()));
        if call.entries.is_empty() {
            return ("roll_call", "empty".into(), false);
        }
        let who = call.entries[rng.random_range(0..call.entries.len())]
            .participant_id
            .clone();
        let mark = match rng.random_range(0..3) {
            0 => api::Mark::Present,
            1 => api::Mark::Absent,
            _ => api::Mark::Excused,
        };
        ("mark", short(&client.mark(session, who, mark).await), true)
    } else if r < 80 {
        let label = format!("Barn {}", rng.random_range(1..1000));
        let r = client.add_child(session, Some(label), "10-12".into()).await;
        ("add_child", short(&r), true)
    } else {
        ("check_in", short(&client.check_in(session).await), true)
    }
}

async fn outreach(
    client: &NaboClient,
    rng: &mut StdRng,
    r: u32,
    me: &api::UserInfo,
) -> (&'static str, String, bool) {
    let Some(area) = me.areas.first().cloned() else {
        return ("areas", "err: none".into(), false);
    };
    if r < 55 {
        let count = rng.random_range(1..4);
        let input = api::ContactInput {
            area_id: area,
            location: "legeplads".into(),
            kind: "uformelt-moede".into(),
            count,
            age_band: "15-17".into(),
            topics: vec!["skole-uddannelse".into()],
            outcomes: vec![],
            followup: None,
            participant_id: None,
            concern_reported_on: None,
            concern_to: None,
            note: None,
        };
        ("log_contact", short(&client.log_contact(input).await), true)
    } else if r < 70 {
        let input = api::KnownPersonInput {
            area_id: area,
            label: Some(format!("Ung {}", rng.random_range(1..1000))),
            age_band: "15-17".into(),
            consent: None,
            basis: None,
            basis_text: None,
        };
        (
            "add_known_person",
            short(&client.add_known_person(input).await),
            true,
        )
    } else {
        let log = match client.my_outreach_log().await {
            Ok(l) => l,
            Err(e) => return ("outreach_log", format!("err: {e}"), false),
        };
        if r < 88 || log.referrals.is_empty() {
            let contact = (!log.contacts.is_empty()).then(|| {
                log.contacts[rng.random_range(0..log.contacts.len())]
                    .id
                    .clone()
            });
            let input = api::ReferralInput {
                area_id: area,
                contact_id: contact,
                to: "jobcenter".into(),
                kind: api::ReferralKind::Information,
                consent_to_share: false,
                participant_id: None,
                to_activity_id: None,
            };
            ("refer", short(&client.refer(input).await), true)
        } else {
            let referral = log.referrals[rng.random_range(0..log.referrals.len())]
                .id
                .clone();
            let status = match rng.random_range(0..3) {
                0 => api::ReferralStatus::Contacted,
                1 => api::ReferralStatus::Ongoing,
                _ => api::ReferralStatus::Completed,
            };
            (
                "set_referral_status",
                short(&client.set_referral_status(referral, status).await),
                true,
            )
        }
    }
}

/// The heads of the documents `ids` the phone stores (others are left out).
async fn heads_of(
    client: &NaboClient,
    ids: impl IntoIterator<Item = DocumentId>,
) -> BTreeMap<DocumentId, Vec<ChangeHash>> {
    let store = client.local_store();
    let mut out = BTreeMap::new();
    for id in ids {
        if let Ok(Some(doc)) = store.load(id, nabo_core::entropy::actor()).await {
            out.insert(id, doc.heads());
        }
    }
    out
}

/// The heads of every document the phone stores.
pub async fn stored_heads(client: &NaboClient) -> BTreeMap<DocumentId, Vec<ChangeHash>> {
    let ids = match client.local_store().list().await {
        Ok(list) => list.into_iter().map(|d| d.id).collect(),
        Err(_) => Vec::new(),
    };
    heads_of(client, ids).await
}

/// What the phone holds and shows at the end.
async fn report(client: &NaboClient) -> Report {
    let docs = stored_heads(client).await;
    let keys = match client.local_store().key_ring().await {
        Ok(ring) => ring.0.into_keys().collect(),
        Err(_) => BTreeSet::new(),
    };
    let mut labels = Vec::new();
    let mut view = Vec::new();
    if let Some(me) = client.me() {
        view.push(format!("user {}", me.user_id));
        if me.volunteer_id.is_some() {
            let mut sessions: Vec<String> = client
                .todays_sessions()
                .await
                .map(|s| s.into_iter().map(|s| s.id).collect())
                .unwrap_or_default();
            sessions.sort();
            for s in sessions {
                match client.roll_call(s.clone()).await {
                    Ok(call) => {
                        labels.extend(
                            call.entries
                                .iter()
                                .map(|e| (e.participant_id.clone(), e.label.clone())),
                        );
                        let entries: BTreeSet<String> = call
                            .entries
                            .iter()
                            .map(|e| {
                                format!(
                                    "{} {:?} {} {:?} {}",
                                    e.participant_id, e.label, e.age_band, e.mark, e.conflict
                                )
                            })
                            .collect();
                        view.push(format!("session {s}: {entries:?}"));
                    }
                    Err(e) => view.push(format!("session {s}: err {e}")),
                }
            }
        } else {
            match client.my_outreach_log().await {
                Ok(log) => {
                    let contacts: BTreeSet<String> =
                        log.contacts.iter().map(|c| format!("{c:?}")).collect();
                    let referrals: BTreeSet<String> =
                        log.referrals.iter().map(|r| format!("{r:?}")).collect();
                    view.push(format!("contacts {contacts:?}"));
                    view.push(format!("referrals {referrals:?}"));
                }
                Err(e) => view.push(format!("outreach log: err {e}")),
            }
        }
    }
    Report {
        docs,
        view,
        keys,
        labels,
    }
}
