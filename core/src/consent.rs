//! Legal basis and consent per person (issue 11 item 3, ADR 0027, DOMAIN.md §4.1, §4.4, §4.9):
//! pure rules, tested without a runtime, used by the document operations (phones, pages) and
//! by the relay's rules (`rules/records.rs`), so a foreign client cannot get around them.
//!
//! - A person's basis is the known person's `basis` (outreach) or, for a child in a register,
//!   the activity's legal basis plus the child's own consent where one is recorded.
//! - What a use needs ([`Use`]): following a person (a known person, user story 2) needs
//!   consent covering `follow-up`, a public authority's task or a statutory basis; naming a
//!   child in the roll call, photos and sharing details with a partner need a consent that
//!   covers that use, given on or before the day of the use and not withdrawn by then.
//! - For a person whose age band starts below the tenant's guardian age (default 15), the
//!   consent is given by a parent or guardian, and the relation is recorded.
//! - A withdrawal takes effect from its date (GDPR art. 7(3)): uses on or after it are refused,
//!   what was recorded before stays lawful (and can be erased, ADR 0019); it is final.

use crate::catalogue::Catalogue;
use crate::error::{Reason, Result, invalid};
use crate::ids::OrgId;
use crate::model::outreach::Consent;
use crate::model::{AttendanceMode, LegalBasis};
use crate::time::Date;

/// The age below which a guardian consents for the person, unless the tenant sets another
/// (`Settings::consent_age`).
pub const DEFAULT_GUARDIAN_AGE: u8 = 15;

crate::codes::code_enum! {
    /// What a consent covers (its scope codes).
    pub enum Use {
        /// Recording attendance under a pseudonymous token.
        Attendance = "attendance",
        /// Being followed by the outreach worker as a known person (user story 2).
        FollowUp = "follow-up",
        /// Being named (first name) in the roll call.
        NamedRollCall = "named-roll-call",
        /// Portrait photos at activities (situation photos need no consent).
        Photos = "photos",
        /// Sharing personal details with a partner in a referral (§4.9).
        ShareWithPartners = "share-with-partners",
    }
}

impl Use {
    /// The Danish label (pages and phones).
    pub fn da(self) -> &'static str {
        match self {
            Use::Attendance => "Fremmøde",
            Use::FollowUp => "Opfølgning som kendt person",
            Use::NamedRollCall => "Navn på fremmødelisten",
            Use::Photos => "Portrætfotos",
            Use::ShareWithPartners => "Deling med samarbejdspartner",
        }
    }
}

crate::codes::code_enum! {
    /// Who gave a consent on the person's behalf.
    pub enum Relation {
        /// A parent with custody (forælder med forældremyndighed).
        Parent = "parent",
        /// Another appointed guardian (værge).
        Guardian = "guardian",
    }
}

impl Relation {
    /// The Danish label.
    pub fn da(self) -> &'static str {
        match self {
            Relation::Parent => "Forælder",
            Relation::Guardian => "Værge",
        }
    }
}

/// The lowest guardian age a tenant may set (databeskyttelsesloven § 6(3)): the relay's rules
/// check a consent against it, since they do not know the tenant's setting; the operations on
/// phones and pages apply the tenant's own (`Settings::consent_age`).
pub const MIN_GUARDIAN_AGE: u8 = 13;

/// The longest statute text of an `other-statutory` basis (ADR 0034).
pub const MAX_STATUTE: usize = 200;

/// What a basis must carry (ADR 0034): another statutory basis (`other-statutory`) names its
/// statute in `text` (required, not blank, at most [`MAX_STATUTE`] characters; `field` names
/// it in the refusal). Other bases ignore the text, which is still bounded.
pub fn check_basis(field: &'static str, basis: LegalBasis, text: Option<&str>) -> Result<()> {
    match (basis, text) {
        (LegalBasis::OtherStatutory, None) => invalid(
            field,
            Reason::Missing,
            "another statutory basis names its statute",
        ),
        (LegalBasis::OtherStatutory, Some(t)) => crate::docs::require_text(field, t, MAX_STATUTE),
        (_, Some(t)) => crate::docs::limit_text(field, t, MAX_STATUTE),
        (_, None) => Ok(()),
    }
}

/// The channels a consent can be given through.
pub const CHANNELS: [&str; 3] = ["oral", "written", "digital"];

