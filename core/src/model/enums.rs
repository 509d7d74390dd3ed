//! The closed enumerations of the domain (DOMAIN.md §1), with their stored codes.

use crate::codes::code_enum;

code_enum! {
    /// Kind of organisation (DOMAIN.md §1.2).
    pub enum OrgKind {
        /// Kommune.
        Kommune = "kommune",
        /// A municipal department (forvaltning): social services, jobcenter, PPR, school, …
        KommuneDepartment = "kommune-department",
        /// Boligorganisation / boligselskab.
        HousingOrganisation = "boligorganisation",
        /// Afdeling (housing department), legal unit of a housing organisation.
        HousingDepartment = "afdeling",
        /// Civil society organisation / national volunteer organisation.
        Ngo = "ngo",
        /// Local association (forening).
        LocalAssociation = "local-association",
        /// Politi.
        Police = "police",
        /// Health system and psychiatry.
        Health = "health",
        /// Local business (erhvervsliv).
        Business = "business",
        /// A funder: Landsbyggefonden, a fond.
        Funder = "funder",
        /// A knowledge centre (CFBU).
        KnowledgeCentre = "knowledge-centre",
        /// Local press.
        Press = "press",
        /// Anything else.
        Other = "other",
    }
}

code_enum! {
    /// Tenure of a housing area (ejerform).
    pub enum Tenure {
        /// Almen (non-profit).
        Almen = "almen",
        /// Privat (private rental or owner-occupied).
        Privat = "privat",
        /// Kommunal (municipal rental).
        Kommunal = "kommunal",
    }
}

code_enum! {
    /// The geography typologies of S002, stored as a set on a programme.
    pub enum GeographyTypology {
        /// Ét boligområde – én indsats (the historical baseline).
        SingleArea = "single-area",
        /// 1. Flere almene boligområder.
        SeveralAlmeneAreas = "several-almene-areas",
        /// 2. Almene, private og kommunale boligområder.
        AlmenPrivateMunicipal = "almen-private-municipal",
        /// 3. Boligområder og udvalgte borgere.
        AreasAndSelectedCitizens = "areas-and-selected-citizens",
        /// 4. Boligområder og kommunale institutioner.
        AreasAndInstitutions = "areas-and-institutions",
        /// 5. Balance i byen.
        BalanceInTheCity = "balance-in-the-city",
    }
}

code_enum! {
    /// Where a staff member works on a given day (S002).
    pub enum PlacementKind {
        /// Lokal: an office in the area.
        Local = "local",
        /// Central: in the kommune or the housing organisation.
        Central = "central",
        /// Mix: both, alternating (only as a summary of a weekly pattern).
        Mix = "mix",
    }
}

code_enum! {
    /// Board type of a programme (S001, S004).
    pub enum BoardType {
        /// Boligsocial bestyrelse.
        Boligsocial = "boligsocial",
        /// Bystrategisk bestyrelse.
        Bystrategisk = "bystrategisk",
        /// Solo-organisering.
        Solo = "solo",
    }
}

code_enum! {
    /// The eight roles of S000 (Boligsociale roller, 2021): five organisational, three
    /// resident-related.
    pub enum Role {
        /// 1 Programlederrolle.
        ProgrammeLeader = "programleder",
        /// 2 Projektlederrolle.
        ProjectLeader = "projektleder",
        /// 3 Netværkslederrolle.
        NetworkLeader = "netvaerksleder",
        /// 4 Forandringslederrolle.
        ChangeLeader = "forandringsleder",
        /// 5 Projektudvikler- og fundraiserrolle.
        DeveloperFundraiser = "projektudvikler-fundraiser",
        /// 6 Udførerrolle.
        Delivering = "udfoerer",
        /// 7 Brobyggerrolle.
        BridgeBuilder = "brobygger",
        /// 8 Den understøttende rolle.
        Supporting = "understoettende",
    }
}

impl Role {
    /// Whether the role is one of the five organisational roles (1–5).
    pub fn is_organisational(self) -> bool {
        matches!(
            self,
            Role::ProgrammeLeader
                | Role::ProjectLeader
                | Role::NetworkLeader
                | Role::ChangeLeader
                | Role::DeveloperFundraiser
        )
    }
}

code_enum! {
    /// The four practice (method) roles of S004 box 3.
    pub enum PracticeRole {
        /// Den udførende.
        Delivering = "udfoerer",
        /// Den faciliterende (≈ S000 "understøttende").
        Facilitating = "facilitator",
        /// Den koordinerende.
        Coordinating = "koordinator",
        /// Brobygning.
        BridgeBuilding = "brobygger",
    }
}

