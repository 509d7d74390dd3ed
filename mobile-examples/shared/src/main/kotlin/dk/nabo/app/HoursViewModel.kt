package dk.nabo.app

import dk.nabo.core.NaboClientInterface
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Job
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.launch

/** One shift in the volunteer's history, as the screen shows it. */
data class ShiftRow(val sessionId: String, val title: String, val date: String, val hours: String, val open: Boolean)

/** One month of hours. */
data class MonthRow(val month: String, val hours: String, val shifts: Int)

data class HoursState(
    val shifts: List<ShiftRow> = emptyList(),
    val months: List<MonthRow> = emptyList(),
    val total: String = Tekster.hours(0),
    val message: String? = null,
)

/** "Mine timer": the volunteer's own hours per session and per month, from the registers on the phone. */
class HoursViewModel(private val client: NaboClientInterface, private val scope: CoroutineScope) {
    private val _state = MutableStateFlow(HoursState())
    val state: StateFlow<HoursState> = _state.asStateFlow()

    fun load(): Job = scope.launch {
        _state.value = try {
            val h = client.myHours()
            HoursState(
                shifts = h.shifts.map { r ->
                    ShiftRow(
                        r.session.id,
                        r.session.title ?: r.session.activityName,
                        r.session.date,
                        r.shift.minutes?.let { Tekster.hours(it.toInt()) } ?: Tekster.IGANG,
                        r.shift.minutes == null,
                    )
                },
                months = h.months.map { MonthRow(Tekster.month(it.month), Tekster.hours(it.minutes.toInt()), it.shifts.toInt()) },
                total = Tekster.hours(h.totalMinutes.toInt()),
            )
        } catch (e: Exception) {
            HoursState(message = Tekster.error(e))
        }
    }
}
