package dk.nabo.app

import dk.nabo.core.Mark
import dk.nabo.core.NaboClient
import dk.nabo.example.LocalRelay
import kotlinx.coroutines.Job
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.BeforeAll
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.TestInstance
import java.nio.file.Files

/**
 * What a user does on the phone, counted: each call is one tap on a button, chip, stepper or
 * row of the Android screens (mobile-examples/android), which call exactly these view-model
 * functions. Typing is not a tap; none of these journeys types anything.
 */
class Taps {
    val log = mutableListOf<String>()
    val count get() = log.size

    /** One tap; waits for a view-model job so the next tap sees its result. */
    suspend fun tap(what: String, action: suspend () -> Any?) {
        log += what
        (action() as? Job)?.join()
    }

    fun report(story: String) = println("$story: $count taps — ${log.joinToString(", ")}")
}

/**
 * Issue 12 item 6: the taps of story 1 (a 30-second street contact) and story 11 (a roll call of
 * 20 children) through the shared view-models, offline, against a real relay. The numbers are
 * recorded in docs/benchmarks.md; a view-model that needs one more step per child or loses the
 * form between two contacts fails here.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TapCountTest {
    private val relay = LocalRelay()

    @BeforeAll
    fun start() {
        relay.start()
    }

    @AfterAll
    fun stop() = relay.close()

    private suspend fun phone(key: Byte) =
        NaboClient.open(Files.createTempDirectory("taps").toString(), relay.url, ByteArray(32) { key })

    @Test
    fun `story 1, two street contacts in airplane mode`() = runBlocking {
        val ali = phone(11)
        ali.login("outreach1", relay.password)
        ali.syncNow()
        relay.stop()
        try {
            val vm = OutreachViewModel(ali, this)
            // Three young people at the playground, talking about school: the form opens with
            // the worker's area, 1 person, 15–17, the playground and an informal meeting.
            val first = Taps()
            first.tap("Antal +") { vm.edit { it.copy(count = it.count + 1) } }
            first.tap("Antal +") { vm.edit { it.copy(count = it.count + 1) } }
            first.tap("Emne: skole og uddannelse") { vm.toggleTopic("skole-uddannelse") }
            first.tap(Tekster.GEM) { vm.save() }
            first.report("Story 1, first contact")
            assertEquals(Tekster.GEMT, vm.state.value.message)
            assertEquals(4, first.count)

            // Ten minutes later, one young adult about a job: the form has kept area, place and
            // kind, and is back at 1 person with no topics.
            val second = Taps()
            second.tap("Aldersgruppe: 18–24") { vm.edit { it.copy(ageBand = "18-24") } }
            second.tap("Emne: job") { vm.toggleTopic("job") }
            second.tap(Tekster.GEM) { vm.save() }
            second.report("Story 1, next contact")
            assertEquals(Tekster.GEMT, vm.state.value.message)
            assertEquals(3, second.count)
            assertEquals(2, vm.state.value.savedToday)
            assertTrue(ali.syncStatus().pendingChanges > 0UL, "saved on the phone, not sent")
        } finally {
            relay.start()
        }
        ali.syncNow()
        assertEquals(0UL, ali.syncStatus().pendingChanges)

        // What the taps recorded is what reached the relay: the worker's second phone reads it.
        val other = phone(12)
        other.login("outreach1", relay.password)
        other.syncNow()
        val mine = other.myOutreachLog().contacts.sortedBy { it.atMs }.takeLast(2)
        assertEquals(listOf(3u, 1u), mine.map { it.count })
        assertEquals(listOf("15-17", "18-24"), mine.map { it.ageBand })
        assertEquals(listOf(listOf("skole-uddannelse"), listOf("job")), mine.map { it.topics })
        assertEquals(listOf("legeplads", "legeplads"), mine.map { it.location })
        ali.close()
        other.close()
    }

    @Test
    fun `story 11, a roll call of twenty children in airplane mode`() = runBlocking {
        val maja = phone(13)
        maja.enrol(relay.enrolmentCode("u-volunteer1"), "Majas telefon")
        maja.syncNow()
        val cafe = maja.myActivities().first()
        relay.stop()
        val taps = Taps()
        val roll = RollCallViewModel(maja, this)
        var before = 0
        try {
            val sessions = SessionsViewModel(maja, this)
            sessions.load().join()
            // The café's session today, or "Tilføj dagens" on a day without one: one tap either way.
            val today = sessions.state.value.sessions.firstOrNull { it.activityId == cafe.id && !it.cancelled }
            var sessionId = today?.id
            taps.tap(today?.let { "Åbn dagens lektiecafé" } ?: "Tilføj dagens lektiecafé") {
                if (sessionId == null) sessionId = sessions.addToday(cafe.id)?.id
            }
            roll.load(sessionId ?: error("no session")).join()
            before = roll.state.value.present
            val listed = roll.state.value.rows.filter { it.mark == null }
            // Nineteen from the list and one new child (story 11's "new child, age band 10–12").
            val known = listed.take(19)
            for (row in known) taps.tap("Barn: ${row.name}") { roll.toggle(row.participantId) }
            // Children not on the list yet: "Tilføj barn", an age band, "Tilføj" — no name.
            repeat(20 - known.size) {
                taps.tap(Tekster.TILFOEJ_BARN) { }
                taps.tap("Aldersgruppe: 10–12") { }
                taps.tap("Tilføj") { roll.addChild(null, "10-12") }
            }
            taps.report("Story 11 (${known.size} on the list, ${20 - known.size} new)")
            assertNull(roll.state.value.message)
            assertEquals(before + 20, roll.state.value.present)
            assertEquals(1 + known.size + 3 * (20 - known.size), taps.count)
            assertTrue(taps.count <= 21 + 2 * 5, "at most one tap per child on the list, three per new child")
        } finally {
            relay.start()
        }
        maja.syncNow()
        assertEquals(0UL, maja.syncStatus().pendingChanges)
        val office = phone(14)
        office.login("central", relay.password)
        office.syncNow()
        val seen = office.rollCall(roll.state.value.session!!.id)
        assertEquals(roll.state.value.present.toUInt(), seen.present)
        assertEquals(roll.state.value.present, seen.entries.count { it.mark == Mark.PRESENT })
        maja.close()
        office.close()
    }
}
