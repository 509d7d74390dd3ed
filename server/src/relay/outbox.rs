//! A connection's outbound queue, bounded in bytes.
//!
//! Document tasks and the connection itself put messages here; the connection's task writes
//! them to the socket. Every queued message holds permits of a per-connection byte budget
//! (its encoded size plus a fixed overhead), released when it has been written. A message
//! that does not fit closes the connection with 1013 ("client too slow"): a reader that does
//! not keep up is disconnected and resyncs when it comes back, it is never buffered without
//! limit. A message larger than the whole budget takes the whole budget, so it is sent only
//! when nothing else waits (a first sync of a large document still gets through).
//!
//! Closing never waits for room: the close request sits in its own slot, and the
//! connection's task is woken for it even while it is blocked writing to a stalled socket.

use std::sync::{Arc, Mutex};

use prometheus::IntCounter;
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, mpsc};

use super::doc::Outbound;

/// What each queued message costs beyond its bytes (the queue entry, the boxed buffer).
const OVERHEAD: usize = 64;

/// An encoded message waiting to be written, holding its share of the byte budget.
#[derive(Debug)]
pub struct Queued {
    /// The encoded protocol message.
    pub bytes: Vec<u8>,
    _permit: OwnedSemaphorePermit,
}

impl Queued {
    /// The bytes, and what to drop once they are written (releases their budget).
    pub fn split(self) -> (Vec<u8>, OwnedSemaphorePermit) {
        (self.bytes, self._permit)
    }
}

#[derive(Debug)]
struct Shared {
    budget: Arc<Semaphore>,
    max_bytes: usize,
    close: Mutex<Option<(u16, String)>>,
    closing: Notify,
    overflows: IntCounter,
}

/// The sending half, cloned into every document task the connection has open.
#[derive(Debug, Clone)]
pub struct Outbox {
    tx: mpsc::UnboundedSender<Queued>,
    shared: Arc<Shared>,
}

/// The connection's half.
#[derive(Debug)]
pub struct OutboxReceiver {
    rx: mpsc::UnboundedReceiver<Queued>,
    shared: Arc<Shared>,
}

/// Waits for a close request (held apart from the receiver, so a task can wait for both).
#[derive(Debug, Clone)]
pub struct Closer(Arc<Shared>);

/// The message was not queued; the connection is being closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Full;

/// A queue with a budget of `max_bytes`; `overflows` counts connections closed for it.
pub fn outbox(max_bytes: usize, overflows: IntCounter) -> (Outbox, OutboxReceiver) {
    let max_bytes = max_bytes.clamp(OVERHEAD * 2, Semaphore::MAX_PERMITS);
    let shared = Arc::new(Shared {
        budget: Arc::new(Semaphore::new(max_bytes)),
        max_bytes,
        close: Mutex::new(None),
        closing: Notify::new(),
        overflows,
    });
    let (tx, rx) = mpsc::unbounded_channel();
    (
        Outbox {
            tx,
            shared: shared.clone(),
        },
        OutboxReceiver { rx, shared },
    )
}

impl Outbox {
    /// Queues a message (same shape as `mpsc::Sender::try_send`, which this replaces). A
    /// protocol message is encoded now and charged to the budget; `Outbound::Close` asks the
    /// connection to close and always succeeds.
    pub fn try_send(&self, out: Outbound) -> Result<(), Full> {
        match out {
            Outbound::Wire(m) => self.send_bytes(m.encode()),
            Outbound::Close { code, reason } => {
                self.close(code, reason);
                Ok(())
            }
        }
    }

    /// Queues encoded bytes.
    pub fn send_bytes(&self, bytes: Vec<u8>) -> Result<(), Full> {
        if self.is_closing() {
            return Err(Full);
        }
        let cost = (bytes.len() + OVERHEAD).min(self.shared.max_bytes);
        let Ok(permit) = self
            .shared
            .budget
            .clone()
            .try_acquire_many_owned(u32::try_from(cost).unwrap_or(u32::MAX))
        else {
            self.shared.overflows.inc();
            self.close(
                1013,
                format!(
                    "client too slow: more than {} bytes waiting to be sent",
                    self.shared.max_bytes
                ),
            );
            return Err(Full);
        };
        self.tx
            .send(Queued {
                bytes,
                _permit: permit,
            })
            .map_err(|_| Full)
    }

    /// Asks the connection to close (the first request wins).
    pub fn close(&self, code: u16, reason: impl Into<String>) {
        if let Ok(mut c) = self.shared.close.lock()
            && c.is_none()
        {
            *c = Some((code, reason.into()));
        }
        self.shared.closing.notify_one();
    }

    fn is_closing(&self) -> bool {
        self.shared.close.lock().map_or(true, |c| c.is_some())
    }

    /// Bytes charged to the budget now (for tests and metrics).
    pub fn queued_bytes(&self) -> usize {
        self.shared.max_bytes - self.shared.budget.available_permits()
    }
}

impl OutboxReceiver {
    /// The next message to write, or `None` when every sender is gone.
    pub async fn recv(&mut self) -> Option<Queued> {
        self.rx.recv().await
    }

    /// What resolves when the connection is asked to close.
    pub fn closer(&self) -> Closer {
        Closer(self.shared.clone())
    }
}

impl Closer {
    /// Resolves with the close request once there is one.
    pub async fn closing(&self) -> (u16, String) {
        loop {
            let notified = self.0.closing.notified();
            if let Some(c) = self.0.close.lock().ok().and_then(|c| c.clone()) {
                return c;
            }
            notified.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counter() -> IntCounter {
        IntCounter::new("t", "t").unwrap_or_else(|_| panic!("counter"))
    }

    #[tokio::test]
    async fn the_budget_is_in_bytes_and_an_overflow_asks_to_close() {
        let (out, mut rx) = outbox(1000, counter());
        // Several small messages fit; bytes, not count, decide.
        for _ in 0..4 {
            assert_eq!(out.send_bytes(vec![0; 100]), Ok(()));
        }
        assert_eq!(out.queued_bytes(), 4 * (100 + OVERHEAD));
        // One that does not fit is refused and closes the connection.
        assert_eq!(out.send_bytes(vec![0; 600]), Err(Full));
        assert_eq!(rx.closer().closing().await.0, 1013);
        // Nothing more is queued once closing.
        assert_eq!(out.send_bytes(vec![0; 1]), Err(Full));
        // Writing a message releases its bytes.
        let q = rx.recv().await;
        assert!(q.is_some());
        drop(q);
        assert_eq!(out.queued_bytes(), 3 * (100 + OVERHEAD));
    }

    #[tokio::test]
    async fn a_message_larger_than_the_budget_goes_alone() {
        let (out, mut rx) = outbox(1000, counter());
        assert_eq!(out.send_bytes(vec![0; 5000]), Ok(()));
        assert_eq!(out.queued_bytes(), 1000);
        let q = rx.recv().await;
        assert_eq!(q.map(|q| q.bytes.len()), Some(5000));
        assert_eq!(out.queued_bytes(), 0);
    }

    #[tokio::test]
    async fn close_needs_no_room() {
        let (out, rx) = outbox(200, counter());
        assert_eq!(out.send_bytes(vec![0; 100]), Ok(()));
        out.close(4003, "access revoked");
        out.close(1001, "later requests do not replace the first");
        assert_eq!(rx.closer().closing().await, (4003, "access revoked".into()));
    }
}
