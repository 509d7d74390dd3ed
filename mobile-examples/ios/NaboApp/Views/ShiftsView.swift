import NaboCore
import SwiftUI

/// "Vagter": coming sessions; "Meld mig til", or "Meld afbud" with a reason.
struct ShiftsView: View {
    @ObservedObject var model: ShiftsModel
    @State private var cancelling: String?

    var body: some View {
        NavigationStack {
            List {
                ForEach(model.sessions, id: \.session.id) { u in
                    VStack(alignment: .leading, spacing: 4) {
                        Text("\(u.session.date) · \(u.session.start)–\(u.session.end)\(u.session.title.map { " · \($0)" } ?? "")")
                            .font(.headline)
                        Text(u.session.activityName).font(.subheadline)
                        Text(Tekster.signUp(
                            signedUp: u.myShift.signedUp,
                            cancelledReason: u.myShift.cancelled ? model.reasonLabel(u.myShift.cancelReason) : nil,
                            coming: Int(u.signedUp)
                        ))
                        .font(.footnote)
                        if u.myShift.signedUp {
                            Button(Tekster.meldAfbud) { cancelling = u.session.id }.buttonStyle(.bordered)
                        } else {
                            Button(Tekster.tilmeldVagt) { model.signUp(u.session.id) }.buttonStyle(.borderedProminent)
                        }
                    }
                }
                if let message = model.message {
                    Text(message).font(.footnote).foregroundStyle(.red)
                }
            }
            .navigationTitle(Tekster.vagter)
            .task { model.load() }
            .confirmationDialog(
                "Hvorfor melder du afbud?",
                isPresented: Binding(get: { cancelling != nil }, set: { if !$0 { cancelling = nil } }),
                titleVisibility: .visible
            ) {
                ForEach(model.reasons, id: \.code) { r in
                    Button(r.label) {
                        if let id = cancelling { model.cancel(id, reason: r.code) }
                        cancelling = nil
                    }
                }
                Button("Fortryd", role: .cancel) { cancelling = nil }
            }
        }
    }
}
