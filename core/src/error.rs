//! Errors of the domain layer.
//!
//! A write that breaks a domain rule is answered with [`Error::Invalid`] carrying a
//! [`Invalid`] value: the field and a machine-readable [`Reason`], so an app can put the
//! message next to the right input. Messages never contain personal data: they name fields and
//! codes, never labels or names.

use std::fmt;

use crate::document::DocKind;

/// Result of the domain layer.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why a value was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reason {
    /// A required value is missing or empty.
    Missing,
    /// Not a known code in the catalogue or the tenant's extension.
    UnknownCode,
    /// The referenced record does not exist in the document.
    NotFound,
    /// The referenced record exists but was cancelled, archived or merged away.
    NotActive,
    /// A number or date outside the allowed range.
    OutOfRange,
    /// Start after end.
    EndBeforeStart,
    /// The record already exists.
    AlreadyExists,
    /// A volunteer without a valid child certificate (børneattest) in a session with children
    /// under 15.
    ChildCertificateRequired,
    /// Not allowed in this activity's attendance mode (e.g. a name in headcount mode).
    NotAllowedInMode,
    /// Free-text notes are switched off for this tenant.
    FreeTextDisabled,
    /// Too long.
    TooLong,
    /// A value that contradicts another one in the same write.
    Inconsistent,
    /// A date outside the document's period (the register's term, the log's quarter).
    OutsidePeriod,
    /// The state transition is not allowed (e.g. a closed referral).
    NotAllowed,
    /// The stored value is not of the record's type (a number where a record belongs, a
    /// malformed key): written around the operations, e.g. by a foreign client.
    Malformed,
    /// The editor's role may not make this edit (ADR 0013), e.g. a volunteer rewriting
    /// another volunteer's shift.
    NotPermitted,
    /// The person was erased (ADR 0019): their name and key are gone for good, and nothing
    /// may bring them back.
    Erased,
    /// No recorded legal basis covers the use (a consent missing, not covering the use, or
    /// given after the day), ADR 0027.
    NoLegalBasis,
    /// The consent the use rests on was withdrawn (ADR 0027).
    ConsentWithdrawn,
    /// The person is under the tenant's guardian age: a parent or guardian consents.
    GuardianRequired,
}

impl Reason {
    /// A stable code for the reason, for apps and logs.
    pub fn code(self) -> &'static str {
        match self {
            Reason::Missing => "missing",
            Reason::UnknownCode => "unknown-code",
            Reason::NotFound => "not-found",
            Reason::NotActive => "not-active",
            Reason::OutOfRange => "out-of-range",
            Reason::EndBeforeStart => "end-before-start",
            Reason::AlreadyExists => "already-exists",
            Reason::ChildCertificateRequired => "child-certificate-required",
            Reason::NotAllowedInMode => "not-allowed-in-mode",
            Reason::FreeTextDisabled => "free-text-disabled",
            Reason::TooLong => "too-long",
            Reason::Inconsistent => "inconsistent",
            Reason::OutsidePeriod => "outside-period",
            Reason::NotAllowed => "not-allowed",
            Reason::Malformed => "malformed",
            Reason::NotPermitted => "not-permitted",
            Reason::Erased => "erased",
            Reason::NoLegalBasis => "no-legal-basis",
            Reason::ConsentWithdrawn => "consent-withdrawn",
            Reason::GuardianRequired => "guardian-required",
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A refused write: which field, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    /// The field, as named in the operation's input (`session`, `age_band`, `volunteer`, …).
    pub field: &'static str,
    /// Why.
    pub reason: Reason,
    /// A short English explanation without personal data.
    pub detail: String,
}

impl Invalid {
    /// A refusal of `field` for `reason`.
    pub fn new(field: &'static str, reason: Reason, detail: impl Into<String>) -> Self {
        Invalid {
            field,
            reason,
            detail: detail.into(),
        }
    }
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} ({})", self.field, self.reason, self.detail)
    }
}

/// Errors of the domain layer.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A write broke a domain rule.
    #[error("invalid input: {0}")]
    Invalid(Invalid),
    /// The bytes are not an Automerge document.
    #[error("not an automerge document: {0}")]
    Corrupt(String),
    /// Automerge bytes that declare more data than their size allows (see
    /// [`crate::untrusted`]): refused before anything is decoded.
    #[error("declared sizes too large: {0}")]
    TooLarge(String),
    /// An Automerge document, but not a Nabo document of a known kind.
    #[error("not a Nabo document: {0}")]
    NotNabo(&'static str),
    /// A document of another kind than expected.
    #[error("expected a {expected} document, found {found}")]
    WrongKind {
        /// Expected kind.
        expected: DocKind,
        /// Found kind.
        found: DocKind,
    },
    /// Written by a newer version of Nabo; this version must not write to it.
    #[error("document schema {found} of {kind} is newer than this version supports ({supported})")]
    SchemaTooNew {
        /// Kind.
        kind: DocKind,
        /// Version in the document.
        found: u64,
        /// Newest version this build knows.
        supported: u64,
    },
    /// The document's content does not match the domain types (e.g. a field of the wrong type
    /// written by a foreign client).
    #[error("document content does not match the schema at {0}")]
    Schema(String),
    /// A sealed value could not be opened (wrong or erased key, or tampered bytes).
    #[error("sealed value could not be opened")]
    Sealed,
    /// An Automerge error (should not happen for valid input).
    #[error("automerge: {0}")]
    Automerge(#[from] automerge::AutomergeError),
    /// The catalogue files are inconsistent.
    #[error("catalogue: {0}")]
    Catalogue(String),
}

impl From<Invalid> for Error {
    fn from(v: Invalid) -> Self {
        Error::Invalid(v)
    }
}

impl From<autosurgeon::ReconcileError> for Error {
    fn from(e: autosurgeon::ReconcileError) -> Self {
        match e {
            autosurgeon::ReconcileError::Automerge(e) => Error::Automerge(e),
            other => Error::Schema(other.to_string()),
        }
    }
}

impl From<autosurgeon::HydrateError> for Error {
    fn from(e: autosurgeon::HydrateError) -> Self {
        match e {
            autosurgeon::HydrateError::Automerge(e) => Error::Automerge(e),
            other => Error::Schema(other.to_string()),
        }
    }
}

impl Error {
    /// The validation refusal, if this is one.
    pub fn invalid(&self) -> Option<&Invalid> {
        match self {
            Error::Invalid(v) => Some(v),
            _ => None,
        }
    }
}

/// Shorthand: `Err(invalid(field, reason, detail))`.
pub(crate) fn invalid<T>(
    field: &'static str,
    reason: Reason,
    detail: impl Into<String>,
) -> Result<T> {
    Err(Error::Invalid(Invalid::new(field, reason, detail)))
}
