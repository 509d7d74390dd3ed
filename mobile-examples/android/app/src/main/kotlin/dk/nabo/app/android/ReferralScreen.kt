package dk.nabo.app.android

import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.height
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.rememberScrollState
import androidx.compose.foundation.verticalScroll
import androidx.compose.material3.Button
import androidx.compose.material3.HorizontalDivider
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.OutlinedButton
import androidx.compose.material3.OutlinedTextField
import androidx.compose.material3.Switch
import androidx.compose.material3.Text
import androidx.compose.runtime.Composable
import androidx.compose.runtime.LaunchedEffect
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.saveable.rememberSaveable
import androidx.compose.runtime.setValue
import androidx.compose.ui.Alignment
import androidx.compose.ui.Modifier
import androidx.compose.ui.unit.dp
import androidx.lifecycle.compose.collectAsStateWithLifecycle
import dk.nabo.app.ReferralViewModel
import dk.nabo.app.Tekster
import dk.nabo.core.CodeLabel
import dk.nabo.core.NaboException
import dk.nabo.core.ReferralInfo
import dk.nabo.core.ReferralKind
import dk.nabo.core.ReferralStatus

/**
 * "Henvisninger": a referral from a contact (kind, to whom, consent to share) and the list to
 * follow up ("mødte op", "afsluttet", …).
 */
@Composable
fun ReferralScreen(vm: ReferralViewModel) {
    val state by vm.state.collectAsStateWithLifecycle()
    val form = state.form
    val targets = remember(vm) { vm.targetsOrEmpty() }
    var newPerson by rememberSaveable { mutableStateOf("") }
    LaunchedEffect(vm) { vm.load() }

    Column(
        Modifier.fillMaxSize().verticalScroll(rememberScrollState()).padding(16.dp),
        verticalArrangement = Arrangement.spacedBy(16.dp),
    ) {
        if (form.contactId != null) Text("Fra den kontakt, du lige har registreret", style = MaterialTheme.typography.bodyMedium)
        Chips("Type", vm.kinds.map { CodeLabel(it.name, Tekster.referralKind(it)) }, selected = { it == form.kind.name }) {
            vm.kind(ReferralKind.valueOf(it))
        }
        if (form.kind == ReferralKind.RECRUITMENT) {
            Chips("Aktivitet", state.activities.map { CodeLabel(it.id, it.name) }, selected = { it == form.toActivityId }) { id ->
                vm.edit { it.copy(toActivityId = id) }
            }
        } else {
            Chips("Til", targets, selected = { it == form.to }) { to -> vm.edit { it.copy(to = to) } }
        }
        Chips("Person", state.people.map { CodeLabel(it.participantId, it.label ?: it.ageBand) }, selected = { it == form.participantId }) { id ->
            vm.edit { it.copy(participantId = if (it.participantId == id) null else id) }
        }
        Row(verticalAlignment = Alignment.CenterVertically, horizontalArrangement = Arrangement.spacedBy(8.dp)) {
            OutlinedTextField(newPerson, { newPerson = it }, label = { Text("Ny person (fornavn)") }, modifier = Modifier.weight(1f))
            OutlinedButton(onClick = {
                vm.addPerson(newPerson, "18-24", consentGivenOn = java.time.LocalDate.now(java.time.ZoneId.of("Europe/Copenhagen")).toString(), shareWithPartners = true)
                newPerson = ""
            }) { Text("Samtykke i dag") }
        }
        Row(verticalAlignment = Alignment.CenterVertically) {
            Text(Tekster.DEL_OPLYSNINGER, Modifier.weight(1f))
            Switch(
                checked = form.consentToShare,
                onCheckedChange = { on -> vm.edit { it.copy(consentToShare = on) } },
                enabled = vm.canShare(form),
            )
        }
        Button(onClick = { vm.save() }, enabled = form.areaId.isNotEmpty(), modifier = Modifier.fillMaxWidth().height(56.dp)) {
            Text(Tekster.GEM)
        }
        Message(state.message)
        HorizontalDivider()
        Text(Tekster.HENVISNINGER, style = MaterialTheme.typography.titleMedium)
        state.referrals.forEach { r -> ReferralRow(r, targets, onStatus = { vm.setStatus(r.id, it) }, statuses = vm.statuses) }
    }
}

@Composable
private fun ReferralRow(r: ReferralInfo, targets: List<CodeLabel>, statuses: List<ReferralStatus>, onStatus: (ReferralStatus) -> Unit) {
    Column(verticalArrangement = Arrangement.spacedBy(4.dp)) {
        Text(
            "${Tekster.referralKind(r.kind)} · ${targets.firstOrNull { it.code == r.to }?.label ?: r.to}",
            style = MaterialTheme.typography.titleSmall,
        )
        r.participantLabel?.let { Text(it) }
        val closed = r.status == ReferralStatus.COMPLETED || r.status == ReferralStatus.DECLINED
        if (closed) {
            Text(Tekster.referralStatus(r.status))
        } else {
            Chips("Status", statuses.map { CodeLabel(it.name, Tekster.referralStatus(it)) }, selected = { it == r.status.name }) {
                onStatus(ReferralStatus.valueOf(it))
            }
        }
    }
}

private fun ReferralViewModel.targetsOrEmpty(): List<CodeLabel> = try {
    targets()
} catch (e: NaboException) {
    emptyList()
}
