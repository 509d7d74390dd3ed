package dk.nabo.app.android

import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.PaddingValues
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.lazy.LazyColumn
import androidx.compose.foundation.lazy.items
import androidx.compose.material3.ElevatedCard
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.OutlinedButton
import androidx.compose.material3.Text
import androidx.compose.runtime.Composable
import androidx.compose.runtime.LaunchedEffect
import androidx.compose.runtime.getValue
import androidx.compose.runtime.rememberCoroutineScope
import androidx.compose.ui.Modifier
import androidx.compose.ui.unit.dp
import androidx.lifecycle.compose.collectAsStateWithLifecycle
import dk.nabo.core.SessionInfo
import kotlinx.coroutines.launch

/** "Dagens lektiecafé": today's sessions; a tap opens the roll call. */
@Composable
fun SessionsScreen(home: Home, onOpen: (String) -> Unit) {
    val state by home.sessions.state.collectAsStateWithLifecycle()
    val activities by home.activities.collectAsStateWithLifecycle()
    val scope = rememberCoroutineScope()
    LaunchedEffect(home) { home.refresh() }

    LazyColumn(
        Modifier.fillMaxSize(),
        contentPadding = PaddingValues(16.dp),
        verticalArrangement = Arrangement.spacedBy(12.dp),
    ) {
        items(state.sessions, key = { it.id }) { session ->
            SessionCard(session, onClick = { onOpen(session.id) })
        }
        if (state.sessions.isEmpty()) {
            item { Text("Ingen lektiecafé i dag.", style = MaterialTheme.typography.bodyLarge) }
            // An extra evening or a trip: add a session today to one of the user's activities.
            items(activities, key = { it.id }) { activity ->
                OutlinedButton(
                    onClick = { scope.launch { home.sessions.addToday(activity.id)?.let { onOpen(it.id) } } },
                    modifier = Modifier.fillMaxWidth(),
                ) { Text("Opret dagens gang: ${activity.name}") }
            }
        }
        state.message?.let { message -> item { Message(message) } }
    }
}

@Composable
private fun SessionCard(session: SessionInfo, onClick: () -> Unit) {
    ElevatedCard(onClick = onClick, enabled = !session.cancelled, modifier = Modifier.fillMaxWidth()) {
        Column(Modifier.padding(16.dp), verticalArrangement = Arrangement.spacedBy(4.dp)) {
            Text(session.activityName, style = MaterialTheme.typography.titleMedium)
            session.title?.let { Text(it) }
            Text(
                "${session.start}–${session.end}" + if (session.cancelled) " · Aflyst" else "",
                style = MaterialTheme.typography.bodyMedium,
            )
        }
    }
}
