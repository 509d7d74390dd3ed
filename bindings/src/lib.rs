//! uniffi bindings of the Nabo core (arrive with issue 4).

/// The version of the core these bindings wrap.
pub fn core_version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}
