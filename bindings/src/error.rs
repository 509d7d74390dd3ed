//! Errors an app can act on. Messages name fields, codes and causes, never personal data.

use nabo_core::client::ClientError;
use nabo_core::store::StoreError;

/// What went wrong, in a form the app can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
pub enum NaboError {
    /// The relay cannot be reached: work goes on offline and syncs later.
    #[error("offline: {detail}")]
    Offline {
        /// Cause (no personal data).
        detail: String,
    },
    /// Not logged in, wrong credentials, or the session ended: log in again.
    #[error("unauthorized: {detail}")]
    Unauthorized {
        /// Cause.
        detail: String,
    },
    /// The device or user was revoked by central staff; the local data has been wiped.
    #[error("this device was revoked; its local data was deleted")]
    Revoked,
    /// The relay's TLS certificate is not trusted (unknown or internal CA without its root
    /// supplied, expired, or issued for another name). Not a network outage: retrying will
    /// not help until the relay's certificate or the app's configuration changes (see
    /// `NaboClient::open_with_trusted_roots`). Tell the user to contact IT; never fall back to
    /// an unverified connection.
    #[error("untrusted: {detail}")]
    Untrusted {
        /// Which check failed (no personal data).
        detail: String,
    },
    /// The user may not do this (role or scope).
    #[error("forbidden: {detail}")]
    Forbidden {
        /// Cause.
        detail: String,
    },
    /// A write broke a domain rule: `field` names the input, `reason` is a stable code
    /// (e.g. `child-certificate-required`, `unknown-code`, `out-of-range`).
    #[error("invalid {field}: {reason} ({detail})")]
    Invalid {
        /// The input field.
        field: String,
        /// Stable reason code.
        reason: String,
        /// A short English explanation (no personal data).
        detail: String,
    },
    /// The record changed under the caller (e.g. merged away by review): reload and retry.
    #[error("conflict: {detail}")]
    Conflict {
        /// Cause.
        detail: String,
    },
    /// Not found on this device (not synced yet, or not visible to this user).
    #[error("not found: {what}")]
    NotFound {
        /// What was looked for (an id kind, never a label).
        what: String,
    },
    /// Anything else (a bug or a damaged store).
    #[error("internal error: {detail}")]
    Internal {
        /// Cause.
        detail: String,
    },
}

/// Result of the bindings.
pub type Result<T, E = NaboError> = std::result::Result<T, E>;

impl NaboError {
    /// The relay did not answer within its deadline (offline, as the app shows it).
    pub(crate) fn timed_out() -> Self {
        NaboError::Offline {
            detail: "the relay did not answer in time".into(),
        }
    }

    /// No connection to the relay could be opened.
    pub(crate) fn unreachable() -> Self {
        NaboError::Offline {
            detail: "the relay cannot be reached".into(),
        }
    }

    /// The connection broke, or the answer could not be read.
    pub(crate) fn link_failed() -> Self {
        NaboError::Offline {
            detail: "the connection to the relay failed".into(),
        }
    }

    pub(crate) fn internal(e: impl std::fmt::Display) -> Self {
        NaboError::Internal {
            detail: e.to_string(),
        }
    }

    pub(crate) fn not_found(what: &str) -> Self {
        NaboError::NotFound { what: what.into() }
    }

    pub(crate) fn invalid(field: &str, reason: &str, detail: &str) -> Self {
        NaboError::Invalid {
            field: field.into(),
            reason: reason.into(),
            detail: detail.into(),
        }
    }
}

impl From<nabo_core::Error> for NaboError {
    fn from(e: nabo_core::Error) -> Self {
        match e {
            nabo_core::Error::Invalid(i) => NaboError::Invalid {
                field: i.field.into(),
                reason: i.reason.code().into(),
                detail: i.detail,
            },
            other => NaboError::internal(other),
        }
    }
}

impl From<StoreError> for NaboError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Domain(d) => d.into(),
            StoreError::WrongKey => NaboError::Unauthorized {
                detail: "the local store's key does not match".into(),
            },
            other => NaboError::internal(other),
        }
    }
}

impl From<ClientError> for NaboError {
    fn from(e: ClientError) -> Self {
        match e {
            ClientError::Http(d) | ClientError::Ws(d) => NaboError::Offline { detail: d },
            ClientError::Protocol(d) | ClientError::Automerge(d) => {
                NaboError::Internal { detail: d }
            }
        }
    }
}

/// A TLS failure somewhere in an error's chain of sources, as the error the app sees: a
/// certificate the client does not trust is [`NaboError::Untrusted`]. `None` for anything
/// else (the caller decides, usually `Offline`).
pub(crate) fn tls_failure(e: &(dyn std::error::Error + 'static)) -> Option<NaboError> {
    fn rustls_error<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
        let mut e = e;
        loop {
            if let Some(r) = e.downcast_ref::<rustls::Error>() {
                return Some(r);
            }
            // io::Error's `source()` skips the error it wraps (often another io::Error around
            // rustls' error): look inside.
            let inner: &(dyn std::error::Error + 'static) =
                e.downcast_ref::<std::io::Error>()?.get_ref()?;
            e = inner;
        }
    }
    let mut cur = Some(e);
    while let Some(err) = cur {
        if let Some(r) = rustls_error(err) {
            return Some(match r {
                rustls::Error::InvalidCertificate(c) => NaboError::Untrusted {
                    detail: format!("the relay's certificate is not trusted ({c:?})"),
                },
                rustls::Error::NoCertificatesPresented => NaboError::Untrusted {
                    detail: "the relay presented no certificate".into(),
                },
                other => NaboError::Offline {
                    detail: format!("the TLS handshake with the relay failed ({other})"),
                },
            });
        }
        cur = err.source();
    }
    None
}

/// A listener (app code) failed; the failure is logged and the listener stays subscribed.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum ListenerError {
    /// The app's callback threw.
    #[error("listener failed: {detail}")]
    Failed {
        /// What the app reported.
        detail: String,
    },
}

impl From<uniffi::UnexpectedUniFFICallbackError> for ListenerError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        ListenerError::Failed { detail: e.reason }
    }
}
