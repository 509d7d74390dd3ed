import Foundation
import NaboCore

/// "Dagens lektiecafé": today's sessions, and the user's activities to add one when none is planned.
@MainActor
final class SessionsModel: ObservableObject {
    @Published private(set) var sessions: [SessionInfo] = []
    @Published private(set) var activities: [ActivityInfo] = []
    @Published private(set) var message: String?

    private let client: NaboClient

    init(client: NaboClient) {
        self.client = client
    }

    func load() async {
        do {
            // Today in Denmark, whatever time zone the phone is set to.
            sessions = try await client.todaysSessions()
            message = nil
        } catch {
            message = Tekster.error(error)
        }
        activities = (try? await client.myActivities()) ?? []
    }

    /// Adds a session today (15:00–17:00) and returns it, or nil after showing the error.
    func addToday(_ activity: ActivityInfo) async -> SessionInfo? {
        do {
            let session = try await client.addSession(
                activityId: activity.id, date: client.today(), start: "15:00", end: "17:00", title: nil
            )
            await load()
            return session
        } catch {
            message = Tekster.error(error)
            return nil
        }
    }
}
