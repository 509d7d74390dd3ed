import SwiftUI

@main
struct NaboApp: App {
    @StateObject private var model = AppModel()

    var body: some Scene {
        WindowGroup {
            RootView(model: model)
        }
    }
}

struct RootView: View {
    @ObservedObject var model: AppModel

    var body: some View {
        switch model.phase {
        case .opening:
            ProgressView()
        case let .broken(message):
            Text(message).foregroundStyle(.red).padding()
        case let .signedOut(enrol):
            EnrolView(model: enrol)
        case let .signedIn(home):
            HomeView(home: home) { model.logout() }
        }
    }
}
