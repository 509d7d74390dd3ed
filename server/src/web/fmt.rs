//! Danish formatting of numbers, dates and the domain's closed codes.

use nabo_core::Reason;
use nabo_core::model::{
    AppRole, AttendanceStatus, FunderKind, GeographyTypology, GoalLevel, GoalStatus,
    IndicatorSource, PlacementKind, PracticeRole, ReferralKind, ReferralStatus, Role, Tenure,
    VolunteerStatus,
};
use nabo_core::time::{Date, Timestamp};

/// An integer with Danish thousands separators: 12.345.
pub fn num(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('.');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// A count with its noun in the right Danish number: "1 registrering", "0 registreringer",
/// "1.204 registreringer". The one way the pages put a number before a noun.
pub fn count(n: i64, one: &str, many: &str) -> String {
    format!("{} {}", num(n), if n == 1 { one } else { many })
}

/// A decimal number the Danish way: 1.234,5.
pub fn dec(x: f64, decimals: usize) -> String {
    if !x.is_finite() {
        return "–".into();
    }
    let s = format!("{:.*}", decimals, x.abs());
    let (int, frac) = s.split_once('.').unwrap_or((&s, ""));
    let int: i64 = int.parse().unwrap_or(0);
    let sign = if x < 0.0 && (int != 0 || frac.chars().any(|c| c != '0')) {
        "-"
    } else {
        ""
    };
    if frac.is_empty() {
        format!("{sign}{}", num(int))
    } else {
        format!("{sign}{},{frac}", num(int))
    }
}

/// The months' Danish names, January first.
pub const MONTHS: [&str; 12] = [
    "januar",
    "februar",
    "marts",
    "april",
    "maj",
    "juni",
    "juli",
    "august",
    "september",
    "oktober",
    "november",
    "december",
];

const WEEKDAYS: [&str; 7] = [
    "mandag", "tirsdag", "onsdag", "torsdag", "fredag", "lørdag", "søndag",
];

/// "3. marts 2026".
pub fn date(d: Date) -> String {
    use chrono::Datelike;
    format!(
        "{}. {} {}",
        d.0.day(),
        MONTHS[d.0.month0() as usize],
        d.0.year()
    )
}

/// "tirsdag 3. marts 2026".
pub fn date_with_weekday(d: Date) -> String {
    use chrono::Datelike;
    format!(
        "{} {}",
        WEEKDAYS[d.0.weekday().num_days_from_monday() as usize],
        date(d)
    )
}

/// "03.03.2026".
pub fn date_short(d: Date) -> String {
    d.0.format("%d.%m.%Y").to_string()
}

/// "03.03.2026 kl. 15.04" in Danish time.
pub fn datetime(t: Timestamp) -> String {
    t.local_dk().format("%d.%m.%Y kl. %H.%M").to_string()
}

/// Seconds since the epoch (a change's time) in Danish time.
pub fn change_time(secs: i64) -> String {
    if secs <= 0 {
        return "ukendt tidspunkt".into();
    }
    datetime(Timestamp(secs * 1000))
}

/// Hours from minutes, one decimal: "12,5".
pub fn hours(minutes: u64) -> String {
    dec(minutes as f64 / 60.0, 1)
}

/// Percent-encodes a query value.
pub fn url_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Why the document refused an edit, in Danish.
pub fn reason_da(r: Reason) -> &'static str {
    match r {
        Reason::Missing => "mangler",
        Reason::UnknownCode => "er ikke en kendt værdi",
        Reason::NotFound => "henviser til noget, der ikke findes",
        Reason::NotActive => "er ikke aktivt",
        Reason::OutOfRange => "er uden for det tilladte interval",
        Reason::EndBeforeStart => "slutter før det begynder",
        Reason::AlreadyExists => "findes allerede",
        Reason::ChildCertificateRequired => "kræver en gyldig børneattest",
        Reason::NotAllowedInMode => "er ikke tilladt i aktivitetens registreringsform",
        Reason::FreeTextDisabled => "fritekst er slået fra",
        Reason::TooLong => "er for langt",
        Reason::Inconsistent => "passer ikke med resten af posten",
        Reason::OutsidePeriod => "ligger uden for perioden",
        Reason::NotAllowed => "er ikke tilladt",
        Reason::Malformed => "kan ikke læses",
        Reason::NotPermitted => "må du ikke ændre",
        Reason::Erased => "gælder en person, der er slettet",
        Reason::NoLegalBasis => "kræver et registreret grundlag (samtykke), der dækker det",
        Reason::ConsentWithdrawn => "bygger på et samtykke, der er trukket tilbage",
        Reason::GuardianRequired => "kræver samtykke fra forælder eller værge",
    }
}

