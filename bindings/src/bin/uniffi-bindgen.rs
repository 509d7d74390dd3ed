//! The uniffi binding generator at the library's uniffi version
//! (`cargo xtask bindings` runs it).

fn main() {
    uniffi::uniffi_bindgen_main()
}
