package dk.nabo.app.android

import androidx.compose.foundation.ExperimentalFoundationApi
import androidx.compose.foundation.combinedClickable
import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Box
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.layout.size
import androidx.compose.foundation.lazy.LazyColumn
import androidx.compose.foundation.lazy.items
import androidx.compose.foundation.rememberScrollState
import androidx.compose.foundation.verticalScroll
import androidx.compose.foundation.text.KeyboardOptions
import androidx.compose.material3.AlertDialog
import androidx.compose.material3.Button
import androidx.compose.material3.DropdownMenu
import androidx.compose.material3.DropdownMenuItem
import androidx.compose.material3.FilledTonalButton
import androidx.compose.material3.HorizontalDivider
import androidx.compose.material3.ListItem
import androidx.compose.material3.ListItemDefaults
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.OutlinedButton
import androidx.compose.material3.OutlinedTextField
import androidx.compose.material3.Tab
import androidx.compose.material3.TabRow
import androidx.compose.material3.Text
import androidx.compose.material3.TextButton
import androidx.compose.runtime.Composable
import androidx.compose.runtime.LaunchedEffect
import androidx.compose.runtime.getValue
import androidx.compose.runtime.key
import androidx.compose.runtime.mutableIntStateOf
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.saveable.rememberSaveable
import androidx.compose.runtime.setValue
import androidx.compose.ui.Alignment
import androidx.compose.ui.Modifier
import androidx.compose.ui.text.input.KeyboardCapitalization
import androidx.compose.ui.unit.dp
import androidx.lifecycle.compose.collectAsStateWithLifecycle
import dk.nabo.app.NO_SPLIT
import dk.nabo.app.Row as ChildRow
import dk.nabo.app.Tekster
import dk.nabo.core.AttendanceMode
import dk.nabo.core.CodeLabel
import dk.nabo.core.HeadcountSplit
import dk.nabo.core.Mark
import kotlinx.coroutines.delay

/**
 * "Fremmøde": one tap toggles present/absent, a long press offers "Afbud"; new children are
 * added by first name or pseudonym and age band. Headcount activities get a big counter.
 */
@Composable
fun RollCallScreen(home: Home, sessionId: String) {
    val vm = home.rollCall
    val state by vm.state.collectAsStateWithLifecycle()
    var adding by rememberSaveable(sessionId) { mutableStateOf(false) }
    LaunchedEffect(sessionId) { vm.load(sessionId) }

    val session = state.session
    if (session == null || session.id != sessionId) {
        Centered { if (state.message != null) Message(state.message) else Text("Henter fremmøde …") }
        return
    }
    val bandLabel = { code: String -> home.childAgeBands.firstOrNull { it.code == code }?.label ?: code }

    Column(Modifier.fillMaxSize()) {
        Column(Modifier.padding(horizontal = 16.dp, vertical = 8.dp), verticalArrangement = Arrangement.spacedBy(4.dp)) {
            Text(session.activityName, style = MaterialTheme.typography.titleMedium)
            Text("${session.start}–${session.end}" + (session.title?.let { " · $it" } ?: ""))
            if (state.mode != AttendanceMode.HEADCOUNT) {
                Text("${Tekster.mark(Mark.PRESENT)}: ${state.present} af ${state.rows.size}", style = MaterialTheme.typography.titleSmall)
            }
            if (home.canCheckIn) {
                CheckIn(state.checkedIn, state.shift?.checkInMs, enabled = !state.busy, onCheckIn = { vm.checkIn() }, onCheckOut = { vm.checkOut() })
            }
            Message(state.message)
        }
        HorizontalDivider()
        if (state.mode == AttendanceMode.HEADCOUNT) {
            var byGroup by rememberSaveable(sessionId) { mutableStateOf(state.split != NO_SPLIT) }
            TabRow(selectedTabIndex = if (byGroup) 1 else 0) {
                Tab(selected = !byGroup, onClick = { byGroup = false }, text = { Text("Samlet antal") })
                Tab(selected = byGroup, onClick = { byGroup = true }, text = { Text("Efter gruppe") })
            }
            key(sessionId) {
                if (byGroup) {
                    HeadcountByGroup(state.split, onCount = { vm.count(it) }, modifier = Modifier.weight(1f))
                } else {
                    Headcount(state.headcount, onSave = { vm.setHeadcount(it) }, modifier = Modifier.weight(1f))
                }
            }
        } else {
            LazyColumn(Modifier.weight(1f)) {
                items(state.rows, key = { it.participantId }) { row ->
                    RollCallRow(
                        row,
                        ageBand = bandLabel(row.ageBand),
                        onToggle = { vm.toggle(row.participantId) },
                        onMark = { vm.mark(row.participantId, it) },
                    )
                }
            }
            Row(Modifier.fillMaxWidth().padding(16.dp), horizontalArrangement = Arrangement.spacedBy(8.dp)) {
                Button(onClick = { adding = true }, modifier = Modifier.weight(1f)) { Text(Tekster.TILFOEJ_BARN) }
                OutlinedButton(
                    onClick = { vm.restAbsent() },
                    enabled = state.rows.any { it.mark == null },
                    modifier = Modifier.weight(1f),
                ) { Text("Resten fraværende") }
            }
        }
    }
    if (state.askResume) {
        AlertDialog(
            onDismissRequest = { vm.dismissResume() },
            text = { Text(state.message ?: "") },
            confirmButton = { TextButton(onClick = { vm.resume() }) { Text(Tekster.GENOPTAG_VAGT) } },
            dismissButton = { TextButton(onClick = { vm.dismissResume() }) { Text("Nej") } },
        )
    }
    if (adding) {
        AddChildDialog(
            ageBands = home.childAgeBands,
            onDismiss = { adding = false },
            onAdd = { name, band ->
                vm.addChild(name, band)
                adding = false
            },
        )
    }
}

