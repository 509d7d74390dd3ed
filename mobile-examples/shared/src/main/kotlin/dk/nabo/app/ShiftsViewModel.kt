package dk.nabo.app

import dk.nabo.core.CodeLabel
import dk.nabo.core.NaboClientInterface
import dk.nabo.core.UpcomingSession
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Job
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.flow.update
import kotlinx.coroutines.launch

data class ShiftsState(
    /** Coming sessions of my activities, soonest first, with my sign-up. */
    val sessions: List<UpcomingSession> = emptyList(),
    val message: String? = null,
)

/**
 * "Vagter" (user story 14): the coming sessions of the volunteer's activities; sign up, or
 * cancel with a reason so the coordinator knows who is coming. Works offline; syncs later.
 */
class ShiftsViewModel(private val client: NaboClientInterface, private val scope: CoroutineScope) {
    private val _state = MutableStateFlow(ShiftsState())
    val state: StateFlow<ShiftsState> = _state.asStateFlow()

    /** Reasons for cancelling, with Danish labels. */
    val reasons: List<CodeLabel> = client.cancelReasons()

    fun load(days: Int = DAYS): Job = act { reload(days) }

    fun signUp(sessionId: String): Job = act {
        client.signUp(sessionId)
        reload(DAYS)
    }

    fun cancel(sessionId: String, reason: String): Job = act {
        client.cancelSignUp(sessionId, reason)
        reload(DAYS)
    }

    private suspend fun reload(days: Int) {
        val sessions = client.upcomingSessions(days.coerceAtLeast(0).toUInt())
        _state.update { it.copy(sessions = sessions) }
    }

    private fun act(block: suspend () -> Unit): Job = scope.launch {
        _state.update { it.copy(message = null) }
        try {
            block()
        } catch (e: Exception) {
            _state.update { it.copy(message = Tekster.error(e)) }
        }
    }

    companion object {
        /** How far ahead the list looks. */
        const val DAYS = 28
    }
}