/// The Danish label of a field the core's rules name (its English code name when there is
/// no label yet), for the error a page shows.
pub fn field_da(field: &str) -> &str {
    match field {
        "name" => "Navn",
        "start" => "Startdato",
        "end" => "Slutdato",
        "taxonomy" => "Bevillingsrunde",
        "funding" => "Finansiering",
        "areas" => "Boligområder",
        "area" => "Boligområde",
        "organisations" => "Organisationer",
        "parent" => "Hører under",
        "municipality" => "Kommune",
        "venues" => "Mødesteder",
        "departments" => "Afdelinger",
        "primary_type" => "Aktivitetstype",
        "secondary_types" => "Sekundære typer",
        "target_groups" => "Målgrupper",
        "public_framing_pct" => "Offentlig indramning",
        "process_phase" => "Procesfase",
        "text" => "Tekst",
        "duplicate" | "canonical" | "participant" => "Deltager",
        "series" => "Fast mødetid",
        "step" => "Trin",
        "level" => "Niveau",
        "leads_to" => "Fører til",
        "goal" | "goals" => "Mål",
        "indicator" | "indicators" => "Indikator",
        "library" => "Indikatorbiblioteket",
        "unit" => "Enhed",
        "periodicity" => "Hyppighed",
        "baseline" => "Udgangspunkt",
        "target" => "Målværdi",
        "session" => "Mødegang",
        "date" => "Dato",
        "title" => "Titel",
        "board.function" => "Funktion",
        "board.chair" => "Formand",
        "consent" => "Samtykke",
        "consent.by_guardian" => "Samtykke givet af",
        "consent.relation" => "Samtykke givet af (relation)",
        "consent.given_on" | "withdrawn_on" => "Dato",
        "consent.channel" => "Kanal",
        "consent.scope" => "Omfatter",
        "consent.withdrawn_on" => "Trukket tilbage",
        "legal_basis_text" | "basis_text" => "Lovhjemmel",
        other => other,
    }
}

/// Danish labels of the closed codes.
pub trait Da {
    /// The label.
    fn da(&self) -> &'static str;
}

macro_rules! da {
    ($t:ty { $($v:ident => $l:literal),+ $(,)? }) => {
        impl Da for $t {
            fn da(&self) -> &'static str {
                match self { $(<$t>::$v => $l),+ }
            }
        }
    };
}

da!(AttendanceStatus { Present => "til stede", Absent => "fraværende", Excused => "afbud" });
da!(ReferralStatus {
    Suggested => "foreslået",
    Contacted => "kontakt taget",
    FirstMeeting => "første møde holdt",
    Ongoing => "i gang",
    Completed => "gennemført",
    Declined => "afvist / faldet fra",
});
da!(ReferralKind {
    Information => "information / overdragelse",
    Accompanied => "fulgt hen til",
    Bisidder => "bisidder",
    LetterHelp => "hjælp med brev",
    Recruitment => "rekruttering til aktivitet",
});
da!(GoalStatus {
    Achieved => "opfyldt",
    Partly => "delvist opfyldt",
    NotAchieved => "ikke opfyldt",
    NotMeasurable => "ikke målbart",
});
da!(GoalLevel {
    Deliverable => "leverance",
    ShortTerm => "indsatsnært mål",
    LongTerm => "langsigtet mål",
});
da!(Role {
    ProgrammeLeader => "programleder",
    ProjectLeader => "projektleder",
    NetworkLeader => "netværksleder",
    ChangeLeader => "forandringsleder",
    DeveloperFundraiser => "projektudvikler og fundraiser",
    Delivering => "udfører",
    BridgeBuilder => "brobygger",
    Supporting => "understøttende",
});
da!(PracticeRole {
    Delivering => "den udførende",
    Facilitating => "den faciliterende",
    Coordinating => "den koordinerende",
    BridgeBuilding => "brobygning",
});
da!(AppRole {
    Central => "central medarbejder",
    Outreach => "lokal medarbejder",
    Volunteer => "frivillig",
    Board => "bestyrelsesmedlem",
});
da!(Tenure { Almen => "almen", Privat => "privat", Kommunal => "kommunal" });
da!(PlacementKind { Local => "lokalt placeret", Central => "centralt placeret", Mix => "mix" });

