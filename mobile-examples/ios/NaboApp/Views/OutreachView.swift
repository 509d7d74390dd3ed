import NaboCore
import SwiftUI

/// "Opsøgende kontakt": an anonymous quick-log, a few taps and "Gem".
struct OutreachView: View {
    @ObservedObject var model: OutreachModel
    @ObservedObject var referrals: ReferralModel
    let user: UserInfo
    let sync: SyncModel

    var body: some View {
        NavigationStack {
            Form {
                Section {
                    Text("Anonym registrering: kun antal, alder, sted og emner – ingen navne.")
                        .font(.footnote)
                        .foregroundStyle(.secondary)
                }
                if user.areas.count > 1 {
                    Section("Område") {
                        Chips(
                            options: user.areas.map { CodeLabel(code: $0, label: $0) },
                            isSelected: { $0 == model.form.areaId },
                            select: { model.form.areaId = $0 }
                        )
                    }
                }
                Section {
                    Stepper("Antal: \(model.form.count)", value: $model.form.count, in: 1...99)
                }
                Section("Aldersgruppe") {
                    Chips(options: model.ageBands, isSelected: { $0 == model.form.ageBand }) { model.form.ageBand = $0 }
                }
                Section("Sted") {
                    Chips(options: model.locations, isSelected: { $0 == model.form.location }) { model.form.location = $0 }
                }
                Section("Kontaktform") {
                    Chips(options: model.kinds, isSelected: { $0 == model.form.kind }) { model.form.kind = $0 }
                }
                Section("Emner") {
                    Chips(options: model.topics, isSelected: { model.form.topics.contains($0) }) { model.toggleTopic($0) }
                }
                Section {
                    Button {
                        model.save()
                    } label: {
                        Text(Tekster.gem).frame(maxWidth: .infinity)
                    }
                    .buttonStyle(.borderedProminent)
                    .disabled(model.busy || model.form.areaId.isEmpty)
                    switch model.feedback {
                    case let .saved(today)?:
                        Text("Gemt – \(today) i dag").foregroundStyle(.green)
                        if let contact = model.lastContactId {
                            NavigationLink(Tekster.henvis) {
                                ReferralFormView(model: referrals)
                                    .onAppear { referrals.start(from: contact); referrals.load() }
                            }
                        }
                    case let .failed(message)?:
                        Text(message).foregroundStyle(.red)
                    case nil:
                        EmptyView()
                    }
                }
            }
            .navigationTitle(Tekster.opsoegendeKontakt)
            .safeAreaInset(edge: .top) { OfflineBanner(sync: sync) }
        }
    }
}
