//! Sync messages through the relay's own receive path (`nabo_server::relay::sync::
//! receive_message`: decoding within the budget of the message's size, the change limit,
//! applying) on a real register, then what the relay checks before it stores: the document
//! stays a valid Nabo document, and the bytes it would append reopen as what it holds.
//!
//! The first byte picks the shape: even — the rest is a whole sync message as a peer sends
//! it; odd — the rest is the change data of a well-formed message (changes, compressed
//! changes, bundles: what reaches Automerge's change decoder), so the fuzzer spends its time
//! inside the change formats rather than in the envelope.
//!
//! Panics inside `guarded` (Automerge failing on malformed input) are refusals; any other
//! panic is reported, including one in Nabo's own checks.
#![no_main]

use std::sync::OnceLock;

use automerge::sync::{Message, State, SyncDoc};
use automerge::{ActorId, Automerge};
use libfuzzer_sys::fuzz_target;
use nabo_core::document::NaboDoc;
use nabo_server::relay::Limits;
use nabo_server::relay::sync::{Held, HoldBudget, Refused, receive_message};

struct Base {
    relay: Automerge,
    /// A peer's message with no changes, to carry the fuzzer's change data.
    envelope: Message,
}

fn base() -> &'static Base {
    static BASE: OnceLock<Base> = OnceLock::new();
    BASE.get_or_init(|| {
        let relay = nabo_fuzz::register();
        let phone = relay.fork().with_actor(ActorId::from([9u8; 16].as_slice()));
        let envelope = phone
            .generate_sync_message(&mut State::new())
            .unwrap_or_else(|| panic!("a first message"));
        Base { relay, envelope }
    })
}

fuzz_target!(
    init: {
        nabo_fuzz::report_uncaught_panics();
        base();
    },
    |data: &[u8]| {
        let Some((&shape, rest)) = data.split_first() else {
            return;
        };
        let base = base();
        let bytes = if shape % 2 == 0 {
            rest.to_vec()
        } else {
            let mut m = base.envelope.clone();
            m.changes = vec![rest.to_vec()].into();
            m.encode()
        };
        let mut doc = base.relay.clone();
        let mut state = State::new();
        let before = doc.get_heads();
        let limits = Limits::default();
        let max = limits.max_changes_per_message;
        let mut held = Held::new(HoldBudget::new(limits.max_held_bytes, limits.max_held_changes));
        match receive_message(&mut doc, &mut state, &bytes, &mut held, max) {
            Err(Refused::Close(r)) => assert!(matches!(r.code, 1008 | 1009), "close code {}", r.code),
            Err(Refused::ReadOnly) => panic!("a writer's sync state is never read-only"),
            Ok(_) => {
                if doc.get_heads() != before {
                    // The relay's check before storing (doc.rs `check_and_persist`).
                    let actor = ActorId::from([1u8; 16].as_slice());
                    let appended = doc.save_after(&before);
                    if NaboDoc::from_automerge(doc.clone(), actor).is_ok() {
                        nabo_fuzz::assert_reopens(nabo_fuzz::REGISTER, &appended, &doc);
                    }
                }
                // The relay's answer.
                let _ = doc.generate_sync_message(&mut state);
            }
        }
    }
);
