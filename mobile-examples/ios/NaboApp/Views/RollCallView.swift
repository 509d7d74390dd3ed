import NaboCore
import SwiftUI

/// "Fremmøde": a tap toggles present/absent, the context menu (long press) or a swipe gives
/// "Afbud"; "Tilføj barn" adds a child by first name or pseudonym and age band. Headcount
/// activities get a big counter.
struct RollCallView: View {
    let home: Home
    let session: SessionInfo
    @ObservedObject private var model: RollCallModel
    @State private var adding = false

    init(home: Home, session: SessionInfo) {
        self.home = home
        self.session = session
        model = home.rollCall
    }

    var body: some View {
        Group {
            if model.session?.id != session.id {
                ProgressView()
                    .frame(maxWidth: .infinity, maxHeight: .infinity)
            } else if model.mode == .headcount {
                HeadcountView(saved: model.headcount) { model.setHeadcount($0) }
                    .id(session.id)
            } else {
                List {
                    Section {
                        ForEach(model.rows) { row in
                            RollCallRow(row: row, ageBand: ageBandLabel(row.ageBand)) {
                                model.toggle(row)
                            } mark: {
                                model.mark(row.id, $0)
                            }
                        }
                    } header: {
                        Text("\(Tekster.mark(.present)): \(model.present) af \(model.rows.count)")
                    }
                }
                .listStyle(.plain)
                .safeAreaInset(edge: .bottom) { actions }
            }
        }
        .safeAreaInset(edge: .top) {
            VStack(spacing: 0) {
                OfflineBanner(sync: home.sync)
                header
            }
        }
        .navigationTitle(Tekster.fremmoede)
        .navigationBarTitleDisplayMode(.inline)
        .sheet(isPresented: $adding) {
            AddChildView(ageBands: home.childAgeBands) { model.addChild(name: $0, ageBand: $1) }
        }
        .task(id: session.id) { model.load(session.id) }
    }

    private var header: some View {
        VStack(alignment: .leading, spacing: 8) {
            Text("\(session.activityName) · \(session.start)–\(session.end)")
                .font(.subheadline)
                .foregroundStyle(.secondary)
            if home.canCheckIn {
                if model.checkedIn {
                    Button(Tekster.tjekUd) { model.checkOut() }.buttonStyle(.bordered)
                } else {
                    Button(Tekster.tjekInd) { model.checkIn() }.buttonStyle(.borderedProminent)
                }
            }
            if let message = model.message {
                Text(message).font(.footnote).foregroundStyle(.red)
            }
        }
        .disabled(model.busy)
        .confirmationDialog(model.message ?? "", isPresented: $model.askResume, titleVisibility: .visible) {
            Button(Tekster.genoptagVagt) { model.resume() }
            Button("Nej", role: .cancel) {}
        }
        .frame(maxWidth: .infinity, alignment: .leading)
        .padding(.horizontal)
        .padding(.vertical, 8)
        .background(.bar)
    }

    private var actions: some View {
        HStack {
            Button {
                adding = true
            } label: {
                Label(Tekster.tilfoejBarn, systemImage: "person.badge.plus")
            }
            .buttonStyle(.borderedProminent)
            Button("Resten fraværende") { model.restAbsent() }
                .buttonStyle(.bordered)
                .disabled(!model.rows.contains { $0.mark == nil })
        }
        .frame(maxWidth: .infinity)
        .padding()
        .background(.bar)
    }

    private func ageBandLabel(_ code: String) -> String {
        home.childAgeBands.first { $0.code == code }?.label ?? code
    }
}

private struct RollCallRow: View {
    let row: RollCallModel.Row
    let ageBand: String
    let toggle: @MainActor () -> Void
    let mark: @MainActor (Mark) -> Void

