//! What the hosts of one run share with the driver: the phase, the log, what each phone
//! reported as saved, and the phones' final reports. One thread runs every host, so a
//! `RefCell` suffices.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use automerge::ChangeHash;
use nabo_bindings::api::ChangeKind;
use nabo_core::document::DocumentId;

/// Notices of refusals and wipes: (phone, kind, document).
pub type Notices = Arc<Mutex<Vec<(usize, ChangeKind, Option<String>)>>>;

/// Where the run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Users edit and sync under faults.
    Work,
    /// Faults are off; phones sync until they agree.
    Heal,
    /// Each phone syncs in turn, twice round.
    Final,
    /// Phones report what they hold and stop.
    Report,
}

/// One phone's state at the end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// Each stored document's heads.
    pub docs: BTreeMap<DocumentId, Vec<ChangeHash>>,
    /// What the phone shows its user (roll calls, the outreach log), as text.
    pub view: Vec<String>,
    /// The subjects whose keys the phone holds.
    pub keys: BTreeSet<String>,
    /// Each roll-call entry's (participant, label) on the phone.
    pub labels: Vec<(String, Option<String>)>,
}

/// The run's shared state.
#[derive(Debug)]
pub struct World {
    /// The phase.
    pub phase: Phase,
    /// In [`Phase::Final`]: how many phones have synced in turn.
    pub turn: usize,
    /// What happened: (simulated ms, phone, call, result).
    pub events: Vec<(u128, usize, &'static str, String)>,
    /// Per phone: every head it stored as saved after an edit that succeeded.
    pub saved: Vec<BTreeMap<DocumentId, BTreeSet<ChangeHash>>>,
    /// Per phone: how often it booted.
    pub boots: Vec<u32>,
    /// Per phone: its report.
    pub reports: Vec<Option<Report>>,
    /// Refusals and wipes the phones announced: (phone, kind, document).
    pub notices: Notices,
    /// Documents the phones announced a local edit of and whose heads are not read yet:
    /// (phone, document).
    pub edited: Arc<Mutex<Vec<(usize, String)>>>,
    /// When the office erases a person (None: not in this run).
    pub erase_at: Option<std::time::Duration>,
    /// Which of the people the phones saw the office erases (an index into them).
    pub erase_pick: usize,
    /// Children the phones saw on roll calls (participant ids).
    pub seen_children: BTreeSet<String>,
    /// The person the office erased.
    pub erased: Option<String>,
}

impl World {
    /// A world of `phones` phones.
    pub fn new(phones: usize) -> Self {
        World {
            phase: Phase::Work,
            turn: 0,
            events: Vec::new(),
            saved: vec![BTreeMap::new(); phones],
            boots: vec![0; phones],
            reports: vec![None; phones],
            notices: Arc::default(),
            edited: Arc::default(),
            erase_at: None,
            erase_pick: 0,
            seen_children: BTreeSet::new(),
            erased: None,
        }
    }

    /// How many phones.
    pub fn phones(&self) -> usize {
        self.boots.len()
    }

    /// Logs a call of phone `i`.
    pub fn log(&mut self, i: usize, call: &'static str, result: &str) {
        let at = turmoil::sim_elapsed().unwrap_or_default().as_millis();
        self.events.push((at, i, call, result.to_owned()));
    }

    /// The person the office will erase: one of the children the phones saw so far.
    pub fn erase_target(&self) -> Option<String> {
        let n = self.seen_children.len();
        (n > 0).then(|| self.seen_children.iter().nth(self.erase_pick % n).cloned())?
    }

    /// Phone `i` stored `heads` as saved.
    pub fn saved(&mut self, i: usize, heads: BTreeMap<DocumentId, Vec<ChangeHash>>) {
        for (d, hs) in heads {
            self.saved[i].entry(d).or_default().extend(hs);
        }
    }
}
