import Foundation
import NaboCore

/// Opens the client with the Keychain-held key and swaps between enrolment and the signed-in
/// screens (on sign-in, log-out and a revocation's wipe).
@MainActor
final class AppModel: ObservableObject {
    enum Phase {
        case opening
        case broken(String)
        case signedOut(EnrolModel)
        case signedIn(Home)
    }

    @Published private(set) var phase: Phase = .opening
    private var client: NaboClient?

    /// Info.plist's NaboRelayURL, set from the NABO_RELAY_URL build setting (project.yml).
    private static let relayURL: String = {
        let url = Bundle.main.object(forInfoDictionaryKey: "NaboRelayURL") as? String ?? ""
        return url.isEmpty ? "https://nabo.example.dk" : url
    }()

    init() {
        Task { await open() }
    }

    /// Ends the session on this phone (the records stay until someone signs in again).
    func logout() {
        guard let client else { return }
        client.stopAutoSync()
        Task {
            try? await client.logout()
            signedOut(client)
        }
    }

    private func open() async {
        do {
            let key = try KeychainKey.storeKey()
            let dir = try Self.dataDirectory()
            let client = try await NaboClient.open(dataDir: dir.path, relayUrl: Self.relayURL, storeKey: key)
            self.client = client
            if client.me() != nil {
                signedIn(client)
            } else {
                signedOut(client)
            }
        } catch is KeychainKey.Failure {
            phase = .broken("Telefonens nøgle kan ikke læses")
        } catch {
            phase = .broken(Tekster.error(error))
        }
    }

    private func signedIn(_ client: NaboClient) {
        guard let user = client.me() else { return signedOut(client) }
        client.startAutoSync(intervalSeconds: 60)
        phase = .signedIn(Home(client: client, user: user) { [weak self] in self?.signedOut(client) })
    }

    private func signedOut(_ client: NaboClient) {
        phase = .signedOut(EnrolModel(client: client) { [weak self] in self?.signedIn(client) })
    }

    /// Application Support/nabo, kept out of backups: the store is sealed with a ThisDeviceOnly
    /// key, so a restored copy could never be opened.
    private static func dataDirectory() throws -> URL {
        var dir = try FileManager.default
            .url(for: .applicationSupportDirectory, in: .userDomainMask, appropriateFor: nil, create: true)
            .appendingPathComponent("nabo", isDirectory: true)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        var values = URLResourceValues()
        values.isExcludedFromBackup = true
        try dir.setResourceValues(values)
        return dir
    }
}

/// What a signed-in phone shows; replaced on log-out and wipe.
@MainActor
final class Home {
    let user: UserInfo
    let sessions: SessionsModel
    let rollCall: RollCallModel
    let outreach: OutreachModel
    let referrals: ReferralModel
    let hours: HoursModel
    let shifts: ShiftsModel
    let sync: SyncModel
    /// Age bands offered for a new child (under 18: the adult bands are for outreach).
    let childAgeBands: [CodeLabel]

    var takesAttendance: Bool { user.role != "outreach" }
    var doesOutreach: Bool { user.staffId != nil }
    var canCheckIn: Bool { user.volunteerId != nil }

    init(client: NaboClient, user: UserInfo, onWiped: @escaping @MainActor () -> Void) {
        self.user = user
        sessions = SessionsModel(client: client)
        rollCall = RollCallModel(client: client)
        outreach = OutreachModel(client: client, user: user)
        referrals = ReferralModel(client: client, user: user)
        hours = HoursModel(client: client)
        shifts = ShiftsModel(client: client)
        sync = SyncModel(client: client, onWiped: onWiped)
        childAgeBands = ((try? client.vocabulary(name: "age-bands")) ?? []).filter {
            (Int($0.code.split(separator: "-").first ?? "") ?? .max) < 18
        }
    }
}
