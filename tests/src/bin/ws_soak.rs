//! WebSocket soak: many phones syncing roll calls against the release relay on loopback for a
//! fixed time, then a report: errors, p99 latency and the relay's RSS over time, as a
//! Markdown table (printed) and an SVG plot (`--out`/soak-ws.svg), and the RSS slope after
//! warm-up.
//!
//! `cargo xtask soak-ws [--clients 1000] [--seconds 600]` builds and runs it. The workload is
//! a term's roll call: the clients form groups of five (a homework café's volunteers), each
//! group shares one register of its own activity with 25 children; every client marks a
//! child present, absent or excused about every `--interval-ms` (default 15 s, jittered),
//! syncs it, and receives the others' marks as the relay pushes them. Latency is from
//! sending a change until the relay's answer shows it has stored it (its heads equal ours).
//! A client whose connection fails counts an error and reconnects. Bounded: the clients stop
//! at the deadline and the relay is killed when the report is written.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use automerge::sync::{State, SyncDoc};
use automerge::{ActorId, Automerge};
use nabo_core::client::{self, Client, SyncEnd};
use nabo_core::docs::activity::ActivitySnapshot;
use nabo_core::document::{DocumentId, NaboDoc, TypedDoc};
use nabo_core::prelude::*;
use nabo_core::wire::WireMessage;
use nabo_tests::procs::{self, PASSWORD, arg, rss_mb};

const GROUP: usize = 5;
const CHILDREN: usize = 25;

/// One café: its register, what marking needs, and the sessions held so far.
struct Cafe {
    register: DocumentId,
    snapshot: ActivitySnapshot,
    sessions: Vec<SessionId>,
    children: Vec<ParticipantId>,
}

#[derive(Default)]
struct Stats {
    /// (seconds since start, milliseconds).
    latencies: Vec<(f64, f64)>,
    /// (seconds since start, what).
    errors: Vec<(f64, String)>,
    /// Connections the relay closed because their access token expired; the phone reconnects
    /// with its renewed token, which is normal operation and not an error.
    renewals: usize,
}

/// A small deterministic generator per client (no shared state, reproducible workloads).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn central() -> Author {
    Author {
        by: By::Staff("s-mette".parse().unwrap()),
        at: Timestamp::now(),
    }
}

/// Creates the cafés over one connection, as the office would: an activity with two weekly
/// sessions, its register for this term, 25 children.
async fn setup(relay: &procs::Relay, token: &str, groups: usize) -> Vec<Arc<Cafe>> {
    let cat = Catalogue::builtin().unwrap();
    let mut c = Client::connect(&relay.ws(), token, None).await.unwrap();
    c.settle = Duration::from_millis(20);
    let today = Timestamp::now().date_dk();
    let term = nabo_core::time::Term::of(today);
    let mut out = Vec::new();
    for g in 0..groups {
        let author = central();
        let mut input = NewActivity::new(
            &format!("Soak-lektiecafé {g}"),
            "p-helhedsplan".parse().unwrap(),
            "a-vestparken".parse().unwrap(),
            "lbf-2006-2010",
            "BE.lektiecafe",
        );
        input.attendance_mode = AttendanceMode::Pseudonymous;
        let mut act = ActivityDoc::create(
            "vestbyen".parse().unwrap(),
            format!("act-soak-{g}").parse().unwrap(),
            ActorId::random(),
            &author,
            cat,
            input,
        )
        .unwrap();
        for weekday in [Weekday::Tue, Weekday::Thu] {
            act.add_series(
                &author,
                NewSeries {
                    weekday,
                    start: Time::hm(15, 0).unwrap(),
                    end: Time::hm(17, 0).unwrap(),
                    from: term.first_day(),
                    until: None,
                    venue: None,
                },
            )
            .unwrap();
        }
        let snapshot = act.snapshot().unwrap();
        let ctx = RegisterContext {
            catalogue: cat,
            activity: &snapshot,
            certificates: &nabo_core::docs::volunteers::NO_CERTIFICATES,
        };
        let mut reg = RegisterDoc::create(
            "vestbyen".parse().unwrap(),
            format!("act-soak-{g}").parse().unwrap(),
            term,
            ActorId::random(),
            &author,
            ctx,
        )
        .unwrap();
        let mut children = Vec::new();
        for k in 0..CHILDREN {
            children.push(
                reg.add_participant(
                    &author,
                    ctx,
                    term.first_day(),
                    NewParticipant {
                        age_band: ["7-9", "10-12", "13-14"][k % 3].into(),
                        gender: None,
                        resident: Some(true),
                        label: None,
                        recruitment: None,
                    },
                )
                .unwrap(),
            );
        }
        let sessions: Vec<SessionId> = reg
            .view()
            .unwrap()
            .sessions
            .iter()
            .filter(|(_, s)| s.current.date <= today)
            .map(|(id, _)| id.clone())
            .collect();
        assert!(!sessions.is_empty(), "no session held yet this term");
        for doc in [act.doc(), reg.doc()] {
            let mut am = doc.automerge().clone();
            // Offered with `sync`, the way a phone offers a document it made (a `request`
            // asks for a document the relay has, and a new one it has not: unavailable).
            let end = c
                .sync(doc.id(), &mut am, &mut State::new(), false)
                .await
                .unwrap();
            assert_eq!(end, SyncEnd::Synced, "creating café {g}");
        }
        out.push(Arc::new(Cafe {
            register: reg.doc().id(),
            snapshot,
            sessions,
            children,
        }));
    }
    out
}

