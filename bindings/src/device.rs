//! The tenant's device policy on this phone (issue 11 item 6, ADR 0031).
//!
//! A phone that has not reached the relay for longer than the tenant's maximum offline
//! period (`GET /api/v1/me/device-policy`, kept in the encrypted store) shows no names: it
//! hides every label and deletes the subject keys the relay also holds, so a lost phone's
//! identity data expires with it. Keys this phone made and has not handed to the relay yet
//! (a child added offline) are kept, hidden, because deleting them would lose the name for
//! good; they go to the relay at the next sync. Reaching the relay again (a session the relay
//! refreshes: the login is neither disabled nor the phone revoked) and syncing brings the
//! names back. A revoked phone wipes itself at its next contact (ADR 0014) and then reports
//! that it did, with the refresh token it last held, so the office sees it on the person's
//! page.

use std::collections::BTreeSet;

use nabo_core::retention::{DEFAULT_OFFLINE_DAYS, identity_expired};
use nabo_core::seal::MemoryKeyRing;
use nabo_core::time::Timestamp;
use serde::{Deserialize, Serialize};

use crate::client::Inner;
use crate::error::Result;

/// The tenant's policy as last fetched.
const POLICY: &str = "device-policy";
/// When the phone last reached the relay (ms since the epoch, decimal).
const LAST_CONTACT: &str = "last-contact";
/// Subjects whose key this phone made and the relay does not hold yet (JSON list).
const UNSHARED: &str = "unshared-keys";
/// After a wipe: the refresh token to report it with, until the relay took the report.
const WIPE_RECEIPT: &str = "wipe-receipt";

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Policy {
    max_offline_days: u16,
}

impl Inner {
    /// Fetches the tenant's device policy (a relay without the endpoint, 404, leaves what the
    /// phone holds).
    pub(crate) async fn fetch_device_policy(&self) -> Result<()> {
        self.fetch_setting::<Policy>("/api/v1/me/device-policy", POLICY)
            .await
    }

    /// The relay accepted this phone just now.
    pub(crate) async fn reached_relay(&self) -> Result<()> {
        let now = self.clock.now().0.to_string();
        self.store.set_setting(LAST_CONTACT, now.as_bytes()).await?;
        Ok(())
    }

    /// Whether names are hidden now: the phone has been out of contact for longer than the
    /// tenant allows.
    pub(crate) async fn names_hidden(&self) -> Result<bool> {
        let last = self
            .store
            .setting(LAST_CONTACT)
            .await?
            .and_then(|b| String::from_utf8(b).ok())
            .and_then(|s| s.parse::<i64>().ok())
            .map(Timestamp);
        let days = match self.store.setting(POLICY).await? {
            Some(b) => serde_json::from_slice::<Policy>(&b)
                .map(|p| p.max_offline_days)
                .unwrap_or(DEFAULT_OFFLINE_DAYS),
            None => DEFAULT_OFFLINE_DAYS,
        };
        Ok(identity_expired(last, self.clock.now(), days))
    }

    /// The keys to open labels with, and whether names are hidden: then none, and the keys
    /// the relay also holds are deleted first (with the space they took).
    pub(crate) async fn identity_ring(&self) -> Result<(MemoryKeyRing, bool)> {
        if !self.names_hidden().await? {
            return Ok((self.store.key_ring().await?, false));
        }
        let unshared = self.unshared_keys().await?;
        let mut deleted = 0usize;
        for subject in self.store.key_ring().await?.0.keys() {
            if !unshared.contains(subject) && self.store.erase_key(subject).await? {
                deleted += 1;
            }
        }
        if deleted > 0 {
            self.store.reclaim().await?;
            tracing::info!(
                keys = deleted,
                "out of contact too long: names hidden, keys deleted"
            );
        }
        Ok((MemoryKeyRing::default(), true))
    }

    async fn unshared_keys(&self) -> Result<BTreeSet<String>> {
        Ok(match self.store.setting(UNSHARED).await? {
            Some(b) => serde_json::from_slice(&b).unwrap_or_default(),
            None => BTreeSet::new(),
        })
    }

    async fn put_unshared(&self, set: &BTreeSet<String>) -> Result<()> {
        let bytes = serde_json::to_vec(set).map_err(crate::error::NaboError::internal)?;
        self.store.set_setting(UNSHARED, &bytes).await?;
        Ok(())
    }

    /// A key this phone made for `subject`: the relay does not hold it yet.
    pub(crate) async fn key_made(&self, subject: &str) -> Result<()> {
        let mut set = self.unshared_keys().await?;
        if set.insert(subject.to_owned()) {
            self.put_unshared(&set).await?;
        }
        Ok(())
    }

    /// The relay holds these subjects' keys now.
    pub(crate) async fn keys_held_by_relay<'a>(
        &self,
        subjects: impl IntoIterator<Item = &'a String>,
    ) -> Result<()> {
        let mut set = self.unshared_keys().await?;
        let before = set.len();
        for s in subjects {
            set.remove(s);
        }
        if set.len() != before {
            self.put_unshared(&set).await?;
        }
        Ok(())
    }

    /// After a wipe: remembers the refresh token and reports the wipe with it.
    pub(crate) async fn receipt_after_wipe(&self, refresh_token: Option<String>) -> Result<()> {
        if let Some(t) = refresh_token {
            self.store.set_setting(WIPE_RECEIPT, t.as_bytes()).await?;
        }
        self.send_wipe_receipt().await
    }

    /// Reports a wipe the relay has not heard of yet (best effort: kept until the relay
    /// answers, tried again when the phone is opened or signs in).
    pub(crate) async fn send_wipe_receipt(&self) -> Result<()> {
        let Some(token) = self
            .store
            .setting(WIPE_RECEIPT)
            .await?
            .filter(|t| !t.is_empty())
        else {
            return Ok(());
        };
        let token = String::from_utf8(token).unwrap_or_default();
        let sent = self
            .send(
                crate::http::Request::post("/api/v1/auth/wiped")
                    .json(&serde_json::json!({ "refresh_token": token })),
            )
            .await;
        match sent {
            // Recorded, or refused for good (the relay does not know the token): either way
            // there is nothing more to say.
            Ok(r) if r.is_success() || r.is_client_error() => {
                self.store.set_setting(WIPE_RECEIPT, b"").await?;
            }
            _ => tracing::info!("the wipe is reported at the next contact"),
        }
        Ok(())
    }
}
