import Foundation
import NaboCore

/// "Vagter" (user story 14): coming sessions of my activities; sign up, or cancel with a
/// reason (shared Kotlin `ShiftsViewModel`).
@MainActor
final class ShiftsModel: ObservableObject {
    static let days: UInt32 = 28

    @Published private(set) var sessions: [UpcomingSession] = []
    @Published private(set) var message: String?
    /// Reasons for cancelling, with Danish labels.
    let reasons: [CodeLabel]

    private let client: NaboClient

    init(client: NaboClient) {
        self.client = client
        reasons = client.cancelReasons()
    }

    func load() {
        act { try await self.reload() }
    }

    func signUp(_ sessionId: String) {
        act {
            try await self.client.signUp(sessionId: sessionId)
            try await self.reload()
        }
    }

    func cancel(_ sessionId: String, reason: String) {
        act {
            try await self.client.cancelSignUp(sessionId: sessionId, reason: reason)
            try await self.reload()
        }
    }

    func reasonLabel(_ code: String?) -> String? {
        guard let code else { return nil }
        return reasons.first { $0.code == code }?.label.lowercased() ?? code
    }

    private func reload() async throws {
        sessions = try await client.upcomingSessions(days: Self.days)
    }

    private func act(_ body: @escaping @MainActor () async throws -> Void) {
        message = nil
        Task {
            do {
                try await body()
            } catch {
                message = Tekster.error(error)
            }
        }
    }
}