/// Sends what the relay does not have yet, if anything.
async fn reply(c: &mut Client, id: DocumentId, doc: &mut Automerge, st: &mut State) -> bool {
    let Some(m) = doc.generate_sync_message(st) else {
        return true;
    };
    let msg = WireMessage::Sync {
        sender_id: c.peer_id.clone(),
        target_id: c.relay_id.clone(),
        document_id: id.to_string(),
        data: m.encode(),
    };
    c.send(&msg).await.is_ok()
}

enum Wait {
    /// The time ran out (or the condition holds).
    Done,
    /// The connection failed or the relay sent an error.
    Failed(String),
}

/// Handles incoming messages until `until` or until `ack` holds.
async fn pump(
    c: &mut Client,
    id: DocumentId,
    doc: &mut Automerge,
    st: &mut State,
    until: Instant,
    ack: bool,
) -> Wait {
    loop {
        if ack && st.their_heads.as_deref() == Some(doc.get_heads().as_slice()) {
            return Wait::Done;
        }
        let now = Instant::now();
        if now >= until {
            return if ack {
                Wait::Failed("no acknowledgement within 30 s".into())
            } else {
                Wait::Done
            };
        }
        match c.recv(until - now).await {
            Some(WireMessage::Sync {
                document_id, data, ..
            }) if document_id == id.to_string() => {
                let applied = absorb(c, id, doc, st, &data).await;
                if !applied {
                    return Wait::Failed("could not apply the relay's message".into());
                }
            }
            Some(WireMessage::Error { message, .. }) => return Wait::Failed(message),
            Some(_) => {}
            None if Instant::now() + Duration::from_millis(5) < until => {
                return Wait::Failed("connection closed".into());
            }
            None => {}
        }
    }
}

/// Applies what the relay pushed (the group's marks, or its answer) and answers it.
async fn absorb(
    c: &mut Client,
    id: DocumentId,
    doc: &mut Automerge,
    st: &mut State,
    data: &[u8],
) -> bool {
    let Ok(m) = nabo_core::untrusted::sync_message(data) else {
        return false;
    };
    if doc.receive_sync_message(st, m).is_err() {
        return false;
    }
    reply(c, id, doc, st).await
}

