import SwiftUI

/// "Mine timer": the volunteer's own hours per month and per session.
struct HoursView: View {
    @ObservedObject var model: HoursModel

    var body: some View {
        NavigationStack {
            List {
                Section("I alt: \(model.total)") {
                    ForEach(model.months) { m in
                        HStack {
                            Text(m.month)
                            Spacer()
                            Text("\(m.hours) · \(Tekster.shifts(m.shifts))")
                                .foregroundStyle(.secondary)
                        }
                    }
                }
                Section("Vagter") {
                    ForEach(model.shifts) { s in
                        HStack {
                            VStack(alignment: .leading) {
                                Text(s.title)
                                Text(s.date).font(.footnote).foregroundStyle(.secondary)
                            }
                            Spacer()
                            Text(s.hours).foregroundStyle(s.open ? .orange : .primary)
                        }
                    }
                }
                if let message = model.message {
                    Text(message).font(.footnote).foregroundStyle(.red)
                }
            }
            .navigationTitle(Tekster.mineTimer)
            .task { model.load() }
        }
    }
}
