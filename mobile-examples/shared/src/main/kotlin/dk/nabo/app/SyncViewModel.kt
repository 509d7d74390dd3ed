package dk.nabo.app

import dk.nabo.core.ChangeEvent
import dk.nabo.core.ChangeKind
import dk.nabo.core.ChangeListener
import dk.nabo.core.NaboClientInterface
import dk.nabo.core.Subscription
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Job
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.launch
import java.time.Instant
import java.time.ZoneId
import java.time.format.DateTimeFormatter

data class SyncState(
    val pending: String = "",
    val lastSync: String = "Aldrig",
    val error: String? = null,
    val syncing: Boolean = false,
    val wiped: Boolean = false,
    /** Set when the relay refused some of this phone's edits (they are gone; the rest was sent). */
    val refused: String? = null,
)

/**
 * Sync status for the header: listens to the client's change notifications (the subscription
 * ends with [close]) and refreshes the status; `syncNow` is the button.
 */
class SyncViewModel(private val client: NaboClientInterface, private val scope: CoroutineScope) : AutoCloseable {
    private val _state = MutableStateFlow(SyncState())
    val state: StateFlow<SyncState> = _state.asStateFlow()
    private val time = DateTimeFormatter.ofPattern("d/M HH:mm").withZone(ZoneId.of("Europe/Copenhagen"))

    private val subscription: Subscription = client.subscribe(object : ChangeListener {
        override fun onChange(event: ChangeEvent) {
            when (event.kind) {
                ChangeKind.WIPED -> _state.value = _state.value.copy(wiped = true)
                // The core started again from the relay's copy; say so in Danish.
                ChangeKind.REFUSED -> _state.value = _state.value.copy(refused = Tekster.AENDRINGER_AFVIST)
                else -> {}
            }
            refresh()
        }
    })

    fun refresh(): Job = scope.launch {
        try {
            val s = client.syncStatus()
            _state.value = _state.value.copy(
                pending = Tekster.pending(s.pendingChanges),
                lastSync = s.lastSyncMs?.let { time.format(Instant.ofEpochMilli(it)) } ?: "Aldrig",
                error = s.lastError?.let { if (it.startsWith("offline")) Tekster.INGEN_FORBINDELSE else "Synkronisering fejlede" },
                syncing = s.syncing,
            )
        } catch (e: Exception) {
            _state.value = _state.value.copy(error = Tekster.error(e))
        }
    }

    fun syncNow(): Job = scope.launch {
        try {
            client.syncNow()
        } catch (e: Exception) {
            _state.value = _state.value.copy(error = Tekster.error(e))
        }
        refresh().join()
    }

    override fun close() = subscription.close()
}