#[allow(clippy::too_many_arguments)]
async fn phone(
    i: usize,
    ws: String,
    token: Arc<std::sync::RwLock<String>>,
    cafe: Arc<Cafe>,
    start: Instant,
    deadline: Instant,
    interval: Duration,
    stats: Arc<Mutex<Stats>>,
) {
    let cat = Catalogue::builtin().unwrap();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ (i as u64 + 1).wrapping_mul(0x2545_f491_4f6c_dd1d));
    let error = |what: String| {
        let mut stats = stats.lock().unwrap();
        if what.contains("access token expired") {
            stats.renewals += 1;
        } else {
            stats.errors.push((start.elapsed().as_secs_f64(), what));
        }
    };
    let id = cafe.register;
    // The phone keeps its copy and sync state across reconnects, like a real phone.
    let mut doc = Automerge::new();
    let mut st = State::new();
    let actor = ActorId::random();
    'connection: while Instant::now() < deadline {
        let current = token.read().unwrap().clone();
        let mut c = match Client::connect(&ws, &current, Some(&format!("soak-{i}"))).await {
            Ok(c) => c,
            Err(e) => {
                error(format!("connect: {e}"));
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        c.settle = Duration::from_millis(50);
        let first = doc.get_heads().is_empty();
        match c.sync(id, &mut doc, &mut st, first).await {
            Ok(SyncEnd::Synced) => {}
            other => {
                error(format!("first sync: {other:?}"));
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        }
        loop {
            // Idle (answering the group's marks) until the next tap.
            let jitter = interval.as_millis() as u64 / 2 + rng.next() % interval.as_millis() as u64;
            let next = (Instant::now() + Duration::from_millis(jitter)).min(deadline);
            if let Wait::Failed(e) = pump(&mut c, id, &mut doc, &mut st, next, false).await {
                error(e);
                continue 'connection;
            }
            if Instant::now() >= deadline {
                break 'connection;
            }
            let Ok(nabo) = NaboDoc::from_automerge(std::mem::take(&mut doc), actor.clone()) else {
                error("the register does not read".into());
                break 'connection;
            };
            let mut reg = RegisterDoc::from_doc(nabo).unwrap();
            let ctx = RegisterContext {
                catalogue: cat,
                activity: &cafe.snapshot,
                certificates: &nabo_core::docs::volunteers::NO_CERTIFICATES,
            };
            let status = [
                AttendanceStatus::Present,
                AttendanceStatus::Absent,
                AttendanceStatus::Excused,
            ][rng.below(3)];
            let session = &cafe.sessions[rng.below(cafe.sessions.len())];
            let child = &cafe.children[rng.below(cafe.children.len())];
            if let Err(e) = reg.mark(&central(), ctx, session, child, status) {
                error(format!("mark refused: {e}"));
            }
            doc = reg.doc().automerge().clone();
            let sent = Instant::now();
            if !reply(&mut c, id, &mut doc, &mut st).await {
                error("send failed".into());
                continue 'connection;
            }
            match pump(
                &mut c,
                id,
                &mut doc,
                &mut st,
                sent + Duration::from_secs(30),
                true,
            )
            .await
            {
                Wait::Done => stats.lock().unwrap().latencies.push((
                    start.elapsed().as_secs_f64(),
                    sent.elapsed().as_secs_f64() * 1e3,
                )),
                Wait::Failed(e) => {
                    error(e);
                    continue 'connection;
                }
            }
        }
    }
}

fn percentile(v: &mut [f64], p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let i = ((v.len() as f64 - 1.0) * p).round() as usize;
    v[i]
}

/// Least-squares slope of y over x.
fn slope(points: &[(f64, f64)]) -> f64 {
    let n = points.len() as f64;
    if n < 2.0 {
        return f64::NAN;
    }
    let mx = points.iter().map(|p| p.0).sum::<f64>() / n;
    let my = points.iter().map(|p| p.1).sum::<f64>() / n;
    let num: f64 = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let den: f64 = points.iter().map(|p| (p.0 - mx).powi(2)).sum();
    num / den
}

/// Two stacked line charts (RSS, p99 latency) over time.
fn svg(title: &str, rss: &[(f64, f64)], p99: &[(f64, f64)], seconds: f64, warmup: f64) -> String {
    let (w, h, left, top, gap) = (760.0, 200.0, 70.0, 40.0, 60.0);
    let mut s = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{}" height="{}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="white"/>
<text x="{left}" y="22" font-size="14">{title}</text>
"#,
        w + left + 20.0,
        top + 2.0 * h + gap + 40.0
    );
    let chart = |s: &mut String, y0: f64, label: &str, pts: &[(f64, f64)], colour: &str| {
        let max = pts.iter().map(|p| p.1).fold(0.0, f64::max).max(1e-9) * 1.1;
        s.push_str(&format!(
            r##"<rect x="{left}" y="{y0}" width="{w}" height="{h}" fill="none" stroke="#888"/>
<text x="{left}" y="{}" >{label}</text>
<text x="{}" y="{}" text-anchor="end">{max:.0}</text>
<text x="{}" y="{}" text-anchor="end">0</text>
"##,
            y0 - 6.0,
            left - 6.0,
            y0 + 12.0,
            left - 6.0,
            y0 + h
        ));
        let wx = left + w * warmup / seconds;
        s.push_str(&format!(
            r##"<line x1="{wx}" y1="{y0}" x2="{wx}" y2="{}" stroke="#bbb" stroke-dasharray="4 3"/>
"##,
            y0 + h
        ));
        let line: Vec<String> = pts
            .iter()
            .filter(|p| p.1.is_finite())
            .map(|(x, y)| format!("{:.1},{:.1}", left + w * x / seconds, y0 + h - h * y / max))
            .collect();
        s.push_str(&format!(
            r#"<polyline fill="none" stroke="{colour}" stroke-width="1.5" points="{}"/>
"#,
            line.join(" ")
        ));
    };
    chart(&mut s, top, "relay RSS (MB)", rss, "#1f77b4");
    chart(
        &mut s,
        top + h + gap,
        "p99 sync latency per window (ms)",
        p99,
        "#d62728",
    );
    let y = top + 2.0 * h + gap + 18.0;
    for k in 0..=4 {
        let t = seconds * f64::from(k) / 4.0;
        s.push_str(&format!(
            r#"<text x="{:.1}" y="{y}" text-anchor="middle">{t:.0} s</text>
"#,
            left + w * t / seconds
        ));
    }
    s.push_str("</svg>\n");
    s
}

