package dk.nabo.app.android

import android.app.Application
import androidx.lifecycle.AndroidViewModel
import androidx.lifecycle.viewModelScope
import dk.nabo.app.EnrolState
import dk.nabo.app.EnrolViewModel
import dk.nabo.app.HoursViewModel
import dk.nabo.app.OutreachViewModel
import dk.nabo.app.ReferralViewModel
import dk.nabo.app.RollCallViewModel
import dk.nabo.app.SessionsViewModel
import dk.nabo.app.ShiftsViewModel
import dk.nabo.app.SyncViewModel
import dk.nabo.app.Tekster
import dk.nabo.core.ActivityInfo
import dk.nabo.core.CodeLabel
import dk.nabo.core.NaboClient
import dk.nabo.core.NaboClientInterface
import dk.nabo.core.NaboException
import dk.nabo.core.UserInfo
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.Job
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.flow.merge
import kotlinx.coroutines.launch
import kotlinx.coroutines.withContext
import java.io.File
import java.io.IOException
import java.security.GeneralSecurityException

/**
 * The app's one AndroidX view-model: opens the client with the Keystore-held key and swaps
 * between enrolment and the signed-in screens (on sign-in, log-out and a revocation's wipe).
 * The screens' logic is the shared view-models in `dk.nabo.app`.
 */
class AppModel(app: Application) : AndroidViewModel(app) {
    sealed interface Screen {
        data object Opening : Screen
        data class Broken(val message: String) : Screen
        class SignedOut(val enrol: EnrolViewModel, val login: StaffLogin) : Screen
        class SignedIn(val home: Home) : Screen
    }

    private val _screen = MutableStateFlow<Screen>(Screen.Opening)
    val screen: StateFlow<Screen> = _screen.asStateFlow()
    private var client: NaboClient? = null

    /** The current screen's coroutines, cancelled when another screen replaces it. */
    private var screenJob: Job? = null

    init {
        viewModelScope.launch {
            try {
                val key = withContext(Dispatchers.IO) { KeyStoreKey(app).get() }
                // noBackupFilesDir: a copy of the store is useless without this phone's Keystore.
                val dir = File(app.noBackupFilesDir, "nabo").path
                val c = try {
                    NaboClient.open(dir, BuildConfig.RELAY_URL, key)
                } finally {
                    key.fill(0)
                }
                client = c
                if (c.me() != null) signedIn(c) else signedOut(c)
            } catch (e: NaboException) {
                _screen.value = Screen.Broken(Tekster.error(e))
            } catch (e: GeneralSecurityException) {
                _screen.value = Screen.Broken(KEY_UNREADABLE)
            } catch (e: IOException) {
                _screen.value = Screen.Broken(KEY_UNREADABLE)
            }
        }
    }

    /** Ends the session on this phone (the records stay until someone signs in again). */
    fun logout() {
        val c = client ?: return
        viewModelScope.launch {
            c.stopAutoSync()
            try {
                c.logout()
            } catch (e: NaboException) {
                // Already signed out here; nothing else to undo.
            }
            signedOut(c)
        }
    }

    override fun onCleared() {
        screenJob?.cancel()
        client?.close()
    }

    private fun nextScope(): CoroutineScope {
        screenJob?.cancel()
        val job = SupervisorJob(viewModelScope.coroutineContext[Job])
        screenJob = job
        return CoroutineScope(viewModelScope.coroutineContext + job)
    }

    private fun signedOut(c: NaboClient) {
        val scope = nextScope()
        val enrol = EnrolViewModel(c, scope)
        val login = StaffLogin(c, scope)
        _screen.value = Screen.SignedOut(enrol, login)
        scope.launch {
            // The store is the truth: an enrolment whose first sync failed is still an enrolment.
            merge(enrol.state, login.state).first { !it.busy && (it.user != null || c.me() != null) }
            signedIn(c)
        }
    }

    private fun signedIn(c: NaboClient) {
        val user = c.me() ?: return signedOut(c)
        val scope = nextScope()
        val home = Home(c, user, scope)
        c.startAutoSync(60u)
        _screen.value = Screen.SignedIn(home)
        scope.launch {
            try {
                // Revoked by central staff: the data is gone, back to enrolment.
                home.sync.state.first { it.wiped }
                signedOut(c)
            } finally {
                home.sync.close()
            }
        }
    }

    private companion object {
        const val KEY_UNREADABLE = "Telefonens nøgle kan ikke læses"
    }
}

/** What a signed-in phone shows. Its coroutines end with the sign-in. */
class Home(private val client: NaboClientInterface, val user: UserInfo, private val scope: CoroutineScope) {
    val sessions = SessionsViewModel(client, scope)
    val rollCall = RollCallViewModel(client, scope)
    val outreach = OutreachViewModel(client, scope)
    val referrals = ReferralViewModel(client, scope)
    val hours = HoursViewModel(client, scope)
    val shifts = ShiftsViewModel(client, scope)
    val sync = SyncViewModel(client, scope)

    /** Age bands offered for a new child (under 18: the adult bands are for outreach). */
    val childAgeBands: List<CodeLabel> =
        vocabulary(client, "age-bands").filter { (it.code.substringBefore('-').toIntOrNull() ?: Int.MAX_VALUE) < 18 }

    private val _activities = MutableStateFlow<List<ActivityInfo>>(emptyList())

    /** The user's activities, to add today's session when none is planned. */
    val activities: StateFlow<List<ActivityInfo>> = _activities.asStateFlow()

    val takesAttendance: Boolean get() = user.role != "outreach"
    val doesOutreach: Boolean get() = user.staffId != null
    val canCheckIn: Boolean get() = user.volunteerId != null

    init {
        sync.refresh()
    }

    /** Reloads today's sessions and the activities (after a sync, on opening the tab). */
    fun refresh() {
        sessions.load()
        scope.launch {
            _activities.value = try {
                client.myActivities()
            } catch (e: NaboException) {
                emptyList()
            }
        }
    }
}

/** Staff (outreach workers, central staff) sign in with username and password instead. */
class StaffLogin(private val client: NaboClientInterface, private val scope: CoroutineScope) {
    private val _state = MutableStateFlow(EnrolState())
    val state: StateFlow<EnrolState> = _state.asStateFlow()

    fun login(username: String, password: String): Job = scope.launch {
        _state.value = EnrolState(busy = true)
        _state.value = try {
            EnrolState(user = client.login(username.trim(), password))
        } catch (e: NaboException) {
            EnrolState(message = Tekster.error(e))
        }
    }
}

/** A catalogue vocabulary with Danish labels; empty if the name is unknown to this core. */
fun vocabulary(client: NaboClientInterface, name: String): List<CodeLabel> = try {
    client.vocabulary(name)
} catch (e: NaboException) {
    emptyList()
}
