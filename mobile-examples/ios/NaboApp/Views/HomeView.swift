import SwiftUI

/// The signed-in phone: a tab per kind of work, and the sync status.
struct HomeView: View {
    let home: Home
    let onLogout: @MainActor () -> Void

    var body: some View {
        TabView {
            if home.takesAttendance {
                SessionsView(home: home)
                    .tabItem { Label("Lektiecafé", systemImage: "book") }
            }
            if home.canCheckIn {
                ShiftsView(model: home.shifts)
                    .tabItem { Label(Tekster.vagter, systemImage: "calendar") }
                HoursView(model: home.hours)
                    .tabItem { Label(Tekster.mineTimer, systemImage: "clock") }
            }
            if home.doesOutreach {
                OutreachView(model: home.outreach, referrals: home.referrals, user: home.user, sync: home.sync)
                    .tabItem { Label("Opsøgende", systemImage: "figure.walk") }
                ReferralsView(model: home.referrals, sync: home.sync)
                    .tabItem { Label(Tekster.henvisninger, systemImage: "arrow.turn.up.right") }
            }
            SyncView(model: home.sync, user: home.user, onLogout: onLogout)
                .tabItem { Label(Tekster.synkronisering, systemImage: "arrow.triangle.2.circlepath") }
        }
    }
}
