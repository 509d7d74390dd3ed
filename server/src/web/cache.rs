//! The review pages' cache of decoded documents (ADR 0028).
//!
//! A page load used to read and decode every document of the tenant. Now it reads the
//! tenant's document registry with each document's stored version (one query) and decodes
//! only the documents whose version changed since it last saw them; the rest — the typed
//! document and its merged view — come from here.
//!
//! Correctness does not rest on being told of changes: the version is raised by every append
//! in the transaction that stores the changes (on every node, and by the office's direct
//! writes), so an entry is used only while the stored content is the content it was decoded
//! from. An entry is read under the version seen *before* its chunks were read, so a change
//! stored in between only costs one more decode. Appends on this node and notices from other
//! nodes (ADR 0025) also drop the document's entry at once, so memory is not held for what
//! the next load would replace anyway.
//!
//! Memory is bounded by a byte budget (`--page-cache-mb`): each entry weighs its stored size
//! times [`MEMORY_PER_STORED_BYTE`] (what a decoded document takes in memory per stored byte,
//! measured on the national seed), and the least useful entries are evicted first
//! (quick_cache's CLOCK-Pro). A budget of 0 turns the cache off.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use nabo_core::document::DocumentId;

use super::data::Decoded;

/// Bytes of memory a decoded document takes per byte stored (Automerge's in-memory form,
/// the typed records and the merged view against its compressed columnar storage). Measured
/// on the national seed by `cargo xtask bench-pages` (docs/benchmarks.md: the node's RSS
/// grew 77–86 bytes per stored byte with every document cached); an estimate, not a hard
/// bound.
pub const MEMORY_PER_STORED_BYTE: u64 = 80;

/// The decoded documents of the review pages, by document id.
pub struct PageCache {
    entries: Option<quick_cache::sync::Cache<DocumentId, Arc<Decoded>, ByWeight>>,
    budget: u64,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl std::fmt::Debug for PageCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PageCache")
            .field("budget", &self.budget)
            .field("entries", &self.len())
            .finish()
    }
}

#[derive(Clone)]
struct ByWeight;

impl quick_cache::Weighter<DocumentId, Arc<Decoded>> for ByWeight {
    fn weight(&self, _: &DocumentId, v: &Arc<Decoded>) -> u64 {
        v.weight
    }
}

/// What a document's entry weighs: its estimated memory (at least 1).
pub fn weight(stored_bytes: i64) -> u64 {
    (stored_bytes.max(1) as u64).saturating_mul(MEMORY_PER_STORED_BYTE)
}

impl PageCache {
    /// A cache holding at most `budget` bytes (estimated); 0 turns it off.
    pub fn new(budget: u64) -> Self {
        let entries = (budget > 0).then(|| {
            // Room for the documents of a national tenant by default; the budget decides.
            quick_cache::sync::Cache::with_weighter(16_384, budget, ByWeight)
        });
        PageCache {
            entries,
            budget,
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    /// The entry of `id` if it was decoded from `version` of the document as registered with
    /// `meta` (a renamed or moved document is decoded again).
    pub(crate) fn get(&self, meta: &crate::storage::DocMeta, version: i64) -> Option<Arc<Decoded>> {
        let hit = self
            .entries
            .as_ref()?
            .get(&meta.id)
            .filter(|e| e.version == version && &e.meta == meta);
        match hit {
            Some(_) => self.hits.fetch_add(1, Ordering::Relaxed),
            None => self.misses.fetch_add(1, Ordering::Relaxed),
        };
        hit
    }

    /// Keeps a decoded document (replacing an older entry of it).
    pub(crate) fn put(&self, d: Arc<Decoded>) {
        if let Some(c) = &self.entries {
            c.insert(d.meta.id, d);
        }
    }

    /// Drops a document's entry (it changed, here or on another node).
    pub fn forget(&self, id: DocumentId) {
        if let Some(c) = &self.entries {
            c.remove(&id);
        }
    }

    /// Drops every entry (notices from other nodes may have been missed).
    pub fn clear(&self) {
        if let Some(c) = &self.entries {
            c.clear();
        }
    }

    /// Entries held.
    pub fn len(&self) -> usize {
        self.entries.as_ref().map_or(0, |c| c.len())
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Estimated bytes held.
    pub fn weight(&self) -> u64 {
        self.entries.as_ref().map_or(0, |c| c.weight())
    }

    /// The budget in bytes (0: off).
    pub fn budget(&self) -> u64 {
        self.budget
    }

    /// (hits, misses) since the start.
    pub fn counts(&self) -> (u64, u64) {
        (
            self.hits.load(Ordering::Relaxed),
            self.misses.load(Ordering::Relaxed),
        )
    }
}
