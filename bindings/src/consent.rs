//! Consent on the phone (ADR 0027): a child added with the guardian's consent, consent
//! recorded later, and the conversion of the apps' consent input into the core's record.

use nabo_core::consent::{Relation, Use};
use nabo_core::docs::register::NewParticipant;
use nabo_core::docs::tenant::TenantDoc;
use nabo_core::model::outreach::Consent;
use nabo_core::prelude::*;

use crate::api;
use crate::client::{Inner, NaboClient, on_runtime, parse};
use crate::error::Result;
use crate::runtime::run;

/// The core's consent record from the apps' input: `follow-up` always (a consent is recorded
/// when a person agrees to be followed or added), plus the uses ticked.
pub(crate) fn from_input(c: &api::ConsentInput) -> Result<Consent> {
    let mut scope = vec![Use::FollowUp, Use::Attendance];
    for (on, u) in [
        (c.share_with_partners, Use::ShareWithPartners),
        (c.named_roll_call, Use::NamedRollCall),
        (c.photos, Use::Photos),
    ] {
        if on {
            scope.push(u);
        }
    }
    Ok(Consent {
        given_on: parse("given_on", &c.given_on)?,
        by_guardian: c.by_guardian,
        scope: scope
            .into_iter()
            .map(|u| parse("consent", u.code()))
            .collect::<Result<_>>()?,
        channel: parse("channel", &c.channel)?,
        withdrawn_on: None,
        relation: c
            .relation
            .as_deref()
            .map(|r| parse::<Relation>("relation", r))
            .transpose()?,
        partners: c
            .partner_org_ids
            .iter()
            .map(|o| parse("partner_org_ids", o))
            .collect::<Result<_>>()?,
    })
}

impl Inner {
    /// The tenant's guardian age (`Settings::consent_age`; the default before the first sync).
    pub(crate) async fn guardian_age(&self, tenant: &TenantId) -> Result<u8> {
        let id = self
            .doc_id(&Scope::Tenant {
                tenant: tenant.clone(),
            })
            .await?;
        Ok(
            match self.store.load(id, nabo_core::entropy::actor()).await? {
                Some(doc) => TenantDoc::from_doc(doc)?.settings()?.consent_age,
                None => nabo_core::consent::DEFAULT_GUARDIAN_AGE,
            },
        )
    }

    /// Adds a child (with the consent, if given) and marks them present. A name in a named
    /// roll call without a basis covering naming is refused (`label`, `no-legal-basis`) and its
    /// key is not kept.
    pub(crate) async fn add_child(
        &self,
        session_id: String,
        label: Option<String>,
        age_band: String,
        consent: Option<Consent>,
    ) -> Result<String> {
        let a = self.account()?;
        let tenant: TenantId = parse("tenant", &a.tenant)?;
        let age = self.guardian_age(&tenant).await?;
        let pid = ParticipantId::random();
        let sealed = self.seal_label(&pid, label.as_deref()).await?;
        let id = pid.clone();
        let done = self
            .edit_register(&session_id, move |reg, ctx, sid, author| {
                let day = reg.session(sid)?.date;
                let act = &ctx.activity.activity;
                nabo_core::consent::check_label(
                    act.attendance_mode,
                    act.legal_basis,
                    consent.as_ref(),
                    sealed.is_some(),
                    day,
                )?;
                if let Some(c) = &consent {
                    nabo_core::consent::check(ctx.catalogue, c, &age_band, age)?;
                }
                reg.add_participant_with_id(
                    author,
                    ctx,
                    day,
                    id.clone(),
                    NewParticipant {
                        age_band,
                        gender: None,
                        resident: None,
                        label: sealed,
                        recruitment: None,
                    },
                )?;
                if let Some(c) = consent {
                    reg.record_consent(author, ctx, &id, c, age)?;
                }
                reg.mark(
                    author,
                    ctx,
                    sid,
                    &id,
                    nabo_core::model::AttendanceStatus::Present,
                )
            })
            .await;
        if let Err(e) = done {
            // Nothing refers to the key: do not keep it.
            self.store.erase_key(pid.as_str()).await?;
            return Err(e);
        }
        Ok(pid.to_string())
    }
}

#[uniffi::export(async_runtime = "tokio")]
impl NaboClient {
    /// Adds a new child with the guardian's (or the child's own) consent and marks them
    /// present. In a named roll call the label is a first name and needs a basis covering
    /// naming — the activity's, or this consent with `named_roll_call`; without it the child is
    /// added without a label and counted only (`label` refused with `no-legal-basis`). A child
    /// under the tenant's guardian age (default 15) needs `by_guardian` and `relation`.
    pub async fn add_child_with_consent(
        &self,
        session_id: String,
        label: Option<String>,
        age_band: String,
        consent: Option<api::ConsentInput>,
    ) -> Result<String> {
        on_runtime!(self, |inner| {
            let consent = consent.as_ref().map(from_input).transpose()?;
            inner.add_child(session_id, label, age_band, consent).await
        })
    }

    /// Records the consent for a child already in the register (staff: a consent form handed
    /// in later). A withdrawn consent is final and is not replaced here.
    pub async fn record_child_consent(
        &self,
        session_id: String,
        participant_id: String,
        consent: api::ConsentInput,
    ) -> Result<()> {
        on_runtime!(self, |inner| {
            let a = inner.account()?;
            let tenant: TenantId = parse("tenant", &a.tenant)?;
            let age = inner.guardian_age(&tenant).await?;
            let pid: ParticipantId = parse("participant", &participant_id)?;
            let c = from_input(&consent)?;
            inner
                .edit_register(&session_id, move |reg, ctx, _, author| {
                    reg.record_consent(author, ctx, &pid, c, age)
                })
                .await
        })
    }
}
