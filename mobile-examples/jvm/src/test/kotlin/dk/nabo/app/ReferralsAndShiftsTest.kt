package dk.nabo.app

import dk.nabo.core.NaboClient
import dk.nabo.core.ReferralKind
import dk.nabo.core.ReferralStatus
import dk.nabo.core.ShiftState
import dk.nabo.example.LocalRelay
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNotNull
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.BeforeAll
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.TestInstance
import java.nio.file.Files

/**
 * The shared view-models through issue 12's phone items: a referral flow from a contact
 * (item 1) and check-in/out with the hours history (item 2), against a real relay.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ReferralsAndShiftsTest {
    private val relay = LocalRelay()

    @BeforeAll
    fun start() {
        relay.start()
    }

    @AfterAll
    fun stop() = relay.close()

    private suspend fun phone(dir: String = Files.createTempDirectory("phone").toString(), key: Byte = 21) =
        NaboClient.open(dir, relay.url, ByteArray(32) { key })

    @Test
    fun `a referral from a contact shares with consent, recruits into an activity and is followed up`() = runBlocking {
        val ali = phone(key = 22)
        ali.login("outreach1", relay.password)
        ali.syncNow()
        val outreach = OutreachViewModel(ali, this)
        outreach.save().join()
        val contact = requireNotNull(outreach.state.value.lastContactId) { "the saved contact's id" }

        val vm = ReferralViewModel(ali, this)
        vm.load().join()
        assertTrue(vm.kinds.containsAll(listOf(ReferralKind.BISIDDER, ReferralKind.LETTER_HELP, ReferralKind.RECRUITMENT)))
        assertTrue(vm.targets().any { it.code == "jobcenter" })

        // Bisidder at the jobcenter, from the contact, with the person's consent to share.
        vm.startFrom(contact)
        vm.addPerson("Omar", "18-24", ali.today(), shareWithPartners = true).join()
        assertTrue(vm.canShare(), "a person with consent may have details shared")
        vm.kind(ReferralKind.BISIDDER)
        vm.edit { it.copy(consentToShare = true) }
        vm.save().join()
        assertEquals(Tekster.GEMT, vm.state.value.message)

        // Recruitment into an activity in the area: the form picks the activity.
        vm.startFrom(contact)
        vm.kind(ReferralKind.RECRUITMENT)
        val form = vm.state.value.form
        assertEquals(ReferralViewModel.RECRUITMENT_TARGET, form.to)
        assertNotNull(form.toActivityId, "an activity of the area is offered")
        vm.save().join()
        assertEquals(Tekster.GEMT, vm.state.value.message)

        // Letter help for an anonymous contact; sharing without a known person is refused.
        vm.startFrom(contact)
        assertFalse(vm.canShare())
        vm.kind(ReferralKind.LETTER_HELP)
        vm.edit { it.copy(consentToShare = true) }
        vm.save().join()
        assertEquals("Ugyldigt felt: samtykke til at dele oplysninger", vm.state.value.message)
        vm.edit { it.copy(consentToShare = false) }
        vm.save().join()

        val refs = vm.state.value.referrals
        val bisidder = refs.single { it.kind == ReferralKind.BISIDDER }
        assertTrue(bisidder.consentToShare)
        assertEquals("Omar", bisidder.participantLabel)
        assertEquals(contact, bisidder.contactId)
        val recruitment = refs.single { it.kind == ReferralKind.RECRUITMENT }
        assertEquals(form.toActivityId, recruitment.toActivityId)
        assertTrue(refs.any { it.kind == ReferralKind.LETTER_HELP })

        // Later: "mødte op", then "afsluttet".
        vm.setStatus(recruitment.id, ReferralStatus.FIRST_MEETING).join()
        vm.setStatus(recruitment.id, ReferralStatus.COMPLETED).join()
        val done = vm.state.value.referrals.single { it.id == recruitment.id }
        assertEquals(listOf("Foreslået", "Mødte op", "Afsluttet"), done.history.map { Tekster.referralStatus(it.status) })
        ali.close()
    }

    @Test
    fun `the check-in survives reopening, a second one asks to resume, and the hours add up`() = runBlocking {
        val dir = Files.createTempDirectory("maja").toString()
        val maja = phone(dir, 23)
        maja.enrol(relay.enrolmentCode("u-volunteer1"), "Testtelefon")
        maja.syncNow()
        val cafe = maja.myActivities().single()
        val session = maja.addSession(cafe.id, maja.today(), "15:00", "17:00", "Ekstra aften")
        val vm = RollCallViewModel(maja, this)
        vm.load(session.id).join()
        assertFalse(vm.state.value.checkedIn)
        vm.checkIn().join()
        assertTrue(vm.state.value.checkedIn)

        // The screen is opened again: the state comes from the register.
        val again = RollCallViewModel(maja, this)
        again.load(session.id).join()
        assertTrue(again.state.value.checkedIn)
        val since = again.state.value.shift!!.checkInMs
        again.checkIn().join()
        assertEquals(Tekster.alreadyCheckedIn(again.state.value.shift), again.state.value.message)
        assertEquals(since, again.state.value.shift!!.checkInMs, "the first check-in stays")

        again.checkOut().join()
        assertEquals(ShiftState.DONE, again.state.value.shift!!.state)
        again.checkIn().join()
        assertTrue(again.state.value.askResume)
        again.resume().join()
        assertTrue(again.state.value.checkedIn)
        assertEquals(since, again.state.value.shift!!.checkInMs)
        again.checkOut().join()
        assertNull(again.state.value.message)

        val hours = HoursViewModel(maja, this)
        hours.load().join()
        val h = hours.state.value
        assertNull(h.message)
        assertTrue(h.shifts.any { it.sessionId == session.id && !it.open })
        val month = maja.today().substring(0, 7)
        assertTrue(h.months.any { it.month == Tekster.month(month) })
        assertEquals("November 2026", Tekster.month("2026-11"))
        assertEquals("2 t 15 min", Tekster.hours(135))
        maja.close()
    }

    @Test
    fun `a volunteer signs up for a coming session and cancels with a reason`() = runBlocking {
        val maja = phone(key = 24)
        maja.enrol(relay.enrolmentCode("u-volunteer1"), "Testtelefon")
        maja.syncNow()
        val cafe = maja.myActivities().single()
        val tomorrow = java.time.LocalDate.parse(maja.today()).plusDays(1).toString()
        val trip = maja.addSession(cafe.id, tomorrow, "10:00", "15:00", "Udflugt")
        val vm = ShiftsViewModel(maja, this)
        assertTrue(vm.reasons.any { it.code == "sygdom" && it.label == "Sygdom" })
        vm.load().join()
        val before = vm.state.value.sessions.single { it.session.id == trip.id }
        assertFalse(before.myShift.signedUp)
        vm.signUp(trip.id).join()
        val signed = vm.state.value.sessions.single { it.session.id == trip.id }
        assertTrue(signed.myShift.signedUp)
        assertEquals(before.signedUp + 1u, signed.signedUp)
        vm.cancel(trip.id, "ingen-grund").join()
        assertEquals("Ugyldigt felt: grund", vm.state.value.message)
        vm.cancel(trip.id, "sygdom").join()
        assertNull(vm.state.value.message)
        val off = vm.state.value.sessions.single { it.session.id == trip.id }
        assertTrue(off.myShift.cancelled)
        assertEquals("sygdom", off.myShift.cancelReason)
        assertEquals(before.signedUp, off.signedUp)
        maja.close()
    }
}
