package dk.nabo.app

import dk.nabo.core.ChangeEvent
import dk.nabo.core.ChangeKind
import dk.nabo.core.ChangeListener
import dk.nabo.core.Mark
import dk.nabo.core.NaboClient
import dk.nabo.core.NaboException
import dk.nabo.example.LocalRelay
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.BeforeAll
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.TestInstance
import org.junit.jupiter.api.assertThrows
import java.nio.file.Files
import java.util.concurrent.CopyOnWriteArrayList

/**
 * The binding glue from Kotlin: suspend functions, records, enums, sealed exceptions with
 * fields, a listener, and the offline → sync story against a real relay. The logic itself is
 * tested in Rust (bindings/tests/phones/phone.rs).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class OfflineRollCallTest {
    private val relay = LocalRelay()

    @BeforeAll
    fun start() {
        relay.start()
    }

    @AfterAll
    fun stop() = relay.close()

    private suspend fun phone(key: Byte = 1) =
        NaboClient.open(Files.createTempDirectory("phone").toString(), relay.url, ByteArray(32) { key })

    @Test
    fun `a roll call taken while the relay is down reaches a second client`() = runBlocking {
        val maja = phone()
        val events = CopyOnWriteArrayList<ChangeKind>()
        val sub = maja.subscribe(object : ChangeListener {
            override fun onChange(event: ChangeEvent) {
                events.add(event.kind)
            }
        })
        val me = maja.enrol(relay.enrolmentCode("u-volunteer1"), "Testtelefon")
        assertEquals("volunteer", me.role)
        maja.syncNow()
        val cafe = maja.myActivities().single()

        relay.stop()
        val session = maja.addSession(cafe.id, maja.today(), "15:00", "17:00", null)
        val vm = RollCallViewModel(maja, this)
        vm.load(session.id).join()
        val rows = vm.state.value.rows
        assertTrue(rows.size >= 15)
        rows.take(4).forEach { vm.toggle(it.participantId).join() }
        vm.excuse(rows[4].participantId).join()
        vm.addChild("Zainab", "7-9").join()
        vm.checkIn().join()
        vm.checkOut().join()
        assertNull(vm.state.value.message, "no error while offline: saved on the phone")
        assertEquals(5, vm.state.value.present)
        assertTrue(vm.state.value.rows.any { it.name == "Zainab" && it.mark == Mark.PRESENT })

        val offline = assertThrows<NaboException.Offline> { runBlocking { maja.syncNow() } }
        assertTrue(offline.detail.isNotEmpty())
        assertTrue(maja.syncStatus().pendingChanges > 0UL)

        relay.start()
        maja.syncNow()
        assertEquals(0UL, maja.syncStatus().pendingChanges)
        assertTrue(ChangeKind.LOCAL_EDIT in events)
        sub.close()

        val office = phone(2)
        office.login("central", relay.password)
        office.syncNow()
        val seen = office.rollCall(session.id)
        assertEquals(5u, seen.present)
        assertEquals(
            vm.state.value.rows.map { it.participantId to it.mark }.toSet(),
            seen.entries.map { it.participantId to it.mark }.toSet(),
        )
        maja.close()
        office.close()
    }

    @Test
    fun `refusals arrive as exceptions with the field and reason`() = runBlocking {
        val ali = phone(3)
        val wrong = assertThrows<NaboException.Unauthorized> { runBlocking { ali.login("outreach1", "forkert") } }
        assertTrue(wrong.detail.isNotEmpty())
        ali.login("outreach1", relay.password)
        ali.syncNow()
        val invalid = assertThrows<NaboException.Invalid> {
            runBlocking {
                ali.logContact(dk.nabo.core.ContactInput("a-vestparken", "legeplads", "ingen-slags", 2u, "15-17", emptyList(), emptyList(), null))
            }
        }
        assertEquals("kind", invalid.field)
        assertEquals("unknown-code", invalid.reason)
        assertTrue(ali.vocabulary("age-bands").any { it.code == "15-17" })
        ali.close()
    }
}
