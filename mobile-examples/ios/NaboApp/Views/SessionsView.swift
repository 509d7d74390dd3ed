import NaboCore
import SwiftUI

/// "Dagens lektiecafé": today's sessions; a tap opens the roll call.
struct SessionsView: View {
    let home: Home
    @ObservedObject private var model: SessionsModel
    @State private var path: [SessionInfo] = []

    init(home: Home) {
        self.home = home
        model = home.sessions
    }

    var body: some View {
        NavigationStack(path: $path) {
            List {
                ForEach(model.sessions, id: \.id) { session in
                    NavigationLink(value: session) {
                        VStack(alignment: .leading, spacing: 4) {
                            Text(session.activityName).font(.headline)
                            if let title = session.title {
                                Text(title)
                            }
                            Text("\(session.start)–\(session.end)" + (session.cancelled ? " · Aflyst" : ""))
                                .foregroundStyle(.secondary)
                        }
                    }
                    .disabled(session.cancelled)
                }
                if model.sessions.isEmpty {
                    Section {
                        // An extra evening or a trip: add a session today to one of the activities.
                        ForEach(model.activities, id: \.id) { activity in
                            Button("Opret dagens gang: \(activity.name)") {
                                Task {
                                    if let session = await model.addToday(activity) {
                                        path.append(session)
                                    }
                                }
                            }
                        }
                    } header: {
                        Text("Ingen lektiecafé i dag")
                    }
                }
                if let message = model.message {
                    Text(message).foregroundStyle(.red)
                }
            }
            .navigationTitle(Tekster.dagensLektiecafe)
            .navigationDestination(for: SessionInfo.self) { session in
                RollCallView(home: home, session: session)
            }
            .safeAreaInset(edge: .top) { OfflineBanner(sync: home.sync) }
            .refreshable { await model.load() }
            .task { await model.load() }
        }
    }
}
