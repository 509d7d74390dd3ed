import Foundation
import NaboCore

/// The roll call of one session: a tap toggles present/absent, "Afbud" from the context menu,
/// new children by first name or pseudonym and age band, or a headcount. Every change is saved
/// on the phone before the screen shows it, and syncs when the relay is reachable.
@MainActor
final class RollCallModel: ObservableObject {
    struct Row: Identifiable, Equatable {
        let id: String
        let name: String
        let ageBand: String
        let mark: Mark?
        let conflict: Bool
        /// A named roll call in which no basis or consent covers naming this child today
        /// (ADR 0027): `name` is the age band and a short id, and the row says so.
        let nameWithheld: Bool
    }

    @Published private(set) var session: SessionInfo?
    @Published private(set) var mode: AttendanceMode = .pseudonymous
    @Published private(set) var rows: [Row] = []
    @Published private(set) var present = 0
    @Published private(set) var headcount = 0
    /// The volunteer's own shift, restored from the register whenever the screen loads.
    @Published private(set) var shift: ShiftInfo?
    @Published private(set) var checkedIn = false
    /// A second check-in after checking out: the screen asks "Genoptag vagten?" (`resume`).
    @Published var askResume = false
    @Published private(set) var busy = false
    @Published private(set) var message: String?

    private let client: NaboClient

    init(client: NaboClient) {
        self.client = client
    }

    func load(_ sessionId: String) {
        act { try await self.reload(sessionId) }
    }

    /// Present ↔ absent (an unmarked child becomes present).
    func toggle(_ row: Row) {
        mark(row.id, row.mark == .present ? .absent : .present)
    }

    func mark(_ participantId: String, _ mark: Mark) {
        act {
            let id = try self.sessionId()
            try await self.client.mark(sessionId: id, participantId: participantId, mark: mark)
            try await self.reload(id)
        }
    }

    /// Everyone not yet marked is absent (end of the evening).
    func restAbsent() {
        act {
            let id = try self.sessionId()
            for row in self.rows where row.mark == nil {
                try await self.client.mark(sessionId: id, participantId: row.id, mark: .absent)
            }
            try await self.reload(id)
        }
    }

    func addChild(name: String, ageBand: String) {
        let label = name.trimmingCharacters(in: .whitespacesAndNewlines)
        act {
            let id = try self.sessionId()
            _ = try await self.client.addChild(sessionId: id, label: label.isEmpty ? nil : label, ageBand: ageBand)
            try await self.reload(id)
        }
    }

    func setHeadcount(_ count: Int) {
        act {
            let id = try self.sessionId()
            try await self.client.setHeadcount(sessionId: id, count: UInt32(max(count, 0)))
            try await self.reload(id)
        }
    }

    /// Checks in. A second check-in is refused by the core (it would shorten the shift): while
    /// checked in the screen says since when; after checking out it asks whether to resume.
    func checkIn() {
        act {
            let id = try self.sessionId()
            do {
                try await self.client.checkIn(sessionId: id)
            } catch let NaboError.Invalid(field, _, _) where field == "check_in" || field == "check_out" {
                try await self.reload(id)
                if field == "check_in" {
                    self.message = Tekster.alreadyCheckedIn(self.shift)
                } else {
                    self.askResume = true
                    self.message = Tekster.alreadyCheckedOut(self.shift)
                }
                return
            }
            try await self.reload(id)
        }
    }

    /// "Genoptag vagten": the shift runs from its first check-in again.
    func resume() {
        act {
            let id = try self.sessionId()
            try await self.client.resumeShift(sessionId: id)
            try await self.reload(id)
        }
    }

    func checkOut() {
        act {
            let id = try self.sessionId()
            try await self.client.checkOut(sessionId: id)
            try await self.reload(id)
        }
    }

    private func sessionId() throws -> String {
        guard let session else { throw NaboError.NotFound(what: "session") }
        return session.id
    }

    private func reload(_ sessionId: String) async throws {
        let call = try await client.rollCall(sessionId: sessionId)
        session = call.session
        shift = call.myShift
        checkedIn = call.myShift?.state == .checkedIn
        mode = call.mode
        rows = call.entries.map { entry in
            Row(
                id: entry.participantId,
                name: entry.label ?? Tekster.anonymous(ageBand: entry.ageBand, participantId: entry.participantId),
                ageBand: entry.ageBand,
                mark: entry.mark,
                conflict: entry.conflict,
                nameWithheld: call.mode == .named && !entry.mayBeNamed
            )
        }
        present = Int(call.present)
        headcount = Int(call.headcount ?? 0)
    }

    private func act(_ body: @escaping @MainActor () async throws -> Void) {
        busy = true
        message = nil
        askResume = false
        Task {
            defer { busy = false }
            do {
                try await body()
            } catch {
                message = Tekster.error(error)
            }
        }
    }
}
