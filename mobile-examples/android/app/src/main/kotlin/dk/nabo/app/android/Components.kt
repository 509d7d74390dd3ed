package dk.nabo.app.android

import android.os.Build
import androidx.compose.foundation.isSystemInDarkTheme
import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Box
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.ExperimentalLayoutApi
import androidx.compose.foundation.layout.FlowRow
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.padding
import androidx.compose.material3.FilledTonalButton
import androidx.compose.material3.FilterChip
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.Surface
import androidx.compose.material3.Text
import androidx.compose.material3.darkColorScheme
import androidx.compose.material3.dynamicDarkColorScheme
import androidx.compose.material3.dynamicLightColorScheme
import androidx.compose.material3.lightColorScheme
import androidx.compose.runtime.Composable
import androidx.compose.ui.Alignment
import androidx.compose.ui.Modifier
import androidx.compose.ui.platform.LocalContext
import androidx.compose.ui.unit.dp
import dk.nabo.app.SyncState
import dk.nabo.app.Tekster
import dk.nabo.core.CodeLabel

@Composable
fun NaboTheme(content: @Composable () -> Unit) {
    val dark = isSystemInDarkTheme()
    val colors = when {
        Build.VERSION.SDK_INT >= Build.VERSION_CODES.S ->
            if (dark) dynamicDarkColorScheme(LocalContext.current) else dynamicLightColorScheme(LocalContext.current)
        dark -> darkColorScheme()
        else -> lightColorScheme()
    }
    MaterialTheme(colorScheme = colors, content = content)
}

@Composable
fun Centered(content: @Composable () -> Unit) {
    Box(Modifier.fillMaxSize().padding(24.dp), contentAlignment = Alignment.Center) { content() }
}

/** An error or notice from a view-model (already in Danish). */
@Composable
fun Message(text: String?, modifier: Modifier = Modifier) {
    if (text != null) Text(text, modifier, color = MaterialTheme.colorScheme.error)
}

/** Shown on every screen while the relay cannot be reached: work goes on, saved on the phone. */
@Composable
fun OfflineBanner(sync: SyncState) {
    if (sync.error == Tekster.INGEN_FORBINDELSE) {
        Surface(color = MaterialTheme.colorScheme.secondaryContainer, modifier = Modifier.fillMaxWidth()) {
            Text(
                Tekster.INGEN_FORBINDELSE,
                Modifier.padding(horizontal = 16.dp, vertical = 8.dp),
                style = MaterialTheme.typography.bodyMedium,
            )
        }
    }
    // Edits the relay refused (and the phone dropped): said once the sync that found them ran.
    sync.refused?.let { Message(it, Modifier.padding(horizontal = 16.dp, vertical = 8.dp)) }
}

/** A titled group of chips: single choice or several, decided by [selected] and [onClick]. */
@OptIn(ExperimentalLayoutApi::class)
@Composable
fun Chips(title: String, options: List<CodeLabel>, selected: (String) -> Boolean, onClick: (String) -> Unit) {
    Column(verticalArrangement = Arrangement.spacedBy(4.dp)) {
        Text(title, style = MaterialTheme.typography.titleSmall)
        FlowRow(horizontalArrangement = Arrangement.spacedBy(8.dp)) {
            options.forEach { option ->
                FilterChip(
                    selected = selected(option.code),
                    onClick = { onClick(option.code) },
                    label = { Text(option.label) },
                )
            }
        }
    }
}

/** A count with big − and + buttons. */
@Composable
fun CountStepper(title: String, value: Int, onChange: (Int) -> Unit, min: Int = 1) {
    Column(verticalArrangement = Arrangement.spacedBy(4.dp)) {
        Text(title, style = MaterialTheme.typography.titleSmall)
        Row(verticalAlignment = Alignment.CenterVertically, horizontalArrangement = Arrangement.spacedBy(16.dp)) {
            FilledTonalButton(onClick = { onChange(value - 1) }, enabled = value > min) {
                Text("−", style = MaterialTheme.typography.headlineSmall)
            }
            Text("$value", style = MaterialTheme.typography.headlineMedium)
            FilledTonalButton(onClick = { onChange(value + 1) }) {
                Text("+", style = MaterialTheme.typography.headlineSmall)
            }
        }
    }
}

/** The user's role in Danish. */
fun rolle(role: String): String = when (role) {
    "central" -> "Centralt personale"
    "outreach" -> "Opsøgende medarbejder"
    "volunteer" -> "Frivillig"
    "board" -> "Bestyrelse"
    else -> role
}
