package dk.nabo.app

import dk.nabo.core.ContactInput
import dk.nabo.core.NaboClientInterface
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Job
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.flow.update
import kotlinx.coroutines.launch

/** The quick-log form: anonymous by default, a few taps. */
data class OutreachForm(
    val areaId: String = "",
    val count: Int = 1,
    val ageBand: String = "15-17",
    val location: String = "legeplads",
    val kind: String = "uformelt-moede",
    val topics: Set<String> = emptySet(),
    val outcomes: Set<String> = emptySet(),
)

data class OutreachState(
    val form: OutreachForm = OutreachForm(),
    val savedToday: Int = 0,
    /** The contact just saved: "Henvis" starts a referral from it. */
    val lastContactId: String? = null,
    val message: String? = null,
)

class OutreachViewModel(private val client: NaboClientInterface, private val scope: CoroutineScope) {
    private val _state = MutableStateFlow(OutreachState(form = OutreachForm(areaId = client.me()?.areas?.firstOrNull() ?: "")))
    val state: StateFlow<OutreachState> = _state.asStateFlow()

    /** Age bands, locations, kinds and topics with Danish labels, for the chips. */
    fun choices(vocabulary: String) = client.vocabulary(vocabulary)

    fun edit(change: (OutreachForm) -> OutreachForm) = _state.update { it.copy(form = change(it.form), message = null) }

    fun toggleTopic(code: String) = edit { f -> f.copy(topics = if (code in f.topics) f.topics - code else f.topics + code) }

    /** Saves the contact; the form keeps area, place and kind for the next one. */
    fun save(): Job = scope.launch {
        val f = _state.value.form
        try {
            val id = client.logContact(
                ContactInput(f.areaId, f.location, f.kind, f.count.toUInt(), f.ageBand, f.topics.toList(), f.outcomes.toList(), null),
            )
            _state.update {
                it.copy(
                    form = f.copy(count = 1, topics = emptySet(), outcomes = emptySet()),
                    savedToday = it.savedToday + 1,
                    lastContactId = id,
                    message = Tekster.GEMT,
                )
            }
        } catch (e: Exception) {
            _state.update { it.copy(message = Tekster.error(e)) }
        }
    }
}
