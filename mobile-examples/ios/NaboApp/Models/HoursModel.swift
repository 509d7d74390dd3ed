import Foundation
import NaboCore

/// "Mine timer": the volunteer's own hours per session and per month (shared Kotlin
/// `HoursViewModel`).
@MainActor
final class HoursModel: ObservableObject {
    struct ShiftRow: Identifiable, Equatable {
        let id: String
        let title: String
        let date: String
        let hours: String
        let open: Bool
    }

    struct MonthRow: Identifiable, Equatable {
        var id: String { month }
        let month: String
        let hours: String
        let shifts: Int
    }

    @Published private(set) var shifts: [ShiftRow] = []
    @Published private(set) var months: [MonthRow] = []
    @Published private(set) var total = Tekster.hours(0)
    @Published private(set) var message: String?

    private let client: NaboClient

    init(client: NaboClient) {
        self.client = client
    }

    func load() {
        Task {
            do {
                let h = try await client.myHours()
                shifts = h.shifts.map { r in
                    ShiftRow(
                        id: r.session.id,
                        title: r.session.title ?? r.session.activityName,
                        date: r.session.date,
                        hours: r.shift.minutes.map { Tekster.hours(Int($0)) } ?? Tekster.iGang,
                        open: r.shift.minutes == nil
                    )
                }
                months = h.months.map { MonthRow(month: Tekster.month($0.month), hours: Tekster.hours(Int($0.minutes)), shifts: Int($0.shifts)) }
                total = Tekster.hours(Int(h.totalMinutes))
                message = nil
            } catch {
                message = Tekster.error(error)
            }
        }
    }
}
