//! The relay's integration tests, one module per subject, in one test binary (ADR 0039): one
//! link of the relay and its dependencies instead of one per file, and the tests of all
//! subjects share the test threads. `cluster.rs` (stops and starts the PostgreSQL server) and
//! `pg_tls.rs` (reconfigures it) stay binaries of their own, run alone.
//!
//! One subject: `cargo test -p nabo-server --test relay auth::`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../common/mod.rs"]
mod common;

mod access;
mod access_log;
mod auth;
mod consent;
mod durability;
mod erasure;
mod hostile_bounds;
mod hostile_changes;
mod limits;
mod manage;
mod networks;
mod oidc;
mod page_cache;
mod people;
mod protocol;
mod resident;
mod retention;
mod subject_keys;
mod theories;
mod web;
mod web_security;
