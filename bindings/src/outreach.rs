//! Known persons in an outreach worker's log (user story 2): the pseudonymous token that
//! contacts and referrals attach to, with the consent that lets a referral share details.

use nabo_core::docs::outreach::OutreachDoc;
use nabo_core::model::outreach::KnownPerson;
use nabo_core::prelude::*;
use nabo_core::seal::KeyRing;
use nabo_core::store::Handle;

use crate::api;
use crate::client::{NaboClient, on_runtime, parse};
use crate::error::{NaboError, Result};
use crate::runtime::run;

fn code(field: &str, s: &str) -> Result<Code> {
    parse(field, s)
}

#[uniffi::export(async_runtime = "tokio")]
impl NaboClient {
    /// Adds a person the worker will follow to this quarter's log for the area, and returns
    /// the pseudonymous id to pass to `log_contact` and `refer`. The label is sealed with the
    /// person's own key, kept on this device. With `consent` the basis is consent (and a
    /// referral may share details when the consent covers it); without, the basis is the
    /// organisation's task and nothing is shared, unless `basis` (with `basis_text` for
    /// another statutory basis) names it. A missing or over-long statute is refused naming
    /// `basis_text`, an unknown basis naming `basis`.
    pub async fn add_known_person(&self, input: api::KnownPersonInput) -> Result<String> {
        on_runtime!(self, |inner| {
            let a = inner.account()?;
            let tenant: TenantId = parse("tenant", &a.tenant)?;
            let area: AreaId = parse("area_id", &input.area_id)?;
            let author = inner.author(&a)?;
            let cat = inner.catalogue(&tenant).await?;
            let pid = ParticipantId::random();
            let consent = input
                .consent
                .as_ref()
                .map(crate::consent::from_input)
                .transpose()?;
            let basis = match input.basis.as_deref() {
                Some(b) => b.parse::<LegalBasis>().map_err(|_| {
                    NaboError::invalid("basis", "unknown-code", "not a legal basis")
                })?,
                None if consent.is_some() => LegalBasis::Consent,
                None => LegalBasis::PublicTask,
            };
            let label = inner.seal_label(&pid, input.label.as_deref()).await?;
            let person = KnownPerson {
                age_band: code("age_band", &input.age_band)?,
                label,
                basis,
                basis_text: input.basis_text.clone(),
                consent,
                added_on: author.at.date_dk(),
                erased: None,
            };
            let _g = inner.edit.lock().await;
            let mut h = inner.outreach_log(&a, &area, author.at.date_dk()).await?;
            let age = inner.guardian_age(&tenant).await?;
            h.edit(|log| log.add_person_with_age(&author, &cat, &pid, person, age))
                .await?;
            let doc = h.get().doc().id();
            inner.edited(doc);
            Ok(pid.to_string())
        })
    }

    /// The known persons in this quarter's log for the area, by label (unreadable last).
    pub async fn known_people(&self, area_id: String) -> Result<Vec<api::KnownPersonInfo>> {
        on_runtime!(self, |inner| {
            let a = inner.account()?;
            let tenant: TenantId = parse("tenant", &a.tenant)?;
            let area: AreaId = parse("area_id", &area_id)?;
            let Some(worker) = a.staff_id.as_deref() else {
                return Err(NaboError::Forbidden {
                    detail: "only staff keep an outreach log".into(),
                });
            };
            let id = inner
                .doc_id(&Scope::Outreach {
                    tenant,
                    worker: parse("staff", worker)?,
                    area: area.clone(),
                    quarter: Quarter::of(inner.clock.today_dk()),
                })
                .await?;
            let Some(h): Option<Handle<OutreachDoc>> =
                Handle::open(&inner.store, id, inner.actor.clone()).await?
            else {
                return Ok(Vec::new());
            };
            let (ring, _) = inner.identity_ring().await?;
            let mut out: Vec<api::KnownPersonInfo> = h
                .get()
                .people()?
                .into_iter()
                // An erased person is listed nowhere (ADR 0019).
                .filter(|(_, p)| p.erased.is_none())
                .map(|(pid, p)| api::KnownPersonInfo {
                    label: p
                        .label
                        .as_ref()
                        .and_then(|l| ring.open_label(pid.as_str(), l)),
                    participant_id: pid.to_string(),
                    area_id: area.to_string(),
                    age_band: p.age_band.to_string(),
                    consent: p.consent.is_some_and(|c| c.withdrawn_on.is_none()),
                    basis: p.basis.to_string(),
                    basis_text: p.basis_text.clone(),
                })
                .collect();
            out.sort_by(|a, b| {
                (a.label.is_none(), &a.label, &a.participant_id).cmp(&(
                    b.label.is_none(),
                    &b.label,
                    &b.participant_id,
                ))
            });
            Ok(out)
        })
    }
}