da!(IndicatorSource {
    Registration => "registrering",
    Survey => "spørgeskema",
    RegisterData => "registerdata",
    Qualitative => "kvalitativ",
});
da!(VolunteerStatus { Applicant => "ansøger", Active => "aktiv", Paused => "på pause", Archived => "stoppet" });
da!(FunderKind {
    Lbf => "Landsbyggefonden",
    Kommune => "Kommunen",
    HousingOrganisation => "Boligorganisationen",
    HousingDepartment => "Afdelingen",
    OperatingBudget => "Driftsmidler",
    Foundation => "Fond",
    Ngo => "NGO",
    Other => "Andet",
});
da!(GeographyTypology {
    SingleArea => "ét boligområde – én indsats",
    SeveralAlmeneAreas => "flere almene boligområder",
    AlmenPrivateMunicipal => "almene, private og kommunale boligområder",
    AreasAndSelectedCitizens => "boligområder og udvalgte borgere",
    AreasAndInstitutions => "boligområder og kommunale institutioner",
    BalanceInTheCity => "balance i byen",
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_dates_are_danish() {
        assert_eq!(num(0), "0");
        assert_eq!(num(999), "999");
        assert_eq!(num(1000), "1.000");
        assert_eq!(num(1234567), "1.234.567");
        assert_eq!(num(-4659), "-4.659");
        assert_eq!(dec(1234.56, 1), "1.234,6");
        assert_eq!(dec(0.25, 2), "0,25");
        assert_eq!(dec(-0.04, 1), "0,0");
        assert_eq!(hours(90), "1,5");
        let d = Date::ymd(2026, 3, 3).unwrap_or_else(|| unreachable!());
        assert_eq!(date(d), "3. marts 2026");
        assert_eq!(date_with_weekday(d), "tirsdag 3. marts 2026");
        assert_eq!(date_short(d), "03.03.2026");
        // 14:05 UTC in winter is 15.05 in Denmark; in summer 16.05.
        let winter = Timestamp(1_767_276_300_000); // 2026-01-01 14:05 UTC
        assert_eq!(datetime(winter), "01.01.2026 kl. 15.05");
        let summer = Timestamp(1_782_914_700_000); // 2026-07-01 14:05 UTC
        assert_eq!(datetime(summer), "01.07.2026 kl. 16.05");
    }

    #[test]
    fn counts_take_the_danish_singular_only_for_one() {
        assert_eq!(count(1, "registrering", "registreringer"), "1 registrering");
        assert_eq!(
            count(0, "registrering", "registreringer"),
            "0 registreringer"
        );
        assert_eq!(count(2, "kontakt", "kontakter"), "2 kontakter");
        assert_eq!(count(1204, "gang", "gange"), "1.204 gange");
    }

    #[test]
    fn funders_are_named_as_organisations() {
        // "Kommunen" is the municipality as a funder: a name, capitalised like the others.
        assert_eq!(FunderKind::Kommune.da(), "Kommunen");
        assert_eq!(FunderKind::Lbf.da(), "Landsbyggefonden");
        assert_eq!(FunderKind::HousingOrganisation.da(), "Boligorganisationen");
    }

    #[test]
    fn query_values_are_encoded() {
        assert_eq!(url_encode("/oversigt?fra=1"), "/oversigt%3Ffra%3D1");
        assert_eq!(url_encode("æ"), "%C3%A6");
    }
}
