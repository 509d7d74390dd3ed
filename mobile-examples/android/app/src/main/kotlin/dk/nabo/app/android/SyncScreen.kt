package dk.nabo.app.android

import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.rememberScrollState
import androidx.compose.foundation.verticalScroll
import androidx.compose.material3.Button
import androidx.compose.material3.HorizontalDivider
import androidx.compose.material3.LinearProgressIndicator
import androidx.compose.material3.ListItem
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.Text
import androidx.compose.material3.TextButton
import androidx.compose.runtime.Composable
import androidx.compose.runtime.LaunchedEffect
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.rememberCoroutineScope
import androidx.compose.runtime.setValue
import androidx.compose.ui.Modifier
import androidx.compose.ui.unit.dp
import androidx.lifecycle.compose.collectAsStateWithLifecycle
import dk.nabo.app.SyncViewModel
import dk.nabo.app.Tekster
import dk.nabo.core.UserInfo
import kotlinx.coroutines.launch

/** "Synkronisering": what waits for the relay, when it last synced, and "Synkroniser nu". */
@Composable
fun SyncScreen(sync: SyncViewModel, user: UserInfo, onLogout: () -> Unit) {
    val state by sync.state.collectAsStateWithLifecycle()
    var running by remember { mutableStateOf(false) }
    val scope = rememberCoroutineScope()
    LaunchedEffect(sync) { sync.refresh() }

    Column(Modifier.fillMaxSize().verticalScroll(rememberScrollState())) {
        ListItem(
            headlineContent = { Text("Ændringer der venter") },
            supportingContent = { Text(state.pending.ifEmpty { "…" }) },
        )
        ListItem(
            headlineContent = { Text("Sidst synkroniseret") },
            supportingContent = { Text(state.lastSync) },
        )
        state.error?.let { error ->
            ListItem(
                headlineContent = { Text("Sidste fejl") },
                supportingContent = { Text(error, color = MaterialTheme.colorScheme.error) },
            )
        }
        if (running || state.syncing) LinearProgressIndicator(Modifier.fillMaxWidth().padding(horizontal = 16.dp))
        Button(
            onClick = {
                scope.launch {
                    running = true
                    try {
                        sync.syncNow().join()
                    } finally {
                        running = false
                    }
                }
            },
            enabled = !running && !state.syncing,
            modifier = Modifier.fillMaxWidth().padding(16.dp),
        ) { Text(Tekster.SYNKRONISER_NU) }
        HorizontalDivider()
        ListItem(
            headlineContent = { Text(user.displayName) },
            supportingContent = { Text(rolle(user.role)) },
        )
        TextButton(onClick = onLogout, modifier = Modifier.padding(horizontal = 8.dp)) { Text("Log ud") }
    }
}
