//! The domain records (DOMAIN.md §1), as they are stored in documents.
//!
//! Each record is a plain struct that maps to an Automerge map with `autosurgeon`. Which
//! document holds which record is decided in [`crate::document`] and written down in
//! `docs/adr/0002-documents-by-access-boundary.md`.
//!
//! Conventions that make merges behave (ADR 0003):
//! - every collection is a map keyed by identifier, never a list, so concurrent additions
//!   from two phones are both kept;
//! - a set of codes is a [`Set`] (a map `code → true`), so concurrent additions union;
//! - nothing is hard-deleted while a phone could still be writing to it: sessions are
//!   cancelled, participants are merged, referrals are closed;
//! - what identifies a person (a first name for the roll call, a volunteer's name) is never a
//!   plain string in a document but [`Sealed`] with that person's own key (ADR 0004).

pub mod activity;
pub mod enums;
pub mod network;
pub mod org;
pub mod outreach;
pub mod programme;
pub mod register;
pub mod resident;
pub mod staff;
pub mod volunteer;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

use autosurgeon::{Hydrate, HydrateError, Reconcile, Reconciler, reconcile::MapReconciler};

pub use enums::*;

/// A set stored as an Automerge map `key → true`: concurrent additions on two phones union,
/// and a removal removes only that element.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Set<T: Ord>(pub BTreeSet<T>);

impl<T: Ord + fmt::Debug> fmt::Debug for Set<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.0.iter()).finish()
    }
}

impl<T: Ord> Set<T> {
    /// An empty set.
    pub fn new() -> Self {
        Set(BTreeSet::new())
    }
    /// Whether `item` is in the set.
    pub fn contains(&self, item: &T) -> bool {
        self.0.contains(item)
    }
    /// Iterates in order.
    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.0.iter()
    }
    /// Number of elements.
    pub fn len(&self) -> usize {
        self.0.len()
    }
    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    /// Adds an element.
    pub fn insert(&mut self, item: T) -> bool {
        self.0.insert(item)
    }
}

impl<T: Ord> FromIterator<T> for Set<T> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        Set(iter.into_iter().collect())
    }
}

impl<T: Ord + fmt::Display> Reconcile for Set<T> {
    type Key<'a> = autosurgeon::reconcile::NoKey;
    fn reconcile<R: Reconciler>(&self, mut reconciler: R) -> Result<(), R::Error> {
        let mut m = reconciler.map()?;
        let wanted: BTreeSet<String> = self.0.iter().map(|t| t.to_string()).collect();
        let stale: Vec<String> = m
            .entries()
            .map(|(k, _)| k.to_string())
            .filter(|k| !wanted.contains(k))
            .collect();
        for k in stale {
            m.delete(&k)?;
        }
        for k in &wanted {
            m.put(k, true)?;
        }
        Ok(())
    }
}

impl<T> Hydrate for Set<T>
where
    T: Ord + FromStr,
    T::Err: fmt::Display,
{
    fn hydrate_map<D: autosurgeon::ReadDoc>(
        doc: &D,
        obj: &automerge::ObjId,
    ) -> Result<Self, HydrateError> {
        doc.map_range(obj, ..)
            .map(|item| {
                item.key
                    .parse::<T>()
                    .map_err(|e| HydrateError::unexpected("a set element", e.to_string()))
            })
            .collect::<Result<BTreeSet<T>, _>>()
            .map(Set)
    }
}

/// A map keyed by a parseable identifier, stored as an Automerge map.
#[derive(Clone, PartialEq, Default)]
pub struct IdMap<K: Ord, V>(pub BTreeMap<K, V>);

impl<K: Ord + fmt::Debug, V: fmt::Debug> fmt::Debug for IdMap<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.0.iter()).finish()
    }
}

impl<K: Ord, V> IdMap<K, V> {
    /// An empty map.
    pub fn new() -> Self {
        IdMap(BTreeMap::new())
    }
}

impl<K: Ord, V> FromIterator<(K, V)> for IdMap<K, V> {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        IdMap(iter.into_iter().collect())
    }
}

impl<K: Ord, V> std::ops::Deref for IdMap<K, V> {
    type Target = BTreeMap<K, V>;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl<K: Ord, V> std::ops::DerefMut for IdMap<K, V> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

impl<K: Ord + fmt::Display, V: Reconcile> Reconcile for IdMap<K, V> {
    type Key<'a> = autosurgeon::reconcile::NoKey;
    fn reconcile<R: Reconciler>(&self, reconciler: R) -> Result<(), R::Error> {
        autosurgeon::map_with_parseable_keys::reconcile(self.0.iter(), reconciler)
    }
}

impl<K, V> Hydrate for IdMap<K, V>
where
    K: Ord + FromStr,
    K::Err: fmt::Display,
    V: Hydrate,
{
    fn hydrate_map<D: autosurgeon::ReadDoc>(
        doc: &D,
        obj: &automerge::ObjId,
    ) -> Result<Self, HydrateError> {
        doc.map_range(obj, ..)
            .map(|item| {
                let k = item
                    .key
                    .parse::<K>()
                    .map_err(|e| HydrateError::unexpected("a map key", e.to_string()))?;
                let v = V::hydrate(doc, obj, item.key.as_ref().into())?;
                Ok((k, v))
            })
            .collect::<Result<BTreeMap<K, V>, _>>()
            .map(IdMap)
    }
}

/// Identifying data sealed with the key of the person it belongs to (crypto-shredding,
/// ADR 0004). The document holds only this ciphertext; destroying the key erases the content
/// from every copy and from the history at once.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Sealed(pub Vec<u8>);

impl fmt::Debug for Sealed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sealed({} bytes)", self.0.len())
    }
}

