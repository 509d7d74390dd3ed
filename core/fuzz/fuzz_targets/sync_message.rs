//! Applying an arbitrary automerge sync message to a register never panics.
#![no_main]

use automerge::sync::{Message, State, SyncDoc};
use automerge::{ActorId, Automerge};
use libfuzzer_sys::fuzz_target;

fuzz_target!(
    init: {
        // Automerge 0.12 panics on some malformed input; Nabo catches that at its boundary
        // (`nabo_core::document::guarded`) and answers `Error::Corrupt`. libFuzzer's hook
        // would abort even on a caught panic, so use a quiet hook: a panic that escapes Nabo
        // still aborts (libfuzzer-sys catches it) and is reported as a crash.
        std::panic::set_hook(Box::new(|_| {}));
    },
    |data: &[u8]| {
    let Ok(msg) = Message::decode(data) else { return };
    let mut doc = Automerge::new().with_actor(ActorId::from([2u8; 16].as_slice()));
    let mut state = State::new();
    let _ = nabo_core::document::guarded(|| doc.receive_sync_message(&mut state, msg));
    let _ = nabo_core::document::NaboDoc::from_automerge(doc, ActorId::from([3u8; 16].as_slice()));
});
