package dk.nabo.app.android

import androidx.compose.foundation.lazy.LazyColumn
import androidx.compose.foundation.lazy.items
import androidx.compose.material3.ListItem
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.Text
import androidx.compose.runtime.Composable
import androidx.compose.runtime.LaunchedEffect
import androidx.compose.runtime.getValue
import androidx.compose.ui.Modifier
import androidx.compose.foundation.layout.fillMaxSize
import androidx.lifecycle.compose.collectAsStateWithLifecycle
import dk.nabo.app.HoursViewModel
import dk.nabo.app.Tekster

/** "Mine timer": the volunteer's hours per month and per session. */
@Composable
fun HoursScreen(vm: HoursViewModel) {
    val state by vm.state.collectAsStateWithLifecycle()
    LaunchedEffect(vm) { vm.load() }
    LazyColumn(Modifier.fillMaxSize()) {
        item { ListItem(headlineContent = { Text("I alt: ${state.total}", style = MaterialTheme.typography.titleMedium) }) }
        items(state.months, key = { it.month }) { m ->
            ListItem(headlineContent = { Text(m.month) }, trailingContent = { Text("${m.hours} · ${Tekster.shifts(m.shifts)}") })
        }
        items(state.shifts, key = { it.sessionId }) { s ->
            ListItem(
                headlineContent = { Text(s.title) },
                supportingContent = { Text(s.date) },
                trailingContent = { Text(s.hours) },
            )
        }
        item { Message(state.message) }
    }
}
