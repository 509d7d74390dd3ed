//! Cross-crate stories: several phones, one relay, offline, reconnect; and the interop test
//! with the stock JavaScript automerge-repo client. The library holds what the benchmark,
//! soak and browser tests share.

pub mod browser;
pub mod load;
pub mod procs;
