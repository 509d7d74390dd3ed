package dk.nabo.app

import dk.nabo.core.NaboClientInterface
import dk.nabo.core.UserInfo
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Job
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.launch

data class EnrolState(val user: UserInfo? = null, val busy: Boolean = false, val message: String? = null)

/** A volunteer's phone is enrolled with the one-time code (typed, or read from the QR code). */
class EnrolViewModel(private val client: NaboClientInterface, private val scope: CoroutineScope) {
    private val _state = MutableStateFlow(EnrolState(user = client.me()))
    val state: StateFlow<EnrolState> = _state.asStateFlow()

    fun enrol(code: String, deviceName: String): Job = scope.launch {
        _state.value = EnrolState(busy = true)
        val user = try {
            client.enrol(code.trim().uppercase(), deviceName)
        } catch (e: Exception) {
            _state.value = EnrolState(message = Tekster.error(e))
            return@launch
        }
        // Enrolled: a failed first sync (no Wi-Fi yet) is not a failed enrolment.
        _state.value = EnrolState(user = user)
        client.startAutoSync(60u)
        try {
            client.syncNow()
        } catch (e: Exception) {
            _state.value = EnrolState(user = user, message = Tekster.error(e))
        }
    }
}
