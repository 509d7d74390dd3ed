package dk.nabo.app

import dk.nabo.core.Mark
import dk.nabo.core.NaboException
import dk.nabo.core.ReferralStatus

/** Danish UI text shared by the Android app, the JVM example and the tests. */
object Tekster {
    const val TILMELD = "Tilmeld telefon"
    const val ENGANGSKODE = "Engangskode"
    const val DAGENS_LEKTIECAFE = "Dagens lektiecafé"
    const val FREMMOEDE = "Fremmøde"
    const val TILFOEJ_BARN = "Tilføj barn"
    const val TJEK_IND = "Tjek ind"
    const val TJEK_UD = "Tjek ud"
    const val OPSOEGENDE_KONTAKT = "Opsøgende kontakt"
    const val GEM = "Gem"
    const val SYNKRONISER_NU = "Synkroniser nu"
    const val INGEN_FORBINDELSE = "Ingen forbindelse – ændringer gemmes på telefonen"
    const val AENDRINGER_AFVIST = "Serveren afviste nogle af telefonens ændringer. De er fjernet; resten er sendt."

    fun mark(m: Mark?): String = when (m) {
        Mark.PRESENT -> "Til stede"
        Mark.ABSENT -> "Fraværende"
        Mark.EXCUSED -> "Afbud"
        null -> "Ikke registreret"
    }

    fun referralStatus(s: ReferralStatus): String = when (s) {
        ReferralStatus.SUGGESTED -> "Foreslået"
        ReferralStatus.CONTACTED -> "Kontakt taget"
        ReferralStatus.FIRST_MEETING -> "Første møde holdt"
        ReferralStatus.ONGOING -> "I gang"
        ReferralStatus.COMPLETED -> "Gennemført"
        ReferralStatus.DECLINED -> "Afvist"
    }

    fun pending(n: ULong): String = when (n) {
        0UL -> "Alt er synkroniseret"
        1UL -> "1 ændring venter"
        else -> "$n ændringer venter"
    }

    /** A participant without a readable name: age band and a short form of the pseudonym. */
    fun anonymous(ageBand: String, participantId: String): String =
        "Barn ${ageBand.replace('-', '–')} år · ${participantId.takeLast(4)}"

    /** What to tell the user about an error (never personal data: the core's errors carry none). */
    fun error(e: Throwable): String = when (e) {
        is NaboException.Offline -> INGEN_FORBINDELSE
        is NaboException.Unauthorized -> "Log ind igen"
        is NaboException.Revoked -> "Telefonen er frakoblet. Data er slettet fra telefonen."
        is NaboException.Untrusted -> "Serverens certifikat kan ikke godkendes. Kontakt IT."
        is NaboException.Forbidden -> "Det har du ikke adgang til"
        is NaboException.Invalid -> "Ugyldigt felt: ${felt(e.field)}"
        is NaboException.Conflict -> "Ændret et andet sted – prøv igen"
        is NaboException.NotFound -> "Findes ikke på telefonen endnu – synkroniser"
        else -> "Der skete en fejl"
    }

    private fun felt(f: String): String = when (f) {
        "age_band" -> "aldersgruppe"
        "participant" -> "barn"
        "session" -> "aktivitetsgang"
        "count" -> "antal"
        "location" -> "sted"
        "kind" -> "kontaktform"
        "topics" -> "emner"
        "volunteer" -> "frivillig"
        "code" -> "kode"
        else -> f
    }
}
