//! uniffi bindings of the Nabo core for Kotlin (Android, JVM), Swift (iOS) and Python.
//!
//! One object, [`NaboClient`], opened on a data directory and a relay URL: a volunteer's or
//! an outreach worker's phone. It works offline against an encrypted local store
//! (`nabo_core::store`) and syncs with the relay over the automerge-repo protocol when it can.
//! See `docs/adr/0010-bindings.md`.

uniffi::setup_scaffolding!();

pub mod api;
mod certificate;
pub mod client;
mod consent;
mod device;
pub mod error;
pub mod http;
mod outreach;
mod resident;
mod runtime;
#[cfg(feature = "sim")]
pub use runtime::run_inline_on_this_thread;
mod sync;
mod volunteer;

pub use client::{NaboClient, Subscription};
pub use error::{ListenerError, NaboError};

/// The version of the core these bindings wrap.
#[uniffi::export]
pub fn core_version() -> String {
    env!("CARGO_PKG_VERSION").to_owned()
}
