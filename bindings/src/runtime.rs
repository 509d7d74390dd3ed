//! The bindings' own multi-threaded tokio runtime. Foreign async calls (Kotlin coroutines,
//! Swift tasks, Python asyncio) await a join handle, so the caller's thread is never blocked
//! and every I/O future runs where tokio's reactor is.

use std::cell::Cell;
use std::future::Future;
use std::sync::OnceLock;

use crate::error::{NaboError, Result};

pub(crate) fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("nabo")
            .enable_all()
            .build()
            .unwrap_or_else(|e| panic!("cannot start the nabo runtime: {e}"))
    })
}

thread_local! {
    static INLINE: Cell<bool> = const { Cell::new(false) };
}

/// Runs the calls of every phone made on this thread on the caller's own runtime instead of
/// the bindings' one: for the deterministic simulation (ADR 0036), whose hosts each run on a
/// current-thread runtime with simulated network and time. Rust only (feature `sim`).
#[cfg(feature = "sim")]
pub fn run_inline_on_this_thread(inline: bool) {
    INLINE.set(inline);
}

fn inline() -> bool {
    INLINE.get()
}

/// Spawns a background task of a phone (automatic sync, change listeners) where its calls run.
pub(crate) fn spawn<F>(f: F) -> tokio::task::JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    if inline() {
        tokio::spawn(f)
    } else {
        runtime().spawn(f)
    }
}

/// Runs `f` on the runtime; dropping the returned future (a cancelled coroutine) aborts it.
/// Inline (the simulation), `f` runs in place.
pub(crate) async fn run<T, F>(f: F) -> Result<T>
where
    F: Future<Output = Result<T>> + Send + 'static,
    T: Send + 'static,
{
    if inline() {
        return f.await;
    }
    struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);
    impl<T> Drop for AbortOnDrop<T> {
        fn drop(&mut self) {
            self.0.abort();
        }
    }
    let mut h = AbortOnDrop(runtime().spawn(f));
    match (&mut h.0).await {
        Ok(r) => r,
        Err(e) => Err(NaboError::internal(format!("task failed: {e}"))),
    }
}
