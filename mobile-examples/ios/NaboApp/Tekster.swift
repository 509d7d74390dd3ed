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
        default: return field
        }
    }
}
