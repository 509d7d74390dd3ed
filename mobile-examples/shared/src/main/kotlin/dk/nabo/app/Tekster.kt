package dk.nabo.app

import dk.nabo.core.Mark
import dk.nabo.core.NaboException
import dk.nabo.core.ReferralKind
import dk.nabo.core.ReferralStatus
import dk.nabo.core.ShiftInfo

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
    const val GEMT = "Gemt"
    const val HENVIS = "Henvis"
    const val HENVISNINGER = "Henvisninger"
    const val DEL_OPLYSNINGER = "Må dele oplysninger med modtageren (samtykke)"
    const val GENOPTAG_VAGT = "Genoptag vagten"
    const val MINE_TIMER = "Mine timer"
    const val IGANG = "I gang"
    const val VAGTER = "Vagter"
    const val TILMELD_VAGT = "Meld mig til"
    const val MELD_AFBUD = "Meld afbud"

    /** A coming session's line: "Du kommer" / "Afbud (sygdom)" / "3 frivillige kommer". */
    fun signUp(signedUp: Boolean, cancelledReason: String?, coming: Int): String = when {
        signedUp -> "Du kommer · ${comingCount(coming)}"
        cancelledReason != null -> "Du har meldt afbud ($cancelledReason) · ${comingCount(coming)}"
        else -> comingCount(coming)
    }

    fun comingCount(n: Int): String = when (n) {
        0 -> "Ingen frivillige tilmeldt"
        1 -> "1 frivillig kommer"
        else -> "$n frivillige kommer"
    }

    fun referralKind(k: ReferralKind): String = when (k) {
        ReferralKind.INFORMATION -> "Information / overdragelse"
        ReferralKind.ACCOMPANIED -> "Fulgt hen til"
        ReferralKind.BISIDDER -> "Bisidder ved møde"
        ReferralKind.LETTER_HELP -> "Hjælp med brev"
        ReferralKind.RECRUITMENT -> "Rekruttering til aktivitet"
    }

    /** Hours as "2 t 15 min" ("0 min" for none). */
    fun hours(minutes: Int): String = when {
        minutes < 60 -> "$minutes min"
        minutes % 60 == 0 -> "${minutes / 60} t"
        else -> "${minutes / 60} t ${minutes % 60} min"
    }

    /** "1 vagt", "3 vagter". */
    fun shifts(n: Int): String = if (n == 1) "1 vagt" else "$n vagter"

    private val months = listOf(
        "januar", "februar", "marts", "april", "maj", "juni",
        "juli", "august", "september", "oktober", "november", "december",
    )

    /** `2026-11` as "November 2026". */
    fun month(yearMonth: String): String {
        val (y, m) = yearMonth.split('-').map(String::toInt)
        return "${months[m - 1].replaceFirstChar(Char::uppercase)} $y"
    }

    /** `HH:MM` in Danish time of an instant. */
    fun clock(ms: Long?): String = ms?.let {
        java.time.Instant.ofEpochMilli(it).atZone(java.time.ZoneId.of("Europe/Copenhagen"))
            .toLocalTime().toString().take(5)
    } ?: "?"

    fun alreadyCheckedIn(s: ShiftInfo?): String = "Du er allerede tjekket ind kl. ${clock(s?.checkInMs)}"

    fun alreadyCheckedOut(s: ShiftInfo?): String =
        "Du tjekkede ud kl. ${clock(s?.checkOutMs)}. Genoptag vagten fra kl. ${clock(s?.checkInMs)}?"

    fun mark(m: Mark?): String = when (m) {
        Mark.PRESENT -> "Til stede"
        Mark.ABSENT -> "Fraværende"
        Mark.EXCUSED -> "Afbud"
        null -> "Ikke registreret"
    }

    fun referralStatus(s: ReferralStatus): String = when (s) {
        ReferralStatus.SUGGESTED -> "Foreslået"
        ReferralStatus.CONTACTED -> "Kontakt taget"
        ReferralStatus.FIRST_MEETING -> "Mødte op"
        ReferralStatus.ONGOING -> "I forløb"
        ReferralStatus.COMPLETED -> "Afsluttet"
        ReferralStatus.DECLINED -> "Afvist / faldet fra"
    }

    fun pending(n: ULong): String = when (n) {
        0UL -> "Alt er synkroniseret"
        1UL -> "1 ændring venter"
        else -> "$n ændringer venter"
    }

    /** A participant without a readable name: age band and a short form of the pseudonym. */
    fun anonymous(ageBand: String, participantId: String): String =
        "Barn ${ageBand.replace('-', '–')} år · ${participantId.takeLast(4)}"

    /** The line under a child's name in the roll call: the age band, a disagreement, no naming. */
    fun rowCaption(ageBand: String, conflict: Boolean, nameWithheld: Boolean): String =
        listOfNotNull(
            ageBand,
            UENIGHED.takeIf { conflict },
            MAA_IKKE_NAVNGIVES.takeIf { nameWithheld },
        ).joinToString(" · ")

    const val UENIGHED = "Uenighed – afgøres ved gennemgang"
    const val MAA_IKKE_NAVNGIVES = "Må ikke navngives (intet samtykke)"

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
        "to" -> "modtager"
        "to_activity", "to_activity_id" -> "aktivitet"
        "consent_to_share" -> "samtykke til at dele oplysninger"
        "participant_id" -> "person"
        "check_in" -> "tjek ind"
        "check_out" -> "tjek ud"
        "reason" -> "grund"
        else -> f
    }
}
