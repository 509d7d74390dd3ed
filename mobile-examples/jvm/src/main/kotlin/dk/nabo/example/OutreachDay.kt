package dk.nabo.example

import dk.nabo.app.OutreachViewModel
import dk.nabo.app.ReferralViewModel
import dk.nabo.app.Tekster
import dk.nabo.core.NaboClient
import dk.nabo.core.ReferralKind
import dk.nabo.core.ReferralStatus
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.runBlocking
import java.nio.file.Files
import java.security.SecureRandom

/**
 * An outreach worker's referrals on the JVM: log a street contact, refer from it (bisidder at
 * the jobcenter with the young man's consent to share, recruitment into an activity, help
 * with a letter), then follow up ("mødte op", "afsluttet"). Prints each step. Run:
 * `mvn -q -f mobile-examples/jvm exec:java -Dexec.mainClass=dk.nabo.example.OutreachDayKt`
 * after `cargo build -p nabo-server` and `cargo xtask bindings`.
 */
fun main() = runBlocking {
    LocalRelay().use { relay ->
        relay.start()
        val key = ByteArray(32).also { SecureRandom().nextBytes(it) }
        val phone = NaboClient.open(Files.createTempDirectory("alis-telefon").toString(), relay.url, key)
        val ali = phone.login("outreach1", relay.password)
        phone.syncNow()
        step("${ali.displayName} er logget ind (${ali.areas.joinToString()})")
        coroutineScope {
            val outreach = OutreachViewModel(phone, this)
            outreach.edit { it.copy(ageBand = "18-24", topics = setOf("job")) }
            outreach.save().join()
            val contact = outreach.state.value.lastContactId ?: error("the contact was not saved")
            step("${Tekster.OPSOEGENDE_KONTAKT}: ${outreach.state.value.message}")

            val vm = ReferralViewModel(phone, this)
            vm.load().join()
            vm.startFrom(contact)
            vm.addPerson("Omar", "18-24", phone.today(), shareWithPartners = true).join()
            vm.kind(ReferralKind.BISIDDER)
            vm.edit { it.copy(consentToShare = vm.canShare()) }
            vm.save().join()
            step("${Tekster.HENVIS}: ${Tekster.referralKind(ReferralKind.BISIDDER)} på jobcentret – ${vm.state.value.message}")

            vm.startFrom(contact, vm.state.value.people.firstOrNull { it.label == "Omar" }?.participantId)
            vm.kind(ReferralKind.RECRUITMENT)
            val activity = vm.state.value.activities.firstOrNull { it.id == vm.state.value.form.toActivityId }
            vm.save().join()
            step("${Tekster.HENVIS}: ${Tekster.referralKind(ReferralKind.RECRUITMENT)} (${activity?.name}) – ${vm.state.value.message}")

            vm.startFrom(contact)
            vm.kind(ReferralKind.LETTER_HELP)
            vm.edit { it.copy(to = "borgerservice") }
            vm.save().join()
            step("${Tekster.HENVIS}: ${Tekster.referralKind(ReferralKind.LETTER_HELP)} – ${vm.state.value.message}")

            val recruitment = vm.state.value.referrals.first { it.kind == ReferralKind.RECRUITMENT }
            vm.setStatus(recruitment.id, ReferralStatus.FIRST_MEETING).join()
            vm.setStatus(recruitment.id, ReferralStatus.COMPLETED).join()
            vm.state.value.referrals.forEach { r ->
                step("${Tekster.referralKind(r.kind)}: ${r.history.joinToString(" → ") { Tekster.referralStatus(it.status) }}")
            }
        }
        phone.syncNow()
        step(Tekster.pending(phone.syncStatus().pendingChanges))
        phone.close()
    }
}

private fun step(s: String) = println("• $s")