/// The Danish label of a channel code.
pub fn channel_da(code: &str) -> &'static str {
    match code {
        "oral" => "Mundtligt",
        "written" => "Skriftligt",
        "digital" => "Digitalt",
        _ => "Ukendt",
    }
}

/// Whether a person of `age_band` needs a guardian's consent: the band starts below
/// `guardian_age` (a band the catalogue does not know is treated as a child's).
pub fn needs_guardian(cat: &Catalogue, age_band: &str, guardian_age: u8) -> bool {
    cat.age_band(age_band)
        .and_then(|t| t.min_age)
        .is_none_or(|min| min < guardian_age)
}

/// What a consent record must satisfy: a known channel, known scope codes, withdrawn not
/// before given, and — for a person whose age band starts below `guardian_age` — given by a
/// guardian with the relation recorded.
pub fn check(cat: &Catalogue, c: &Consent, age_band: &str, guardian_age: u8) -> Result<()> {
    if c.withdrawn_on.is_some_and(|w| w < c.given_on) {
        return invalid(
            "consent.withdrawn_on",
            Reason::EndBeforeStart,
            "withdrawn before given",
        );
    }
    if !CHANNELS.contains(&c.channel.as_str()) {
        return invalid(
            "consent.channel",
            Reason::UnknownCode,
            "oral, written or digital",
        );
    }
    if let Some(bad) = c.scope.iter().find(|s| s.as_str().parse::<Use>().is_err()) {
        return invalid(
            "consent.scope",
            Reason::UnknownCode,
            format!("{bad} is not a consent scope"),
        );
    }
    if needs_guardian(cat, age_band, guardian_age) {
        if !c.by_guardian {
            return invalid(
                "consent.by_guardian",
                Reason::GuardianRequired,
                format!("the person is under {guardian_age}: a parent or guardian consents"),
            );
        }
        if c.relation.is_none() {
            return invalid(
                "consent.relation",
                Reason::Missing,
                "a guardian's consent records the relation (parent or guardian)",
            );
        }
    }
    Ok(())
}

/// Whether `consent` covers `what` on day `on`: recorded, given on or before `on`, not
/// withdrawn on or before `on`, and with `what` in its scope. The error names the field and
/// the reason.
pub fn consent_covers(consent: Option<&Consent>, what: Use, on: Date) -> Result<()> {
    let Some(c) = consent else {
        return invalid(
            "consent",
            Reason::NoLegalBasis,
            format!("{} needs a recorded consent", what.code()),
        );
    };
    if c.withdrawn_on.is_some_and(|w| w <= on) {
        return invalid(
            "consent.withdrawn_on",
            Reason::ConsentWithdrawn,
            "the consent was withdrawn",
        );
    }
    if c.given_on > on {
        return invalid(
            "consent.given_on",
            Reason::NoLegalBasis,
            "the consent was given after the day it is used for",
        );
    }
    if !c.scope.iter().any(|s| s.as_str() == what.code()) {
        return invalid(
            "consent.scope",
            Reason::NoLegalBasis,
            format!("the consent does not cover {}", what.code()),
        );
    }
    Ok(())
}

/// Whether a person's `basis` (with its consent) covers `what` on day `on` (ADR 0027):
/// - attendance under a pseudonymous token rests on any basis;
/// - following a person and naming them in the roll call rest on a public authority's task, a
///   legal obligation or another statutory basis named by its statute (ADR 0034), or else on
///   a consent covering the use (private actors following or
///   naming vulnerable residents and children need consent, DOMAIN.md §4.1); following never
///   rests on legitimate interest or a contract;
/// - portrait photos and sharing details with a partner always need a consent covering them.
pub fn covers(basis: LegalBasis, consent: Option<&Consent>, what: Use, on: Date) -> Result<()> {
    use LegalBasis::{Contract, LegalObligation, LegitimateInterest, OtherStatutory, PublicTask};
    match (what, basis) {
        (Use::Attendance, b) if b != LegalBasis::Consent => Ok(()),
        (Use::FollowUp | Use::NamedRollCall, PublicTask | LegalObligation | OtherStatutory) => {
            Ok(())
        }
        (Use::FollowUp, LegitimateInterest | Contract) => invalid(
            "basis",
            Reason::NoLegalBasis,
            "following a person needs consent, a public task or a legal obligation",
        ),
        _ => consent_covers(consent, what, on),
    }
}

