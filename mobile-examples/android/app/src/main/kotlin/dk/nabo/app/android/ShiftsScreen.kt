package dk.nabo.app.android

import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.lazy.LazyColumn
import androidx.compose.foundation.lazy.items
import androidx.compose.material3.AlertDialog
import androidx.compose.material3.Button
import androidx.compose.material3.ListItem
import androidx.compose.material3.OutlinedButton
import androidx.compose.material3.Text
import androidx.compose.material3.TextButton
import androidx.compose.runtime.Composable
import androidx.compose.runtime.LaunchedEffect
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.saveable.rememberSaveable
import androidx.compose.runtime.setValue
import androidx.compose.ui.Modifier
import androidx.compose.ui.unit.dp
import androidx.lifecycle.compose.collectAsStateWithLifecycle
import dk.nabo.app.ShiftsViewModel
import dk.nabo.app.Tekster

/** "Vagter": coming sessions of my activities; sign up, or cancel with a reason. */
@Composable
fun ShiftsScreen(vm: ShiftsViewModel) {
    val state by vm.state.collectAsStateWithLifecycle()
    var cancelling by rememberSaveable { mutableStateOf<String?>(null) }
    LaunchedEffect(vm) { vm.load() }
    LazyColumn(Modifier.fillMaxSize()) {
        items(state.sessions, key = { it.session.id }) { u ->
            val s = u.session
            val reason = u.myShift.cancelReason?.let { code -> vm.reasons.firstOrNull { it.code == code }?.label?.lowercase() ?: code }
            ListItem(
                headlineContent = { Text("${s.date} · ${s.start}–${s.end}" + (s.title?.let { " · $it" } ?: "")) },
                supportingContent = {
                    Column {
                        Text(s.activityName)
                        Text(Tekster.signUp(u.myShift.signedUp, if (u.myShift.cancelled) reason else null, u.signedUp.toInt()))
                    }
                },
                trailingContent = {
                    if (u.myShift.signedUp) {
                        OutlinedButton(onClick = { cancelling = s.id }) { Text(Tekster.MELD_AFBUD) }
                    } else {
                        Button(onClick = { vm.signUp(s.id) }) { Text(Tekster.TILMELD_VAGT) }
                    }
                },
            )
        }
        item { Message(state.message, Modifier.padding(16.dp)) }
    }
    cancelling?.let { id ->
        AlertDialog(
            onDismissRequest = { cancelling = null },
            title = { Text("Hvorfor melder du afbud?") },
            text = {
                Column(verticalArrangement = Arrangement.spacedBy(8.dp)) {
                    vm.reasons.forEach { r ->
                        Row { TextButton(onClick = { vm.cancel(id, r.code); cancelling = null }) { Text(r.label) } }
                    }
                }
            },
            confirmButton = {},
            dismissButton = { TextButton(onClick = { cancelling = null }) { Text("Fortryd") } },
        )
    }
}
