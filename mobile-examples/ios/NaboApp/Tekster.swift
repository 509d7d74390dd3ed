import Foundation
import NaboCore

/// Danish UI text, the same words as the Android app's (`dk.nabo.app.Tekster`).
enum Tekster {
    static let tilmeld = "Tilmeld telefon"
    static let engangskode = "Engangskode"
    static let dagensLektiecafe = "Dagens lektiecafé"
    static let fremmoede = "Fremmøde"
    static let tilfoejBarn = "Tilføj barn"
    static let tjekInd = "Tjek ind"
    static let tjekUd = "Tjek ud"
    static let opsoegendeKontakt = "Opsøgende kontakt"
    static let gem = "Gem"
    static let synkronisering = "Synkronisering"
    static let synkroniserNu = "Synkroniser nu"
    static let ingenForbindelse = "Ingen forbindelse – ændringer gemmes på telefonen"
    static let aendringerAfvist = "Serveren afviste nogle af telefonens ændringer. De er fjernet; resten er sendt."
    static let gemt = "Gemt"
    static let henvis = "Henvis"
    static let henvisninger = "Henvisninger"
    static let delOplysninger = "Må dele oplysninger med modtageren (samtykke)"
    static let genoptagVagt = "Genoptag vagten"
    static let mineTimer = "Mine timer"
    static let iGang = "I gang"
    static let vagter = "Vagter"
    static let tilmeldVagt = "Meld mig til"
    static let meldAfbud = "Meld afbud"

    /// A coming session's line: "Du kommer" / "Du har meldt afbud (sygdom)" / "3 frivillige kommer".
    static func signUp(signedUp: Bool, cancelledReason: String?, coming: Int) -> String {
        if signedUp { return "Du kommer · \(comingCount(coming))" }
        if let r = cancelledReason { return "Du har meldt afbud (\(r)) · \(comingCount(coming))" }
        return comingCount(coming)
    }

    static func comingCount(_ n: Int) -> String {
        switch n {
        case 0: return "Ingen frivillige tilmeldt"
        case 1: return "1 frivillig kommer"
        default: return "\(n) frivillige kommer"
        }
    }

    static func referralKind(_ kind: ReferralKind) -> String {
        switch kind {
        case .information: return "Information / overdragelse"
        case .accompanied: return "Fulgt hen til"
        case .bisidder: return "Bisidder ved møde"
        case .letterHelp: return "Hjælp med brev"
        case .recruitment: return "Rekruttering til aktivitet"
        }
    }

    static func referralStatus(_ status: ReferralStatus) -> String {
        switch status {
        case .suggested: return "Foreslået"
        case .contacted: return "Kontakt taget"
        case .firstMeeting: return "Mødte op"
        case .ongoing: return "I forløb"
        case .completed: return "Afsluttet"
        case .declined: return "Afvist / faldet fra"
        }
    }

    /// Hours as "2 t 15 min".
    static func hours(_ minutes: Int) -> String {
        if minutes < 60 { return "\(minutes) min" }
        if minutes % 60 == 0 { return "\(minutes / 60) t" }
        return "\(minutes / 60) t \(minutes % 60) min"
    }

    /// "1 vagt", "3 vagter".
    static func shifts(_ n: Int) -> String { n == 1 ? "1 vagt" : "\(n) vagter" }

    private static let months = [
        "januar", "februar", "marts", "april", "maj", "juni",
        "juli", "august", "september", "oktober", "november", "december",
    ]

    /// `2026-11` as "November 2026".
    static func month(_ yearMonth: String) -> String {
        let parts = yearMonth.split(separator: "-").compactMap { Int($0) }
        guard parts.count == 2, (1...12).contains(parts[1]) else { return yearMonth }
        return "\(months[parts[1] - 1].capitalized) \(parts[0])"
    }

    /// `HH:MM` in Danish time.
    static func clock(_ ms: Int64?) -> String {
        guard let ms else { return "?" }
        let f = DateFormatter()
        f.timeZone = TimeZone(identifier: "Europe/Copenhagen")
        f.dateFormat = "HH:mm"
        return f.string(from: Date(timeIntervalSince1970: Double(ms) / 1000))
    }

    static func alreadyCheckedIn(_ shift: ShiftInfo?) -> String {
        "Du er allerede tjekket ind kl. \(clock(shift?.checkInMs))"
    }

    static func alreadyCheckedOut(_ shift: ShiftInfo?) -> String {
        "Du tjekkede ud kl. \(clock(shift?.checkOutMs)). Genoptag vagten fra kl. \(clock(shift?.checkInMs))?"
    }

    static func mark(_ mark: Mark?) -> String {
        switch mark {
        case .present?: return "Til stede"
        case .absent?: return "Fraværende"
        case .excused?: return "Afbud"
        case nil: return "Ikke registreret"
        }
    }

    static func pending(_ count: UInt64) -> String {
        switch count {
        case 0: return "Alt er synkroniseret"
        case 1: return "1 ændring venter"
        default: return "\(count) ændringer venter"
        }
    }

    /// A child without a readable name: age band and a short form of the pseudonym.
    static func anonymous(ageBand: String, participantId: String) -> String {
        "Barn \(ageBand.replacingOccurrences(of: "-", with: "–")) år · \(participantId.suffix(4))"
    }

    /// The line under a child's name in the roll call: the age band, a disagreement, no naming.
    static func rowCaption(ageBand: String, conflict: Bool, nameWithheld: Bool) -> String {
        [
            ageBand,
            conflict ? "Uenighed – afgøres ved gennemgang" : nil,
            nameWithheld ? "Må ikke navngives (intet samtykke)" : nil,
        ].compactMap { $0 }.joined(separator: " · ")
    }

    static func role(_ role: String) -> String {
        switch role {
        case "central": return "Centralt personale"
        case "outreach": return "Opsøgende medarbejder"
        case "volunteer": return "Frivillig"
        case "board": return "Bestyrelse"
        default: return role
        }
    }

    /// What to tell the user (the core's errors carry no personal data).
    static func error(_ error: Error) -> String {
        guard let error = error as? NaboError else { return "Der skete en fejl" }
        switch error {
        case .Offline: return ingenForbindelse
        case .Unauthorized: return "Log ind igen"
        case .Revoked: return "Telefonen er frakoblet. Data er slettet fra telefonen."
        case .Untrusted: return "Serverens certifikat kan ikke godkendes. Kontakt IT."
        case .Forbidden: return "Det har du ikke adgang til"
        case let .Invalid(field, _, _): return "Ugyldigt felt: \(felt(field))"
        case .Conflict: return "Ændret et andet sted – prøv igen"
        case .NotFound: return "Findes ikke på telefonen endnu – synkroniser"
        case .Internal: return "Der skete en fejl"
        }
    }

    private static func felt(_ field: String) -> String {
        switch field {
        case "age_band": return "aldersgruppe"
        case "participant": return "barn"
        case "session": return "aktivitetsgang"
        case "count": return "antal"
        case "location": return "sted"
        case "kind": return "kontaktform"
        case "topics": return "emner"
        case "volunteer": return "frivillig"
        case "code": return "kode"
        case "to": return "modtager"
        case "to_activity", "to_activity_id": return "aktivitet"
        case "consent_to_share": return "samtykke til at dele oplysninger"
        case "participant_id": return "person"
        case "check_in": return "tjek ind"
        case "check_out": return "tjek ud"
        case "reason": return "grund"
        default: return field
        }
    }
}
