package dk.nabo.app.android

import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.height
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.rememberScrollState
import androidx.compose.foundation.verticalScroll
import androidx.compose.material3.Button
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.OutlinedButton
import androidx.compose.material3.Text
import androidx.compose.runtime.Composable
import androidx.compose.runtime.getValue
import androidx.compose.runtime.remember
import androidx.compose.ui.Modifier
import androidx.compose.ui.unit.dp
import androidx.lifecycle.compose.collectAsStateWithLifecycle
import dk.nabo.app.OutreachViewModel
import dk.nabo.app.Tekster
import dk.nabo.core.CodeLabel
import dk.nabo.core.NaboException
import dk.nabo.core.UserInfo

/** "Opsøgende kontakt": an anonymous quick-log, a few taps and "Gem". */
@Composable
fun OutreachScreen(vm: OutreachViewModel, user: UserInfo, onRefer: (contactId: String) -> Unit) {
    val state by vm.state.collectAsStateWithLifecycle()
    val form = state.form
    val ageBands = remember(vm) { vm.options("age-bands") }
    val places = remember(vm) { vm.options("location-hints") }
    val kinds = remember(vm) { vm.options("contact-kinds") }
    val topics = remember(vm) { vm.options("outreach-topics") }

    Column(
        Modifier.fillMaxSize().verticalScroll(rememberScrollState()).padding(16.dp),
        verticalArrangement = Arrangement.spacedBy(16.dp),
    ) {
        Text(
            "Anonym registrering: kun antal, alder, sted og emner – ingen navne.",
            style = MaterialTheme.typography.bodyMedium,
        )
        if (user.areas.size > 1) {
            Chips("Område", user.areas.map { CodeLabel(it, it) }, selected = { it == form.areaId }) { area ->
                vm.edit { it.copy(areaId = area) }
            }
        }
        CountStepper("Antal", form.count, onChange = { n -> vm.edit { it.copy(count = n.coerceAtLeast(1)) } })
        Chips("Aldersgruppe", ageBands, selected = { it == form.ageBand }) { band -> vm.edit { it.copy(ageBand = band) } }
        Chips("Sted", places, selected = { it == form.location }) { place -> vm.edit { it.copy(location = place) } }
        Chips("Kontaktform", kinds, selected = { it == form.kind }) { kind -> vm.edit { it.copy(kind = kind) } }
        Chips("Emner", topics, selected = { it in form.topics }) { vm.toggleTopic(it) }
        Button(
            onClick = { vm.save() },
            enabled = form.areaId.isNotEmpty(),
            modifier = Modifier.fillMaxWidth().height(56.dp),
        ) { Text(Tekster.GEM) }
        when (val message = state.message) {
            null -> {}
            SAVED -> {
                Text("Gemt – ${state.savedToday} i dag", color = MaterialTheme.colorScheme.primary)
                state.lastContactId?.let { id ->
                    OutlinedButton(onClick = { onRefer(id) }, modifier = Modifier.fillMaxWidth()) { Text(Tekster.HENVIS) }
                }
            }
            else -> Message(message)
        }
    }
}

/** The view-model's message after a successful save. */
private const val SAVED = Tekster.GEMT

/** A vocabulary for the chips; empty if this core does not know it. */
private fun OutreachViewModel.options(name: String): List<CodeLabel> = try {
    choices(name)
} catch (e: NaboException) {
    emptyList()
}
