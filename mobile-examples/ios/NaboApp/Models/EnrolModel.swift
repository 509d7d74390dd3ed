import Foundation
import NaboCore

/// "Tilmeld telefon": a volunteer enrols with the one-time code; staff log in instead.
@MainActor
final class EnrolModel: ObservableObject {
    @Published private(set) var busy = false
    @Published private(set) var message: String?

    private let client: NaboClient
    private let onSignedIn: @MainActor () -> Void

    init(client: NaboClient, onSignedIn: @escaping @MainActor () -> Void) {
        self.client = client
        self.onSignedIn = onSignedIn
    }

    func enrol(code: String, deviceName: String) {
        let code = code.trimmingCharacters(in: .whitespacesAndNewlines).uppercased()
        let name = deviceName.trimmingCharacters(in: .whitespacesAndNewlines)
        signIn { try await $0.enrol(code: code, deviceName: name) }
    }

    func login(username: String, password: String) {
        let username = username.trimmingCharacters(in: .whitespacesAndNewlines)
        signIn { try await $0.login(username: username, password: password) }
    }

    private func signIn(_ call: @escaping @Sendable (NaboClient) async throws -> UserInfo) {
        busy = true
        message = nil
        Task {
            defer { busy = false }
            do {
                _ = try await call(client)
                onSignedIn()
            } catch {
                message = Tekster.error(error)
            }
        }
    }
}
