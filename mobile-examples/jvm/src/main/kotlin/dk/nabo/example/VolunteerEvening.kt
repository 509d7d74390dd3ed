package dk.nabo.example

import dk.nabo.app.HoursViewModel
import dk.nabo.app.RollCallViewModel
import dk.nabo.app.SyncViewModel
import dk.nabo.app.Tekster
import dk.nabo.core.NaboClient
import dk.nabo.core.NaboException
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.runBlocking
import java.nio.file.Files
import java.security.SecureRandom

/**
 * A volunteer's evening at the lektiecafé, on the JVM: enrol the phone, lose the Wi-Fi, take
 * the roll call offline, check out, get the connection back and sync — then the office sees
 * it. Prints each step. Run: `mvn -q -f mobile-examples/jvm exec:java` after
 * `cargo build -p nabo-server` and `cargo xtask bindings`.
 */
fun main() = runBlocking {
    LocalRelay().use { relay ->
        relay.start()
        step("Relæet kører på ${relay.url} (demo-data)")
        val key = ByteArray(32).also { SecureRandom().nextBytes(it) }
        val phone = NaboClient.open(Files.createTempDirectory("majas-telefon").toString(), relay.url, key)

        val code = relay.enrolmentCode("u-volunteer1")
        val maja = phone.enrol(code, "Majas telefon")
        step("${Tekster.TILMELD}: ${maja.displayName} med engangskode $code")
        phone.syncNow()
        val cafe = phone.myActivities().first()
        step("Aktivitet: ${cafe.name}")

        relay.stop()
        step("Wi-Fi'en i beboerhuset er væk – relæet kan ikke nås")
        val session = phone.addSession(cafe.id, phone.today(), "15:00", "17:00", "Ekstra lektiecafé")
        coroutineScope {
            val vm = RollCallViewModel(phone, this)
            vm.load(session.id).join()
            vm.checkIn().join()
            step("${Tekster.TJEK_IND} – ${vm.state.value.rows.size} børn på listen")
            vm.state.value.rows.take(12).forEach { vm.toggle(it.participantId).join() }
            vm.state.value.rows.drop(12).take(2).forEach { vm.excuse(it.participantId).join() }
            vm.addChild("Zainab", "7-9").join()
            vm.restAbsent().join()
            val s = vm.state.value
            step("${Tekster.FREMMOEDE}: ${s.present} til stede, ${s.rows.count { it.mark == dk.nabo.core.Mark.EXCUSED }} afbud, ${s.rows.count { it.mark == dk.nabo.core.Mark.ABSENT }} fraværende")
            vm.checkIn().join()
            step("${Tekster.TJEK_IND} igen: ${vm.state.value.message}")
            vm.checkOut().join()
            step(Tekster.TJEK_UD)
            val hours = HoursViewModel(phone, this)
            hours.load().join()
            hours.state.value.months.forEach { step("${Tekster.MINE_TIMER}, ${it.month}: ${it.hours} (${Tekster.shifts(it.shifts)})") }
        }
        try {
            phone.syncNow()
        } catch (e: NaboException.Offline) {
            step("Synkronisering: ${Tekster.error(e)}")
        }
        step(Tekster.pending(phone.syncStatus().pendingChanges))

        relay.start()
        step("Forbindelsen er tilbage")
        coroutineScope {
            val sync = SyncViewModel(phone, this)
            sync.syncNow().join()
            step("${Tekster.SYNKRONISER_NU}: ${sync.state.value.pending}")
            sync.close()
        }

        val office = NaboClient.open(Files.createTempDirectory("kontoret").toString(), relay.url, ByteArray(32) { 7 })
        office.login("central", relay.password)
        office.syncNow()
        val seen = office.rollCall(session.id)
        step("Kontoret ser aftenens fremmøde: ${seen.present} til stede af ${seen.entries.size}")
        phone.close()
        office.close()
    }
}

private fun step(s: String) = println("• $s")
