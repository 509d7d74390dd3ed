package dk.nabo.app

import dk.nabo.core.ActivityInfo
import dk.nabo.core.ConsentInput
import dk.nabo.core.KnownPersonInfo
import dk.nabo.core.KnownPersonInput
import dk.nabo.core.NaboClientInterface
import dk.nabo.core.ReferralInfo
import dk.nabo.core.ReferralInput
import dk.nabo.core.ReferralKind
import dk.nabo.core.ReferralStatus
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Job
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.flow.update
import kotlinx.coroutines.launch

/** The referral form: from a contact, a kind, to whom, and whether details may be shared. */
data class ReferralForm(
    val areaId: String = "",
    /** The contact it comes from (`OutreachState.lastContactId`), if any. */
    val contactId: String? = null,
    /** The known person referred; null: the contact's person, or anonymous. */
    val participantId: String? = null,
    val kind: ReferralKind = ReferralKind.INFORMATION,
    /** Target code (`referral-targets`); a recruitment goes to another boligsocial activity. */
    val to: String = "jobcenter",
    /** The activity recruited into (required for a recruitment). */
    val toActivityId: String? = null,
    val consentToShare: Boolean = false,
)

data class ReferralState(
    val form: ReferralForm = ReferralForm(),
    /** The user's referrals, newest first, to follow up ("mødte op", "afsluttet", …). */
    val referrals: List<ReferralInfo> = emptyList(),
    /** Known persons in this quarter's log for the area (for "to whom" and consent). */
    val people: List<KnownPersonInfo> = emptyList(),
    /** Activities in the area, for a recruitment. */
    val activities: List<ActivityInfo> = emptyList(),
    val message: String? = null,
)

/**
 * Referrals (brobygning) from a contact, and following them up. Sharing details needs a known
 * person whose consent is recorded: the form offers it only then, and the core refuses it
 * otherwise.
 */
class ReferralViewModel(private val client: NaboClientInterface, private val scope: CoroutineScope) {
    private val _state = MutableStateFlow(ReferralState(form = ReferralForm(areaId = client.me()?.areas?.firstOrNull() ?: "")))
    val state: StateFlow<ReferralState> = _state.asStateFlow()

    /** The kinds in the order the form shows them (the seed's kinds, bisidder and letter help included). */
    val kinds: List<ReferralKind> = ReferralKind.entries

    /** The statuses a referral can move on to, in order. */
    val statuses: List<ReferralStatus> = ReferralStatus.entries

    /** Targets with Danish labels. */
    fun targets() = client.vocabulary("referral-targets")

    fun load(): Job = act { reload() }

    /** Starts a referral from a logged contact (and its known person, if any). */
    fun startFrom(contactId: String?, participantId: String? = null) =
        edit { ReferralForm(areaId = it.areaId, contactId = contactId, participantId = participantId) }

    fun edit(change: (ReferralForm) -> ReferralForm) = _state.update { it.copy(form = change(it.form), message = null) }

    /** Picks the kind; a recruitment goes to another boligsocial activity. */
    fun kind(k: ReferralKind) = edit {
        if (k == ReferralKind.RECRUITMENT) {
            it.copy(kind = k, to = RECRUITMENT_TARGET, toActivityId = it.toActivityId ?: _state.value.activities.firstOrNull()?.id)
        } else {
            it.copy(kind = k, toActivityId = null, to = if (it.to == RECRUITMENT_TARGET) "jobcenter" else it.to)
        }
    }

    /** Whether the form may offer "må dele oplysninger": the person has a recorded consent. */
    fun canShare(f: ReferralForm = _state.value.form): Boolean {
        val person = f.participantId ?: personOfContact(f.contactId)
        return person != null && _state.value.people.any { it.participantId == person && it.consent }
    }

    /** Adds a person to follow (with consent, if given) and selects them. */
    fun addPerson(label: String?, ageBand: String, consentGivenOn: String?, shareWithPartners: Boolean): Job = act {
        val f = _state.value.form
        val consent = consentGivenOn?.let { ConsentInput(it, false, "oral", shareWithPartners) }
        val id = client.addKnownPerson(KnownPersonInput(f.areaId, label?.trim()?.ifEmpty { null }, ageBand, consent))
        reload()
        edit { it.copy(participantId = id) }
    }

    /** Saves the referral; returns to an empty form for the same area. */
    fun save(): Job = act {
        val f = _state.value.form
        client.refer(ReferralInput(f.areaId, f.contactId, f.to, f.kind, f.consentToShare, f.participantId, f.toActivityId))
        _state.update { it.copy(form = ReferralForm(areaId = f.areaId)) }
        reload()
        _state.update { it.copy(message = Tekster.GEMT) }
    }

    /** Moves a referral on ("mødte op", "afsluttet", …). */
    fun setStatus(referralId: String, status: ReferralStatus): Job = act {
        client.setReferralStatus(referralId, status)
        reload()
    }

    private var contactPeople: Map<String, String> = emptyMap()

    private fun personOfContact(contactId: String?): String? = contactId?.let { contactPeople[it] }

    private suspend fun reload() {
        val area = _state.value.form.areaId
        val log = client.myOutreachLog()
        contactPeople = log.contacts.mapNotNull { c -> c.participantId?.let { c.id to it } }.toMap()
        val people = if (area.isEmpty()) emptyList() else client.knownPeople(area)
        val activities = client.myActivities().filter { it.areaId == area }
        _state.update { it.copy(referrals = log.referrals, people = people, activities = activities) }
    }

    private fun act(block: suspend () -> Unit): Job = scope.launch {
        try {
            block()
        } catch (e: Exception) {
            _state.update { it.copy(message = Tekster.error(e)) }
        }
    }

    companion object {
        /** The target code of a recruitment into another activity. */
        const val RECRUITMENT_TARGET = "boligsocial-aktivitet"
    }
}
