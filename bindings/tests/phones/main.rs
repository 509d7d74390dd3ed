//! The phone engine's integration tests against a real relay, one module per subject, in one
//! test binary (ADR 0039): one link of the bindings, the relay and their dependencies instead
//! of one per file.
//!
//! One subject: `cargo test -p nabo-bindings --test phones consent::`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../common/mod.rs"]
mod common;

mod consent;
mod erasure;
mod outreach_notes;
mod phone;
mod rewrite;
mod tls;