@Composable
private fun CheckIn(checkedIn: Boolean, checkedInAt: Long?, enabled: Boolean, onCheckIn: () -> Unit, onCheckOut: () -> Unit) {
    Row(verticalAlignment = Alignment.CenterVertically, horizontalArrangement = Arrangement.spacedBy(12.dp)) {
        if (checkedIn) {
            Text("Du er tjekket ind kl. ${Tekster.clock(checkedInAt)}", Modifier.weight(1f))
            OutlinedButton(onClick = onCheckOut, enabled = enabled) { Text(Tekster.TJEK_UD) }
        } else {
            Text("Frivillig i dag?", Modifier.weight(1f))
            Button(onClick = onCheckIn, enabled = enabled) { Text(Tekster.TJEK_IND) }
        }
    }
}

@OptIn(ExperimentalFoundationApi::class)
@Composable
private fun RollCallRow(row: ChildRow, ageBand: String, onToggle: () -> Unit, onMark: (Mark) -> Unit) {
    var menu by remember { mutableStateOf(false) }
    val colors = MaterialTheme.colorScheme
    val background = when (row.mark) {
        Mark.PRESENT -> colors.primaryContainer
        Mark.EXCUSED -> colors.tertiaryContainer
        Mark.ABSENT -> colors.surfaceVariant
        null -> colors.surface
    }
    Box {
        ListItem(
            headlineContent = { Text(row.name) },
            supportingContent = {
                Text(Tekster.rowCaption(ageBand, row.conflict, row.nameWithheld))
            },
            trailingContent = { Text(Tekster.mark(row.mark), style = MaterialTheme.typography.labelLarge) },
            colors = ListItemDefaults.colors(containerColor = background),
            modifier = Modifier.combinedClickable(
                onClickLabel = "Skift mellem til stede og fraværende",
                onLongClickLabel = "Vælg fremmøde",
                onLongClick = { menu = true },
                onClick = onToggle,
            ),
        )
        DropdownMenu(expanded = menu, onDismissRequest = { menu = false }) {
            listOf(Mark.PRESENT, Mark.ABSENT, Mark.EXCUSED).forEach { mark ->
                DropdownMenuItem(
                    text = { Text(Tekster.mark(mark)) },
                    onClick = {
                        menu = false
                        onMark(mark)
                    },
                )
            }
        }
    }
    HorizontalDivider()
}

/**
 * Headcount mode. Taps change the number at once and are written once they pause, so fast
 * tapping never loses a count; a count arriving by sync shows when no tap is pending.
 */