impl PracticeRole {
    /// The nearest S000 roles (DOMAIN.md §1.10 mapping table).
    pub fn nearest_roles(self) -> &'static [Role] {
        match self {
            PracticeRole::Delivering => &[Role::Delivering],
            PracticeRole::BridgeBuilding => &[Role::BridgeBuilder],
            PracticeRole::Facilitating => &[Role::Supporting],
            PracticeRole::Coordinating => &[
                Role::NetworkLeader,
                Role::ProjectLeader,
                Role::ProgrammeLeader,
            ],
        }
    }
}

code_enum! {
    /// The application role a login has; decides which documents a user may sync.
    pub enum AppRole {
        /// Central staff (programme leaders, consultants): the tenant's records.
        Central = "central",
        /// Outreach / local staff: their areas and activities, their own outreach logs.
        Outreach = "outreach",
        /// Volunteer: the registers of their own activities.
        Volunteer = "volunteer",
        /// Read-only board member: aggregates only.
        Board = "board",
    }
}

code_enum! {
    /// How a programme continues when LBF money is cut or ends (S001). Often combined.
    pub enum ContinuationApproach {
        /// Videreførelse.
        Continuation = "viderefoerelse",
        /// Forankring hos blivende aktører.
        Anchoring = "forankring",
        /// Retænkning.
        Rethinking = "retaenkning",
    }
}

code_enum! {
    /// The organisational model of a programme (S003).
    pub enum OrgModel {
        /// One dedicated worker (boligsocial medarbejder).
        SingleWorker = "single-worker",
        /// A cross-department team (boligsocialt team).
        CrossDepartmentTeam = "cross-department-team",
        /// A secretariat with several workers (the usual helhedsplan).
        Secretariat = "secretariat",
    }
}

code_enum! {
    /// Individual- or area-oriented approach (S004).
    pub enum Approach {
        /// Individorienteret.
        Individual = "individual",
        /// Områdeorienteret.
        Area = "area",
    }
}

code_enum! {
    /// Primary or secondary target group / activity type.
    pub enum Priority {
        /// Primær.
        Primary = "primary",
        /// Sekundær.
        Secondary = "secondary",
    }
}

code_enum! {
    /// How attendance is captured for an activity (DOMAIN.md §1.11). Minimal by default.
    pub enum AttendanceMode {
        /// Headcount only (optionally by age band, gender, resident/outsider).
        Headcount = "headcount",
        /// Pseudonymous roll call: a participant token, present / absent / excused.
        Pseudonymous = "pseudonymous",
        /// Named roll call: only where there is a basis for it and it is needed.
        Named = "named",
    }
}

code_enum! {
    /// A roll-call mark.
    pub enum AttendanceStatus {
        /// Til stede.
        Present = "present",
        /// Fraværende.
        Absent = "absent",
        /// Meldt afbud.
        Excused = "excused",
    }
}

code_enum! {
    /// Gender, only where an activity asks for it.
    pub enum Gender {
        /// Pige / kvinde.
        Female = "female",
        /// Dreng / mand.
        Male = "male",
        /// Andet / ønsker ikke at oplyse.
        Other = "other",
    }
}

code_enum! {
    /// Where a volunteer comes from (DOMAIN.md §1.11).
    pub enum VolunteerSource {
        /// Beboerfrivillig.
        Resident = "resident",
        /// Frivillig fra landsdækkende organisation.
        NationalOrganisation = "national-organisation",
        /// Andet.
        Other = "other",
    }
}

code_enum! {
    /// A volunteer's status.
    pub enum VolunteerStatus {
        /// Has applied, not yet accepted.
        Applicant = "applicant",
        /// Active.
        Active = "active",
        /// On a break.
        Paused = "paused",
        /// No longer a volunteer.
        Archived = "archived",
    }
}

code_enum! {
    /// Kind of referral (brobygning), DOMAIN.md §1.13.
    pub enum ReferralKind {
        /// Information / handover: contact established.
        Information = "information",
        /// Accompanied (fulgt hen til).
        Accompanied = "accompanied",
        /// Bisidder at a meeting.
        Bisidder = "bisidder",
        /// Letter "translation" / explanation.
        LetterHelp = "letter-help",
        /// Recruitment into an activity.
        Recruitment = "recruitment",
    }
}

code_enum! {
    /// Status of a referral.
    pub enum ReferralStatus {
        /// Foreslået.
        Suggested = "suggested",
        /// Kontakt taget.
        Contacted = "contacted",
        /// Første møde holdt.
        FirstMeeting = "first-meeting",
        /// I gang.
        Ongoing = "ongoing",
        /// Gennemført.
        Completed = "completed",
        /// Afvist / faldet fra.
        Declined = "declined",
    }
}

