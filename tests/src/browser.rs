//! What the browser tests share: the npm packages in `tests/js`, Debian's chromium, and running
//! a script there that prints one JSON line.

use std::path::PathBuf;
use std::process::Command;

/// `tests/js`.
pub fn js_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("js")
}

/// The chromium to drive (`CHROMIUM`, else Debian's).
pub fn chromium() -> Option<PathBuf> {
    std::env::var_os("CHROMIUM")
        .map(PathBuf::from)
        .or_else(|| Some(PathBuf::from("/usr/bin/chromium")))
        .filter(|p| p.exists())
}

/// Whether chromium and the npm `packages` are installed. `NABO_REQUIRE_BROWSER` (set by
/// `cargo xtask test`) makes a missing one a failure instead of a skip.
pub fn available(packages: &[&str]) -> bool {
    let ok = packages
        .iter()
        .all(|p| js_dir().join("node_modules").join(p).exists())
        && chromium().is_some();
    if !ok {
        assert!(
            std::env::var("NABO_REQUIRE_BROWSER").is_err(),
            "NABO_REQUIRE_BROWSER is set but chromium or tests/js/node_modules ({packages:?}) is missing"
        );
        eprintln!("skipped: chromium or {packages:?} missing (cargo xtask test installs them)");
    }
    ok
}

/// Runs `node <script> <args>` in `tests/js` with chromium; its last output line as JSON,
/// which must say `"ok": true`.
pub fn run(script: &str, args: &[&str]) -> serde_json::Value {
    let out = Command::new("node")
        .arg(script)
        .args(args)
        .current_dir(js_dir())
        .env("CHROMIUM", chromium().unwrap_or_default())
        .output()
        .unwrap_or_else(|e| panic!("node does not run: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout.lines().last().unwrap_or_default();
    let v: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|_| {
        panic!(
            "node {script} {args:?}: {stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert_eq!(v["ok"], true, "browser: {v}");
    v
}
