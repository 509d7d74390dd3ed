//! Cross-crate stories: several phones, one relay, offline, reconnect; and the interop test
//! with the stock JavaScript automerge-repo client.

pub mod browser;