/// Whether `consent` lets details go to the partner `to_org` on day `on`: it covers sharing,
/// and when it names partners, `to_org` is one of them.
pub fn covers_sharing(
    basis: LegalBasis,
    consent: Option<&Consent>,
    to_org: Option<&OrgId>,
    on: Date,
) -> Result<()> {
    covers(basis, consent, Use::ShareWithPartners, on)?;
    if let Some(c) = consent
        && !c.partners.is_empty()
        && !to_org.is_some_and(|o| c.partners.contains(o))
    {
        return invalid(
            "to_org",
            Reason::NoLegalBasis,
            "the consent names the partners details may go to, and this is not one of them",
        );
    }
    Ok(())
}

/// Whether a child may be named in the roll call on day `on`: the activity takes a named roll
/// call, and its basis (or the child's consent) covers naming. The phone shows this; without
/// it the child is registered under a pseudonym (pseudonymous roll call) or without a label,
/// counted only (named roll call).
pub fn may_be_named(
    mode: AttendanceMode,
    activity_basis: LegalBasis,
    consent: Option<&Consent>,
    on: Date,
) -> bool {
    mode == AttendanceMode::Named && covers(activity_basis, consent, Use::NamedRollCall, on).is_ok()
}

/// What a new child's label must satisfy: in a named roll call the label is a first name, so
/// it needs a basis covering naming (else the child is added without one and counted only).
/// In a pseudonymous roll call the label is a pseudonym and needs no more than attendance.
pub fn check_label(
    mode: AttendanceMode,
    activity_basis: LegalBasis,
    consent: Option<&Consent>,
    has_label: bool,
    on: Date,
) -> Result<()> {
    if mode != AttendanceMode::Named || !has_label {
        return Ok(());
    }
    covers(activity_basis, consent, Use::NamedRollCall, on).or_else(|_| {
        invalid(
            "label",
            Reason::NoLegalBasis,
            "naming the child needs the guardian's consent to a named roll call; add the child without a name",
        )
    })
}

/// Whether an edit keeps a withdrawal: a consent withdrawn before the edit is still withdrawn
/// (on the same or an earlier day) after it. A withdrawal is final; a new consent is a new
/// decision recorded by central staff as a fresh record, never by un-withdrawing.
pub fn keeps_withdrawal<'a>(
    before: impl IntoIterator<Item = Option<&'a Consent>>,
    after: impl IntoIterator<Item = Option<&'a Consent>>,
) -> bool {
    let Some(was) = before
        .into_iter()
        .flatten()
        .filter_map(|c| c.withdrawn_on)
        .min()
    else {
        return true;
    };
    after
        .into_iter()
        .flatten()
        .filter_map(|c| c.withdrawn_on)
        .any(|w| w <= was)
}

/// Records a withdrawal on `on`: refused when no consent is recorded, when it is withdrawn
/// already, or when `on` is before it was given.
pub fn withdraw(consent: Option<&mut Consent>, on: Date) -> Result<()> {
    let Some(c) = consent else {
        return invalid("consent", Reason::NotFound, "no consent recorded");
    };
    if c.withdrawn_on.is_some() {
        return invalid(
            "consent.withdrawn_on",
            Reason::AlreadyExists,
            "the consent is withdrawn already",
        );
    }
    if on < c.given_on {
        return invalid(
            "withdrawn_on",
            Reason::EndBeforeStart,
            "withdrawn before given",
        );
    }
    c.withdrawn_on = Some(on);
    Ok(())
}

/// Sets a person's consent (recorded anew or corrected), checked against the person's age
/// band: refused for an erased person, and over a withdrawn consent (a withdrawal is final,
/// ADR 0027).
pub fn record(
    cat: &Catalogue,
    current: &mut Option<Consent>,
    erased: Option<Date>,
    age_band: &str,
    consent: Consent,
    guardian_age: u8,
) -> Result<()> {
    if erased.is_some() {
        return invalid("participant", Reason::Erased, "the person was erased");
    }
    if current.as_ref().is_some_and(|c| c.withdrawn_on.is_some()) {
        return invalid(
            "consent.withdrawn_on",
            Reason::ConsentWithdrawn,
            "a withdrawn consent stays withdrawn",
        );
    }
    check(cat, &consent, age_band, guardian_age)?;
    *current = Some(consent);
    Ok(())
}

