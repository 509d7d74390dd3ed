import Foundation
import NaboCore

/// Referrals (brobygning) from a contact and following them up: the same flow as the shared
/// Kotlin `ReferralViewModel`. Sharing details needs a known person whose consent is recorded.
@MainActor
final class ReferralModel: ObservableObject {
    struct Form {
        var areaId: String
        /// The contact it comes from (`OutreachModel.lastContactId`), if any.
        var contactId: String?
        /// The known person referred; nil: the contact's person, or anonymous.
        var participantId: String?
        var kind: ReferralKind = .information
        /// Target code (`referral-targets`); a recruitment goes to another boligsocial activity.
        var to = "jobcenter"
        /// The activity recruited into (required for a recruitment).
        var toActivityId: String?
        var consentToShare = false
    }

    static let recruitmentTarget = "boligsocial-aktivitet"
    /// The seed's kinds, bisidder and letter help included.
    static let kinds: [ReferralKind] = [.information, .accompanied, .bisidder, .letterHelp, .recruitment]
    static let statuses: [ReferralStatus] = [.suggested, .contacted, .firstMeeting, .ongoing, .completed, .declined]

    @Published var form: Form
    @Published private(set) var referrals: [ReferralInfo] = []
    @Published private(set) var people: [KnownPersonInfo] = []
    @Published private(set) var activities: [ActivityInfo] = []
    @Published private(set) var message: String?
    let targets: [CodeLabel]

    private let client: NaboClient
    private var contactPeople: [String: String] = [:]

    init(client: NaboClient, user: UserInfo) {
        self.client = client
        form = Form(areaId: user.areas.first ?? "")
        targets = (try? client.vocabulary(name: "referral-targets")) ?? []
    }

    func load() {
        act { try await self.reload() }
    }

    /// Starts a referral from a logged contact.
    func start(from contactId: String?) {
        form = Form(areaId: form.areaId, contactId: contactId)
        message = nil
    }

    /// Picks the kind; a recruitment goes to another boligsocial activity.
    func choose(_ kind: ReferralKind) {
        form.kind = kind
        if kind == .recruitment {
            form.to = Self.recruitmentTarget
            form.toActivityId = form.toActivityId ?? activities.first?.id
        } else {
            form.toActivityId = nil
            if form.to == Self.recruitmentTarget { form.to = "jobcenter" }
        }
    }

    /// Whether "må dele oplysninger" may be offered: the person has a recorded consent.
    var canShare: Bool {
        guard let person = form.participantId ?? form.contactId.flatMap({ contactPeople[$0] }) else { return false }
        return people.contains { $0.participantId == person && $0.consent }
    }

    /// Adds a person to follow (with consent given today, if given) and selects them.
    func addPerson(label: String, ageBand: String, consentGivenOn: String?, shareWithPartners: Bool) {
        let area = form.areaId
        act {
            let consent = consentGivenOn.map {
                ConsentInput(givenOn: $0, byGuardian: false, channel: "oral", shareWithPartners: shareWithPartners)
            }
            let trimmed = label.trimmingCharacters(in: .whitespacesAndNewlines)
            let id = try await self.client.addKnownPerson(input: KnownPersonInput(
                areaId: area, label: trimmed.isEmpty ? nil : trimmed, ageBand: ageBand, consent: consent
            ))
            try await self.reload()
            self.form.participantId = id
        }
    }

    func save() {
        let f = form
        act {
            _ = try await self.client.refer(input: ReferralInput(
                areaId: f.areaId, contactId: f.contactId, to: f.to, kind: f.kind,
                consentToShare: f.consentToShare, participantId: f.participantId, toActivityId: f.toActivityId
            ))
            self.form = Form(areaId: f.areaId)
            try await self.reload()
            self.message = Tekster.gemt
        }
    }

    /// Moves a referral on ("mødte op", "afsluttet", …).
    func setStatus(_ referralId: String, _ status: ReferralStatus) {
        act {
            try await self.client.setReferralStatus(referralId: referralId, status: status)
            try await self.reload()
        }
    }

    private func reload() async throws {
        let log = try await client.myOutreachLog()
        contactPeople = Dictionary(
            log.contacts.compactMap { c in c.participantId.map { (c.id, $0) } },
            uniquingKeysWith: { a, _ in a }
        )
        referrals = log.referrals
        people = form.areaId.isEmpty ? [] : try await client.knownPeople(areaId: form.areaId)
        activities = try await client.myActivities().filter { $0.areaId == form.areaId }
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
