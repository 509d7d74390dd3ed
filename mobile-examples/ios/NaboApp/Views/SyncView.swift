import NaboCore
import SwiftUI

/// "Synkronisering": what waits for the relay, when it last synced, and "Synkroniser nu".
struct SyncView: View {
    @ObservedObject var model: SyncModel
    let user: UserInfo
    let onLogout: @MainActor () -> Void

    var body: some View {
        NavigationStack {
            Form {
                Section {
                    LabeledContent("Ændringer der venter", value: model.pending.isEmpty ? "…" : model.pending)
                    LabeledContent("Sidst synkroniseret", value: model.lastSync)
                    if let error = model.lastError {
                        Text(error).foregroundStyle(.red)
                    }
                }
                Section {
                    Button {
                        Task { await model.syncNow() }
                    } label: {
                        HStack {
                            Text(Tekster.synkroniserNu)
                            Spacer()
                            if model.syncing {
                                ProgressView()
                            }
                        }
                    }
                    .disabled(model.syncing)
                }
                Section {
                    LabeledContent(user.displayName, value: Tekster.role(user.role))
                    Button("Log ud", role: .destructive) { onLogout() }
                }
            }
            .navigationTitle(Tekster.synkronisering)
            .refreshable { await model.refresh() }
            .task { await model.refresh() }
        }
    }
}