impl Reconcile for Sealed {
    type Key<'a> = autosurgeon::reconcile::NoKey;
    fn reconcile<R: Reconciler>(&self, mut reconciler: R) -> Result<(), R::Error> {
        reconciler.bytes(&self.0)
    }
}

impl Hydrate for Sealed {
    fn hydrate_bytes(bytes: &[u8]) -> Result<Self, HydrateError> {
        Ok(Sealed(bytes.to_vec()))
    }
}

/// Who made a record: a staff member, a volunteer, or the system (migrations, generated
/// sessions). Stored as `staff:<id>`, `volunteer:<id>` or `system`.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub enum By {
    /// A staff member.
    Staff(crate::ids::StaffId),
    /// A volunteer.
    Volunteer(crate::ids::VolunteerId),
    /// Nabo itself.
    System,
}

impl fmt::Display for By {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            By::Staff(id) => write!(f, "staff:{id}"),
            By::Volunteer(id) => write!(f, "volunteer:{id}"),
            By::System => f.write_str("system"),
        }
    }
}

impl FromStr for By {
    type Err = crate::codes::UnknownCode;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = crate::codes::UnknownCode { kind: "By" };
        if s == "system" {
            return Ok(By::System);
        }
        let (kind, id) = s.split_once(':').ok_or(bad.clone())?;
        match kind {
            "staff" => id.parse().map(By::Staff).map_err(|_| bad),
            "volunteer" => id.parse().map(By::Volunteer).map_err(|_| bad),
            _ => Err(bad),
        }
    }
}

crate::time::stored_as_string!(By);

/// Lenient readers for free-text fields. Automerge's JavaScript client writes a plain JS
/// string as collaborative *text*; Nabo writes scalar strings. Both read the same, so a
/// document edited by a JS app stays readable.
pub mod lenient {
    use automerge::{ObjType, Value};
    use autosurgeon::{HydrateError, Prop, ReadDoc};

    /// A string field: a scalar string or a text object.
    pub fn string<D: ReadDoc>(
        doc: &D,
        obj: &automerge::ObjId,
        prop: Prop<'_>,
    ) -> Result<String, HydrateError> {
        match doc.get(obj, &prop)? {
            Some((Value::Scalar(s), _)) => match s.as_ref() {
                automerge::ScalarValue::Str(s) => Ok(s.to_string()),
                _ => Err(HydrateError::unexpected(
                    "a string",
                    "another scalar".into(),
                )),
            },
            Some((Value::Object(ObjType::Text), id)) => Ok(doc.text(&id)?),
            Some(_) => Err(HydrateError::unexpected("a string", "an object".into())),
            None => Err(HydrateError::unexpected("a string", "nothing".into())),
        }
    }

    /// A flag added after records were written (`Programme::archived`,
    /// `Activity::archived`, ADR 0022): missing or null is `false`.
    pub fn missing_false<D: ReadDoc>(
        doc: &D,
        obj: &automerge::ObjId,
        prop: Prop<'_>,
    ) -> Result<bool, HydrateError> {
        match doc.get(obj, &prop)? {
            None => Ok(false),
            Some((Value::Scalar(s), _)) if matches!(s.as_ref(), automerge::ScalarValue::Null) => {
                Ok(false)
            }
            Some(_) => autosurgeon::hydrate_prop(doc, obj, prop),
        }
    }

    /// An optional field added after records were written (`Participant::erased`): missing
    /// or null is `None`.
    pub fn missing_none<D: ReadDoc, T: autosurgeon::Hydrate>(
        doc: &D,
        obj: &automerge::ObjId,
        prop: Prop<'_>,
    ) -> Result<Option<T>, HydrateError> {
        match doc.get(obj, &prop)? {
            None => Ok(None),
            Some(_) => autosurgeon::hydrate_prop(doc, obj, prop),
        }
    }

    /// An optional string field: missing or null is `None`.
    pub fn opt_string<D: ReadDoc>(
        doc: &D,
        obj: &automerge::ObjId,
        prop: Prop<'_>,
    ) -> Result<Option<String>, HydrateError> {
        match doc.get(obj, &prop)? {
            None => Ok(None),
            Some((Value::Scalar(s), _)) if matches!(s.as_ref(), automerge::ScalarValue::Null) => {
                Ok(None)
            }
            Some(_) => string(doc, obj, prop).map(Some),
        }
    }

    /// An optional coded field added after its record was first stored: missing (older
    /// copies) or null is `None`.
    pub fn opt_code<D: ReadDoc, T: std::str::FromStr>(
        doc: &D,
        obj: &automerge::ObjId,
        prop: Prop<'_>,
    ) -> Result<Option<T>, HydrateError> {
        match opt_string(doc, obj, prop)? {
            None => Ok(None),
            Some(s) => s
                .parse()
                .map(Some)
                .map_err(|_| HydrateError::unexpected("a known code", s)),
        }
    }
}
