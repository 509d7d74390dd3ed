#!/usr/bin/env bash
# Cross-compiles the Nabo core for Android (arm64-v8a for phones, x86_64 for the emulator)
# into app/src/main/jniLibs/<abi>/libnabo_bindings.so, then generates the Kotlin bindings the
# app compiles (bindings/generated/kotlin).
#
#   mobile-examples/android/build-rust.sh     (from anywhere)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"

if [[ -z "${ANDROID_NDK_HOME:-}" || ! -d "${ANDROID_NDK_HOME:-}" ]]; then
    cat >&2 <<'MSG'
ANDROID_NDK_HOME must point at an installed NDK, for example:
    export ANDROID_NDK_HOME="$HOME/Android/Sdk/ndk/<version>"            (Linux)
    export ANDROID_NDK_HOME="$HOME/Library/Android/sdk/ndk/<version>"    (macOS)
Install one in Android Studio: Settings > SDK Manager > SDK Tools > NDK (Side by side).
MSG
    exit 1
fi

if ! cargo ndk --version >/dev/null 2>&1; then
    cat >&2 <<'MSG'
cargo-ndk is missing. Install it and the Android targets once:
    cargo install cargo-ndk
    rustup target add aarch64-linux-android x86_64-linux-android
MSG
    exit 1
fi

cd "$root"
if command -v rustup >/dev/null 2>&1; then
    rustup target add aarch64-linux-android x86_64-linux-android
fi

# cargo-ndk picks the NDK's clang as linker, and links 64-bit libraries with 16 KB pages.
cargo ndk -t arm64-v8a -t x86_64 -o mobile-examples/android/app/src/main/jniLibs \
    build -p nabo-bindings --profile mobile

# Kotlin bindings, generated from the host's debug library (the mobile profile strips symbols;
# the API is the same on every target).
cargo xtask bindings

echo "Built mobile-examples/android/app/src/main/jniLibs/{arm64-v8a,x86_64}/libnabo_bindings.so"
echo "and bindings/generated/kotlin. Next: open mobile-examples/android in Android Studio."
