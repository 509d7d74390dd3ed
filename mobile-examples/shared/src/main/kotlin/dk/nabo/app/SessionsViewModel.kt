package dk.nabo.app

import dk.nabo.core.NaboClientInterface
import dk.nabo.core.SessionInfo
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Job
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.launch

data class SessionsState(val sessions: List<SessionInfo> = emptyList(), val message: String? = null)

/** Today's sessions; a volunteer can add an extra evening to their lektiecafé. */
class SessionsViewModel(private val client: NaboClientInterface, private val scope: CoroutineScope) {
    private val _state = MutableStateFlow(SessionsState())
    val state: StateFlow<SessionsState> = _state.asStateFlow()

    fun load(): Job = scope.launch {
        _state.value = try {
            SessionsState(client.todaysSessions())
        } catch (e: Exception) {
            SessionsState(message = Tekster.error(e))
        }
    }

    /** Adds a session today (the Danish date, as `todaysSessions`: 15:00–17:00 unless told) and returns it, or null on error. */
    suspend fun addToday(activityId: String, start: String = "15:00", end: String = "17:00"): SessionInfo? = try {
        client.addSession(activityId, client.today(), start, end, null).also { load().join() }
    } catch (e: Exception) {
        _state.value = _state.value.copy(message = Tekster.error(e))
        null
    }
}
