#!/usr/bin/env bash
# Builds the Nabo core for iOS into NaboCoreKit/: NaboCoreFFI.xcframework (the Rust static
# library for devices and the simulator, with its C header and module map) and
# Sources/NaboCore/NaboCore.swift (the generated Swift API). macOS with Xcode and rustup only.
#
#   mobile-examples/ios/build-xcframework.sh     (from anywhere)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
kit="$here/NaboCoreKit"
profile=mobile
targets=(aarch64-apple-ios aarch64-apple-ios-sim x86_64-apple-ios)
# The objects' minimum iOS version: the app's deployment target (project.yml).
export IPHONEOS_DEPLOYMENT_TARGET="${IPHONEOS_DEPLOYMENT_TARGET:-16.0}"

if [[ "$(uname -s)" != Darwin ]]; then
    echo "build-xcframework.sh needs macOS with Xcode (xcodebuild, lipo)." >&2
    exit 1
fi
for tool in cargo rustup xcodebuild lipo; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "Missing $tool: install Xcode (and its command line tools) and rustup." >&2
        exit 1
    fi
done

cd "$root"
rustup target add "${targets[@]}"
for target in "${targets[@]}"; do
    cargo build -p nabo-bindings --lib --profile "$profile" --target "$target"
done

# The Swift API is generated from the host's debug library: the mobile profile strips the
# symbols uniffi-bindgen reads, and the API is the same on every target.
cargo xtask bindings

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/headers" "$work/simulator"
cp bindings/generated/swift/NaboCoreFFI.h "$work/headers/"
# Xcode looks for module.modulemap in an XCFramework's headers.
cp bindings/generated/swift/NaboCoreFFI.modulemap "$work/headers/module.modulemap"

# One simulator library for Apple silicon and Intel Macs.
lipo -create \
    "target/aarch64-apple-ios-sim/$profile/libnabo_bindings.a" \
    "target/x86_64-apple-ios/$profile/libnabo_bindings.a" \
    -output "$work/simulator/libnabo_bindings.a"

rm -rf "$kit/NaboCoreFFI.xcframework"
xcodebuild -create-xcframework \
    -library "target/aarch64-apple-ios/$profile/libnabo_bindings.a" -headers "$work/headers" \
    -library "$work/simulator/libnabo_bindings.a" -headers "$work/headers" \
    -output "$kit/NaboCoreFFI.xcframework"

mkdir -p "$kit/Sources/NaboCore"
cp bindings/generated/swift/NaboCore.swift "$kit/Sources/NaboCore/"

echo "Built $kit/NaboCoreFFI.xcframework and $kit/Sources/NaboCore/NaboCore.swift."
echo "Next: cd mobile-examples/ios && xcodegen && open Nabo.xcodeproj"
