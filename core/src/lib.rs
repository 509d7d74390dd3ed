//! # nabo-core
//!
//! The boligsocial domain of Nabo — programmes, housing areas, activities of the 43 types in
//! the 8 intervention areas, sessions and attendance, volunteers, staff and their roles,
//! outreach contacts, referrals, networks, change theories and goal reports — held in
//! Automerge documents so that edits made offline on several phones merge without loss.
//!
//! Layers, from the bottom:
//! - [`catalogue`]: the taxonomies, target groups, indicators and vocabularies (data files);
//! - [`model`]: the records, mapped to Automerge maps with `autosurgeon`;
//! - [`document`]: document kinds, scopes, skeleton, schema migration, conflict-aware reads;
//! - [`rounds`]: the activity types of each funding round and mappings between rounds;
//! - [`docs`]: one typed document per kind with its validated operations and merged views;
//! - [`seal`]: per-person encryption of identifying data (erasure by key destruction);
//! - [`store`] (feature `store`): the phone's durable local store in SQLite.
//!
//! Everything except [`store`] is free of I/O: operations take the author and the time as
//! arguments and return values.
//!
//! ```
//! use nabo_core::prelude::*;
//!
//! let cat = Catalogue::builtin().unwrap();
//! let tenant: TenantId = "t1".parse().unwrap();
//! let central = Author { by: By::Staff("s1".parse().unwrap()), at: Timestamp(1_790_000_000_000) };
//! let mut activity = ActivityDoc::create(
//!     tenant.clone(),
//!     ActivityId::random(),
//!     automerge::ActorId::random(),
//!     &central,
//!     cat,
//!     NewActivity::new("Lektiecafé", "p1".parse().unwrap(), "a1".parse().unwrap(), "lbf-2006-2010", "BE.lektiecafe"),
//! ).unwrap();
//! assert_eq!(activity.activity().unwrap().current.primary_type.as_str(), "BE.lektiecafe");
//! ```

pub mod access_log;
pub mod catalogue;
#[cfg(feature = "client")]
pub mod client;
pub mod codes;
pub mod concern;
pub mod consent;
pub mod disclosure;
pub mod docs;
pub mod document;
pub mod entropy;
pub mod erasure;
pub mod error;
pub mod ids;
pub mod model;
pub mod retention;
pub mod rounds;
pub mod rules;
pub mod seal;
pub mod shifts;
#[cfg(feature = "store")]
pub mod store;
pub mod time;
pub mod untrusted;
pub mod wire;

pub use error::{Error, Invalid, Reason, Result};

/// The names most callers need.
pub mod prelude {
    pub use crate::catalogue::{Catalogue, Vocabulary};
    pub use crate::docs::activity::{ActivityDoc, NewActivity, NewSeries};
    pub use crate::docs::register::{NewParticipant, NewSession, RegisterContext, RegisterDoc};
    pub use crate::document::{Author, DocKind, DocumentId, NaboDoc, Scope, TypedDoc, Versions};
    pub use crate::error::{Error, Invalid, Reason, Result};
    pub use crate::ids::*;
    pub use crate::model::*;
    pub use crate::time::{Date, Quarter, Term, Time, Timestamp, Weekday};
}
