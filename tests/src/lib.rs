//! Cross-crate stories: several phones, one relay, offline, reconnect; and the interop test
//! with the stock JavaScript automerge-repo client. The library holds what the benchmark and
//! soak binaries share.

pub mod procs;
