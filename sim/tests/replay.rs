//! A seed replays bit for bit (ADR 0036). In a test binary of its own, so that no other
//! simulation runs in the process meanwhile (see the ADR's limits: sqlx hands connections
//! back to its pool on its own thread, and a busy machine can still tip a race there).

/// A seed replays bit for bit: each run on a fresh thread, the digest over every call with
/// its simulated time and result and the final state is the same. (A dependence on thread
/// timing, the OS generator or hash order shows up here.)
#[test]
fn a_seed_replays_bit_for_bit() {
    for seed in [0u64, 1, 2, 3] {
        // `run` runs each seed on a fresh thread of its own.
        let digest = || {
            nabo_sim::run(seed, &nabo_sim::Params::suite(seed)).unwrap_or_else(|f| panic!("{f}"))
        };
        let (a, b) = (digest(), digest());
        println!("seed {seed}: {} / {}", a.digest, b.digest);
        assert_eq!(a.digest, b.digest, "seed {seed} did not replay: {a} vs {b}");
    }
}
