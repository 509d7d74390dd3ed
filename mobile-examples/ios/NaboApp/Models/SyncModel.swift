import Foundation
import NaboCore

/// Where syncing stands, refreshed on the client's change notifications; "Synkroniser nu".
@MainActor
final class SyncModel: ObservableObject {
    @Published private(set) var pending = ""
    @Published private(set) var lastSync = "Aldrig"
    @Published private(set) var lastError: String?
    @Published private(set) var syncing = false
    /// Set when the relay refused some of this phone's edits (they are gone; the rest was sent).
    @Published private(set) var refused: String?

    private let client: NaboClient
    private let onWiped: @MainActor () -> Void
    /// Dropping the subscription (with this model) stops the notifications.
    private var subscription: Subscription?

    private static let time: DateFormatter = {
        let format = DateFormatter()
        format.dateFormat = "d/M HH:mm"
        format.timeZone = TimeZone(identifier: "Europe/Copenhagen")
        return format
    }()

    init(client: NaboClient, onWiped: @escaping @MainActor () -> Void) {
        self.client = client
        self.onWiped = onWiped
        subscription = client.subscribe(listener: ChangeRelay { [weak self] event in
            Task { @MainActor in self?.changed(event) }
        })
    }

    func refresh() async {
        do {
            let status = try await client.syncStatus()
            pending = Tekster.pending(status.pendingChanges)
            lastSync = status.lastSyncMs.map {
                Self.time.string(from: Date(timeIntervalSince1970: TimeInterval($0) / 1000))
            } ?? "Aldrig"
            lastError = status.lastError.map {
                $0.hasPrefix("offline") ? Tekster.ingenForbindelse : "Synkronisering fejlede"
            }
            syncing = status.syncing
        } catch {
            lastError = Tekster.error(error)
        }
    }

    func syncNow() async {
        syncing = true
        do {
            _ = try await client.syncNow()
        } catch {
            lastError = Tekster.error(error)
        }
        await refresh()
    }

    private func changed(_ event: ChangeEvent) {
        if event.kind == .wiped {
            // Revoked by central staff: the data is gone, back to enrolment.
            onWiped()
        } else {
            if event.kind == .refused {
                // The core started again from the relay's copy; say so once, in Danish.
                refused = Tekster.aendringerAfvist
            }
            Task { await refresh() }
        }
    }
}

/// Hands the core's change notifications (on a background thread) to a closure.
private final class ChangeRelay: ChangeListener {
    private let handler: @Sendable (ChangeEvent) -> Void

    init(_ handler: @escaping @Sendable (ChangeEvent) -> Void) {
        self.handler = handler
    }

    func onChange(event: ChangeEvent) throws {
        handler(event)
    }
}
