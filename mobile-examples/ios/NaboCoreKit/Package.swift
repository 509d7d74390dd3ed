// swift-tools-version:5.9
// The Nabo core for the iOS app: the uniffi-generated Swift API (NaboCore) over the Rust static
// library (NaboCoreFFI.xcframework). Both are produced by ../build-xcframework.sh.
import PackageDescription

let package = Package(
    name: "NaboCoreKit",
    platforms: [.iOS(.v16)],
    products: [
        .library(name: "NaboCore", targets: ["NaboCore"]),
    ],
    targets: [
        .binaryTarget(name: "NaboCoreFFI", path: "NaboCoreFFI.xcframework"),
        .target(
            name: "NaboCore",
            dependencies: ["NaboCoreFFI"],
            path: "Sources/NaboCore",
            linkerSettings: [
                // A static library brings no link commands of its own: the TLS stack's certificate
                // code (rustls-platform-verifier, pulled in by reqwest) needs these frameworks.
                .linkedFramework("Security"),
                .linkedFramework("CoreFoundation"),
            ]
        ),
    ]
)
