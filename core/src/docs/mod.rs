//! One typed document per kind, with its validated operations and its merged view.
//!
//! Every operation checks its input against the document, the catalogue and the rules of the
//! domain *before* anything is written, and answers a refusal with
//! [`crate::Error::Invalid`] naming the field and the [`crate::Reason`]. An accepted operation
//! becomes exactly one Automerge change.

pub mod activity;
pub mod network;
pub mod outreach;
pub mod register;
pub mod resident;
pub mod staff;
pub mod tenant;
pub mod volunteers;

use crate::catalogue::{Catalogue, Vocabulary};
use crate::error::{Reason, Result, invalid};
use crate::ids::Code;
use crate::model::Set;

/// Longest name or title.
pub const MAX_NAME: usize = 200;
/// Longest free text (agenda, narrative, purpose).
pub const MAX_TEXT: usize = 4000;

pub(crate) fn require_text(field: &'static str, s: &str, max: usize) -> Result<()> {
    if s.trim().is_empty() {
        return invalid(field, Reason::Missing, "must not be empty");
    }
    if s.chars().count() > max {
        return invalid(field, Reason::TooLong, format!("at most {max} characters"));
    }
    Ok(())
}

pub(crate) fn limit_text(field: &'static str, s: &str, max: usize) -> Result<()> {
    if s.chars().count() > max {
        return invalid(field, Reason::TooLong, format!("at most {max} characters"));
    }
    Ok(())
}

pub(crate) fn require_term(
    cat: &Catalogue,
    v: Vocabulary,
    field: &'static str,
    code: &Code,
) -> Result<()> {
    if cat.has_term(v, code.as_str()) {
        Ok(())
    } else {
        invalid(
            field,
            Reason::UnknownCode,
            format!("{code} is not in {}", v.key()),
        )
    }
}

pub(crate) fn require_terms(
    cat: &Catalogue,
    v: Vocabulary,
    field: &'static str,
    codes: &Set<Code>,
) -> Result<()> {
    codes
        .iter()
        .try_for_each(|c| require_term(cat, v, field, c))
}