@Composable
private fun Headcount(saved: Int, onSave: (Int) -> Unit, modifier: Modifier = Modifier) {
    var count by remember { mutableIntStateOf(saved) }
    var dirty by remember { mutableStateOf(false) }
    LaunchedEffect(saved) { if (!dirty) count = saved }
    LaunchedEffect(count, dirty) {
        if (dirty) {
            delay(400)
            dirty = false
            onSave(count)
        }
    }
    Column(
        modifier.fillMaxWidth(),
        horizontalAlignment = Alignment.CenterHorizontally,
        verticalArrangement = Arrangement.spacedBy(24.dp, Alignment.CenterVertically),
    ) {
        Text("Antal", style = MaterialTheme.typography.titleLarge)
        Text("$count", style = MaterialTheme.typography.displayLarge)
        Row(horizontalArrangement = Arrangement.spacedBy(32.dp)) {
            FilledTonalButton(
                onClick = {
                    count = (count - 1).coerceAtLeast(0)
                    dirty = true
                },
                enabled = count > 0,
                modifier = Modifier.size(96.dp),
            ) { Text("−", style = MaterialTheme.typography.displaySmall) }
            Button(
                onClick = {
                    count += 1
                    dirty = true
                },
                modifier = Modifier.size(96.dp),
            ) { Text("+", style = MaterialTheme.typography.displaySmall) }
        }
    }
}

/** Counting at the door by group: one tap per person on their group's counter (stories 12 and 17). */
@Composable
private fun HeadcountByGroup(split: HeadcountSplit, onCount: ((HeadcountSplit) -> HeadcountSplit) -> Unit, modifier: Modifier = Modifier) {
    Column(
        modifier.fillMaxWidth().verticalScroll(rememberScrollState()).padding(16.dp),
        verticalArrangement = Arrangement.spacedBy(16.dp),
    ) {
        CountStepper("Børn, beboere i området", split.childrenResidents.toInt(), min = 0, onChange = { n -> onCount { it.copy(childrenResidents = n.coerceAtLeast(0).toUInt()) } })
        CountStepper("Børn udefra", split.childrenOutsiders.toInt(), min = 0, onChange = { n -> onCount { it.copy(childrenOutsiders = n.coerceAtLeast(0).toUInt()) } })
        CountStepper("Voksne, beboere i området", split.adultsResidents.toInt(), min = 0, onChange = { n -> onCount { it.copy(adultsResidents = n.coerceAtLeast(0).toUInt()) } })
        CountStepper("Voksne udefra", split.adultsOutsiders.toInt(), min = 0, onChange = { n -> onCount { it.copy(adultsOutsiders = n.coerceAtLeast(0).toUInt()) } })
        HorizontalDivider()
        CountStepper("Heraf kom første gang", split.firstTimers.toInt(), min = 0, onChange = { n -> onCount { it.copy(firstTimers = n.coerceAtLeast(0).toUInt()) } })
    }
}

@Composable
private fun AddChildDialog(ageBands: List<CodeLabel>, onDismiss: () -> Unit, onAdd: (String, String) -> Unit) {
    var name by rememberSaveable { mutableStateOf("") }
    var band by rememberSaveable { mutableStateOf<String?>(null) }
    AlertDialog(
        onDismissRequest = onDismiss,
        title = { Text(Tekster.TILFOEJ_BARN) },
        text = {
            Column(verticalArrangement = Arrangement.spacedBy(12.dp)) {
                OutlinedTextField(
                    value = name,
                    onValueChange = { name = it },
                    label = { Text("Fornavn eller kaldenavn") },
                    supportingText = { Text("Kan udelades. Navnet gemmes krypteret.") },
                    singleLine = true,
                    keyboardOptions = KeyboardOptions(capitalization = KeyboardCapitalization.Words),
                )
                Chips("Aldersgruppe", ageBands, selected = { it == band }, onClick = { band = it })
            }
        },
        confirmButton = {
            TextButton(onClick = { band?.let { onAdd(name, it) } }, enabled = band != null) { Text("Tilføj") }
        },
        dismissButton = { TextButton(onClick = onDismiss) { Text("Annuller") } },
    )
}
