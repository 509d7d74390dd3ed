//! Where Nabo's randomness comes from: every id, actor, key and nonce that Nabo's own code
//! makes is drawn here. Normally that is the operating system's generator, as before. A
//! thread that seeds itself (feature `sim`: the deterministic simulation, ADR 0036, runs
//! every simulated phone and relay on one thread) draws from a generator seeded with its seed
//! instead, so a run replays bit for bit. Production builds never turn the feature on, and an
//! unseeded thread never reads a seeded generator.

use std::cell::RefCell;

use rand::rngs::{StdRng, SysRng};
use rand::{Rng, TryRng};

thread_local! {
    static SEEDED: RefCell<Option<StdRng>> = const { RefCell::new(None) };
}

/// Fills `buf` with random bytes: from this thread's seeded generator if it has one, else
/// from the operating system's.
pub fn fill(buf: &mut [u8]) {
    let seeded = SEEDED.with(|s| match s.borrow_mut().as_mut() {
        Some(rng) => {
            rng.fill_bytes(buf);
            true
        }
        None => false,
    });
    if !seeded && SysRng.try_fill_bytes(buf).is_err() {
        // The OS generator failed (it does not, in practice); rand's thread generator is a
        // CSPRNG seeded from it and panics if it cannot be seeded.
        rand::fill(buf);
    }
}

/// `N` random bytes (see [`fill`]).
pub fn bytes<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    fill(&mut out);
    out
}

/// A random (version 4) UUID.
pub fn uuid() -> uuid::Uuid {
    uuid::Builder::from_random_bytes(bytes()).into_uuid()
}

/// A random Automerge actor id (16 bytes, as `ActorId::random`).
pub fn actor() -> automerge::ActorId {
    automerge::ActorId::from(bytes::<16>())
}

/// Seeds this thread's generator: what Nabo draws on this thread from now on follows from
/// `seed` alone, until [`unseed_this_thread`]. For the simulation only.
#[cfg(feature = "sim")]
pub fn seed_this_thread(seed: u64) {
    use rand::SeedableRng;
    SEEDED.with(|s| *s.borrow_mut() = Some(StdRng::seed_from_u64(seed)));
}

/// Returns this thread to the operating system's generator.
#[cfg(feature = "sim")]
pub fn unseed_this_thread() {
    SEEDED.with(|s| *s.borrow_mut() = None);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unseeded_draws_differ_and_uuids_are_version_4() {
        assert_ne!(bytes::<16>(), bytes::<16>());
        let u = uuid();
        assert_eq!(u.get_version_num(), 4);
        assert_eq!(u.get_variant(), uuid::Variant::RFC4122);
        assert_ne!(actor(), actor());
    }

    #[cfg(feature = "sim")]
    #[test]
    fn a_seeded_thread_replays_and_other_threads_are_not_seeded() {
        let draw = || (bytes::<32>(), uuid(), actor(), crate::ids::random_id());
        seed_this_thread(7);
        let first = draw();
        seed_this_thread(7);
        assert_eq!(draw(), first, "the same seed draws the same");
        seed_this_thread(8);
        assert_ne!(draw(), first, "another seed draws otherwise");
        // Another thread is not seeded: its draws differ between two runs of the same code.
        let other = std::thread::spawn(|| (bytes::<32>(), bytes::<32>()))
            .join()
            .unwrap_or_default();
        assert_ne!(other.0, other.1);
        unseed_this_thread();
        seed_this_thread(7);
        let _ = draw();
        unseed_this_thread();
        assert_ne!(draw().0, first.0, "unseeded again");
    }
}
