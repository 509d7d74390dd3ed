import NaboCore
import SwiftUI

/// The worker's referrals, newest first, to follow up: "mødte op", "afsluttet", …
struct ReferralsView: View {
    @ObservedObject var model: ReferralModel
    let sync: SyncModel

    var body: some View {
        NavigationStack {
            List {
                NavigationLink(Tekster.henvis) {
                    ReferralFormView(model: model).onAppear { model.start(from: nil) }
                }
                ForEach(model.referrals, id: \.id) { r in
                    VStack(alignment: .leading, spacing: 4) {
                        Text("\(Tekster.referralKind(r.kind)) · \(label(r.to))").font(.headline)
                        if let who = r.participantLabel { Text(who).font(.subheadline) }
                        Picker("Status", selection: Binding(
                            get: { r.status },
                            set: { model.setStatus(r.id, $0) }
                        )) {
                            ForEach(ReferralModel.statuses, id: \.self) { Text(Tekster.referralStatus($0)).tag($0) }
                        }
                        .disabled(r.status == .completed || r.status == .declined)
                    }
                }
                if let message = model.message {
                    Text(message).font(.footnote).foregroundStyle(.red)
                }
            }
            .navigationTitle(Tekster.henvisninger)
            .safeAreaInset(edge: .top) { OfflineBanner(sync: sync) }
            .task { model.load() }
        }
    }

    private func label(_ code: String) -> String {
        model.targets.first { $0.code == code }?.label ?? code
    }
}

/// The referral form: kind, to whom, and consent to share (only for a person with consent).
struct ReferralFormView: View {
    @ObservedObject var model: ReferralModel
    @State private var newPerson = ""

    var body: some View {
        Form {
            Section("Type") {
                Chips(
                    options: ReferralModel.kinds.map { CodeLabel(code: "\($0)", label: Tekster.referralKind($0)) },
                    isSelected: { $0 == "\(model.form.kind)" },
                    select: { code in
                        if let k = ReferralModel.kinds.first(where: { "\($0)" == code }) { model.choose(k) }
                    }
                )
            }
            if model.form.kind == .recruitment {
                Section("Aktivitet") {
                    Chips(
                        options: model.activities.map { CodeLabel(code: $0.id, label: $0.name) },
                        isSelected: { $0 == model.form.toActivityId },
                        select: { model.form.toActivityId = $0 }
                    )
                }
            } else {
                Section("Til") {
                    Chips(options: model.targets, isSelected: { $0 == model.form.to }) { model.form.to = $0 }
                }
            }
            Section("Person") {
                Chips(
                    options: model.people.map { CodeLabel(code: $0.participantId, label: $0.label ?? $0.ageBand) },
                    isSelected: { $0 == model.form.participantId },
                    select: { model.form.participantId = $0 }
                )
                TextField("Fornavn eller kaldenavn (ny person med samtykke)", text: $newPerson)
                Button("Tilføj person med samtykke i dag") {
                    model.addPerson(label: newPerson, ageBand: "18-24", consentGivenOn: Self.today(), shareWithPartners: true)
                    newPerson = ""
                }
            }
            Section {
                Toggle(Tekster.delOplysninger, isOn: $model.form.consentToShare).disabled(!model.canShare)
                Button(Tekster.gem) { model.save() }.buttonStyle(.borderedProminent)
                if let message = model.message { Text(message).font(.footnote) }
            }
        }
        .navigationTitle(Tekster.henvis)
    }

    /// Today in Denmark, ISO.
    private static func today() -> String {
        let f = DateFormatter()
        f.timeZone = TimeZone(identifier: "Europe/Copenhagen")
        f.dateFormat = "yyyy-MM-dd"
        return f.string(from: Date())
    }
}
