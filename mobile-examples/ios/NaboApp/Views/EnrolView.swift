import SwiftUI
import UIKit

/// "Tilmeld telefon": a volunteer types the one-time code; staff log in below.
struct EnrolView: View {
    @ObservedObject var model: EnrolModel
    @State private var code = ""
    @State private var deviceName = UIDevice.current.name
    @State private var username = ""
    @State private var password = ""

    var body: some View {
        NavigationStack {
            Form {
                Section {
                    TextField(Tekster.engangskode, text: $code)
                        .textInputAutocapitalization(.characters)
                        .autocorrectionDisabled()
                    TextField("Telefonens navn", text: $deviceName)
                    Button(Tekster.tilmeld) {
                        model.enrol(code: code, deviceName: deviceName)
                    }
                    .disabled(model.busy || code.isEmpty || deviceName.isEmpty)
                } footer: {
                    Text("Skriv engangskoden fra tilmeldingsarket. Den står under QR-koden.")
                }

                Section("Medarbejder") {
                    TextField("Brugernavn", text: $username)
                        .textContentType(.username)
                        .textInputAutocapitalization(.never)
                        .autocorrectionDisabled()
                    SecureField("Adgangskode", text: $password)
                        .textContentType(.password)
                    Button("Log ind") {
                        model.login(username: username, password: password)
                    }
                    .disabled(model.busy || username.isEmpty || password.isEmpty)
                }

                if model.busy {
                    ProgressView()
                }
                if let message = model.message {
                    Text(message).foregroundStyle(.red)
                }
            }
            .navigationTitle(Tekster.tilmeld)
        }
    }
}
