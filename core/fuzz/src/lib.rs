//! What the fuzz targets share: the panic policy, the seed register, and an in-process relay
//! for the HTTP bodies.
//!
//! Panic policy: a panic inside `nabo_core::document::guarded` is Nabo's answer to Automerge
//! failing on malformed input (it becomes an error), so it is not a finding. Every other
//! panic is — on the fuzzing thread or in a task the relay spawned (tokio would otherwise
//! swallow it) — and aborts the process, which libFuzzer reports as a crash with its input.

use automerge::Automerge;

pub mod http;

/// A saved term register with a session, a participant and a roll-call mark (written by
/// `cargo run -p nabo-core --example fuzz_seeds`).
pub const REGISTER: &[u8] = include_bytes!("../seeds/load_document/register");

/// Installs the panic policy (call from the target's `init`).
pub fn report_uncaught_panics() {
    std::panic::set_hook(Box::new(|info| {
        if nabo_core::document::in_guarded() {
            return;
        }
        eprintln!("uncaught panic: {info}");
        std::process::abort();
    }));
}

/// The seed register as Automerge loads it.
pub fn register() -> Automerge {
    match nabo_core::document::load_automerge(REGISTER) {
        Ok(am) => am,
        Err(e) => panic!("the seed register does not load: {e}"),
    }
}

/// Loads what the relay would have stored (its copy before, plus the bytes it appends) and
/// checks that it reopens as the document it holds: a message the relay accepts must never
/// leave it unable to reopen the document after a restart.
pub fn assert_reopens(snapshot: &[u8], appended: &[u8], expected: &Automerge) {
    let stored = [snapshot, appended].concat();
    match nabo_core::document::load_automerge(&stored) {
        Ok(reopened) => {
            let mut a = reopened.get_heads();
            let mut b = expected.get_heads();
            a.sort();
            b.sort();
            assert_eq!(a, b, "the stored bytes reopen with other heads");
        }
        Err(e) => panic!("accepted changes do not reopen from storage: {e}"),
    }
}