    var body: some View {
        Button {
            toggle()
        } label: {
            HStack {
                VStack(alignment: .leading, spacing: 2) {
                    Text(row.name).font(.body.weight(.medium))
                    Text(Tekster.rowCaption(ageBand: ageBand, conflict: row.conflict, nameWithheld: row.nameWithheld))
                        .font(.caption)
                        .foregroundStyle(row.conflict ? Color.orange : Color.secondary)
                }
                Spacer()
                Text(Tekster.mark(row.mark)).font(.callout.weight(.semibold))
            }
            .contentShape(Rectangle())
        }
        .buttonStyle(.plain)
        .listRowBackground(background)
        .contextMenu {
            ForEach([Mark.present, .absent, .excused], id: \.self) { choice in
                Button(Tekster.mark(choice)) { mark(choice) }
            }
        }
        .swipeActions(edge: .trailing) {
            Button(Tekster.mark(.excused)) { mark(.excused) }.tint(.orange)
        }
        .accessibilityHint("Tryk for at skifte mellem til stede og fraværende")
    }

    private var background: Color? {
        switch row.mark {
        case .present?: return Color.green.opacity(0.2)
        case .excused?: return Color.orange.opacity(0.2)
        case .absent?: return Color.gray.opacity(0.15)
        case nil: return nil
        }
    }
}

/// Headcount mode. Taps change the number at once and are written once they pause, so fast
/// tapping never loses a count; a count arriving by sync shows when no tap is pending.
private struct HeadcountView: View {
    let saved: Int
    let onSave: @MainActor (Int) -> Void
    @State private var count = 0
    @State private var dirty = false

    var body: some View {
        VStack(spacing: 24) {
            Text("Antal").font(.title2)
            Text("\(count)")
                .font(.system(size: 96, weight: .bold, design: .rounded))
                .monospacedDigit()
            HStack(spacing: 32) {
                step("−") { count = max(0, count - 1) }
                    .disabled(count == 0)
                step("+") { count += 1 }
            }
        }
        .frame(maxWidth: .infinity, maxHeight: .infinity)
        .task(id: saved) {
            if !dirty { count = saved }
        }
        .task(id: count) {
            guard dirty else { return }
            try? await Task.sleep(nanoseconds: 400_000_000)
            guard !Task.isCancelled else { return }
            dirty = false
            onSave(count)
        }
    }

    private func step(_ label: String, _ change: @escaping () -> Void) -> some View {
        Button {
            change()
            dirty = true
        } label: {
            Text(label)
                .font(.system(size: 44, weight: .bold))
                .frame(width: 96, height: 96)
        }
        .buttonStyle(.borderedProminent)
        .clipShape(Circle())
    }
}

private struct AddChildView: View {
    let ageBands: [CodeLabel]
    let onAdd: @MainActor (String, String) -> Void
    @Environment(\.dismiss) private var dismiss
    @State private var name = ""
    @State private var band: String?

    var body: some View {
        NavigationStack {
            Form {
                Section {
                    TextField("Fornavn eller kaldenavn", text: $name)
                        .textInputAutocapitalization(.words)
                        .autocorrectionDisabled()
                } footer: {
                    Text("Kan udelades. Navnet gemmes krypteret.")
                }
                Section("Aldersgruppe") {
                    ForEach(ageBands, id: \.code) { option in
                        Button {
                            band = option.code
                        } label: {
                            HStack {
                                Text(option.label).foregroundStyle(Color.primary)
                                Spacer()
                                if band == option.code {
                                    Image(systemName: "checkmark")
                                }
                            }
                        }
                    }
                }
            }
            .navigationTitle(Tekster.tilfoejBarn)
            .navigationBarTitleDisplayMode(.inline)
            .toolbar {
                ToolbarItem(placement: .cancellationAction) {
                    Button("Annuller") { dismiss() }
                }
                ToolbarItem(placement: .confirmationAction) {
                    Button("Tilføj") {
                        if let band {
                            onAdd(name, band)
                            dismiss()
                        }
                    }
                    .disabled(band == nil)
                }
            }
        }
    }
}
