package dk.nabo.app

import dk.nabo.core.AttendanceMode
import dk.nabo.core.HeadcountSplit
import dk.nabo.core.Mark
import dk.nabo.core.NaboClientInterface
import dk.nabo.core.NaboException
import dk.nabo.core.RollCallEntry
import dk.nabo.core.SessionInfo
import dk.nabo.core.ShiftInfo
import dk.nabo.core.ShiftState
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Job
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.flow.update
import kotlinx.coroutines.launch

/** Nobody counted by group yet. */
val NO_SPLIT = HeadcountSplit(0u, 0u, 0u, 0u, 0u)

/**
 * One row of the roll call as the screen shows it. [nameWithheld]: a named roll call in which
 * no basis or consent covers naming this child today (ADR 0027); [name] is then the age band
 * and a short id, the screen says so and offers no name.
 */
data class Row(
    val participantId: String,
    val name: String,
    val ageBand: String,
    val mark: Mark?,
    val conflict: Boolean,
    val nameWithheld: Boolean,
)

/** The row for [e] in a roll call kept in [mode]. */
fun rowOf(e: RollCallEntry, mode: AttendanceMode) = Row(
    e.participantId,
    e.label ?: Tekster.anonymous(e.ageBand, e.participantId),
    e.ageBand,
    e.mark,
    e.conflict,
    nameWithheld = mode == AttendanceMode.NAMED && !e.mayBeNamed,
)

data class RollCallState(
    val session: SessionInfo? = null,
    val mode: AttendanceMode = AttendanceMode.PSEUDONYMOUS,
    val rows: List<Row> = emptyList(),
    val present: Int = 0,
    val headcount: Int = 0,
    /** The headcount by group (parties, excursions): children and adults, residents and outsiders, first-timers. */
    val split: HeadcountSplit = NO_SPLIT,
    /** The volunteer's own shift, restored from the register whenever the screen loads. */
    val shift: ShiftInfo? = null,
    val checkedIn: Boolean = false,
    /** A second check-in after checking out: the screen asks "Genoptag vagten?" ([resume]). */
    val askResume: Boolean = false,
    val busy: Boolean = false,
    val message: String? = null,
)

/**
 * The roll call of one session: a tap toggles present/absent, `excuse` records "afbud", new
 * children are added by first name or pseudonym and age band. Every change is saved on the
 * phone before the screen shows it, and syncs when the relay is reachable.
 */
class RollCallViewModel(private val client: NaboClientInterface, private val scope: CoroutineScope) {
    private val _state = MutableStateFlow(RollCallState())
    val state: StateFlow<RollCallState> = _state.asStateFlow()

    fun load(sessionId: String): Job = act { reload(sessionId) }

    /** Present ↔ absent (an unmarked child becomes present). */
    fun toggle(participantId: String): Job {
        val current = _state.value.rows.firstOrNull { it.participantId == participantId }?.mark
        return mark(participantId, if (current == Mark.PRESENT) Mark.ABSENT else Mark.PRESENT)
    }

    fun excuse(participantId: String): Job = mark(participantId, Mark.EXCUSED)

    fun mark(participantId: String, mark: Mark): Job = act {
        val s = session()
        client.mark(s.id, participantId, mark)
        reload(s.id)
    }

    /** Everyone not yet marked is absent (end of the evening). */
    fun restAbsent(): Job = act {
        val s = session()
        for (r in _state.value.rows.filter { it.mark == null }) client.mark(s.id, r.participantId, Mark.ABSENT)
        reload(s.id)
    }

    fun addChild(name: String?, ageBand: String): Job = act {
        val s = session()
        client.addChild(s.id, name?.trim()?.ifEmpty { null }, ageBand)
        reload(s.id)
    }

    fun setHeadcount(count: Int): Job = act {
        val s = session()
        client.setHeadcount(s.id, count.coerceAtLeast(0).toUInt())
        reload(s.id)
    }

    /** Saves the headcount by group; it replaces a plain total, and first-timers are among the others. */
    fun setHeadcounts(split: HeadcountSplit): Job = act {
        val s = session()
        client.setHeadcounts(s.id, split)
        reload(s.id)
    }

    /** One tap on a group's counter at the door: `change` adds or removes one. */
    fun count(change: (HeadcountSplit) -> HeadcountSplit): Job = setHeadcounts(change(_state.value.split))

    /**
     * Checks in. A second check-in is refused by the core (it would shorten the shift): while
     * checked in the screen says since when; after checking out it asks whether to resume.
     */
    fun checkIn(): Job = act {
        val s = session()
        try {
            client.checkIn(s.id)
        } catch (e: NaboException.Invalid) {
            reload(s.id)
            val shift = _state.value.shift
            when (e.field) {
                "check_in" -> _state.update { it.copy(message = Tekster.alreadyCheckedIn(shift)) }
                "check_out" -> _state.update { it.copy(askResume = true, message = Tekster.alreadyCheckedOut(shift)) }
                else -> throw e
            }
            return@act
        }
        reload(s.id)
    }

    /** "Genoptag vagten": the shift runs from its first check-in again. */
    fun resume(): Job = act {
        val s = session()
        client.resumeShift(s.id)
        reload(s.id)
    }

    /** "Nej": keep the shift as it was. */
    fun dismissResume() = _state.update { it.copy(askResume = false, message = null) }

    fun checkOut(): Job = act {
        val s = session()
        client.checkOut(s.id)
        reload(s.id)
    }

    private fun session(): SessionInfo = _state.value.session ?: error("no session loaded")

    private suspend fun reload(sessionId: String) {
        val call = client.rollCall(sessionId)
        _state.update {
            it.copy(
                session = call.session,
                mode = call.mode,
                rows = call.entries.map { rowOf(it, call.mode) },
                present = call.present.toInt(),
                headcount = call.headcount?.toInt() ?: 0,
                split = call.headcountSplit ?: NO_SPLIT,
                shift = call.myShift,
                checkedIn = call.myShift?.state == ShiftState.CHECKED_IN,
            )
        }
    }

    private fun act(block: suspend () -> Unit): Job = scope.launch {
        _state.update { it.copy(busy = true, message = null, askResume = false) }
        try {
            block()
        } catch (e: Exception) {
            _state.update { it.copy(message = Tekster.error(e)) }
        } finally {
            _state.update { it.copy(busy = false) }
        }
    }
}
