//! The signed-in volunteer's own child certificate (børneattest), as the volunteer directory
//! holds it now (ADR 0023). A volunteer may not read the directory (it holds every
//! volunteer), so the relay answers the caller's own dates (`GET /api/v1/me/child-certificate`);
//! the phone fetches them at every sync and keeps them in its encrypted store, so its
//! sign-ups and check-ins are checked offline against the certificate as last seen — never a
//! copy kept in an activity's roster.

use nabo_core::docs::volunteers::Certificates;
use nabo_core::model::volunteer::ChildCertificate;
use nabo_core::prelude::*;
use serde::{Deserialize, Serialize};

use crate::client::{Account, Inner, parse};
use crate::error::Result;

/// The store setting holding the last answer.
const SETTING: &str = "child-certificate";

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Dates {
    obtained: String,
    renewal_due: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Answer {
    child_certificate: Option<Dates>,
}

impl Inner {
    /// Fetches the volunteer's own certificate and keeps it (a volunteer's account only; a
    /// relay without the endpoint, 404, leaves what the phone holds).
    pub(crate) async fn fetch_certificate(&self, a: &Account) -> Result<()> {
        if a.volunteer_id.is_none() {
            return Ok(());
        }
        self.fetch_setting::<Answer>("/api/v1/me/child-certificate", SETTING)
            .await
    }

    /// The certificates the phone knows: the signed-in volunteer's own, as last fetched.
    pub(crate) async fn own_certificates(&self, a: &Account) -> Result<Certificates> {
        let Some(v) = &a.volunteer_id else {
            return Ok(Certificates::default());
        };
        let vid: VolunteerId = parse("volunteer", v)?;
        let c = match self.store.setting(SETTING).await? {
            Some(b) => serde_json::from_slice::<Answer>(&b)
                .ok()
                .and_then(|a| a.child_certificate)
                .and_then(|d| {
                    Some(ChildCertificate {
                        obtained: Date::parse(&d.obtained)?,
                        renewal_due: Date::parse(&d.renewal_due)?,
                    })
                }),
            None => None,
        };
        Ok(Certificates::one(vid, c))
    }

    /// For the rules on this phone: whether register `id` belongs to an activity for
    /// children under 15 — when the signed-in user is a volunteer and `id` is a register on
    /// the phone (`None` otherwise: nothing of the kind is checked).
    pub(crate) async fn register_children(
        &self,
        a: &Account,
        tenant: &TenantId,
        id: DocumentId,
    ) -> Result<Option<bool>> {
        if a.volunteer_id.is_none() {
            return Ok(None);
        }
        let Some(doc) = self.store.load(id, nabo_core::entropy::actor()).await? else {
            return Ok(None);
        };
        if doc.kind() != DocKind::Register {
            return Ok(None);
        }
        let reg = RegisterDoc::from_doc(doc)?;
        Ok(Some(match self.activity(tenant, reg.activity_id()).await {
            Ok(act) => act.activity()?.current.children_under_15,
            Err(_) => false,
        }))
    }
}
