//! Installing what the test suite needs on a fresh machine (Debian packages, npm modules).

use std::process::Command;
use std::sync::Once;

use anyhow::{Result, bail};

static APT_UPDATE: Once = Once::new();

/// Installs Debian packages with apt-get (as root, or through sudo).
pub fn apt(packages: &[&str]) -> Result<()> {
    let sudo = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() != "0")
        .unwrap_or(true);
    let run = |args: &[&str]| -> Result<()> {
        let mut cmd = if sudo {
            let mut c = Command::new("sudo");
            c.arg("apt-get");
            c
        } else {
            Command::new("apt-get")
        };
        eprintln!("» apt-get {}", args.join(" "));
        let status = cmd
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()?;
        if !status.success() {
            bail!("apt-get {} failed", args.join(" "));
        }
        Ok(())
    };
    let mut update = Ok(());
    APT_UPDATE.call_once(|| update = run(&["update", "-qq"]));
    update?;
    let mut args = vec!["install", "-y", "-qq", "--no-install-recommends"];
    args.extend_from_slice(packages);
    run(&args)
}

/// Whether a command is on the PATH.
pub fn have(cmd: &str) -> bool {
    Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {cmd} >/dev/null 2>&1"))
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}