/// Writes an optional record only when it is set (a phone that has not heard of a consent
/// writes no field, so its offline edit cannot race a consent recorded elsewhere away).
pub fn reconcile_some<T: autosurgeon::Reconcile, R: autosurgeon::Reconciler>(
    v: &Option<T>,
    r: R,
) -> std::result::Result<(), R::Error> {
    match v {
        Some(x) => x.reconcile(r),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;
    use crate::model::Set;

    fn day(s: &str) -> Date {
        s.parse().unwrap()
    }

    fn consent(scope: &[&str]) -> Consent {
        Consent {
            given_on: day("2026-03-01"),
            by_guardian: true,
            relation: Some(Relation::Parent),
            scope: scope.iter().map(|s| s.parse().unwrap()).collect(),
            channel: "written".parse().unwrap(),
            withdrawn_on: None,
            partners: Set::new(),
        }
    }

    fn refused(r: Result<()>) -> (&'static str, Reason) {
        match r {
            Err(Error::Invalid(i)) => (i.field, i.reason),
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn a_child_needs_a_guardian_and_the_relation() {
        let cat = Catalogue::builtin().unwrap();
        let mut c = consent(&["named-roll-call"]);
        assert!(check(cat, &c, "10-12", 15).is_ok());
        c.relation = None;
        assert_eq!(
            refused(check(cat, &c, "10-12", 15)),
            ("consent.relation", Reason::Missing)
        );
        c.by_guardian = false;
        assert_eq!(
            refused(check(cat, &c, "13-14", 15)),
            ("consent.by_guardian", Reason::GuardianRequired)
        );
        // The tenant's age decides: at 13, a 13–14-year-old consents themselves.
        assert!(check(cat, &c, "13-14", 13).is_ok());
        assert!(check(cat, &c, "15-17", 15).is_ok());
        assert!(needs_guardian(cat, "no-such-band", 15));
    }

    #[test]
    fn check_names_channel_scope_and_dates() {
        let cat = Catalogue::builtin().unwrap();
        let mut c = consent(&["photos", "selling-to-advertisers"]);
        assert_eq!(
            refused(check(cat, &c, "18-24", 15)),
            ("consent.scope", Reason::UnknownCode)
        );
        c.scope = Set::new();
        c.channel = "pigeon".parse().unwrap();
        assert_eq!(
            refused(check(cat, &c, "18-24", 15)),
            ("consent.channel", Reason::UnknownCode)
        );
        c.channel = "oral".parse().unwrap();
        c.withdrawn_on = Some(day("2026-02-01"));
        assert_eq!(
            refused(check(cat, &c, "18-24", 15)),
            ("consent.withdrawn_on", Reason::EndBeforeStart)
        );
    }

    #[test]
    fn uses_need_a_covering_basis() {
        let on = day("2026-04-01");
        let c = consent(&["follow-up"]);
        // Following: consent covering it, or a public task / legal obligation.
        assert!(covers(LegalBasis::Consent, Some(&c), Use::FollowUp, on).is_ok());
        assert!(covers(LegalBasis::PublicTask, None, Use::FollowUp, on).is_ok());
        assert_eq!(
            refused(covers(
                LegalBasis::LegitimateInterest,
                None,
                Use::FollowUp,
                on
            )),
            ("basis", Reason::NoLegalBasis)
        );
        assert_eq!(
            refused(covers(LegalBasis::Consent, None, Use::FollowUp, on)),
            ("consent", Reason::NoLegalBasis)
        );
        // Sharing always needs a consent covering it, whatever the basis.
        assert_eq!(
            refused(covers(
                LegalBasis::PublicTask,
                Some(&c),
                Use::ShareWithPartners,
                on
            )),
            ("consent.scope", Reason::NoLegalBasis)
        );
        assert_eq!(
            refused(covers(
                LegalBasis::Consent,
                Some(&c),
                Use::FollowUp,
                day("2026-02-01")
            )),
            ("consent.given_on", Reason::NoLegalBasis)
        );
    }

    #[test]
    fn a_withdrawal_counts_from_its_day_and_is_final() {
        let mut c = consent(&["named-roll-call", "share-with-partners"]);
        let named = |c: &Consent, on: &str| {
            may_be_named(AttendanceMode::Named, LegalBasis::Consent, Some(c), day(on))
        };
        assert!(named(&c, "2026-04-01"));
        let before = c.clone();
        withdraw(Some(&mut c), day("2026-04-01")).unwrap();
        assert!(named(&c, "2026-03-31"));
        assert!(!named(&c, "2026-04-01"));
        assert_eq!(
            refused(covers_sharing(
                LegalBasis::Consent,
                Some(&c),
                None,
                day("2026-05-01")
            )),
            ("consent.withdrawn_on", Reason::ConsentWithdrawn)
        );
        assert_eq!(
            refused(withdraw(Some(&mut c), day("2026-04-02"))),
            ("consent.withdrawn_on", Reason::AlreadyExists)
        );
        assert_eq!(
            refused(withdraw(None, day("2026-04-02"))),
            ("consent", Reason::NotFound)
        );
        // Un-withdrawing is refused; withdrawing (or keeping it) is fine.
        assert!(!keeps_withdrawal([Some(&c)], [Some(&before)]));
        assert!(!keeps_withdrawal([Some(&c)], [None]));
        assert!(keeps_withdrawal([Some(&c)], [Some(&c)]));
        assert!(keeps_withdrawal([Some(&before)], [Some(&c)]));
        assert!(keeps_withdrawal([None], [None]));
    }

    #[test]
    fn naming_a_child_needs_a_basis_for_it() {
        let on = day("2026-04-01");
        let named = consent(&["named-roll-call"]);
        let other = consent(&["photos"]);
        use AttendanceMode::{Named, Pseudonymous};
        // A private actor (legitimate interest) names a child only with consent to it.
        assert!(may_be_named(
            Named,
            LegalBasis::LegitimateInterest,
            Some(&named),
            on
        ));
        assert!(!may_be_named(
            Named,
            LegalBasis::LegitimateInterest,
            Some(&other),
            on
        ));
        assert!(!may_be_named(
            Named,
            LegalBasis::LegitimateInterest,
            None,
            on
        ));
        // A public authority's task covers the named roll call it needs.
        assert!(may_be_named(Named, LegalBasis::PublicTask, None, on));
        // A pseudonymous roll call names nobody.
        assert!(!may_be_named(
            Pseudonymous,
            LegalBasis::PublicTask,
            Some(&named),
            on
        ));
        assert_eq!(
            refused(check_label(
                Named,
                LegalBasis::Consent,
                Some(&other),
                true,
                on
            )),
            ("label", Reason::NoLegalBasis)
        );
        assert!(check_label(Named, LegalBasis::Consent, Some(&other), false, on).is_ok());
        assert!(check_label(Pseudonymous, LegalBasis::Consent, None, true, on).is_ok());
        assert!(check_label(Named, LegalBasis::Consent, Some(&named), true, on).is_ok());
        // Pseudonymous attendance rests on any basis but a missing consent.
        assert!(covers(LegalBasis::LegitimateInterest, None, Use::Attendance, on).is_ok());
    }

    #[test]
    fn another_statutory_basis_names_its_statute_and_counts_as_one() {
        assert_eq!(
            refused(check_basis("basis_text", LegalBasis::OtherStatutory, None)),
            ("basis_text", Reason::Missing)
        );
        assert_eq!(
            refused(check_basis(
                "legal_basis_text",
                LegalBasis::OtherStatutory,
                Some("  ")
            )),
            ("legal_basis_text", Reason::Missing)
        );
        let long = "§".repeat(MAX_STATUTE + 1);
        assert_eq!(
            refused(check_basis(
                "basis_text",
                LegalBasis::OtherStatutory,
                Some(&long)
            )),
            ("basis_text", Reason::TooLong)
        );
        assert!(
            check_basis(
                "basis_text",
                LegalBasis::OtherStatutory,
                Some("Serviceloven § 11, stk. 3")
            )
            .is_ok()
        );
        // Other bases need no text (and a leftover one is only bounded).
        assert!(check_basis("basis_text", LegalBasis::PublicTask, None).is_ok());
        assert!(check_basis("basis_text", LegalBasis::PublicTask, Some("x")).is_ok());
        assert_eq!(
            refused(check_basis("basis_text", LegalBasis::Contract, Some(&long))),
            ("basis_text", Reason::TooLong)
        );
        // Like a legal obligation, it covers following and naming, not photos or sharing.
        let on = day("2026-04-01");
        assert!(may_be_named(
            AttendanceMode::Named,
            LegalBasis::OtherStatutory,
            None,
            on
        ));
        assert!(covers(LegalBasis::OtherStatutory, None, Use::FollowUp, on).is_ok());
        assert_eq!(
            refused(covers(LegalBasis::OtherStatutory, None, Use::Photos, on)),
            ("consent", Reason::NoLegalBasis)
        );
        assert_eq!(
            "other-statutory".parse::<LegalBasis>().unwrap(),
            LegalBasis::OtherStatutory
        );
    }

    #[test]
    fn an_activity_on_another_statutory_basis_needs_its_statute_and_old_ones_still_load() {
        use crate::docs::activity::{ActivityDoc, NewActivity};
        use crate::document::{Author, NaboDoc, TypedDoc};
        use crate::ids::ActivityId;
        use automerge::ReadDoc;
        use automerge::transaction::Transactable;
        let cat = Catalogue::builtin().unwrap();
        let central = Author {
            by: crate::model::By::System,
            at: crate::time::Timestamp(1_780_000_000_000),
        };
        let create = |text: Option<&str>| {
            let mut input = NewActivity::new(
                "Fællesspisning",
                "p1".parse().unwrap(),
                "a1".parse().unwrap(),
                "lbf-2006-2010",
                "SL.faellesspisning",
            );
            input.legal_basis = LegalBasis::OtherStatutory;
            input.legal_basis_text = text.map(str::to_owned);
            ActivityDoc::create(
                "t1".parse().unwrap(),
                ActivityId::random(),
                crate::entropy::actor(),
                &central,
                cat,
                input,
            )
        };
        match create(None) {
            Err(Error::Invalid(i)) => {
                assert_eq!((i.field, i.reason), ("legal_basis_text", Reason::Missing))
            }
            other => panic!("expected a refusal, got {:?}", other.map(|_| ())),
        }
        let mut doc = create(Some("Serviceloven § 11, stk. 3")).unwrap();
        let a = doc.activity().unwrap().current;
        assert_eq!(
            a.legal_basis_text.as_deref(),
            Some("Serviceloven § 11, stk. 3")
        );
        // A document written before the field (no `legal_basis_text`) still loads.
        let am = doc.doc_mut().automerge_mut();
        let mut tx = am.transaction();
        let (_, obj) = tx.get(automerge::ROOT, "activity").unwrap().unwrap();
        tx.delete(&obj, "legal_basis_text").unwrap();
        tx.commit();
        let old = ActivityDoc::from_doc(
            NaboDoc::load(&doc.doc().save(), crate::entropy::actor()).unwrap(),
        )
        .unwrap();
        assert_eq!(old.activity().unwrap().current.legal_basis_text, None);

        // A known person followed on another statutory basis names it too.
        let mut p = crate::model::outreach::KnownPerson {
            age_band: "18-24".parse().unwrap(),
            label: None,
            basis: LegalBasis::OtherStatutory,
            basis_text: None,
            consent: None,
            added_on: day("2026-04-01"),
            erased: None,
        };
        assert_eq!(
            refused(crate::docs::outreach::check_person(cat, &p)),
            ("basis_text", Reason::Missing)
        );
        p.basis_text = Some("Serviceloven § 11, stk. 3".into());
        assert!(crate::docs::outreach::check_person(cat, &p).is_ok());
    }

    #[test]
    fn named_partners_limit_sharing() {
        let on = day("2026-04-01");
        let mut c = consent(&["share-with-partners"]);
        let jobcenter: OrgId = "org-jobcenter".parse().unwrap();
        let school: OrgId = "org-school".parse().unwrap();
        assert!(covers_sharing(LegalBasis::Consent, Some(&c), Some(&school), on).is_ok());
        c.partners = [jobcenter.clone()].into_iter().collect();
        assert!(covers_sharing(LegalBasis::Consent, Some(&c), Some(&jobcenter), on).is_ok());
        assert_eq!(
            refused(covers_sharing(
                LegalBasis::Consent,
                Some(&c),
                Some(&school),
                on
            )),
            ("to_org", Reason::NoLegalBasis)
        );
        assert_eq!(
            refused(covers_sharing(LegalBasis::Consent, Some(&c), None, on)),
            ("to_org", Reason::NoLegalBasis)
        );
    }
}
