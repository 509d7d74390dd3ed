//! Running each storage call to its end before anything else on the host's thread runs.
//!
//! SQLite (sqlx) answers from a worker thread of its own. If a storage call simply awaited
//! that answer, the host's runtime would go on with its other tasks meanwhile, and where the
//! answer's wake-up landed among them would depend on how fast the real thread was: two runs
//! of one seed would part (one sends a FIN before a SYN, the other after). Instead the
//! simulation drives every storage call of the relay ([`crate::storage::SimStorage`]) and of
//! the phones (the core store's thread hook, [`PhoneHook`]) with [`block`]: it polls the call
//! and, while the call waits for SQLite's thread, parks the host's thread itself. Nothing
//! else on the host runs, simulated time cannot move, and the call ends at the simulated
//! instant it began.
//!
//! A call may not wait for the host's own tasks: sqlx hands a used connection back to its
//! pool in a task, so pools under the simulation have connections to spare (a call that
//! finds none would wait for ever; [`block`] gives up after [`STUCK`] and panics, which
//! fails the seed with its replay command).

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

/// How long a storage call may wait for SQLite's thread in real time.
pub const STUCK: Duration = Duration::from_secs(60);

struct Unpark {
    thread: std::thread::Thread,
    woken: AtomicBool,
}

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::SeqCst);
        self.thread.unpark();
    }
}

/// Drives `work` to its end on this thread (see the module's documentation).
pub fn block<F: Future>(work: F) -> F::Output {
    // Outside tokio's budget: a tokio timer polled again and again inside one task's poll
    // would otherwise answer "pending, try again" for ever once the budget ran out.
    let mut work = std::pin::pin!(tokio::task::unconstrained(work));
    let unpark = Arc::new(Unpark {
        thread: std::thread::current(),
        woken: AtomicBool::new(false),
    });
    let waker = Waker::from(unpark.clone());
    let mut cx = Context::from_waker(&waker);
    let started = Instant::now();
    loop {
        if let Poll::Ready(out) = work.as_mut().poll(&mut cx) {
            return out;
        }
        while !unpark.woken.swap(false, Ordering::SeqCst) {
            let waited = started.elapsed();
            assert!(
                waited < STUCK,
                "a storage call waited {waited:?} for something only its own host could do \
                 (a pool without a spare connection?)"
            );
            std::thread::park_timeout(STUCK - waited);
        }
    }
}

/// What an injected phone storage fault says.
pub const PHONE_FAULT: &str = "simulated phone storage fault";

/// The phones' store hook: storage faults while the run turns them on, and [`block`].
#[derive(Debug)]
pub struct PhoneHook {
    pub(crate) faults: std::rc::Rc<std::cell::RefCell<crate::PhoneFaults>>,
}

impl nabo_core::store::StoreHook for PhoneHook {
    fn enter(&self, _call: &'static str) -> std::io::Result<()> {
        if self.faults.borrow_mut().draw() {
            return Err(std::io::Error::other(PHONE_FAULT));
        }
        Ok(())
    }

    fn drive(&self, call: std::pin::Pin<&mut dyn Future<Output = ()>>) {
        block(call);
    }
}
