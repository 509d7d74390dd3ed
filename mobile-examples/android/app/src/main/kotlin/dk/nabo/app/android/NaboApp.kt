package dk.nabo.app.android

import androidx.activity.compose.BackHandler
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.padding
import androidx.compose.material.icons.Icons
import androidx.compose.material.icons.automirrored.filled.ArrowBack
import androidx.compose.material.icons.automirrored.filled.ArrowForward
import androidx.compose.material.icons.filled.Check
import androidx.compose.material.icons.filled.DateRange
import androidx.compose.material.icons.filled.Person
import androidx.compose.material.icons.filled.Place
import androidx.compose.material.icons.filled.Refresh
import androidx.compose.material3.CircularProgressIndicator
import androidx.compose.material3.ExperimentalMaterial3Api
import androidx.compose.material3.Icon
import androidx.compose.material3.IconButton
import androidx.compose.material3.NavigationBar
import androidx.compose.material3.NavigationBarItem
import androidx.compose.material3.Scaffold
import androidx.compose.material3.Text
import androidx.compose.material3.TopAppBar
import androidx.compose.runtime.Composable
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.saveable.rememberSaveable
import androidx.compose.runtime.setValue
import androidx.compose.ui.Modifier
import androidx.compose.ui.graphics.vector.ImageVector
import androidx.lifecycle.compose.collectAsStateWithLifecycle
import dk.nabo.app.Tekster

@Composable
fun NaboApp(model: AppModel) {
    val screen by model.screen.collectAsStateWithLifecycle()
    when (val s = screen) {
        AppModel.Screen.Opening -> Centered { CircularProgressIndicator() }
        is AppModel.Screen.Broken -> Centered { Message(s.message) }
        is AppModel.Screen.SignedOut -> EnrolScreen(s.enrol, s.login)
        is AppModel.Screen.SignedIn -> HomeScreen(s.home, onLogout = { model.logout() })
    }
}

private enum class Tab(val label: String, val icon: ImageVector) {
    Lektiecafe("Lektiecafé", Icons.Filled.DateRange),
    Vagter(Tekster.VAGTER, Icons.Filled.Check),
    Timer(Tekster.MINE_TIMER, Icons.Filled.Person),
    Opsoegende("Opsøgende", Icons.Filled.Place),
    Henvisninger(Tekster.HENVISNINGER, Icons.AutoMirrored.Filled.ArrowForward),
    Synkronisering("Synkronisering", Icons.Filled.Refresh),
}

@OptIn(ExperimentalMaterial3Api::class)
@Composable
private fun HomeScreen(home: Home, onLogout: () -> Unit) {
    val tabs = remember(home) {
        Tab.entries.filter {
            when (it) {
                Tab.Lektiecafe -> home.takesAttendance
                Tab.Vagter -> home.canCheckIn
                Tab.Timer -> home.canCheckIn
                Tab.Opsoegende -> home.doesOutreach
                Tab.Henvisninger -> home.doesOutreach
                Tab.Synkronisering -> true
            }
        }
    }
    var tab by rememberSaveable(home) { mutableStateOf(tabs.first()) }
    // The open roll call (a session reference), if any.
    var sessionId by rememberSaveable(home) { mutableStateOf<String?>(null) }
    val sync by home.sync.state.collectAsStateWithLifecycle()
    val inRollCall = tab == Tab.Lektiecafe && sessionId != null
    BackHandler(enabled = inRollCall) { sessionId = null }

    Scaffold(
        topBar = {
            TopAppBar(
                title = {
                    Text(
                        when (tab) {
                            Tab.Lektiecafe -> if (inRollCall) Tekster.FREMMOEDE else Tekster.DAGENS_LEKTIECAFE
                            Tab.Vagter -> Tekster.VAGTER
                            Tab.Timer -> Tekster.MINE_TIMER
                            Tab.Opsoegende -> Tekster.OPSOEGENDE_KONTAKT
                            Tab.Henvisninger -> Tekster.HENVISNINGER
                            Tab.Synkronisering -> "Synkronisering"
                        },
                    )
                },
                navigationIcon = {
                    if (inRollCall) {
                        IconButton(onClick = { sessionId = null }) {
                            Icon(Icons.AutoMirrored.Filled.ArrowBack, contentDescription = "Tilbage")
                        }
                    }
                },
                actions = {
                    if (tab == Tab.Lektiecafe && !inRollCall) {
                        IconButton(onClick = { home.refresh() }) {
                            Icon(Icons.Filled.Refresh, contentDescription = "Opdater")
                        }
                    }
                },
            )
        },
        bottomBar = {
            if (tabs.size > 1) {
                NavigationBar {
                    tabs.forEach { t ->
                        NavigationBarItem(
                            selected = t == tab,
                            onClick = { tab = t },
                            icon = { Icon(t.icon, contentDescription = null) },
                            label = { Text(t.label) },
                        )
                    }
                }
            }
        },
    ) { padding ->
        Column(Modifier.padding(padding).fillMaxSize()) {
            OfflineBanner(sync)
            when (tab) {
                Tab.Lektiecafe -> when (val id = sessionId) {
                    null -> SessionsScreen(home, onOpen = { sessionId = it })
                    else -> RollCallScreen(home, id)
                }
                Tab.Vagter -> ShiftsScreen(home.shifts)
                Tab.Timer -> HoursScreen(home.hours)
                Tab.Opsoegende -> OutreachScreen(home.outreach, home.user, onRefer = { contactId ->
                    home.referrals.startFrom(contactId)
                    tab = Tab.Henvisninger
                })
                Tab.Henvisninger -> ReferralScreen(home.referrals)
                Tab.Synkronisering -> SyncScreen(home.sync, home.user, onLogout)
            }
        }
    }
}
