import Foundation
import NaboCore

/// "Opsøgende kontakt": the quick-log form, anonymous by default (a count, an age band, codes).
@MainActor
final class OutreachModel: ObservableObject {
    struct Form {
        var areaId: String
        var count = 1
        var ageBand = "15-17"
        var location = "legeplads"
        var kind = "uformelt-moede"
        var topics: Set<String> = []
        var outcomes: Set<String> = []
    }

    enum Feedback: Equatable {
        case saved(today: Int)
        case failed(String)
    }

    @Published var form: Form
    @Published private(set) var feedback: Feedback?
    @Published private(set) var busy = false
    /// The contact just saved: "Henvis" starts a referral from it.
    @Published private(set) var lastContactId: String?

    /// The chips' choices, with Danish labels from the catalogue.
    let ageBands: [CodeLabel]
    let locations: [CodeLabel]
    let kinds: [CodeLabel]
    let topics: [CodeLabel]

    private let client: NaboClient
    private var savedToday = 0

    init(client: NaboClient, user: UserInfo) {
        self.client = client
        form = Form(areaId: user.areas.first ?? "")
        ageBands = Self.vocabulary(client, "age-bands")
        locations = Self.vocabulary(client, "location-hints")
        kinds = Self.vocabulary(client, "contact-kinds")
        topics = Self.vocabulary(client, "outreach-topics")
    }

    func toggleTopic(_ code: String) {
        if form.topics.contains(code) {
            form.topics.remove(code)
        } else {
            form.topics.insert(code)
        }
    }

    /// Saves the contact; the form keeps area, place and kind for the next one.
    func save() {
        let f = form
        busy = true
        feedback = nil
        Task {
            defer { busy = false }
            do {
                lastContactId = try await client.logContact(input: ContactInput(
                    areaId: f.areaId, location: f.location, kind: f.kind, count: UInt32(f.count),
                    ageBand: f.ageBand, topics: f.topics.sorted(), outcomes: f.outcomes.sorted(), followup: nil,
                    participantId: nil
                ))
                form.count = 1
                form.topics = []
                form.outcomes = []
                savedToday += 1
                feedback = .saved(today: savedToday)
            } catch {
                feedback = .failed(Tekster.error(error))
            }
        }
    }

    private static func vocabulary(_ client: NaboClient, _ name: String) -> [CodeLabel] {
        (try? client.vocabulary(name: name)) ?? []
    }
}