#[tokio::main]
async fn main() {
    let clients = arg("--clients", 1000);
    let seconds = arg("--seconds", 600) as u64;
    let interval = Duration::from_millis(arg("--interval-ms", 15_000) as u64);
    let out: PathBuf = std::env::args()
        .skip_while(|a| a != "--out")
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| procs::root().join("docs"));
    let groups = clients.div_ceil(GROUP);
    println!(
        "WebSocket soak: {clients} clients in {groups} cafés of {GROUP}, one mark each about every {} ms, {seconds} s",
        interval.as_millis()
    );
    let relay = procs::nabo(&[
        "--max-connections-per-user",
        "1000000",
        "--max-connections",
        &(clients * 2 + 100).to_string(),
    ])
    .await;
    let pid = relay.child.id();
    let token = client::login(&relay.http(), "central", PASSWORD)
        .await
        .unwrap()
        .access_token;
    let cafes = setup(&relay, &token, groups).await;
    // Access tokens live 10 minutes; like a phone, the soak signs in again before they run
    // out, and each connection the relay closes at its token's expiry reconnects with the
    // new one.
    let token = Arc::new(std::sync::RwLock::new(token));
    let renewer = {
        let (token, http) = (token.clone(), relay.http());
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(300)).await;
                if let Ok(t) = client::login(&http, "central", PASSWORD).await {
                    *token.write().unwrap() = t.access_token;
                }
            }
        })
    };
    println!(
        "{} cafés created; relay RSS {:.1} MB",
        cafes.len(),
        rss_mb(pid)
    );

    let stats = Arc::new(Mutex::new(Stats::default()));
    let start = Instant::now();
    let deadline = start + Duration::from_secs(seconds);
    // RSS every second (or every seconds/600 for long runs).
    let every = Duration::from_millis((seconds * 1000 / 600).max(1000));
    let sampler = tokio::spawn(async move {
        let mut rss = Vec::new();
        while Instant::now() < deadline {
            rss.push((start.elapsed().as_secs_f64(), rss_mb(pid)));
            tokio::time::sleep(every).await;
        }
        rss
    });
    // Connections open over the first tenth of the run (at most 30 s), not all at once.
    let ramp = Duration::from_secs((seconds / 10).min(30));
    let mut tasks = Vec::new();
    for i in 0..clients {
        let delay = ramp.mul_f64(i as f64 / clients as f64);
        let (ws, token, cafe, stats) = (
            relay.ws(),
            token.clone(),
            cafes[i / GROUP].clone(),
            stats.clone(),
        );
        tasks.push(tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            phone(i, ws, token, cafe, start, deadline, interval, stats).await;
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
    renewer.abort();
    let rss = sampler.await.unwrap();
    let elapsed = start.elapsed().as_secs_f64();
    drop(relay);

    let stats = stats.lock().unwrap();
    let windows = 20usize;
    let width = seconds as f64 / windows as f64;
    let warmup = (seconds as f64 * 0.2).max(ramp.as_secs_f64());
    println!();
    println!(
        "| from (s) | to (s) | changes acknowledged | errors | p50 (ms) | p99 (ms) | relay RSS (MB) |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|");
    let mut p99s = Vec::new();
    for k in 0..windows {
        let (a, b) = (k as f64 * width, (k + 1) as f64 * width);
        let mut lat: Vec<f64> = stats
            .latencies
            .iter()
            .filter(|(t, _)| *t >= a && *t < b)
            .map(|(_, l)| *l)
            .collect();
        let errors = stats
            .errors
            .iter()
            .filter(|(t, _)| *t >= a && *t < b)
            .count();
        let r = rss
            .iter()
            .filter(|(t, _)| *t >= a && *t < b)
            .map(|(_, m)| *m)
            .fold(f64::NAN, f64::max);
        let n = lat.len();
        let p50 = percentile(&mut lat, 0.5);
        let p99 = percentile(&mut lat, 0.99);
        p99s.push(((a + b) / 2.0, p99));
        println!("| {a:.0} | {b:.0} | {n} | {errors} | {p50:.1} | {p99:.1} | {r:.1} |");
    }
    let mut all: Vec<f64> = stats.latencies.iter().map(|(_, l)| *l).collect();
    let total = all.len();
    let p99 = percentile(&mut all, 0.99);
    let p50 = percentile(&mut all, 0.5);
    let after: Vec<(f64, f64)> = rss.iter().filter(|(t, _)| *t >= warmup).copied().collect();
    let per_minute = slope(&after) * 60.0;
    let peak = rss.iter().map(|r| r.1).fold(0.0, f64::max);
    println!();
    println!(
        "{clients} clients, {elapsed:.0} s: {total} changes acknowledged, {} errors, p50 {p50:.1} ms, p99 {p99:.1} ms; relay RSS peak {peak:.1} MB, slope after {warmup:.0} s warm-up {per_minute:+.3} MB/min ({:.0} bytes per change acknowledged after warm-up); {} reconnects for a renewed token",
        stats.errors.len(),
        {
            let changes = stats.latencies.iter().filter(|(t, _)| *t >= warmup).count();
            let span = after.last().map_or(0.0, |l| l.0) - after.first().map_or(0.0, |f| f.0);
            per_minute * (span / 60.0) * 1024.0 * 1024.0 / changes.max(1) as f64
        },
        stats.renewals
    );
    let mut kinds: std::collections::BTreeMap<&str, usize> = Default::default();
    for (_, e) in &stats.errors {
        *kinds.entry(e.as_str()).or_default() += 1;
    }
    for (k, n) in kinds {
        println!("  error ×{n}: {k}");
    }
    let title = format!(
        "nabo-server soak: {clients} WebSocket clients, {seconds} s, {total} changes, {} errors, p99 {p99:.0} ms, RSS slope {per_minute:+.2} MB/min after warm-up",
        stats.errors.len()
    );
    std::fs::create_dir_all(&out).unwrap();
    let path = out.join("soak-ws.svg");
    std::fs::write(&path, svg(&title, &rss, &p99s, seconds as f64, warmup)).unwrap();
    println!("plot written to {}", path.display());
}
