//! Load for the benchmarks (relay-bench, capacity): roll-call marks as a foreign client
//! writes them, and many idle authenticated connections.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use automerge::transaction::Transactable;
use automerge::{Automerge, ReadDoc};
use nabo_core::client::Client;

/// A roll-call mark, as a foreign client writes it: a status at `<session>/<participant>`,
/// always one the mark does not have (Automerge makes no change for a put of the value a key
/// already holds, and a run on a database seeded earlier meets marks it wrote before).
pub fn add_change(doc: &mut Automerge, key: &str, n: usize) {
    let (_, att) = doc.get(automerge::ROOT, "attendance").unwrap().unwrap();
    let now = doc
        .get(&att, key)
        .unwrap()
        .and_then(|(v, _)| v.into_string().ok());
    let status = ["present", "absent", "excused"]
        .into_iter()
        .cycle()
        .skip(n % 3)
        .take(3)
        .find(|s| now.as_deref() != Some(*s))
        .unwrap();
    let mut tx = doc.transaction();
    tx.put(&att, key, status).unwrap();
    assert!(tx.commit().0.is_some(), "a mark that changes nothing");
}

/// The roll-call keys of a register (`<session>/<participant>`), for marks the relay's rules
/// accept.
pub fn marks(register: &Automerge) -> Vec<String> {
    let keys = |c: &str| -> Vec<String> {
        let (_, obj) = register.get(automerge::ROOT, c).unwrap().unwrap();
        register.keys(&obj).collect()
    };
    let participants = keys("participants");
    keys("sessions")
        .iter()
        .flat_map(|s| participants.iter().map(move |p| format!("{s}/{p}")))
        .collect()
}

/// `n` idle authenticated connections, opened 200 at a time.
pub async fn idle_connections(ws: &str, token: &str, n: usize) -> Vec<Client> {
    let mut out = Vec::with_capacity(n);
    let mut pending = Vec::new();
    for i in 0..n {
        let ws = ws.to_owned();
        let token = token.to_owned();
        pending.push(tokio::spawn(async move {
            Client::connect(&ws, &token, None).await
        }));
        if pending.len() == 200 || i == n - 1 {
            for p in pending.drain(..) {
                out.push(p.await.unwrap().expect("connect"));
            }
        }
    }
    out
}