impl ReferralStatus {
    /// Whether the referral is closed.
    pub fn is_closed(self) -> bool {
        matches!(self, ReferralStatus::Completed | ReferralStatus::Declined)
    }
}

code_enum! {
    /// Focus of a network (DOMAIN.md §1.14).
    pub enum NetworkFocus {
        /// Individual cases (touches personal data: stricter handling).
        IndividualCases = "individual-cases",
        /// Coordination.
        Coordination = "coordination",
        /// Development.
        Development = "development",
    }
}

code_enum! {
    /// Kind of funder of a funding share.
    pub enum FunderKind {
        /// Landsbyggefonden.
        Lbf = "lbf",
        /// Kommune.
        Kommune = "kommune",
        /// Boligorganisation.
        HousingOrganisation = "boligorganisation",
        /// Afdelingsmidler.
        HousingDepartment = "afdeling",
        /// Driftsmidler of the housing organisation.
        OperatingBudget = "driftsmidler",
        /// Fond.
        Foundation = "fond",
        /// NGO.
        Ngo = "ngo",
        /// Other.
        Other = "other",
    }
}

code_enum! {
    /// Level of a goal in a change theory (S004 figure 4).
    pub enum GoalLevel {
        /// Leverance (deliverable / output).
        Deliverable = "deliverable",
        /// Indsatsnært mål (short-term).
        ShortTerm = "short-term",
        /// Langsigtet mål (long-term).
        LongTerm = "long-term",
    }
}

code_enum! {
    /// Status of a goal in a goal-fulfilment report (DOMAIN.md §1.16).
    pub enum GoalStatus {
        /// Opfyldt.
        Achieved = "achieved",
        /// Delvist opfyldt.
        Partly = "partly",
        /// Ikke opfyldt.
        NotAchieved = "not-achieved",
        /// Ikke målbart.
        NotMeasurable = "not-measurable",
    }
}

code_enum! {
    /// Where an indicator's data comes from.
    pub enum IndicatorSource {
        /// Registration in Nabo or elsewhere.
        Registration = "registration",
        /// Survey (spørgeskema).
        Survey = "survey",
        /// Register data (aggregate only).
        RegisterData = "register-data",
        /// Qualitative.
        Qualitative = "qualitative",
    }
}

code_enum! {
    /// Hard or soft outcome (S004: public vs civil framing).
    pub enum Hardness {
        /// Hard outcome (employment rate, evictions).
        Hard = "hard",
        /// Soft outcome (wellbeing, cooperation).
        Soft = "soft",
    }
}

code_enum! {
    /// Unit of an indicator.
    pub enum IndicatorUnit {
        /// A count.
        Count = "count",
        /// Hours.
        Hours = "hours",
        /// Percent.
        Percent = "percent",
        /// A score on a scale.
        Score = "score",
        /// Danish kroner.
        Dkk = "dkk",
    }
}

code_enum! {
    /// State of a goal-fulfilment report.
    pub enum ReportState {
        /// Being written.
        Draft = "draft",
        /// Sent to the board / LBF.
        Submitted = "submitted",
    }
}

code_enum! {
    /// Legal basis of processing (GDPR art. 6, with art. 9 noted in the ADR), per document.
    pub enum LegalBasis {
        /// Consent (samtykke), e.g. from the participant or a guardian.
        Consent = "consent",
        /// A public authority's task (myndighedsudøvelse / offentlig opgave).
        PublicTask = "public-task",
        /// Legitimate interest (private actors, non-sensitive data).
        LegitimateInterest = "legitimate-interest",
        /// A legal obligation.
        LegalObligation = "legal-obligation",
        /// A contract (e.g. a volunteer agreement).
        Contract = "contract",
        /// Another statutory basis, named by its text (e.g. «Serviceloven § 11, stk. 3"),
        /// which is stored beside the basis (ADR 0034).
        OtherStatutory = "other-statutory",
    }
}

code_enum! {
    /// Retention class of a document: decides when it is deleted or anonymised.
    pub enum RetentionClass {
        /// Sensitive records: deleted one year after the activity ends or the person leaves.
        Sensitive1y = "sensitive-1y",
        /// Grant documentation: kept five years, then anonymised for statistics.
        GrantDocumentation5y = "grant-documentation-5y",
        /// Aggregates only; no personal data.
        Statistics = "statistics",
    }
}

code_enum! {
    /// Status of an activity.
    pub enum ActivityStatus {
        /// Planned, not started.
        Planned = "planned",
        /// Running.
        Running = "running",
        /// Ended.
        Ended = "ended",
    }
}
